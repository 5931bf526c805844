package scale

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is one run's figures.
type Report struct {
	N                 int     `json:"n"`
	FlinkVersion      string  `json:"flinkVersion"`
	SavepointDuration float64 `json:"savepointDurationSeconds"`
	Burst             struct {
		CreateSeconds      float64 `json:"createSeconds"`
		JobManagersSeconds float64 `json:"allJobManagerDeploymentsSeconds"`
		StableSeconds      float64 `json:"allStableSeconds"`
	} `json:"burst"`
	Steady struct {
		RSSMiB                                 float64            `json:"rssMiB"`
		HeapMiB                                float64            `json:"heapInuseMiB"`
		CPUCores                               float64            `json:"cpuCores"`
		FlinkRequestsPerDeploymentMinute       float64            `json:"flinkRequestsPerDeploymentMinute"`
		OperatorAPIRequestsPerDeploymentMinute float64            `json:"operatorAPIRequestsPerDeploymentMinute"`
		APIServerRequestsPerDeploymentMinute   map[string]float64 `json:"apiServerRequestsPerDeploymentMinute"`
	} `json:"steady"`
	Arrivals Latencies `json:"arrivalsCreateToJobManagerDeployment"`
	// ArrivalsWhy are mean latencies while the arrivals came: the operator's queue and
	// rounds, and the API server's writes.
	ArrivalsWhy LatencyBreakdown `json:"arrivalsBreakdown"`
	Failures    Latencies        `json:"failureToStatusAndEvent"`
	Upgrades    Latencies        `json:"savepointUpgradeOverhead"`
	Restart     struct {
		ObservedAllSeconds  float64            `json:"observedAllSeconds"`
		OperatorAPIRequests float64            `json:"operatorAPIRequests"`
		APIServerRequests   map[string]float64 `json:"apiServerRequests"`
		FlinkRequests       int64              `json:"flinkRequests"`
	} `json:"restart"`
	EtcdRestart struct {
		DownSeconds        float64 `json:"downSeconds"`
		Upgrades           int     `json:"upgrades"`
		Steady             int     `json:"steadyDeployments"`
		ConvergedSeconds   float64 `json:"upgradesConvergedSeconds"`
		ObservedAllSeconds float64 `json:"observedAllSeconds"`
	} `json:"etcdRestartDuringUpgrades"`
	StrayDials int `json:"strayDials"`
}

// Latencies summarizes durations, in seconds.
type Latencies struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Seconds"`
	P99   float64 `json:"p99Seconds"`
	Max   float64 `json:"maxSeconds"`
}

