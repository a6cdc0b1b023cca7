-- SPDX-License-Identifier: Apache-2.0
-- Work that only one replica may do at a time (the Kafka reconciler): who does it, and until when. A holder renews
-- before its lease runs out; when it dies, the lease expires and another replica takes the work over.
CREATE TABLE dsc_singleton_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
