package alerting

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/internal/alerts"
	"github.com/flok-dev/flok/internal/render"
)

// stored is a record and the ConfigMap it was read from (nil: none yet).
type stored struct {
	cm     *corev1.ConfigMap
	record alerts.Record
}

// errNotARecord: a ConfigMap has the name of a record but is not one of Flok's.
var errNotARecord = errors.New("not an alert record")

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
		return nil, fmt.Errorf("ConfigMap %s is not an alert record of Flok's (no label %s); rename it, Flok keeps its record there: %w",
			cm.Name, alerts.LabelRecord, errNotARecord)
	}
	rec, err := alerts.RecordOf(cm)
	if err != nil {
		// Unreadable (edited by hand?): start again rather than never alert.
		log.FromContext(ctx).Error(err, "the alert record is unreadable; starting a new one (messages of its incidents may be sent again)")
		rec = alerts.Record{}
	}
	return &stored{cm: cm, record: rec}, nil
}

// save writes the record: created, else updated under the resourceVersion it was read
// at, so two writers never both win. It is not owned by its resource: when that is
// deleted, the record lives on until the ends of its incidents are sent
// (settleDeleted), then goes.
func (a *Alerter) save(ctx context.Context, req request, s *stored) error {
	data, err := s.record.Encode()
	if err != nil {
		return err
	}
	if s.cm == nil {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: alerts.RecordName(req.Kind, req.Name), Namespace: req.Namespace,
			Labels: map[string]string{render.LabelApp: req.Name, render.LabelManagedBy: render.ManagedByFlok, alerts.LabelRecord: req.Kind},
		}}
		cm.Data = data
		if err := a.Client.Create(ctx, cm); err != nil {
			return err
		}
		s.cm = cm
		return nil
	}
	s.cm.Data = data
	// Records made by earlier versions were owned by their resource: the garbage
	// collector would take them before the ends they owe are sent.
	s.cm.OwnerReferences = nil
	return a.Client.Update(ctx, s.cm)
}

// settleDeleted ends the open incident of a resource that is gone (or was replaced by
// one of the same name), sends the ends owed to those told of its incidents, then
// deletes its record (s.cm is nil once it is gone). The end is recorded with its first
// message: one owed to no one needs no write before the record goes.
func (a *Alerter) settleDeleted(ctx context.Context, req request, s *stored) (reconcile.Result, error) {
	if s.cm == nil {
		return reconcile.Result{}, nil
	}
	now := a.now()
	s.record.ResolveDeleted(req.Kind, now)
	noRoutes := func(alerts.Incident) []alerts.Target { return nil }
	if due, _ := s.record.Due(noRoutes, now); len(due) > 0 {
		gone := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: req.Namespace, Name: req.Name}}
		out := a.deliver(ctx, gone, s.record.Deleted(req.Kind, req.Namespace, req.Name), &s.record, due,
			func() error { return a.save(ctx, req, s) })
		if out.err != nil {
			return reconcile.Result{}, out.err
		}
		if !out.wait.IsZero() {
			return requeueAt(out.wait, now), nil
		}
	}
	if !s.record.Settled() {
		return reconcile.Result{}, fmt.Errorf("the record of %s %s still owes messages", req.Kind, req.Name)
	}
	if err := a.Client.Delete(ctx, s.cm, client.Preconditions{ResourceVersion: &s.cm.ResourceVersion}); client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	s.cm = nil
	return reconcile.Result{}, nil
}
