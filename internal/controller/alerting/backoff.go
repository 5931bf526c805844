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
// resource's messages, before its back-off ends, and then by one worker at a time. A
// receiver that hangs until sendTimeout then holds one worker once per back-off, not
// one for every resource routed to it, and the messages of other receivers go out
// meanwhile.
type receiverBackoff struct {
	mu      sync.Mutex
	failing map[string]backoff // by receiver's namespace/name
}

type backoff struct {
	until time.Time
	delay time.Duration
}

// mayTry reports whether the receiver may be tried at now, or else when it may. Once a
// back-off has ended, one caller at a time tries it: the others wait for that try's
// outcome (at most sendTimeout), so that a receiver that hangs is not tried by every
// worker at once.
func (b *receiverBackoff) mayTry(key string, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, failing := b.failing[key]
	if !failing {
		return time.Time{}, true
	}
	if now.Before(f.until) {
		return f.until, false
	}
	f.until = now.Add(sendTimeout)
	b.failing[key] = f
	return time.Time{}, true
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
