package lifecycle

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
)

// change is how a spec differs from the one last deployed.
type change int

const (
	noChange change = iota
	// changeUpgrade needs a new cluster: image, resources, configuration, job.
	changeUpgrade
	// changeRestart: restartNonce changed and nothing else.
	changeRestart
	// changeRedeploy: savepointRedeployNonce changed; start from initialSavepointPath.
	changeRedeploy
	// changeSuspend: the job should stop.
	changeSuspend
	// changeResume: the suspended job should run again.
	changeResume
	// changeLogging: only the contents of logging files changed (not which files
	// there are): the running cluster takes them without a restart.
	changeLogging
)

// SpecComparison is a deployment's spec compared with the one it last deployed
// (status.reconciliationStatus.lastReconciledSpec). Both live in the resource, so a
// comparison holds until its resource version changes: a caller may keep it and pass
// it as Input.Compared, sparing every steady round a decode, two copies and two
// configuration parses. It is read only.
type SpecComparison struct {
	last   *v1beta1.FlinkDeploymentSpec
	err    error
	change change
}

// CompareSpec compares fd's spec with the one it last deployed.
func CompareSpec(fd *v1beta1.FlinkDeployment) *SpecComparison {
	last, err := DecodeSpec(fd.Status.ReconciliationStatus.LastReconciledSpec)
	c := &SpecComparison{last: last, err: err}
	if err == nil && last != nil {
		c.change = classify(&fd.Spec, last)
	}
	return c
}

// classify compares the spec with the last deployed one. Fields that steer how a
// change happens rather than what runs (upgradeMode, the snapshot nonces,
// initialSavepointPath, allowNonRestoredState, kubernetes.operator.* options) are
// not changes.
func classify(spec, last *v1beta1.FlinkDeploymentSpec) change {
	suspendedNow, suspendedBefore := suspended(spec), suspended(last)
	switch {
	case suspendedNow && !suspendedBefore:
		return changeSuspend
	case !suspendedNow && suspendedBefore:
		return changeResume
	case suspendedNow:
		return noChange
	}
	if spec.Job != nil && last.Job != nil && !equalPtr(spec.Job.SavepointRedeployNonce, last.Job.SavepointRedeployNonce) {
		return changeRedeploy
	}
	if !reflect.DeepEqual(shapeOf(spec), shapeOf(last)) {
		return changeUpgrade
	}
	if !equalPtr(spec.RestartNonce, last.RestartNonce) {
		return changeRestart
	}
	if !maps.Equal(spec.LogConfiguration, last.LogConfiguration) {
		if liveLogging(spec.LogConfiguration, last.LogConfiguration) {
			return changeLogging
		}
		return changeUpgrade
	}
	return noChange
}

// liveLogging says the running processes take the logging change themselves: only the
// console's log4j file changed, and the deployed one makes log4j read it again (Flok's
// default file does). Any other file, or one never read again, takes a restart.
func liveLogging(files, deployed map[string]string) bool {
	for name, content := range files {
		if name != flinkconf.Log4jConsoleFile && deployed[name] != content {
			return false
		}
	}
	running, given := deployed[flinkconf.Log4jConsoleFile]
	return !given || flinkconf.Log4jWatched(running)
}

func suspended(spec *v1beta1.FlinkDeploymentSpec) bool {
	return spec.Job != nil && spec.Job.State == v1beta1.JobStateSuspended
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// specShape is a spec reduced to what runs.
type specShape struct {
	Spec   v1beta1.FlinkDeploymentSpec
	Config flinkconf.Config
}

func shapeOf(spec *v1beta1.FlinkDeploymentSpec) specShape {
	s := *spec.DeepCopy()
	var conf flinkconf.Config
	if s.FlinkConfiguration != nil {
		conf, _ = flinkconf.Parse(s.FlinkConfiguration.Raw)
		for k := range conf {
			if strings.HasPrefix(k, "kubernetes.operator.") || strings.HasPrefix(k, "job.autoscaler.") {
				delete(conf, k)
			}
		}
	}
	s.FlinkConfiguration = nil
	s.RestartNonce = nil
	// Which logging files there are is part of the shape (the Pods mount them one by
	// one; the console's log4j file always); their contents are not: log4j reads them
	// again while running.
	delete(s.LogConfiguration, flinkconf.Log4jConsoleFile)
	for name := range s.LogConfiguration {
		s.LogConfiguration[name] = ""
	}
	if len(s.LogConfiguration) == 0 {
		s.LogConfiguration = nil
	}
	if s.Job != nil {
		s.Job.State = ""
		s.Job.UpgradeMode = ""
		s.Job.SavepointTriggerNonce = nil
		s.Job.CheckpointTriggerNonce = nil
		s.Job.SavepointRedeployNonce = nil
		s.Job.AutoscalerResetNonce = nil
		s.Job.InitialSavepointPath = ""
		s.Job.AllowNonRestoredState = nil
	}
	if len(conf) == 0 {
		conf = nil
	}
	return specShape{Spec: s, Config: conf}
}

// encodeSpec is how specs are kept in reconciliationStatus.
func encodeSpec(spec *v1beta1.FlinkDeploymentSpec) string {
	data, err := json.Marshal(spec)
	if err != nil {
		// A spec read from the API server always marshals.
		panic(fmt.Sprintf("lifecycle: encoding a spec: %v", err))
	}
	return string(data)
}

// DecodeSpec reads a spec kept in reconciliationStatus (lastReconciledSpec,
// lastStableSpec); "" gives nil.
func DecodeSpec(text string) (*v1beta1.FlinkDeploymentSpec, error) {
	if text == "" {
		return nil, nil
	}
	spec := &v1beta1.FlinkDeploymentSpec{}
	if err := json.Unmarshal([]byte(text), spec); err != nil {
		return nil, fmt.Errorf("status.reconciliationStatus holds a spec Flok cannot read: %w", err)
	}
	return spec, nil
}
