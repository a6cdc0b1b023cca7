#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Test infrastructure on loopback, as plain processes (no Docker): installs what is missing, starts, waits for
# real readiness, stops only what it started (pid files). State lives in .harness/ (git-ignored).
#
#   scripts/harness.sh up [COMPONENT]     start (idempotent) and print how long each part took
#   scripts/harness.sh down [COMPONENT]   stop what the harness started
#   scripts/harness.sh status             what is running
#   scripts/harness.sh env                addresses and credentials, as shell exports
#   scripts/harness.sh fetch kafka        only install Java and fetch Kafka's jars; print their directory
#   scripts/harness.sh fetch jaeger       only build Jaeger (Go); print the binary's path
#   scripts/harness.sh kafka-acl grant|revoke PRINCIPAL TOPIC GROUP_PREFIX
#                                         READ+DESCRIBE on the topic and READ on the group prefix
#   scripts/harness.sh kafka-topic TOPIC  create the topic unless it exists (the broker does not auto-create)
# COMPONENT: postgres, oauth, kafka, jaeger (default: all, in that order: Kafka needs the OAuth server's JWKS to start),
# or keycloak (optional, needs a Java 21+ runtime; skipped with a notice when there is none).
#
# HARNESS_OAUTH_PROVIDER=keycloak makes `up` start Keycloak instead of the light OAuth server, makes Kafka trust it
# and makes `env` point the tests at it. Kafka trusts the harness's OAuth server unless HARNESS_KAFKA_JWKS_URL,
# HARNESS_KAFKA_ISSUER and HARNESS_KAFKA_AUDIENCE point it at another issuer (the connector's own, for instance).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_DIR="${HARNESS_DIR:-$ROOT/.harness}"
PG_PORT="${HARNESS_PG_PORT:-55432}"
PG_DIR="$HARNESS_DIR/postgres"
OAUTH_PORT="${HARNESS_OAUTH_PORT:-9400}"
OAUTH_DIR="$HARNESS_DIR/oauth"
OAUTH_INITIAL_ACCESS_TOKEN="${HARNESS_OAUTH_INITIAL_ACCESS_TOKEN:-harness-initial-access-token}"
OAUTH_PROVIDER="${HARNESS_OAUTH_PROVIDER:-oidc-provider}"
KEYCLOAK_VERSION=26.4.7
KEYCLOAK_PORT="${HARNESS_KEYCLOAK_PORT:-9480}"
KEYCLOAK_DIR="$HARNESS_DIR/keycloak"
# A stock Eclipse EDC runtime (control plane + HTTP data plane + mock identity) for interoperability tests. Only its
# class path is assembled here; each test starts its own runtime on free ports.
EDC_DIR="$HARNESS_DIR/edc"
# The Dataspace Protocol TCK (class path only; the test writes its configuration and runs it).
DSP_TCK_DIR="$HARNESS_DIR/dsp-tck"
DCP_TCK_DIR="$HARNESS_DIR/dcp-tck"
IH_DIR="$HARNESS_DIR/identityhub"
EDC_DCP_DIR="$HARNESS_DIR/edc-dcp"
KEYCLOAK_REALM_URL="http://127.0.0.1:$KEYCLOAK_PORT/realms/dataspace"
KAFKA_DIR="$HARNESS_DIR/kafka"
KAFKA_INTERNAL_PORT="${HARNESS_KAFKA_INTERNAL_PORT:-29092}"
KAFKA_CONTROLLER_PORT="${HARNESS_KAFKA_CONTROLLER_PORT:-29093}"
KAFKA_OAUTH_PORT="${HARNESS_KAFKA_OAUTH_PORT:-29094}"
KAFKA_TLS_PORT="${HARNESS_KAFKA_TLS_PORT:-29095}"
KAFKA_ADMIN_USER="${HARNESS_KAFKA_ADMIN_USER:-admin}"
KAFKA_ADMIN_PASSWORD="${HARNESS_KAFKA_ADMIN_PASSWORD:-admin-secret}"
# A static PLAIN user that is no super user: it can do only what ACLs allow, like any application's credential.
KAFKA_READER_USER="${HARNESS_KAFKA_READER_USER:-reader}"
KAFKA_READER_PASSWORD="${HARNESS_KAFKA_READER_PASSWORD:-reader-secret}"
KAFKA_AUDIENCE="${HARNESS_KAFKA_AUDIENCE:-urn:kafka:broker}"
if [ "$OAUTH_PROVIDER" = keycloak ]; then
  # Keycloak's `sub` is the service-account user id; `azp` is the client id the tests registered.
  KAFKA_ISSUER="${HARNESS_KAFKA_ISSUER:-$KEYCLOAK_REALM_URL}"
  KAFKA_JWKS_URL="${HARNESS_KAFKA_JWKS_URL:-$KEYCLOAK_REALM_URL/protocol/openid-connect/certs}"
  KAFKA_SUB_CLAIM="${HARNESS_KAFKA_SUB_CLAIM:-azp}"
