{{- define "verdict.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "verdict.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "verdict.labels" -}}
{{ include "verdict.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "verdict.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Verdict container, shared by the central Deployment and the sidecar pod. */}}
{{- define "verdict.container" -}}
{{- $sidecar := eq .Values.mode "sidecar" -}}
{{- $scheme := ternary "https" "http" (ne .Values.tls.secretName "") -}}
- name: verdict
  image: {{ include "verdict.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    - run
    - --addr={{ $scheme }}://{{ ternary "127.0.0.1" "0.0.0.0" $sidecar }}:8181
    - --diagnostic-addr=http://0.0.0.0:{{ .Values.diagnostics.port }}
    - --config-file=/etc/verdict/config.yaml
    - --authentication={{ .Values.authentication }}
    - --authorization={{ .Values.authorization }}
    {{- if .Values.tls.secretName }}
    - --tls-cert-file=/etc/verdict/tls/tls.crt
    - --tls-private-key-file=/etc/verdict/tls/tls.key
    - --min-tls-version={{ .Values.tls.minVersion }}
    {{- if .Values.tls.clientAuth }}
    - --tls-ca-cert-file=/etc/verdict/tls/ca.crt
    {{- end }}
    {{- end }}
    {{- with .Values.workers }}
    - --workers={{ . }}
    {{- end }}
    {{- range .Values.extraArgs }}
    - {{ . | quote }}
    {{- end }}
    {{- if .Values.bundlePaths }}
    - --bundle
    {{- range .Values.bundlePaths }}
    - {{ . | quote }}
    {{- end }}
    {{- end }}
  {{- with .Values.secretEnv }}
  env:
    {{- range . }}
    - name: {{ .name }}
      valueFrom:
        secretKeyRef:
          name: {{ .secretName }}
          key: {{ .key }}
    {{- end }}
  {{- end }}
  ports:
    {{- if not $sidecar }}
    - name: http
      containerPort: 8181
    {{- if .Values.service.grpc }}
    - name: grpc
      containerPort: 9191
    {{- end }}
    {{- end }}
    - name: diagnostics
      containerPort: {{ .Values.diagnostics.port }}
  readinessProbe:
    httpGet:
      path: /health?bundles
      port: diagnostics
    periodSeconds: 5
  livenessProbe:
    httpGet:
      path: /health
      port: diagnostics
    initialDelaySeconds: 10
    periodSeconds: 10
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/verdict
      readOnly: true
    {{- if .Values.tls.secretName }}
    - name: tls
      mountPath: /etc/verdict/tls
      readOnly: true
    {{- end }}
    - name: data
      mountPath: /var/lib/verdict
{{- end -}}

{{- define "verdict.volumes" -}}
- name: config
  configMap:
    name: {{ include "verdict.fullname" . }}
{{- if .Values.tls.secretName }}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    defaultMode: 0400
{{- end }}
- name: data
{{- if .Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.persistence.sizeLimit }}
{{- end }}
{{- end -}}
