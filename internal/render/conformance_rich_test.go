package render

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// richReference is where test/procnode records what Flink's own client creates for the
// application with testdata/rich-pod-template.yaml (TestFlinkNativeRichTemplate).
const richReference = "../../test/procnode/testdata/native-rich"

// TestConformsWithRichPodTemplate renders the application of the rich pod template —
// init container, sidecar, shared volume, env from a Secret, host aliases, pull
// secrets, node selector, affinity, tolerations, security contexts — and compares the
// JobManager's Pod template and the TaskManagers' pod template field by field with
// what Flink's own client made of the same template. (The API server's defaults, which
// the recorded objects carry, are left out of the comparison; the main container's
// place among the containers differs on purpose: docs/compatibility.md.)
func TestConformsWithRichPodTemplate(t *testing.T) {
	for _, version := range []string{"1.20", "2.3"} {
		t.Run(version, func(t *testing.T) {
			template, err := os.ReadFile("../../test/procnode/testdata/rich-pod-template.yaml")
			require.NoError(t, err)
			template = bytes.ReplaceAll(template, []byte("FLINK_IMAGE"), []byte("flink:"+version))
			var podTemplate map[string]any
			require.NoError(t, yaml.Unmarshal(template, &podTemplate))
			spec, err := yaml.Marshal(map[string]any{"spec": map[string]any{"podTemplate": podTemplate}})
			require.NoError(t, err)
			objs := conformanceDeployment(t, version, "rich", string(spec))

			ref := readReferenceIn[appsv1.Deployment](t, richReference, version, "Deployment-rich.yaml").Spec.Template
			got := objs.JobManager.Spec.Template
			require.Equal(t, ref.Labels, got.Labels)
			require.Subset(t, got.Annotations, ref.Annotations)
			requireSamePodFields(t, ref.Spec, got.Spec, "the JobManager")

			refTM := readReferenceIn[corev1.Pod](t, richReference, version, "Pod-taskmanager.yaml")
			tm := &corev1.Pod{}
			require.NoError(t, yaml.Unmarshal([]byte(objs.TaskManagerPodTemplate.Data[tmTemplateFile]), tm))
			require.Subset(t, refTM.Labels, tm.Labels, "Flink adds its own labels to the template's")
			require.Subset(t, refTM.Annotations, tm.Annotations)
			requireSamePodFields(t, refTM.Spec, tm.Spec, "the TaskManagers")
		})
	}
}

// requireSamePodFields compares what a pod template decides of a Pod.
func requireSamePodFields(t *testing.T, ref, got corev1.PodSpec, whose string) {
	t.Helper()
	require.Equal(t, ref.Affinity, got.Affinity, whose)
	require.Equal(t, ref.NodeSelector, got.NodeSelector, whose)
	require.Equal(t, withoutDefaultTolerations(ref.Tolerations), got.Tolerations, whose)
	require.Equal(t, ref.HostAliases, got.HostAliases, whose)
	require.Equal(t, ref.ImagePullSecrets, got.ImagePullSecrets, whose)
	require.Equal(t, ref.SecurityContext, got.SecurityContext, whose)
	require.Equal(t, withoutAPIDefaults(ref.InitContainers), withoutAPIDefaults(got.InitContainers), whose)
	require.Equal(t, withoutAPIDefaults(containerNamed(ref.Containers, "sidecar")), withoutAPIDefaults(containerNamed(got.Containers, "sidecar")), whose)
	refMain, main := containerNamed(ref.Containers, mainContainerName), containerNamed(got.Containers, mainContainerName)
	require.Len(t, main, 1, whose)
	require.Len(t, refMain, 1, whose)
	if main[0].Args != nil { // Flok's JobManager container, complete
		require.Equal(t, refMain[0].Env, main[0].Env, whose)
	} else { // the TaskManagers' template, to which Flink adds its own
		require.Subset(t, refMain[0].Env, main[0].Env, whose)
	}
	require.Equal(t, refMain[0].SecurityContext, main[0].SecurityContext, whose)
	require.Subset(t, refMain[0].VolumeMounts, []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}, whose)
	require.Subset(t, main[0].VolumeMounts, []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}, whose)
	require.Equal(t, volumeNamed(ref.Volumes, "shared"), volumeNamed(got.Volumes, "shared"), whose)
}

func containerNamed(cs []corev1.Container, name string) []corev1.Container {
	return slices.DeleteFunc(slices.Clone(cs), func(c corev1.Container) bool { return c.Name != name })
}

func volumeNamed(vs []corev1.Volume, name string) []corev1.Volume {
	return slices.DeleteFunc(slices.Clone(vs), func(v corev1.Volume) bool { return v.Name != name })
}

// withoutDefaultTolerations drops the tolerations the API server's
// DefaultTolerationSeconds admission adds to every Pod it stores.
func withoutDefaultTolerations(ts []corev1.Toleration) []corev1.Toleration {
	return slices.DeleteFunc(slices.Clone(ts), func(t corev1.Toleration) bool {
		return (t.Key == "node.kubernetes.io/not-ready" || t.Key == "node.kubernetes.io/unreachable") && t.TolerationSeconds != nil && *t.TolerationSeconds == 300
	})
}

// withoutAPIDefaults drops what the API server fills into containers it stores: its
// defaults, and the service account token's mount of a Pod.
func withoutAPIDefaults(cs []corev1.Container) []corev1.Container {
	out := slices.Clone(cs)
	for i := range out {
		out[i].TerminationMessagePath, out[i].TerminationMessagePolicy, out[i].ImagePullPolicy = "", "", ""
		out[i].VolumeMounts = slices.DeleteFunc(slices.Clone(out[i].VolumeMounts), func(m corev1.VolumeMount) bool {
			return strings.HasPrefix(m.Name, "kube-api-access-")
		})
	}
	return out
}
