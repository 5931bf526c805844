// Command localcluster runs the local development cluster of `make cluster-up` in the
// foreground until it receives SIGINT or SIGTERM, then stops every process it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flok-dev/flok/test/localk8s"
)

func main() {
	dir := flag.String("dir", ".local/cluster", "directory for the cluster's files; wiped at start")
	kubeconfig := flag.String("kubeconfig", ".local/kubeconfig", "where to write the admin kubeconfig")
	readyFile := flag.String("ready-file", "", "file created once the cluster is ready")
	kwok := flag.Bool("kwok", true, "add a simulated kwok node")
	flag.Parse()
	if err := run(*dir, *kubeconfig, *readyFile, *kwok); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(dir, kubeconfig, readyFile string, kwok bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	cluster, err := localk8s.Start(ctx, localk8s.Options{Dir: dir, Kwok: kwok, Progress: os.Stdout})
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
