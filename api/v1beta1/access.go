package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// StatusOf is the status and conditions of a FlinkDeployment or FlinkSessionJob;
// empty for any other object.
func StatusOf(obj runtime.Object) (CommonStatus, []metav1.Condition) {
	switch o := obj.(type) {
	case *FlinkDeployment:
		return o.Status.CommonStatus, o.Status.Conditions
	case *FlinkSessionJob:
		return o.Status.CommonStatus, o.Status.Conditions
	}
	return CommonStatus{}, nil
}

// KindOf is the kind of a FlinkSessionJob or, for anything else, FlinkDeployment: typed
// objects read by a client carry no kind of their own.
func KindOf(obj runtime.Object) string {
	if _, ok := obj.(*FlinkSessionJob); ok {
		return KindFlinkSessionJob
	}
	return KindFlinkDeployment
}
