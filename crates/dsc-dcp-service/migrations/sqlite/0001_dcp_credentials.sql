-- SPDX-License-Identifier: Apache-2.0
-- The participant's verifiable credentials, as its credential service presents them (DCP). A credential is not a
-- secret (it is shown to every verifier granted its scope), but it is never printed in full: the Management API
-- lists these columns, not the JWT.
CREATE TABLE IF NOT EXISTS dsc_dcp_credential (
    id              TEXT PRIMARY KEY,
    created_at      BIGINT NOT NULL,
    types           TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    holder          TEXT NOT NULL,
    profile         TEXT NOT NULL,
    valid_from      BIGINT,
    valid_until     BIGINT,
    jwt             TEXT NOT NULL
);
