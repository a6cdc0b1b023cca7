-- SPDX-License-Identifier: Apache-2.0
-- Event callbacks: the addresses a negotiation notifies, and an outbox of events written in the same transaction
-- as the state change that caused them, delivered (and retried) afterwards.
ALTER TABLE edc_contract_negotiation ADD COLUMN callback_addresses TEXT NOT NULL DEFAULT '[]';

CREATE TABLE edc_callback_outbox (
    id              TEXT PRIMARY KEY,
    -- Delivery order: microseconds of the save plus the position within it.
    created_at      BIGINT NOT NULL,
    uri             TEXT NOT NULL,
    auth_key        TEXT,
    auth_code_id    TEXT,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_holder    TEXT,
    lease_expiry    BIGINT
);
CREATE INDEX edc_callback_outbox_due ON edc_callback_outbox (next_attempt_at);
