package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/config"
)

// InstallObjects are Flok's CRDs, the operator's RBAC and its Deployment, in the order
// they are applied; image, when not empty, is the operator's image (a mirror's, or one
// `make image PUSH=…` pushed).
func InstallObjects(image string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, dir := range config.InstallOrder {
		files, err := fs.Glob(config.Install, dir+"/*.yaml")
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		// The namespace comes before what lives in it.
		slices.SortStableFunc(files, func(a, b string) int {
			return boolOrder(path.Base(b) == "namespace.yaml", path.Base(a) == "namespace.yaml")
		})
		for _, f := range files {
			data, err := config.Install.ReadFile(f)
			if err != nil {
				return nil, err
			}
			objs, err := decodeAll(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, objs...)
		}
	}
	if image == "" {
		return out, nil
	}
	return out, setOperatorImage(out, image)
}

// operatorDeployment is the name of the operator's Deployment.
const operatorDeployment = "flok-operator"

// setOperatorImage makes the operator's Deployment among objs run image.
func setOperatorImage(objs []*unstructured.Unstructured, image string) error {
	if _, err := name.ParseReference(image); err != nil {
		return fmt.Errorf("--image %q: %w (want registry/repository:tag or …@sha256:digest)", image, err)
	}
	for _, u := range objs {
		if u.GetKind() != "Deployment" || u.GetName() != operatorDeployment {
			continue
		}
		containers, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		if err != nil || len(containers) == 0 {
			return fmt.Errorf("the operator's Deployment has no containers: %v", err)
		}
		containers[0].(map[string]any)["image"] = image
		return unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
	}
	return fmt.Errorf("the installation has no Deployment %s", operatorDeployment)
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// decodeAll reads every object of a multi-document YAML file.
func decodeAll(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// Install applies Flok's objects server-side, the operator running image (its default
// when empty), reporting each.
func (c *Client) Install(ctx context.Context, image string, report func(*unstructured.Unstructured)) error {
	objs, err := InstallObjects(image)
	if err != nil {
		return err
	}
	for _, u := range objs {
		if err := c.API.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", u.GetKind(), u.GetName(), explain(err, c.Config.Host))
		}
		report(u)
	}
	return nil
}

// snapshotsLeft refuses an uninstallation while FlinkStateSnapshots remain: each
// carries the operator's finalizer (records of savepoint histories outlive their jobs).
func (c *Client) snapshotsLeft(ctx context.Context) error {
	snaps := &v1beta1.FlinkStateSnapshotList{}
	err := c.API.List(ctx, snaps)
	switch {
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return explain(err, c.Config.Host)
	case len(snaps.Items) > 0:
		s := snaps.Items[0]
		return fmt.Errorf("%d FlinkStateSnapshots remain, such as %s/%s (`kubectl get flinkstatesnapshots -A`): delete them first (their savepoints' files stay unless spec.savepoint.disposeOnDelete), or uninstall anyway with --force (they then stay until the operator is back)",
			len(snaps.Items), s.Namespace, s.Name)
	}
	return nil
}

// Uninstall deletes the operator and its RBAC, and with crds Flok's CRDs. While Flok
// resources remain it is refused unless force: without the operator nobody releases
// their finalizers, so they (and CRDs being deleted) would stay until it returns.
func (c *Client) Uninstall(ctx context.Context, crds, force bool, report func(*unstructured.Unstructured)) error {
	objs, err := InstallObjects("")
	if err != nil {
		return err
	}
	if !force {
		left, err := c.List(ctx, true)
		if err != nil && !errors.Is(err, ErrNotInstalled) {
			return err
		}
		if len(left) > 0 {
			return fmt.Errorf("%d Flok resources remain, such as %s/%s (`flok list -A`): delete them first, so that the operator stops their Flink clusters cleanly, or uninstall anyway with --force (they then stay until the operator is back)",
				len(left), left[0].Namespace, left[0].Name)
		}
		if err := c.snapshotsLeft(ctx); err != nil {
			return err
		}
	}
	slices.Reverse(objs)
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" && !crds {
			continue
		}
		if err := c.API.Delete(ctx, u); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %s %s: %w", u.GetKind(), u.GetName(), explain(err, c.Config.Host))
		}
		report(u)
	}
	return nil
}
