package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"
)

// Output formats of -o.
const (
	OutputTable = "table"
	OutputWide  = "wide"
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// CheckOutput refuses an unknown -o.
func CheckOutput(format string) error {
	switch format {
	case OutputTable, OutputWide, OutputJSON, OutputYAML:
		return nil
	}
	return fmt.Errorf("-o %q: use table, wide, json or yaml", format)
}

// PrintData writes v as JSON or YAML.
func PrintData(w io.Writer, v any, format string) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if format == OutputYAML {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
	} else {
		data = append(data, '\n')
	}
	_, err = w.Write(data)
	return err
}

// PrintSummaries writes `flok list`: a table (wide adds the session and the job id),
// or the summaries as JSON or YAML.
func PrintSummaries(w io.Writer, items []Summary, format string, now time.Time) error {
	if format == OutputJSON || format == OutputYAML {
		if items == nil {
			items = []Summary{}
		}
		return PrintData(w, map[string]any{"items": items}, format)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "No Flink deployments or session jobs found (`flok run` deploys one).")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	header := "NAME\tNAMESPACE\tKIND\tMODE\tFLINK\tJOB\tLIFECYCLE\tPARALLELISM\tLAST SAVEPOINT\tAGE"
	if format == OutputWide {
		header += "\tSESSION\tJOB ID"
	}
	fmt.Fprintln(tw, header)
	for _, s := range items {
		line := strings.Join([]string{s.Name, s.Namespace, s.Kind, s.Mode, s.FlinkVersion, dash(s.JobState), dash(s.Lifecycle),
			parallelism(s), dash(s.LastSavepoint), age(s.Created, now)}, "\t")
		if format == OutputWide {
			line += "\t" + dash(s.Session) + "\t" + dash(s.JobID)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func parallelism(s Summary) string {
	if s.Kind == KindSession || s.Parallelism == 0 {
		return "-"
	}
	return fmt.Sprint(s.Parallelism)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t))
}

// PrintEvents writes events, oldest first, as `kubectl events` does.
func PrintEvents(w io.Writer, evs []eventsv1.Event, now time.Time) error {
	if len(evs) == 0 {
		_, err := fmt.Fprintln(w, "  (none)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  AGE\tTYPE\tREASON\tMESSAGE")
	for _, e := range evs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", age(eventTime(e), now), e.Type, e.Reason, e.Note)
	}
	return tw.Flush()
}

func eventTime(e eventsv1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
