package statesnapshot

// History creates and deletes the FlinkStateSnapshots that record savepoint histories
// (generated into config/rbac/role.yaml).
//
// +kubebuilder:rbac:groups=flok.dev,resources=flinkstatesnapshots,verbs=create;delete
