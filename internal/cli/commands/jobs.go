package commands

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
)

func isNotDone(err error) bool {
	return errors.Is(err, cli.ErrDegraded) || errors.Is(err, cli.ErrStoppedWaiting)
}

// waiting is the --wait and --timeout of a command that changes something.
type waiting struct {
	wait    bool
	timeout time.Duration
}

// defaultWaitTimeout bounds --wait unless --timeout says otherwise: long enough for a
// savepoint of large state, short enough that a script never hangs.
const defaultWaitTimeout = 15 * time.Minute

// flags adds --wait and --timeout to cmd.
func (w *waiting) flags(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&w.wait, "wait", false, "wait until "+what+", printing each step")
	cmd.Flags().DurationVar(&w.timeout, "timeout", defaultWaitTimeout, "with --wait, how long to wait before giving up (the change goes on)")
}

// follow waits, if asked, for the change of obj, printing its steps.
func (w *waiting) follow(cmd *cobra.Command, c *cli.Client, obj client.Object, deleted bool, done func(client.Object) bool) error {
	if !w.wait {
		return nil
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), w.timeout)
	defer cancel()
	p := newProgress(cmd.OutOrStdout())
	defer p.end()
	return c.Wait(ctx, obj, deleted, done, p.report)
}

// noteSuspended tells that an update of a suspended job waits for its resumption.
func noteSuspended(cmd *cobra.Command, obj client.Object) {
	if cli.Suspended(obj) {
		fmt.Fprintf(cmd.OutOrStdout(), "%s is suspended: the update applies when it runs again (`flok resume %s`)\n", obj.GetName(), obj.GetName())
	}
}

// addClusterFlags adds the flags of a Flink cluster: image, version, mode, -D options.
func addClusterFlags(cmd *cobra.Command, o *cli.RunOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Image, "image", "", "the Flink image (default: flink:<flink-version>)")
	f.StringVar(&o.FlinkVersion, "flink-version", cli.DefaultFlinkVersion, "the image's Flink version, such as 1.20 or 2.3")
	f.StringVar(&o.Mode, "mode", "native", "native (Flink starts TaskManagers) or standalone")
	f.StringArrayVarP(&o.Options, "option", "D", nil, "a Flink option, key=value (repeatable)")
}

// addJobFlags adds the flags of a job: its main class, parallelism, savepoint to start
// from and upgrade mode.
func addJobFlags(cmd *cobra.Command, class *string, parallelism *int32, fromSavepoint, upgradeMode *string) {
	f := cmd.Flags()
	f.StringVarP(class, "class", "c", "", "the job's main class (default: the jar's manifest)")
	f.Int32VarP(parallelism, "parallelism", "p", 0, "the job's parallelism")
	f.StringVar(fromSavepoint, "from-savepoint", "", "the savepoint or retained checkpoint the first run starts from (flink run's -s)")
	f.StringVar(upgradeMode, "upgrade-mode", "", "how state is carried over on updates: stateless, savepoint or last-state (default: as before, else stateless)")
}

