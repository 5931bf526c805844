package procnode

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/test/flinkdist"
)

// registryOnLoopback parses ref and reports whether its registry is on this machine's
// loopback (localhost, 127.0.0.0/8, ::1): the only registries the node pulls from.
func registryOnLoopback(ref string) (name.Reference, bool) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return nil, false
	}
	host := r.Context().RegistryStr()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return r, host == "localhost" || (ip != nil && ip.IsLoopback())
}

// pullImage makes ref's image runnable as a container runtime would: pulled for this
// machine's platform as policy says, its layers unpacked once per digest into a root
// file system under the node's directory.
func (n *Node) pullImage(ctx context.Context, ref name.Reference, policy corev1.PullPolicy) (*image, error) {
	n.imageMu.Lock()
	defer n.imageMu.Unlock()
	if img, ok := n.pulled[ref.String()]; ok && policy != corev1.PullAlways {
		return img, nil
	}
	if policy == corev1.PullNever {
		return nil, &errImageNotAvailable{ref.String(), "it is not present on the node and imagePullPolicy is Never"}
	}
	remote, err := ociimage.PullImage(ctx, ref, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		return nil, &errImageNotAvailable{ref.String(), err.Error()}
	}
	digest, err := remote.Digest()
	if err != nil {
		return nil, &errImageNotAvailable{ref.String(), err.Error()}
	}
	cf, err := remote.ConfigFile()
	if err != nil {
		return nil, &errImageNotAvailable{ref.String(), err.Error()}
	}
	rootfs := filepath.Join(n.dir, "images", digest.Algorithm+"-"+digest.Hex)
	if _, err := os.Stat(rootfs); os.IsNotExist(err) {
		if err := unpackOnce(remote, rootfs); err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
	}
	n.logf("procnode: pulled %s (%s)", ref, digest)
	if home, ok, err := flinkHomeIn(rootfs); ok || err != nil {
		if err != nil {
			return nil, &errImageNotAvailable{ref.String(), err.Error()}
		}
		img := &image{flinkHome: home, id: ref.Context().Digest(digest.String()).String(), entrypoint: cf.Config.Entrypoint, cmd: cf.Config.Cmd, env: flinkImageEnv()}
		n.pulled[ref.String()] = img
		return img, nil
	}
	img := &image{
		rootfs: rootfs, id: ref.Context().Digest(digest.String()).String(),
		entrypoint: cf.Config.Entrypoint, cmd: cf.Config.Cmd,
		workingDir: cf.Config.WorkingDir, user: cf.Config.User,
	}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		img.env = append(img.env, [2]string{k, v})
	}
	n.pulled[ref.String()] = img
	return img, nil
}

// unpackOnce lays out img's root file system at dir, whole or not at all: a node
// stopped half-way leaves no half root file system under the digest's name.
func unpackOnce(img v1.Image, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpacking-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	staged := filepath.Join(tmp, "rootfs")
	if err := ociimage.Unpack(img, staged); err != nil {
		return err
	}
	return os.Rename(staged, dir)
}

// flinkHomeIn finds a Flink home at /opt/flink of an unpacked image (its
// lib/flink-dist-<version>.jar): such an image runs as the official Flink images do,
// its /opt/flink presented on the node's JVM (the base images the tests make from a
// Flink distribution carry none of their own).
func flinkHomeIn(rootfs string) (*flinkdist.Home, bool, error) {
	dir := filepath.Join(rootfs, "opt", "flink")
	dists, err := filepath.Glob(filepath.Join(dir, "lib", "flink-dist-*.jar"))
	if err != nil || len(dists) != 1 {
		return nil, false, err
	}
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(dists[0]), "flink-dist-"), ".jar")
	release, err := flinkdist.Lookup(version)
	if err != nil {
		return nil, true, fmt.Errorf("its /opt/flink holds Flink %s: %w", version, err)
	}
	return &flinkdist.Home{Dir: dir, Release: release}, true, nil
}
