package console

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/cli"
	"github.com/flok-dev/flok/internal/flinkrest"
)

// Viewer is the person a request acts for: every read and write the console makes for
// them goes to the API server with their identity, never the console's own.
type Viewer struct {
	// Name is who the API server knows them as.
	Name string
	// Client reaches the cluster as them; its Namespace is their default one.
	Client *cli.Client
	// Kube is the same identity's typed client (logs, namespaces).
	Kube kubernetes.Interface
	// flink reaches Flink clusters through the API server's service proxy as them.
	flink *flinkrest.ProxyDialer
	// key tells viewers apart without holding their credentials (live views are
	// shared by the pages of one viewer).
	key string
}

// ErrUnauthenticated is a request that carries no credentials the API server accepts.
var ErrUnauthenticated = errors.New("not signed in: paste a Kubernetes token on the sign-in page, or come through the authenticating proxy")

// Authenticator says whom a request comes from.
type Authenticator interface {
	// Authenticate returns the request's viewer, or ErrUnauthenticated.
	Authenticate(r *http.Request) (*Viewer, error)
}

// NewViewer is the viewer whose identity cfg holds (a kubeconfig's user, or a token),
// known as name, looking first at namespace.
func NewViewer(cfg *rest.Config, mapper meta.RESTMapper, name, namespace string) (*Viewer, error) {
	api, err := client.New(cfg, client.Options{Scheme: cli.Scheme(), Mapper: mapper})
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	flink, err := flinkrest.NewProxyDialer(cfg)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(cfg.Host + "\x00" + cfg.BearerToken + "\x00" + cfg.Username + "\x00" + name))
	return &Viewer{Name: name, Client: &cli.Client{API: api, Config: cfg, Namespace: namespace, RESTPorts: &cli.RESTPortCache{}}, Kube: kube, flink: flink, key: hex.EncodeToString(sum[:8])}, nil
}

// Local is the viewer of `flok dashboard`: whoever runs it, with their kubeconfig.
type Local struct{ Viewer *Viewer }

// Authenticate returns the kubeconfig's viewer for every request.
func (l Local) Authenticate(*http.Request) (*Viewer, error) { return l.Viewer, nil }

// TokenCookie holds the token a viewer pasted on the sign-in page.
const TokenCookie = "flok-token"

// Tokens authenticates requests by the bearer token they carry (an authenticating
// proxy's Authorization header, or the sign-in page's cookie), verified with a
// TokenReview. The viewer then acts with that token itself, so the API server applies
// their own rights; the console's service account needs only to create TokenReviews.
type Tokens struct {
	// Reviews creates TokenReviews (the console's own identity).
	Reviews kubernetes.Interface
	// Base is how to reach the API server; its credentials are dropped.
	Base *rest.Config
	// Mapper is shared by every viewer's client.
	Mapper meta.RESTMapper
	// TTL is how long a review holds (a minute when zero).
	TTL time.Duration

	mu      sync.Mutex
	viewers map[string]tokenViewer
}

// tokenViewer is a review's outcome: the viewer, or why the token was refused.
type tokenViewer struct {
	viewer  *Viewer
	refused error
	expires time.Time
}

// refusalTTL is how long a refused token stays refused without asking the API server
// again: a page or a script repeating a bad token must not become a stream of reviews.
const refusalTTL = 10 * time.Second

// ErrReviewUnavailable is a TokenReview the API server did not answer: the console's
// trouble (or its rights), not the viewer's.
var ErrReviewUnavailable = errors.New("the API server could not review the token")

// maxCachedViewers bounds the reviewed tokens kept; beyond it the cache starts again.
const maxCachedViewers = 1000

// Authenticate reviews the request's token (or finds its recent review).
func (t *Tokens) Authenticate(r *http.Request) (*Viewer, error) {
	token := bearerToken(r)
	if token == "" {
		return nil, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	now := time.Now()
	t.mu.Lock()
	cached, ok := t.viewers[key]
	t.mu.Unlock()
	if ok && now.Before(cached.expires) {
		return cached.viewer, cached.refused
	}
	v, err := t.review(r, token)
	outcome := tokenViewer{viewer: v, expires: now.Add(cmp.Or(t.TTL, time.Minute))}
	switch {
	case errors.Is(err, ErrReviewUnavailable):
		return nil, err // asked again next time
	case err != nil:
		outcome = tokenViewer{refused: err, expires: now.Add(refusalTTL)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.viewers == nil || len(t.viewers) >= maxCachedViewers {
		t.viewers = map[string]tokenViewer{}
	}
	t.viewers[key] = outcome
	return outcome.viewer, outcome.refused
}

func (t *Tokens) review(r *http.Request, token string) (*Viewer, error) {
	review, err := t.Reviews.AuthenticationV1().TokenReviews().Create(r.Context(),
		&authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReviewUnavailable, err)
	}
	if !review.Status.Authenticated {
		msg := review.Status.Error
		if msg == "" {
			msg = "the API server does not accept it"
		}
		return nil, fmt.Errorf("%w (the token was refused: %s)", ErrUnauthenticated, msg)
	}
	cfg := rest.AnonymousClientConfig(t.Base)
	cfg.BearerToken = token
	return NewViewer(cfg, t.Mapper, review.Status.User.Username, namespaceOf(review.Status.User.Username))
}

// namespaceOf is a service account's own namespace, "default" for anyone else.
func namespaceOf(username string) string {
	if rest, ok := strings.CutPrefix(username, "system:serviceaccount:"); ok {
		if ns, _, ok := strings.Cut(rest, ":"); ok {
			return ns
		}
	}
	return "default"
}

// bearerToken is the request's Authorization bearer token, or the sign-in cookie's.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if token, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(token)
		}
	}
	if c, err := r.Cookie(TokenCookie); err == nil {
		return c.Value
	}
	return ""
}
