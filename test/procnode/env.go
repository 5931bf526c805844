package procnode

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// expand replaces $(VAR) references in s with values from vars, as the kubelet does for
// env values, command and args: $$ escapes a dollar, and a reference to an undefined
// variable stays as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// envList renders an environment in a stable order: image variables first, then the
// container's in their order (a later one wins for the same name in the process).
func envList(order []string, vars map[string]string) []string {
	out := make([]string, 0, len(order))
	for _, name := range order {
		out = append(out, fmt.Sprintf("%s=%s", name, vars[name]))
	}
	return out
}

// environment is the container's environment, in the kubelet's order: the image's, the
// Service variables, envFrom, then env with $(VAR) references to earlier variables
// expanded; HOME is home unless one of them sets it. It returns the list for the
// process and the map for command expansion.
func (r *containerRunner) environment(ctx context.Context, pod *corev1.Pod, home string) ([]string, map[string]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, seen := vars[name]; !seen {
			order = append(order, name)
		}
		vars[name] = value
	}
	set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	set("HOME", home)
	set("HOSTNAME", podHostname(pod))
	if r.img.flinkHome != nil {
		set("PATH", flinkHomeInPod+"/bin:"+vars["PATH"])
		set("JAVA_HOME", r.w.node.javaHome)
	}
	for _, kv := range r.img.env {
		set(kv[0], kv[1])
	}
	for _, kv := range r.w.node.svc.serviceEnv(pod.Namespace) {
		set(kv[0], kv[1])
	}
	for _, src := range r.spec.EnvFrom {
		data, err := r.envFromSource(ctx, pod.Namespace, src)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			set(src.Prefix+k, data[k])
		}
	}
	for _, e := range r.spec.Env {
		value, err := r.envValue(ctx, pod, e, vars)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, value)
	}
	return envList(order, vars), vars, nil
}

func (r *containerRunner) envValue(ctx context.Context, pod *corev1.Pod, e corev1.EnvVar, vars map[string]string) (string, error) {
	if e.ValueFrom == nil {
		return expand(e.Value, vars), nil
	}
	ns := pod.Namespace
	switch from := e.ValueFrom; {
	case from.FieldRef != nil:
		return fieldValue(pod, r.w.podIP(), from.FieldRef.FieldPath)
	case from.ResourceFieldRef != nil:
		return resourceValue(&r.spec, from.ResourceFieldRef)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		return r.w.node.sourceKey(ctx, ns, configMapSource, ref.Name, ref.Key, ref.Optional)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		return r.w.node.sourceKey(ctx, ns, secretSource, ref.Name, ref.Key, ref.Optional)
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

func (r *containerRunner) envFromSource(ctx context.Context, ns string, src corev1.EnvFromSource) (map[string]string, error) {
	kind, name, optional := configMapSource, "", (*bool)(nil)
	switch {
	case src.ConfigMapRef != nil:
		name, optional = src.ConfigMapRef.Name, src.ConfigMapRef.Optional
	case src.SecretRef != nil:
		kind, name, optional = secretSource, src.SecretRef.Name, src.SecretRef.Optional
	default:
		return nil, nil
	}
	data, err := r.w.node.readSource(ctx, ns, kind, name)
	if err != nil {
		_, err = optionalValue(optional, err)
		return nil, err
	}
	out := make(map[string]string, len(data))
	for k, v := range data {
		out[k] = string(v)
	}
	return out, nil
}
