package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/checkpointhistory"
	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/lifecycle"
	"github.com/flok-dev/flok/internal/render"
)

func application(ns, name string, mutate func(*v1beta1.FlinkDeployment)) *v1beta1.FlinkDeployment {
	fd := &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.FlinkDeploymentSpec{FlinkVersion: "v2_3", Job: &v1beta1.JobSpec{JarURI: "local:///job.jar", Parallelism: 2}},
	}
	fd.Status.LifecycleState = v1beta1.LifecycleStable
	fd.Status.JobStatus = v1beta1.JobStatus{JobID: "j-" + name, State: "RUNNING", StartTime: "1700000000000"}
	if mutate != nil {
		mutate(fd)
	}
	return fd
}

// testServer is a console whose one viewer acts through api.
func testServer(t *testing.T, api client.Client, objs ...runtime.Object) (*Server, *Viewer) {
	t.Helper()
	v := &Viewer{Name: "tester", Client: &cli.Client{API: api, Config: &rest.Config{Host: "http://127.0.0.1:9"}, Namespace: "a"},
		Kube: kubefake.NewClientset(objs...), key: "tester"}
	return New(Options{Authenticator: Local{Viewer: v}}), v
}

func fakeAPI(objs ...client.Object) *fake.ClientBuilder {
	return fake.NewClientBuilder().WithScheme(cli.Scheme()).WithObjects(objs...).WithStatusSubresource(&v1beta1.FlinkDeployment{}, &v1beta1.FlinkSessionJob{}).
		WithIndex(&eventsv1.Event{}, "regarding.uid", func(o client.Object) []string { return []string{string(o.(*eventsv1.Event).Regarding.UID)} })
}

// do sends a request, with the CSRF cookie and header for a change when csrf.
func do(t *testing.T, h http.Handler, method, path, body string, csrf bool) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if csrf {
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: "tok"})
		r.Header.Set(CSRFHeader, "tok")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var out T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return out
}

// TestOverviewPutsProblemsFirst: rows of the asked namespace only, those in trouble
// first with what is wrong, then by name; all namespaces with *.
func TestOverviewPutsProblemsFirst(t *testing.T) {
	failed := application("a", "zeta", func(fd *v1beta1.FlinkDeployment) {
		fd.Status.Conditions = []metav1.Condition{{Type: lifecycle.ConditionDegraded, Status: metav1.ConditionTrue, Reason: "JobFailed", Message: "the job failed: boom"}}
		fd.Status.JobStatus.State = "FAILED"
	})
	session := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "shared"}}
	sj := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "beta"}, Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "shared", Job: &v1beta1.JobSpec{}}}
	alpha := application("a", "alpha", func(fd *v1beta1.FlinkDeployment) {
		fd.Status.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: &v1beta1.Snapshot{TimeStamp: 1700000060000, Location: "file:///cp/chk-9"}}
	})
	s, _ := testServer(t, fakeAPI(alpha, failed, session, sj, application("b", "other", nil)).Build())

	w := do(t, s, http.MethodGet, "/api/overview", "", false)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	rows := decode[[]Row](t, w)
	var names []string
	for _, r := range rows {
		names = append(names, r.Name+":"+r.Kind)
	}
	require.Equal(t, []string{"zeta:application", "alpha:application", "beta:session-job", "shared:session"}, names)
	require.Equal(t, "JobFailed: the job failed: boom", rows[0].Problem)
	require.Equal(t, ResourceSessionJob, rows[2].Resource)
	require.NotNil(t, rows[1].JobStarted, "a running job has an uptime")
	require.Equal(t, int64(1700000060000), rows[1].LastCheckpoint.UnixMilli(), "the latest checkpoint Flok recorded")

	rows = decode[[]Row](t, do(t, s, http.MethodGet, "/api/overview?namespace=*", "", false))
	require.Len(t, rows, 5)
	rows = decode[[]Row](t, do(t, s, http.MethodGet, "/api/overview?namespace=b", "", false))
	require.Len(t, rows, 1)
	require.Equal(t, "other", rows[0].Name)
}

