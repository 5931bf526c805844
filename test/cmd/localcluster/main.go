// Command localcluster runs the local development cluster of `make cluster-up` in the
// foreground until it receives SIGINT or SIGTERM, then stops every process it started:
// the control plane, a kwok node, and the process node with the Flink JVMs of its Pods.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/localk8s"
	"github.com/flok-dev/flok/test/procnode"
)

func main() {
	dir := flag.String("dir", ".local/cluster", "directory for the cluster's files; wiped at start")
	kubeconfig := flag.String("kubeconfig", ".local/kubeconfig", "where to write the admin kubeconfig")
	readyFile := flag.String("ready-file", "", "file created once the cluster is ready")
	kwok := flag.Bool("kwok", true, "add a simulated kwok node")
	procNode := flag.Bool("procnode", true, "add the process node, which runs Pods (Flink JobManagers and TaskManagers) as local processes; needs root")
	operatorBinary := flag.String("operator-binary", "", "flok-operator binary that runs Flok's operator image on the process node")
	crdDir := flag.String("crds", "config/crd", "directory of the CustomResourceDefinitions to install")
	flag.Parse()
	if err := run(*dir, *kubeconfig, *readyFile, *kwok, *procNode, *operatorBinary, []string{*crdDir}); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(dir, kubeconfig, readyFile string, kwok, procNode bool, operatorBinary string, crds []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	opts := localk8s.Options{Dir: dir, Kwok: kwok, Progress: os.Stdout, CRDs: crds}
	if procNode {
		fmt.Println("localcluster: provisioning Flink (downloads only the first time)")
		for _, r := range flinkdist.Releases {
			home, err := flinkdist.Provision(ctx, r)
			if err != nil {
				return err
			}
			fmt.Printf("localcluster: Flink %s in %s\n", r.Version, home.Dir)
		}
		addNode := procnode.AddOn(procnode.Options{
			Dir: filepath.Join(dir, "procnode"), OperatorBinary: operatorBinary,
			Log: func(format string, args ...any) { fmt.Printf(format+"\n", args...) },
		}, nil)
		opts.AddOns = append(opts.AddOns, func(ctx context.Context, c *localk8s.Cluster) (func() error, error) {
			stop, err := addNode(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("%w (start with --procnode=false to run without it)", err)
			}
			return stop, nil
		})
	}
	cluster, err := localk8s.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "localcluster:", err)
		}
	}()
	if err := copyFile(cluster.KubeconfigPath, kubeconfig); err != nil {
		return err
	}
	if readyFile != "" {
		if err := os.WriteFile(readyFile, []byte(cluster.Config.Host+"\n"), 0o644); err != nil {
			return err
		}
		defer os.Remove(readyFile)
	}
	<-ctx.Done()
	fmt.Println("localcluster: stopping")
	return nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}
