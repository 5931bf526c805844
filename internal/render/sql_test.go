package render

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

const sqlJob = `spec: {job: {jarURI: "", sql: {script: "CREATE TABLE t (n INT) WITH ('connector' = 'blackhole');\nINSERT INTO t SELECT 1;"}}}`

// TestSQLJob: a SQL job's script reaches the JobManager at SQLDir through the
// cluster's ConfigMap — never the configuration directory or the logging files — and
// runs on Flink's SqlDriver from 2.1 on, on Flok's runner before, which the operator
// must add; in both modes.
func TestSQLJob(t *testing.T) {
	script := SQLDir + "/" + SQLScriptFile
	for _, tc := range []struct {
		name, overlay string
		runner        bool
		wantArgs      []string
	}{
		{"native 2.3", `spec: {}`, false, nil},
		{"native 1.20", `spec: {flinkVersion: v1_20}`, true, nil},
		{"standalone 2.3", `spec: {mode: standalone}`, false,
			[]string{"standalone-job", "--job-classname", FlinkSQLDriverClass, "--scriptUri", "file://" + script}},
		{"standalone 1.20", `spec: {mode: standalone, flinkVersion: v1_20}`, true,
			[]string{"standalone-job", "--job-classname", SQLRunnerClass, "--jars", "local://" + SQLDir + "/" + SQLRunnerFile, "--script-file", script}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, sqlJob, tc.overlay)})
			require.NoError(t, err)
			require.Contains(t, objs.Config.Data[SQLScriptFile], "INSERT INTO t SELECT 1;")
			require.NotContains(t, objs.LoggingFiles, SQLScriptFile, "a new script is an upgrade, not a logging change")
			require.Equal(t, tc.runner, objs.NeedsSQLRunner())

			pod := objs.JobManager.Spec.Template.Spec
			items := map[string][]string{}
			for _, v := range pod.Volumes {
				if v.ConfigMap != nil && v.ConfigMap.Name == objs.Config.Name {
					for _, it := range v.ConfigMap.Items {
						items[v.Name] = append(items[v.Name], it.Key)
					}
				}
			}
			require.NotContains(t, items[configVolume], SQLScriptFile, "the script stays out of the configuration directory")
			wantItems := []string{SQLScriptFile}
			if tc.runner {
				wantItems = append(wantItems, SQLRunnerFile)
			}
			require.Equal(t, wantItems, items[sqlVolumeName])
			require.Contains(t, pod.Containers[0].VolumeMounts, corev1.VolumeMount{Name: sqlVolumeName, MountPath: SQLDir, ReadOnly: true})

			if tc.wantArgs != nil {
				require.Equal(t, tc.wantArgs, pod.Containers[0].Args)
				for _, v := range objs.TaskManager.Spec.Template.Spec.Volumes {
					require.NotEqual(t, sqlVolumeName, v.Name, "TaskManagers run no script")
				}
			} else if tc.runner {
				require.Equal(t, "local://"+SQLDir+"/"+SQLRunnerFile, objs.Configuration[keyApplicationJars])
				require.Equal(t, SQLRunnerClass, objs.Configuration[keyApplicationMain])
				require.Equal(t, joinList([]string{"--script-file", script}), objs.Configuration[keyApplicationArgs])
			} else {
				require.Empty(t, objs.Configuration[keyApplicationJars], "Flink 2.1+ runs an application without a jar")
				require.Equal(t, FlinkSQLDriverClass, objs.Configuration[keyApplicationMain])
				require.Equal(t, joinList([]string{"--scriptUri", "file://" + script}), objs.Configuration[keyApplicationArgs])
			}

			hash := objs.Hash
			if tc.runner {
				require.ErrorContains(t, objs.AddSQLRunner(nil), "this operator has none (its --sql-runner-jar)")
				require.NoError(t, objs.AddSQLRunner([]byte("PK")))
				require.Equal(t, []byte("PK"), objs.Config.BinaryData[SQLRunnerFile])
				require.Equal(t, hash, objs.Hash, "a new runner is no upgrade")
			} else {
				require.NoError(t, objs.AddSQLRunner(nil))
				require.Empty(t, objs.Config.BinaryData)
			}
			changed, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, sqlJob, tc.overlay,
				`spec: {job: {sql: {script: "INSERT INTO t SELECT 2;"}}}`)})
			require.NoError(t, err)
			require.NotEqual(t, hash, changed.Hash, "a changed script is an upgrade")
		})
	}
}
