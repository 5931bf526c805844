package alerting

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flok-dev/flok/internal/alerts"
	"github.com/flok-dev/flok/internal/render"
)

// stored is a record and the ConfigMap it was read from (nil: none yet).
type stored struct {
	cm     *corev1.ConfigMap
	record alerts.Record
}

// loadRecord reads the resource's record from the API server (records are not
// cached: the operator's cache keeps no ConfigMaps of its own).
func (a *Alerter) loadRecord(ctx context.Context, req request) (*stored, error) {
	cm := &corev1.ConfigMap{}
	err := a.Reader.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: alerts.RecordName(req.Kind, req.Name)}, cm)
	if apierrors.IsNotFound(err) {
		return &stored{}, nil
	} else if err != nil {
		return nil, err
	}
	if _, ours := cm.Labels[alerts.LabelRecord]; !ours {
		return nil, fmt.Errorf("ConfigMap %s is not an alert record of Flok's (no label %s); rename it, Flok keeps its record there", cm.Name, alerts.LabelRecord)
	}
	rec, err := alerts.RecordOf(cm)
	if err != nil {
		// Unreadable (edited by hand?): start again rather than never alert.
		log.FromContext(ctx).Error(err, "the alert record is unreadable; starting a new one (messages of its incidents may be sent again)")
		rec = alerts.Record{}
	}
	return &stored{cm: cm, record: rec}, nil
}

// save writes the record: created owned by the resource (so it goes with it), else
// updated under the resourceVersion it was read at, so two writers never both win.
func (a *Alerter) save(ctx context.Context, owner client.Object, req request, s *stored) error {
	data, err := s.record.Encode()
	if err != nil {
		return err
	}
	if s.cm == nil {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: alerts.RecordName(req.Kind, req.Name), Namespace: req.Namespace,
			Labels: map[string]string{render.LabelApp: req.Name, render.LabelManagedBy: render.ManagedByFlok, alerts.LabelRecord: req.Kind},
		}}
		if err := controllerutil.SetOwnerReference(owner, cm, a.Client.Scheme()); err != nil {
			return err
		}
		cm.Data = data
		if err := a.Client.Create(ctx, cm); err != nil {
			return err
		}
		s.cm = cm
		return nil
	}
	s.cm.Data = data
	return a.Client.Update(ctx, s.cm)
}
