package console

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/cli"
)

// live shares one watch of a namespace's (or every namespace's) FlinkDeployments and
// FlinkSessionJobs between all the pages one viewer has open there: fifty open pages
// are one watch each of two kinds, not fifty. Watches are the viewer's own, so the API
// server decides what each viewer sees; a feed nobody reads stops after feedLinger.
type live struct {
	mapper meta.RESTMapper
	mu     sync.Mutex
	feeds  map[string]*feed
}

// feedLinger keeps a feed nobody reads for a while: a page reloading or moving to
// another resource of the namespace comes back to it.
const feedLinger = 30 * time.Second

// feedPace is the least time between two updates a feed sends: a burst of changes
// (a thousand deployments created) is one update, not a thousand.
const feedPace = 250 * time.Millisecond

// feed is one shared watch and the pages reading it.
type feed struct {
	stop        context.CancelFunc
	changed     chan struct{}
	mu          sync.Mutex
	latest      *update
	subscribers map[chan update]struct{}
	idle        *time.Timer
}

// update is one server-sent event: "rows" (the rows as JSON) or "refused" (the API
// server's refusal, after which the feed ends).
type update struct {
	event string
	data  []byte
}

// subscribe returns the rows of namespace ("" for all) as JSON, at once and at each
// change, until unsubscribe is called. The viewer's rights are checked first, so that a
// refusal is an error now rather than a watch that never starts.
func (l *live) subscribe(ctx context.Context, v *Viewer, namespace string) (<-chan update, func(), error) {
	if err := mayList(ctx, v.Client, namespace); err != nil {
		return nil, nil, err
	}
	key := v.key + "/" + namespace
	// Held while subscribing, so that a feed found here is not stopped as idle meanwhile.
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.feeds[key]
	if !ok {
		var err error
		if f, err = l.start(v.Client.Config, namespace, func() { l.stopIfIdle(key) }, func(ended *feed) { l.remove(key, ended) }); err != nil {
			return nil, nil, err
		}
		if l.feeds == nil {
			l.feeds = map[string]*feed{}
		}
		l.feeds[key] = f
	}
	ch := make(chan update, 1)
	f.add(ch)
	return ch, func() { f.drop(ch) }, nil
}

// remove forgets a feed that ended (not a newer one of the same key).
func (l *live) remove(key string, ended *feed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.feeds[key] == ended {
		delete(l.feeds, key)
	}
}

// stopIfIdle stops the feed of key if nobody subscribed since it was left.
func (l *live) stopIfIdle(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.feeds[key]
	if f == nil {
		return
	}
	f.mu.Lock()
	idle := len(f.subscribers) == 0
	f.mu.Unlock()
	if idle {
		delete(l.feeds, key)
		f.stop()
	}
}

// mayList lists one of each kind as the viewer, to learn whether they may watch them.
func mayList(ctx context.Context, c *cli.Client, namespace string) error {
	opts := append(listIn(namespace), client.Limit(1))
	if err := c.API.List(ctx, &v1beta1.FlinkDeploymentList{}, opts...); err != nil {
		return err
	}
	return c.API.List(ctx, &v1beta1.FlinkSessionJobList{}, opts...)
}

// start begins a feed: an informer cache of both kinds, trimmed to what rows show. A
// watch the API server refuses later (the viewer's token expired, their rights
// revoked) ends the feed with a "refused" event, rather than rows that silently stop.
func (l *live) start(cfg *rest.Config, namespace string, whenLeft func(), ended func(*feed)) (*feed, error) {
	ctx, stop := context.WithCancel(context.Background())
	f := &feed{stop: stop, changed: make(chan struct{}, 1), subscribers: map[chan update]struct{}{}}
	opts := cache.Options{Scheme: cli.Scheme(), Mapper: l.mapper, DefaultTransform: trimForRows,
		DefaultWatchErrorHandler: func(_ context.Context, _ *toolscache.Reflector, err error) {
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				f.refuse(err, ended)
			}
		}}
	if namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	c, err := cache.New(cfg, opts)
	if err != nil {
		stop()
		return nil, err
	}
	f.idle = time.AfterFunc(feedLinger, whenLeft)
	f.idle.Stop()
	for _, obj := range []client.Object{&v1beta1.FlinkDeployment{}, &v1beta1.FlinkSessionJob{}} {
		informer, err := c.GetInformer(ctx, obj)
		if err != nil {
			stop()
			return nil, err
		}
		if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { f.signal() },
			UpdateFunc: func(any, any) { f.signal() },
			DeleteFunc: func(any) { f.signal() },
		}); err != nil {
			stop()
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	go f.run(ctx, c)
	return f, nil
}

// trimForRows drops what no row shows from the feed's copies: managed fields and the
// serialized specs in status, most of an object's size.
func trimForRows(obj any) (any, error) {
	switch o := obj.(type) {
	case *v1beta1.FlinkDeployment:
		o.ManagedFields, o.Status.ReconciliationStatus = nil, v1beta1.ReconciliationStatus{}
	case *v1beta1.FlinkSessionJob:
		o.ManagedFields, o.Status.ReconciliationStatus = nil, v1beta1.ReconciliationStatus{}
	}
	return obj, nil
}

func (f *feed) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// run sends the rows after each change, at most every feedPace.
func (f *feed) run(ctx context.Context, c cache.Cache) {
	if !c.WaitForCacheSync(ctx) {
		return
	}
	f.signal()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.changed:
		}
		fds, sjs := &v1beta1.FlinkDeploymentList{}, &v1beta1.FlinkSessionJobList{}
		if c.List(ctx, fds) != nil || c.List(ctx, sjs) != nil {
			continue
		}
		data, err := json.Marshal(rowsOf(fds.Items, sjs.Items))
		if err != nil {
			continue
		}
		f.publish(update{event: "rows", data: data})
		select {
		case <-ctx.Done():
			return
		case <-time.After(feedPace):
		}
	}
}

// publish hands an update to every subscriber, replacing what one has not read yet.
func (f *feed) publish(u update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latest = &u
	for ch := range f.subscribers {
		offer(ch, u)
	}
}

// refuse ends the feed with the API server's refusal.
func (f *feed) refuse(err error, ended func(*feed)) {
	status, reason := statusOf(err)
	data, _ := json.Marshal(apiError{Error: fmt.Sprintf("%d %s: %v", status, reason, err), Reason: reason})
	f.publish(update{event: "refused", data: data})
	ended(f)
	f.stop()
}

// offer puts u in ch, dropping an unread older one.
func offer(ch chan update, u update) {
	select {
	case <-ch:
	default:
	}
	ch <- u
}

func (f *feed) add(ch chan update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idle.Stop()
	f.subscribers[ch] = struct{}{}
	if f.latest != nil {
		offer(ch, *f.latest)
	}
}

func (f *feed) drop(ch chan update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subscribers, ch)
	if len(f.subscribers) == 0 {
		f.idle.Reset(feedLinger)
	}
}
