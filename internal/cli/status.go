package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flok-dev/flok/api/v1beta1"
	"github.com/flok-dev/flok/internal/flinkrest"
)

// maxEvents is how many recent events `flok status` shows.
const maxEvents = 10

// Status is what `flok status` shows of one resource.
type Status struct {
	// Object is the FlinkDeployment or FlinkSessionJob.
	Object client.Object `json:"object"`
	// Events are its recent events, oldest first.
	Events []eventsv1.Event `json:"events"`
	// EventsError says why the events could not be read, if they could not.
	EventsError string `json:"eventsError,omitempty"`
	// UI is the Flink web UI's address through the API server's service proxy.
	UI string `json:"ui,omitempty"`
	// Snapshots are the FlinkStateSnapshots of its job, oldest first.
	Snapshots []v1beta1.FlinkStateSnapshot `json:"snapshots,omitempty"`
	// SnapshotsError says why they could not be listed, if they could not.
	SnapshotsError string `json:"snapshotsError,omitempty"`
}

// Status reads a resource and its recent events.
func (c *Client) Status(ctx context.Context, name string) (*Status, error) {
	obj, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	st := &Status{Object: obj}
	evs := &eventsv1.EventList{}
	if err := c.API.List(ctx, evs, client.InNamespace(c.Namespace), client.MatchingFields{"regarding.uid": string(obj.GetUID())}); err != nil {
		// The status is still worth showing; the events' absence is explained.
		st.EventsError = explain(err, c.Config.Host).Error()
	}
	st.Events = evs.Items
	slices.SortFunc(st.Events, func(a, b eventsv1.Event) int { return eventTime(a).Compare(eventTime(b)) })
	if len(st.Events) > maxEvents {
		st.Events = st.Events[len(st.Events)-maxEvents:]
	}
	st.Snapshots, err = c.snapshotsOf(ctx, obj)
	if err != nil {
		st.SnapshotsError = explain(err, c.Config.Host).Error()
	}
	st.UI = strings.TrimSuffix(c.Config.Host, "/") + flinkrest.ProxyPath(c.FlinkREST(ctx, ClusterName(obj))) + "/"
	return st, nil
}

// snapshotsOf lists the FlinkStateSnapshots whose jobReference names obj.
func (c *Client) snapshotsOf(ctx context.Context, obj client.Object) ([]v1beta1.FlinkStateSnapshot, error) {
	list := &v1beta1.FlinkStateSnapshotList{}
	if err := c.API.List(ctx, list, client.InNamespace(c.Namespace)); err != nil {
		return nil, err
	}
	kind := v1beta1.KindOf(obj)
	var out []v1beta1.FlinkStateSnapshot
	for _, s := range list.Items {
		if ref := s.Spec.JobReference; ref != nil && ref.Kind == kind && ref.Name == obj.GetName() {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b v1beta1.FlinkStateSnapshot) int {
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	return out, nil
}

// PrintStatus writes `flok status`: the resource's state, conditions, snapshots,
// session contents and recent events; or the object and its events as JSON or YAML.
func PrintStatus(w io.Writer, st *Status, format string, now time.Time) error {
	if format == OutputJSON || format == OutputYAML {
		return PrintData(w, st, format)
	}
	var summary Summary
	var common v1beta1.CommonStatus
	var conditions []metav1.Condition
	var session *v1beta1.SessionStatus
	switch o := st.Object.(type) {
	case *v1beta1.FlinkDeployment:
		summary, common, conditions, session = SummarizeDeployment(o), o.Status.CommonStatus, o.Status.Conditions, o.Status.Session
	case *v1beta1.FlinkSessionJob:
		summary, common, conditions = SummarizeSessionJob(o), o.Status.CommonStatus, o.Status.Conditions
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Name", summary.Namespace+"/"+summary.Name)
	row("Kind", summary.Kind)
	if summary.Session != "" {
		row("Session", summary.Session)
	} else {
		row("Mode", summary.Mode+", Flink "+summary.FlinkVersion)
	}
	row("Lifecycle", dash(summary.Lifecycle))
	js := common.JobStatus
	if summary.Kind != KindSession {
		row("Job", fmt.Sprintf("%s %s (parallelism %s)", dash(js.JobID), dash(js.State), parallelism(summary)))
	}
	if op := common.Operation; op != nil {
		row("In progress", fmt.Sprintf("%s, %s since %s: %s", op.Kind, op.Step, age(op.StartTime.Time, now), op.Message))
	}
	if common.Error != "" {
		row("Error", common.Error)
	}
	if cp := js.CheckpointInfo; cp != nil && cp.LastCheckpoint != nil {
		row("Last checkpoint", cp.LastCheckpoint.Location+" ("+age(time.UnixMilli(cp.LastCheckpoint.TimeStamp), now)+" ago)")
	}
	if session != nil {
		row("TaskManagers", fmt.Sprintf("%d, slots %d free of %d", session.TaskManagers, session.AvailableSlots, session.TotalSlots))
	}
	row("Flink UI", st.UI+" (or `flok ui "+summary.Name+"`)")
	if err := tw.Flush(); err != nil {
		return err
	}
	printConditions(w, conditions)
	printSavepoints(w, js, now)
	printSnapshots(w, st, now)
	printSessionJobs(w, session)
	fmt.Fprintln(w, "Events:")
	if st.EventsError != "" {
		fmt.Fprintln(w, "  (not readable: "+st.EventsError+")")
		return nil
	}
	return PrintEvents(w, st.Events, now)
}

func printConditions(w io.Writer, conditions []metav1.Condition) {
	fmt.Fprintln(w, "Conditions:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tMESSAGE")
	for _, c := range conditions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, dash(c.Message))
	}
	_ = tw.Flush()
}

func printSavepoints(w io.Writer, js v1beta1.JobStatus, now time.Time) {
	if js.SavepointInfo == nil || len(js.SavepointInfo.SavepointHistory) == 0 {
		return
	}
	fmt.Fprintln(w, "Savepoints:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  AGE\tTRIGGER\tLOCATION")
	for _, sp := range slices.Backward(js.SavepointInfo.SavepointHistory) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", age(time.UnixMilli(sp.TimeStamp), now), sp.TriggerType, sp.Location)
	}
	_ = tw.Flush()
}

func printSnapshots(w io.Writer, st *Status, now time.Time) {
	if st.SnapshotsError != "" {
		fmt.Fprintln(w, "FlinkStateSnapshots: (not readable: "+st.SnapshotsError+")")
	}
	if len(st.Snapshots) == 0 {
		return
	}
	fmt.Fprintln(w, "FlinkStateSnapshots:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tSTATE\tAGE\tPATH OR ERROR")
	for _, s := range st.Snapshots {
		kind := "savepoint"
		if s.Spec.Checkpoint != nil {
			kind = "checkpoint"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Name, kind, dash(s.Status.State), age(s.CreationTimestamp.Time, now), dash(cmp.Or(s.Status.Path, s.Status.Error)))
	}
	_ = tw.Flush()
}

func printSessionJobs(w io.Writer, s *v1beta1.SessionStatus) {
	if s == nil {
		return
	}
	fmt.Fprintln(w, "Jobs in the session:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  JOB ID\tNAME\tSTATE\tSESSION JOB")
	for _, j := range s.Jobs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", j.JobID, j.Name, j.State, dash(j.SessionJob))
	}
	_ = tw.Flush()
}
