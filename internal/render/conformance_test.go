package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// nativeReference is where the process node's tests record the objects Flink's own
// client creates for `flink run --target kubernetes-application` (test/procnode,
// -update), for the same application that conformanceDeployment describes.
const nativeReference = "../../test/procnode/testdata/native"

// clientOnlyReferenceKeys are options Flink's client writes that describe its own
// invocation (attached mode, empty lists, its laptop REST address, the defaults of the
// restore options) rather than the cluster; Flok's configuration leaves them out. See
// docs/compatibility.md.
var clientOnlyReferenceKeys = []string{
	"execution.attached",
	"execution.shutdown-on-attached-exit",
	"execution.state-recovery.claim-mode",
	"execution.state-recovery.ignore-unclaimed-state",
	"rest.address",
	"pipeline.classpaths",
	"$internal.application.program-args",
}

// conformanceDeployment renders the application test/procnode deploys with Flink's
// client as cluster name, with more YAML documents layered over it.
func conformanceDeployment(t *testing.T, version, name string, more ...string) *Objects {
	t.Helper()
	fd := deploymentFrom(t, append([]string{fmt.Sprintf(`
metadata:
  name: %s
  namespace: NAMESPACE
spec:
  image: flink:%s
  flinkVersion: v%s
  serviceAccount: flink
  flinkConfiguration:
    execution.checkpointing.interval: 2s
  job:
    jarURI: local:///opt/flink/examples/streaming/TopSpeedWindowing.jar
`, name, version, map[string]string{"1.20": "1_20", "2.3": "2_3"}[version])}, more...)...)
	objs, err := Render(Input{Deployment: fd})
	require.NoError(t, err)
	return objs
}

func readReference[T any](t *testing.T, version, file string) *T {
	t.Helper()
	return readReferenceIn[T](t, nativeReference, version, file)
}

// readReferenceIn reads an object test/procnode recorded under dir/version.
func readReferenceIn[T any](t *testing.T, dir, version, file string) *T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, version, file))
	require.NoError(t, err)
	obj := new(T)
	require.NoError(t, yaml.Unmarshal(data, obj))
	return obj
}

// TestConformsToFlinkNativeClient compares what Flok renders for an application with
// what Flink's own client created for it on the local cluster: names, labels,
// selectors, the main container's command, args, ports, env, resources and mounts,
// the Services' ports, and every configuration option.
func TestConformsToFlinkNativeClient(t *testing.T) {
	for _, version := range []string{"1.20", "2.3"} {
		t.Run(version, func(t *testing.T) {
			objs := conformanceDeployment(t, version, "tsw")

			refDeploy := readReference[appsv1.Deployment](t, version, "Deployment-tsw.yaml")
			require.Equal(t, refDeploy.Name, objs.JobManager.Name)
			require.Equal(t, refDeploy.Spec.Selector, objs.JobManager.Spec.Selector)
			require.Subset(t, objs.JobManager.Labels, refDeploy.Labels)
			require.Equal(t, refDeploy.Spec.Template.Labels, objs.JobManager.Spec.Template.Labels)
			refPod, pod := refDeploy.Spec.Template.Spec, objs.JobManager.Spec.Template.Spec
			require.Equal(t, refPod.ServiceAccountName, pod.ServiceAccountName)
			require.Equal(t, refPod.DeprecatedServiceAccount, pod.DeprecatedServiceAccount)
			require.Len(t, pod.Containers, 1)
			ref, got := refPod.Containers[0], pod.Containers[0]
			require.Equal(t, ref.Name, got.Name)
			require.Equal(t, ref.Image, got.Image)
			require.Equal(t, ref.ImagePullPolicy, got.ImagePullPolicy)
			require.Equal(t, ref.Command, got.Command)
			require.Equal(t, ref.Args, got.Args)
			require.Equal(t, ref.Ports, withoutMetricsPort(got.Ports), "Flink's ports (the metrics port is Flok's)")
			require.Equal(t, ref.Env, got.Env)
			require.True(t, ref.Resources.Requests.Memory().Equal(*got.Resources.Requests.Memory()))
			require.True(t, ref.Resources.Limits.Memory().Equal(*got.Resources.Limits.Memory()))
			require.True(t, ref.Resources.Requests.Cpu().Equal(*got.Resources.Requests.Cpu()))
			// The TaskManagers' template (it declares the metrics port) is mounted as
			// Flink's client mounts one it is given.
			require.Equal(t, mountPaths(ref.VolumeMounts), slices.DeleteFunc(mountPaths(got.VolumeMounts), func(p string) bool { return p == podTemplateDir }))

			for file, svc := range map[string]*corev1.Service{"Service-tsw.yaml": objs.InternalService, "Service-tsw-rest.yaml": objs.RESTService} {
				refSvc := readReference[corev1.Service](t, version, file)
				require.Equal(t, refSvc.Name, svc.Name)
				require.Subset(t, svc.Labels, refSvc.Labels)
				require.Equal(t, refSvc.Spec.Selector, svc.Spec.Selector)
				require.Equal(t, refSvc.Spec.Ports, svc.Spec.Ports)
				require.Equal(t, refSvc.Spec.Type, svc.Spec.Type)
			}

			refCM := readReference[corev1.ConfigMap](t, version, "ConfigMap-flink-config-tsw.yaml")
			require.Equal(t, refCM.Name, objs.Config.Name)
			refConf, err := flinkconf.Parse([]byte(refCM.Data["config.yaml"]))
			require.NoError(t, err)
			conf, err := flinkconf.Parse([]byte(objs.Config.Data["config.yaml"]))
			require.NoError(t, err)
			for key, want := range refConf {
				if slices.Contains(clientOnlyReferenceKeys, key) {
					continue
				}
				require.Contains(t, conf, key, "Flink's client sets %s", key)
				require.Equal(t, want, conf[key], "option %s", key)
			}
		})
	}
}

func withoutMetricsPort(ports []corev1.ContainerPort) []corev1.ContainerPort {
	return slices.DeleteFunc(slices.Clone(ports), func(p corev1.ContainerPort) bool { return p.Name == MetricsPortName })
}

func mountPaths(mounts []corev1.VolumeMount) []string {
	var out []string
	for _, m := range mounts {
		out = append(out, m.MountPath)
	}
	slices.Sort(out)
	return out
}
