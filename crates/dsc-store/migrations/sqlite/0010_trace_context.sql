-- SPDX-License-Identifier: Apache-2.0
-- The W3C trace context of the request that began a negotiation or transfer, so that the state machine's later
-- steps continue its trace (EDC keeps one on every stateful entity). NULL when tracing is off.
ALTER TABLE edc_contract_negotiation ADD COLUMN trace_context TEXT;
ALTER TABLE edc_transfer_process ADD COLUMN trace_context TEXT;
