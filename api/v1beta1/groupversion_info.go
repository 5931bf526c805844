// Package v1beta1 holds Flok's API: FlinkDeployment, FlinkSessionJob and
// FlinkStateSnapshot in group flok.dev. Every field of the Apache Flink Kubernetes
// Operator's flink.apache.org/v1beta1 resources is accepted with the same meaning, so
// moving a resource to Flok means changing its apiVersion. AlertReceiver and AlertRoute
// say where the incidents of those jobs are sent.
//
// +kubebuilder:object:generate=true
// +groupName=flok.dev
package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API's group and version.
var GroupVersion = schema.GroupVersion{Group: "flok.dev", Version: "v1beta1"}

var (
	// SchemeBuilder registers the API's types.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&FlinkDeployment{}, &FlinkDeploymentList{},
		&FlinkSessionJob{}, &FlinkSessionJobList{},
		&FlinkStateSnapshot{}, &FlinkStateSnapshotList{},
		&AlertReceiver{}, &AlertReceiverList{},
		&AlertRoute{}, &AlertRouteList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
