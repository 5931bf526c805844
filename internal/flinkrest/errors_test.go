package flinkrest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHTTPErrorSaysWhoAnswered: Flink's {"errors": […]}, an API server proxy's Status
// (no JobManager behind the Service) and anything else each read as what they say.
func TestHTTPErrorSaysWhoAnswered(t *testing.T) {
	for _, c := range []struct {
		status     int
		body, want string
	}{
		{404, `{"errors":["Job could not be found."]}`, "flink GET /jobs/x: 404: Job could not be found."},
		{503, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for service \"top-speed-rest\"","reason":"ServiceUnavailable","code":503}`,
			`flink GET /jobs/x: 503: the API server's service proxy: no endpoints available for service "top-speed-rest"`},
		{502, "<html>Bad Gateway</html>", "flink GET /jobs/x: 502: <html>Bad Gateway</html>"},
		{500, "", "flink GET /jobs/x: 500: Internal Server Error"},
	} {
		require.Equal(t, c.want, newHTTPError("GET", "/jobs/x", c.status, []byte(c.body)).Error())
	}
}
