// Package e2e holds Flok's end-to-end tests: a real control plane, the process node and
// real Flink, one namespace per test.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/test/localk8s"
	"github.com/flok-dev/flok/test/procnode"
)

var cluster *localk8s.Cluster

// node is the process node running the cluster's Pods (their processes are looked at).
var node *procnode.Node

func TestMain(m *testing.M) {
	if os.Getenv(operatorEnv) != "" {
		// This process is an operator a test started (see startOperator).
		os.Exit(runOperator())
	}
	// The console's live views (test/e2e/console_test.go) watch through controller-runtime.
	ctrllog.SetLogger(logr.Discard())
	binDir, err := os.MkdirTemp("", "flok-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	operatorBinaryPath = filepath.Join(binDir, "flok-operator")
	addNode := procnode.AddOn(procnode.Options{
		Log:            func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
		OperatorBinary: operatorBinaryPath,
	}, func(n *procnode.Node) { node = n })
	code := localk8s.Run(m, localk8s.Options{CRDs: []string{"../../config/crd"}, AddOns: []localk8s.AddOn{addNode}}, &cluster)
	_ = os.RemoveAll(binDir)
	os.Exit(code)
}
