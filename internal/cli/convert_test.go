package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// apacheBasic is the Apache operator's basic example.
const apacheBasic = `apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: basic-example
spec:
  image: flink:1.20
  flinkVersion: v1_20
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "2"
  serviceAccount: flink
  jobManager:
    resource:
      memory: "2048m"
      cpu: 1
  taskManager:
    resource:
      memory: "2048m"
      cpu: 1
  job:
    jarURI: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism: 2
    upgradeMode: stateless
status:
  lifecycleState: STABLE
---
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata:
  name: basic-session-job-example
spec:
  deploymentName: basic-session-deployment-example
  job:
    jarURI: https://repo1.maven.org/maven2/org/apache/flink/flink-examples-streaming_2.12/1.16.1/flink-examples-streaming_2.12-1.16.1-TopSpeedWindowing.jar
    parallelism: 4
    upgradeMode: stateless
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: untouched
`

func TestConvert(t *testing.T) {
	out, err := Convert([]byte(apacheBasic))
	require.NoError(t, err)
	golden(t, "convert-basic", out)

	_, err = Convert([]byte("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: x}\nspec: {jobManagr: {}}\n"))
	require.ErrorContains(t, err, `unknown field "spec.jobManagr"`)
	_, err = Convert([]byte("apiVersion: flink.apache.org/v1beta1\nkind: FlinkBlueGreenDeployment\nmetadata: {name: x}\n"))
	require.ErrorContains(t, err, "has no Flok counterpart")
}

func TestInstallObjects(t *testing.T) {
	objs, err := InstallObjects()
	require.NoError(t, err)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
	}
	require.Equal(t, "CustomResourceDefinition/flinkdeployments.flok.dev", kinds[0])
	require.Contains(t, kinds, "Namespace/flok-system")
	require.Contains(t, kinds, "ClusterRole/flok-operator")
	require.Equal(t, "Deployment/flok-operator", kinds[len(kinds)-1])
	ns := -1
	for i, k := range kinds {
		if k == "Namespace/flok-system" {
			ns = i
		}
		if k == "ServiceAccount/flok-operator" {
			require.Less(t, ns, i, "the namespace is applied before what lives in it")
		}
	}
}
