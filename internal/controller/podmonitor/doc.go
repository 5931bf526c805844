// Package podmonitor keeps one Prometheus Operator PodMonitor per FlinkDeployment, so
// that Prometheus scrapes its JobManagers and TaskManagers at their "metrics" port, and
// spreads the PodMonitors over Prometheus shards by rendezvous hashing of the
// deployment's identity: adding a shard moves only the deployments the new shard wins.
//
// Per deployment rather than per namespace: a shard is chosen per job, and a PodMonitor
// owned by its FlinkDeployment goes with it.
package podmonitor
