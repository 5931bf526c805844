package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/checkpointhistory"
	"github.com/flok-dev/flok/internal/cli/commands"
	"github.com/flok-dev/flok/internal/console"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinkdist"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/hostnet"
)

// consoleClient is a page of the Flok Console as a browser would load it: it keeps the
// console's cookies and repeats the CSRF token on changes.
type consoleClient struct {
	t    *testing.T
	URL  string
	http *http.Client
}

// consoleMapper maps Flok's kinds on the test cluster.
func consoleMapper(t *testing.T) *console.Options {
	t.Helper()
	httpClient, err := rest.HTTPClientFor(cluster.Config)
	require.NoError(t, err)
	mapper, err := apiutil.NewDynamicRESTMapper(cluster.Config, httpClient)
	require.NoError(t, err)
	return &console.Options{Mapper: mapper}
}

// startLocalConsole serves the console as `flok dashboard` does, with the test's
// admin identity, looking first at ns.
func startLocalConsole(t *testing.T, ns string) *consoleClient {
	t.Helper()
	opts := consoleMapper(t)
	viewer, err := console.NewViewer(cluster.Config, opts.Mapper, "admin", ns)
	require.NoError(t, err)
	opts.Authenticator = console.Local{Viewer: viewer}
	return startConsole(t, *opts)
}

func startConsole(t *testing.T, opts console.Options) *consoleClient {
	t.Helper()
	server := httptest.NewServer(console.New(opts))
	t.Cleanup(server.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &consoleClient{t: t, URL: server.URL, http: &http.Client{Jar: jar, Timeout: time.Minute}}
	c.get("/api/session", nil) // the CSRF cookie
	return c
}

// get reads path's JSON into out and returns the status.
func (c *consoleClient) get(path string, out any) int {
	c.t.Helper()
	status, body := c.text(path)
	if out != nil && status == http.StatusOK {
		require.NoError(c.t, json.Unmarshal([]byte(body), out), body)
	}
	return status
}

// text reads path as text.
func (c *consoleClient) text(path string) (int, string) {
	c.t.Helper()
	res, err := c.http.Get(c.URL + path)
	require.NoError(c.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	return res.StatusCode, string(body)
}

// act asks for an action on a resource; it returns the status and the error said.
func (c *consoleClient) act(ns, resource, name, action, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.URL+"/api/resources/"+ns+"/"+resource+"/"+name+"/"+action, strings.NewReader(body))
	require.NoError(c.t, err)
	c.csrf(req)
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	var e struct{ Error, Reason string }
	_ = json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, e.Reason + ": " + e.Error
}

// liveRows reads the live stream of ns until a "rows" event satisfies done.
func (c *consoleClient) liveRows(ns string, timeout time.Duration, what string, done func([]console.Row) bool) []console.Row {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/api/live?namespace="+ns, nil)
	require.NoError(c.t, err)
	res, err := (&http.Client{Jar: c.http.Jar}).Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	require.Equal(c.t, http.StatusOK, res.StatusCode)
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 1<<20), 16<<20)
	var last []console.Row
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		require.NoError(c.t, json.Unmarshal([]byte(data), &last))
		if done(last) {
			return last
		}
	}
	require.Failf(c.t, "the console's live rows did not show "+what, "within %s; last: %+v", timeout, last)
	return nil
}

// rowNamed is the row of name, or nil.
func rowNamed(rows []console.Row, name string) *console.Row {
	for i := range rows {
		if rows[i].Name == name {
			return &rows[i]
		}
	}
	return nil
}