func latencies(ds []time.Duration) Latencies {
	return Latencies{Count: len(ds), P50: percentile(ds, 50).Seconds(), P99: percentile(ds, 99).Seconds(), Max: percentile(ds, 100).Seconds()}
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(what, value string) { fmt.Fprintf(t, "%s\t%s\n", what, value) }
	row(fmt.Sprintf("at %d deployments (Flink %s simulated)", r.N, r.FlinkVersion), "")
	row("burst: creates sent", fmt.Sprintf("%.1f s", r.Burst.CreateSeconds))
	row("burst: every JobManager Deployment", fmt.Sprintf("%.1f s", r.Burst.JobManagersSeconds))
	row("burst: every deployment STABLE", fmt.Sprintf("%.1f s", r.Burst.StableSeconds))
	row("steady: operator RSS / Go heap in use", fmt.Sprintf("%.0f / %.0f MiB", r.Steady.RSSMiB, r.Steady.HeapMiB))
	row("steady: operator CPU", fmt.Sprintf("%.3f cores", r.Steady.CPUCores))
	row("steady: Flink REST requests / deployment / min", fmt.Sprintf("%.2f", r.Steady.FlinkRequestsPerDeploymentMinute))
	row("steady: operator's API requests / deployment / min", fmt.Sprintf("%.3f", r.Steady.OperatorAPIRequestsPerDeploymentMinute))
	row("steady: API server requests / deployment / min (all clients)", formatCounts(r.Steady.APIServerRequestsPerDeploymentMinute, "%.3f"))
	row(fmt.Sprintf("arrivals: create -> JobManager Deployment (%d)", r.Arrivals.Count), formatLatencies(r.Arrivals))
	row("arrivals: mean queue wait / round (FlinkDeployments)", fmt.Sprintf("%.3f s / %.3f s", r.ArrivalsWhy.QueueWaitSeconds, r.ArrivalsWhy.RoundSeconds))
	row("arrivals: API server mean latency of writes", formatCounts(r.ArrivalsWhy.APIServerWriteSeconds, "%.3f s"))
	row(fmt.Sprintf("failure -> FAILED in status + event (%d)", r.Failures.Count), formatLatencies(r.Failures))
	row(fmt.Sprintf("savepoint upgrade: overhead beyond the %.0f s savepoint (%d)", r.SavepointDuration, r.Upgrades.Count), formatLatencies(r.Upgrades))
	row(fmt.Sprintf("etcd away %.0f s during %d upgrades: all STABLE / every cluster observed after it came back", r.EtcdRestart.DownSeconds, r.EtcdRestart.Upgrades),
		fmt.Sprintf("%.1f s / %.1f s (%d steady deployments untouched)", r.EtcdRestart.ConvergedSeconds, r.EtcdRestart.ObservedAllSeconds, r.EtcdRestart.Steady))
	row("restart: every cluster observed again", fmt.Sprintf("%.1f s", r.Restart.ObservedAllSeconds))
	row("restart: operator's API requests in the window", fmt.Sprintf("%.0f", r.Restart.OperatorAPIRequests))
	row("restart: API server requests in the window (all clients)", formatCounts(r.Restart.APIServerRequests, "%.0f"))
	row("restart: Flink REST requests in the window", fmt.Sprintf("%d", r.Restart.FlinkRequests))
	row("dials to addresses off this machine", fmt.Sprintf("%d", r.StrayDials))
	_ = t.Flush()
}

func formatLatencies(l Latencies) string {
	return fmt.Sprintf("p50 %.3f s, p99 %.3f s, max %.3f s", l.P50, l.P99, l.Max)
}

// formatCounts lists the largest counts first, at most six.
func formatCounts(m map[string]float64, format string) string {
	keys := make([]string, 0, len(m))
	var total float64
	for k, v := range m {
		keys = append(keys, k)
		total += v
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	parts := []string{"total " + fmt.Sprintf(format, total)}
	for _, k := range keys[:min(6, len(keys))] {
		parts = append(parts, k+" "+fmt.Sprintf(format, m[k]))
	}
	return strings.Join(parts, "; ")
}

// LatencyBreakdown explains a latency by the mean times of its parts.
type LatencyBreakdown struct {
	QueueWaitSeconds      float64            `json:"operatorQueueWaitSeconds"`
	RoundSeconds          float64            `json:"operatorRoundSeconds"`
	APIServerWriteSeconds map[string]float64 `json:"apiServerWriteSeconds"`
}

// explainLatency reads, between two snapshots, the mean time FlinkDeployments waited
// in the operator's queue and its rounds took (controller-runtime's workqueue
// metrics), and the API server's mean latency per write verb.
func explainLatency(before, after snapshot) LatencyBreakdown {
	mean := func(m0, m1 metrics, name, match string) float64 {
		sum := m1.sumMatching(name+"_sum", match) - m0.sumMatching(name+"_sum", match)
		count := m1.sumMatching(name+"_count", match) - m0.sumMatching(name+"_count", match)
		if count <= 0 {
			return 0
		}
		return sum / count
	}
	out := LatencyBreakdown{
		QueueWaitSeconds:      mean(before.operator, after.operator, "workqueue_queue_duration_seconds", `name="flinkdeployment"`),
		RoundSeconds:          mean(before.operator, after.operator, "workqueue_work_duration_seconds", `name="flinkdeployment"`),
		APIServerWriteSeconds: map[string]float64{},
	}
	for _, verb := range []string{"POST", "PATCH", "APPLY", "PUT", "DELETE"} {
		if v := mean(before.apiserver, after.apiserver, "apiserver_request_duration_seconds", `verb="`+verb+`"`); v > 0 {
			out.APIServerWriteSeconds[verb] = v
		}
	}
	return out
}
