package install

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/internal/console"
	"github.com/flok-dev/flok/test/flinktest"
)

// consoleServedInCluster: the installed operator serves the console behind the Service
// flok-console. Reached through the API server's service proxy, which authenticates
// the test but forwards no credentials, it asks for a sign-in; with a namespace
// viewer's token in its cookie it reviews the token — a cluster-wide right the chart
// grants even when the operator's own rights are bound in a few namespaces — and lists
// that namespace's job as the viewer.
func consoleServedInCluster(t *testing.T, ns, name string) {
	t.Helper()
	ctx := t.Context()
	get := func(path, cookie string) []byte {
		t.Helper()
		path, query, _ := strings.Cut(path, "?")
		req := cluster.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/flok-system/services/flok-console:http/proxy" + path)
		if name, value, ok := strings.Cut(query, "="); ok {
			req = req.Param(name, value)
		}
		if cookie != "" {
			req = req.SetHeader("Cookie", console.TokenCookie+"="+cookie)
		}
		body, err := req.DoRaw(ctx)
		require.NoError(t, err, "%s: %s", path, body)
		return body
	}
	var session console.Session
	require.NoError(t, json.Unmarshal(get("/api/session", ""), &session))
	require.True(t, session.SignIn, "the in-cluster console asks for a token")
	require.Empty(t, session.Viewer)

	token := flinktest.NamespaceViewerToken(t, cluster, ns)
	require.NoError(t, json.Unmarshal(get("/api/session", token), &session))
	require.Equal(t, "system:serviceaccount:"+ns+":viewer", session.Viewer)
	var rows []console.Row
	require.NoError(t, json.Unmarshal(get("/api/overview?namespace="+ns, token), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, name, rows[0].Name)
	require.Equal(t, "RUNNING", rows[0].JobState)
}
