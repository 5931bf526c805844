// Package toolcache keeps what the tests build or download once per version — Flink
// homes, tools built from the Go module proxy — outside the repository, under
// ${XDG_CACHE_HOME:-~/.cache}/flok/<kind>/<key>. Each entry is built in a temporary
// directory under a lock and renamed into place, so that parallel test packages wait
// for one build and never see half of one.
package toolcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Dir returns the directory of key under kind, building it first when it is not
// there: build gets an empty work directory and returns the directory, inside it, to
// keep. rootEnv, when set in the environment, replaces the kind's cache directory.
func Dir(ctx context.Context, kind, key, rootEnv string, build func(ctx context.Context, work string) (string, error)) (string, error) {
	root, err := cacheRoot(kind, rootEnv)
	if err != nil {
		return "", err
	}
	final := filepath.Join(root, key)
	if exists(final) {
		return final, nil
	}
	unlock, err := lockFile(filepath.Join(root, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if exists(final) {
		return final, nil
	}
	work, err := os.MkdirTemp(root, ".build-"+key+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	built, err := build(ctx, work)
	if err != nil {
		return "", fmt.Errorf("building %s %s: %w", kind, key, err)
	}
	return final, os.Rename(built, final)
}

func cacheRoot(kind, rootEnv string) (string, error) {
	root := os.Getenv(rootEnv)
	if rootEnv == "" || root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		root = filepath.Join(base, "flok", kind)
	}
	return root, os.MkdirAll(root, 0o755)
}

// exists reports whether an entry is there: entries appear only by the rename of a
// finished build.
func exists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
