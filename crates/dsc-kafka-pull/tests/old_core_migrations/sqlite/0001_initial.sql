-- SPDX-License-Identifier: Apache-2.0
-- JSON columns hold the domain's simplified-expanded property maps (full-IRI keys).
CREATE TABLE edc_asset (
    id                 TEXT PRIMARY KEY,
    created_at         BIGINT NOT NULL,
    properties         TEXT NOT NULL,
    private_properties TEXT NOT NULL,
    data_address       TEXT NOT NULL
);
CREATE INDEX edc_asset_created_at ON edc_asset (created_at);

CREATE TABLE edc_policy_definition (
    id                 TEXT PRIMARY KEY,
    created_at         BIGINT NOT NULL,
    policy             TEXT NOT NULL,
    private_properties TEXT NOT NULL
);
CREATE INDEX edc_policy_definition_created_at ON edc_policy_definition (created_at);

CREATE TABLE edc_contract_definition (
    id                 TEXT PRIMARY KEY,
    created_at         BIGINT NOT NULL,
    access_policy_id   TEXT NOT NULL,
    contract_policy_id TEXT NOT NULL,
    assets_selector    TEXT NOT NULL,
    private_properties TEXT NOT NULL
);
CREATE INDEX edc_contract_definition_created_at ON edc_contract_definition (created_at);
CREATE INDEX edc_contract_definition_access_policy ON edc_contract_definition (access_policy_id);
CREATE INDEX edc_contract_definition_contract_policy ON edc_contract_definition (contract_policy_id);