else
  KAFKA_ISSUER="${HARNESS_KAFKA_ISSUER:-http://127.0.0.1:$OAUTH_PORT}"
  KAFKA_JWKS_URL="${HARNESS_KAFKA_JWKS_URL:-http://127.0.0.1:$OAUTH_PORT/jwks}"
  KAFKA_SUB_CLAIM="${HARNESS_KAFKA_SUB_CLAIM:-sub}"
fi
KAFKA_REAUTH_MS="${HARNESS_KAFKA_REAUTH_MS:-10000}"
KAFKA_CLOCK_SKEW_S="${HARNESS_KAFKA_CLOCK_SKEW_S:-5}"
KAFKA_VERSION=4.3.1
# Jaeger v2 (an OpenTelemetry Collector distribution) receives the connector's OTLP traces in the trace tests.
JAEGER_VERSION=v1.75.0
JAEGER_DIR="$HARNESS_DIR/jaeger"
JAEGER_OTLP_PORT="${HARNESS_JAEGER_OTLP_PORT:-14318}"
JAEGER_QUERY_PORT="${HARNESS_JAEGER_QUERY_PORT:-16686}"
JAEGER_QUERY_GRPC_PORT="${HARNESS_JAEGER_QUERY_GRPC_PORT:-16685}"
PEERS="$ROOT/scripts/peers"

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

elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# Starts a process in the background with its own pid file; `down` stops exactly that pid.
start_background() {
  local pidfile=$1 logfile=$2
  shift 2
  nohup "$@" >"$logfile" 2>&1 &
  echo $! >"$pidfile"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {
  local name=$1 pidfile=$2
  if pid_alive "$pidfile"; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$name stopped"
  else
    log "$name not running"
  fi
  rm -f "$pidfile"
}

fail_with_log() {
  [ -f "$2" ] && tail -n 30 "$2" >&2
  die "$1"
}

# Waits up to 20 s for URL to answer 2xx while the process of PIDFILE lives; NAME and LOG for the error.
wait_for_url() {
  local name=$1 url=$2 pidfile=$3 logfile=$4 waited=0
  until curl -sf "$url" >/dev/null; do
    pid_alive "$pidfile" || fail_with_log "$name exited" "$logfile"
    waited=$((waited + 1))
    [ "$waited" -lt 100 ] || fail_with_log "$name is not ready after 20 s" "$logfile"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Jaeger: built from the Go module proxy (no registry for images or release downloads here); about 7 minutes on
# 2 cores, its Go caches (about 3 GB) removed afterwards, the 85 MB binary kept under .harness/jaeger.

jaeger_fetch() {
  local binary="$JAEGER_DIR/bin/jaeger"
  if [ -x "$binary" ] && [ "$(cat "$JAEGER_DIR/version" 2>/dev/null)" = "$JAEGER_VERSION" ]; then return 0; fi
  command -v go >/dev/null 2>&1 || apt_install golang-go
  local started work
  started=$(date +%s%N)
  work="$JAEGER_DIR/build"
  rm -rf "$work" && mkdir -p "$work/module" "$JAEGER_DIR/bin"
  log "building Jaeger $JAEGER_VERSION with the Go toolchain (a few minutes, once) ..."
  # Jaeger's module has replace directives, so `go install pkg@version` refuses it: it is a tool of a module here.
  (
    cd "$work/module"
    export GOPATH="$work/go" GOCACHE="$work/go-build" GOFLAGS="-trimpath -modcacherw" GOTOOLCHAIN=local
    go mod init harness/jaeger
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION"
    GOBIN="$JAEGER_DIR/bin" go install -ldflags="-s -w" github.com/jaegertracing/jaeger/cmd/jaeger
  ) >"$JAEGER_DIR/build.log" 2>&1 || { rm -rf "$work"; fail_with_log "building Jaeger $JAEGER_VERSION failed" "$JAEGER_DIR/build.log"; }
  rm -rf "$work"
  echo "$JAEGER_VERSION" >"$JAEGER_DIR/version"
  log "Jaeger $JAEGER_VERSION built in $(elapsed_ms "$started") ms"
}

jaeger_up() {
  local started
  started=$(date +%s%N)
  jaeger_fetch
  if pid_alive "$JAEGER_DIR/jaeger.pid"; then
    log "jaeger already running (OTLP http://127.0.0.1:$JAEGER_OTLP_PORT)"
  else
    start_background "$JAEGER_DIR/jaeger.pid" "$JAEGER_DIR/jaeger.log" \
      env JAEGER_OTLP_PORT="$JAEGER_OTLP_PORT" JAEGER_QUERY_PORT="$JAEGER_QUERY_PORT" \
      JAEGER_QUERY_GRPC_PORT="$JAEGER_QUERY_GRPC_PORT" "$JAEGER_DIR/bin/jaeger" --config "$PEERS/jaeger/config.yaml"
  fi
  wait_for_url Jaeger "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" "$JAEGER_DIR/jaeger.pid" "$JAEGER_DIR/jaeger.log"
  log "jaeger ready (OTLP http://127.0.0.1:$JAEGER_OTLP_PORT, query http://127.0.0.1:$JAEGER_QUERY_PORT) in $(elapsed_ms "$started") ms"
}

jaeger_down() { stop_pidfile "jaeger" "$JAEGER_DIR/jaeger.pid"; }

jaeger_status() {
  if pid_alive "$JAEGER_DIR/jaeger.pid"; then echo "jaeger: running (pid $(cat "$JAEGER_DIR/jaeger.pid"))"; else echo "jaeger: stopped"; fi
}

# ---------------------------------------------------------------------------------------------------------------
# OAuth 2.0 authorization server (npm oidc-provider)

oauth_up() {
  local started
  started=$(date +%s%N)
  command -v node >/dev/null 2>&1 || apt_install nodejs npm
  mkdir -p "$OAUTH_DIR"
  if ! cmp -s "$PEERS/oauth/package-lock.json" "$OAUTH_DIR/package-lock.json" || [ ! -d "$OAUTH_DIR/node_modules" ]; then
    cp "$PEERS/oauth/package.json" "$PEERS/oauth/package-lock.json" "$OAUTH_DIR/"
    (cd "$OAUTH_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci for the OAuth server failed"
  fi
  cp "$PEERS/oauth/server.mjs" "$OAUTH_DIR/server.mjs"
  if pid_alive "$OAUTH_DIR/server.pid"; then
    log "oauth server already running on 127.0.0.1:$OAUTH_PORT"
  else
    (cd "$OAUTH_DIR" && start_background "$OAUTH_DIR/server.pid" "$OAUTH_DIR/server.log" \
      env PORT="$OAUTH_PORT" STATE_DIR="$OAUTH_DIR" INITIAL_ACCESS_TOKEN="$OAUTH_INITIAL_ACCESS_TOKEN" \
      AUDIENCE="$KAFKA_AUDIENCE" node server.mjs)
  fi
  wait_for_url "the OAuth server" "http://127.0.0.1:$OAUTH_PORT/.well-known/openid-configuration" \
    "$OAUTH_DIR/server.pid" "$OAUTH_DIR/server.log"
  log "oauth server ready on http://127.0.0.1:$OAUTH_PORT in $(elapsed_ms "$started") ms"
}

oauth_down() { stop_pidfile "oauth server" "$OAUTH_DIR/server.pid"; }

oauth_status() {
  if pid_alive "$OAUTH_DIR/server.pid"; then
    echo "oauth: running on http://127.0.0.1:$OAUTH_PORT (pid $(cat "$OAUTH_DIR/server.pid"))"
  else
    echo "oauth: stopped"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Keycloak (optional second OAuth server; Maven Central distribution, dev mode, realm "dataspace")

# Prints the first JAVA_HOME whose java is 21 or newer.
java21_home() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    major=$("$candidate/bin/java" -version 2>&1 | head -n 1 | sed -E 's/.*version "([0-9]+).*/\1/')
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then printf '%s' "$candidate"; return 0; fi
  done
  return 1
}

keycloak_admin_token() {
  curl -sf -d grant_type=password -d client_id=admin-cli -d username=admin -d password=admin \
    "http://127.0.0.1:$KEYCLOAK_PORT/realms/master/protocol/openid-connect/token" | json_field access_token
}

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

keycloak_configure() {
  local admin api scope_id
  admin=$(keycloak_admin_token) || die "cannot log in to Keycloak's admin API"
  api="http://127.0.0.1:$KEYCLOAK_PORT/admin/realms/dataspace"
  if ! curl -sf "$api/client-scopes" -H "Authorization: Bearer $admin" | grep -q '"name":"kafka-audience"'; then
    curl -sf -X POST "$api/client-scopes" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{
      "name": "kafka-audience", "protocol": "openid-connect", "attributes": {"include.in.token.scope": "false"},
      "protocolMappers": [{"name": "kafka-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
        "config": {"included.custom.audience": "'"$KAFKA_AUDIENCE"'", "access.token.claim": "true", "id.token.claim": "false"}}]}' \
      || die "cannot create the kafka-audience client scope"
  fi
  scope_id=$(curl -sf "$api/client-scopes" -H "Authorization: Bearer $admin" \
    | python3 -c "import json,sys; print([s['id'] for s in json.load(sys.stdin) if s['name']=='kafka-audience'][0])")
  # A realm default scope, so every dynamically registered client's tokens carry the broker audience.
  # Already a default after an earlier start: Keycloak would answer 409 to a second PUT.
  if ! curl -sf "$api/default-default-client-scopes" -H "Authorization: Bearer $admin" | grep -q '"name":"kafka-audience"'; then
    curl -sf -X PUT "$api/default-default-client-scopes/$scope_id" -H "Authorization: Bearer $admin" \
      || die "cannot make kafka-audience a default client scope"
  fi
  if [ ! -s "$KEYCLOAK_DIR/initial-access-token" ]; then
    curl -sf -X POST "$api/clients-initial-access" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
      -d '{"count": 100000, "expiration": 0}' | json_field token >"$KEYCLOAK_DIR/initial-access-token" \
      || die "cannot create an initial access token"
  fi
}

keycloak_up() {
  local started java_home
  started=$(date +%s%N)
  if ! java_home=$(java21_home); then
    if [ "$OAUTH_PROVIDER" = keycloak ]; then die "Keycloak $KEYCLOAK_VERSION needs a Java 21+ runtime and none was found"; fi
    log "keycloak skipped: it needs a Java 21+ runtime and none was found"
    return 0
  fi
  mkdir -p "$KEYCLOAK_DIR"
  if [ ! -x "$KEYCLOAK_DIR/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ]; then
    command -v mvn >/dev/null 2>&1 || apt_install maven
    command -v unzip >/dev/null 2>&1 || apt_install unzip
    log "fetching Keycloak $KEYCLOAK_VERSION from Maven Central"
    mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$KEYCLOAK_DIR" \
      >"$KEYCLOAK_DIR/fetch.log" 2>&1 || fail_with_log "fetching Keycloak with Maven failed" "$KEYCLOAK_DIR/fetch.log"
    unzip -q -o "$KEYCLOAK_DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$KEYCLOAK_DIR"
    rm -f "$KEYCLOAK_DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  fi
  local home="$KEYCLOAK_DIR/keycloak-$KEYCLOAK_VERSION"
  mkdir -p "$home/data/import"
  echo '{"realm": "dataspace", "enabled": true, "accessTokenLifespan": 300}' >"$home/data/import/dataspace.json"
  if pid_alive "$KEYCLOAK_DIR/keycloak.pid"; then
    log "keycloak already running on http://127.0.0.1:$KEYCLOAK_PORT"
  else
    start_background "$KEYCLOAK_DIR/keycloak.pid" "$KEYCLOAK_DIR/keycloak.log" \
      env JAVA_HOME="$java_home" KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
      JAVA_OPTS_APPEND="-Xms64m -Xmx512m" "$home/bin/kc.sh" start-dev --http-host=127.0.0.1 \
      --http-port="$KEYCLOAK_PORT" --import-realm --hostname="http://127.0.0.1:$KEYCLOAK_PORT"
  fi
  local waited=0
  until curl -sf "$KEYCLOAK_REALM_URL/.well-known/openid-configuration" >/dev/null; do
    pid_alive "$KEYCLOAK_DIR/keycloak.pid" || fail_with_log "Keycloak exited during start" "$KEYCLOAK_DIR/keycloak.log"
    waited=$((waited + 1))
    [ "$waited" -lt 180 ] || fail_with_log "Keycloak is not ready after 180 s" "$KEYCLOAK_DIR/keycloak.log"
    sleep 1
  done
  keycloak_configure
  log "keycloak ready on $KEYCLOAK_REALM_URL in $(elapsed_ms "$started") ms (Java: $java_home)"
}

keycloak_down() { stop_pidfile "keycloak" "$KEYCLOAK_DIR/keycloak.pid"; }

keycloak_status() {
  if pid_alive "$KEYCLOAK_DIR/keycloak.pid"; then
    echo "keycloak: running on $KEYCLOAK_REALM_URL (pid $(cat "$KEYCLOAK_DIR/keycloak.pid"))"
  else
    echo "keycloak: stopped"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Apache Kafka (jars from Maven Central, KRaft, SASL/PLAIN for the admin, SASL/OAUTHBEARER + JWKS for consumers)

# The broker's JVM command line (an array, so it can be started in the background with its own pid).
kafka_java_command() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  KAFKA_JAVA=(java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=file:$PEERS/kafka/log4j2.properties"
    "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$KAFKA_JWKS_URL"
    -cp "$KAFKA_DIR/lib/*")
}

kafka_java() {
  kafka_java_command
  "${KAFKA_JAVA[@]}" "$@"
}

kafka_tool() {
  java -Xms64m -Xmx256m -Dlog4j2.configurationFile="file:$PEERS/kafka/log4j2.properties" \
    -cp "$KAFKA_DIR/lib/*" "$@" --bootstrap-server "127.0.0.1:$KAFKA_INTERNAL_PORT" --command-config "$KAFKA_DIR/admin.properties"
}

# The README's Kafka PULL walkthrough needs a topic, and neither the broker (auto-create is off) nor dsc creates one.
kafka_topic() {
  kafka_tool org.apache.kafka.tools.TopicCommand --create --if-not-exists --topic "$1" --partitions 1 \
    --replication-factor 1 >"$KAFKA_DIR/topic.log" 2>&1 || fail_with_log "creating topic $1 failed" "$KAFKA_DIR/topic.log"
}

kafka_fetch() {
  local stamp
  stamp="$KAFKA_DIR/lib/.kafka-$KAFKA_VERSION-$(sha256sum "$PEERS/kafka/pom.xml" | cut -c1-12)"
  [ -f "$stamp" ] && return 0
  command -v mvn >/dev/null 2>&1 || apt_install maven
  rm -rf "$KAFKA_DIR/lib"
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central"
  mvn -B -q -Dstyle.color=never -f "$PEERS/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$KAFKA_DIR/lib" -DincludeScope=runtime >"$HARNESS_DIR/kafka-fetch.log" 2>&1 \
    || fail_with_log "fetching Kafka jars with Maven failed" "$HARNESS_DIR/kafka-fetch.log"
  touch "$stamp"
}

# A CA and a broker certificate for 127.0.0.1 (the TLS listener); the CA is what clients trust.
kafka_tls() {
  local dir="$KAFKA_DIR/tls"
  [ -f "$dir/keystore.pem" ] && return 0
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  mkdir -p "$dir"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=dsc harness CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$dir/server.key" -out "$dir/server.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
      -extfile "$dir/server.ext" -out "$dir/server.pem"
    openssl pkcs8 -topk8 -nocrypt -in "$dir/server.key" -out "$dir/server.pk8"
  } >"$dir/openssl.log" 2>&1 || fail_with_log "creating the Kafka TLS certificates failed" "$dir/openssl.log"
  cat "$dir/server.pk8" "$dir/server.pem" "$dir/ca.pem" >"$dir/keystore.pem"
}

kafka_up() {
  local started extra_super_users=""
  started=$(date +%s%N)
  mkdir -p "$KAFKA_DIR"
  kafka_fetch
  kafka_tls
  [ "$OAUTH_PROVIDER" = keycloak ] || extra_super_users=";User:kafka-admin"
  curl -sf "$KAFKA_JWKS_URL" >/dev/null || die "Kafka needs the JWKS at $KAFKA_JWKS_URL to start; start the OAuth server first"
  cat >"$KAFKA_DIR/admin.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$KAFKA_ADMIN_USER" password="$KAFKA_ADMIN_PASSWORD";
PROPS
  sed -e "s|@INTERNAL_PORT@|$KAFKA_INTERNAL_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@OAUTH_PORT@|$KAFKA_OAUTH_PORT|g" -e "s|@DATA_DIR@|$KAFKA_DIR/data|g" \
      -e "s|@TLS_PORT@|$KAFKA_TLS_PORT|g" -e "s|@TLS_KEYSTORE@|$KAFKA_DIR/tls/keystore.pem|g" \
      -e "s|@EXTRA_SUPER_USERS@|$extra_super_users|g" \
      -e "s|@ADMIN_USER@|$KAFKA_ADMIN_USER|g" -e "s|@ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" \
      -e "s|@READER_USER@|$KAFKA_READER_USER|g" -e "s|@READER_PASSWORD@|$KAFKA_READER_PASSWORD|g" \
      -e "s|@JWKS_URL@|$KAFKA_JWKS_URL|g" -e "s|@ISSUER@|$KAFKA_ISSUER|g" -e "s|@AUDIENCE@|$KAFKA_AUDIENCE|g" \
      -e "s|@SUB_CLAIM@|$KAFKA_SUB_CLAIM|g" -e "s|@REAUTH_MS@|$KAFKA_REAUTH_MS|g" -e "s|@CLOCK_SKEW_S@|$KAFKA_CLOCK_SKEW_S|g" \
      "$PEERS/kafka/server.properties.template" >"$KAFKA_DIR/server.properties"
  if pid_alive "$KAFKA_DIR/kafka.pid"; then
    log "kafka already running on 127.0.0.1:$KAFKA_INTERNAL_PORT (admin) / $KAFKA_OAUTH_PORT (OAUTHBEARER)"
    grep -q "jwks.endpoint.url=$KAFKA_JWKS_URL\$" "$KAFKA_DIR/running.properties" 2>/dev/null \
      || log "WARNING: the running broker trusts another issuer; run 'scripts/harness.sh down kafka' first to switch"
  else
    if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
      kafka_java kafka.tools.StorageTool format -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
        -c "$KAFKA_DIR/server.properties" --ignore-formatted >"$KAFKA_DIR/format.log" 2>&1 \
        || fail_with_log "formatting the Kafka storage failed" "$KAFKA_DIR/format.log"
    fi
    cp "$KAFKA_DIR/server.properties" "$KAFKA_DIR/running.properties"
    kafka_java_command
    start_background "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR/kafka.log" "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DIR/server.properties"
  fi
  # Ready means an authenticated metadata request succeeds, not merely an open port.
  local waited=0
  until kafka_tool org.apache.kafka.tools.TopicCommand --list >/dev/null 2>"$KAFKA_DIR/ready.log"; do
    pid_alive "$KAFKA_DIR/kafka.pid" || fail_with_log "Kafka exited during start" "$KAFKA_DIR/kafka.log"
    waited=$((waited + 1))
    [ "$waited" -lt 30 ] || fail_with_log "Kafka is not ready after 30 attempts" "$KAFKA_DIR/kafka.log"
    sleep 1
  done
  # The admin's SCRAM credential (idempotent; KRaft keeps it in the metadata log).
  kafka_tool kafka.admin.ConfigCommand --alter --entity-type users --entity-name "$KAFKA_ADMIN_USER" \
    --add-config "SCRAM-SHA-512=[iterations=4096,password=$KAFKA_ADMIN_PASSWORD]" >"$KAFKA_DIR/scram.log" 2>&1 \
    || fail_with_log "creating the admin's SCRAM credential failed" "$KAFKA_DIR/scram.log"
  log "kafka ready on 127.0.0.1:$KAFKA_INTERNAL_PORT (SASL PLAIN/SCRAM admin), 127.0.0.1:$KAFKA_OAUTH_PORT (SASL/OAUTHBEARER) and 127.0.0.1:$KAFKA_TLS_PORT (SASL_SSL admin) in $(elapsed_ms "$started") ms"
}

kafka_down() { stop_pidfile "kafka" "$KAFKA_DIR/kafka.pid"; }

kafka_status() {
  if pid_alive "$KAFKA_DIR/kafka.pid"; then
    echo "kafka: running on 127.0.0.1:$KAFKA_INTERNAL_PORT / $KAFKA_OAUTH_PORT (pid $(cat "$KAFKA_DIR/kafka.pid"))"
  else
    echo "kafka: stopped"
  fi
}

kafka_acl() {
  local action=$1 principal=$2 topic=$3 group_prefix=$4 verb
  case "$action" in grant) verb=--add ;; revoke) verb="--remove --force" ;; *) die "kafka-acl grant|revoke" ;; esac
  # shellcheck disable=SC2086
  kafka_tool org.apache.kafka.tools.AclCommand $verb --allow-principal "User:$principal" \
    --operation Read --operation Describe --topic "$topic" --resource-pattern-type literal >"$KAFKA_DIR/acl.log" 2>&1 \
    || fail_with_log "ACL $action on topic $topic failed" "$KAFKA_DIR/acl.log"
  # shellcheck disable=SC2086
  kafka_tool org.apache.kafka.tools.AclCommand $verb --allow-principal "User:$principal" \
    --operation Read --group "$group_prefix" --resource-pattern-type prefixed >"$KAFKA_DIR/acl.log" 2>&1 \
    || fail_with_log "ACL $action on group prefix $group_prefix failed" "$KAFKA_DIR/acl.log"
}

