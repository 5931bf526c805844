// Package admission tests flok-operator's admission webhook on a real API server:
// bad resources and changes are refused at kubectl apply with the field path and
// what would be right, and the webhook's certificate and CA rotate without a refused
// request. The operator runs in this process, out of cluster, and the webhook
// configuration names it by URL on loopback, as a Service would in cluster.
package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/config"
	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/operator"
	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/localk8s"
)

var cluster *localk8s.Cluster

func TestMain(m *testing.M) {
	localk8s.Main(m, localk8s.Options{CRDs: []string{"../../config/crd"}}, &cluster)
}

const (
	namespace     = "jobs"
	operatorNS    = "flok-system"
	caSecret      = "flok-webhook-ca"
	webhookConfig = "flok"
	// Short lives, so that the test sees serving certificates renewed and a CA
	// replaced: renewals every 6 s, a new CA trusted at 20 s and signing at 22 s.
	caValidity, certValidity, trustDelay = 30 * time.Second, 9 * time.Second, 2 * time.Second
)

// TestWebhook starts the operator with its webhook, registers the webhook, and
// checks refusals, then rotation under a steady stream of requests.
func TestWebhook(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	for _, ns := range []string{namespace, operatorNS} {
		require.NoError(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	ports, err := hostnet.FreePorts(1)
	require.NoError(t, err)
	address := fmt.Sprintf("127.0.0.1:%d", ports[0])
	startOperator(t, address)
	require.NoError(t, c.Create(ctx, webhookConfiguration(address)))
	waitForWebhook(t, c)

	t.Run("refusals", func(t *testing.T) { testRefusals(t, c) })
	t.Run("snapshots", func(t *testing.T) { testSnapshots(t, c) })
	t.Run("rotation", func(t *testing.T) { testRotation(t, c, address) })
}

func testRefusals(t *testing.T, c client.Client) {
	ctx := t.Context()
	// kubectl apply of a deployment whose job has no jar: refused with the path.
	bad := sample(t, "flinkdeployment-native.yaml")
	bad.Spec.Job.JarURI = ""
	out, err := cluster.Kubectl(ctx, bytes.NewReader(toYAML(t, bad)), "apply", "-n", namespace, "-f", "-")
	require.Error(t, err)
	require.Contains(t, string(out), `The FlinkDeployment "top-speed" is invalid: spec.job.jarURI: Required value: the job's jar`)
	require.Contains(t, string(out), "spec.job.jarURI")

	// A valid one is taken; it may not drop its job and become a session cluster.
	app := sample(t, "flinkdeployment-native.yaml")
	require.NoError(t, c.Create(ctx, app))
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(app), app); err != nil {
			return err
		}
		app.Spec.Job = nil
		return c.Update(ctx, app)
	})
	require.ErrorContains(t, err, "spec.job: Forbidden: an application cluster cannot become a session cluster")

	// A wrong operator option: refused with its key and the form it wants.
	app = sample(t, "flinkdeployment-native.yaml")
	app.Name = "wrong-option"
	app.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(`{"kubernetes.operator.reconcile.interval": "soon"}`)}
	require.ErrorContains(t, c.Create(ctx, app), "kubernetes.operator.reconcile.interval")

	// A session job may not move to another session; the session may not go while
	// the job uses it.
	session := sample(t, "flinkdeployment-session-native.yaml")
	require.NoError(t, c.Create(ctx, session))
	job := &v1beta1.FlinkSessionJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "orders"},
		Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: session.Name, Job: &v1beta1.JobSpec{
			JarURI: "https://127.0.0.1:1/job.jar", Parallelism: 1, UpgradeMode: v1beta1.UpgradeModeStateless,
		}},
	}
	require.NoError(t, c.Create(ctx, job))
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(job), job); err != nil {
			return err
		}
		job.Spec.DeploymentName = "another-session"
		return c.Update(ctx, job)
	})
	require.ErrorContains(t, err, "spec.deploymentName: Forbidden: a session job cannot move to another session cluster")
	localJar := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "local-jar"}, Spec: job.Spec}
	localJar.Spec.DeploymentName = session.Name
	localJar.Spec.Job = &v1beta1.JobSpec{JarURI: "local:///opt/flink/job.jar"}
	require.ErrorContains(t, c.Create(ctx, localJar), "spec.job.jarURI: Invalid value")
	// The session job reaches the cache of the webhook's operator, then the delete
	// of its session is refused.
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Delete(ctx, session, client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "still runs the FlinkSessionJobs orders"), nil
	}), "deleting the session cluster is refused while a session job uses it")
	forced := session.DeepCopy()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(session), forced); err != nil {
			return err
		}
		forced.Annotations = map[string]string{v1beta1.ForceDeletionAnnotation: "true"}
		return c.Update(ctx, forced)
	}))
	require.NoError(t, c.Delete(ctx, forced, client.DryRunAll), "the force-deletion annotation lets it go")
}

