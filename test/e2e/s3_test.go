package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/s3server"
)

// wrongSecretKey is the secret key of the store's refused credentials.
const wrongSecretKey = "e2e-wr0ng-s3-secret-never-shown"

// exampleJarKey is where the stores keep the release's TopSpeedWindowing jar, in
// bucket jobs.
const exampleJarKey = "examples/TopSpeedWindowing.jar"

// s3Store is an S3-compatible store on the operator's side (loopback) holding the
// release's example jar.
type s3Store struct {
	*s3server.Server
	// sha256 is the jar's digest.
	sha256 string
}

// exampleJar is the release's TopSpeedWindowing jar.
func exampleJar(t *testing.T, release flinkdist.Release) []byte {
	t.Helper()
	home, err := flinkdist.Provision(t.Context(), release)
	require.NoError(t, err)
	jar, err := os.ReadFile(home.ExampleJar(flinkdist.TopSpeedWindowing))
	require.NoError(t, err)
	return jar
}

// jarStore starts a real S3-compatible store on loopback holding the release's
// example jar as s3://jobs/examples/TopSpeedWindowing.jar, and Secrets in ns with its
// credentials (s3-credentials) and with a wrong secret key (s3-wrong-credentials).
func jarStore(t *testing.T, ns string, c client.Client, release flinkdist.Release) s3Store {
	t.Helper()
	jar := exampleJar(t, release)
	store := s3Store{Server: s3server.Start(t)}
	store.Put(t, "jobs", exampleJarKey, jar)
	sum := sha256.Sum256(jar)
	store.sha256 = hex.EncodeToString(sum[:])
	createCredentials(t, c, ns, "s3-credentials", store.AccessKeyID, store.SecretAccessKey)
	createCredentials(t, c, ns, "s3-wrong-credentials", store.AccessKeyID, wrongSecretKey)
	return store
}

// createCredentials creates a Secret with an access key under the keys a JobArtifact's
// credentials Secret has.
func createCredentials(t *testing.T, c client.Client, ns, name, accessKeyID, secretAccessKey string) {
	t.Helper()
	require.NoError(t, c.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data: map[string][]byte{v1beta1.CredentialsAccessKeyID: []byte(accessKeyID), v1beta1.CredentialsSecretAccessKey: []byte(secretAccessKey)}}))
}

// s3SessionJob is a job of session "shared" whose jar is key in the store's bucket
// jobs, fetched with the credentials of Secret secret and checked against digest
// (unless empty); the store is named with Flink's own s3.* options.
func s3SessionJob(t *testing.T, ns, name string, store s3Store, key, digest, secret string) *v1beta1.FlinkSessionJob {
	t.Helper()
	sj := sessionJob(t, ns, name, "shared", "s3://jobs/"+key)
	sj.Spec.Job.Artifact = &v1beta1.JobArtifact{SHA256: digest, CredentialsSecret: secret}
	conf, err := json.Marshal(map[string]string{"s3.endpoint": store.Endpoint, "s3.path.style.access": "true"})
	require.NoError(t, err)
	sj.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: conf}
	return sj
}

// clusterJarStore runs a store holding the release's example jar as a Pod of ns
// behind Service s3 (port 7070), where JobManagers reach it: the gateway's binary and
// the store's directory come from this machine by hostPath (the jar put there through
// the S3 API of the same gateway on loopback, so that it has the ETag Hadoop's S3
// client asks for); its credentials from Secret s3-cluster-credentials, whose secret
// key it returns.
func clusterJarStore(t *testing.T, ns string, c client.Client, release flinkdist.Release) string {
	t.Helper()
	ctx := t.Context()
	bin, err := s3server.Binary(ctx)
	require.NoError(t, err)
	store := s3server.Start(t)
	store.Put(t, "jobs", exampleJarKey, exampleJar(t, release))
	createCredentials(t, c, ns, "s3-cluster-credentials", store.AccessKeyID, store.SecretAccessKey)
	fromSecret := func(env, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s3-cluster-credentials"}, Key: key}}}
	}
	labels := map[string]string{"app": "s3"}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3", Labels: labels},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "s3", Image: "flink:" + release.MinorVersion(),
				Command: []string{"/gateway/" + filepath.Base(bin), "--port", ":7070", "--quiet", "posix", "/data"},
				Env: []corev1.EnvVar{
					fromSecret("ROOT_ACCESS_KEY_ID", v1beta1.CredentialsAccessKeyID), fromSecret("ROOT_SECRET_ACCESS_KEY", v1beta1.CredentialsSecretAccessKey),
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "gateway", MountPath: "/gateway", ReadOnly: true}, {Name: "data", MountPath: "/data"}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(7070)}},
					PeriodSeconds: 1},
			}},
			Volumes: []corev1.Volume{
				{Name: "gateway", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Dir(bin), Type: ptr.To(corev1.HostPathDirectory)}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: store.Dir, Type: ptr.To(corev1.HostPathDirectory)}}},
			},
		},
	}
	require.NoError(t, c.Create(ctx, pod))
	require.NoError(t, c.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3"},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "s3", Port: 7070, TargetPort: intstr.FromInt32(7070)}}},
	}))
	flinktest.WaitFor(t, 2*time.Minute, "the store's Pod ready", func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false, err
		}
		for _, cond := range pod.Status.Conditions {
			if cond.Type == corev1.PodReady {
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	return store.SecretAccessKey
}

// fromClusterJarStore makes fd's job fetch its jar from clusterJarStore, as Flink
// does at start: with the S3 plugin turned on in the JobManager, the store named by
// Flink's s3.* options and the credentials of its Secret.
func fromClusterJarStore(t *testing.T, fd *v1beta1.FlinkDeployment, release flinkdist.Release) {
	t.Helper()
	fd.Spec.Job.JarURI = "s3://jobs/" + exampleJarKey
	fd.Spec.Job.Artifact = &v1beta1.JobArtifact{CredentialsSecret: "s3-cluster-credentials"}
	withOptions(t, fd, map[string]string{
		"s3.endpoint": "http://s3:7070", "s3.path.style.access": "true", "fs.s3a.endpoint.region": s3server.Region,
		"containerized.master.env.ENABLE_BUILT_IN_PLUGINS": release.S3Plugin(),
	})
}
