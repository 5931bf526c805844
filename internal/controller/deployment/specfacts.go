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
// last deployed, and — while an operation deploys — the hash of the objects it deploys. Rendering takes milliseconds and hundreds of
// kilobytes, so the facts are kept per deployment until the object changes (its
// resource version, which moves with its spec and its status' operation alike): a
// deployment is rendered once per change, not every round.
type specFacts struct {
	resourceVersion                 string
	settings                        lifecycle.Settings
	renderError                     string
	highAvailability, checkpointing bool
	restPort                        int32
	// desiredHash is the hash of what the operation under way deploys ("" when none).
	desiredHash string
	compared    *lifecycle.SpecComparison
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

// specFacts returns fd's facts, from the cache while fd is unchanged.
func (r *Reconciler) specFacts(fd *v1beta1.FlinkDeployment) specFacts {
	key := types.NamespacedName{Namespace: fd.Namespace, Name: fd.Name}
	r.facts.mu.Lock()
	f, ok := r.facts.facts[key]
	r.facts.mu.Unlock()
	if ok && f.resourceVersion == fd.ResourceVersion && fd.ResourceVersion != "" {
		return f
	}
	f = r.factsOf(fd)
	r.facts.mu.Lock()
	defer r.facts.mu.Unlock()
	if r.facts.facts == nil {
		r.facts.facts = map[types.NamespacedName]specFacts{}
	}
	r.facts.facts[key] = f
	return f
}

// factsOf validates and renders fd's spec and reads its kubernetes.operator.* settings.
func (r *Reconciler) factsOf(fd *v1beta1.FlinkDeployment) specFacts {
	checked := validation.CheckDeployment(fd, r.Defaults, r.Settings)
	f := specFacts{
		resourceVersion: fd.ResourceVersion, settings: checked.Settings, compared: lifecycle.CompareSpec(fd),
		renderError: validation.Message(checked.Errs),
	}
	if current := checked.Objects; current != nil {
		f.highAvailability = current.Configuration.HighAvailability()
		f.checkpointing = current.Configuration.Checkpointing()
	}
	f.restPort = checked.Objects.RESTPort()
	if op := fd.Status.Operation; op != nil && op.Step == v1beta1.StepDeploying {
		if objs, err := r.renderAction(fd, deploySpec(fd), op.JobID, op.RestorePath); err == nil {
			f.desiredHash = objs.Hash
		}
	}
	return f
}