func (e *env) runCommand() *cobra.Command {
	var o cli.RunOptions
	var w waiting
	cmd := &cobra.Command{
		Use:   "run (<jar-uri> | --sql FILE) [flags] [-- program-args...]",
		Short: "Deploy or update a Flink application from a jar or a SQL script",
		Long: `Deploy a Flink application (a FlinkDeployment) running the jar, or update the one of
that name: like 'flink run --target kubernetes-application', with the state carried
over on updates as --upgrade-mode says (an update without it keeps the application's).
Each run states the whole application: options left out of an update are dropped.

The jar is inside the image: local:///opt/flink/usrlib/job.jar (or one of Flink's
examples under local:///opt/flink/examples/). Flink options go with -D as for flink run;
-D kubernetes.pod-template-file.default=FILE (also .jobmanager, .taskmanager) reads a
local pod template. Program arguments follow the jar; those that begin with a dash go
after --.

With --sql the job is a SQL script instead: SET statements, the tables it reads and
writes, and INSERT statements that together make one job (Flink 1.19 and later).`,
		Example: `  flok run local:///opt/flink/examples/streaming/TopSpeedWindowing.jar --wait
  flok run local:///opt/flink/usrlib/orders.jar --name orders -p 4 --upgrade-mode savepoint \
    -D execution.checkpointing.interval=10s -D execution.checkpointing.dir=s3://bucket/checkpoints \
    -- --input kafka://orders --window 10s
  flok run --sql orders-per-window.sql --upgrade-mode savepoint \
    -D execution.checkpointing.interval=10s -D execution.checkpointing.dir=s3://bucket/checkpoints`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.SQLFile != "" {
				return nil // Deployment refuses a jar beside the script
			}
			return cobra.MinimumNArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			o.Namespace = c.Namespace
			if len(args) > 0 {
				o.JarURI, o.Args = args[0], args[1:]
			}
			if cli.IsLocalJar(o.JarURI) {
				return fmt.Errorf("%s is a file here, which the cluster cannot read: build it into an image (flok image build) and run "+
					"local:///opt/flink/usrlib/%s with --image, or run it on a session (flok submit --artifact-store)", o.JarURI, filepath.Base(o.JarURI))
			}
			fd, err := o.Deployment()
			if err != nil {
				return err
			}
			if err := c.ApplyDeployment(cmd.Context(), fd); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "flinkdeployment %s/%s applied\n", fd.Namespace, fd.Name)
			noteSuspended(cmd, fd)
			return w.follow(cmd, c, fd, false, cli.Running)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "the FlinkDeployment's name (default: from the jar's or script's file name)")
	f.StringVar(&o.SQLFile, "sql", "", "a SQL script to run instead of a jar")
	addClusterFlags(cmd, &o)
	addJobFlags(cmd, &o.EntryClass, &o.Parallelism, &o.FromSavepoint, &o.UpgradeMode)
	w.flags(cmd, "the job runs")
	return cmd
}

func (e *env) submitCommand() *cobra.Command {
	var o cli.SubmitOptions
	var w waiting
	cmd := &cobra.Command{
		Use:   "submit --session NAME <jar-uri> [flags] [-- program-args...]",
		Short: "Run a job on a session cluster (a FlinkSessionJob)",
		Long: `Run a jar on a session cluster, like 'flink run' against a running cluster: the
operator fetches the jar (https://, or s3:// from any S3-compatible store named by
-D s3.endpoint=…), checks it against --sha256 when given, uploads it to the session and
runs it, then looks after it as it does applications. -D sets the job's own Flink options.
A jar on this machine is first uploaded to --artifact-store under its digest, and the
job runs it from there, checked against that digest.`,
		Example: `  flok submit --session shared https://repo.example.com/jobs/orders-1.4.jar -p 2 --upgrade-mode savepoint
  flok submit --session shared s3://jobs/orders-1.4.jar --credentials-secret s3-jobs --sha256 "$(sha256sum orders-1.4.jar | cut -c1-64)"
  flok submit --session shared ./target/orders-1.4.jar --artifact-store s3://jobs/uploads --credentials-secret s3-jobs`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			o.JarURI, o.Args, o.Namespace = args[0], args[1:], c.Namespace
			if cli.IsLocalJar(o.JarURI) {
				local := o.JarURI
				if o.JarURI, o.SHA256, err = c.UploadJar(cmd.Context(), local, o.ArtifactStore, o.Options, o.CredentialsSecret); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "uploaded %s to %s\n", local, o.JarURI)
			}
			sj, err := o.SessionJob()
			if err != nil {
				return err
			}
			if err := c.Apply(cmd.Context(), sj); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "flinksessionjob %s/%s applied\n", sj.Namespace, sj.Name)
			var nf *cli.NotFoundError
			if _, err := c.Get(cmd.Context(), "flinkdeployment/"+o.Session); errors.As(err, &nf) {
				fmt.Fprintf(cmd.OutOrStdout(), "there is no session cluster %s yet: the job waits for it (`flok session start %s`)\n", o.Session, o.Session)
			}
			noteSuspended(cmd, sj)
			return w.follow(cmd, c, sj, false, cli.Running)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Session, "session", "", "the session cluster (required)")
	_ = cmd.MarkFlagRequired("session")
	f.StringVar(&o.Name, "name", "", "the FlinkSessionJob's name (default: from the jar's file name)")
	f.StringArrayVarP(&o.Options, "option", "D", nil, "a Flink option of the job, key=value (repeatable)")
	f.StringVar(&o.SHA256, "sha256", "", "the jar's SHA-256 (hex): a jar with another is refused")
	f.StringVar(&o.CredentialsSecret, "credentials-secret", "", "a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for an s3:// jar")
	f.StringVar(&o.ArtifactStore, "artifact-store", "", "upload a local jar to s3://bucket/prefix (with --credentials-secret's keys, else your AWS identity) and run it from there")
	addJobFlags(cmd, &o.EntryClass, &o.Parallelism, &o.FromSavepoint, &o.UpgradeMode)
	w.flags(cmd, "the job runs")
	return cmd
}