// testSnapshots: a FlinkStateSnapshot that names no savepoint to register is refused;
// one of a job that does not run is ABANDONED by the controller; what it is cannot
// change, whether its files go with it can; deleted, it goes.
func testSnapshots(t *testing.T, c client.Client) {
	ctx := t.Context()
	registered := &v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "registered"},
		Spec:       v1beta1.FlinkStateSnapshotSpec{Savepoint: &v1beta1.SavepointSpec{AlreadyExists: true}},
	}
	require.ErrorContains(t, c.Create(ctx, registered), "spec.savepoint.path: Required value: alreadyExists registers the savepoint at this path")

	snap := &v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "of-top-speed"},
		Spec: v1beta1.FlinkStateSnapshotSpec{
			JobReference: &v1beta1.JobReference{Kind: v1beta1.KindFlinkDeployment, Name: "top-speed"},
			Savepoint:    &v1beta1.SavepointSpec{},
		},
	}
	require.NoError(t, c.Create(ctx, snap))
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(snap), snap)
		return err == nil && snap.Status.State == v1beta1.SnapshotAbandoned, err
	}), "the snapshot of a job that does not run is abandoned")
	require.Equal(t, "FlinkDeployment top-speed has not started its job yet", snap.Status.Error)

	change := func(edit func(*v1beta1.FlinkStateSnapshot)) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(snap), snap); err != nil {
				return err
			}
			edit(snap)
			return c.Update(ctx, snap)
		})
	}
	require.ErrorContains(t, change(func(s *v1beta1.FlinkStateSnapshot) { s.Spec.JobReference.Name = "another" }),
		"spec: Forbidden: a FlinkStateSnapshot's job, kind, path and format cannot change once it exists")
	require.NoError(t, change(func(s *v1beta1.FlinkStateSnapshot) { s.Spec.Savepoint.DisposeOnDelete = ptr.To(false) }))
	require.NoError(t, c.Delete(ctx, snap))
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(snap), snap)), nil
	}), "the deleted snapshot goes")
}

