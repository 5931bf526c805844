package console

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
)

// Session is who is looking, and how the page may sign in and make changes.
type Session struct {
	// Viewer is the viewer's name; empty when not signed in.
	Viewer string `json:"viewer,omitempty"`
	// Namespace is the viewer's default namespace.
	Namespace string `json:"namespace,omitempty"`
	// SignIn says that tokens are pasted on the sign-in page (the in-cluster console).
	SignIn bool `json:"signIn"`
	// Error says why the viewer is not signed in.
	Error string `json:"error,omitempty"`
}

// session answers who the viewer is, and hands the page its CSRF token.
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CSRFCookie); err != nil || c.Value == "" {
		buf := make([]byte, 16)
		_, _ = rand.Read(buf)
		// The page reads it to repeat it in a header: not HttpOnly.
		s.setCookie(w, CSRFCookie, hex.EncodeToString(buf), 0, false)
	}
	_, signIn := s.auth.(*Tokens)
	st := Session{SignIn: signIn}
	v, err := s.auth.Authenticate(r)
	if err != nil {
		st.Error = err.Error()
	} else {
		st.Viewer, st.Namespace = v.Name, v.Client.Namespace
	}
	writeJSON(w, http.StatusOK, st)
}

// tokenLifetime is how long the sign-in cookie lasts (the token may end sooner).
const tokenLifetime = 8 * time.Hour

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	tokens, ok := s.auth.(*Tokens)
	if !ok {
		writeError(w, badRequest("this console acts with its kubeconfig's identity: there is nothing to sign in to"))
		return
	}
	token, err := bearerFromLogin(r)
	if err != nil {
		writeError(w, err)
		return
	}
	r.Header.Set("Authorization", "Bearer "+token)
	v, err := tokens.Authenticate(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.setCookie(w, TokenCookie, token, tokenLifetime, true)
	writeJSON(w, http.StatusOK, Session{Viewer: v.Name, Namespace: v.Client.Namespace, SignIn: true})
}

func (s *Server) logout(w http.ResponseWriter, _ *http.Request) {
	s.setCookie(w, TokenCookie, "", -time.Second, true)
	w.WriteHeader(http.StatusNoContent)
}

// Namespaces are those a viewer may pick on the page.
type Namespaces struct {
	Names []string `json:"names"`
	// All says the viewer may list every namespace's resources at once.
	All bool `json:"all"`
}

// namespaces lists the namespaces the viewer may list; one who may not still gets
// their default namespace (and types others on the page).
func (s *Server) namespaces(w http.ResponseWriter, r *http.Request, v *Viewer) {
	out := Namespaces{Names: []string{v.Client.Namespace}}
	list, err := v.Kube.CoreV1().Namespaces().List(r.Context(), metav1.ListOptions{})
	if err == nil {
		out.Names = out.Names[:0]
		for _, ns := range list.Items {
			out.Names = append(out.Names, ns.Name)
		}
		out.All = mayList(r.Context(), v.Client, "") == nil
	} else if !apierrors.IsForbidden(err) {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// overview lists the rows of a namespace (?namespace=, * for all), once.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, v *Viewer) {
	ns := namespaceParam(r, v)
	c := v.Client.InNamespace(ns)
	fds := &v1beta1.FlinkDeploymentList{}
	sjs := &v1beta1.FlinkSessionJobList{}
	opts := listIn(ns)
	if err := c.API.List(r.Context(), fds, opts...); err != nil {
		writeError(w, err)
		return
	}
	if err := c.API.List(r.Context(), sjs, opts...); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rowsOf(fds.Items, sjs.Items))
}

// heartbeat keeps an idle event stream from being cut by proxies.
const heartbeat = 20 * time.Second

// liveRows streams the rows of a namespace as server-sent events ("rows"), at once and
// after every change.
func (s *Server) liveRows(w http.ResponseWriter, r *http.Request, v *Viewer) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, fmt.Errorf("this server cannot stream"))
		return
	}
	rows, unsubscribe, err := s.live.subscribe(r.Context(), v, namespaceParam(r, v))
	if err != nil {
		writeError(w, err)
		return
	}
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case u := <-rows:
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", u.event, u.data)
			if u.event == "refused" {
				flusher.Flush()
				return
			}
		case <-tick.C:
			fmt.Fprint(w, ": still here\n\n")
		}
		flusher.Flush()
	}
}

