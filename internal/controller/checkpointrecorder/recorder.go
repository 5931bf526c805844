// Package checkpointrecorder keeps the checkpoint history of Flok's jobs beyond what
// Flink remembers: the observation hands it every checkpoint statistics it reads
// (costing Flink nothing more), and it writes what is new to the resource's history
// ConfigMap (package checkpointhistory) in batches — one write per resource per
// interval at most, never a status write per checkpoint.
package checkpointrecorder

import (
	"context"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/checkpointhistory"
	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/internal/kube"
	"github.com/flok-dev/flok/internal/render"
)

// The history ConfigMaps are the operator's to write.
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;patch

// fieldOwner is the recorder's server-side-apply manager.
const fieldOwner = "flok-checkpoint-history"

// Recorder batches the checkpoints seen of one kind of resource and writes them.
type Recorder struct {
	// Client reads the resources and writes the ConfigMaps; Reader reads those (the
	// operator's cache does not hold them).
	Client client.Client
	Reader client.Reader
	// Kind is FlinkDeployment or FlinkSessionJob; NewObject makes an empty one.
	Kind      string
	NewObject func() client.Object
	// Interval is how often what was seen is written.
	Interval time.Duration

	mu      sync.Mutex
	pending map[types.NamespacedName][]checkpointhistory.Entry
	// written are the newest checkpoints in each resource's ConfigMap, so that the same
	// ten Flink keeps are not written again every round. (Not a high-water mark: a
	// savepoint, or one of concurrent checkpoints, may end after a newer one.)
	written map[types.NamespacedName][]checkpointRef
}

// checkpointRef names one checkpoint of one job.
type checkpointRef struct {
	jobID string
	id    int64
}

// rememberedWritten is how many of a resource's newest written checkpoints are
// remembered: more than Flink reports at once (web.checkpoints.history, 10 by default).
const rememberedWritten = 32

// Saw takes the checkpoints Flink reported for a resource's job; those not yet written
// wait for the next batch.
func (r *Recorder) Saw(key types.NamespacedName, jobID string, history []flinkrest.CheckpointStats) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var fresh []checkpointhistory.Entry
	for _, s := range history {
		e, ended := checkpointhistory.FromFlink(jobID, s)
		if ended && !slices.Contains(r.written[key], checkpointRef{jobID: e.JobID, id: e.ID}) {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) == 0 {
		return
	}
	if r.pending == nil {
		r.pending = map[types.NamespacedName][]checkpointhistory.Entry{}
	}
	r.pending[key] = checkpointhistory.Merge(r.pending[key], fresh, checkpointhistory.MaxEntries)
}

// NeedLeaderElection is true: one replica writes.
func (r *Recorder) NeedLeaderElection() bool { return true }

// Start writes a batch every Interval until ctx ends, and a last one then.
func (r *Recorder) Start(ctx context.Context) error {
	tick := time.NewTicker(r.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r.Flush(last)
			cancel()
			return nil
		case <-tick.C:
			r.Flush(ctx)
		}
	}
}

// Flush writes every resource's pending checkpoints; those that could not be written
// wait for the next batch.
func (r *Recorder) Flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	for key, entries := range batch {
		if err := r.write(ctx, key, entries); err != nil {
			log.FromContext(ctx).Info("checkpoint history not written; trying again next batch", "resource", key, "error", err.Error())
			r.mu.Lock()
			if r.pending == nil {
				r.pending = map[types.NamespacedName][]checkpointhistory.Entry{}
			}
			r.pending[key] = checkpointhistory.Merge(entries, r.pending[key], checkpointhistory.MaxEntries)
			r.mu.Unlock()
		}
	}
}

// write merges entries into the resource's ConfigMap, owned by the resource so that it
// goes with it. A resource that is gone has nothing written.
func (r *Recorder) write(ctx context.Context, key types.NamespacedName, entries []checkpointhistory.Entry) error {
	owner := r.NewObject()
	if err := r.Client.Get(ctx, key, owner); err != nil {
		if apierrors.IsNotFound(err) {
			r.Forget(key)
			return nil
		}
		return err
	}
	name := checkpointhistory.ConfigMapName(key.Name, r.Kind)
	current := &corev1.ConfigMap{}
	var history []checkpointhistory.Entry
	err := r.Reader.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: name}, current)
	switch {
	case err == nil && current.Labels[render.LabelManagedBy] != render.ManagedByFlok:
		log.FromContext(ctx).Info("a ConfigMap that is not Flok's has the checkpoint history's name; no history is kept", "configmap", key.Namespace+"/"+name)
		return nil
	case err == nil:
		// A history that no longer reads is started again rather than kept failing.
		history, _ = checkpointhistory.Decode(current)
	case !apierrors.IsNotFound(err):
		return err
	}
	history = checkpointhistory.Merge(history, entries, checkpointhistory.MaxEntries)
	data, err := checkpointhistory.Encode(history)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: key.Namespace, Name: name,
			Labels: map[string]string{render.LabelManagedBy: render.ManagedByFlok},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1beta1.GroupVersion.String(), Kind: r.Kind,
				Name: owner.GetName(), UID: owner.GetUID(),
			}},
		},
		Data: data,
	}
	// Applied over what was read, or not at all: a write of another replica meanwhile
	// (a new leader) is merged in the next batch instead of overwritten.
	cm.ResourceVersion = current.ResourceVersion
	if err := kube.Apply(ctx, r.Client, cm, fieldOwner); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.written == nil {
		r.written = map[types.NamespacedName][]checkpointRef{}
	}
	refs := make([]checkpointRef, 0, rememberedWritten)
	for _, e := range history[max(0, len(history)-rememberedWritten):] {
		refs = append(refs, checkpointRef{jobID: e.JobID, id: e.ID})
	}
	r.written[key] = refs
	return nil
}

// Forget drops what is known of a resource that is gone.
func (r *Recorder) Forget(key types.NamespacedName) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.written, key)
	delete(r.pending, key)
}
