package alerting

import (
	"sync"
	"time"
)

// The back-off of a receiver that failed: as the queue's for a resource, so that a
// receiver down for a minute is tried again within seconds of its return.
const (
	firstBackoff = time.Second
	maxBackoff   = 30 * time.Second
)

// receiverBackoff keeps a receiver that failed from being tried again, by any
// resource's messages, before its back-off ends. A receiver that hangs until
// sendTimeout then holds a worker once per back-off, not once for every resource
// routed to it, and the messages of other receivers go out meanwhile.
type receiverBackoff struct {
	mu      sync.Mutex
	failing map[string]backoff // by receiver's namespace/name
}

type backoff struct {
	until time.Time
	delay time.Duration
}

// until is when the receiver may be tried again, if that is after now.
func (b *receiverBackoff) until(key string, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.failing[key]
	return f.until, ok && now.Before(f.until)
}

// failed starts or doubles the receiver's back-off.
func (b *receiverBackoff) failed(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failing == nil {
		b.failing = map[string]backoff{}
	}
	delay := firstBackoff
	if f, ok := b.failing[key]; ok {
		delay = min(2*f.delay, maxBackoff)
	}
	b.failing[key] = backoff{until: now.Add(delay), delay: delay}
}

// succeeded ends the receiver's back-off.
func (b *receiverBackoff) succeeded(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.failing, key)
}
