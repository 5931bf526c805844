{{/* The labels of every object of the chart. */}}
{{- define "flok.labels" -}}
app.kubernetes.io/name: flok-operator
app.kubernetes.io/part-of: flok
{{- end }}

{{/* The generated rules of the operator (files/role.yaml, from controller-gen): the
ClusterRole's, or with "role" the Role's of the operator's own namespace. */}}
{{- define "flok.rules" -}}
{{- $kind := index . 1 -}}
{{- range splitList "\n---\n" ((index . 0).Files.Get "files/role.yaml") }}
{{- $doc := fromYaml . }}
{{- if eq (get $doc "kind") $kind }}
{{- toYaml (get $doc "rules") }}
{{- end }}
{{- end }}
{{- end }}

{{/* The subjects of the operator's bindings: its ServiceAccount. */}}
{{- define "flok.subjects" }}
- kind: ServiceAccount
  name: flok-operator
  namespace: {{ .Release.Namespace }}
{{- end }}
