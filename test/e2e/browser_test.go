package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color/palette"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browser is a headless Chromium (Debian's, installed by make tools) driving the
// console's pages as a person would.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Chromium for t. It reaches loopback only: every name but
// 127.0.0.1 fails to resolve, and the browser's own background traffic (updates,
// sync, safe browsing) is off. A failing test leaves a screenshot of the page in its
// artifacts (go test -artifacts).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	require.NoError(t, err, "Chromium drives the console's pages: run `make tools` (hack/browser.sh installs Debian's chromium)")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true), chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot("failure")
		}
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, and must have no deadline of its own.
	require.NoError(t, chromedp.Do(ctx), "Chromium starts")
	return b
}

// run runs steps with a deadline, failing the test with what was being done.
func (b *browser) run(what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...), "the page: %s", what)
}

// waitForText waits until the element's text contains want.
func (b *browser) waitForText(selector, want string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector), chromedp.NodeVisible))
		cancel()
		if err == nil && strings.Contains(text, want) {
			return
		}
		require.True(b.t, time.Now().Before(deadline), "the page's %s shows %q within %s (it shows %q, %v)", selector, want, timeout, text, err)
		time.Sleep(time.Second)
	}
}

// confirm clicks an action's button and confirms its dialog.
func (b *browser) confirm(action string) {
	b.t.Helper()
	b.run("asking for "+action, time.Minute,
		chromedp.Click(chromedp.CSS("#action-"+action), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#confirm-ok"), chromedp.NodeVisible))
}

// screenshot saves the page as a PNG in the test's artifacts.
func (b *browser) screenshot(name string) {
	b.screenshotInto(b.t.ArtifactDir(), name)
}

// docScreenshotsEnv names a directory where the browser test saves the screenshots
// docs/console.md shows (FLOK_CONSOLE_SCREENSHOTS=docs/images).
const docScreenshotsEnv = "FLOK_CONSOLE_SCREENSHOTS"

// docScreenshot saves the page for the docs when asked to, in 256 colours (the docs
// keep each image under 200 KB).
func (b *browser) docScreenshot(name string) {
	if dir := os.Getenv(docScreenshotsEnv); dir != "" {
		b.screenshotInto(dir, name, toPalette)
	}
}

// screenshotInto saves the whole page as dir/name.png, its bytes passed through
// convert when given.
func (b *browser) screenshotInto(dir, name string, convert ...func([]byte) ([]byte, error)) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	data, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	for _, c := range convert {
		if err == nil {
			data, err = c(data)
		}
	}
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, data, 0o644); err == nil {
		b.t.Logf("screenshot of the page: %s", path)
	}
}

// toPalette re-encodes a PNG in the 256 colours of the Plan 9 palette.
func toPalette(data []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	paletted := image.NewPaletted(img.Bounds(), palette.Plan9)
	draw.Draw(paletted, img.Bounds(), img, img.Bounds().Min, draw.Src)
	var out bytes.Buffer
	err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, paletted)
	return out.Bytes(), err
}

// proveConsolePages: the overview lists the job running; its page draws a checkpoint
// chart of at least two checkpoints.
func proveConsolePages(b *browser, consoleURL, ns, name string) {
	b.t.Helper()
	row := `#overview tr[data-name="` + name + `"]`
	b.run("the overview", time.Minute, chromedp.Navigate(consoleURL+"/#/?namespace="+ns), chromedp.WaitVisible(chromedp.CSS(row)))
	b.waitForText(row, "RUNNING", time.Minute)
	b.docScreenshot("console-overview")
	b.run("the deployment's page", 2*time.Minute, chromedp.Click(chromedp.CSS(row+" a")),
		chromedp.WaitVisible(chromedp.CSS("#action-savepoint")),
		chromedp.WaitVisible(chromedp.CSS("svg.chart rect.bar")))
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	bars, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg.chart rect.bar"), chromedp.AtLeast(2)))
	require.NoError(b.t, err, "the checkpoint chart")
	require.GreaterOrEqual(b.t, len(bars), 2, "a chart of two checkpoints at least")
	b.run("the page drawn", time.Minute, chromedp.WaitVisible(chromedp.CSS("#taskmanagers")))
	b.docScreenshot("console-deployment")
}
