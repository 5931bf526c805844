package deployment

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinktls"
	"github.com/flok-dev/flok/internal/render"
)

// ensureTLSSecret creates the cluster's TLS Secret with generated certificates when
// kubernetes.operator.ssl.generate asks for it and the Secret does not exist. One that
// exists is left as it is — the user's, or generated before: its CA is what the
// running cluster and the operator trust. It belongs to the FlinkDeployment and goes
// with it. The Secret is created, not read first, so that the operator keeps no cache
// of Secrets.
func (r *Reconciler) ensureTLSSecret(ctx context.Context, fd *v1beta1.FlinkDeployment, t *render.TLS) error {
	if t == nil || !t.Generate {
		return nil
	}
	data, err := flinktls.Generate(fd.Name, t.DNSNames, r.now())
	if err != nil {
		return fmt.Errorf("generating the certificates of Secret %s: %w", t.Secret, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: fd.Namespace, Name: t.Secret,
			Labels: map[string]string{render.LabelManagedBy: render.ManagedByFlok, "app": fd.Name},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1beta1.GroupVersion.String(), Kind: v1beta1.KindFlinkDeployment, Name: fd.Name, UID: fd.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Type: corev1.SecretTypeTLS,
		Data: data,
	}
	if err := r.Client.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the TLS Secret %s: %w", t.Secret, err)
	}
	return nil
}
