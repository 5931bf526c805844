// Package ocitest runs an in-process OCI registry on loopback for tests, as the
// process node and go-containerregistry reach registries there: plain HTTP.
package ocitest

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Serve starts a registry and returns its host:port and how to stop it, for a
// TestMain that has no test to tie it to.
func Serve() (host string, stop func()) {
	server := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return strings.TrimPrefix(server.URL, "http://"), server.Close
}

// Registry starts a registry that lives as long as the test and returns its
// host:port, the prefix of its references (host:port/team/app:1).
func Registry(t testing.TB) string {
	host, stop := Serve()
	t.Cleanup(stop)
	return host
}
