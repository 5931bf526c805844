package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
)

// degradedFor waits for a Degraded condition whose message names path and for a
// Warning event that says the same.
func degradedFor(t *testing.T, c client.Client, ns, name, path string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd := waitForDeployment(t, c, ns, name, 2*time.Minute, "a Degraded condition naming "+path, func(fd *v1beta1.FlinkDeployment) bool {
		cond := meta.FindStatusCondition(fd.Status.Conditions, "Degraded")
		return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == "InvalidSpec" && strings.Contains(cond.Message, path)
	})
	warningEvent(t, ns, name, "InvalidSpec", path)
	return fd
}

// warningEvent waits for a Warning event of the object name with reason whose note
// contains text.
func warningEvent(t *testing.T, ns, name, reason, text string) {
	t.Helper()
	waitForEvent(t, ns, name, "a Warning event "+reason+" naming "+text, func(e eventsv1.Event) bool {
		return e.Type == "Warning" && e.Reason == reason && strings.Contains(e.Note, text)
	})
}

// TestInvalidSpec: a new spec the operator cannot deploy gets a condition and an event
// naming the field and what would be right, and nothing is deployed; deleted with its
// incident open, whoever was told hears that it ended. Alerting configured wrong is
// named as well. (A running job and
// a bad change — the last valid spec keeps running — is proven by TestRollback.)
func TestInvalidSpec(t *testing.T) {
	t.Parallel()
	release := flinkdist.Flink2
	ns, c := operatorTest(t, release)
	ctx := t.Context()
	startOperator(t, ns, "")

	noJar := topSpeedWindowing(t, ns, "no-jar", "native", release, flinktest.StateDir(t, cluster, ns))
	noJar.Spec.Job.JarURI = ""
	require.NoError(t, c.Create(ctx, noJar))
	fd := degradedFor(t, c, ns, "no-jar", "spec.job.jarURI")
	require.Contains(t, meta.FindStatusCondition(fd.Status.Conditions, "Degraded").Message, "local:///opt/flink/usrlib/job.jar")

	noHA := topSpeedWindowing(t, ns, "no-ha", "native", release, flinktest.StateDir(t, cluster, ns))
	noHA.Spec.JobManager = &v1beta1.JobManagerSpec{Replicas: 2}
	require.NoError(t, c.Create(ctx, noHA))
	fd = degradedFor(t, c, ns, "no-ha", "spec.jobManager.replicas")
	require.Contains(t, meta.FindStatusCondition(fd.Status.Conditions, "Degraded").Message, "high-availability.type: kubernetes")
	deployments, err := cluster.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, deployments.Items, "nothing deployed for invalid specs")
	proveDeletedIncidentEnds(t, c, noJar)

	// Alerting configured wrong: a receiver without its Secret, a route naming a
	// receiver that does not exist.
	require.NoError(t, c.Create(ctx, &v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chat"},
		Spec: v1beta1.AlertReceiverSpec{Type: v1beta1.ReceiverSlack, SecretRef: v1beta1.SecretReference{Name: "slack-hook"}}}))
	require.NoError(t, c.Create(ctx, &v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "misrouted"},
		Spec: v1beta1.AlertRouteSpec{Receivers: []string{"chat", "pager"}}}))
	configMistake(t, c, &v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chat"}}, "SecretValid", "InvalidSecret",
		"spec.secretRef.name: Secret slack-hook does not exist in namespace "+ns)
	configMistake(t, c, &v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "misrouted"}}, "Ready", "ReceiverNotFound",
		"spec.receivers[1]: AlertReceiver pager does not exist in namespace "+ns)
}

// configMistake waits for obj's condition to be False for reason with a message that
// names the field, and for a Warning event saying the same.
func configMistake(t *testing.T, c client.Client, obj client.Object, condition, reason, message string) {
	t.Helper()
	alertConditionFalse(t, c, obj, time.Minute, condition, reason, message)
	warningEvent(t, obj.GetNamespace(), obj.GetName(), reason, message)
}

// alertConditionFalse waits for the condition of an AlertReceiver or AlertRoute to be
// False for reason, its message containing message.
func alertConditionFalse(t *testing.T, c client.Client, obj client.Object, timeout time.Duration, condition, reason, message string) {
	t.Helper()
	conditions := func() []metav1.Condition {
		switch o := obj.(type) {
		case *v1beta1.AlertReceiver:
			return o.Status.Conditions
		case *v1beta1.AlertRoute:
			return o.Status.Conditions
		}
		return nil
	}
	flinktest.WaitFor(t, timeout, obj.GetName()+" "+condition+" False, "+reason, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, nil
		}
		cond := meta.FindStatusCondition(conditions(), condition)
		return cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == reason && strings.Contains(cond.Message, message), nil
	})
}

// proveBadChangeKeepsJob changes a running deployment to a spec that cannot be deployed:
// a condition and an event name the field, and the job of the last valid spec keeps
// running, its generation not observed.
func proveBadChangeKeepsJob(t *testing.T, c client.Client, running *v1beta1.FlinkDeployment) {
	t.Helper()
	ns, name := running.Namespace, running.Name
	jobID := running.Status.JobStatus.JobID
	update(t, c, running, func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.JobManager = &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{Memory: "2 zb"}}
	})
	fd := degradedFor(t, c, ns, name, "spec.jobManager.resource.memory")
	require.Contains(t, meta.FindStatusCondition(fd.Status.Conditions, "Degraded").Message, "unknown unit")
	fd = waitForDeployment(t, c, ns, name, time.Minute, "the old job still running", stableWith(""))
	require.Equal(t, jobID, fd.Status.JobStatus.JobID)
	require.Less(t, fd.Status.ObservedGeneration, fd.Generation, "the invalid generation is not observed")
}
