// Package commands is the flok command line: cobra commands over internal/cli, with
// kubectl's kubeconfig, context and namespace flags.
package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flok-dev/flok/internal/cli"
)

// Exit codes of flok, documented in `flok --help`.
const (
	ExitOK = 0
	// ExitError: the command failed (a cluster, a name, a flag).
	ExitError = 1
	// ExitNotDone: the operator reported that the change cannot go through, or the
	// waiting was stopped (Ctrl-C) — the change itself goes on.
	ExitNotDone = 3
)

// Version is flok's version, set at build time.
var Version = "dev"

// env is what every command needs: the streams, the cluster flags and the clock.
type env struct {
	streams genericiooptions.IOStreams
	flags   *genericclioptions.ConfigFlags
	now     func() time.Time
}

// client connects to the cluster the flags name, in their namespace.
func (e *env) client() (*cli.Client, error) {
	cfg, err := e.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster configured: %w (set --kubeconfig or KUBECONFIG; for the local environment run `make cluster-up`)", err)
	}
	ns, _, err := e.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	return cli.New(cfg, ns)
}

// NewRoot is the flok command.
func NewRoot(streams genericiooptions.IOStreams) *cobra.Command {
	e := &env{streams: streams, flags: genericclioptions.NewConfigFlags(true), now: time.Now}
	root := &cobra.Command{
		Use:   "flok",
		Short: "Run Apache Flink on Kubernetes with Flok",
		Long: `flok deploys, upgrades with their state, suspends, resumes, savepoints and deletes
Flink jobs on Kubernetes, through Flok's resources (FlinkDeployment, FlinkSessionJob)
and the operator that runs them. It reads your kubeconfig as kubectl does.

  flok run local:///opt/flink/examples/streaming/TopSpeedWindowing.jar --wait
  flok list
  flok status topspeedwindowing
  flok savepoint topspeedwindowing
  flok run … --parallelism 4 --upgrade-mode savepoint    # upgrade, keeping the state

Exit codes: 0 done; 1 the command failed; 3 the operator reports that the change
cannot go through, or waiting was stopped by Ctrl-C or --timeout (the change goes on).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	e.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(
		e.runCommand(), e.submitCommand(), e.sessionCommand(), e.listCommand("List Flink applications, session clusters and session jobs"), e.statusCommand(),
		e.savepointCommand(), e.suspendCommand(), e.resumeCommand(), e.restartCommand(), e.loglevelCommand(), e.deleteCommand(), e.alertsCommand(),
		renderCommand(), e.uiCommand(), e.dashboardCommand(), e.logsCommand(), e.installCommand(), e.uninstallCommand(),
		convertCommand(), imageCommand(), versionCommand(),
	)
	return root
}

// Execute runs flok with args and returns its exit code.
func Execute(ctx context.Context, streams genericiooptions.IOStreams, args []string) int {
	root := NewRoot(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(streams.ErrOut, "Error:", err)
	if isNotDone(err) {
		return ExitNotDone
	}
	return ExitError
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print flok's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "flok", Version)
			return err
		},
	}
}

// progress prints each step of a change with the time since the wait began: on a
// terminal the current step's line counts the seconds; elsewhere (logs, pipes) each
// step is one plain line.
type progress struct {
	w   io.Writer
	tty bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) report(step cli.Progress) {
	line := fmt.Sprintf("[%5.0fs] %-10s %s", step.Elapsed.Seconds(), step.Lifecycle, step.Step)
	switch {
	case !p.tty && step.Repeat:
	case !p.tty:
		fmt.Fprintln(p.w, line)
	case step.Repeat:
		fmt.Fprint(p.w, "\r\033[K"+line)
	default:
		fmt.Fprint(p.w, "\n"+line)
	}
}

// end finishes a terminal's last line.
func (p *progress) end() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
