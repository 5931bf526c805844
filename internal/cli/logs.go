package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/render"
)

// LogOptions choose the Flink process whose log `flok logs` shows.
type LogOptions struct {
	// TaskManager is the TaskManager's number (1 is the first by name); 0 is the
	// JobManager.
	TaskManager int
	// Follow keeps copying new lines until ctx ends.
	Follow bool
	// Previous is the log of the container's previous run (after a crash).
	Previous bool
}

// Logs copies the log of a cluster's JobManager (or one of its TaskManagers) to w.
func (c *Client) Logs(ctx context.Context, name string, o LogOptions, w io.Writer) error {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return err
	}
	cluster := ClusterName(obj)
	component := render.ComponentJobManager
	if o.TaskManager > 0 {
		component = render.ComponentTaskManager
	}
	pods := &corev1.PodList{}
	if err := c.API.List(ctx, pods, client.InNamespace(c.Namespace), client.MatchingLabels{render.LabelApp: cluster, render.LabelComponent: component}); err != nil {
		return explain(err, c.Config.Host)
	}
	// Terminating Pods are leaving; the rest in natural order (…-taskmanager-1-2 before
	// …-taskmanager-1-10), so that numbers stay put as TaskManagers come.
	live := slices.DeleteFunc(pods.Items, func(p corev1.Pod) bool { return p.DeletionTimestamp != nil })
	slices.SortFunc(live, func(a, b corev1.Pod) int { return naturalCompare(a.Name, b.Name) })
	index := max(o.TaskManager, 1) - 1
	if index >= len(live) {
		return fmt.Errorf("%s has %d running %s Pods; there is no number %d", cluster, len(live), component, max(o.TaskManager, 1))
	}
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	pod := live[index]
	stream, err := kube.CoreV1().Pods(c.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: "flink-main-container", Follow: o.Follow, Previous: o.Previous,
	}).Stream(ctx)
	if err != nil {
		return explain(err, c.Config.Host)
	}
	defer stream.Close()
	_, err = io.Copy(w, stream)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// naturalCompare orders names as people count: runs of digits by their value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			// Equal-length digit runs compare as text; a shorter one (no leading zeros
			// in Pod names) is the smaller number.
			if c := cmp.Compare(len(da), len(db)); c != 0 {
				return c
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
