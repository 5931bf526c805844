package flinkconf

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
)

func TestValidateDeployment(t *testing.T) {
	conf := func(json string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(json)} }
	ha := conf(`{"high-availability": {"type": "kubernetes", "storageDir": "file:///ha"}}`)
	for name, tc := range map[string]struct {
		spec v1beta1.FlinkDeploymentSpec
		want []string
	}{
		"valid application": {v1beta1.FlinkDeploymentSpec{
			FlinkVersion: "v2_3", FlinkConfiguration: ha,
			JobManager:  &v1beta1.JobManagerSpec{Replicas: 2, Resource: &v1beta1.Resource{Memory: "2048m", CPU: ptr.To(1.0)}},
			TaskManager: &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "2Gi"}},
			Job:         &v1beta1.JobSpec{Parallelism: 2, UpgradeMode: v1beta1.UpgradeModeLastState},
		}, nil},
		"bad memory unit": {v1beta1.FlinkDeploymentSpec{
			TaskManager: &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "2 lbs"}},
		}, []string{`spec.taskManager.resource.memory: Invalid value: "2 lbs": memory size "2 lbs": unknown unit "lbs"`}},
		"replicas without HA": {v1beta1.FlinkDeploymentSpec{JobManager: &v1beta1.JobManagerSpec{Replicas: 2}},
			[]string{"spec.jobManager.replicas: Invalid value: 2: more than one JobManager needs high availability"}},
		"HA without storage": {v1beta1.FlinkDeploymentSpec{FlinkConfiguration: conf(`{"high-availability.type": "kubernetes"}`)},
			[]string{"spec.flinkConfiguration[high-availability.storageDir]: Required value"}},
		"last-state without HA or checkpoints": {v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{UpgradeMode: v1beta1.UpgradeModeLastState}},
			[]string{`spec.job.upgradeMode: Invalid value: "last-state": last-state needs high availability or checkpoints`}},
		"last-state with checkpoints": {v1beta1.FlinkDeploymentSpec{
			FlinkConfiguration: conf(`{"execution.checkpointing.interval": "10s", "execution.checkpointing.dir": "file:///ckpt"}`),
			Job:                &v1beta1.JobSpec{UpgradeMode: v1beta1.UpgradeModeLastState},
		}, nil},
		"savepoint mode without a savepoint directory": {v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{UpgradeMode: v1beta1.UpgradeModeSavepoint}},
			[]string{`spec.job.upgradeMode: Invalid value: "savepoint": savepoint upgrades need a savepoint directory: set execution.checkpointing.savepoint-dir`}},
		"savepoint mode with the legacy key": {v1beta1.FlinkDeploymentSpec{
			FlinkConfiguration: conf(`{"state.savepoints.dir": "file:///sp"}`),
			Job:                &v1beta1.JobSpec{UpgradeMode: v1beta1.UpgradeModeSavepoint},
		}, nil},
		"negative parallelism": {v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{Parallelism: -1}},
			[]string{"spec.job.parallelism: Invalid value: -1: must be 1 or more"}},
		"zero cpu": {v1beta1.FlinkDeploymentSpec{JobManager: &v1beta1.JobManagerSpec{Replicas: 1, Resource: &v1beta1.Resource{CPU: ptr.To(0.0)}}},
			[]string{"spec.jobManager.resource.cpu: Invalid value: 0: must be above 0"}},
		"configuration not YAML": {v1beta1.FlinkDeploymentSpec{FlinkConfiguration: conf(`[1, 2`)},
			[]string{"spec.flinkConfiguration: Invalid value"}},
	} {
		t.Run(name, func(t *testing.T) {
			errs := ValidateDeployment(&tc.spec)
			require.Len(t, errs, len(tc.want), "%v", errs)
			for i, want := range tc.want {
				require.Contains(t, errs[i].Error(), want)
			}
		})
	}
}