// proveConsoleViews: the console's overview and live rows list the running job; its
// page shows its JobManager Pod, its log and the checkpoints — the running job's (a
// chart needs two) and those the operator kept of earlierJob, which an upgrade ended;
// Flink's web UI answers through the console, for reading only.
func proveConsoleViews(t *testing.T, page *consoleClient, ns, name, earlierJob string) {
	t.Helper()
	var rows []console.Row
	require.Equal(t, http.StatusOK, page.get("/api/overview?namespace="+ns, &rows))
	row := rowNamed(rows, name)
	require.NotNil(t, row, "the overview lists %s: %+v", name, rows)
	require.Equal(t, console.ResourceDeployment, row.Resource)
	require.Equal(t, "RUNNING", row.JobState)
	require.NotNil(t, row.JobStarted, "a running job has an uptime")
	page.liveRows(ns, time.Minute, name+" running with a checkpoint recorded", func(rows []console.Row) bool {
		r := rowNamed(rows, name)
		return r != nil && r.JobState == "RUNNING" && r.Lifecycle == string(v1beta1.LifecycleStable) && r.LastCheckpoint != nil
	})

	base := "/api/resources/" + ns + "/" + console.ResourceDeployment + "/" + name
	var detail struct {
		Pods []console.Pod `json:"pods"`
	}
	require.Equal(t, http.StatusOK, page.get(base, &detail))
	var jobManager string
	for _, p := range detail.Pods {
		if p.Component == render.ComponentJobManager && !p.Deleting {
			jobManager = p.Name
		}
	}
	require.NotEmpty(t, jobManager, "the page lists the JobManager Pod: %+v", detail.Pods)
	status, log := page.text("/api/logs/" + ns + "/" + jobManager + "/flink-main-container")
	require.Equal(t, http.StatusOK, status, log)
	require.Contains(t, log, "org.apache.flink", "the JobManager's log")

	deadline := time.Now().Add(time.Minute)
	for {
		var view console.FlinkView
		require.Equal(t, http.StatusOK, page.get(base+"/flink", &view))
		completed, earlier := 0, 0
		for _, cp := range view.Checkpoints {
			switch {
			case cp.JobID == earlierJob:
				earlier++
			case cp.Status == "COMPLETED":
				completed++
			}
		}
		if completed >= 2 && earlier > 0 && len(view.TaskManagers) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "two completed checkpoints, the earlier job's kept ones and a TaskManager on the page: %+v", view)
		time.Sleep(time.Second)
	}

	status, config := page.text("/flink/" + ns + "/" + name + "/config")
	require.Equal(t, http.StatusOK, status, config)
	require.Contains(t, config, `"flink-version"`, "Flink's web UI answers through the console")
	res, err := page.http.Post(page.URL+"/flink/"+ns+"/"+name+"/jobs/overview", "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, "changes through Flink's UI would go around Flok")
}

// TestConsoleAuthorization: the in-cluster console's viewers sign in with a token the
// API server reviews, and see and change only what their own rights allow — a viewer
// bound to namespace A never sees namespace B's jobs, in the JSON, the live stream or
// through the Flink UI proxy; an action without patch rights is refused with the API
// server's reason; a forged token is refused. `flok dashboard` serves the same console
// with the kubeconfig's identity. (No Flink: the rights are the API server's.)
func TestConsoleAuthorization(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	nsA, nsB := cluster.Namespace(t), cluster.Namespace(t)
	c := flokClient(t)
	for ns, name := range map[string]string{nsA: "a-job", nsB: "b-job"} {
		require.NoError(t, c.Create(ctx, topSpeedWindowing(t, ns, name, "native", flinkdist.Flink2, t.TempDir())))
	}
	token := flinktest.NamespaceViewerToken(t, cluster, nsA)
	opts := consoleMapper(t)
	opts.Authenticator = &console.Tokens{Reviews: cluster.Client, Base: cluster.Config, Mapper: opts.Mapper}
	page := startConsole(t, *opts)

	require.Equal(t, http.StatusUnauthorized, page.get("/api/overview", nil), "nobody signed in")
	require.Equal(t, http.StatusUnauthorized, page.login("not-a-token"), "a forged token")
	require.Equal(t, http.StatusOK, page.login(token))

	var rows []console.Row
	require.Equal(t, http.StatusOK, page.get("/api/overview", &rows), "the service account's namespace first")
	require.Len(t, rows, 1)
	require.Equal(t, "a-job", rows[0].Name)
	live := page.liveRows(nsA, time.Minute, "a-job", func(rows []console.Row) bool { return rowNamed(rows, "a-job") != nil })
	require.Len(t, live, 1)
	var namespaces console.Namespaces
	require.Equal(t, http.StatusOK, page.get("/api/namespaces", &namespaces))
	require.Equal(t, console.Namespaces{Names: []string{nsA}}, namespaces, "a viewer who may not list namespaces gets their own")

	for _, path := range []string{
		"/api/overview?namespace=" + nsB, "/api/overview?namespace=*", "/api/live?namespace=" + nsB,
		"/api/resources/" + nsB + "/flinkdeployment/b-job", "/api/resources/" + nsB + "/flinkdeployment/b-job/flink",
		"/flink/" + nsB + "/b-job/config",
	} {
		status, body := page.text(path)
		require.Equal(t, http.StatusForbidden, status, path)
		require.NotContains(t, body, `"lifecycle"`, path)
		require.NotContains(t, body, `"checkpoints"`, path)
	}
	status, msg := page.act(nsA, console.ResourceDeployment, "a-job", "suspend", "")
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, msg, "Forbidden: ")
	require.Contains(t, msg, `cannot patch resource "flinkdeployments"`, "the API server's reason")
	proveDashboardCommand(t, nsA, "a-job")
}

