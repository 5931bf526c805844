// Package console is Flok's web console: every FlinkDeployment and FlinkSessionJob a
// viewer may see, a page per deployment (status, events, snapshots, checkpoints, Pods
// and logs, the Flink UI) and the actions of the flok CLI — all read from the
// Kubernetes API and Flink, never from a copy, and made with the viewer's own identity.
// One Server serves `flok dashboard` (the kubeconfig's identity) and the operator's
// console (bearer tokens, reviewed).
package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/flok-dev/flok/internal/cli"
)

// Server serves the console.
type Server struct {
	auth  Authenticator
	live  *live
	flink flinkViews
	mux   *http.ServeMux
	// secureCookies marks cookies Secure (the console is served over TLS, or behind a
	// proxy that terminates it).
	secureCookies bool
}

// Options configure a Server.
type Options struct {
	// Authenticator says whom each request comes from.
	Authenticator Authenticator
	// Mapper maps Flok's kinds for the live views' watches (shared by all viewers).
	Mapper meta.RESTMapper
	// SecureCookies marks cookies Secure: set it when pages are served over HTTPS.
	SecureCookies bool
}

// New makes a console server.
func New(o Options) *Server {
	s := &Server{auth: o.Authenticator, live: &live{mapper: o.Mapper}, mux: http.NewServeMux(), secureCookies: o.SecureCookies}
	s.routes()
	return s
}

// ServeHTTP serves the console's pages, API and Flink UI proxy.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	if fromAnotherSite(r) {
		writeJSON(w, http.StatusForbidden, apiError{Error: "the console answers its own pages only (Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site") + ")", Reason: "CrossSite"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// fromAnotherSite is a request for the API that a browser says another site's page
// made: `flok dashboard` needs no cookie to act, so an image or script of any page
// could otherwise use its identity. (Browsers that send no Sec-Fetch-Site are let
// through; changes also need the CSRF token. The Flink UI's own requests come from its
// sandbox, another site by definition: they may only read, see flinkUI.)
func fromAnotherSite(r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "cross-site" || site == "same-site"
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /api/session", s.session)
	s.mux.HandleFunc("POST /api/login", s.checkCSRF(s.login))
	s.mux.HandleFunc("POST /api/logout", s.checkCSRF(s.logout))
	s.mux.HandleFunc("GET /api/namespaces", s.viewed(s.namespaces))
	s.mux.HandleFunc("GET /api/overview", s.viewed(s.overview))
	s.mux.HandleFunc("GET /api/live", s.viewed(s.liveRows))
	s.mux.HandleFunc("GET /api/resources/{namespace}/{resource}/{name}", s.viewed(s.detail))
	s.mux.HandleFunc("GET /api/resources/{namespace}/{resource}/{name}/flink", s.viewed(s.flinkView))
	s.mux.HandleFunc("POST /api/resources/{namespace}/{resource}/{name}/{action}", s.checkCSRF(s.viewed(s.act)))
	s.mux.HandleFunc("GET /api/logs/{namespace}/{pod}/{container}", s.viewed(s.logs))
	s.mux.HandleFunc("GET /flink/{namespace}/{cluster}/", s.viewed(s.flinkUI))
	s.mux.HandleFunc("/flink/{namespace}/{cluster}/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, apiError{Error: flinkUIReadOnly, Reason: "MethodNotAllowed"})
	})
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{Error: r.Method + " " + r.URL.Path + ": the console has no such API", Reason: "NotFound"})
	})
	s.mux.Handle("/", assets())
}

// viewerHandler serves a request for an authenticated viewer.
type viewerHandler func(w http.ResponseWriter, r *http.Request, v *Viewer)

// viewed authenticates the request first; an unknown viewer gets 401.
func (s *Server) viewed(h viewerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.auth.Authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, v)
	}
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is how the console's API says what went wrong.
type apiError struct {
	Error string `json:"error"`
	// Reason is the API server's reason (Forbidden, NotFound, Conflict, …), when it
	// answered.
	Reason string `json:"reason,omitempty"`
}

