package flinkrest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Jar is one uploaded jar, as GET /jars lists it.
type Jar struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Uploaded int64  `json:"uploaded"`
	Entry    []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"entry"`
}

// ClaimMode says who owns the snapshot a job restores from.
type ClaimMode string

// Claim modes (Flink 1.20 and 2.x).
const (
	ClaimModeNoClaim ClaimMode = "NO_CLAIM"
	ClaimModeClaim   ClaimMode = "CLAIM"
)

// RunRequest runs an uploaded jar (POST /jars/:id/run). Program arguments go as a list
// (programArgsList): Flink 2.x removed the single-string form.
type RunRequest struct {
	EntryClass            string            `json:"entryClass,omitempty"`
	ProgramArgs           []string          `json:"programArgsList,omitempty"`
	Parallelism           int               `json:"parallelism,omitempty"`
	JobID                 string            `json:"jobId,omitempty"`
	SavepointPath         string            `json:"savepointPath,omitempty"`
	AllowNonRestoredState bool              `json:"allowNonRestoredState,omitempty"`
	ClaimMode             ClaimMode         `json:"claimMode,omitempty"`
	FlinkConfiguration    map[string]string `json:"flinkConfiguration,omitempty"`
}

// UploadJar uploads a jar (POST /jars/upload, multipart) and returns its jar id. Flink
// accepts only names ending in .jar and checks the content.
func (c *Client) UploadJar(ctx context.Context, name string, jar io.Reader) (string, error) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, err := form.CreateFormFile("jarfile", path.Base(name))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(part, jar); err != nil {
		return "", err
	}
	if err := form.Close(); err != nil {
		return "", err
	}
	var answer struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	}
	err = c.do(ctx, request{
		method: http.MethodPost, path: "/jars/upload", raw: &body,
		header: http.Header{"Content-Type": {form.FormDataContentType()}},
	}, &answer)
	if err != nil {
		return "", err
	}
	if answer.Status != "success" || answer.Filename == "" {
		return "", fmt.Errorf("flinkrest: upload of %s answered %+v", name, answer)
	}
	// The answer names the jar's path on the JobManager; its id is the base name.
	return answer.Filename[strings.LastIndexAny(answer.Filename, `/\`)+1:], nil
}

// RunJar runs an uploaded jar and returns the job id.
func (c *Client) RunJar(ctx context.Context, jarID string, req RunRequest) (string, error) {
	var answer struct {
		JobID string `json:"jobid"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/jars/" + url.PathEscape(jarID) + "/run", body: req}, &answer)
	return answer.JobID, err
}

// Jars lists the uploaded jars.
func (c *Client) Jars(ctx context.Context) ([]Jar, error) {
	var answer struct {
		Files []Jar `json:"files"`
	}
	return answer.Files, c.get(ctx, "/jars", &answer)
}

// DeleteJar removes an uploaded jar.
func (c *Client) DeleteJar(ctx context.Context, jarID string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/jars/" + url.PathEscape(jarID), retry: true}, nil)
}
