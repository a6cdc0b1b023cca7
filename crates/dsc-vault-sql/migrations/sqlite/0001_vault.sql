-- SPDX-License-Identifier: Apache-2.0
-- Secrets of the database vault: each encrypted with a data key of its own, the data key wrapped by the vault key
-- named by key_id (a fingerprint, never the key). Nothing here opens without the vault key from configuration.
CREATE TABLE dsc_vault_secret (
    name        TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX dsc_vault_secret_key ON dsc_vault_secret (key_id);
