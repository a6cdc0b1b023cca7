-- SPDX-License-Identifier: Apache-2.0
-- Contract negotiations (both roles) with leases, and the agreements they produce.
CREATE TABLE edc_contract_negotiation (
    id                    TEXT PRIMARY KEY,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    correlation_id        TEXT,
    counter_party_id      TEXT NOT NULL,
    counter_party_address TEXT NOT NULL,
    protocol              TEXT NOT NULL,
    role                  TEXT NOT NULL,
    state                 INTEGER NOT NULL,
    state_name            TEXT NOT NULL,
    state_count           INTEGER NOT NULL,
    state_timestamp       BIGINT NOT NULL,
    error_detail          TEXT,
    offers                TEXT NOT NULL,
    agreement             TEXT,
    -- Who processes the negotiation right now, and until when (pessimistic lock with expiry).
    lease_holder          TEXT,
    lease_expiry          BIGINT
);
CREATE INDEX edc_contract_negotiation_work ON edc_contract_negotiation (role, state, state_timestamp);
CREATE UNIQUE INDEX edc_contract_negotiation_correlation ON edc_contract_negotiation (role, counter_party_id, correlation_id);

CREATE TABLE edc_contract_agreement (
    id                    TEXT PRIMARY KEY,
    created_at            BIGINT NOT NULL,
    negotiation_id        TEXT NOT NULL,
    provider_id           TEXT NOT NULL,
    consumer_id           TEXT NOT NULL,
    contract_signing_date BIGINT NOT NULL,
    asset_id              TEXT NOT NULL,
    policy                TEXT NOT NULL
);
CREATE INDEX edc_contract_agreement_asset ON edc_contract_agreement (asset_id);
