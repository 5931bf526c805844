package commands

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
)

func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", cli.OutputTable, "table, wide, json or yaml")
}

// listCommand lists the summaries of Flok's resources, only those of kinds if given.
func (e *env) listCommand(short string, kinds ...string) *cobra.Command {
	return e.listingCommand(short, func(cmd *cobra.Command, c *cli.Client, output string, all bool) error {
		items, err := c.List(cmd.Context(), all)
		if err != nil {
			return err
		}
		if len(kinds) > 0 {
			items = slices.DeleteFunc(items, func(s cli.Summary) bool { return !slices.Contains(kinds, s.Kind) })
		}
		return cli.PrintSummaries(cmd.OutOrStdout(), items, output, e.now())
	})
}

// listingCommand is a `list` command: -o and -A checked, a client made, then list.
func (e *env) listingCommand(short string, list func(cmd *cobra.Command, c *cli.Client, output string, all bool) error) *cobra.Command {
	output, all := cli.OutputTable, false
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   short,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cli.CheckOutput(output); err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			return list(cmd, c, output, all)
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list every namespace")
	return cmd
}

func (e *env) statusCommand() *cobra.Command {
	output := cli.OutputTable
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a job's state, conditions, checkpoints, savepoints and recent events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cli.CheckOutput(output); err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.PrintStatus(cmd.OutOrStdout(), st, output, e.now())
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func (e *env) sessionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Start, stop and list session clusters (as kubernetes-session.sh)",
	}
	cmd.AddCommand(e.sessionStartCommand(), e.sessionStopCommand(), e.listCommand("List session clusters", cli.KindSession))
	return cmd
}

func (e *env) sessionStartCommand() *cobra.Command {
	var o cli.RunOptions
	var w waiting
	cmd := &cobra.Command{
		Use:   "start NAME",
		Short: "Start (or update) a session cluster: a FlinkDeployment without a job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			o.Name, o.Namespace = args[0], c.Namespace
			fd, err := o.Deployment()
			if err != nil {
				return err
			}
			fd.Spec.Job = nil
			if err := c.ApplyDeployment(cmd.Context(), fd); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "session cluster %s/%s applied\n", fd.Namespace, fd.Name)
			return w.follow(cmd, c, fd, false, func(obj client.Object) bool {
				st, _ := v1beta1.StatusOf(obj)
				return st.LifecycleState == v1beta1.LifecycleStable && st.Operation == nil && cli.Observed(obj, fd.Generation)
			})
		},
	}
	addClusterFlags(cmd, &o)
	w.flags(cmd, "the cluster is ready")
	return cmd
}

func (e *env) sessionStopCommand() *cobra.Command {
	force := false
	var w waiting
	cmd := &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop a session cluster (refused while session jobs run on it, unless --force)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			obj, err := c.StopSession(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: deletion asked\n", obj.GetName())
			return w.follow(cmd, c, obj, true, func(client.Object) bool { return false })
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "stop it even while session jobs name it (they wait for a session of that name)")
	w.flags(cmd, "it is gone")
	return cmd
}

func (e *env) uiCommand() *cobra.Command {
	addr := "127.0.0.1:8081"
	cmd := &cobra.Command{
		Use:   "ui NAME",
		Short: "Serve a cluster's Flink web UI and REST API locally, until Ctrl-C",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			p, err := c.ServeUI(cmd.Context(), args[0], addr)
			if err != nil {
				return err
			}
			defer p.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "Flink web UI of %s: %s (Ctrl-C stops)\n", args[0], p.URL)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "address", addr, "local address to serve on (port 0: any free port)")
	return cmd
}

func (e *env) logsCommand() *cobra.Command {
	var o cli.LogOptions
	var terminated bool
	var pod string
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the log of a cluster's JobManager, a TaskManager, or a container that ended",
		Long: `Print the log of a cluster's JobManager, or of TaskManager N.

With --terminated, print the log flok-operator kept of a JobManager or TaskManager
container that ended — crashed, OOMKilled, or stopped because its Pod was deleted —
after its Pod is gone: the newest, or the newest of --pod. The list of what is kept
goes to standard error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if terminated {
				return c.KeptLog(cmd.Context(), args[0], pod, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			if pod != "" {
				return fmt.Errorf("--pod chooses among the kept logs of ended containers: use it with --terminated")
			}
			return c.Logs(cmd.Context(), args[0], o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&terminated, "terminated", false, "the log kept of a container that ended (its Pod may be gone)")
	cmd.Flags().StringVar(&pod, "pod", "", "with --terminated: the Pod whose kept log to print (default: the newest kept)")
	cmd.Flags().IntVar(&o.TaskManager, "taskmanager", 0, "the TaskManager's number (1 is the first); default the JobManager")
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().BoolVar(&o.Previous, "previous", false, "the log of the previous, crashed container")
	cmd.MarkFlagsMutuallyExclusive("terminated", "follow")
	cmd.MarkFlagsMutuallyExclusive("terminated", "previous")
	cmd.MarkFlagsMutuallyExclusive("terminated", "taskmanager")
	return cmd
}