# Assembles the runtime class path of a Maven project under scripts/peers into $2/lib, once.
assemble_classpath() {
  local name=$1 dir=$2 pom=$3 started
  started=$(date +%s%N)
  if [ -f "$dir/lib/.complete" ]; then
    log "$name class path ready in $dir/lib"
    return 0
  fi
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  mkdir -p "$dir"
  rm -rf "$dir/lib"
  log "assembling $name from Maven Central ($pom)"
  mvn -B -q -Dstyle.color=never -f "$ROOT/$pom" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$dir/lib" -DincludeScope=runtime >"$dir/fetch.log" 2>&1 \
    || fail_with_log "assembling $name with Maven failed" "$dir/fetch.log"
  touch "$dir/lib/.complete"
  log "$name class path assembled in $(elapsed_ms "$started") ms ($(ls "$dir/lib" | wc -l) jars)"
}

edc_up() { assemble_classpath "Eclipse EDC" "$EDC_DIR" scripts/peers/edc/pom.xml; }

dsp_tck_up() { assemble_classpath "the DSP TCK" "$DSP_TCK_DIR" scripts/peers/dsp-tck/pom.xml; }

dcp_tck_up() { assemble_classpath "the DCP TCK" "$DCP_TCK_DIR" scripts/peers/dcp-tck/pom.xml; }

