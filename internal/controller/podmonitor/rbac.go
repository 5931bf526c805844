package podmonitor

// The controller keeps the PodMonitors of FlinkDeployments (generated into
// config/rbac/role.yaml).
//
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors,verbs=get;list;watch;create;update;patch;delete