// TestDetailShowsPodsAndSessionJobs: a session cluster's page lists its Pods, how their
// containers last ended, and the session jobs that name it.
func TestDetailShowsPodsAndSessionJobs(t *testing.T) {
	session := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "shared"}}
	sj := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "job1"}, Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "shared", Job: &v1beta1.JobSpec{}}}
	elsewhere := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "job2"}, Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "other", Job: &v1beta1.JobSpec{}}}
	tm := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "shared-taskmanager-1-1", Labels: map[string]string{render.LabelApp: "shared", render.LabelComponent: render.ComponentTaskManager}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "flink-main-container", Ready: true, RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}},
		}}},
	}
	s, _ := testServer(t, fakeAPI(session, sj, elsewhere, tm).Build())

	w := do(t, s, http.MethodGet, "/api/resources/a/flinkdeployment/shared", "", false)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	// The object is an interface: read the rest.
	d := decode[struct {
		Row         Row
		Pods        []Pod
		SessionJobs []Row
	}](t, w)
	require.Equal(t, "session", d.Row.Kind)
	require.Len(t, d.SessionJobs, 1)
	require.Equal(t, "job1", d.SessionJobs[0].Name)
	require.Len(t, d.Pods, 1)
	require.Equal(t, "OOMKilled (exit code 137)", d.Pods[0].Containers[0].LastTermination)
	require.Equal(t, int32(1), d.Pods[0].Containers[0].Restarts)

	w = do(t, s, http.MethodGet, "/api/resources/a/flinkdeployment/missing", "", false)
	require.Equal(t, http.StatusNotFound, w.Code)
	w = do(t, s, http.MethodGet, "/api/resources/a/deployment/shared", "", false)
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, decode[apiError](t, w).Error, "flinkdeployment or flinksessionjob")
}

// TestActionsChangeTheResourceAsTheCLIDoes: each action is the flok command's patch;
// a change without the page's CSRF token, an unknown action and a parallelism of 0 are
// refused before anything is written.
func TestActionsChangeTheResourceAsTheCLIDoes(t *testing.T) {
	api := fakeAPI(application("a", "alpha", nil)).Build()
	s, _ := testServer(t, api)
	get := func() *v1beta1.FlinkDeployment {
		fd := &v1beta1.FlinkDeployment{}
		require.NoError(t, api.Get(context.Background(), client.ObjectKey{Namespace: "a", Name: "alpha"}, fd))
		return fd
	}
	path := "/api/resources/a/flinkdeployment/alpha/"

	w := do(t, s, http.MethodPost, path+"savepoint", "", false)
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Equal(t, "CSRF", decode[apiError](t, w).Reason)
	require.Nil(t, get().Spec.Job.SavepointTriggerNonce)

	require.Equal(t, http.StatusAccepted, do(t, s, http.MethodPost, path+"savepoint", "", true).Code)
	require.Equal(t, int64(1), *get().Spec.Job.SavepointTriggerNonce)
	require.Equal(t, http.StatusAccepted, do(t, s, http.MethodPost, path+"scale", `{"parallelism":4}`, true).Code)
	require.Equal(t, int32(4), get().Spec.Job.Parallelism)
	require.Equal(t, http.StatusAccepted, do(t, s, http.MethodPost, path+"suspend", "", true).Code)
	require.Equal(t, v1beta1.JobStateSuspended, get().Spec.Job.State)
	require.Equal(t, http.StatusAccepted, do(t, s, http.MethodPost, path+"resume", "", true).Code)
	require.Equal(t, v1beta1.JobStateRunning, get().Spec.Job.State)
	require.Equal(t, http.StatusAccepted, do(t, s, http.MethodPost, path+"restart", "", true).Code)
	require.Equal(t, int64(1), *get().Spec.RestartNonce)

	w = do(t, s, http.MethodPost, path+"resume", "", true)
	require.Equal(t, http.StatusConflict, w.Code)
	require.Equal(t, "Refused", decode[apiError](t, w).Reason)
	w = do(t, s, http.MethodPost, path+"scale", `{"parallelism":0}`, true)
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, decode[apiError](t, w).Error, "the new parallelism is 1 or more")
	w = do(t, s, http.MethodPost, path+"scale", `{"parallelism":4}`, true)
	require.Equal(t, http.StatusConflict, w.Code, "already 4")
	require.Contains(t, decode[apiError](t, w).Error, "already runs with parallelism 4")
	w = do(t, s, http.MethodPost, path+"explode", "", true)
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, decode[apiError](t, w).Error, "the actions are savepoint, suspend")

	require.Equal(t, http.StatusAccepted, do(t, s, http.MethodPost, path+"delete", `{"savepoint":true}`, true).Code)
	require.True(t, apierrors.IsNotFound(api.Get(context.Background(), client.ObjectKey{Namespace: "a", Name: "alpha"}, &v1beta1.FlinkDeployment{})))
}

