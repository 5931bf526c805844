package commands

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
)

func isNotDone(err error) bool {
	return errors.Is(err, cli.ErrDegraded) || errors.Is(err, cli.ErrStoppedWaiting)
}

// waitFlag adds --wait.
func waitFlag(cmd *cobra.Command, wait *bool, what string) {
	cmd.Flags().BoolVar(wait, "wait", *wait, "wait until "+what+", printing each step")
}

// follow waits for a change, printing its steps.
func (e *env) follow(cmd *cobra.Command, c *cli.Client, name string, deleted bool, done func(client.Object) bool) error {
	p := newProgress(cmd.OutOrStdout())
	defer p.end()
	return c.Wait(cmd.Context(), name, deleted, done, p.report)
}

func (e *env) runCommand() *cobra.Command {
	o := cli.RunOptions{FlinkVersion: "2.3", Mode: "native"}
	wait := false
	cmd := &cobra.Command{
		Use:   "run <jar-uri> [args...]",
		Short: "Deploy or update a Flink application from a jar",
		Long: `Deploy a Flink application (a FlinkDeployment) running the jar, or update the one of
that name: like 'flink run --target kubernetes-application', with the state carried
over on updates as --upgrade-mode says.

The jar is inside the image: local:///opt/flink/usrlib/job.jar (or one of Flink's
examples under local:///opt/flink/examples/). Flink options go with -D as for flink run;
-D kubernetes.pod-template-file.default=FILE (also .jobmanager, .taskmanager) reads a
local pod template.`,
		Example: `  flok run local:///opt/flink/examples/streaming/TopSpeedWindowing.jar --wait
  flok run local:///opt/flink/usrlib/orders.jar --name orders -p 4 --upgrade-mode savepoint \
    -D execution.checkpointing.interval=10s -D execution.checkpointing.dir=s3://bucket/checkpoints`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			o.JarURI, o.Args, o.Namespace = args[0], args[1:], c.Namespace
			fd, err := o.Deployment()
			if err != nil {
				return err
			}
			if err := c.Apply(cmd.Context(), fd); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "flinkdeployment %s/%s applied\n", fd.Namespace, fd.Name)
			if !wait {
				return nil
			}
			return e.follow(cmd, c, fd.Name, false, cli.Running)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "the FlinkDeployment's name (default: from the jar's file name)")
	f.StringVar(&o.Image, "image", "", "the Flink image (default: flink:<flink-version>)")
	f.StringVar(&o.FlinkVersion, "flink-version", o.FlinkVersion, "the image's Flink version, such as 1.20 or 2.3")
	f.Int32VarP(&o.Parallelism, "parallelism", "p", 0, "the job's parallelism")
	f.StringVarP(&o.EntryClass, "class", "c", "", "the job's main class (default: the jar's manifest)")
	f.StringArrayVarP(&o.Options, "option", "D", nil, "a Flink option, key=value (repeatable)")
	f.StringVar(&o.FromSavepoint, "from-savepoint", "", "the savepoint or retained checkpoint to start from")
	f.StringVar(&o.UpgradeMode, "upgrade-mode", "", "how state is carried over on updates: stateless, savepoint or last-state (default stateless)")
	f.StringVar(&o.Mode, "mode", o.Mode, "native (Flink starts TaskManagers) or standalone")
	waitFlag(cmd, &wait, "the job runs")
	return cmd
}

func (e *env) submitCommand() *cobra.Command {
	var session, name, entry, upgrade string
	var parallelism int32
	wait := false
	cmd := &cobra.Command{
		Use:   "submit --session NAME <jar-uri> [args...]",
		Short: "Run a job on a session cluster (a FlinkSessionJob)",
		Long: `Run a jar on a session cluster, like 'flink run' against a running cluster: the
operator fetches the jar (https://), uploads it to the session and runs it, then looks
after it as it does applications.`,
		Example: `  flok submit --session shared https://repo.example.com/jobs/orders-1.4.jar -p 2 --upgrade-mode savepoint`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if name == "" {
				name = cli.DefaultName(args[0])
			}
			sj := &v1beta1.FlinkSessionJob{Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: session, Job: &v1beta1.JobSpec{
				JarURI: args[0], Args: args[1:], EntryClass: entry, Parallelism: parallelism, UpgradeMode: v1beta1.UpgradeMode(upgrade),
			}}}
			sj.APIVersion, sj.Kind = v1beta1.GroupVersion.String(), "FlinkSessionJob"
			sj.Name, sj.Namespace = name, c.Namespace
			if err := c.Apply(cmd.Context(), sj); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "flinksessionjob %s/%s applied\n", sj.Namespace, sj.Name)
			if !wait {
				return nil
			}
			return e.follow(cmd, c, name, false, cli.Running)
		},
	}
	f := cmd.Flags()
	f.StringVar(&session, "session", "", "the session cluster (required)")
	_ = cmd.MarkFlagRequired("session")
	f.StringVar(&name, "name", "", "the FlinkSessionJob's name (default: from the jar's file name)")
	f.StringVarP(&entry, "class", "c", "", "the job's main class")
	f.Int32VarP(&parallelism, "parallelism", "p", 0, "the job's parallelism")
	f.StringVar(&upgrade, "upgrade-mode", "", "stateless, savepoint or last-state")
	waitFlag(cmd, &wait, "the job runs")
	return cmd
}

