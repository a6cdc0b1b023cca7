#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the Helm chart in deploy/helm/dsc offline, without a cluster:
#   1. helm lint --strict with every values file in deploy/helm/dsc/ci/;
#   2. helm template with each of them, and the rendered manifests validated against the Kubernetes JSON schemas
#      (kubernetes-validate from PyPI, which bundles them; strict: unknown fields are errors);
#   3. value combinations that must fail the render (several replicas on SQLite, ...) fail with their message;
#   4. with a dsc binary (DSC_BIN, default target/release/dsc, skipped when missing): every rendered dsc.toml and the
#      environment variable names of each Deployment are read by the connector's own settings loader (no port is
#      opened: a deliberately invalid WEB_HTTP_PORT, read last, stops the start once the file has passed).
#
#   deploy/check-chart.sh            # KUBE_VERSIONS="1.25.0 1.37.0" by default
#   deploy/check-chart.sh --tools    # only install the tools (the test command does that before building Rust, so
#                                    # Helm's Go caches are gone before the Rust build needs the disk)
#
# Tools are installed when missing into .harness/deploy-tools (git-ignored; DSC_DEPLOY_TOOLS overrides): Helm v4
# built from the Go module proxy (go install; about 5 minutes on 2 cores; its Go caches, 1.8 GB, are
# removed after it, leaving an 82 MB binary) and kubernetes-validate in a Python venv (about 10 s, 144 MB). Helm on
# the PATH is used when it is v4.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$ROOT/deploy/helm/dsc"
TOOLS="${DSC_DEPLOY_TOOLS:-$ROOT/.harness/deploy-tools}"
HELM_VERSION="${HELM_VERSION:-v4.3.2}"
KUBE_VALIDATE_VERSION="${KUBE_VALIDATE_VERSION:-1.37.0}"
KUBE_VERSIONS="${KUBE_VERSIONS:-1.25.0 1.37.0}"
DSC_BIN="${DSC_BIN:-$ROOT/target/release/dsc}"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
failures=0
step_start=0
step() { step_start=$SECONDS; printf '\n== %s (disk free: %s)\n' "$*" "$(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ')"; }
done_step() { printf -- '-- %ss\n' "$((SECONDS - step_start))"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

step "tools"
mkdir -p "$TOOLS/bin"
HELM="$(command -v helm || true)"
if [ -z "$HELM" ] || ! "$HELM" version --short 2>/dev/null | grep -q '^v4\.'; then
  HELM="$TOOLS/bin/helm"
fi
if [ ! -x "$HELM" ]; then
  command -v go >/dev/null 2>&1 || { echo "check-chart.sh: Helm v4 is missing and Go is needed to build it" >&2; exit 1; }
  echo "building Helm $HELM_VERSION with go install ..."
  # Separate Go caches, removed afterwards: the module and build caches take about 1.8 GB for Helm.
  GOBIN="$TOOLS/bin" GOPATH="$TOOLS/go" GOCACHE="$TOOLS/go-build" GOFLAGS="-trimpath -modcacherw" GOTOOLCHAIN=local \
    go install -ldflags="-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  du -sh "$TOOLS/go" "$TOOLS/go-build" 2>/dev/null || true
  GOPATH="$TOOLS/go" GOCACHE="$TOOLS/go-build" go clean -cache -modcache
  rm -rf "$TOOLS/go" "$TOOLS/go-build"
fi
"$HELM" version --short
VALIDATE="$TOOLS/kube-validate/bin/kubernetes-validate"
if [ ! -x "$VALIDATE" ]; then
  echo "installing kubernetes-validate $KUBE_VALIDATE_VERSION from PyPI into a venv ..."
  python3 -m venv "$TOOLS/kube-validate"
  "$TOOLS/kube-validate/bin/pip" install -q "kubernetes-validate==$KUBE_VALIDATE_VERSION"
fi
PYTHON="$TOOLS/kube-validate/bin/python"
echo "kubernetes-validate $("$VALIDATE" --version)"
du -sh "$TOOLS"
done_step
if [ "${1:-}" = "--tools" ]; then exit 0; fi

step "helm lint --strict"
for values in "$CHART"/ci/*-values.yaml; do
  name="$(basename "$values" -values.yaml)"
  if "$HELM" lint --strict "$CHART" -f "$values" > "$OUT/lint-$name.log" 2>&1; then
    echo "ok   $name: $(grep -c '^\[' "$OUT/lint-$name.log" || true) message(s): $(grep '^\[' "$OUT/lint-$name.log" | tr '\n' ' ')"
  else
    fail "helm lint with ci/$(basename "$values")"; cat "$OUT/lint-$name.log"
  fi
done
done_step

step "helm template and schema validation (Kubernetes $KUBE_VERSIONS, strict)"
for values in "$CHART"/ci/*-values.yaml; do
  name="$(basename "$values" -values.yaml)"
  if ! "$HELM" template dsc "$CHART" --namespace dataspace -f "$values" > "$OUT/$name.yaml" 2> "$OUT/$name.err"; then
    fail "helm template with ci/$(basename "$values")"; cat "$OUT/$name.err"; continue
  fi
  kinds=$(grep '^kind:' "$OUT/$name.yaml" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
  for version in $KUBE_VERSIONS; do
    if "$VALIDATE" --strict --quiet -k "$version" "$OUT/$name.yaml" > "$OUT/$name-$version.log" 2>&1; then
      echo "ok   $name on $version: ${kinds%, }"
    else
      fail "schema validation of $name on Kubernetes $version"; cat "$OUT/$name-$version.log"
    fi
  done
done
done_step

step "value combinations that must fail the render"
base=(--set participant.id=BPNL000000000001 --set apiKey.existingSecret=dsc-management-api)
must_fail() {
  local expected="$1"; shift
  if "$HELM" template dsc "$CHART" "$@" > /dev/null 2> "$OUT/must-fail.err"; then
    fail "rendered, but must fail: $*"
  elif grep -q -- "$expected" "$OUT/must-fail.err"; then
    echo "ok   refused: $(grep -o -- "dsc: .*\\|$expected.*" "$OUT/must-fail.err" | head -1 | cut -c1-150)"
  else
    fail "failed without the expected message '$expected': $*"; cat "$OUT/must-fail.err"
  fi
}
must_fail "more than one replica needs PostgreSQL" "${base[@]}" --set connector.replicaCount=2
must_fail "more than one replica needs PostgreSQL" "${base[@]}" --set connector.autoscaling.enabled=true
must_fail "more than one replica needs PostgreSQL" "${base[@]}" --set mode=split \
  --set signaling.existingSecret=s --set dataplane.replicaCount=3
must_fail "need the database vault" "${base[@]}" --set connector.replicaCount=2 --set postgresql.enabled=true \
  --set postgresql.existingSecret=db --set postgresql.urlKey=url
must_fail "vault.type=database needs vault.existingSecret" "${base[@]}" --set vault.type=database
must_fail "participant.id is required" --set apiKey.existingSecret=dsc-management-api
must_fail "needs a key" --set participant.id=BPNL000000000001
must_fail "needs signaling.existingSecret" "${base[@]}" --set mode=split
must_fail "value must be one of 'single', 'split'" "${base[@]}" --set mode=both
must_fail "which the chart manages" "${base[@]}" --set 'settings.web\.http\.port=8080'
must_fail "a secret" "${base[@]}" --set 'connector.settings.edc\.datasource\.default\.password=x'
must_fail "a secret" "${base[@]}" --set 'settings.dsc\.vault\.key\.previous=x'
# PostgreSQL with the vault file still mounts a ReadWriteOnce claim: the old pod must go first.
if "$HELM" template dsc "$CHART" "${base[@]}" --set postgresql.enabled=true --set postgresql.existingSecret=db \
  --set postgresql.urlKey=url 2>&1 | grep -q 'type: Recreate'; then
  echo "ok   PostgreSQL with the vault file on a ReadWriteOnce claim: Recreate"
else
  fail "PostgreSQL with the vault file must use the Recreate strategy"
fi
must_fail "carries a password" "${base[@]}" --set postgresql.enabled=true \
  --set postgresql.url=postgres://dsc:pw@db:5432/dsc --set postgresql.existingSecret=db
must_fail "ingress.enabled needs ingress.rules" "${base[@]}" --set ingress.enabled=true
# values.schema.json: a misspelt key and a value outside its choices.
must_fail "additional properties 'replicaCont' not allowed" "${base[@]}" --set connector.replicaCont=2
must_fail "value must be one of 'json', 'text'" "${base[@]}" --set log.format=xml
done_step

step "rendered settings against the connector's own loader"
if [ ! -x "$DSC_BIN" ]; then
  echo "skipped: no dsc binary at $DSC_BIN (cargo build --release -p dsc, or set DSC_BIN)"
else
  echo "$("$DSC_BIN" --version) at $DSC_BIN"
  for values in "$CHART"/ci/*-values.yaml; do
    name="$(basename "$values" -values.yaml)"
    [ -s "$OUT/$name.yaml" ] || continue
    # One line per Deployment: subcommand, config file written from its ConfigMap, environment variable names.
    "$PYTHON" - "$OUT/$name.yaml" "$OUT/$name" > "$OUT/$name.planes" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
configs = {d["metadata"]["name"]: d["data"]["dsc.toml"] for d in docs if d["kind"] == "ConfigMap"}
for d in docs:
    if d["kind"] != "Deployment":
        continue
    pod = d["spec"]["template"]["spec"]
    container = pod["containers"][0]
    config = next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)
    path = "%s-%s.toml" % (sys.argv[2], d["metadata"]["name"])
    open(path, "w").write(configs[config])
    names = [e["name"] for e in container.get("env", [])]
    print(container["args"][0], path, " ".join(names))
PY
    while read -r subcommand config names; do
      environment=(PATH=/usr/bin:/bin)
      for variable in $names; do environment+=("$variable=placeholder-value"); done
      # Variables are read in name order after the file; WEB_HTTP_PORT sorts last, and 0 is no port.
      set +e
      env -i "${environment[@]}" WEB_HTTP_PORT=0 "$DSC_BIN" "$subcommand" --config "$config" > "$OUT/dsc.out" 2>&1
      code=$?
      set -e
      if [ "$code" -eq 2 ] && grep -q "from environment variable WEB_HTTP_PORT" "$OUT/dsc.out"; then
        echo "ok   $name: dsc $subcommand accepts $(grep -c ' = ' "$config") settings of $(basename "$config") and ${names:-no variables}"
      else
        fail "dsc $subcommand refused $(basename "$config") (exit $code): $(cat "$OUT/dsc.out")"
      fi
    done < "$OUT/$name.planes"
  done
fi
done_step

echo
if [ "$failures" -gt 0 ]; then
  echo "check-chart: $failures check(s) failed"
  exit 1
fi
echo "check-chart: every check passed"
