package scale

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

// processSample is a process's CPU time used so far and its resident memory.
type processSample struct {
	at     time.Time
	cpu    time.Duration
	rssMiB float64
}

func sampleProcess(pid int) (processSample, error) {
	s := processSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; the fields after it are plain.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			s.rssMiB = kb / 1024
		}
	}
	return s, nil
}

// cores is the CPU used between two samples, in cores.
func cores(from, to processSample) float64 {
	return (to.cpu - from.cpu).Seconds() / to.at.Sub(from.at).Seconds()
}

// metrics are Prometheus samples by series ("name{labels}").
type metrics map[string]float64

func parseMetrics(r io.Reader) metrics {
	out := metrics{}
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// sum adds the samples of metric name, grouped by the values of labels.
func (m metrics) sum(name string, labels ...string) map[string]float64 {
	out := map[string]float64{}
	for series, v := range m {
		if series != name && !strings.HasPrefix(series, name+"{") {
			continue
		}
		var key []string
		for _, l := range labels {
			key = append(key, labelValue(series, l))
		}
		out[strings.Join(key, " ")] += v
	}
	return out
}

func labelValue(series, label string) string {
	_, rest, ok := strings.Cut(series, "{"+label+`="`)
	if !ok {
		_, rest, ok = strings.Cut(series, ","+label+`="`)
	}
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// sumMatching adds the samples of metric name whose labels contain match.
func (m metrics) sumMatching(name, match string) float64 {
	var t float64
	for series, v := range m {
		if strings.HasPrefix(series, name+"{") && strings.Contains(series, match) {
			t += v
		}
	}
	return t
}

// total is the sum of every sample of metric name.
func (m metrics) total(name string) float64 {
	var t float64
	for _, v := range m.sum(name) {
		t += v
	}
	return t
}

func scrapeURL(ctx context.Context, url string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body), nil
}

func scrapeAPIServer(ctx context.Context, kube kubernetes.Interface) (metrics, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return parseMetrics(bytes.NewReader(raw)), nil
}

// apiRequests are the API server's requests by "verb resource", from two scrapes.
func apiRequests(before, after metrics) map[string]float64 {
	b, a := before.sum("apiserver_request_total", "verb", "resource", "subresource"), after.sum("apiserver_request_total", "verb", "resource", "subresource")
	out := map[string]float64{}
	for k, v := range a {
		if d := v - b[k]; d > 0 {
			out[strings.TrimSpace(k)] = d
		}
	}
	return out
}

// percentile is the p-th percentile (0..100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// profile saves the operator's CPU profile over window and then its heap profile in
// ProfileDir; the channel says when it is done, and whether it failed.
func (r *run) profile(ctx context.Context, window time.Duration) <-chan error {
	done := make(chan error, 1)
	if r.opts.ProfileDir == "" {
		done <- nil
		return done
	}
	go func() {
		err := save(ctx, fmt.Sprintf("%sprofile?seconds=%d", r.operator.pprof, int(window.Seconds())), filepath.Join(r.opts.ProfileDir, "cpu.pprof"))
		if err == nil {
			err = save(ctx, r.operator.pprof+"heap", filepath.Join(r.opts.ProfileDir, "heap.pprof"))
		}
		done <- err
	}()
	return done
}

func save(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
