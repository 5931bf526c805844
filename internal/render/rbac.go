package render

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serviceAccountName is the service account Flok creates for a cluster.
func (c *cluster) serviceAccountName() string { return c.name() + "-flink" }

// rbac is the service account of the Flink processes and the rights they need, when
// Flok creates it: the JobManager manages TaskManager Pods (native mode), reads its own
// Deployment to own them and deletes it when an application finishes; with high
// availability every process keeps or reads leader ConfigMaps; with host networking
// the JobManager updates its Services' ports.
func (c *cluster) rbac() (*corev1.ServiceAccount, *rbacv1.Role, *rbacv1.RoleBinding) {
	if !c.ownServiceAccount {
		return nil, nil, nil
	}
	name := c.serviceAccountName()
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	var rules []rbacv1.PolicyRule
	if c.native() {
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: all},
			rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "delete"}},
		)
	}
	if c.native() || c.highAvailability() {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: all})
	}
	if c.hostNetwork() {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"get", "update"}})
	}
	labels := c.commonLabels()
	return &corev1.ServiceAccount{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: c.objectMeta(name, labels),
		}, &rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: c.objectMeta(name, labels),
			Rules:      rules,
		}, &rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: c.objectMeta(name, labels),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: c.namespace()}},
		}
}
