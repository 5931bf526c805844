package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Summary is one line of `flok list`.
type Summary struct {
	Name          string    `json:"name"`
	Namespace     string    `json:"namespace"`
	Kind          string    `json:"kind"`
	Mode          string    `json:"mode"`
	FlinkVersion  string    `json:"flinkVersion"`
	JobState      string    `json:"jobState"`
	Lifecycle     string    `json:"lifecycle"`
	Parallelism   int32     `json:"parallelism"`
	LastSavepoint string    `json:"lastSavepoint"`
	Created       time.Time `json:"created"`
	// Session is the session cluster of a FlinkSessionJob (wide output).
	Session string `json:"session,omitempty"`
	// JobID is the running job's id (wide output).
	JobID string `json:"jobId,omitempty"`
}

// Kinds as `flok list` shows them.
const (
	KindApplication = "application"
	KindSession     = "session"
	KindSessionJob  = "session-job"
)

// SummarizeDeployment is the summary of a FlinkDeployment: an application, or a
// session cluster (no job).
func SummarizeDeployment(fd *v1beta1.FlinkDeployment) Summary {
	s := Summary{
		Name: fd.Name, Namespace: fd.Namespace, Kind: KindApplication, Mode: string(fd.Spec.Mode),
		FlinkVersion: flinkVersion(fd.Spec.FlinkVersion), JobState: fd.Status.JobStatus.State,
		Lifecycle: string(fd.Status.LifecycleState), LastSavepoint: lastSavepoint(fd.Status.JobStatus),
		Created: fd.CreationTimestamp.Time, JobID: fd.Status.JobStatus.JobID,
	}
	if s.Mode == "" {
		s.Mode = string(v1beta1.ModeNative)
	}
	if fd.Spec.Job == nil {
		s.Kind = KindSession
		if ss := fd.Status.Session; ss != nil {
			s.JobState = fmt.Sprintf("%d jobs", len(ss.Jobs))
		}
		return s
	}
	s.Parallelism = fd.Spec.Job.Parallelism
	return s
}

// SummarizeSessionJob is the summary of a FlinkSessionJob.
func SummarizeSessionJob(sj *v1beta1.FlinkSessionJob) Summary {
	s := Summary{
		Name: sj.Name, Namespace: sj.Namespace, Kind: KindSessionJob, Mode: "-", FlinkVersion: "-",
		JobState: sj.Status.JobStatus.State, Lifecycle: string(sj.Status.LifecycleState),
		LastSavepoint: lastSavepoint(sj.Status.JobStatus), Created: sj.CreationTimestamp.Time,
		Session: sj.Spec.DeploymentName, JobID: sj.Status.JobStatus.JobID,
	}
	if sj.Spec.Job != nil {
		s.Parallelism = sj.Spec.Job.Parallelism
	}
	return s
}

// flinkVersion shows v2_3 as 2.3.
func flinkVersion(v v1beta1.FlinkVersion) string {
	return strings.ReplaceAll(strings.TrimPrefix(string(v), "v"), "_", ".")
}

func lastSavepoint(js v1beta1.JobStatus) string {
	if js.SavepointInfo != nil && js.SavepointInfo.LastSavepoint != nil {
		return js.SavepointInfo.LastSavepoint.Location
	}
	return ""
}

// List summarizes the FlinkDeployments and FlinkSessionJobs of the namespace (all
// namespaces when allNamespaces), sorted by namespace and name.
func (c *Client) List(ctx context.Context, allNamespaces bool) ([]Summary, error) {
	var opts []client.ListOption
	if !allNamespaces {
		opts = append(opts, client.InNamespace(c.Namespace))
	}
	fds := &v1beta1.FlinkDeploymentList{}
	if err := c.API.List(ctx, fds, opts...); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	sjs := &v1beta1.FlinkSessionJobList{}
	if err := c.API.List(ctx, sjs, opts...); err != nil {
		return nil, explain(err, c.Config.Host)
	}
	var out []Summary
	for i := range fds.Items {
		out = append(out, SummarizeDeployment(&fds.Items[i]))
	}
	for i := range sjs.Items {
		out = append(out, SummarizeSessionJob(&sjs.Items[i]))
	}
	slices.SortFunc(out, func(a, b Summary) int {
		return strings.Compare(a.Namespace+"/"+a.Name+"/"+a.Kind, b.Namespace+"/"+b.Name+"/"+b.Kind)
	})
	return out, nil
}