// testRotation sends a request through the webhook every 50 ms while its serving
// certificate is renewed and its CA replaced: none may fail.
func testRotation(t *testing.T, c client.Client, address string) {
	ctx := t.Context()
	firstCA := caOf(t, c)
	seen := map[string]bool{}
	deadline := time.Now().Add(caValidity)
	requests, refused := 0, []string{}
	for time.Now().Before(deadline) {
		fd := sample(t, "flinkdeployment-native.yaml")
		fd.Name = fmt.Sprintf("dry-run-%d", requests)
		if err := c.Create(ctx, fd, client.DryRunAll); err != nil {
			refused = append(refused, err.Error())
		}
		bad := fd.DeepCopy()
		bad.Spec.Job.JarURI = ""
		if err := c.Create(ctx, bad, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "denied the request") {
			refused = append(refused, fmt.Sprintf("a bad deployment was not refused by the webhook: %v", err))
		}
		requests++
		seen[servedCertificate(t, address)] = true
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d requests through the webhook, %d serving certificates seen", 2*requests, len(seen))
	require.Empty(t, refused, "requests failed while certificates rotated (%d sent)", requests)
	require.GreaterOrEqual(t, len(seen), 4, "the serving certificate was renewed (every 6 s over 30 s)")
	require.LessOrEqual(t, len(seen), 8, "and only when due: after two thirds of its life, or when a new CA signs")
	require.NotEqual(t, firstCA, caOf(t, c), "the CA was replaced")
}

func startOperator(t *testing.T, address string) {
	ctrl.SetLogger(logr.Discard())
	opts := operator.DefaultOptions()
	opts.Namespaces = []string{namespace}
	opts.MetricsAddr, opts.ProbeAddr, opts.FlinkAccess = "0", "0", "proxy"
	opts.Webhook.BindAddress, opts.Webhook.CertHosts, opts.Webhook.Namespace = address, []string{"127.0.0.1"}, operatorNS
	opts.Webhook.CAValidity, opts.Webhook.CertValidity, opts.Webhook.CATrustDelay = caValidity, certValidity, trustDelay
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- operator.Run(ctx, cluster.Config, opts, round.Hooks{}) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// webhookConfiguration registers the webhook at address, as the installed
// manifests register the webhook Service; the operator fills in the CA bundle.
func webhookConfiguration(address string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	hook := func(name, resource string, ops ...admissionregistrationv1.OperationType) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name:                    name,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://" + address + "/validate-flok-dev-v1beta1-" + strings.TrimSuffix(resource, "s"))},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{"flok.dev"}, APIVersions: []string{"v1beta1"}, Resources: []string{resource}}}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](5),
		}
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: webhookConfig},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			hook("flinkdeployments.flok.dev", "flinkdeployments", admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete),
			hook("flinksessionjobs.flok.dev", "flinksessionjobs", admissionregistrationv1.Create, admissionregistrationv1.Update),
			hook("flinkstatesnapshots.flok.dev", "flinkstatesnapshots", admissionregistrationv1.Create, admissionregistrationv1.Update),
		},
	}
}

// waitForWebhook waits until the API server calls the webhook: the CA bundle is
// patched in and a bad deployment is refused.
func waitForWebhook(t *testing.T, c client.Client) {
	bad := sample(t, "flinkdeployment-native.yaml")
	bad.Spec.Job.JarURI = ""
	require.NoError(t, wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.Create(ctx, bad.DeepCopy(), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "denied the request"), nil
	}), "the webhook answering")
}

func caOf(t *testing.T, c client.Client) string {
	secret := &corev1.Secret{}
	require.NoError(t, c.Get(t.Context(), client.ObjectKey{Namespace: operatorNS, Name: caSecret}, secret))
	return string(secret.Data["ca.crt"])
}

// servedCertificate is the serial number of the certificate the webhook serves now.
func servedCertificate(t *testing.T, address string) string {
	conn, err := tls.Dial("tcp", address, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only reads the certificate
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func sample(t *testing.T, file string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd, err := config.SampleDeployment(file)
	require.NoError(t, err)
	fd.Namespace = namespace
	return fd
}

func toYAML(t *testing.T, obj client.Object) []byte {
	obj.GetObjectKind().SetGroupVersionKind(v1beta1.GroupVersion.WithKind("FlinkDeployment"))
	data, err := yaml.Marshal(obj)
	require.NoError(t, err)
	return data
}

func newClient(t *testing.T) client.Client {
	scheme := runtime.NewScheme()
	require.NoError(t, corev1.AddToScheme(scheme))
	require.NoError(t, admissionregistrationv1.AddToScheme(scheme))
	require.NoError(t, v1beta1.AddToScheme(scheme))
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}
