-- SPDX-License-Identifier: Apache-2.0
-- The built-in OAuth authorization server: registered clients and refresh tokens. Secrets only as SHA-256 hashes.
CREATE TABLE dsc_oauth_client (
    client_id                 TEXT PRIMARY KEY,
    created_at                BIGINT NOT NULL,
    client_name               TEXT NOT NULL,
    secret_hash               TEXT NOT NULL,
    registration_token_hash   TEXT NOT NULL
);

CREATE TABLE dsc_oauth_refresh_token (
    token_hash   TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL,
    -- Every token a rotation produces shares the family of the first; reuse of a rotated token revokes it all.
    family       TEXT NOT NULL,
    used         INTEGER NOT NULL,
    revoked      INTEGER NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX dsc_oauth_refresh_token_family ON dsc_oauth_refresh_token (family);

-- Access tokens revoked before they expire (RFC 7009), kept until they would have expired.
CREATE TABLE dsc_oauth_revoked_access (
    jti          TEXT PRIMARY KEY,
    expires_at   BIGINT NOT NULL
);
