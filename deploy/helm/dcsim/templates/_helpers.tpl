{{/* Names and labels shared by the chart's templates. */}}

{{- define "dcsim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dcsim.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dcsim.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "dcsim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: app or worker. */}}
{{- define "dcsim.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcsim.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "dcsim.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "dcsim.secretName" -}}
{{ .Values.secret.existingSecret | default (include "dcsim.fullname" .) }}
{{- end }}

{{- define "dcsim.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dcsim.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
What app and worker containers share: the settings file, the Secret's variables, a
writable data directory and /tmp (the root filesystem is read-only).
*/}}
{{- define "dcsim.env" -}}
- name: DCSIM_CONFIG
  value: /etc/dcsim/dcsim.toml
- name: DCSIM_DATA_DIR
  value: /var/lib/dcsim
- name: HOME
  value: /var/lib/dcsim
{{- end }}

{{- define "dcsim.volumeMounts" -}}
- name: config
  mountPath: /etc/dcsim
  readOnly: true
- name: data
  mountPath: /var/lib/dcsim
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "dcsim.volumes" -}}
- name: config
  configMap:
    name: {{ include "dcsim.fullname" . }}
- name: data
  {{- if .Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim }}
  {{- else }}
  emptyDir: {}
  {{- end }}
- name: tmp
  emptyDir: {}
{{- end }}
