package commands

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
)

func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", cli.OutputTable, "table, wide, json or yaml")
}

func (e *env) listCommand() *cobra.Command {
	output, all := cli.OutputTable, false
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List Flink applications, session clusters and session jobs",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cli.CheckOutput(output); err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			items, err := c.List(cmd.Context(), all)
			if err != nil {
				return err
			}
			return cli.PrintSummaries(cmd.OutOrStdout(), items, output, e.now())
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
	o := cli.RunOptions{FlinkVersion: "2.3", Mode: "native"}
	wait := false
	start := &cobra.Command{
		Use:   "start NAME",
		Short: "Start a session cluster: a FlinkDeployment without a job",
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
			if err := c.Apply(cmd.Context(), fd); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "session cluster %s/%s applied\n", fd.Namespace, fd.Name)
			if !wait {
				return nil
			}
			return e.follow(cmd, c, fd.Name, false, func(obj client.Object) bool {
				fd := obj.(*v1beta1.FlinkDeployment)
				return fd.Status.LifecycleState == v1beta1.LifecycleStable && fd.Status.Operation == nil
			})
		},
	}
	f := start.Flags()
	f.StringVar(&o.Image, "image", "", "the Flink image (default: flink:<flink-version>)")
	f.StringVar(&o.FlinkVersion, "flink-version", o.FlinkVersion, "the image's Flink version")
	f.StringArrayVarP(&o.Options, "option", "D", nil, "a Flink option, key=value (repeatable)")
	f.StringVar(&o.Mode, "mode", o.Mode, "native or standalone")
	waitFlag(start, &wait, "the cluster is ready")
	stop := e.deleteCommand()
	stop.Use, stop.Short = "stop NAME", "Stop a session cluster (refused while session jobs run on it)"
	list := e.listCommand()
	list.Short = "List session clusters"
	cmd.AddCommand(start, stop, list)
	return cmd
}

func (e *env) renderCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print the Kubernetes objects a FlinkDeployment becomes, without applying them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			out, err := cli.Render(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "a YAML file of one or more FlinkDeployments")
	_ = cmd.MarkFlagRequired("filename")
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
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the log of a cluster's JobManager (or of TaskManager N)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			return c.Logs(cmd.Context(), args[0], o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVar(&o.TaskManager, "taskmanager", 0, "the TaskManager's number (1 is the first); default the JobManager")
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().BoolVar(&o.Previous, "previous", false, "the log of the previous, crashed container")
	return cmd
}
