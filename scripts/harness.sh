#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Test infrastructure on loopback, as plain processes (no Docker): installs what is missing, starts, waits for
# real readiness, stops only what it started (pid files). State lives in .harness/ (git-ignored).
#
#   scripts/harness.sh up [postgres]      start (idempotent) and print how long each part took
#   scripts/harness.sh down [postgres]    stop what the harness started
#   scripts/harness.sh status             what is running
#   scripts/harness.sh env                addresses and credentials, as shell exports
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_DIR="${HARNESS_DIR:-$ROOT/.harness}"
PG_PORT="${HARNESS_PG_PORT:-55432}"
PG_DIR="$HARNESS_DIR/postgres"

log() { printf '[harness] %s\n' "$*" >&2; }
die() { printf '[harness] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing Debian packages: $*"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL refuses to run as root; on a root machine the cluster belongs to the 'postgres' user.
pg_user_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    apt_install postgresql
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  printf '%s' "$dir"
}

postgres_up() {
  local started bin
  started=$(date +%s%N)
  bin=$(pg_bin)
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "initialising a throw-away PostgreSQL cluster in $PG_DIR/data"
    pg_user_run "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
      || { tail -n 20 "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if pg_user_run "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    log "postgres already running on 127.0.0.1:$PG_PORT"
  else
    pg_user_run "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null \
      || { tail -n 20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  local waited=0
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; do
    waited=$((waited + 1))
    [ "$waited" -lt 60 ] || { tail -n 20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL not ready after 30 s"; }
    sleep 0.5
  done
  log "postgres ready on 127.0.0.1:$PG_PORT in $(( ($(date +%s%N) - started) / 1000000 )) ms"
}

postgres_down() {
  [ -f "$PG_DIR/data/postmaster.pid" ] || { log "postgres not running"; return 0; }
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  pg_user_run "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null && log "postgres stopped"
}

postgres_status() {
  if [ -f "$PG_DIR/data/postmaster.pid" ] && kill -0 "$(head -n 1 "$PG_DIR/data/postmaster.pid")" 2>/dev/null; then
    echo "postgres: running on 127.0.0.1:$PG_PORT (pid $(head -n 1 "$PG_DIR/data/postmaster.pid"))"
  else
    echo "postgres: stopped"
  fi
}

print_env() {
  echo "export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

command="${1:-}"
component="${2:-all}"
case "$command" in
  up)
    case "$component" in all|postgres) postgres_up ;; *) die "unknown component '$component'" ;; esac ;;
  down)
    case "$component" in all|postgres) postgres_down ;; *) die "unknown component '$component'" ;; esac ;;
  status) postgres_status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|env [postgres]" >&2; exit 2 ;;
esac
