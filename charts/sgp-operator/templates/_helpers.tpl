{{/* Chart name (app.kubernetes.io/name). */}}
{{- define "sgp-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every object's name: the release name when it already says sgp-operator, else <release>-<name>. */}}
{{- define "sgp-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "sgp-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "sgp-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sgp-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The operator's pods: the Deployment's selector, the Services', the PDB's and the NetworkPolicy's. */}}
{{- define "sgp-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sgp-operator.name" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "sgp-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "sgp-operator.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sgp-operator.webhookServiceName" -}}
{{- printf "%s-webhook" (include "sgp-operator.fullname" .) }}
{{- end }}

{{/*
The operator's username as four quoted CEL pieces, exactly as operator/webhook/configuration.ts
operatorExcluded() writes it (and config/default's replacements fill in), so the operator's own sync of the
webhook configurations finds nothing to change.
*/}}
{{- define "sgp-operator.usernameCel" -}}
'system:serviceaccount:' + '{{ .Release.Namespace }}' + ':' + '{{ include "sgp-operator.serviceAccountName" . }}'
{{- end }}

{{- define "sgp-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The port of a bind address flag (":8080", "0.0.0.0:8080", "[::]:8080"); "0" when the server is off.
Usage: include "sgp-operator.port" (list . "metrics-bind-address")
*/}}
{{- define "sgp-operator.port" -}}
{{- $root := index . 0 }}
{{- $flag := index . 1 }}
{{- $address := toString (index $root.Values.flags $flag) }}
{{- if eq $address "0" }}0
{{- else if regexMatch `^(\[[^\]]*\]|[^:]*):[1-9][0-9]*$` $address }}
{{- regexFind "[0-9]+$" $address }}
{{- else }}
{{- fail (printf "flags.%s=%q: the chart needs a fixed port (host:port or :port)" $flag $address) }}
{{- end }}
{{- end }}

{{- define "sgp-operator.certManager" -}}
{{- if eq .Values.webhookCertificate.mode "cert-manager" }}true{{ else if ne .Values.webhookCertificate.mode "operator" }}
{{- fail (printf "webhookCertificate.mode=%q: use operator or cert-manager" .Values.webhookCertificate.mode) }}
{{- end }}
{{- end }}

{{/* Where cert-manager's Secret is mounted (--webhook-cert-dir), as config/certmanager mounts it. */}}
{{- define "sgp-operator.certDir" -}}
/tmp/k8s-webhook-server/serving-certs
{{- end }}

{{/* "true" when /metrics is HTTPS with TokenReview/SubjectAccessReview (flags.metrics-secure), else empty. */}}
{{- define "sgp-operator.metricsSecure" -}}
{{- $value := toString (index .Values.flags "metrics-secure") }}
{{- if eq $value "true" }}true{{ else if ne $value "false" }}
{{- fail (printf "flags.metrics-secure=%q: use true or false" $value) }}
{{- end }}
{{- end }}
