-- SPDX-License-Identifier: Apache-2.0
-- Negotiations and transfers waiting for their operator (manual approval, a start on command): the state machines
-- claim only those that are not pending. (Version 6 is taken: connectors before 0.1 created the Kafka grant table as
-- core migration 6, which databases of that time still record.)
ALTER TABLE edc_contract_negotiation ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE edc_transfer_process ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
