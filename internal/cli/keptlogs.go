package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/internal/keptlog"
)

// KeptLog copies to w the log the operator kept of a container that ended — the
// newest, or the newest of pod — and says on info which it is and what else is kept.
func (c *Client) KeptLog(ctx context.Context, name, pod string, w, info io.Writer) error {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return err
	}
	cluster := ClusterName(obj)
	cm := &corev1.ConfigMap{}
	err = c.API.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: keptlog.ConfigMapName(cluster)}, cm)
	if apierrors.IsNotFound(err) {
		cm = nil
	} else if err != nil {
		return explain(err, c.Config.Host)
	}
	entries, err := keptlog.Entries(cm)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("no log of an ended container of %s is kept: flok-operator keeps one when a JobManager or TaskManager container ends or its Pod is deleted, in ConfigMap %s", cluster, keptlog.ConfigMapName(cluster))
	}
	i := 0
	if pod != "" {
		if i = slices.IndexFunc(entries, func(e keptlog.Entry) bool { return e.Pod == pod }); i < 0 {
			return fmt.Errorf("no log of Pod %s is kept; kept are:\n%s", pod, describeKept(entries))
		}
	}
	chosen := entries[i]
	data, err := keptlog.Read(cm, chosen)
	if err != nil {
		return err
	}
	fmt.Fprintf(info, "# %s\n", describeEntry(chosen))
	if others := slices.Delete(slices.Clone(entries), i, i+1); len(others) > 0 {
		fmt.Fprintf(info, "# also kept (flok logs %s --terminated --pod POD):\n%s", name, describeKept(others))
	}
	_, err = w.Write(data)
	return err
}

func describeKept(entries []keptlog.Entry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "#   %s\n", describeEntry(e))
	}
	return b.String()
}

// describeEntry says whose log it is and how its run ended.
func describeEntry(e keptlog.Entry) string {
	how := e.Reason
	if e.ExitCode != nil {
		how = fmt.Sprintf("%s, exit code %d", e.Reason, *e.ExitCode)
	}
	ended := "ended"
	if !e.Final() {
		how, ended = "taken as its Pod was deleted; its last lines may be missing", "running"
	}
	cut := ""
	if e.Truncated {
		cut = ", its end only"
	}
	return fmt.Sprintf("Pod %s, container %s, run %d: %s at %s (%s); %d bytes%s",
		e.Pod, e.Container, e.Run, ended, e.EndedAt.UTC().Format(time.RFC3339), how, e.Bytes, cut)
}
