package procnode

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sourceKind is an object that Pods read keyed data from.
type sourceKind string

const (
	configMapSource sourceKind = "configmap"
	secretSource    sourceKind = "secret"
)

// readSource returns the data of a ConfigMap (text and binary) or Secret by key.
func (n *Node) readSource(ctx context.Context, ns string, kind sourceKind, name string) (map[string][]byte, error) {
	data := map[string][]byte{}
	if kind == secretSource {
		secret, err := n.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", kind, name, err)
		}
		return secret.Data, nil
	}
	cm, err := n.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return data, nil
}

// sourceKey reads one key; an optional reference to a missing object or key is "".
func (n *Node) sourceKey(ctx context.Context, ns string, kind sourceKind, name, key string, optional *bool) (string, error) {
	data, err := n.readSource(ctx, ns, kind, name)
	if err != nil {
		return optionalValue(optional, err)
	}
	value, ok := data[key]
	if !ok {
		return optionalValue(optional, fmt.Errorf("%s %q has no key %q", kind, name, key))
	}
	return string(value), nil
}

func optionalValue(optional *bool, err error) (string, error) {
	if optional != nil && *optional {
		return "", nil
	}
	return "", err
}
