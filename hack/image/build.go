package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/internal/operator"
	"github.com/flok-dev/flok/test/sqlrunner"
)

// The image's user: not root, and not any user a node is likely to have.
const (
	nonRootID   = 65532
	nonRootUser = "65532:65532"
	binDir      = "/usr/local/bin"
	sourceURL   = "https://github.com/flok-dev/flok"
)

// binaries are the commands the image carries, by package.
var binaries = map[string]string{
	"flok-operator": "./cmd/flok-operator",
	"flok":          "./cmd/flok",
}

// source is what the image is built from.
type source struct {
	version, revision string
	// committed is the commit's time: the image's creation time, so that the same
	// commit gives the same digest.
	committed time.Time
}

// describeSource reads the commit of the work tree at root; version overrides git
// describe.
func describeSource(ctx context.Context, root, version string) (source, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w (the image is built from a git work tree)", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	var s source
	var err error
	if s.revision, err = git("rev-parse", "HEAD"); err != nil {
		return s, err
	}
	seconds, err := git("log", "-1", "--format=%ct")
	if err != nil {
		return s, err
	}
	unix, err := strconv.ParseInt(seconds, 10, 64)
	if err != nil {
		return s, fmt.Errorf("reading the commit time %q: %w", seconds, err)
	}
	s.committed = time.Unix(unix, 0).UTC()
	if s.version = version; s.version == "" {
		if s.version, err = git("describe", "--tags", "--always", "--dirty"); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s source) annotations() map[string]string {
	return map[string]string{
		ociimage.AnnotationSource:   sourceURL,
		ociimage.AnnotationRevision: s.revision,
		ociimage.AnnotationVersion:  s.version,
		ociimage.AnnotationCreated:  s.committed.Format(time.RFC3339),
		ociimage.AnnotationTitle:    "flok-operator",
	}
}

// build compiles the binaries of the module at root for each platform into binOut and
// assembles the index.
func build(ctx context.Context, root string, src source, platforms []string, binOut string) (v1.ImageIndex, error) {
	runner, err := sqlRunner(ctx)
	if err != nil {
		return nil, err
	}
	base, err := ociimage.Layer(append(baseFiles(), runner), src.committed)
	if err != nil {
		return nil, err
	}
	cfg := ociimage.Config{
		Entrypoint: []string{binDir + "/flok-operator"}, User: nonRootUser, WorkingDir: "/home/nonroot",
		Env:     []string{"PATH=" + binDir, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Created: src.committed, Annotations: src.annotations(),
	}
	images := make([]v1.Image, 0, len(platforms))
	for _, p := range platforms {
		platform, err := v1.ParsePlatform(p)
		if err != nil || platform.OS != "linux" || platform.Architecture == "" {
			return nil, fmt.Errorf("platform %q: want linux/<architecture>, like linux/amd64 or linux/arm64", p)
		}
		files, err := compile(ctx, root, *platform, src.version, filepath.Join(binOut, platform.OS+"-"+platform.Architecture))
		if err != nil {
			return nil, err
		}
		bins, err := ociimage.Layer(files, src.committed)
		if err != nil {
			return nil, err
		}
		img, err := ociimage.Image(nil, *platform, cfg, base, bins)
		if err != nil {
			return nil, err
		}
		images = append(images, img)
	}
	return ociimage.Index(src.annotations(), images...)
}

// compile builds the binaries statically for platform, reproducibly (no paths of this
// machine, no build ids of its own), into dir.
func compile(ctx context.Context, root string, platform v1.Platform, version, dir string) ([]ociimage.File, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var files []ociimage.File
	for bin, pkg := range binaries {
		out := filepath.Join(dir, bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
			"-ldflags", "-s -w -buildid= -X github.com/flok-dev/flok/internal/cli/commands.Version="+version,
			"-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+platform.OS, "GOARCH="+platform.Architecture)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s for %s/%s: %w", bin, platform.OS, platform.Architecture, err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		files = append(files, ociimage.File{Path: binDir + "/" + bin, Mode: 0o755, Data: data})
	}
	return files, nil
}

// baseFiles are what a static Go program expects of a system: a user to run as,
// root certificates (Mozilla's, from Go's x509roots module, pinned in go.mod), a
// writable /tmp.
func baseFiles() []ociimage.File {
	home := "/home/nonroot"
	return []ociimage.File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:" + home + ":/sbin/nologin\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Path: "/etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Data: rootCertificates()},
		{Path: home, Dir: true, Mode: 0o755, UID: nonRootID, GID: nonRootID},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
	}
}

// sqlRunner is Flok's SQL runner, built with Maven, where the operator looks for it
// (--sql-runner-jar): the same jar on every platform.
func sqlRunner(ctx context.Context) (ociimage.File, error) {
	path, err := sqlrunner.Jar(ctx)
	if err != nil {
		return ociimage.File{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ociimage.File{}, err
	}
	return ociimage.File{Path: operator.DefaultSQLRunnerJar, Mode: 0o644, Data: data}, nil
}

// rootCertificates is the PEM bundle of the unconstrained roots of Go's x509roots
// module (roots with a distrust date cannot be said in PEM, so they are left out).
func rootCertificates() []byte {
	var out []byte
	for root := range bundle.Roots() {
		if root.Constraint == nil {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate})...)
		}
	}
	return out
}

// withDefaultTag adds the version as tag to a reference that has neither tag nor
// digest.
func withDefaultTag(ref, version string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if strings.ContainsAny(last, ":@") {
		return ref
	}
	return ref + ":" + strings.ReplaceAll(version, "+", "_")
}
