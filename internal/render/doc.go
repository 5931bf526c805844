// Package render turns a FlinkDeployment into the Kubernetes objects of its Flink
// cluster: for native mode the objects Flink's own Kubernetes client creates (the
// JobManager Deployment, its Services, the flink-config ConfigMap and the TaskManager
// pod template that Flink's ResourceManager builds TaskManager Pods from), for
// standalone mode JobManager and TaskManager Deployments; plus the RBAC the JobManager
// needs and an Ingress for the web UI. Pod templates are layered and merged with Flink's
// precedence rules. It is pure: no clients, no I/O, the same input always gives the
// same objects.
package render
