package deployment

// The rights flok-operator needs, generated into config/rbac/role.yaml. The operator
// creates each cluster's Role for Flink's JobManager, so it holds those rights itself
// (Kubernetes lets no one grant what they do not have). services/proxy is how an
// operator outside the cluster (make run, --flink-access=proxy) reaches Flink's REST API.
// Secrets are read one by one, never listed or watched: a cluster's TLS Secret (its CA,
// to verify the JobManager) and created when Flok generates its certificates.
// Leader election records its events in the core group, the reconcilers in events.k8s.io.
// A crash-looping JobManager's log is read for the error of the job's main method.
//
// +kubebuilder:rbac:groups=flok.dev,resources=flinkdeployments;flinksessionjobs;flinkstatesnapshots,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=flok.dev,resources=flinkdeployments/status;flinksessionjobs/status;flinkstatesnapshots/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=flok.dev,resources=flinkdeployments/finalizers;flinksessionjobs/finalizers;flinkstatesnapshots/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=services/proxy,verbs=get;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create
// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods;configmaps;services;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
