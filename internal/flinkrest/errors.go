package flinkrest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// HTTPError is an answer from Flink with a status other than the one expected. Messages
// holds Flink's {"errors":[…]} texts.
type HTTPError struct {
	Method, Path string
	Status       int
	Messages     []string
}

func (e *HTTPError) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("flink %s %s: %d: %s", e.Method, e.Path, e.Status, msg)
}

func newHTTPError(method, path string, status int, body []byte) *HTTPError {
	e := &HTTPError{Method: method, Path: path, Status: status}
	var parsed struct {
		Errors []string `json:"errors"`
		// An API server's service proxy answers with a Status of its own.
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(body, &parsed) != nil:
	case len(parsed.Errors) > 0:
		e.Messages = parsed.Errors
		return e
	case parsed.Kind == "Status" && parsed.Message != "":
		e.Messages = []string{"the API server's service proxy: " + parsed.Message}
		return e
	}
	if text := strings.TrimSpace(string(body)); text != "" {
		// An API-server proxy error or an HTML page: keep its start.
		e.Messages = []string{truncate(text, 500)}
	}
	return e
}

// TransportError is a call that got no answer: connection refused, reset, timed out.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("flink %s %s: no answer: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

func statusOf(err error) int {
	var h *HTTPError
	if errors.As(err, &h) {
		return h.Status
	}
	return 0
}

// IsNotFound reports a 404: an unknown job, trigger or jar.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports a 409: the job is already in a terminal state, or the operation
// conflicts with one under way.
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

// IsUnavailable reports a 503 (a JobManager electing its leader) or no answer at all.
func IsUnavailable(err error) bool {
	var t *TransportError
	return statusOf(err) == http.StatusServiceUnavailable || errors.As(err, &t)
}

// IsServerError reports a 5xx other than 503: Flink failed to handle the call.
func IsServerError(err error) bool {
	s := statusOf(err)
	return s >= 500 && s != http.StatusServiceUnavailable
}

// IsBadRequest reports a 400: Flink rejected the call's content.
func IsBadRequest(err error) bool { return statusOf(err) == http.StatusBadRequest }

// IsNotListening reports a call that found nothing listening: the connection was
// refused, the address or name does not exist — directly or through the API server's
// service proxy. The JobManager is not up (yet, or any more).
func IsNotListening(err error) bool {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return true
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return true
	}
	var h *HTTPError
	return errors.As(err, &h) && h.Status == http.StatusServiceUnavailable && strings.Contains(strings.Join(h.Messages, " "), "connection refused")
}

// retryable reports what is worth asking again after a pause: a JobManager electing
// its leader, a connection that broke. A JobManager that is not listening is not: the
// next observation asks again, and a pause here would only hold the caller.
func retryable(err error) bool { return IsUnavailable(err) && !IsNotListening(err) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
