package localk8s

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KwokNodeName is the simulated node that Options.Kwok adds.
const KwokNodeName = "kwok-node-0"

// kwokAnnotation marks the nodes kwok manages; nodes without it (such as a node that
// really runs processes) are left alone.
const kwokAnnotation = "kwok.x-k8s.io/node"

// KwokToleration lets a Pod onto the kwok node. The node is tainted so that Pods meant
// to really run never land on a node that only pretends to run them.
var KwokToleration = corev1.Toleration{
	Key: kwokAnnotation, Operator: corev1.TolerationOpEqual, Value: "fake", Effect: corev1.TaintEffectNoSchedule,
}

// kwokStageFiles are kwok's own zero-delay profile ("fast"), relative to the stage
// directory that hack/k8s-tools.sh copies out of kwok's module: nodes become Ready and
// keep a lease, Pods become Running at once and go as soon as they are deleted.
var kwokStageFiles = []string{
	"node/fast/node-initialize.yaml",
	"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"pod/fast/pod-ready.yaml",
	"pod/fast/pod-complete.yaml",
	"pod/fast/pod-delete.yaml",
}

func (c *Cluster) startKwok(ctx context.Context) error {
	stages, err := c.writeKwokStages()
	if err != nil {
		return err
	}
	p, err := c.sup.Command("kwok", c.bin("kwok"),
		"--kubeconfig="+c.KubeconfigPath, "--config="+stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+kwokAnnotation+"=fake",
		"--server-address=127.0.0.1:"+strconv.Itoa(c.ports.kwok),
		// The simulated node's address is loopback, so nothing that follows it (logs,
		// exec) ever leaves the machine. Pod IPs are made up and never contacted.
		"--node-ip=127.0.0.1", "--cidr=10.244.0.0/16", "--node-lease-duration-seconds=40")
	if err != nil {
		return err
	}
	if _, err := c.Client.CoreV1().Nodes().Create(ctx, kwokNode(c.kwokPods), metav1.CreateOptions{}); err != nil {
		return err
	}
	return p.WaitUntil(ctx, startTimeout, func(ctx context.Context) bool {
		node, err := c.Client.CoreV1().Nodes().Get(ctx, KwokNodeName, metav1.GetOptions{})
		return err == nil && nodeReady(node)
	})
}

func (c *Cluster) writeKwokStages() (string, error) {
	stageDir := filepath.Join(c.BinDir, "..", "kwok-stages")
	var config bytes.Buffer
	for _, name := range kwokStageFiles {
		data, err := os.ReadFile(filepath.Join(stageDir, name))
		if err != nil {
			return "", err
		}
		config.WriteString("---\n")
		config.Write(data)
	}
	path := filepath.Join(c.Dir, "kwok-stages.yaml")
	return path, os.WriteFile(path, config.Bytes(), 0o644)
}

// kwokNode is the simulated node; it takes pods Pods (110 when 0), and CPU and memory
// for as many small ones.
func kwokNode(pods int) *corev1.Node {
	if pods <= 0 {
		pods = 110
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(max(32, pods)), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(max(256, pods*8))<<30, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        KwokNodeName,
			Annotations: map[string]string{kwokAnnotation: "fake"},
			Labels:      map[string]string{"kubernetes.io/hostname": KwokNodeName, "type": "kwok"},
		},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{
			Key: KwokToleration.Key, Value: KwokToleration.Value, Effect: KwokToleration.Effect,
		}}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

func nodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
