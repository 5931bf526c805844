package render

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/test/golden"
)

// variants of the golden matrix: what a FlinkDeployment adds on top of the basic one.
var variants = map[string]string{
	"basic": ``,
	// Kubernetes high availability with three JobManagers.
	"ha": `
spec:
  jobManager:
    replicas: 2
  flinkConfiguration:
    high-availability:
      type: kubernetes
      storageDir: file:///flink-data/ha
`,
	// Pod templates in three layers, an Ingress, secrets as files and env, exposure,
	// extra labels and tolerations, and seed 000's hostPath state volume.
	"full": `
spec:
  ingress:
    template: flink.example.com/{{namespace}}/{{name}}(/|$)(.*)
    className: nginx
    tls:
    - hosts: [flink.example.com]
      secretName: flink-tls
  logConfiguration:
    log4j-console.properties: |
      rootLogger.level = DEBUG
  flinkConfiguration:
    kubernetes.secrets: s3-credentials:/opt/flink/secrets/s3
    kubernetes.env.secretKeyRef: env:DB_PASSWORD,secret:db,key:password
    kubernetes.rest-service.exposed.type: NodePort
    kubernetes.container.image.pull-secrets: registry-a;registry-b
    kubernetes.jobmanager.labels: team:data,tier:gold
    kubernetes.taskmanager.tolerations: key:dedicated,operator:Equal,value:flink,effect:NoSchedule
    containerized.master.env.TZ: UTC
    state.backend.type: rocksdb
    execution.checkpointing.dir: file:///flink-data/checkpoints
    execution.checkpointing.interval: 10s
  podTemplate:
    metadata:
      labels:
        team: streaming
    spec:
      hostAliases:
      - ip: 10.0.0.10
        hostnames: [kafka.internal]
      containers:
      - name: flink-main-container
        env:
        - name: TZ
          value: Europe/Berlin
        volumeMounts:
        - name: flink-data
          mountPath: /flink-data
      volumes:
      - name: flink-data
        hostPath:
          path: /var/lib/flink-data
          type: DirectoryOrCreate
  jobManager:
    resource:
      memory: 2048m
      cpu: 0.5
      ephemeralStorage: 2Gi
    podTemplate:
      spec:
        containers:
        - name: log-shipper
          image: fluent/fluent-bit:3.0
  taskManager:
    resource: null
    resources:
      requests:
        memory: 2Gi
        cpu: "1"
      limits:
        memory: 3Gi
        cpu: "2"
    podTemplate:
      spec:
        nodeSelector:
          pool: flink
        initContainers:
        - name: warm-cache
          image: busybox:1.36
          command: [sh, -c, "true"]
`,
}

// baseDeployment is the FlinkDeployment every case starts from.
func baseDeployment(mode, kind, version string) string {
	text := fmt.Sprintf(`
apiVersion: flok.dev/v1beta1
kind: FlinkDeployment
metadata:
  name: orders
  namespace: streaming
  uid: 5b0a7c1e-0000-4000-8000-000000000001
spec:
  mode: %s
  image: flink:%s
  flinkVersion: v%s
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "2"
    execution.checkpointing.savepoint-dir: file:///flink-data/savepoints
  jobManager:
    resource:
      memory: 1600m
      cpu: 1
  taskManager:
    resource:
      memory: 1728m
      cpu: 1
`, mode, version, strings.ReplaceAll(version, ".", "_"))
	if kind == "application" {
		text += `  job:
    jarURI: local:///opt/flink/examples/streaming/TopSpeedWindowing.jar
    entryClass: org.apache.flink.streaming.examples.windowing.TopSpeedWindowing
    args: ["--output", "/tmp/out;1"]
    parallelism: 4
    upgradeMode: savepoint
`
	}
	return text
}

// deploymentFrom merges YAML documents (later ones win, maps merged) into a
// FlinkDeployment.
func deploymentFrom(t testing.TB, docs ...string) *v1beta1.FlinkDeployment {
	t.Helper()
	merged := map[string]any{}
	for _, d := range docs {
		var m map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(d), &m))
		merged = LayerTemplates(merged, m)
	}
	data, err := yaml.Marshal(merged)
	require.NoError(t, err)
	fd := &v1beta1.FlinkDeployment{}
	require.NoError(t, yaml.UnmarshalStrict(data, fd))
	return fd
}

// TestGolden renders the matrix native/standalone × application/session × Flink
// 1.20/2.3 × basic/HA/full and compares each with its golden file.
func TestGolden(t *testing.T) {
	for _, mode := range []string{"native", "standalone"} {
		for _, kind := range []string{"application", "session"} {
			for _, version := range []string{"1.20", "2.3"} {
				for variant, overlay := range variants {
					name := fmt.Sprintf("%s-%s-%s-%s", mode, kind, version, variant)
					t.Run(name, func(t *testing.T) {
						fd := deploymentFrom(t, baseDeployment(mode, kind, version), overlay)
						in := Input{Deployment: fd, JobID: "00000000000000000000000000000abc"}
						if kind == "application" {
							in.Restore = &Restore{Path: "file:///flink-data/savepoints/savepoint-1", AllowNonRestoredState: true}
						}
						objs, err := Render(in)
						require.NoError(t, err)
						data, err := objs.YAML()
						require.NoError(t, err)
						golden.Compare(t, filepath.Join("testdata", "golden", name+".yaml"), data)
					})
				}
			}
		}
	}
}
