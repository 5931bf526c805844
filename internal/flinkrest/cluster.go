package flinkrest

import (
	"context"
	"net/http"
)

// Overview is GET /overview: the cluster's TaskManagers, slots and job counts.
type Overview struct {
	TaskManagers   int    `json:"taskmanagers"`
	SlotsTotal     int    `json:"slots-total"`
	SlotsAvailable int    `json:"slots-available"`
	JobsRunning    int    `json:"jobs-running"`
	JobsFinished   int    `json:"jobs-finished"`
	JobsCancelled  int    `json:"jobs-cancelled"`
	JobsFailed     int    `json:"jobs-failed"`
	FlinkVersion   string `json:"flink-version"`
	FlinkCommit    string `json:"flink-commit"`
}

// DashboardConfig is GET /config: the web UI's settings and the Flink version.
type DashboardConfig struct {
	RefreshInterval int64  `json:"refresh-interval"`
	TimezoneName    string `json:"timezone-name"`
	TimezoneOffset  int64  `json:"timezone-offset"`
	FlinkVersion    string `json:"flink-version"`
	FlinkRevision   string `json:"flink-revision"`
	Features        struct {
		WebSubmit  bool `json:"web-submit"`
		WebCancel  bool `json:"web-cancel"`
		WebRescale bool `json:"web-rescale"`
		WebHistory bool `json:"web-history"`
	} `json:"features"`
}

// ConfigEntry is one key of the JobManager's configuration.
type ConfigEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TaskManager is one entry of GET /taskmanagers.
type TaskManager struct {
	ID                     string `json:"id"`
	Path                   string `json:"path"`
	DataPort               int    `json:"dataPort"`
	TimeSinceLastHeartbeat int64  `json:"timeSinceLastHeartbeat"`
	SlotsNumber            int    `json:"slotsNumber"`
	FreeSlots              int    `json:"freeSlots"`
	Blocked                bool   `json:"blocked"`
	Hardware               struct {
		CPUCores       int   `json:"cpuCores"`
		PhysicalMemory int64 `json:"physicalMemory"`
		FreeMemory     int64 `json:"freeMemory"`
		ManagedMemory  int64 `json:"managedMemory"`
	} `json:"hardware"`
}

// Overview reads GET /overview.
func (c *Client) Overview(ctx context.Context) (*Overview, error) {
	var o Overview
	return &o, c.get(ctx, "/overview", &o)
}

// DashboardConfig reads GET /config.
func (c *Client) DashboardConfig(ctx context.Context) (*DashboardConfig, error) {
	var d DashboardConfig
	return &d, c.get(ctx, "/config", &d)
}

// JobManagerConfig reads GET /jobmanager/config as a map.
func (c *Client) JobManagerConfig(ctx context.Context) (map[string]string, error) {
	var entries []ConfigEntry
	if err := c.get(ctx, "/jobmanager/config", &entries); err != nil {
		return nil, err
	}
	config := make(map[string]string, len(entries))
	for _, e := range entries {
		config[e.Key] = e.Value
	}
	return config, nil
}

// TaskManagers reads GET /taskmanagers.
func (c *Client) TaskManagers(ctx context.Context) ([]TaskManager, error) {
	var answer struct {
		TaskManagers []TaskManager `json:"taskmanagers"`
	}
	return answer.TaskManagers, c.get(ctx, "/taskmanagers", &answer)
}

// ShutDownCluster asks the cluster to shut down gracefully (DELETE /cluster): HA data is
// cleaned and, on Kubernetes, the JobManager deletes its own Deployment.
func (c *Client) ShutDownCluster(ctx context.Context) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/cluster"}, nil)
}
