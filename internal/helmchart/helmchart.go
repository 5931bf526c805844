// Package helmchart is Flok's one wrapper of Helm's Go SDK: it loads, lints and renders
// the chart in charts/flok, for make generate (which renders config/ from it) and for
// the tests that install it.
package helmchart

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/engine"
)

// Load reads the chart in dir.
func Load(dir string) (chart.Charter, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading the chart in %s: %w", dir, err)
	}
	return ch, nil
}

// Lint runs Helm's linter on the chart in dir with values; nil when it finds nothing
// worse than information.
func Lint(dir, namespace string, values map[string]any) error {
	lint := action.NewLint()
	lint.Namespace, lint.Strict = namespace, true
	result := lint.Run([]string{dir}, values)
	return errors.Join(result.Errors...)
}

// Rendered is a chart's templates as rendered: the objects of each template file (its
// path in the chart, like templates/deployment.yaml), empty files left out.
type Rendered map[string]string

// Render renders the chart in dir as release name in namespace with values over the
// chart's defaults, as `helm template` would.
func Render(dir, name, namespace string, values map[string]any) (Rendered, error) {
	ch, err := Load(dir)
	if err != nil {
		return nil, err
	}
	top, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: name, Namespace: namespace, IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("the chart's values: %w", err)
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("rendering the chart: %w", err)
	}
	out := Rendered{}
	for file, text := range files {
		_, rel, _ := strings.Cut(file, "/") // flok/templates/x.yaml
		if path.Ext(rel) != ".yaml" || strings.TrimSpace(text) == "" {
			continue
		}
		out[rel] = strings.TrimLeft(text, "\n")
	}
	return out, nil
}

// Files are the rendered template files, sorted.
func (r Rendered) Files() []string {
	files := make([]string, 0, len(r))
	for f := range r {
		files = append(files, f)
	}
	sort.Strings(files)
	return files
}
