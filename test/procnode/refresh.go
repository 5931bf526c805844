package procnode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// configMapRefresh is how often ConfigMap volumes are brought up to date. The kubelet
// takes up to a minute (its sync period plus its cache's); the node is quicker so that
// tests of configuration changes do not wait.
const configMapRefresh = 2 * time.Second

// refreshConfigMaps keeps the Pod's ConfigMap volumes up to date with their
// ConfigMaps, as the kubelet does, until the Pod's processes are gone: a changed key
// replaces its file atomically (a process watching it, such as log4j with
// monitorInterval, sees the new content); an unchanged one is left alone.
func (w *podWorker) refreshConfigMaps() {
	var sources []corev1.Volume
	for _, v := range w.snapshot().Spec.Volumes {
		if v.ConfigMap != nil {
			sources = append(sources, v)
		}
	}
	if len(sources) == 0 {
		return
	}
	for {
		select {
		case <-w.stopped:
			return
		case <-time.After(configMapRefresh):
		}
		for _, v := range sources {
			// A ConfigMap that is gone or unreadable leaves the files as they are.
			_ = w.refreshConfigMap(filepath.Join(w.dir, "volumes", v.Name), v.ConfigMap)
		}
	}
}

func (w *podWorker) refreshConfigMap(dir string, src *corev1.ConfigMapVolumeSource) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := w.node.readSource(ctx, w.namespace, configMapSource, src.Name)
	if err != nil {
		return err
	}
	for _, item := range volumeItems(data, src.Items) {
		value, ok := data[item.Key]
		if !ok {
			continue // the kubelet, too, keeps the last content of a key that went
		}
		if current, err := os.ReadFile(filepath.Join(dir, item.Path)); err == nil && bytes.Equal(current, value) {
			continue
		}
		if err := writeVolumeFile(dir, item.Path, value); err != nil {
			return err
		}
	}
	return nil
}
