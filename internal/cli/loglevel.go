package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

// RootLogger names log4j's root logger to SetLogLevel.
const RootLogger = "root"

// logLevels are log4j's levels, most silent first.
var logLevels = []string{"OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"}

// defaultMonitorInterval is how often log4j reads its file again when SetLogLevel has
// to add the setting, in seconds (as Flink's own default file).
const defaultMonitorInterval = "30"

// SetLogLevel sets a logger's level (RootLogger for the root) in the deployment's
// log4j-console.properties — the spec's, or Flok's default when the spec has none.
// Flink's processes read the file again while running: the job is not restarted.
func (c *Client) SetLogLevel(ctx context.Context, name, logger, level string) (client.Object, error) {
	level = strings.ToUpper(level)
	if !slices.Contains(logLevels, level) {
		return nil, fmt.Errorf("level %q: must be one of %s", level, strings.Join(logLevels, ", "))
	}
	if logger == "" {
		return nil, fmt.Errorf("logger: must be a logger name such as org.apache.flink.runtime.checkpoint, or %q", RootLogger)
	}
	var fd *v1beta1.FlinkDeployment
	// Optimistic: the whole file is written, so an edit made meanwhile must not be lost;
	// a write that lost the race (the operator writes the status all the time) is made
	// again from what is there now.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := c.Get(ctx, name)
		if err != nil {
			return err
		}
		var ok bool
		if fd, ok = obj.(*v1beta1.FlinkDeployment); !ok {
			return fmt.Errorf("%s is a session job: its logging is its session cluster's (flok loglevel SESSION %s %s)", obj.GetName(), logger, level)
		}
		before := fd.DeepCopy()
		file, ok := fd.Spec.LogConfiguration[flinkconf.Log4jConsoleFile]
		if !ok {
			file = render.DefaultLog4jConsole
		}
		if fd.Spec.LogConfiguration == nil {
			fd.Spec.LogConfiguration = map[string]string{}
		}
		fd.Spec.LogConfiguration[flinkconf.Log4jConsoleFile] = withLogLevel(file, logger, level)
		return c.API.Patch(ctx, fd, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return nil, explain(err, c.Config.Host)
	}
	return fd, nil
}

// LoggingRestarts says whether a change of obj's console logging file takes a restart:
// the file it runs with makes log4j never read it again (no monitorInterval).
func LoggingRestarts(obj client.Object) bool {
	fd, ok := obj.(*v1beta1.FlinkDeployment)
	if !ok {
		return false
	}
	running, err := lifecycle.DecodeSpec(fd.Status.ReconciliationStatus.LastReconciledSpec)
	if err != nil || running == nil {
		return false
	}
	file, given := running.LogConfiguration[flinkconf.Log4jConsoleFile]
	return given && !flinkconf.Log4jWatched(file)
}

// withLogLevel is a log4j2 properties file with logger's level set: the root logger's,
// a logger the file names (logger.ID.name = logger), or a new one. A file that log4j
// would never read again (no monitorInterval) gets one.
func withLogLevel(file, logger, level string) string {
	lines := strings.Split(strings.TrimSuffix(file, "\n"), "\n")
	values := map[string]int{} // key → its line
	for i, line := range lines {
		if key, _, ok := flinkconf.Log4jProperty(line); ok {
			values[key] = i
		}
	}
	set := func(key, value string) {
		if i, ok := values[key]; ok {
			lines[i] = key + " = " + value
			return
		}
		values[key] = len(lines)
		lines = append(lines, key+" = "+value)
	}
	if _, ok := values["monitorInterval"]; !ok {
		lines = append([]string{"monitorInterval = " + defaultMonitorInterval}, lines...)
		for k := range values {
			values[k]++
		}
	}
	if logger == RootLogger {
		set("rootLogger.level", level)
		return strings.Join(lines, "\n") + "\n"
	}
	id, declared := loggerID(lines, values, logger)
	if !declared {
		set("logger."+id+".name", logger)
		if i, listed := values["loggers"]; listed {
			// With a list, log4j configures the loggers it names only.
			_, listed, _ := flinkconf.Log4jProperty(lines[i])
			lines[i] = "loggers = " + strings.TrimSuffix(listed, ",") + ", " + id
		}
	}
	set("logger."+id+".level", level)
	return strings.Join(lines, "\n") + "\n"
}

// loggerID is the id the file gives logger (logger.ID.name = logger, declared), or a
// new one no other logger has.
func loggerID(lines []string, values map[string]int, logger string) (id string, declared bool) {
	for _, line := range lines {
		key, value, ok := flinkconf.Log4jProperty(line)
		if !ok || value != logger {
			continue
		}
		if id, ok := strings.CutPrefix(key, "logger."); ok && strings.HasSuffix(id, ".name") {
			return strings.TrimSuffix(id, ".name"), true
		}
	}
	base := "flok_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, logger)
	id = base
	for n := 2; ; n++ {
		if _, taken := values["logger."+id+".name"]; !taken {
			return id, false
		}
		id = fmt.Sprintf("%s_%d", base, n)
	}
}
