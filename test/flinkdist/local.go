package flinkdist

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/flok-dev/flok/internal/flinkrest"
	"github.com/flok-dev/flok/test/hostnet"
	"github.com/flok-dev/flok/test/supervisor"
)

// LocalOptions shape a local standalone cluster.
type LocalOptions struct {
	// TaskManagers is the number of TaskManagers (default 1).
	TaskManagers int
	// Slots is the number of task slots per TaskManager (default 2).
	Slots int
	// Config holds extra Flink options; they win over the cluster's own.
	Config map[string]string
	// Dir holds the configuration, logs, checkpoints and savepoints; a temporary
	// directory removed by Stop when empty.
	Dir string
}

// LocalCluster is a standalone Flink cluster of local JVMs, for tests that need Flink
// but not Kubernetes. Everything binds to 127.0.0.1.
type LocalCluster struct {
	Home *Home
	// Dir holds conf/, logs/, checkpoints/ and savepoints/.
	Dir string
	// RESTURL is the JobManager's REST endpoint, http://127.0.0.1:<port>.
	RESTURL string
	// CheckpointDir and SavepointDir are the filesystem state directories (plain paths;
	// the configuration holds them as file:// URIs).
	CheckpointDir, SavepointDir string

	sup       *supervisor.Supervisor
	confDir   string
	removeDir bool
	tmCount   int
}

// startTimeout bounds a JVM's way to serving; Flink starts in seconds, slower on a
// machine that compiles at the same time.
const startTimeout = 3 * time.Minute

// StartLocal starts a JobManager and opts.TaskManagers TaskManagers and returns when
// all TaskManagers have registered.
func StartLocal(ctx context.Context, home *Home, opts LocalOptions) (*LocalCluster, error) {
	if opts.TaskManagers == 0 {
		opts.TaskManagers = 1
	}
	if opts.Slots == 0 {
		opts.Slots = 2
	}
	c := &LocalCluster{Home: home, Dir: opts.Dir}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "flok-flink-")
		if err != nil {
			return nil, err
		}
		c.Dir, c.removeDir = dir, true
	}
	if err := c.start(ctx, opts); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *LocalCluster) start(ctx context.Context, opts LocalOptions) error {
	sup, err := supervisor.New(filepath.Join(c.Dir, "logs"))
	if err != nil {
		return err
	}
	c.sup = sup
	c.CheckpointDir = filepath.Join(c.Dir, "checkpoints")
	c.SavepointDir = filepath.Join(c.Dir, "savepoints")
	ports, err := hostnet.FreePorts(3)
	if err != nil {
		return err
	}
	config := map[string]string{
		"jobmanager.rpc.address": "127.0.0.1", "jobmanager.bind-host": "127.0.0.1",
		"jobmanager.rpc.port": strconv.Itoa(ports[0]),
		"rest.address":        "127.0.0.1", "rest.bind-address": "127.0.0.1",
		"rest.port":        strconv.Itoa(ports[1]),
		"blob.server.port": strconv.Itoa(ports[2]),
		"taskmanager.host": "127.0.0.1", "taskmanager.bind-host": "127.0.0.1",
		"taskmanager.numberOfTaskSlots":   strconv.Itoa(opts.Slots),
		"jobmanager.memory.process.size":  "1024m",
		"taskmanager.memory.process.size": "1024m",
		"parallelism.default":             "1",
		"execution.checkpointing.dir":     "file://" + c.CheckpointDir,
		// Keep Flink's scratch files (blobs, spill files, the web UI's jars) out of
		// the machine's /tmp.
		"io.tmp.dirs":                           filepath.Join(c.Dir, "tmp"),
		"web.tmpdir":                            filepath.Join(c.Dir, "tmp"),
		"execution.checkpointing.savepoint-dir": "file://" + c.SavepointDir,
	}
	for k, v := range opts.Config {
		config[k] = v
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "tmp"), 0o755); err != nil {
		return err
	}
	if c.confDir, err = WriteConfDir(c.Home, filepath.Join(c.Dir, "conf"), config); err != nil {
		return err
	}
	c.RESTURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
	jm, err := c.sup.Start("jobmanager", c.script("jobmanager.sh", "start-foreground"))
	if err != nil {
		return err
	}
	if err := jm.WaitUntil(ctx, startTimeout, c.restReady); err != nil {
		return err
	}
	for range opts.TaskManagers {
		if err := c.AddTaskManager(ctx); err != nil {
			return err
		}
	}
	return nil
}

// AddTaskManager starts one more TaskManager and waits until it has registered.
func (c *LocalCluster) AddTaskManager(ctx context.Context) error {
	c.tmCount++
	want := c.tmCount
	tm, err := c.sup.Start(fmt.Sprintf("taskmanager-%d", want), c.script("taskmanager.sh", "start-foreground"))
	if err != nil {
		return err
	}
	return tm.WaitUntil(ctx, startTimeout, func(ctx context.Context) bool {
		n, err := c.registeredTaskManagers(ctx)
		return err == nil && n >= want
	})
}

// script runs a bin/ script of the home against this cluster's configuration.
func (c *LocalCluster) script(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{filepath.Join(c.Home.Dir, "bin", name)}, args...)...)
	cmd.Env = c.env()
	return cmd
}

func (c *LocalCluster) env() []string {
	return append(os.Environ(), "FLINK_CONF_DIR="+c.confDir, "FLINK_LOG_DIR="+filepath.Join(c.Dir, "logs"),
		"FLINK_PID_DIR="+filepath.Join(c.Dir, "tmp"))
}

// clientTimeout bounds one run of Flink's command-line client.
const clientTimeout = 5 * time.Minute

// Flink runs Flink's own command-line client (bin/flink) against this cluster and
// returns its output; a client that does not finish within five minutes is killed.
func (c *LocalCluster) Flink(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(c.Home.Dir, "bin", "flink")}, args...)...)
	cmd.Env = c.env()
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("flink %v: %w\n%s", args, err, out)
	}
	return string(out), nil
}

// Stop stops every JVM of the cluster and removes its directory if StartLocal made it.
func (c *LocalCluster) Stop() {
	if c.sup != nil {
		c.sup.Close()
	}
	if c.removeDir {
		_ = os.RemoveAll(c.Dir)
	}
}

// PIDs lists the process ids of the cluster's running JVMs (and their scripts).
func (c *LocalCluster) PIDs() []int { return c.sup.PIDs() }

// LogTails returns the end of every JVM's log, for failure messages.
func (c *LocalCluster) LogTails(n int) string { return c.sup.LogTails(n) }

func (c *LocalCluster) restReady(ctx context.Context) bool {
	_, err := c.registeredTaskManagers(ctx)
	return err == nil
}

// registeredTaskManagers reads the TaskManager count from GET /overview.
func (c *LocalCluster) registeredTaskManagers(ctx context.Context) (int, error) {
	client, err := flinkrest.New(c.RESTURL, flinkrest.WithAttempts(1, 0), flinkrest.WithTimeout(5*time.Second))
	if err != nil {
		return 0, err
	}
	overview, err := client.Overview(ctx)
	if err != nil {
		return 0, err
	}
	return overview.TaskManagers, nil
}
