package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/render"
)

func TestWithLogLevel(t *testing.T) {
	for _, tc := range []struct {
		name, file, logger, level, want string
	}{{
		name: "root", file: "monitorInterval = 30\nrootLogger.level = INFO\n", logger: RootLogger, level: "DEBUG",
		want: "monitorInterval = 30\nrootLogger.level = DEBUG\n",
	}, {
		name: "a declared logger, comments and colons kept", file: "monitorInterval=5\n# kafka\nlogger.kafka.name=org.apache.kafka\nlogger.kafka.level: INFO\n",
		logger: "org.apache.kafka", level: "WARN",
		want: "monitorInterval=5\n# kafka\nlogger.kafka.name=org.apache.kafka\nlogger.kafka.level = WARN\n",
	}, {
		name: "a declared logger without a level", file: "monitorInterval = 30\nlogger.cp.name = org.apache.flink.runtime.checkpoint\n",
		logger: "org.apache.flink.runtime.checkpoint", level: "TRACE",
		want: "monitorInterval = 30\nlogger.cp.name = org.apache.flink.runtime.checkpoint\nlogger.cp.level = TRACE\n",
	}, {
		name: "a new logger, its id taken by another", file: "monitorInterval = 30\nlogger.flok_a_b.name = a_b\n",
		logger: "a.b", level: "DEBUG",
		want: "monitorInterval = 30\nlogger.flok_a_b.name = a_b\nlogger.flok_a_b_2.name = a.b\nlogger.flok_a_b_2.level = DEBUG\n",
	}, {
		name: "a new logger joins the list of loggers", file: "monitorInterval = 30\nloggers = kafka\nlogger.kafka.name = org.apache.kafka\n",
		logger: "org.apache.flink", level: "DEBUG",
		want: "monitorInterval = 30\nloggers = kafka, flok_org_apache_flink\nlogger.kafka.name = org.apache.kafka\nlogger.flok_org_apache_flink.name = org.apache.flink\nlogger.flok_org_apache_flink.level = DEBUG\n",
	}, {
		name: "a file log4j never reads again gets a monitorInterval", file: "rootLogger.level = INFO\n", logger: RootLogger, level: "WARN",
		want: "monitorInterval = 30\nrootLogger.level = WARN\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, withLogLevel(tc.file, tc.logger, tc.level))
		})
	}
}

func TestWithLogLevelOfTheDefaultFile(t *testing.T) {
	got := withLogLevel(render.DefaultLog4jConsole, "org.apache.pekko", "DEBUG")
	require.Contains(t, got, "logger.pekko.name = org.apache.pekko\nlogger.pekko.level = DEBUG\n")
	require.Equal(t, len(render.DefaultLog4jConsole), len(got)-1, "one line changed, INFO → DEBUG")
}

// TestSetLogLevelWinsTheRaceWithTheOperator: a write that lost the race with another
// writer (the operator writes the status all the time; here someone edits the same
// file) is made again from what is there now, and keeps the other writer's change.
func TestSetLogLevelWinsTheRaceWithTheOperator(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "orders"}}
	raced := false
	api := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(fd).WithInterceptorFuncs(interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if !raced {
				raced = true
				other := &v1beta1.FlinkDeployment{}
				require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(obj), other))
				other.Spec.LogConfiguration = map[string]string{flinkconf.Log4jConsoleFile: render.DefaultLog4jConsole +
					"logger.kafka.name = org.apache.kafka\nlogger.kafka.level = WARN\n"}
				require.NoError(t, c.Update(ctx, other))
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
	}).Build()
	cl := &Client{API: api, Config: &rest.Config{}, Namespace: "team"}
	_, err := cl.SetLogLevel(t.Context(), "orders", "org.apache.flink", "debug")
	require.NoError(t, err)
	got := &v1beta1.FlinkDeployment{}
	require.NoError(t, api.Get(t.Context(), client.ObjectKeyFromObject(fd), got))
	file := got.Spec.LogConfiguration[flinkconf.Log4jConsoleFile]
	require.Contains(t, file, "= org.apache.flink\n")
	require.Contains(t, file, "logger.kafka.level = WARN", "the other writer's change to the same file is kept")
}
