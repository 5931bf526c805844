package cli

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOnlyAddressedByIP: the UI proxy answers requests to an address or localhost, and
// refuses a request a rebinding domain name carries.
func TestOnlyAddressedByIP(t *testing.T) {
	h := OnlyAddressedByIP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for host, want := range map[string]int{
		"127.0.0.1:8081":     http.StatusNoContent,
		"localhost:8081":     http.StatusNoContent,
		"[::1]:8081":         http.StatusNoContent,
		"10.1.2.3":           http.StatusNoContent,
		"evil.example:8081":  http.StatusForbidden,
		"localhost.evil.com": http.StatusForbidden,
	} {
		r := httptest.NewRequest(http.MethodGet, "/overview", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, want, w.Code, host)
	}
}
