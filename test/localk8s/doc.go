// Package localk8s starts a real, private Kubernetes control plane for tests and for the
// local demo environment: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler built from source by hack/k8s-tools.sh, optionally with a kwok node on
// which Pods become Running without a container runtime.
//
// Everything listens on 127.0.0.1 on free ports, the PKI is generated in Go, RBAC is on,
// and every process it starts is stopped again: by Stop, by the signal handler of Main,
// and — should the test binary itself be killed — by the kernel (parent-death signal).
//
// A test package starts one cluster in TestMain and gives each test its own namespace:
//
//	var cluster *localk8s.Cluster
//
//	func TestMain(m *testing.M) {
//		localk8s.Main(m, localk8s.Options{Kwok: true}, &cluster)
//	}
package localk8s
