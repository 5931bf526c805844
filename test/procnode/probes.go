package procnode

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flok-dev/flok/test/supervisor"
)

// probe runs the container's startup, liveness and readiness probes until ctx ends. A
// failed startup or liveness probe kills the container, which then restarts as its
// restartPolicy says.
func (r *containerRunner) probe(ctx context.Context, proc *supervisor.Process) {
	// Until the launcher is done, an exec probe would enter the host's namespaces.
	for {
		if _, err := os.Stat(r.startedMarker()); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-proc.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	if p := r.spec.StartupProbe; p != nil {
		if !r.probeLoop(ctx, proc, p, func(ok bool) bool { return !ok }, true) {
			return
		}
	}
	r.mu.Lock()
	r.started = true
	r.mu.Unlock()
	r.w.markDirty()
	if p := r.spec.ReadinessProbe; p != nil {
		go r.probeLoop(ctx, proc, p, func(ok bool) bool {
			r.mu.Lock()
			changed := r.ready != ok
			r.ready = ok
			r.mu.Unlock()
			if changed {
				r.w.markDirty()
			}
			return true
		}, false)
	}
	if p := r.spec.LivenessProbe; p != nil {
		r.probeLoop(ctx, proc, p, func(bool) bool { return true }, false)
	}
}

// probeLoop probes every period. onResult gets each verdict after the thresholds and
// says whether to go on. With untilSuccess, the loop ends at the first success. A
// verdict of failure that reaches failureThreshold kills the container (startup and
// liveness) — readiness probes only report. It reports whether the container still runs.
func (r *containerRunner) probeLoop(ctx context.Context, proc *supervisor.Process, p *corev1.Probe,
	onResult func(ok bool) bool, untilSuccess bool) bool {
	period := seconds(p.PeriodSeconds, 10)
	failures, successes := 0, 0
	kills := r.spec.ReadinessProbe != p
	select {
	case <-ctx.Done():
		return false
	case <-time.After(seconds(p.InitialDelaySeconds, 0)):
	}
	for {
		ok := r.probeOnce(ctx, proc, p)
		if ok {
			failures, successes = 0, successes+1
			if successes >= int(max(p.SuccessThreshold, 1)) {
				if untilSuccess {
					return true
				}
				if !onResult(true) {
					return true
				}
			}
		} else {
			successes, failures = 0, failures+1
			if failures >= int(max(p.FailureThreshold, 1)) {
				if kills {
					r.w.node.logf("procnode: %s/%s container %s failed its probe %d times; killing it",
						r.w.namespace, r.w.name, r.spec.Name, failures)
					proc.Stop(seconds(ptrInt64(r.w.snapshot().Spec.TerminationGracePeriodSeconds), 30))
					return false
				}
				onResult(false)
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(period):
		}
	}
}

func (r *containerRunner) probeOnce(ctx context.Context, proc *supervisor.Process, p *corev1.Probe) bool {
	ctx, cancel := context.WithTimeout(ctx, seconds(p.TimeoutSeconds, 1))
	defer cancel()
	ip := r.w.podIP()
	switch {
	case p.HTTPGet != nil:
		return r.probeHTTP(ctx, ip, p.HTTPGet)
	case p.TCPSocket != nil:
		port, err := r.resolvePort(p.TCPSocket.Port)
		if err != nil {
			return false
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(hostOr(p.TCPSocket.Host, ip), strconv.Itoa(port)))
		if err == nil {
			conn.Close()
		}
		return err == nil
	case p.Exec != nil:
		args := append([]string{"--target", strconv.Itoa(proc.Pid()), "--mount", "--uts", "--net", "--"}, p.Exec.Command...)
		return exec.CommandContext(ctx, "nsenter", args...).Run() == nil
	}
	return true
}

func (r *containerRunner) probeHTTP(ctx context.Context, ip string, g *corev1.HTTPGetAction) bool {
	port, err := r.resolvePort(g.Port)
	if err != nil {
		return false
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(hostOr(g.Host, ip), strconv.Itoa(port)), g.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	for _, h := range g.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// probeClient skips certificate checks and redirects across hosts, as the kubelet's
// probes do.
var probeClient = &http.Client{
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // kubelet probe semantics
}

// resolvePort turns a probe's port (a number or a container port's name) into a number.
func (r *containerRunner) resolvePort(port intstr.IntOrString) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range r.spec.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("no container port named %q", port.StrVal)
}

func hostOr(host, fallback string) string {
	if host != "" {
		return host
	}
	return fallback
}

func seconds(s int32, fallback int) time.Duration {
	if s <= 0 {
		return time.Duration(fallback) * time.Second
	}
	return time.Duration(s) * time.Second
}

func ptrInt64(p *int64) int32 {
	if p == nil {
		return 0
	}
	return int32(*p)
}
