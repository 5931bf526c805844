package webhook

// The rights the webhook needs, generated into config/rbac/role.yaml: its CA Secret in
// the operator's namespace (a Role there, not every Secret of the cluster), and the CA
// bundle of its own ValidatingWebhookConfiguration.
//
// +kubebuilder:rbac:groups="",namespace=flok-system,resources=secrets,verbs=get;create;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,resourceNames=flok,verbs=get;update;patch
