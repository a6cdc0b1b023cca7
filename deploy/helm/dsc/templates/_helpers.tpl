{{/* SPDX-License-Identifier: Apache-2.0 */}}

{{/* The chart's name, or nameOverride. */}}
{{- define "dsc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name for every object. */}}
{{- define "dsc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dsc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dsc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dsc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dsc.labels" -}}
helm.sh/chart: {{ include "dsc.chart" . }}
{{ include "dsc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dsc
{{- end -}}

{{/* The planes the mode runs, as a JSON list. */}}
{{- define "dsc.planes" -}}
{{- if eq .Values.mode "single" -}}
["connector"]
{{- else if eq .Values.mode "split" -}}
["controlplane", "dataplane"]
{{- else -}}
{{- fail (printf "dsc: mode must be \"single\" or \"split\", not %q" (toString .Values.mode)) -}}
{{- end -}}
{{- end -}}

{{/* Labels and selector of one plane: (dict "root" $ "plane" "connector"). */}}
{{- define "dsc.planeLabels" -}}
{{ include "dsc.labels" .root }}
app.kubernetes.io/component: {{ .plane }}
{{- end -}}

{{- define "dsc.planeSelector" -}}
{{ include "dsc.selectorLabels" .root }}
app.kubernetes.io/component: {{ .plane }}
{{- end -}}

{{/* Object name of a plane: the full name in single mode, <full name>-<plane> in split mode. */}}
{{- define "dsc.planeName" -}}
{{- if eq .plane "connector" -}}
{{- include "dsc.fullname" .root -}}
{{- else -}}
{{- printf "%s-%s" (include "dsc.fullname" .root | trunc 50 | trimSuffix "-") .plane -}}
{{- end -}}
{{- end -}}

{{/* The plane's in-cluster host name: its Service. */}}
{{- define "dsc.planeHost" -}}
{{- printf "%s.%s.svc" (include "dsc.planeName" .) .root.Release.Namespace -}}
{{- end -}}

{{/* The database and data volume values of a plane (the data plane has its own). */}}
{{- define "dsc.planePostgresql" -}}
{{- if eq .plane "dataplane" -}}{{ toJson .root.Values.dataplane.postgresql }}{{- else -}}{{ toJson .root.Values.postgresql }}{{- end -}}
{{- end -}}
{{- define "dsc.planePersistence" -}}
{{- $postgresql := include "dsc.planePostgresql" . | fromJson -}}
{{- $persistence := ternary .root.Values.dataplane.persistence .root.Values.persistence (eq .plane "dataplane") -}}
{{- if and $postgresql.enabled (eq .root.Values.vault.type "database") -}}
{{- /* Database and vault are in PostgreSQL: nothing in the data directory outlives the pod. */ -}}
{{ toJson (set (deepCopy $persistence) "enabled" false) }}
{{- else -}}
{{ toJson $persistence }}
{{- end -}}
{{- end -}}

{{/* The web contexts a plane serves, as a JSON list. */}}
{{- define "dsc.planeContexts" -}}
{{- if eq .plane "dataplane" -}}
["default", "control", "public"]
{{- else if eq .plane "controlplane" -}}
{{- if .root.Values.oauthServer.enabled -}}["default", "management", "protocol", "control", "oauth"]{{- else -}}["default", "management", "protocol", "control"]{{- end -}}
{{- else -}}
{{- if .root.Values.oauthServer.enabled -}}["default", "management", "protocol", "control", "public", "oauth"]{{- else -}}["default", "management", "protocol", "control", "public"]{{- end -}}
{{- end -}}
{{- end -}}

{{/* The plane that serves a context: (dict "root" $ "context" "public"). */}}
{{- define "dsc.contextPlane" -}}
{{- if eq .root.Values.mode "single" -}}
connector
{{- else if eq .context "public" -}}
dataplane
{{- else -}}
controlplane
{{- end -}}
{{- end -}}

{{/* Settings key prefix of a context: web.http for the default context, web.http.<context> for the others. */}}
{{- define "dsc.contextKey" -}}
{{- if eq . "default" -}}web.http{{- else -}}web.http.{{ . }}{{- end -}}
{{- end -}}

{{/* The URL of a context on a plane's Service: (dict "root" $ "plane" "dataplane" "context" "control"). */}}
{{- define "dsc.contextUrl" -}}
{{- $web := index .root.Values.web .context -}}
{{- printf "http://%s:%d%s" (include "dsc.planeHost" .) (int $web.port) $web.path -}}
{{- end -}}

{{/* How many replicas a plane may run: the larger of replicaCount and the autoscaler's maximum. */}}
{{- define "dsc.maxReplicas" -}}
{{- $values := index .root.Values .plane -}}
{{- $max := int $values.replicaCount -}}
{{- if and $values.autoscaling.enabled (gt (int $values.autoscaling.maxReplicas) $max) -}}
{{- $max = int $values.autoscaling.maxReplicas -}}
{{- end -}}
{{- $max -}}
{{- end -}}

{{/* The image reference. */}}
{{- define "dsc.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "dsc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dsc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Checks the values of one plane; fails the render with the reason. Several replicas share the work through the
database's leases and the secrets through the database vault, so they need PostgreSQL (SQLite lives in one pod's
volume) and vault.type=database (a vault file lives in one pod's volume too).
*/}}
{{- define "dsc.validate" -}}
{{- $values := index .root.Values .plane -}}
{{- $postgresql := include "dsc.planePostgresql" . | fromJson -}}
{{- $persistence := include "dsc.planePersistence" . | fromJson -}}
{{- $prefix := ternary "dataplane." "" (eq .plane "dataplane") -}}
{{- $replicas := include "dsc.maxReplicas" . | int -}}
{{- if not .root.Values.participant.id -}}
{{- fail "dsc: participant.id is required (edc.participant.id: this connector's did:web DID)" -}}
{{- end -}}
{{- if gt $replicas 1 -}}
{{- if not $postgresql.enabled -}}
{{- fail (printf "dsc: %s may run %d replicas, but more than one replica needs PostgreSQL (%spostgresql.enabled=true): SQLite lives in one pod's volume and cannot be shared" .plane $replicas $prefix) -}}
{{- end -}}
{{- if ne .root.Values.vault.type "database" -}}
{{- fail (printf "dsc: %s may run %d replicas, which need the database vault (vault.type=database with vault.existingSecret): a vault file lives in one pod's volume and cannot be shared" .plane $replicas) -}}
{{- end -}}
{{- end -}}
{{- if eq .root.Values.vault.type "database" -}}
{{- if not .root.Values.vault.existingSecret -}}
{{- fail "dsc: vault.type=database needs vault.existingSecret: every replica must open the secrets with the same key, which a generated key file cannot give" -}}
{{- end -}}
{{- end -}}
{{- if $postgresql.enabled -}}
{{- if not (or $postgresql.url $postgresql.urlKey) -}}
{{- fail (printf "dsc: %spostgresql.enabled needs %spostgresql.url (without credentials) or %spostgresql.urlKey (a key of existingSecret)" $prefix $prefix $prefix) -}}
{{- end -}}
{{- if and $postgresql.urlKey (not $postgresql.existingSecret) -}}
{{- fail (printf "dsc: %spostgresql.urlKey needs %spostgresql.existingSecret" $prefix $prefix) -}}
{{- end -}}
{{- if and $postgresql.url (not (hasPrefix "postgres" $postgresql.url)) -}}
{{- fail (printf "dsc: %spostgresql.url must start with postgres:// or postgresql://" $prefix) -}}
{{- end -}}
{{- if and $postgresql.url (regexMatch "^[a-z]+://[^/@]*:[^/@]*@" $postgresql.url) -}}
{{- fail (printf "dsc: %spostgresql.url carries a password; put it into a Secret (existingSecret with passwordKey or urlKey)" $prefix) -}}
{{- end -}}
{{- end -}}
{{- if ne .plane "dataplane" -}}
{{- if not (or .root.Values.apiKey.existingSecret .root.Values.apiKey.vaultAlias) -}}
{{- fail "dsc: the Management API needs a key: set apiKey.existingSecret (a Secret you created) or apiKey.vaultAlias" -}}
{{- end -}}
{{- end -}}
{{- if and (eq .root.Values.mode "split") (not .root.Values.signaling.existingSecret) -}}
{{- fail "dsc: mode split needs signaling.existingSecret: the key control plane and data plane share (dsc.signaling.auth.key)" -}}
{{- end -}}
{{- end -}}

{{/*
The settings a plane's TOML file holds: those the chart manages, then the user's (top-level and the plane's).
A user setting that the chart manages fails the render, naming the value to use instead.
*/}}
{{- define "dsc.settings" -}}
{{- $root := .root -}}
{{- $plane := .plane -}}
{{- $values := index $root.Values $plane -}}
{{- $postgresql := include "dsc.planePostgresql" . | fromJson -}}
{{- $managed := dict -}}
{{- $_ := set $managed "edc.participant.id" $root.Values.participant.id -}}
{{- $_ := set $managed "edc.hostname" (default (include "dsc.planeHost" .) $root.Values.hostname) -}}
{{- $_ := set $managed "dsc.data.dir" "/var/lib/dsc" -}}
{{- $_ := set $managed "dsc.vault.type" $root.Values.vault.type -}}
{{- $_ := set $managed "dsc.log.format" $root.Values.log.format -}}
{{- $_ := set $managed "dsc.log.level" $root.Values.log.level -}}
{{- range $context := list "default" "management" "protocol" "control" "public" -}}
{{- $web := index $root.Values.web $context -}}
{{- $_ := set $managed (printf "%s.port" (include "dsc.contextKey" $context)) (int $web.port) -}}
{{- $_ := set $managed (printf "%s.path" (include "dsc.contextKey" $context)) $web.path -}}
{{- end -}}
{{- if $postgresql.enabled -}}
{{- if not $postgresql.urlKey -}}
{{- $_ := set $managed "edc.datasource.default.url" $postgresql.url -}}
{{- if $postgresql.user -}}
{{- $_ := set $managed "edc.datasource.default.user" $postgresql.user -}}
{{- end -}}
{{- end -}}
{{- $_ := set $managed "edc.datasource.default.pool.connections.max-total" (int $postgresql.maxConnections) -}}
{{- end -}}
{{- if ne $plane "dataplane" -}}
{{- if and $root.Values.apiKey.vaultAlias (not $root.Values.apiKey.existingSecret) -}}
{{- $_ := set $managed "edc.api.auth.key.alias" $root.Values.apiKey.vaultAlias -}}
{{- end -}}
{{- $_ := set $managed "edc.dsp.callback.address" (default (include "dsc.contextUrl" (dict "root" $root "plane" $plane "context" "protocol")) $root.Values.urls.protocol) -}}
{{- if $root.Values.oauthServer.enabled -}}
{{- $_ := set $managed "dsc.oauth.server.enabled" "true" -}}
{{- $_ := set $managed "web.http.oauth.port" (int $root.Values.web.oauth.port) -}}
{{- $_ := set $managed "web.http.oauth.path" $root.Values.web.oauth.path -}}
{{- end -}}
{{- end -}}
{{- if ne $plane "controlplane" -}}
{{- $publicPlane := include "dsc.contextPlane" (dict "root" $root "context" "public") -}}
{{- $_ := set $managed "edc.dataplane.api.public.baseurl" (default (include "dsc.contextUrl" (dict "root" $root "plane" $publicPlane "context" "public")) $root.Values.urls.public) -}}
{{- end -}}
{{- if eq $plane "controlplane" -}}
{{- $_ := set $managed "dsc.dataplane.embedded" "false" -}}
{{- $_ := set $managed "dsc.dataplane.remote.url" (include "dsc.contextUrl" (dict "root" $root "plane" "dataplane" "context" "control")) -}}
{{- $_ := set $managed "dsc.dataplane.remote.transfertypes" $root.Values.dataplane.transferTypes -}}
{{- end -}}
{{- if eq $plane "dataplane" -}}
{{- $_ := set $managed "dsc.dataplane.signaling.url" (include "dsc.contextUrl" (dict "root" $root "plane" "dataplane" "context" "control")) -}}
{{- end -}}
{{- $all := deepCopy $managed -}}
{{- range $source := list (dict "name" "settings" "values" $root.Values.settings) (dict "name" (printf "%s.settings" $plane) "values" $values.settings) -}}
{{- range $key, $value := $source.values -}}
{{- if hasKey $managed $key -}}
{{- fail (printf "dsc: %s sets %q, which the chart manages; use participant.id, hostname, urls, web, log, postgresql, apiKey, oauthServer or dataplane.transferTypes instead" $source.name $key) -}}
{{- end -}}
{{- if regexMatch "(password|secret|auth\\.key|vault\\.key|vault\\.key\\.previous)$" $key -}}
{{- fail (printf "dsc: %s sets %q, a secret; pass it from a Secret with %s.extraEnv (secretKeyRef) instead" $source.name $key $plane) -}}
{{- end -}}
{{- if not (kindIs "invalid" $value) -}}
{{- $_ := set $all $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $all -}}
{{- end -}}

{{/* A flat settings map as TOML: quoted dotted keys, whole numbers as integers, everything else as strings. */}}
{{- define "dsc.toml" -}}
{{- $settings := . -}}
{{- range $key := keys $settings | sortAlpha }}
{{- $value := index $settings $key }}
{{- if and (kindIs "float64" $value) (eq (float64 (int64 $value)) $value) }}
{{ $key | quote }} = {{ int64 $value }}
{{- else if or (kindIs "int" $value) (kindIs "int64" $value) }}
{{ $key | quote }} = {{ $value }}
{{- else }}
{{ $key | quote }} = {{ toString $value | toJson }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment variables from Secrets for one plane. */}}
{{- define "dsc.secretEnv" -}}
{{- $root := .root -}}
{{- $postgresql := include "dsc.planePostgresql" . | fromJson -}}
{{- if and (ne .plane "dataplane") $root.Values.apiKey.existingSecret }}
- name: EDC_API_AUTH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.apiKey.existingSecret }}
      key: {{ $root.Values.apiKey.secretKey }}
{{- end }}
{{- if $root.Values.vault.existingSecret }}
- name: DSC_VAULT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.vault.existingSecret }}
      key: {{ $root.Values.vault.secretKey }}
{{- if $root.Values.vault.previousKeysSecretKey }}
- name: DSC_VAULT_KEY_PREVIOUS
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.vault.existingSecret }}
      key: {{ $root.Values.vault.previousKeysSecretKey }}
{{- end }}
{{- end }}
{{- if $root.Values.metrics.existingSecret }}
- name: DSC_METRICS_AUTH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.metrics.existingSecret }}
      key: {{ $root.Values.metrics.secretKey }}
{{- end }}
{{- if $root.Values.signaling.existingSecret }}
- name: DSC_SIGNALING_AUTH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.signaling.existingSecret }}
      key: {{ $root.Values.signaling.secretKey }}
{{- end }}
{{- if and $postgresql.enabled $postgresql.existingSecret }}
{{- if $postgresql.urlKey }}
- name: EDC_DATASOURCE_DEFAULT_URL
  valueFrom:
    secretKeyRef:
      name: {{ $postgresql.existingSecret }}
      key: {{ $postgresql.urlKey }}
{{- else }}
- name: EDC_DATASOURCE_DEFAULT_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $postgresql.existingSecret }}
      key: {{ $postgresql.passwordKey }}
{{- end }}
{{- end }}
{{- end -}}
