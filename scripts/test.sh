#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The complete test suite, for a fresh machine: installs what is missing (Debian packages, Rust components),
# starts the test infrastructure on loopback, then runs formatting, lints, licence governance and every test.
# Used by CI (.ci/run) and by developers alike.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

step "prerequisites"
missing=()
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
if [ "${#missing[@]}" -gt 0 ]; then
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is required (rustup)"; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "licences, DEPENDENCIES, SPDX headers"
cargo xtask licenses
cargo xtask dependencies --check
cargo xtask spdx

step "test infrastructure"
postgres_was_running=no
if scripts/harness.sh status | grep -q '^postgres: running'; then postgres_was_running=yes; fi
scripts/harness.sh up postgres
if [ "$postgres_was_running" = no ]; then
  trap 'scripts/harness.sh down postgres' EXIT
fi
eval "$(scripts/harness.sh env)"
export TEST_REQUIRE_POSTGRES=1

step "tests"
cargo test --workspace --locked --all-targets
