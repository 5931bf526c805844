package console

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/lifecycle"
)

// Row is one FlinkDeployment or FlinkSessionJob on the overview: `flok list`'s summary
// and what a page needs to put the ones in trouble first.
type Row struct {
	cli.Summary
	// Resource is the kind as the console's URLs name it: flinkdeployment or flinksessionjob.
	Resource string `json:"resource"`
	// JobStarted is when the running job started (uptime), if it runs.
	JobStarted *time.Time `json:"jobStarted,omitempty"`
	// LastCheckpoint is when the newest checkpoint Flok recorded completed.
	LastCheckpoint *time.Time `json:"lastCheckpoint,omitempty"`
	// Operation is the change under way and its step ("Upgrade, Snapshotting").
	Operation string `json:"operation,omitempty"`
	// Problem says what is wrong, when something is: a failed job, a Degraded or not
	// Ready condition, the last error. Rows with one come first.
	Problem string `json:"problem,omitempty"`
	// ResourceVersion changes whenever the resource does (pages refresh on it).
	ResourceVersion string `json:"resourceVersion"`
}

// Resource kinds as the console's URLs and rows name them.
const (
	ResourceDeployment = "flinkdeployment"
	ResourceSessionJob = "flinksessionjob"
)

// DeploymentRow is a FlinkDeployment's row.
func DeploymentRow(fd *v1beta1.FlinkDeployment) Row {
	r := rowOf(cli.SummarizeDeployment(fd), fd.Status.CommonStatus, fd.Status.Conditions)
	r.Resource, r.ResourceVersion = ResourceDeployment, fd.ResourceVersion
	return r
}

// SessionJobRow is a FlinkSessionJob's row.
func SessionJobRow(sj *v1beta1.FlinkSessionJob) Row {
	r := rowOf(cli.SummarizeSessionJob(sj), sj.Status.CommonStatus, sj.Status.Conditions)
	r.Resource, r.ResourceVersion = ResourceSessionJob, sj.ResourceVersion
	return r
}

func rowOf(s cli.Summary, st v1beta1.CommonStatus, conditions []metav1.Condition) Row {
	r := Row{Summary: s, Problem: problemOf(st, conditions)}
	js := st.JobStatus
	if js.State == "RUNNING" {
		r.JobStarted = epochMillis(js.StartTime)
	}
	if ci := js.CheckpointInfo; ci != nil {
		latest := ci.LastPeriodicCheckpointTimestamp
		if ci.LastCheckpoint != nil {
			latest = max(latest, ci.LastCheckpoint.TimeStamp)
		}
		if latest > 0 {
			t := time.UnixMilli(latest)
			r.LastCheckpoint = &t
		}
	}
	if op := st.Operation; op != nil {
		r.Operation = string(op.Kind) + ", " + string(op.Step)
	}
	return r
}

// problemOf says what needs a person's attention, or "".
func problemOf(st v1beta1.CommonStatus, conditions []metav1.Condition) string {
	if c := meta.FindStatusCondition(conditions, lifecycle.ConditionDegraded); c != nil && c.Status == metav1.ConditionTrue {
		return c.Reason + ": " + c.Message
	}
	switch st.LifecycleState {
	case v1beta1.LifecycleFailed, v1beta1.LifecycleRolledBack:
		return string(st.LifecycleState) + ": " + cmp.Or(st.Error, "see the events")
	}
	switch st.JobStatus.State {
	case "FAILED", "FAILING", "RESTARTING":
		return "job " + st.JobStatus.State + ": " + cmp.Or(st.Error, "see the exceptions")
	}
	if st.Error != "" {
		return st.Error
	}
	return ""
}

// sortRows puts rows with a problem first, then by namespace, name and kind.
func sortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		if (a.Problem == "") != (b.Problem == "") {
			if a.Problem != "" {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name), strings.Compare(a.Kind, b.Kind))
	})
}

// rowsOf makes the overview's rows of two lists.
func rowsOf(fds []v1beta1.FlinkDeployment, sjs []v1beta1.FlinkSessionJob) []Row {
	rows := make([]Row, 0, len(fds)+len(sjs))
	for i := range fds {
		rows = append(rows, DeploymentRow(&fds[i]))
	}
	for i := range sjs {
		rows = append(rows, SessionJobRow(&sjs[i]))
	}
	sortRows(rows)
	return rows
}

func epochMillis(s string) *time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return nil
	}
	t := time.UnixMilli(ms)
	return &t
}

// listIn lists in namespace, or in all namespaces when it is "".
func listIn(namespace string) []client.ListOption {
	if namespace == "" {
		return nil
	}
	return []client.ListOption{client.InNamespace(namespace)}
}