// writeError answers with err, its status the API server's when it answered (a
// refusal is shown with the API server's own reason).
func writeError(w http.ResponseWriter, err error) {
	status, reason := statusOf(err)
	msg := err.Error()
	// The API server's own words, without the CLI's advice about kubeconfigs.
	var api apierrors.APIStatus
	if errors.As(err, &api) && api.Status().Message != "" {
		msg = api.Status().Message
	}
	writeJSON(w, status, apiError{Error: msg, Reason: reason})
}

func statusOf(err error) (int, string) {
	var api apierrors.APIStatus
	var notFound *cli.NotFoundError
	var ambiguous *cli.AmbiguousError
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized, "Unauthorized"
	case errors.Is(err, ErrReviewUnavailable):
		return http.StatusServiceUnavailable, "ReviewUnavailable"
	case errors.As(err, &api) && api.Status().Code != 0:
		st := api.Status()
		return int(st.Code), string(st.Reason)
	case errors.As(err, &notFound):
		return http.StatusNotFound, "NotFound"
	case errors.As(err, &ambiguous):
		return http.StatusConflict, "Ambiguous"
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, "BadRequest"
	case errors.Is(err, errRefused):
		return http.StatusConflict, "Refused"
	}
	return http.StatusInternalServerError, ""
}

// errBadRequest marks a request the console cannot take as it is.
var errBadRequest = errors.New("bad request")

// errRefused marks an action the resource is not in a state to take (resuming a
// running job).
var errRefused = errors.New("refused")

// refused marks an action's error that nobody else classified as a refusal of the
// CLI's own checks (already running, a session cluster has no job): the API server's
// answers, unknown names and failures to reach anyone keep their status.
func refused(err error) error {
	var netErr net.Error
	if status, _ := statusOf(err); status != http.StatusInternalServerError || errors.As(err, &netErr) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", errRefused, err)
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// CSRFCookie and CSRFHeader carry the token every change must repeat: a page of
// another site can make the browser send the cookie, but cannot read it to set the
// header.
const (
	CSRFCookie = "flok-csrf"
	CSRFHeader = "X-Flok-Csrf"
)

func (s *Server) checkCSRF(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CSRFCookie)
		if err != nil || c.Value == "" || r.Header.Get(CSRFHeader) != c.Value {
			writeJSON(w, http.StatusForbidden, apiError{Error: "the request did not come from the console's own page (its CSRF token is missing or wrong): reload the page", Reason: "CSRF"})
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			writeJSON(w, http.StatusForbidden, apiError{Error: "changes are taken from the console's own pages only (Sec-Fetch-Site: " + site + ")", Reason: "CSRF"})
			return
		}
		next(w, r)
	}
}

// setCookie sets an HttpOnly cookie for the whole console (maxAge 0: for the browser's session).
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration, httpOnly bool) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: httpOnly, Secure: s.secureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge.Seconds()),
	})
}

// namespaceParam is the namespace a list asks for: "" for all of them ("*").
func namespaceParam(r *http.Request, v *Viewer) string {
	ns := r.URL.Query().Get("namespace")
	switch ns {
	case "":
		return v.Client.Namespace
	case "*":
		return ""
	}
	return ns
}

// resourceRef is the cli reference of a request's {resource}/{name}.
func resourceRef(r *http.Request) (string, error) {
	resource := r.PathValue("resource")
	if resource != ResourceDeployment && resource != ResourceSessionJob {
		return "", badRequest("%q: the resource is %s or %s", resource, ResourceDeployment, ResourceSessionJob)
	}
	return resource + "/" + r.PathValue("name"), nil
}

// bearerFromLogin reads the token of a sign-in.
func bearerFromLogin(r *http.Request) (string, error) {
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&body); err != nil {
		return "", badRequest("the sign-in takes {\"token\": \"…\"}: %v", err)
	}
	token := strings.TrimSpace(body.Token)
	if token == "" {
		return "", badRequest("token: paste a Kubernetes bearer token (kubectl create token NAME)")
	}
	return token, nil
}
