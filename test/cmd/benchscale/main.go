// Command benchscale runs Flok's scale harness (test/scale) and reports its figures
// as a table and as JSON: `make bench-scale N=1000`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/flok-dev/flok/test/scale"
)

func main() {
	if reexecuted, code, err := scale.InOwnNetwork(); reexecuted {
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchscale:", err)
		}
		os.Exit(code)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchscale:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 1000, "FlinkDeployments created at once")
	opts := scale.DefaultOptions(*n)
	flag.IntVar(&opts.Arrivals, "arrivals", opts.Arrivals, "FlinkDeployments created afterwards at -arrival-rate")
	flag.Float64Var(&opts.ArrivalRate, "arrival-rate", opts.ArrivalRate, "arrivals per second")
	flag.IntVar(&opts.Failures, "failures", opts.Failures, "jobs failed in the simulator")
	flag.IntVar(&opts.Upgrades, "upgrades", opts.Upgrades, "deployments upgraded with a savepoint at once")
	flag.DurationVar(&opts.Settle, "settle", opts.Settle, "wait after the burst before measuring the steady state")
	flag.DurationVar(&opts.SteadyWindow, "steady-window", opts.SteadyWindow, "how long the steady state is measured")
	flag.DurationVar(&opts.RestartWindow, "restart-window", opts.RestartWindow, "how long an operator restart's requests are counted")
	flag.DurationVar(&opts.EtcdDown, "etcd-down", opts.EtcdDown, "how long etcd stays away when it is restarted during upgrades")
	flag.StringVar(&opts.FlinkVersion, "flink-version", opts.FlinkVersion, "simulated Flink version: 1.20 or 2.3")
	operator := flag.String("operator", "", "the operator's command line, {kubeconfig} and {metrics} replaced (default: flok-operator built from this tree)")
	flokArgs := flag.String("flok-args", "", "extra flags for flok-operator, space-separated")
	flag.DurationVar(&opts.PhaseTimeout, "phase-timeout", 10*time.Minute, "how long each phase may wait")
	flag.StringVar(&opts.ProfileDir, "profile-dir", "", "where to save the operator's CPU and heap profiles of the steady state (flok-operator only)")
	out := flag.String("o", filepath.Join(scale.RepoRoot(), ".local", "bench-scale.json"), "where the JSON report goes")
	flag.Parse()
	opts.N = *n
	opts.Log = os.Stderr

	dir, err := os.MkdirTemp("", "flok-bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts.Dir = filepath.Join(dir, "run")
	if *operator != "" {
		opts.Operator = strings.Fields(*operator)
	} else if opts.Operator, err = scale.BuildFlok(dir, strings.Fields(*flokArgs)...); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	report, err := scale.Run(ctx, opts)
	if report != nil {
		fmt.Println()
		report.Print(os.Stdout)
		if werr := os.MkdirAll(filepath.Dir(*out), 0o755); werr == nil {
			if werr := report.WriteJSON(*out); werr != nil {
				fmt.Fprintln(os.Stderr, "benchscale:", werr)
			} else {
				fmt.Printf("\nJSON: %s (run took %s)\n", *out, time.Since(began).Round(time.Second))
			}
		}
	}
	return err
}