# A one-class extension the peer needs at start (scripts/peers/seeds/NAME), compiled against its class path.
seed_jar() {
  local name=$1 dir=$2
  [ -f "$dir/seed.jar" ] && return 0
  command -v javac >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
  rm -rf "$dir/seed"
  mkdir -p "$dir/seed"
  javac --release 17 -nowarn -d "$dir/seed" -cp "$dir/lib/*" $(find "$ROOT/scripts/peers/seeds/$name/src" -name '*.java')
  cp -r "$ROOT/scripts/peers/seeds/$name/META-INF" "$dir/seed/"
  jar cf "$dir/seed.jar.tmp" -C "$dir/seed" . && mv "$dir/seed.jar.tmp" "$dir/seed.jar"
  log "$name seed extension built"
}

# Eclipse Identity Hub 0.15.1 (credential service, STS) and EDC 0.14.0 with DCP: a DCP peer that is not ours.
identityhub_up() {
  assemble_classpath "Eclipse Identity Hub" "$IH_DIR" scripts/peers/identityhub/pom.xml
  seed_jar identityhub "$IH_DIR"
}
edc_dcp_up() {
  assemble_classpath "Eclipse EDC with DCP" "$EDC_DCP_DIR" scripts/peers/edc-dcp/pom.xml
  seed_jar edc-dcp "$EDC_DCP_DIR"
}

