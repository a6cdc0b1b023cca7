-- SPDX-License-Identifier: Apache-2.0
-- Kafka PULL grants: per transfer, the OAuth client (broker principal) and ACLs the data plane created. Secrets are
-- vault keys only. A grant is written before anything outside the store is created, so a crash leaves a record.
CREATE TABLE dsc_kafka_grant (
    id                          TEXT PRIMARY KEY,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL,
    flow_id                     TEXT NOT NULL,
    state                       TEXT NOT NULL,
    topic                       TEXT NOT NULL,
    group_prefix                TEXT NOT NULL,
    principal                   TEXT,
    client_id                   TEXT,
    client_secret_alias         TEXT,
    registration_token_alias    TEXT,
    registration_client_uri     TEXT,
    error_detail                TEXT
);
CREATE INDEX dsc_kafka_grant_flow ON dsc_kafka_grant (flow_id);
CREATE INDEX dsc_kafka_grant_state ON dsc_kafka_grant (state);
