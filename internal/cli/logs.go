package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/render"
)

// LogOptions choose the Flink process whose log `flok logs` shows.
type LogOptions struct {
	// TaskManager is the TaskManager's number (1 is the first by name); 0 is the
	// JobManager.
	TaskManager int
	Follow      bool
	Previous    bool
}

// Logs copies the log of a cluster's JobManager (or one of its TaskManagers) to w.
func (c *Client) Logs(ctx context.Context, name string, o LogOptions, w io.Writer) error {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return err
	}
	cluster := name
	if sj, ok := obj.(*v1beta1.FlinkSessionJob); ok {
		cluster = sj.Spec.DeploymentName
	}
	component := render.ComponentJobManager
	if o.TaskManager > 0 {
		component = render.ComponentTaskManager
	}
	pods := &corev1.PodList{}
	if err := c.API.List(ctx, pods, client.InNamespace(c.Namespace), client.MatchingLabels{render.LabelApp: cluster, render.LabelComponent: component}); err != nil {
		return explain(err, c.Config.Host)
	}
	slices.SortFunc(pods.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	index := max(o.TaskManager, 1) - 1
	if index >= len(pods.Items) {
		return fmt.Errorf("%s has %d %s Pods; there is no number %d", cluster, len(pods.Items), component, max(o.TaskManager, 1))
	}
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	pod := pods.Items[index]
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
