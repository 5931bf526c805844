package console

import (
	"context"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/render"
)

// Detail is a deployment's page: the resource with its events and snapshots (as `flok
// status` reads them), its row, its cluster's Pods and, for a session cluster, its jobs.
type Detail struct {
	Row    Row         `json:"row"`
	Status *cli.Status `json:"status"`
	// Pods are the cluster's JobManager and TaskManager Pods (a session job's are its
	// session's).
	Pods []Pod `json:"pods"`
	// PodsError says why the Pods could not be listed, if they could not.
	PodsError string `json:"podsError,omitempty"`
	// SessionJobs are the FlinkSessionJobs that name a session cluster.
	SessionJobs []Row `json:"sessionJobs,omitempty"`
}

// Pod is one Pod of a cluster and its containers.
type Pod struct {
	Name       string      `json:"name"`
	Component  string      `json:"component"`
	Phase      string      `json:"phase"`
	Created    time.Time   `json:"created"`
	Deleting   bool        `json:"deleting,omitempty"`
	Containers []Container `json:"containers"`
}

// Container is a container's state, restarts and how its last run ended.
type Container struct {
	Name     string `json:"name"`
	Ready    bool   `json:"ready"`
	State    string `json:"state"`
	Restarts int32  `json:"restarts"`
	// LastTermination is the reason and exit code of its previous run (OOMKilled, Error).
	LastTermination string `json:"lastTermination,omitempty"`
}

// detail reads one resource's page.
func detail(ctx context.Context, c *cli.Client, ref string) (*Detail, error) {
	st, err := c.Status(ctx, ref)
	if err != nil {
		return nil, err
	}
	d := &Detail{Status: st}
	switch o := st.Object.(type) {
	case *v1beta1.FlinkDeployment:
		d.Row = DeploymentRow(o)
		if o.Spec.Job == nil {
			d.SessionJobs, err = sessionJobsOf(ctx, c, o.Name)
			if err != nil {
				return nil, err
			}
		}
	case *v1beta1.FlinkSessionJob:
		d.Row = SessionJobRow(o)
	}
	pods := &corev1.PodList{}
	if err := c.API.List(ctx, pods, client.InNamespace(c.Namespace), client.MatchingLabels{render.LabelApp: cli.ClusterName(st.Object)}); err != nil {
		d.PodsError = err.Error()
	}
	for i := range pods.Items {
		d.Pods = append(d.Pods, podOf(&pods.Items[i]))
	}
	slices.SortFunc(d.Pods, func(a, b Pod) int { return a.Created.Compare(b.Created) })
	return d, nil
}

func sessionJobsOf(ctx context.Context, c *cli.Client, session string) ([]Row, error) {
	jobs, err := c.SessionJobsOf(ctx, session)
	if err != nil {
		return nil, err
	}
	return rowsOf(nil, jobs), nil
}

func podOf(p *corev1.Pod) Pod {
	out := Pod{Name: p.Name, Component: p.Labels[render.LabelComponent], Phase: string(p.Status.Phase),
		Created: p.CreationTimestamp.Time, Deleting: p.DeletionTimestamp != nil}
	for _, cs := range p.Status.ContainerStatuses {
		c := Container{Name: cs.Name, Ready: cs.Ready, Restarts: cs.RestartCount, State: containerState(cs.State)}
		if t := cs.LastTerminationState.Terminated; t != nil {
			c.LastTermination = t.Reason + " (exit code " + strconv.Itoa(int(t.ExitCode)) + ")"
		}
		out.Containers = append(out.Containers, c)
	}
	return out
}

func containerState(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "Running"
	case s.Waiting != nil:
		return "Waiting: " + s.Waiting.Reason
	case s.Terminated != nil:
		return "Terminated: " + s.Terminated.Reason
	}
	return "Unknown"
}

// jobIDOf is the id of the resource's job as last observed.
func jobIDOf(obj client.Object) string {
	st, _ := v1beta1.StatusOf(obj)
	return st.JobStatus.JobID
}

// noCluster is what a suspended job's page says instead of Flink's answers.
const noCluster = "the job is suspended: no Flink cluster runs"

// suspended says the resource's job is suspended (its cluster removed).
func suspended(obj client.Object) bool {
	st, _ := v1beta1.StatusOf(obj)
	return st.LifecycleState == v1beta1.LifecycleSuspended
}
