package procnode

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// watchPods follows the Pods bound to this node and hands each to its worker.
func (n *Node) watchPods(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(n.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName=" + n.opts.Name }))
	informer := factory.Core().V1().Pods().Informer()
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { n.podChanged(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { n.podChanged(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				n.podRemoved(pod)
			}
		},
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}

func (n *Node) podChanged(pod *corev1.Pod) {
	n.mu.Lock()
	w := n.workers[string(pod.UID)]
	if w == nil {
		finished := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
		if pod.DeletionTimestamp != nil || finished {
			n.mu.Unlock()
			if pod.DeletionTimestamp != nil {
				// Never ran here (or ran under an earlier node process): nothing to stop.
				go n.deletePodObject(pod)
			}
			return
		}
		w = newPodWorker(n, pod)
		n.workers[string(pod.UID)] = w
	}
	n.mu.Unlock()
	w.update(pod)
}

// podRemoved handles a Pod that vanished from the API without this node's final
// delete (a forced deletion): its processes stop at once.
func (n *Node) podRemoved(pod *corev1.Pod) {
	n.mu.Lock()
	w := n.workers[string(pod.UID)]
	n.mu.Unlock()
	if w != nil {
		go func() {
			w.shutdown()
			n.forget(w)
		}()
	}
}

func (n *Node) forget(w *podWorker) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.workers[string(w.uid)] == w {
		delete(n.workers, string(w.uid))
	}
}

func (n *Node) deletePodObject(pod *corev1.Pod) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = n.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &pod.UID},
	})
}

func (n *Node) workerByName(namespace, name string) *podWorker {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, w := range n.workers {
		if w.namespace == namespace && w.name == name {
			return w
		}
	}
	return nil
}
