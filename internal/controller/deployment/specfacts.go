package deployment

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/validation"
)

// specFacts is what every round needs to know of a deployment's spec: its settings,
// whether it renders, the rendered cluster's traits, how it compares with the spec
// last deployed, and — while an operation deploys — the hash of the objects it
// deploys. Rendering takes milliseconds and hundreds of kilobytes, so the facts are
// kept per deployment, each part until what it depends on changes: the spec (its
// generation, for the object of that uid), the last deployed spec, the operation.
// A status write (a checkpoint recorded, say) renders nothing again.
type specFacts struct {
	uid                             types.UID
	generation                      int64
	settings                        lifecycle.Settings
	renderError                     string
	highAvailability, checkpointing bool
	// current is where the REST API of a cluster of the spec answers; flink is where
	// that of the running cluster does (RunningEndpoint), for runningSpec — the
	// lastReconciledSpec it was found for.
	current, flink FlinkEndpoint
	runningSpec    string
	// loggingHash identifies the spec's logging files (render.Objects.LoggingHash).
	loggingHash string

	// lastReconciledSpec is the status' text compared is for.
	lastReconciledSpec string
	compared           *lifecycle.SpecComparison
	// operation says what desiredHash is for; desiredHash is the hash of what the
	// operation under way deploys ("" when none).
	operation, desiredHash string
}

// factsCache holds the specFacts of each deployment.
type factsCache struct {
	mu    sync.Mutex
	facts map[types.NamespacedName]specFacts
}

func (c *factsCache) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.facts, key)
}

// specFacts returns fd's facts, reusing what still holds of those kept.
func (r *Reconciler) specFacts(fd *v1beta1.FlinkDeployment) specFacts {
	key := types.NamespacedName{Namespace: fd.Namespace, Name: fd.Name}
	r.facts.mu.Lock()
	f, ok := r.facts.facts[key]
	r.facts.mu.Unlock()
	if !ok || f.uid != fd.UID || f.generation != fd.Generation || fd.Generation == 0 {
		f = r.specOnlyFacts(fd)
	}
	if last := fd.Status.ReconciliationStatus.LastReconciledSpec; f.compared == nil || f.lastReconciledSpec != last {
		f.lastReconciledSpec, f.compared = last, lifecycle.CompareSpec(fd)
	}
	if last := fd.Status.ReconciliationStatus.LastReconciledSpec; f.runningSpec != last {
		f.runningSpec, f.flink = last, f.current
		if e, ok := deployedEndpoint(fd, r.Defaults); ok {
			f.flink = e
		}
	}
	if op := operationKey(fd); op != f.operation {
		f.operation, f.desiredHash = op, r.desiredHash(fd)
	}
	r.facts.mu.Lock()
	defer r.facts.mu.Unlock()
	if r.facts.facts == nil {
		r.facts.facts = map[types.NamespacedName]specFacts{}
	}
	r.facts.facts[key] = f
	return f
}

// specOnlyFacts validates and renders fd's spec and reads its kubernetes.operator.*
// settings.
func (r *Reconciler) specOnlyFacts(fd *v1beta1.FlinkDeployment) specFacts {
	checked := validation.CheckDeployment(fd, r.Defaults, r.Settings, len(r.SQLRunner) > 0)
	f := specFacts{
		uid: fd.UID, generation: fd.Generation, settings: checked.Settings,
		renderError: validation.Message(checked.Errs),
	}
	if current := checked.Objects; current != nil {
		f.highAvailability = current.Configuration.HighAvailability()
		f.checkpointing = current.Configuration.Checkpointing()
		f.loggingHash = current.LoggingHash
	}
	f.current = EndpointOf(fd, checked.Objects)
	f.runningSpec, f.flink = "", f.current
	return f
}

// operationKey is what the hash of a deploying operation's objects depends on beyond
// the spec: its kind, job id and restore path, and the last stable spec it rolls
// back to; "" when no operation deploys.
func operationKey(fd *v1beta1.FlinkDeployment) string {
	op := fd.Status.Operation
	if op == nil || op.Step != v1beta1.StepDeploying {
		return ""
	}
	key := string(op.Kind) + "\x00" + op.JobID + "\x00" + op.RestorePath
	if op.Kind == v1beta1.OperationRollback {
		key += "\x00" + fd.Status.ReconciliationStatus.LastStableSpec
	}
	return key
}

// desiredHash is the hash of what fd's deploying operation deploys ("" when none, or
// when it does not render).
func (r *Reconciler) desiredHash(fd *v1beta1.FlinkDeployment) string {
	op := fd.Status.Operation
	if op == nil || op.Step != v1beta1.StepDeploying {
		return ""
	}
	objs, err := r.renderAction(fd, deploySpec(fd), op.JobID, op.RestorePath)
	if err != nil {
		return ""
	}
	return objs.Hash
}
