// Package procnode is a node agent for the local control plane that runs every Pod bound
// to it as local processes — real Flink JobManagers and TaskManagers — faithfully enough
// that YAML written for a real cluster, and Flink's own native Kubernetes integration,
// work unchanged.
//
// Each Pod gets its own network namespace with an address on the node's bridge (from
// the cluster's hostnet.Slot), a hosts file that resolves Services and the Pod's own
// name, and in-namespace listeners that play kube-proxy for ClusterIP Services (the
// "kubernetes" Service leads to the API server); NodePorts listen on the node's
// 127.0.0.1, and LoadBalancer Services on the cluster's own loopback address, which the
// node publishes in their status. Pods with hostNetwork share one namespace of the
// node's (its "host network", an address of its own on the bridge): the machine's own
// network stays untouched. Each container runs in its own mount
// namespace, where the image is /opt/flink (a provisioned Flink home) or — for an image
// pulled from a registry on loopback — a fresh overlay root over the image's unpacked
// layers, and every volumeMount is bound to the Pod's volume directories, and in a
// memory cgroup that enforces its limit and reports OOMKilled.
//
// Its kubelet API (container logs for `kubectl logs`) serves TLS on 127.0.0.1 without
// authentication: the API server calls it without client certificates here, and
// nothing but this machine can reach it.
//
// The node needs root, util-linux (unshare, nsenter), iproute2 (ip) and the cgroup v1
// memory controller, Start says which one is missing; and overlayfs for pulled images
// (a container that cannot mount it says so in its status). It listens only on
// loopback and inside the namespaces it creates, pulls only from registries on
// loopback, and routes nothing to the outside: the Pod network is a bridge without
// forwarding.
package procnode
