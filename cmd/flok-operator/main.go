// Command flok-operator runs Flink clusters and jobs from FlinkDeployment,
// FlinkSessionJob and FlinkStateSnapshot resources.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/flok-dev/flok/internal/controller/round"
	"github.com/flok-dev/flok/internal/operator"
)

func main() {
	opts := operator.DefaultOptions()
	opts.AddFlags(flag.CommandLine)
	logOpts := zap.Options{}
	logOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&logOpts)))
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flok-operator: no Kubernetes cluster to talk to:", err)
		os.Exit(2)
	}
	if err := operator.Run(ctrl.SetupSignalHandler(), cfg, opts, round.Hooks{}); err != nil {
		fmt.Fprintln(os.Stderr, "flok-operator:", err)
		os.Exit(1)
	}
}
