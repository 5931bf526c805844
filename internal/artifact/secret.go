package artifact

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
)

// CredentialsFromSecret reads an access key from a Secret (the keys of
// v1beta1.JobArtifact's), saying which key is missing rather than ever what the Secret
// holds.
func CredentialsFromSecret(ctx context.Context, reader client.Reader, namespace, name string) (*Credentials, error) {
	secret := &corev1.Secret{}
	err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("there is no Secret %s in namespace %s: create it with %s and %s", name, namespace, v1beta1.CredentialsAccessKeyID, v1beta1.CredentialsSecretAccessKey)
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("reading Secret %s/%s is forbidden: grant get on secrets in namespace %s (to the operator, or to you for flok submit)", namespace, name, namespace)
	case err != nil:
		return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, name, err)
	}
	for _, key := range []string{v1beta1.CredentialsAccessKeyID, v1beta1.CredentialsSecretAccessKey} {
		if len(secret.Data[key]) == 0 {
			return nil, fmt.Errorf("Secret %s/%s has no %s: it needs %s and %s (and may have %s)", namespace, name, key, v1beta1.CredentialsAccessKeyID, v1beta1.CredentialsSecretAccessKey, v1beta1.CredentialsSessionToken)
		}
	}
	return &Credentials{
		AccessKeyID: string(secret.Data[v1beta1.CredentialsAccessKeyID]), SecretAccessKey: string(secret.Data[v1beta1.CredentialsSecretAccessKey]),
		SessionToken: string(secret.Data[v1beta1.CredentialsSessionToken]),
	}, nil
}
