package render

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/api/v1beta1"
)

// A SQL job's files: its script, in the cluster's ConfigMap, and before Flink 2.1 Flok's
// SQL runner, which the operator adds to the ConfigMap when it applies it
// (Objects.AddSQLRunner). The JobManager mounts both at SQLDir.
const (
	// SQLScriptFile is the ConfigMap key and file name of a SQL job's script.
	SQLScriptFile = "flok-job.sql"
	// SQLRunnerFile is the ConfigMap key and file name of Flok's SQL runner jar.
	SQLRunnerFile = "flok-sql-runner.jar"
	// SQLDir is where the JobManager finds them.
	SQLDir = "/opt/flink/flok-sql"
	// SQLRunnerClass is the runner's main class (java/sql-runner).
	SQLRunnerClass = "dev.flok.sql.SqlRunner"
	// FlinkSQLDriverClass is Flink's own SQL application entry point, from 2.0 in
	// flink-table-runtime; it runs a script with the SQL gateway's jar in opt/.
	FlinkSQLDriverClass = "org.apache.flink.table.runtime.application.SqlDriver"

	sqlVolumeName = "flok-sql-volume"
)

// sqlJob is the application's SQL script, nil for a jar job.
func (c *cluster) sqlJob() *v1beta1.SQLJob {
	if !c.application() {
		return nil
	}
	return c.spec().Job.SQL
}

// flinkRunsSQL reports a release whose own SqlDriver runs the script: 2.1 is the first
// whose native application mode starts without a jar.
func (c *cluster) flinkRunsSQL() bool { return c.version.AtLeast(2, 1) }

// jobEntry is what the JobManager runs: the jar, main class and arguments of spec.job,
// or for a SQL job the driver that runs its script.
func (c *cluster) jobEntry() (jar, class string, args []string) {
	job := c.spec().Job
	if job.SQL == nil {
		return job.JarURI, job.EntryClass, job.Args
	}
	script := SQLDir + "/" + SQLScriptFile
	if c.flinkRunsSQL() {
		return "", FlinkSQLDriverClass, []string{"--scriptUri", "file://" + script}
	}
	return "local://" + SQLDir + "/" + SQLRunnerFile, SQLRunnerClass, []string{"--script-file", script}
}

// checkSQL rejects a SQL job that also names a jar or its entry point.
func (c *cluster) checkSQL() field.ErrorList {
	job := c.sqlJob()
	if job == nil {
		return nil
	}
	var errs field.ErrorList
	jobPath := field.NewPath("spec", "job")
	spec := c.spec().Job
	for _, f := range []struct {
		name string
		set  bool
	}{{"jarURI", spec.JarURI != ""}, {"entryClass", spec.EntryClass != ""}, {"args", len(spec.Args) > 0}} {
		if f.set {
			errs = append(errs, field.Forbidden(jobPath.Child(f.name), "a SQL job runs its script: remove "+f.name+", or remove spec.job.sql to run a jar"))
		}
	}
	if c.version.Major > 0 && !c.version.AtLeast(1, 19) {
		errs = append(errs, field.Invalid(jobPath.Child("sql"), "", "SQL jobs run on Flink 1.19 and later: use flinkVersion v1_19 or later, or a jar"))
	}
	if job.Script == "" {
		errs = append(errs, field.Required(jobPath.Child("sql", "script"), "the SQL statements of the job, ending in semicolons"))
	}
	return errs
}

// sqlVolume mounts a SQL job's script (a key of the cluster's ConfigMap cm) into the
// JobManager, with the runner's key where the runner serves.
func (c *cluster) sqlVolume(cm *corev1.ConfigMap, fp *flinkPod) {
	if c.sqlJob() == nil {
		return
	}
	items := []corev1.KeyToPath{{Key: SQLScriptFile, Path: SQLScriptFile}}
	if !c.flinkRunsSQL() {
		items = append(items, corev1.KeyToPath{Key: SQLRunnerFile, Path: SQLRunnerFile})
	}
	fp.volumes = append(fp.volumes, corev1.Volume{Name: sqlVolumeName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name},
		Items:                items,
	}}})
	fp.container.VolumeMounts = append(fp.container.VolumeMounts, corev1.VolumeMount{Name: sqlVolumeName, MountPath: SQLDir, ReadOnly: true})
}

// NeedsSQLRunner reports a cluster whose JobManager runs Flok's SQL runner, which
// AddSQLRunner must put into its ConfigMap before it is applied.
func (o *Objects) NeedsSQLRunner() bool {
	return o.Config != nil && o.sqlRunner
}

// AddSQLRunner puts the SQL runner's jar into the cluster's ConfigMap. It is not part
// of Hash: a new operator's runner reaches a job when the job is next deployed, without
// restarting it.
func (o *Objects) AddSQLRunner(jar []byte) error {
	if !o.NeedsSQLRunner() {
		return nil
	}
	if len(jar) == 0 {
		return fmt.Errorf("the job's Flink release (before 2.1) runs SQL with Flok's SQL runner, and this operator has none (its --sql-runner-jar): " +
			"start the operator with the runner, or run the job on Flink 2.1 or later, whose own SQL driver Flok uses")
	}
	if o.Config.BinaryData == nil {
		o.Config.BinaryData = map[string][]byte{}
	}
	o.Config.BinaryData[SQLRunnerFile] = jar
	return nil
}
