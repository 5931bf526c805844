// Package sqlrunner builds Flok's SQL runner (java/sql-runner) with Maven, once per
// content of its sources, into ${XDG_CACHE_HOME:-~/.cache}/flok/sql-runner/<key>/: the
// jar the operator mounts into the JobManagers of SQL jobs before Flink 2.1.
package sqlrunner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/flok-dev/flok/test/toolcache"
)

// sources is the runner's Maven project, relative to this file.
const sources = "../../java/sql-runner"

// JarName is the built jar's file name.
const JarName = "flok-sql-runner.jar"

// Jar returns the runner's jar, building it first when these sources have not been
// built on this machine (cold: Maven fetches the table API and its plugins once).
func Jar(ctx context.Context) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(self), sources)
	key, err := hashTree(src)
	if err != nil {
		return "", err
	}
	dir, err := toolcache.Dir(ctx, "sql-runner", key, "", func(ctx context.Context, work string) (string, error) {
		project := filepath.Join(work, "src")
		if err := os.CopyFS(project, os.DirFS(src)); err != nil {
			return "", err
		}
		cmd := exec.CommandContext(ctx, "mvn", "--batch-mode", "--quiet", "package")
		cmd.Dir = project
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("mvn package in %s: %w\n%s", src, err, out)
		}
		out := filepath.Join(work, "out")
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", err
		}
		return out, os.Rename(filepath.Join(project, "target", JarName), filepath.Join(out, JarName))
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, JarName), nil
}

// hashTree hashes the names and contents of the project's files, Maven's output
// directory aside, in a fixed order.
func hashTree(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel == "target" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing the SQL runner's sources: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)[:6]), nil
}
