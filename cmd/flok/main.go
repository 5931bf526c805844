// Command flok runs Apache Flink on Kubernetes through Flok's resources: `flok run`,
// `flok list`, `flok status`, savepoints, suspension, sessions. Installed as
// kubectl-flok it is also `kubectl flok`.
package main

import (
	"context"
	"os"
	"os/signal"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flok-dev/flok/internal/cli/commands"
)

func main() {
	// Ctrl-C stops waiting for a change, never the change: the operator carries it out.
	// A second Ctrl-C, with the first one's signal handling stopped, ends flok at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	context.AfterFunc(ctx, stop)
	os.Exit(commands.Execute(ctx, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:]))
}
