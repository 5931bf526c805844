package procnode

import (
	"context"

	"github.com/flok-dev/flok/test/localk8s"
)

// AddOn runs a process node on a localk8s cluster: it starts with the cluster (taking
// the cluster's slot and API server port into opts) and stops before it. started, if
// not nil, receives the node.
func AddOn(opts Options, started func(*Node)) localk8s.AddOn {
	return func(ctx context.Context, c *localk8s.Cluster) (func() error, error) {
		opts.Slot, opts.APIServerPort = c.Slot, c.APIServerPort()
		node, err := Start(ctx, c.Config, opts)
		if err != nil {
			return nil, err
		}
		if started != nil {
			started(node)
		}
		return node.Stop, nil
	}
}
