package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
)

func withLogging(fd *v1beta1.FlinkDeployment, files map[string]string) *v1beta1.FlinkDeployment {
	fd.Spec.LogConfiguration = files
	fd.Generation++
	return fd
}

func TestLoggingChangeWithoutRestart(t *testing.T) {
	debug := map[string]string{"log4j-console.properties": "monitorInterval = 30\nrootLogger.level = DEBUG\n"}
	fd := runningDeployment()
	fd.Spec.LogConfiguration = map[string]string{"log4j-console.properties": "monitorInterval = 30\nrootLogger.level = INFO\n"}
	fd.Status.ReconciliationStatus.LastReconciledSpec = encodeSpec(&fd.Spec)
	fd.Status.ReconciliationStatus.LastStableSpec = encodeSpec(&fd.Spec)
	fd = withLogging(fd, debug)

	obs := running(runningJobID)
	obs.DeployedLoggingHash, obs.DesiredLoggingHash = "info", "debug"
	d := decide(t, fd, obs)
	require.Equal(t, ActionUpdateLogging, d.Action.Type, "only the logging contents changed: no restart")
	require.Equal(t, debug, d.Action.Spec.LogConfiguration)
	require.Nil(t, d.Status.Operation, "no upgrade starts")
	require.NotZero(t, d.RequeueAfter, "the hash is checked again")

	obs.DeployedLoggingHash = "debug"
	d = decide(t, then(fd, d), obs)
	require.Equal(t, ActionNone, d.Action.Type)
	require.Equal(t, reasonLoggingUpdated, d.Events[0].Reason)
	reconciled, err := DecodeSpec(d.Status.ReconciliationStatus.LastReconciledSpec)
	require.NoError(t, err)
	require.Equal(t, debug, reconciled.LogConfiguration)
	require.Equal(t, d.Status.ReconciliationStatus.LastReconciledSpec, d.Status.ReconciliationStatus.LastStableSpec,
		"a stable spec with other logging stays stable")
	require.Equal(t, fd.Generation, d.Status.ObservedGeneration)
}

func TestLoggingChangeWaitsForACluster(t *testing.T) {
	fd := withLogging(runningDeployment(), map[string]string{"log4j-console.properties": "rootLogger.level = DEBUG\n"})
	d := decide(t, fd, Observation{Now: t0, Cluster: ClusterMissing})
	require.NotEqual(t, ActionUpdateLogging, d.Action.Type, "without a cluster there is nothing to update")
}

func TestNewLoggingFileIsAnUpgrade(t *testing.T) {
	fd := runningDeployment()
	fd.Spec.LogConfiguration = map[string]string{"log4j-console.properties": "monitorInterval = 30\n"}
	fd.Status.ReconciliationStatus.LastReconciledSpec = encodeSpec(&fd.Spec)
	fd = withLogging(fd, map[string]string{"log4j-console.properties": "monitorInterval = 30\n", "logback-console.xml": "<configuration/>"})
	d := decide(t, fd, running(runningJobID))
	require.NotEqual(t, ActionUpdateLogging, d.Action.Type, "a new file must be mounted: the Pods change")
	require.NotNil(t, d.Status.Operation, "an upgrade starts")
}

func TestFirstLoggingFileOfTheConsoleIsNoUpgrade(t *testing.T) {
	fd := withLogging(runningDeployment(), map[string]string{"log4j-console.properties": "rootLogger.level = DEBUG\n"})
	obs := running(runningJobID)
	obs.DeployedLoggingHash, obs.DesiredLoggingHash = "default", "debug"
	d := decide(t, fd, obs)
	require.Equal(t, ActionUpdateLogging, d.Action.Type, "the console's file is always mounted: giving it is a logging change")
}

func TestLoggingNeverReadAgainIsAnUpgrade(t *testing.T) {
	fd := runningDeployment()
	fd.Spec.LogConfiguration = map[string]string{"log4j-console.properties": "rootLogger.level = INFO\n"}
	fd.Status.ReconciliationStatus.LastReconciledSpec = encodeSpec(&fd.Spec)
	fd = withLogging(fd, map[string]string{"log4j-console.properties": "monitorInterval = 30\nrootLogger.level = DEBUG\n"})
	d := decide(t, fd, running(runningJobID))
	require.NotEqual(t, ActionUpdateLogging, d.Action.Type, "the running log4j never reads its file again")
	require.NotNil(t, d.Status.Operation, "a restart applies it")

	other := runningDeployment()
	other.Spec.LogConfiguration = map[string]string{"logback-console.xml": "<configuration/>"}
	other.Status.ReconciliationStatus.LastReconciledSpec = encodeSpec(&other.Spec)
	other = withLogging(other, map[string]string{"logback-console.xml": "<configuration scan=\"true\"/>"})
	d = decide(t, other, running(runningJobID))
	require.NotNil(t, d.Status.Operation, "only the console's log4j file is taken live")
}

func TestLoggingDriftIsWrittenAgain(t *testing.T) {
	obs := running(runningJobID)
	obs.DeployedLoggingHash, obs.DesiredLoggingHash = "reverted", "recorded"
	d := decide(t, runningDeployment(), obs)
	require.Equal(t, ActionUpdateLogging, d.Action.Type, "the running files are not the recorded spec's")
	require.Empty(t, d.Events, "no change to announce")

	obs.DeployedLoggingHash = "recorded"
	d = decide(t, runningDeployment(), obs)
	require.Equal(t, ActionNone, d.Action.Type)
	require.Empty(t, d.Events)
}
