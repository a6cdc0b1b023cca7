#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The complete test suite, for a fresh machine: installs what is missing (Debian packages, Rust components),
# starts the test infrastructure on loopback, then runs formatting, lints, licence governance and every test.
# Used by CI (.ci/run) and by developers alike.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# One build, no rebuilds: incremental state would only take disk (several GB on a fresh machine). CARGO_INCREMENTAL=1
# keeps it for repeated runs on a developer's machine.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Each step says how much disk is left: a full disk once stopped CI in the middle of a build.
step() { printf '\n== %s (disk free: %s)\n' "$*" "$(df -h --output=avail . | tail -1 | tr -d ' ')"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

step "prerequisites"
missing=()
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Build tools for librdkafka; the Java consumer example is compiled against the harness's Kafka client jars.
# curl: the README walkthrough test runs the README's curl commands as written.
scripts/build-prerequisites.sh javac=openjdk-17-jdk-headless curl=curl
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "Helm v4 and kubernetes-validate for the chart check (built before Rust, so their caches are gone by then)"
deploy/check-chart.sh --tools

step "Jaeger, the OTLP receiver of the trace tests (built from the Go module proxy once, before Rust, like Helm)"
scripts/harness.sh fetch jaeger

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "licences, DEPENDENCIES, SPDX headers"
cargo xtask licenses
cargo xtask dependencies --check
cargo xtask spdx
cargo xtask unused-deps
cargo xtask layering

step "test infrastructure (PostgreSQL, OAuth server, Kafka, Jaeger, Eclipse EDC, EDC with DCP and Identity Hub, DSP TCK, DCP TCK)"
# Stop at the end only what this run started; a harness that was already up stays up.
started_here=()
status_before=$(scripts/harness.sh status)
for component in postgres oauth kafka jaeger; do
  grep -q "^$component: running" <<<"$status_before" || started_here+=("$component")
done
stop_started() {
  for ((i = ${#started_here[@]} - 1; i >= 0; i--)); do scripts/harness.sh down "${started_here[$i]}" || true; done
}
trap stop_started EXIT
scripts/harness.sh up
eval "$(scripts/harness.sh env)"
# Each test takes a fresh PostgreSQL database (7 MB and more); drop what earlier runs left behind.
psql "$TEST_POSTGRES_URL" -Atqc "SELECT datname FROM pg_database WHERE datname ~ '^dsc_(it|test)_'" |
  while read -r database; do psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE \"$database\" WITH (FORCE)"; done
export TEST_REQUIRE_POSTGRES=1 TEST_REQUIRE_KAFKA=1 TEST_REQUIRE_EDC=1 TEST_REQUIRE_DSP_TCK=1 TEST_REQUIRE_DCP_TCK=1 TEST_REQUIRE_EDC_DCP=1 TEST_REQUIRE_JAEGER=1

step "Python peers: Kafka client smoke test (confluent-kafka), the HTTP fuzzer (schemathesis)"
[ -x .harness/python/bin/python ] || python3 -m venv .harness/python
.harness/python/bin/pip install -q --disable-pip-version-check -r scripts/peers/python/requirements.txt
.harness/python/bin/python scripts/peers/python/kafka_smoke.py
# The Python consumer example (examples/python) runs inside the Kafka PULL system tests.
export TEST_PYTHON="$PWD/.harness/python/bin/python"
# The HTTP fuzzing campaign (crates/dsc/tests/integration/http_fuzz.rs, 60 s; DSC_HTTP_FUZZ_SECONDS for a longer run).
.harness/python/bin/pip install -q --disable-pip-version-check -r scripts/peers/python/fuzz-requirements.txt
export TEST_SCHEMATHESIS="$PWD/.harness/python/bin/schemathesis" TEST_REQUIRE_SCHEMATHESIS=1

step "tests"
cargo test --workspace --locked --all-targets -- --skip dsp_tck_table --skip dcp_tck_table \
  --skip schemathesis_drives_every_management_operation --skip killing_provider_and_consumer_at_random

step "HTTP fuzzing campaign (schemathesis, 60 s; DSC_HTTP_FUZZ_SECONDS) and chaos campaign (30 s of kills; DSC_CHAOS_SECONDS)"
cargo test --locked -p dsc --test integration http_fuzz:: -- --nocapture
cargo test --locked -p dsc --test integration kafka_pull::chaos:: -- --nocapture

step "Dataspace Protocol TCK (table; expected failures in scripts/peers/dsp-tck/expected-failures.txt)"
cargo test --locked -p dsc --test integration dsp_tck:: -- --nocapture

step "Decentralized Claims Protocol TCK (table; expected failures in scripts/peers/dcp-tck/expected-failures.txt)"
cargo test --locked -p dsc --test integration dcp_tck:: -- --nocapture

step "Deployment: the Helm chart (helm lint, helm template, Kubernetes schemas, the connector's settings loader)"
# Helm v4 was built from the Go module proxy in the first step (a few minutes, once) and kept in .harness/deploy-tools.
DSC_BIN="$ROOT/target/debug/dsc" deploy/check-chart.sh

step "Fuzzing (property-based; inputs per target; DSC_FUZZ_CASES for a longer run)"
cargo test --locked -p dsc-fuzz -- --nocapture --skip a_panicking_parser_fails_its_target