func (s *Server) detail(w http.ResponseWriter, r *http.Request, v *Viewer) {
	ref, err := resourceRef(r)
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := detail(r.Context(), v.Client.InNamespace(r.PathValue("namespace")), ref)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// flinkView reads the resource, then what its Flink cluster says of its job.
func (s *Server) flinkView(w http.ResponseWriter, r *http.Request, v *Viewer) {
	ref, err := resourceRef(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ns := r.PathValue("namespace")
	obj, err := v.Client.InNamespace(ns).Get(r.Context(), ref)
	if err != nil {
		writeError(w, err)
		return
	}
	var view *FlinkView
	if !suspended(obj) {
		if view, err = s.flink.get(r.Context(), v, ns, cli.ClusterName(obj), jobIDOf(obj)); err != nil {
			writeError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, withHistory(r.Context(), v, obj, view))
}

// Action is what a page asks to change; which fields count depends on the action.
type Action struct {
	// Parallelism is the new parallelism (scale).
	Parallelism int32 `json:"parallelism,omitempty"`
	// Savepoint stops the job with a savepoint before deletion (delete).
	Savepoint bool `json:"savepoint,omitempty"`
}

// Actions a page may take, each exactly as the flok command of the same name.
var actions = map[string]func(r *http.Request, c *cli.Client, ref string, a Action) error{
	"savepoint": func(r *http.Request, c *cli.Client, ref string, _ Action) error {
		_, err := c.Savepoint(r.Context(), ref)
		return err
	},
	"suspend": func(r *http.Request, c *cli.Client, ref string, _ Action) error {
		_, err := c.SetState(r.Context(), ref, v1beta1.JobStateSuspended)
		return err
	},
	"resume": func(r *http.Request, c *cli.Client, ref string, _ Action) error {
		_, err := c.SetState(r.Context(), ref, v1beta1.JobStateRunning)
		return err
	},
	"restart": func(r *http.Request, c *cli.Client, ref string, _ Action) error {
		_, err := c.Restart(r.Context(), ref)
		return err
	},
	"scale": func(r *http.Request, c *cli.Client, ref string, a Action) error {
		_, err := c.SetParallelism(r.Context(), ref, a.Parallelism)
		return err
	},
	"delete": func(r *http.Request, c *cli.Client, ref string, a Action) error {
		_, err := c.Delete(r.Context(), ref, a.Savepoint)
		return err
	},
}

// act changes a resource as the viewer; the API server's refusal is the answer.
func (s *Server) act(w http.ResponseWriter, r *http.Request, v *Viewer) {
	ref, err := resourceRef(r)
	if err != nil {
		writeError(w, err)
		return
	}
	do, ok := actions[r.PathValue("action")]
	if !ok {
		writeError(w, badRequest("%q: the actions are savepoint, suspend, resume, restart, scale and delete", r.PathValue("action")))
		return
	}
	var a Action
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&a); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, badRequest("the action's body: %v", err))
		return
	}
	if r.PathValue("action") == "scale" && a.Parallelism < 1 {
		writeError(w, badRequest("parallelism: %d; the new parallelism is 1 or more ({\"parallelism\": 4})", a.Parallelism))
		return
	}
	if err := do(r, v.Client.InNamespace(r.PathValue("namespace")), ref, a); err != nil {
		writeError(w, refused(err))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// maxLogLines is how much of a container's log a page shows (its end).
const maxLogLines = 2000

// logs answers the end of a container's log, current or previous (?previous=true).
func (s *Server) logs(w http.ResponseWriter, r *http.Request, v *Viewer) {
	previous, _ := strconv.ParseBool(r.URL.Query().Get("previous"))
	stream, err := v.Kube.CoreV1().Pods(r.PathValue("namespace")).GetLogs(r.PathValue("pod"), &corev1.PodLogOptions{
		Container: r.PathValue("container"), Previous: previous, TailLines: ptr.To[int64](maxLogLines),
	}).Stream(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	defer stream.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.Copy(w, stream)
}

// flinkUIPolicy sandboxes Flink's pages: whoever built the job's image wrote them, so
// they run in an opaque origin of their own ("null"), without the console's cookies
// or its API. Their own requests come back to the proxy from that origin, which alone
// may read the answers.
const flinkUIPolicy = "sandbox allow-scripts allow-forms allow-popups"

// flinkUI proxies the Flink web UI of a cluster as the viewer: only reads, since a
// change made in Flink's UI (a job cancelled, a jar run) would go around Flok.
func (s *Server) flinkUI(w http.ResponseWriter, r *http.Request, v *Viewer) {
	ns, cluster := r.PathValue("namespace"), r.PathValue("cluster")
	if changesThroughGET(r.URL.Path) {
		writeJSON(w, http.StatusMethodNotAllowed, apiError{Error: flinkUIReadOnly, Reason: "MethodNotAllowed"})
		return
	}
	c := v.Client.InNamespace(ns)
	h, err := c.FlinkUIHandler(c.FlinkREST(r.Context(), cluster), "null")
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", flinkUIPolicy)
	http.StripPrefix("/flink/"+ns+"/"+cluster, h).ServeHTTP(w, r)
}

// flinkUIReadOnly says why a change through Flink's UI is refused.
const flinkUIReadOnly = "Flink's web UI is shown for reading: change jobs through Flok (the actions of the deployment's page), or Flok would not know"

// changesThroughGET says a Flink REST path changes a job although asked with GET
// (Flink 1.x's UI cancels and stops jobs that way).
func changesThroughGET(path string) bool {
	return strings.HasSuffix(path, "/yarn-cancel") || strings.HasSuffix(path, "/yarn-stop")
}