// nameCommand is a command on one named resource: savepoint, suspend, resume, restart.
// done says when the change is complete; result, if set, describes the outcome.
func (e *env) nameCommand(use, short, waitFor string, act func(*cli.Client, *cobra.Command, string) (client.Object, error),
	done func(client.Object) bool, result func(client.Object) string) *cobra.Command {
	var w waiting
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
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s asked\n", obj.GetName(), use)
			var final client.Object
			err = w.follow(cmd, c, obj, false, func(now client.Object) bool {
				final = now
				return done(now) && cli.Observed(now, obj.GetGeneration())
			})
			if err == nil && w.wait && result != nil {
				fmt.Fprintln(cmd.OutOrStdout(), result(final))
			}
			return err
		},
	}
	w.flags(cmd, waitFor)
	return cmd
}

func (e *env) savepointCommand() *cobra.Command {
	var nonce int64
	return e.nameCommand("savepoint", "Take a savepoint of a running job", "the savepoint is taken",
		func(c *cli.Client, cmd *cobra.Command, name string) (client.Object, error) {
			obj, err := c.Savepoint(cmd.Context(), name)
			if err == nil {
				nonce = *cli.JobOf(obj).SavepointTriggerNonce
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
			return "suspended; it resumes from " + resumesFrom(jobStatus(obj).UpgradeSavepointPath)
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

func (e *env) loglevelCommand() *cobra.Command {
	var w waiting
	cmd := &cobra.Command{
		Use:   "loglevel NAME LOGGER LEVEL",
		Short: "Set a logger's level in a running cluster, without a restart",
		Long: `Set a logger's level (LOGGER "root" for the root logger; LEVEL one of OFF, FATAL,
ERROR, WARN, INFO, DEBUG, TRACE, ALL) in the deployment's log4j-console.properties
(spec.logConfiguration; Flok's default file when the spec has none). The operator writes
the file into the running cluster, whose JobManager and TaskManagers read it again within
its monitorInterval: the job keeps running.`,
		Example: `  flok loglevel orders org.apache.flink.runtime.checkpoint DEBUG
  flok loglevel orders root WARN`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			obj, err := c.SetLogLevel(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: logger %s at %s asked\n", obj.GetName(), args[1], strings.ToUpper(args[2]))
			noteSuspended(cmd, obj)
			restarts := cli.LoggingRestarts(obj)
			if restarts {
				fmt.Fprintln(out, "its running logging file has no monitorInterval, so log4j never reads it again: the job restarts (as its upgradeMode says) to take this one, which has one")
			}
			err = w.follow(cmd, c, obj, false, func(now client.Object) bool { return cli.Observed(now, obj.GetGeneration()) })
			if err == nil && w.wait && !restarts && !cli.Suspended(obj) {
				fmt.Fprintln(out, "written into the running cluster: Flink reads it within its monitorInterval, without a restart")
			}
			return err
		},
	}
	w.flags(cmd, "the running cluster has the file")
	return cmd
}

func (e *env) deleteCommand() *cobra.Command {
	savepoint := false
	var w waiting
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an application, session cluster or session job",
		Long: `Delete an application, session cluster or session job, and the Flink cluster and
Kubernetes objects the operator made for it. NAME may be KIND/NAME (flinkdeployment/NAME,
flinksessionjob/NAME) when both kinds carry it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			obj, err := c.Delete(cmd.Context(), args[0], savepoint)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: deletion asked\n", obj.GetName())
			return w.follow(cmd, c, obj, true, func(client.Object) bool { return false })
		},
	}
	cmd.Flags().BoolVar(&savepoint, "savepoint", false, "stop the job with a savepoint first")
	w.flags(cmd, "it is gone")
	return cmd
}

// resumesFrom names what a suspended job resumes from: its savepoint, else what its
// upgradeMode keeps.
func resumesFrom(savepoint string) string {
	if savepoint == "" {
		return "its high-availability metadata or nothing (upgradeMode)"
	}
	return savepoint
}

func jobStatus(obj client.Object) v1beta1.JobStatus {
	st, _ := v1beta1.StatusOf(obj)
	return st.JobStatus
}

func lifecycleOf(obj client.Object) v1beta1.LifecycleState {
	st, _ := v1beta1.StatusOf(obj)
	return st.LifecycleState
}