// TestRefusalsCarryTheAPIServersReason: what the API server refuses the viewer reaches
// the page with its status and reason.
func TestRefusalsCarryTheAPIServersReason(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: v1beta1.GroupVersion.Group, Resource: "flinkdeployments"}, "alpha",
		errForTest("User \"viewer\" cannot patch resource"))
	api := fakeAPI(application("a", "alpha", nil)).WithInterceptorFuncs(interceptor.Funcs{
		Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return forbidden
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if (&client.ListOptions{}).ApplyOptions(opts).Namespace == "b" {
				return apierrors.NewForbidden(schema.GroupResource{Group: v1beta1.GroupVersion.Group, Resource: "flinkdeployments"}, "", errForTest("not in b"))
			}
			return c.List(ctx, list, opts...)
		},
	}).Build()
	s, _ := testServer(t, api)
	w := do(t, s, http.MethodPost, "/api/resources/a/flinkdeployment/alpha/suspend", "", true)
	require.Equal(t, http.StatusForbidden, w.Code)
	e := decode[apiError](t, w)
	require.Equal(t, "Forbidden", e.Reason)
	require.Contains(t, e.Error, `cannot patch resource`)

	w = do(t, s, http.MethodGet, "/api/overview?namespace=b", "", false)
	require.Equal(t, http.StatusForbidden, w.Code)
	w = do(t, s, http.MethodGet, "/api/live?namespace=b", "", false)
	require.Equal(t, http.StatusForbidden, w.Code, "a live view the viewer may not list is refused at once")
}

type errForTest string

func (e errForTest) Error() string { return string(e) }

// TestTokensReviewTheBearer: a token is the viewer's once the API server's TokenReview
// accepts it (a service account's namespace is their default); a refused or missing
// token is 401; a review is reused for a minute.
func TestTokensReviewTheBearer(t *testing.T) {
	kube := kubefake.NewClientset()
	reviews := 0
	kube.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		reviews++
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview)
		if tr.Spec.Token == "good" {
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "system:serviceaccount:team-a:viewer"}}
		} else {
			tr.Status = authnv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		return true, tr, nil
	})
	tokens := &Tokens{Reviews: kube, Base: &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "operator's own"}}
	ask := func(token string) (*Viewer, error) {
		r := httptest.NewRequest(http.MethodGet, "/api/overview", nil)
		if token != "" {
			r.AddCookie(&http.Cookie{Name: TokenCookie, Value: token})
		}
		return tokens.Authenticate(r)
	}
	v, err := ask("good")
	require.NoError(t, err)
	require.Equal(t, "system:serviceaccount:team-a:viewer", v.Name)
	require.Equal(t, "team-a", v.Client.Namespace)
	require.Equal(t, "good", v.Client.Config.BearerToken, "the viewer acts with their own token, never the console's")
	_, err = ask("good")
	require.NoError(t, err)
	require.Equal(t, 1, reviews, "a review holds for a while")

	_, err = ask("forged")
	require.ErrorIs(t, err, ErrUnauthenticated)
	require.Contains(t, err.Error(), "invalid bearer token")
	_, err = ask("")
	require.ErrorIs(t, err, ErrUnauthenticated)

	s := New(Options{Authenticator: tokens})
	w := do(t, s, http.MethodGet, "/api/overview", "", false)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	w = do(t, s, http.MethodGet, "/api/session", "", false)
	require.Equal(t, http.StatusOK, w.Code)
	st := decode[Session](t, w)
	require.True(t, st.SignIn)
	require.Empty(t, st.Viewer)
	require.NotEmpty(t, w.Result().Cookies(), "the page gets its CSRF token")

	w = do(t, s, http.MethodPost, "/api/login", `{"token":"good"}`, true)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	cookie := w.Result().Cookies()[0]
	require.Equal(t, TokenCookie, cookie.Name)
	require.True(t, cookie.HttpOnly, "a page's script never reads the token")
	w = do(t, s, http.MethodPost, "/api/login", `{"token":"forged"}`, true)
	require.Equal(t, http.StatusUnauthorized, w.Code)
}

