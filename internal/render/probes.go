package render

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/internal/flinkconf"
)

// Options that turn the probes Flok gives Flink's containers on or off.
const (
	// keyJMStartupProbe is the Apache operator's option.
	keyJMStartupProbe = "kubernetes.operator.jm-deployment.startup.probe.enabled"
	// keyLivenessProbes is Flok's own.
	keyLivenessProbes = "kubernetes.operator.liveness.probes.enabled"
)

// The probes' timing. A JobManager may take five minutes to start (recovering many
// jobs from high-availability metadata); a JVM is restarted only after two minutes in
// which its port takes no connection — far longer than any pause of a healthy JVM.
const (
	startupPeriod, startupFailures   = 5, 60
	livenessPeriod, livenessFailures = 15, 8
	probeTimeout                     = 10
	taskManagerLivenessDelay         = 30
)

// jobManagerProbes are the JobManager's startup probe (its REST API answers, over TLS
// when security.ssl.rest.enabled; its REST port accepts connections when Flink asks
// clients for a certificate) and liveness probe (its REST port still accepts
// connections: a REST call would fail during a leader election, which a restart would
// only prolong), each unless turned off.
func (c *cluster) jobManagerProbes(restPort int32) (startup, liveness *corev1.Probe, errs field.ErrorList) {
	if c.hostNetwork() && c.native() {
		// With host networking Flink's native entrypoint binds the REST, RPC and blob
		// ports anew each start (it sets them to 0) and writes them into the Services: no
		// port is known to probe, and probing the configured one would restart a healthy
		// Pod.
		return nil, nil, nil
	}
	if on, err := c.boolOption(keyJMStartupProbe); err != nil {
		errs = append(errs, err)
	} else if on {
		scheme := corev1.URISchemeHTTP
		if c.restOverTLS() {
			scheme = corev1.URISchemeHTTPS
		}
		handler := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/config", Port: intstr.FromInt32(restPort), Scheme: scheme}}
		if c.restOverTLS() && flinkconf.IsTrue(c.conf[keyRESTClientAuth]) {
			// The kubelet has no client certificate to show: it can only see the port open.
			handler = corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(restPort)}}
		}
		startup = &corev1.Probe{
			ProbeHandler:  handler,
			PeriodSeconds: startupPeriod, TimeoutSeconds: probeTimeout, FailureThreshold: startupFailures,
		}
	}
	if on, err := c.boolOption(keyLivenessProbes); err != nil {
		errs = append(errs, err)
	} else if on {
		liveness = &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(restPort)}},
			PeriodSeconds: livenessPeriod, TimeoutSeconds: probeTimeout, FailureThreshold: livenessFailures,
		}
	}
	return startup, liveness, errs
}

// taskManagerLiveness is the TaskManagers' liveness probe: their RPC port accepts
// connections. None when turned off, when the port is a range, or with native host
// networking.
func (c *cluster) taskManagerLiveness() (*corev1.Probe, *field.Error) {
	on, err := c.boolOption(keyLivenessProbes)
	if err != nil || !on || c.hostNetwork() && c.native() { // Flink picks the port (above)
		return nil, err
	}
	port, perr := c.port(keyTMRPCPort, defaultTMRPCPort)
	if perr != nil {
		return nil, nil // a range: the TaskManager picks its port
	}
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}},
		InitialDelaySeconds: taskManagerLivenessDelay, PeriodSeconds: livenessPeriod, TimeoutSeconds: probeTimeout,
		FailureThreshold: livenessFailures,
	}, nil
}

// boolOption reads a true/false option that defaults to true.
func (c *cluster) boolOption(key string) (bool, *field.Error) {
	v := strings.TrimSpace(c.conf[key])
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, field.Invalid(field.NewPath("spec", "flinkConfiguration").Key(key), v, "must be true or false")
	}
	return b, nil
}