// nameCommand is a command on one named resource: savepoint, suspend, resume, restart.
// done says when the change is complete; result, if set, describes the outcome.
func (e *env) nameCommand(use, short, waitFor string, act func(*cli.Client, *cobra.Command, string) (client.Object, error),
	done func(client.Object) bool, result func(client.Object) string) *cobra.Command {
	wait := false
	cmd := &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			obj, err := act(c, cmd, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s asked\n", args[0], use)
			if !wait {
				return nil
			}
			var final client.Object
			err = e.follow(cmd, c, args[0], false, func(now client.Object) bool {
				final = now
				return done(now) && now.GetGeneration() >= obj.GetGeneration()
			})
			if err == nil && result != nil {
				fmt.Fprintln(cmd.OutOrStdout(), result(final))
			}
			return err
		},
	}
	waitFlag(cmd, &wait, waitFor)
	return cmd
}

func (e *env) savepointCommand() *cobra.Command {
	var nonce int64
	return e.nameCommand("savepoint", "Take a savepoint of a running job", "the savepoint is taken",
		func(c *cli.Client, cmd *cobra.Command, name string) (client.Object, error) {
			obj, err := c.Savepoint(cmd.Context(), name)
			if err == nil {
				nonce = *jobOf(obj).SavepointTriggerNonce
			}
			return obj, err
		},
		func(obj client.Object) bool {
			sp := jobStatus(obj).SavepointInfo
			return sp != nil && sp.LastSavepoint != nil && sp.LastSavepoint.TriggerNonce != nil && *sp.LastSavepoint.TriggerNonce == nonce
		},
		func(obj client.Object) string {
			return "savepoint " + jobStatus(obj).SavepointInfo.LastSavepoint.Location
		})
}

func (e *env) suspendCommand() *cobra.Command {
	return e.nameCommand("suspend", "Stop a job, keeping its state as its upgradeMode says", "the job is suspended",
		func(c *cli.Client, cmd *cobra.Command, name string) (client.Object, error) {
			return c.SetState(cmd.Context(), name, v1beta1.JobStateSuspended)
		},
		func(obj client.Object) bool { return lifecycleOf(obj) == v1beta1.LifecycleSuspended },
		func(obj client.Object) string {
			return "suspended; it resumes from " + dashed(jobStatus(obj).UpgradeSavepointPath)
		})
}

func (e *env) resumeCommand() *cobra.Command {
	return e.nameCommand("resume", "Run a suspended job again from its kept state", "the job runs",
		func(c *cli.Client, cmd *cobra.Command, name string) (client.Object, error) {
			return c.SetState(cmd.Context(), name, v1beta1.JobStateRunning)
		}, cli.Running, nil)
}

func (e *env) restartCommand() *cobra.Command {
	return e.nameCommand("restart", "Restart a job with the same spec (a new restartNonce)", "the job runs again",
		func(c *cli.Client, cmd *cobra.Command, name string) (client.Object, error) {
			return c.Restart(cmd.Context(), name)
		}, cli.Running, nil)
}

func (e *env) deleteCommand() *cobra.Command {
	savepoint, wait := false, false
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an application, session cluster or session job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			if _, err := c.Delete(cmd.Context(), args[0], savepoint); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: deletion asked\n", args[0])
			if !wait {
				return nil
			}
			return e.follow(cmd, c, args[0], true, func(client.Object) bool { return false })
		},
	}
	cmd.Flags().BoolVar(&savepoint, "savepoint", false, "stop the job with a savepoint first")
	waitFlag(cmd, &wait, "it is gone")
	return cmd
}

func jobOf(obj client.Object) *v1beta1.JobSpec {
	switch o := obj.(type) {
	case *v1beta1.FlinkDeployment:
		return o.Spec.Job
	case *v1beta1.FlinkSessionJob:
		return o.Spec.Job
	}
	return nil
}

func dashed(s string) string {
	if s == "" {
		return "its high-availability metadata or nothing (upgradeMode)"
	}
	return s
}

func jobStatus(obj client.Object) v1beta1.JobStatus {
	st, _ := cli.StatusOf(obj)
	return st.JobStatus
}

func lifecycleOf(obj client.Object) v1beta1.LifecycleState {
	st, _ := cli.StatusOf(obj)
	return st.LifecycleState
}
