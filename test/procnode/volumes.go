package procnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// volume is a materialized Pod volume: a directory (or, for some hostPath types, a
// file) on the node.
type volume struct {
	path     string
	readOnly bool // ConfigMap, Secret, downward API and projected volumes are read-only
}

// errVolumeNotReady means a volume's source (a ConfigMap, a Secret) is not there yet;
// the kubelet keeps the Pod in ContainerCreating and tries again.
type errVolumeNotReady struct{ err error }

func (e *errVolumeNotReady) Error() string { return e.err.Error() }

// prepareVolumes writes every volume of the Pod under <podDir>/volumes.
func (w *podWorker) prepareVolumes(ctx context.Context) (map[string]volume, error) {
	vols := map[string]volume{}
	for _, v := range w.snapshot().Spec.Volumes {
		dir := filepath.Join(w.dir, "volumes", v.Name)
		vol, err := w.prepareVolume(ctx, v, dir)
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", v.Name, err)
		}
		vols[v.Name] = vol
	}
	return vols, nil
}

func (w *podWorker) prepareVolume(ctx context.Context, v corev1.Volume, dir string) (volume, error) {
	switch {
	case v.EmptyDir != nil:
		// World-writable, as the kubelet makes it: containers need not run as root.
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return volume{}, err
		}
		return volume{path: dir}, os.Chmod(dir, 0o777)
	case v.HostPath != nil:
		return prepareHostPath(v.HostPath)
	case v.ConfigMap != nil:
		return volume{path: dir, readOnly: true}, w.writeSource(ctx, dir, configMapSource, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
	case v.Secret != nil:
		return volume{path: dir, readOnly: true}, w.writeSource(ctx, dir, secretSource, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
	case v.DownwardAPI != nil:
		return volume{path: dir, readOnly: true}, w.writeDownwardAPI(dir, v.DownwardAPI.Items)
	case v.Projected != nil:
		return volume{path: dir, readOnly: true}, w.writeProjected(ctx, dir, v.Projected.Sources)
	}
	return volume{}, fmt.Errorf("this volume type is not supported by the process node")
}

func prepareHostPath(hp *corev1.HostPathVolumeSource) (volume, error) {
	kind := corev1.HostPathUnset
	if hp.Type != nil {
		kind = *hp.Type
	}
	switch kind {
	case corev1.HostPathDirectoryOrCreate:
		return volume{path: hp.Path}, os.MkdirAll(hp.Path, 0o755)
	case corev1.HostPathFileOrCreate:
		f, err := os.OpenFile(hp.Path, os.O_CREATE, 0o644)
		if err == nil {
			f.Close()
		}
		return volume{path: hp.Path}, err
	case corev1.HostPathDirectory, corev1.HostPathFile:
		if _, err := os.Stat(hp.Path); err != nil {
			return volume{}, &errVolumeNotReady{fmt.Errorf("hostPath %s: %w", hp.Path, err)}
		}
	}
	return volume{path: hp.Path}, nil
}

// writeSource writes a ConfigMap's or Secret's keys into dir. A missing optional
// source leaves an empty directory; a missing required one is not ready yet.
func (w *podWorker) writeSource(ctx context.Context, dir string, kind sourceKind, name string, items []corev1.KeyToPath, optional *bool) error {
	data, err := w.node.readSource(ctx, w.namespace, kind, name)
	if apierrors.IsNotFound(err) && ptr.Deref(optional, false) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return &errVolumeNotReady{err}
	}
	return writeKeys(dir, data, items)
}

// writeKeys writes each key as a file, or only the listed items at their paths.
func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	for _, item := range volumeItems(data, items) {
		value, ok := data[item.Key]
		if !ok {
			return &errVolumeNotReady{fmt.Errorf("key %q is missing", item.Key)}
		}
		if err := writeVolumeFile(dir, item.Path, value); err != nil {
			return err
		}
	}
	return os.MkdirAll(dir, 0o755)
}

func (w *podWorker) writeDownwardAPI(dir string, items []corev1.DownwardAPIVolumeFile) error {
	for _, item := range items {
		var value string
		var err error
		switch {
		case item.FieldRef != nil:
			value, err = fieldValue(w.snapshot(), w.podIP(), item.FieldRef.FieldPath)
		case item.ResourceFieldRef != nil:
			value, err = w.containerResourceValue(item.ResourceFieldRef)
		}
		if err != nil {
			return err
		}
		if err := writeVolumeFile(dir, item.Path, []byte(value)); err != nil {
			return err
		}
	}
	return os.MkdirAll(dir, 0o755)
}

func (w *podWorker) containerResourceValue(ref *corev1.ResourceFieldSelector) (string, error) {
	for i := range w.snapshot().Spec.Containers {
		if c := &w.snapshot().Spec.Containers[i]; c.Name == ref.ContainerName {
			return resourceValue(c, ref)
		}
	}
	return "", fmt.Errorf("resourceFieldRef names unknown container %q", ref.ContainerName)
}

func (w *podWorker) writeProjected(ctx context.Context, dir string, sources []corev1.VolumeProjection) error {
	for _, src := range sources {
		var err error
		switch {
		case src.ServiceAccountToken != nil:
			err = w.writeToken(ctx, dir, src.ServiceAccountToken)
		case src.ConfigMap != nil:
			err = w.writeSource(ctx, dir, configMapSource, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional)
		case src.Secret != nil:
			err = w.writeSource(ctx, dir, secretSource, src.Secret.Name, src.Secret.Items, src.Secret.Optional)
		case src.DownwardAPI != nil:
			err = w.writeDownwardAPI(dir, src.DownwardAPI.Items)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeToken requests a token bound to the Pod and writes it, then renews it at 80 % of
// its lifetime as the kubelet does, for as long as the Pod runs.
func (w *podWorker) writeToken(ctx context.Context, dir string, src *corev1.ServiceAccountTokenProjection) error {
	expiry, err := w.requestToken(ctx, dir, src)
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-w.stopped:
				return
			case <-time.After(time.Until(expiry) * 4 / 5):
			}
			if next, err := w.requestToken(context.Background(), dir, src); err == nil {
				expiry = next
			} else {
				expiry = time.Now().Add(10 * time.Second)
			}
		}
	}()
	return nil
}

func (w *podWorker) requestToken(ctx context.Context, dir string, src *corev1.ServiceAccountTokenProjection) (time.Time, error) {
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: w.name, UID: w.uid},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	sa := w.snapshot().Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	token, err := w.node.client.CoreV1().ServiceAccounts(w.namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return time.Time{}, &errVolumeNotReady{fmt.Errorf("token for service account %q: %w", sa, err)}
	}
	return token.Status.ExpirationTimestamp.Time, writeVolumeFile(dir, src.Path, []byte(token.Status.Token))
}

// writeVolumeFile replaces a file atomically, so a reader never sees half of it.
func writeVolumeFile(dir, rel string, data []byte) error {
	path := filepath.Join(dir, rel)
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("path %q leaves the volume", rel)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// volumeItems are the files of a ConfigMap or Secret volume: the listed items, or
// every key under its own name.
func volumeItems(data map[string][]byte, items []corev1.KeyToPath) []corev1.KeyToPath {
	if len(items) > 0 {
		return items
	}
	all := make([]corev1.KeyToPath, 0, len(data))
	for k := range data {
		all = append(all, corev1.KeyToPath{Key: k, Path: k})
	}
	return all
}
