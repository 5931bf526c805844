package alerts

import (
	"errors"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Target is a route that sends an incident: its receivers and how often it recalls
// the incident while it stays open (0: never).
type Target struct {
	Route     string
	Receivers []string
	Repeat    time.Duration
}

// Targets are the routes among routes that send the subject's incident. A route whose
// selector does not parse sends nothing and is named in the error; the others still
// send.
func Targets(routes []v1beta1.AlertRoute, s Subject, inc Incident) ([]Target, error) {
	var targets []Target
	var errs []error
	for _, r := range routes {
		ok, err := matches(r.Spec, s, inc)
		if err != nil {
			errs = append(errs, fmt.Errorf("AlertRoute %s: %w", r.Name, err))
			continue
		}
		if ok {
			t := Target{Route: r.Name, Receivers: r.Spec.Receivers}
			if r.Spec.RepeatInterval != nil {
				t.Repeat = r.Spec.RepeatInterval.Duration
			}
			targets = append(targets, t)
		}
	}
	return targets, errors.Join(errs...)
}

// SelectorProblem is what is wrong with a route's resource selector ("" when nothing).
func SelectorProblem(spec v1beta1.AlertRouteSpec) string {
	if spec.Resources == nil || spec.Resources.LabelSelector == nil {
		return ""
	}
	if _, err := metav1.LabelSelectorAsSelector(spec.Resources.LabelSelector); err != nil {
		return "spec.resources.labelSelector: " + err.Error()
	}
	return ""
}

// matches reports whether a route sends the subject's incident: every part of it that
// is set must match.
func matches(spec v1beta1.AlertRouteSpec, s Subject, inc Incident) (bool, error) {
	if !within(spec.Incidents, inc.Kind) || !within(spec.Severities, inc.Severity) {
		return false, nil
	}
	sel := spec.Resources
	if sel == nil {
		return true, nil
	}
	if !within(sel.Kinds, s.Kind) || !within(sel.Names, s.Name) {
		return false, nil
	}
	if sel.LabelSelector == nil {
		return true, nil
	}
	ls, err := metav1.LabelSelectorAsSelector(sel.LabelSelector)
	if err != nil {
		return false, fmt.Errorf("spec.resources.labelSelector: %w", err)
	}
	return ls.Matches(labels.Set(s.Labels)), nil
}

// within reports whether value is among allowed, where none allowed means all.
func within(allowed []string, value string) bool {
	return len(allowed) == 0 || slices.Contains(allowed, value)
}