// TestAssetsAreEmbedded: the page, its script and style come from the binary, under a
// policy that runs nothing else; pages of the console are the same page; an unknown API
// path is a JSON 404, not the page.
func TestAssetsAreEmbedded(t *testing.T) {
	s, _ := testServer(t, fakeAPI().Build())
	for path, want := range map[string]string{"/": "<title>Flok Console</title>", "/assets/app.js": "function route", "/assets/app.css": "svg.chart", "/some/page": "<title>Flok Console</title>"} {
		w := do(t, s, http.MethodGet, path, "", false)
		require.Equal(t, http.StatusOK, w.Code, path)
		require.Contains(t, w.Body.String(), want, path)
		require.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'", path)
	}
	w := do(t, s, http.MethodGet, "/api/nothing", "", false)
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Contains(t, decode[apiError](t, w).Error, "no such API")
}

// TestSuspendedJobShowsItsKeptHistory: a suspended job has no cluster to ask, and its
// page still charts the checkpoints the operator kept.
func TestSuspendedJobShowsItsKeptHistory(t *testing.T) {
	fd := application("a", "alpha", func(fd *v1beta1.FlinkDeployment) { fd.Status.LifecycleState = v1beta1.LifecycleSuspended })
	data, err := checkpointhistory.Encode([]checkpointhistory.Entry{{JobID: "j-1", ID: 4, Status: "COMPLETED", Triggered: 10, DurationMs: 120, Size: 4096}})
	require.NoError(t, err)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "alpha-flinkdeployment-checkpoints"}, Data: data}
	s, _ := testServer(t, fakeAPI(fd, cm).Build())
	w := do(t, s, http.MethodGet, "/api/resources/a/flinkdeployment/alpha/flink", "", false)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	view := decode[FlinkView](t, w)
	require.Len(t, view.Checkpoints, 1)
	require.Equal(t, int64(4), view.Checkpoints[0].ID)
	require.Empty(t, view.CheckpointsError)
	require.Equal(t, noCluster, view.TaskManagersError)
}

// TestOtherSitesAndFlinksPagesCannotAct: the API refuses what another site's page asks
// (flok dashboard needs no cookie to act); Flink's UI is served sandboxed, and its
// GETs that change a job are refused.
func TestOtherSitesAndFlinksPagesCannotAct(t *testing.T) {
	s, _ := testServer(t, fakeAPI(application("a", "alpha", nil)).Build())
	for _, site := range []string{"cross-site", "same-site"} {
		r := httptest.NewRequest(http.MethodGet, "/api/overview", nil)
		r.Header.Set("Sec-Fetch-Site", site)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		require.Equal(t, http.StatusForbidden, w.Code, site)
		require.Equal(t, "CrossSite", decode[apiError](t, w).Reason)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/overview", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code)

	w = do(t, s, http.MethodGet, "/flink/a/alpha/jobs/j-alpha/yarn-cancel", "", false)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Contains(t, decode[apiError](t, w).Error, "shown for reading")
	w = do(t, s, http.MethodPost, "/flink/a/alpha/jars/upload", "", true)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "sandbox allow-scripts allow-forms allow-popups", flinkUIPolicy, "no allow-same-origin: Flink's pages never get the console's origin")
}
