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