edc_status() {
  if [ -f "$EDC_DIR/lib/.complete" ]; then log "edc: class path ready"; else log "edc: not assembled"; fi
}

print_env() {
  echo "export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  if [ -f "$EDC_DIR/lib/.complete" ]; then
    echo "export TEST_EDC_CLASSPATH='$EDC_DIR/lib/*'"
  fi
  if [ -f "$IH_DIR/seed.jar" ] && [ -f "$EDC_DCP_DIR/seed.jar" ]; then
    echo "export TEST_IH_CLASSPATH='$IH_DIR/lib/*:$IH_DIR/seed.jar'"
    echo "export TEST_EDC_DCP_CLASSPATH='$EDC_DCP_DIR/lib/*:$EDC_DCP_DIR/seed.jar'"
  fi
  if [ -f "$DCP_TCK_DIR/lib/.complete" ]; then
    echo "export TEST_DCP_TCK_CLASSPATH='$DCP_TCK_DIR/lib/*'"
  fi
  if [ -f "$DSP_TCK_DIR/lib/.complete" ]; then
    echo "export TEST_DSP_TCK_CLASSPATH='$DSP_TCK_DIR/lib/*'"
  fi
  if [ "$OAUTH_PROVIDER" = keycloak ]; then
    cat <<ENV
export TEST_OAUTH_ISSUER=$KEYCLOAK_REALM_URL
export TEST_OAUTH_TOKEN_URL=$KEYCLOAK_REALM_URL/protocol/openid-connect/token
export TEST_OAUTH_REGISTRATION_URL=$KEYCLOAK_REALM_URL/clients-registrations/openid-connect
export TEST_OAUTH_JWKS_URL=$KEYCLOAK_REALM_URL/protocol/openid-connect/certs
export TEST_OAUTH_INITIAL_ACCESS_TOKEN=$(cat "$KEYCLOAK_DIR/initial-access-token" 2>/dev/null)
ENV
  else
    cat <<ENV
export TEST_OAUTH_ISSUER=http://127.0.0.1:$OAUTH_PORT
export TEST_OAUTH_TOKEN_URL=http://127.0.0.1:$OAUTH_PORT/token
export TEST_OAUTH_REGISTRATION_URL=http://127.0.0.1:$OAUTH_PORT/reg
export TEST_OAUTH_JWKS_URL=http://127.0.0.1:$OAUTH_PORT/jwks
export TEST_OAUTH_INITIAL_ACCESS_TOKEN=$OAUTH_INITIAL_ACCESS_TOKEN
export TEST_OAUTH_RESOURCE=$KAFKA_AUDIENCE
export TEST_OAUTH_SHORT_LIVED_RESOURCE=$KAFKA_AUDIENCE:short-lived
export TEST_OAUTH_TTL_RESOURCE_PREFIX=$KAFKA_AUDIENCE:ttl-
export TEST_KAFKA_ADMIN_OAUTH_CLIENT_ID=kafka-admin
export TEST_KAFKA_ADMIN_OAUTH_CLIENT_SECRET=kafka-admin-secret
ENV
  fi
  cat <<ENV
export TEST_OAUTH_AUDIENCE=$KAFKA_AUDIENCE
export TEST_KAFKA_PRINCIPAL_CLAIM=$KAFKA_SUB_CLAIM
export TEST_KAFKA_ADMIN_BOOTSTRAP=127.0.0.1:$KAFKA_INTERNAL_PORT
export TEST_KAFKA_ADMIN_USER=$KAFKA_ADMIN_USER
export TEST_KAFKA_ADMIN_PASSWORD=$KAFKA_ADMIN_PASSWORD
export TEST_KAFKA_READER_USER=$KAFKA_READER_USER
export TEST_KAFKA_READER_PASSWORD=$KAFKA_READER_PASSWORD
export TEST_KAFKA_OAUTH_BOOTSTRAP=127.0.0.1:$KAFKA_OAUTH_PORT
export TEST_KAFKA_TLS_BOOTSTRAP=127.0.0.1:$KAFKA_TLS_PORT
export TEST_KAFKA_TLS_CA_FILE=$KAFKA_DIR/tls/ca.pem
export TEST_KAFKA_TLS_KEYSTORE=$KAFKA_DIR/tls/keystore.pem
export TEST_KAFKA_LIB_DIR=$KAFKA_DIR/lib
export TEST_KAFKA_PID_FILE=$KAFKA_DIR/kafka.pid
export TEST_KAFKA_TEMPLATE=$PEERS/kafka/server.properties.template
export TEST_KAFKA_LOG4J=$PEERS/kafka/log4j2.properties
export TEST_KAFKA_ACL_COMMAND="$ROOT/scripts/harness.sh kafka-acl"
export TEST_KAFKA_CLOCK_SKEW_SECONDS=$KAFKA_CLOCK_SKEW_S
export TEST_OTLP_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_PORT
export TEST_JAEGER_QUERY_URL=http://127.0.0.1:$JAEGER_QUERY_PORT
ENV
}

