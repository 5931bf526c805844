// Package logkeeper takes the log of a Flink JobManager or TaskManager container when
// it ends — it crashed or was OOMKilled (its previous run's log, while the Pod
// restarts it), its Pod failed (Flink's ResourceManager deletes such TaskManager Pods
// at once), or its Pod is being deleted (by an upgrade, a suspension, a scale-down) —
// and keeps it in the cluster's kept-logs ConfigMap (package keptlog), so that it can
// be read after the Pod is gone: the node's log goes with the Pod.
//
// It reads logs through the API server (pods/log), as kubectl does. A log taken while a
// deleted Pod's container still runs ends where its shutdown began; the Pod's later
// update with the container ended replaces it when it comes in time.
package logkeeper

// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
