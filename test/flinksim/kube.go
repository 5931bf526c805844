package flinksim

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/flok-dev/flok/internal/flinkconf"
	"github.com/flok-dev/flok/internal/render"
)

// Flink's configuration keys a simulated JobManager reads at start.
const (
	keyJobID          = "$internal.pipeline.job-id"
	keyRestore        = "execution.state-recovery.path"
	keyRestoreLegacy  = "execution.savepoint.path"
	defaultRESTPort   = 8081
	configFileCurrent = "config.yaml"
	configFileLegacy  = "flink-conf.yaml"
)

// Kubelet plays the part of the JobManager's process for Pods that only pretend to
// run (kwok's): when a JobManager Pod of a Flink cluster is Running, it starts the
// simulated cluster with the job id and restore path of the cluster's Flink
// configuration, on the cluster's address; when the Pod goes, the cluster stops.
type Kubelet struct {
	Sim       *Sim
	Client    kubernetes.Interface
	Addresses *Addresses
	// Port is the REST port served; Flink's 8081 when 0.
	Port int
	// Errors receives what could not be started (nil: dropped).
	Errors func(error)

	mu      sync.Mutex
	running map[string]types.UID // cluster key -> the JobManager Pod it runs for
	configs listersv1.ConfigMapLister
}

// Run watches JobManager Pods and ConfigMaps of Flink clusters until ctx ends.
func (k *Kubelet) Run(ctx context.Context) error {
	k.running = map[string]types.UID{}
	factory := informers.NewSharedInformerFactoryWithOptions(k.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = render.LabelType }))
	pods := factory.Core().V1().Pods().Informer()
	k.configs = factory.Core().V1().ConfigMaps().Lister()
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { k.sync(obj) },
		UpdateFunc: func(_, obj any) { k.sync(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				k.stop(pod)
			}
		},
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("flinksim: the %v informer did not sync", typ)
		}
	}
	<-ctx.Done()
	factory.Shutdown()
	return nil
}

func jobManagerOf(pod *corev1.Pod) (string, bool) {
	app := pod.Labels[render.LabelApp]
	return pod.Namespace + "/" + app, app != "" && pod.Labels[render.LabelComponent] == render.ComponentJobManager
}

func (k *Kubelet) sync(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key, isJobManager := jobManagerOf(pod)
	if !isJobManager {
		return
	}
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning {
		k.stop(pod)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running[key] == pod.UID {
		return
	}
	if err := k.start(key, pod); err != nil {
		if k.Errors != nil {
			k.Errors(err)
		}
		return
	}
	k.running[key] = pod.UID
}

// start starts the cluster of a JobManager Pod as Flink would: from its configuration.
func (k *Kubelet) start(key string, pod *corev1.Pod) error {
	app := pod.Labels[render.LabelApp]
	cm, err := k.configs.ConfigMaps(pod.Namespace).Get(render.ConfigMapName(app))
	if err != nil {
		return fmt.Errorf("flinksim: JobManager Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	data := cm.Data[configFileCurrent]
	if data == "" {
		data = cm.Data[configFileLegacy]
	}
	conf, err := flinkconf.Parse([]byte(data))
	if err != nil {
		return fmt.Errorf("flinksim: ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	restore := conf[keyRestore]
	if restore == "" {
		restore = conf[keyRestoreLegacy]
	}
	addr := k.Addresses.Lookup(key)
	if addr == "" {
		return fmt.Errorf("flinksim: cluster %s has no address (Addresses.Assign it before it starts)", key)
	}
	port := k.Port
	if port == 0 {
		port = defaultRESTPort
	}
	_, err = k.Sim.Start(key, net.JoinHostPort(addr, strconv.Itoa(port)), ClusterSpec{JobID: conf[keyJobID], JobName: app, RestorePath: restore})
	return err
}

func (k *Kubelet) stop(pod *corev1.Pod) {
	key, isJobManager := jobManagerOf(pod)
	if !isJobManager {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running[key] == pod.UID {
		delete(k.running, key)
		k.Sim.Stop(key)
	}
}
