package toolcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GoTool is a command built from the Go module proxy at the version a pinning module
// under hack/tools requires.
type GoTool struct {
	// Kind names the tool's cache directory, ~/.cache/flok/<Kind>.
	Kind string
	// Module is the pinning module's directory (go.mod, go.sum, tools.go).
	Module string
	// Requires is the module path whose required version keys the cache.
	Requires string
	// Package is the command's import path.
	Package string
}

// Binary returns the tool's binary, building it first when this machine has not yet
// built this version (keyed by the pinned version and the pinning module's content).
func (g GoTool) Binary(ctx context.Context) (string, error) {
	goMod, err := os.ReadFile(filepath.Join(g.Module, "go.mod"))
	if err != nil {
		return "", err
	}
	goSum, err := os.ReadFile(filepath.Join(g.Module, "go.sum"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(goMod, goSum...))
	key := g.pinnedVersion(goMod) + "-" + hex.EncodeToString(sum[:5])
	dir, err := Dir(ctx, g.Kind, key, "", func(ctx context.Context, work string) (string, error) {
		out := filepath.Join(work, "bin")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out+"/", g.Package)
		cmd.Dir = g.Module
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "GOWORK=off")
		if text, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w: %s", g.Package, err, text)
		}
		return out, nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(g.Package)), nil
}

// pinnedVersion is the version of Requires that go.mod requires.
func (g GoTool) pinnedVersion(goMod []byte) string {
	for _, line := range strings.Split(string(goMod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == g.Requires {
			return f[1]
		}
	}
	return "unknown"
}
