-- SPDX-License-Identifier: Apache-2.0
-- Transfer processes (both roles) with leases, and the data plane's flows. Data addresses that carry credentials
-- are never stored here: only the vault key that holds them.
CREATE TABLE edc_transfer_process (
    id                     TEXT PRIMARY KEY,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    correlation_id         TEXT,
    counter_party_id       TEXT NOT NULL,
    counter_party_address  TEXT NOT NULL,
    protocol               TEXT NOT NULL,
    role                   TEXT NOT NULL,
    state                  INTEGER NOT NULL,
    state_name             TEXT NOT NULL,
    state_count            INTEGER NOT NULL,
    state_timestamp        BIGINT NOT NULL,
    error_detail           TEXT,
    agreement_id           TEXT NOT NULL,
    asset_id               TEXT NOT NULL,
    transfer_type          TEXT NOT NULL,
    data_destination       TEXT,
    data_address_key       TEXT,
    suspended_by           TEXT,
    counter_party_informed INTEGER NOT NULL,
    data_flow_started      INTEGER NOT NULL,
    callback_addresses     TEXT NOT NULL,
    lease_holder           TEXT,
    lease_expiry           BIGINT
);
CREATE INDEX edc_transfer_process_work ON edc_transfer_process (role, state, state_timestamp);
CREATE UNIQUE INDEX edc_transfer_process_correlation ON edc_transfer_process (role, counter_party_id, correlation_id);
CREATE INDEX edc_transfer_process_agreement ON edc_transfer_process (agreement_id);

CREATE TABLE dsc_data_flow (
    id                   TEXT PRIMARY KEY,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    state                TEXT NOT NULL,
    profile              TEXT NOT NULL,
    participant_id       TEXT NOT NULL,
    counter_party_id     TEXT NOT NULL,
    agreement_id         TEXT NOT NULL,
    dataset_id           TEXT NOT NULL,
    source               TEXT NOT NULL,
    -- The one access token id that is valid now; a refresh replaces it, suspend/terminate clear it.
    access_token_id      TEXT,
    -- SHA-256 of the current refresh token (the token itself is only ever handed to the consumer).
    refresh_token_hash   TEXT
);