// login signs in with token as the sign-in page does.
func (c *consoleClient) login(token string) int {
	c.t.Helper()
	body, err := json.Marshal(map[string]string{"token": token})
	require.NoError(c.t, err)
	req, err := http.NewRequest(http.MethodPost, c.URL+"/api/login", strings.NewReader(string(body)))
	require.NoError(c.t, err)
	c.csrf(req)
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	res.Body.Close()
	return res.StatusCode
}

// csrf repeats the console's CSRF cookie in the header, as its page does.
func (c *consoleClient) csrf(req *http.Request) {
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		if ck.Name == console.CSRFCookie {
			req.Header.Set(console.CSRFHeader, ck.Value)
		}
	}
}

// proveDashboardCommand: `flok dashboard` serves the console with the kubeconfig's
// identity in the namespace of -n, refuses a request addressed by a foreign host name,
// and stops when its context does.
func proveDashboardCommand(t *testing.T, ns, name string) {
	t.Helper()
	ports, err := hostnet.FreePorts(1)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan int, 1)
	var out bytes.Buffer
	go func() {
		done <- commands.Execute(ctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out},
			[]string{"--kubeconfig", cluster.KubeconfigPath, "-n", ns, "dashboard", "--address", addr, "--no-open"})
	}()
	page := &consoleClient{t: t, URL: "http://" + addr, http: &http.Client{Timeout: time.Minute}}
	var session console.Session
	flinktest.WaitFor(t, time.Minute, "flok dashboard serving", func(context.Context) (bool, error) {
		res, err := http.Get(page.URL + "/api/session")
		if err != nil {
			return false, nil
		}
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK, json.NewDecoder(res.Body).Decode(&session)
	})
	require.Equal(t, ns, session.Namespace)
	require.NotEmpty(t, session.Viewer, "the kubeconfig's user")
	require.False(t, session.SignIn)
	var rows []console.Row
	require.Equal(t, http.StatusOK, page.get("/api/overview", &rows))
	require.NotNil(t, rowNamed(rows, name), "%+v", rows)
	req, err := http.NewRequest(http.MethodGet, page.URL+"/api/overview", nil)
	require.NoError(t, err)
	req.Host = "rebound.example:80"
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusForbidden, res.StatusCode, "DNS rebinding")
	stop()
	require.Equal(t, 0, <-done, out.String())
	require.Contains(t, out.String(), "Flok Console: http://"+addr+"/")
}

// waitForKeptCheckpoint waits until the operator kept a completed checkpoint of job in
// the deployment's history ConfigMap.
func waitForKeptCheckpoint(t *testing.T, ns, name, job string) {
	t.Helper()
	waitForKeptCheckpointAfter(t, ns, name, job, time.Time{})
}

// waitForKeptCheckpointAfter waits until the operator keeps a completed checkpoint of
// job triggered after since in the history of FlinkDeployment name.
func waitForKeptCheckpointAfter(t *testing.T, ns, name, job string, since time.Time) {
	t.Helper()
	flinktest.WaitFor(t, time.Minute, "a checkpoint of job "+job+" kept in the history", func(ctx context.Context) (bool, error) {
		cm, err := cluster.Client.CoreV1().ConfigMaps(ns).Get(ctx, checkpointhistory.ConfigMapName(name, v1beta1.KindFlinkDeployment), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		entries, err := checkpointhistory.Decode(cm)
		return slices.ContainsFunc(entries, func(e checkpointhistory.Entry) bool {
			return e.JobID == job && e.Status == "COMPLETED" && e.Triggered > since.UnixMilli()
		}), err
	})
}
