package v1beta1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flok-dev/flok/test/localk8s"
)

const crdDir = "../../config/crd"

var cluster *localk8s.Cluster

func TestMain(m *testing.M) {
	localk8s.Main(m, localk8s.Options{CRDs: []string{crdDir}}, &cluster)
}

// TestCRDsFitClientSideApply keeps every CRD under the 256 KiB that the
// last-applied-configuration annotation of a client-side `kubectl apply` allows (the
// Apache operator's FlinkDeployment CRD is 530 KiB and cannot be applied so), and
// applies them so.
func TestCRDsFitClientSideApply(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, f := range files {
		info, err := os.Stat(f)
		require.NoError(t, err)
		require.Less(t, info.Size(), int64(256<<10), f)
	}
	out, err := cluster.Kubectl(t.Context(), nil, "apply", "-f", crdDir)
	require.NoError(t, err)
	require.Contains(t, string(out), "flinkdeployments.flok.dev")
}

// TestExplainTeaches checks that kubectl explain carries the field descriptions.
func TestExplainTeaches(t *testing.T) {
	out, err := cluster.Kubectl(t.Context(), nil, "explain", "flinkdeployment.spec.job")
	require.NoError(t, err)
	require.Contains(t, string(out), "upgradeMode")
	require.Contains(t, string(out), "is how state is carried over on upgrades")
}

// apacheExample is the Apache operator's basic example with only its apiVersion
// changed, plus the fields whose schemas Flok keeps open (nested configuration, pod
// templates).
const apacheExample = `
apiVersion: flok.dev/v1beta1
kind: FlinkDeployment
metadata:
  name: basic-example
spec:
  image: flink:1.20
  flinkVersion: v1_20
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "2"
    high-availability:
      type: kubernetes
      storageDir: file:///flink-data/ha
  serviceAccount: flink
  podTemplate:
    spec:
      containers:
        - name: flink-main-container
          volumeMounts:
            - {name: flink-data, mountPath: /flink-data}
      volumes:
        - {name: flink-data, emptyDir: {}}
  jobManager:
    resource: {memory: "2048m", cpu: 1}
  taskManager:
    resource: {memory: "2048m", cpu: 0.5}
  job:
    jarURI: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism: 2
    upgradeMode: savepoint
    state: running
`

func TestApacheResourceIsAccepted(t *testing.T) {
	ns := cluster.Namespace(t)
	_, err := cluster.Kubectl(t.Context(), strings.NewReader(apacheExample), "-n", ns, "apply", "-f", "-")
	require.NoError(t, err)
	gvr := schema.GroupVersionResource{Group: "flok.dev", Version: "v1beta1", Resource: "flinkdeployments"}
	got, err := dynamic.NewForConfigOrDie(cluster.Config).Resource(gvr).Namespace(ns).Get(t.Context(), "basic-example", metav1.GetOptions{})
	require.NoError(t, err)
	storageDir, _, _ := unstructuredString(got.Object, "spec", "flinkConfiguration", "high-availability", "storageDir")
	require.Equal(t, "file:///flink-data/ha", storageDir, "nested configuration is kept")
	mount, _, _ := unstructuredString(got.Object, "spec", "podTemplate", "spec", "volumes")
	require.NotEmpty(t, mount, "the pod template is kept whole")
	replicas, _, _ := unstructuredString(got.Object, "spec", "jobManager", "replicas")
	require.Equal(t, "1", replicas, "jobManager.replicas defaults to 1")

	bad := strings.Replace(strings.Replace(apacheExample, "upgradeMode: savepoint", "upgradeMode: keep-it", 1), "basic-example", "bad", 1)
	out, err := cluster.Kubectl(t.Context(), strings.NewReader(bad), "-n", ns, "apply", "-f", "-")
	require.Error(t, err)
	require.Contains(t, string(out), `spec.job.upgradeMode: Unsupported value: "keep-it"`)
	require.Contains(t, string(out), `"stateless", "savepoint", "last-state"`)
}

// unstructuredString reads a nested field of any type as text.
func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if !found || err != nil {
		return "", found, err
	}
	return fmt.Sprint(v), true, nil
}

// TestAlertSampleIsAcceptedAndMistakesAreNamed applies config/samples/alerts.yaml,
// and sees a route naming an unknown kind of incident, a receiver of an unknown type
// and one without a Secret refused with the field and what would be right.
func TestAlertSampleIsAcceptedAndMistakesAreNamed(t *testing.T) {
	ns := cluster.Namespace(t)
	out, err := cluster.Kubectl(t.Context(), nil, "-n", ns, "apply", "-f", "../../config/samples/alerts.yaml")
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "alertroute.flok.dev/gold-pages created")

	bad := `
apiVersion: flok.dev/v1beta1
kind: AlertRoute
metadata: {name: typo}
spec: {receivers: [oncall-slack], incidents: [JobFailure], severities: [page]}
---
apiVersion: flok.dev/v1beta1
kind: AlertRoute
metadata: {name: chatty}
spec: {receivers: [a, a], repeatInterval: 5s}
---
apiVersion: flok.dev/v1beta1
kind: AlertReceiver
metadata: {name: pigeon}
spec: {type: carrier-pigeon, secretRef: {name: coop}}
---
apiVersion: flok.dev/v1beta1
kind: AlertReceiver
metadata: {name: nowhere}
spec: {type: webhook}
`
	out, err = cluster.Kubectl(t.Context(), strings.NewReader(bad), "-n", ns, "apply", "-f", "-")
	require.Error(t, err)
	for _, want := range []string{
		`spec.incidents[0]: Unsupported value: "JobFailure": supported values: "JobFailed"`,
		`spec.severities[0]: Unsupported value: "page": supported values: "critical", "warning"`,
		`spec.type: Unsupported value: "carrier-pigeon": supported values: "webhook", "slack", "pagerduty", "email", "dingtalk", "wecom", "lark", "teams"`,
		`spec.secretRef: Required value`,
		`spec.repeatInterval: Invalid value: "5s": must be a duration of a minute or more, like 30m or 4h`,
		`spec.receivers[1]: Duplicate value: "a"`,
	} {
		require.Contains(t, string(out), want)
	}
}
