package render

import (
	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// Input is everything a Flink cluster's objects depend on.
type Input struct {
	// Deployment is the FlinkDeployment to render; it is not modified.
	Deployment *v1beta1.FlinkDeployment
	// Defaults are the operator's default Flink options, below the user's own.
	Defaults flinkconf.Config
	// Restore is the snapshot an application's job starts from; nil starts it from
	// high-availability metadata if there is any, else without state. The lifecycle
	// decides it (initialSavepointPath on a first deployment, the upgrade savepoint,
	// the last checkpoint).
	Restore *Restore
	// JobID fixes an application's job id, so that a JobManager that starts again
	// recovers its job instead of submitting a second copy.
	JobID string
}

// Restore is a savepoint or checkpoint a job starts from.
type Restore struct {
	// Path is the snapshot's directory, such as s3://bucket/savepoints/savepoint-1a2b3c.
	Path string
	// AllowNonRestoredState lets the job start when the snapshot holds state that no
	// operator of the job maps to.
	AllowNonRestoredState bool
	// ClaimMode is NO_CLAIM (the default: the snapshot stays the user's) or CLAIM.
	ClaimMode string
}
