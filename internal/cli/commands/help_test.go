package commands

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"k8s.io/client-go/util/homedir"

	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/test/golden"
)

// TestHelpGolden keeps every command's help as it reads: a change shows in review.
func TestHelpGolden(t *testing.T) {
	for _, args := range [][]string{
		{}, {"run"}, {"submit"}, {"image", "build"}, {"session"}, {"session", "start"}, {"list"}, {"status"}, {"savepoint"}, {"suspend"},
		{"resume"}, {"restart"}, {"delete"}, {"logs"}, {"ui"}, {"dashboard"}, {"render"}, {"install"}, {"uninstall"}, {"convert"},
	} {
		var out bytes.Buffer
		code := Execute(context.Background(), genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}, append(args, "--help"))
		require.Equal(t, ExitOK, code)
		text := out.String()
		// Only the command's own part: the kubectl cluster flags are cli-runtime's.
		if i := strings.Index(text, "\nGlobal Flags:"); i >= 0 {
			text = text[:i+1]
		}
		// The kubeconfig cache's default lies under the user's home directory.
		text = strings.ReplaceAll(text, homedir.HomeDir(), "$HOME")
		name := "help-" + strings.Join(append([]string{"flok"}, args...), "-") + ".golden"
		golden.Compare(t, filepath.Join("testdata", name), []byte(text))
	}
}

// TestExitCodes: usage errors and failed commands exit 1 with the reason on stderr.
func TestExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	require.Equal(t, ExitError, Execute(context.Background(), streams, []string{"status"}))
	require.Contains(t, errOut.String(), "accepts 1 arg(s)")
	errOut.Reset()
	require.Equal(t, ExitError, Execute(context.Background(), streams, []string{"list", "--kubeconfig", "/nonexistent"}))
	require.Contains(t, errOut.String(), "no cluster configured")
}

// TestProgress: a terminal redraws the current step's line each second; a log gets one
// plain line per step.
func TestProgress(t *testing.T) {
	steps := []cli.Progress{
		{Elapsed: 0, Lifecycle: "STABLE", Step: "job a is running"},
		{Elapsed: time.Second, Lifecycle: "UPGRADING", Step: "Upgrade: deploying"},
		{Elapsed: 2 * time.Second, Lifecycle: "UPGRADING", Step: "Upgrade: deploying", Repeat: true},
	}
	var log, tty bytes.Buffer
	plain, live := &progress{w: &log}, &progress{w: &tty, tty: true}
	for _, s := range steps {
		plain.report(s)
		live.report(s)
	}
	plain.end()
	live.end()
	require.Equal(t, "[    0s] STABLE     job a is running\n[    1s] UPGRADING  Upgrade: deploying\n", log.String())
	require.Equal(t, "\n[    0s] STABLE     job a is running\n[    1s] UPGRADING  Upgrade: deploying\r\x1b[K[    2s] UPGRADING  Upgrade: deploying\n", tty.String())
}

// TestFileCommandsReadStandardInput: render and convert take -f - as kubectl does.
func TestFileCommandsReadStandardInput(t *testing.T) {
	sample, err := os.ReadFile("../../../config/samples/flinkdeployment-native.yaml")
	require.NoError(t, err)
	want, err := cli.Render(sample)
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: bytes.NewReader(sample), Out: &out, ErrOut: &errOut}
	require.Equal(t, ExitOK, Execute(context.Background(), streams, []string{"render", "-f", "-"}), errOut.String())
	require.Equal(t, string(want), out.String())

	apache, err := os.ReadFile("../testdata/apache-basic.yaml")
	require.NoError(t, err)
	out.Reset()
	streams.In = bytes.NewReader(apache)
	require.Equal(t, ExitOK, Execute(context.Background(), streams, []string{"convert", "-f", "-"}), errOut.String())
	require.Contains(t, out.String(), "apiVersion: flok.dev/v1beta1")
}

// TestDashboardListensOnLoopbackOnly: an address others could reach is refused before
// anything is served.
func TestDashboardListensOnLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8090": true, "localhost:0": true, "[::1]:8090": true, "0.0.0.0:8090": false, ":8090": false, "10.1.2.3:80": false, "8090": false} {
		err := loopbackOnly(addr)
		require.Equal(t, ok, err == nil, "%s: %v", addr, err)
	}
}