command="${1:-}"
component="${2:-all}"
case "$command" in
  up)
    case "$component" in
      all)
        started=$(date +%s%N)
        postgres_up
        if [ "$OAUTH_PROVIDER" = keycloak ]; then keycloak_up; else oauth_up; fi
        kafka_up
        edc_up
        dsp_tck_up
        dcp_tck_up
        identityhub_up
        edc_dcp_up
        jaeger_up
        log "all up in $(elapsed_ms "$started") ms" ;;
      postgres) postgres_up ;;
      oauth) oauth_up ;;
      keycloak) keycloak_up ;;
      kafka) kafka_up ;;
      edc) edc_up ;;
      dsp-tck) dsp_tck_up ;;
      dcp-tck) dcp_tck_up ;;
      identityhub) identityhub_up ;;
      edc-dcp) edc_dcp_up ;;
      jaeger) jaeger_up ;;
      *) die "unknown component '$component'" ;;
    esac ;;
  down)
    case "$component" in
      all) jaeger_down; kafka_down; oauth_down; keycloak_down; postgres_down ;;
      jaeger) jaeger_down ;;
      postgres) postgres_down ;;
      oauth) oauth_down ;;
      keycloak) keycloak_down ;;
      kafka) kafka_down ;;
      edc | dsp-tck | dcp-tck | identityhub | edc-dcp) ;;
      *) die "unknown component '$component'" ;;
    esac ;;
  status) postgres_status; oauth_status; keycloak_status; kafka_status; edc_status; jaeger_status ;;
  env) print_env ;;
  fetch)
    if [ "$component" = jaeger ]; then jaeger_fetch; echo "$JAEGER_DIR/bin/jaeger"; exit 0; fi
    # Only what a broker needs to run (a Java runtime, Apache Kafka's jars), for `dsc demo`; prints the jar directory.
    [ "$component" = kafka ] || die "usage: $0 fetch kafka|jaeger"
    mkdir -p "$KAFKA_DIR"
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
    kafka_fetch
    echo "$KAFKA_DIR/lib" ;;
  kafka-acl) shift; [ "$#" -eq 4 ] || die "usage: $0 kafka-acl grant|revoke PRINCIPAL TOPIC GROUP_PREFIX"; kafka_acl "$@" ;;
  kafka-topic) shift; [ "$#" -eq 1 ] || die "usage: $0 kafka-topic TOPIC"; kafka_topic "$1" ;;
  *) echo "usage: $0 up|down|status|env [postgres|oauth|keycloak|kafka|jaeger|edc|dsp-tck|dcp-tck|identityhub|edc-dcp] | kafka-acl grant|revoke PRINCIPAL TOPIC GROUP_PREFIX | kafka-topic TOPIC" >&2; exit 2 ;;
esac
