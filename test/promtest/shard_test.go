package promtest_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/controller/podmonitor"
	"github.com/flok-dev/flok/internal/render"
	"github.com/flok-dev/flok/test/flinktest"
	"github.com/flok-dev/flok/test/localk8s"
	"github.com/flok-dev/flok/test/promtest"
)

var cluster *localk8s.Cluster

func TestMain(m *testing.M) {
	localk8s.Main(m, localk8s.Options{Kwok: true}, &cluster)
}

// shardedJobs is how many Flink deployments TestShardsSplitTheTargets spreads.
const shardedJobs = 30

// TestShardsSplitTheTargets runs one real Prometheus per shard, each configured from
// the PodMonitors of its shard (the flok.dev/metrics-shard label its podMonitorSelector
// names) as the Prometheus Operator configures it, over the JobManager Pods of 30 Flink
// deployments (on the kwok node, scraped at a closed port on loopback): two shards
// discover disjoint sets of targets whose union is every JobManager; with a third, only
// the jobs the new shard wins move — about a third, all onto it.
func TestShardsSplitTheTargets(t *testing.T) {
	ns := cluster.Namespace(t)
	var names []string
	for i := range shardedJobs {
		name := fmt.Sprintf("job-%02d", i)
		names = append(names, name)
		jobManagerPod(t, ns, name)
	}
	two := shardsOf(t, ns, names, 2)
	three := shardsOf(t, ns, names, 3)
	require.ElementsMatch(t, names, slices.Collect(maps.Keys(two)), "two shards scrape every JobManager, each once")
	require.ElementsMatch(t, names, slices.Collect(maps.Keys(three)), "three shards scrape every JobManager, each once")
	moved := 0
	for _, name := range names {
		if two[name] != three[name] {
			moved++
			require.Equal(t, 2, three[name], "%s moved between the old shards", name)
		}
	}
	t.Logf("2 → 3 shards: %d of %d jobs moved, all onto the new shard", moved, shardedJobs)
	require.InDelta(t, shardedJobs/3, moved, shardedJobs/6, "about a third of the jobs move")
}

// jobManagerPod makes the JobManager Pod of deployment name as Flok renders its
// labels and metrics port, on the kwok node.
func jobManagerPod(t *testing.T, ns, name string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-jobmanager", Namespace: ns, Labels: map[string]string{
			render.LabelApp: name, render.LabelType: render.TypeNative, render.LabelComponent: render.ComponentJobManager,
		}},
		Spec: corev1.PodSpec{
			NodeName: localk8s.KwokNodeName, Tolerations: []corev1.Toleration{localk8s.KwokToleration},
			Containers: []corev1.Container{{Name: "flink-main-container", Image: "flink:2.3",
				Ports: []corev1.ContainerPort{{Name: render.MetricsPortName, ContainerPort: 9249}}}},
		},
	}
	_, err := cluster.Client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
	require.NoError(t, err)
}

// shardsOf runs a Prometheus per shard, each given the PodMonitors Flok renders for its
// shard, and returns the shard whose Prometheus discovered each deployment's
// JobManager — failing if two did.
func shardsOf(t *testing.T, ns string, names []string, shards int) map[string]int {
	t.Helper()
	byShard := make([][]*unstructured.Unstructured, shards)
	for _, name := range names {
		pm, err := podmonitor.Desired(&v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, shards)
		require.NoError(t, err)
		shard, err := strconv.Atoi(pm.GetLabels()[podmonitor.ShardLabel])
		require.NoError(t, err)
		byShard[shard] = append(byShard[shard], pm)
	}
	found := map[string]int{}
	for shard, pms := range byShard {
		require.NotEmpty(t, pms, "shard %d of %d has jobs", shard, shards)
		prom := promtest.StartForPodMonitors(t, pms, cluster.KubeconfigPath, "127.0.0.1:9")
		var pods []string
		flinktest.WaitFor(t, time.Minute, fmt.Sprintf("shard %d of %d: %d targets", shard, shards, len(pms)), func(ctx context.Context) (bool, error) {
			targets, err := prom.ActiveTargets(ctx)
			if err != nil {
				return false, nil
			}
			pods = pods[:0]
			for _, target := range targets {
				pods = append(pods, string(target.Labels["pod"]))
			}
			slices.Sort(pods)
			return len(pods) >= len(pms), nil
		})
		require.Len(t, pods, len(pms), "shard %d of %d scrapes its jobs' JobManagers only", shard, shards)
		for _, pod := range pods {
			name, ok := strings.CutSuffix(pod, "-jobmanager")
			require.True(t, ok, "target of Pod %q, not a JobManager", pod)
			_, twice := found[name]
			require.False(t, twice, "%s scraped by two shards", name)
			found[name] = shard
		}
	}
	return found
}
