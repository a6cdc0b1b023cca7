-- SPDX-License-Identifier: Apache-2.0
-- Negotiations and transfers waiting for their operator (manual approval, a start on command): the state machines
-- claim only those that are not pending.
ALTER TABLE edc_contract_negotiation ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE edc_transfer_process ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
