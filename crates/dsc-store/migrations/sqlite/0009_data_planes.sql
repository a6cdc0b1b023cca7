-- SPDX-License-Identifier: Apache-2.0
-- Data planes that registered with the control plane (DPS `PUT /dataplanes`), so every control-plane replica, and a
-- restarted one, knows them. The signaling key is configuration, never stored.
CREATE TABLE dsc_data_plane (
    id             TEXT PRIMARY KEY,
    endpoint       TEXT NOT NULL,
    transfer_types TEXT NOT NULL,
    registered_at  BIGINT NOT NULL
);
