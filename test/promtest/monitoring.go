package promtest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"sigs.k8s.io/yaml"
)

// DashboardQueries are the PromQL expressions of a Grafana dashboard's panels, with its
// variables ($name, ${name}) replaced from vars.
func DashboardQueries(dashboard []byte, vars map[string]string) ([]string, error) {
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dashboard, &d); err != nil {
		return nil, fmt.Errorf("reading the dashboard: %w", err)
	}
	// Longer names first: $deployment before a $deploy.
	names := slices.SortedFunc(maps.Keys(vars), func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			return nil, fmt.Errorf("panel %q has no query", p.Title)
		}
		for _, t := range p.Targets {
			expr := t.Expr
			for _, name := range names {
				expr = strings.NewReplacer("${"+name+"}", vars[name], "$"+name, vars[name]).Replace(expr)
			}
			if strings.Contains(expr, "$") {
				return nil, fmt.Errorf("panel %q: a variable is left in %s", p.Title, expr)
			}
			out = append(out, expr)
		}
	}
	return out, nil
}

// RuleFile is the rules file (groups:) of a Prometheus Operator PrometheusRule.
func RuleFile(prometheusRule []byte) (string, error) {
	var pr struct {
		Kind string
		Spec struct {
			Groups []any `json:"groups"`
		}
	}
	if err := yaml.Unmarshal(prometheusRule, &pr); err != nil || pr.Kind != "PrometheusRule" || len(pr.Spec.Groups) == 0 {
		return "", fmt.Errorf("not a PrometheusRule with groups (%v)", err)
	}
	data, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	return string(data), err
}

// Rules are the rules the server loaded, by name, with their health after their last
// evaluation ("ok", "err" or "unknown" before the first) and its error.
func (s *Server) Rules(ctx context.Context) (map[string]promv1.RuleHealth, map[string]string, error) {
	result, err := s.api.Rules(ctx)
	if err != nil {
		return nil, nil, err
	}
	health, lastErr := map[string]promv1.RuleHealth{}, map[string]string{}
	for _, g := range result.Groups {
		for _, r := range g.Rules {
			switch r := r.(type) {
			case promv1.AlertingRule:
				health[r.Name], lastErr[r.Name] = r.Health, r.LastError
			case promv1.RecordingRule:
				health[r.Name], lastErr[r.Name] = r.Health, r.LastError
			}
		}
	}
	return health, lastErr, nil
}
