package console

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/checkpointhistory"
	"github.com/flok-dev/flok/internal/flinkrest"
)

// FlinkView is what a deployment's page shows from its Flink cluster, read through the
// API server's service proxy as the viewer. Each part that could not be read says why
// instead (a suspended job has no cluster to ask).
type FlinkView struct {
	// Checkpoints are the ended checkpoints and savepoints of the resource's jobs,
	// oldest first: those the operator kept (package checkpointhistory) and those Flink
	// still reports.
	Checkpoints      []checkpointhistory.Entry `json:"checkpoints"`
	CheckpointsError string                    `json:"checkpointsError,omitempty"`
	// Exceptions are the job's recent failures, newest first.
	Exceptions      []flinkrest.ExceptionEntry `json:"exceptions"`
	ExceptionsError string                     `json:"exceptionsError,omitempty"`
	// TaskManagers registered with the JobManager, with their slots.
	TaskManagers      []flinkrest.TaskManager `json:"taskManagers"`
	TaskManagersError string                  `json:"taskManagersError,omitempty"`
}

// maxExceptions is how many of a job's failures a page shows.
const maxExceptions = 10

// flinkViewTTL is how long a cluster's answers serve every page that asks: open pages
// refresh every few seconds, and many pages must not mean as many requests to Flink.
const flinkViewTTL = 2 * time.Second

// flinkViews reads FlinkViews and keeps each for flinkViewTTL, per viewer (the API
// server decides who may reach which cluster).
type flinkViews struct {
	mu    sync.Mutex
	views map[string]cachedFlinkView
}

type cachedFlinkView struct {
	view *FlinkView
	at   time.Time
}

// get is the view of the job of cluster in namespace, read or recalled.
func (f *flinkViews) get(ctx context.Context, v *Viewer, namespace, cluster, jobID string) (*FlinkView, error) {
	key := v.key + "/" + namespace + "/" + cluster + "/" + jobID
	f.mu.Lock()
	cached, ok := f.views[key]
	f.mu.Unlock()
	if ok && time.Since(cached.at) < flinkViewTTL {
		return cached.view, nil
	}
	flink, err := v.flink.Client(v.Client.InNamespace(namespace).FlinkREST(ctx, cluster), flinkrest.WithTimeout(5*time.Second))
	if err != nil {
		return nil, err
	}
	view := readFlinkView(ctx, flink, jobID)
	if ctx.Err() != nil {
		return view, nil // a page that left: its answers are no one else's
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.views == nil {
		f.views = map[string]cachedFlinkView{}
	}
	for k, c := range f.views {
		if time.Since(c.at) >= flinkViewTTL {
			delete(f.views, k)
		}
	}
	f.views[key] = cachedFlinkView{view: view, at: time.Now()}
	return view, nil
}

func readFlinkView(ctx context.Context, flink *flinkrest.Client, jobID string) *FlinkView {
	view := &FlinkView{}
	if tms, err := flink.TaskManagers(ctx); err != nil {
		view.TaskManagersError = err.Error()
	} else {
		view.TaskManagers = tms
	}
	if jobID == "" {
		view.CheckpointsError, view.ExceptionsError = "no job runs", "no job runs"
		return view
	}
	if cps, err := flink.Checkpoints(ctx, jobID); err != nil {
		view.CheckpointsError = err.Error()
	} else {
		for _, c := range cps.History {
			if e, ended := checkpointhistory.FromFlink(jobID, c); ended {
				view.Checkpoints = append(view.Checkpoints, e)
			}
		}
		view.Checkpoints = checkpointhistory.Merge(nil, view.Checkpoints, checkpointhistory.MaxEntries)
	}
	if ex, err := flink.Exceptions(ctx, jobID, maxExceptions); err != nil {
		view.ExceptionsError = err.Error()
	} else {
		view.Exceptions = ex.Entries
	}
	return view
}

// withHistory is view (nil: no cluster to ask) with the checkpoints the operator kept
// for obj merged in, read as the viewer; a viewer who may not read them sees Flink's.
func withHistory(ctx context.Context, v *Viewer, obj client.Object, view *FlinkView) *FlinkView {
	out := &FlinkView{CheckpointsError: noCluster, ExceptionsError: noCluster, TaskManagersError: noCluster}
	if view != nil {
		copied := *view
		out = &copied
	}
	cm := &corev1.ConfigMap{}
	err := v.Client.API.Get(ctx, client.ObjectKey{Namespace: obj.GetNamespace(), Name: checkpointhistory.ConfigMapName(obj.GetName(), v1beta1.KindOf(obj))}, cm)
	if err != nil {
		if !apierrors.IsNotFound(err) && out.CheckpointsError == "" {
			out.CheckpointsError = "the kept history: " + err.Error()
		}
		return out
	}
	kept, err := checkpointhistory.Decode(cm)
	if err != nil {
		out.CheckpointsError = err.Error()
		return out
	}
	out.Checkpoints = checkpointhistory.Merge(kept, out.Checkpoints, checkpointhistory.MaxEntries)
	if len(out.Checkpoints) > 0 && view == nil {
		out.CheckpointsError = ""
	}
	return out
}
