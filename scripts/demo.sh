#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Kafka PULL demo on a fresh machine, in one command: installs what is missing, builds dsc, fetches Apache Kafka
# from Maven Central, then runs `dsc demo` (a broker, Supplier A's connector and three consumers' connectors, two
# shop-floor use cases, suspend/resume/terminate). Arguments go to `dsc demo`, e.g. --keep-running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/build-prerequisites.sh
echo "building dsc (release; the first build takes a few minutes)" >&2
cargo build --release --locked -p dsc
lib="$(scripts/harness.sh fetch kafka)"
exec target/release/dsc demo --kafka-lib "$lib" "$@"
