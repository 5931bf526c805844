package flinkdist

import (
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/flok-dev/flok/internal/ociimage"
	"github.com/flok-dev/flok/test/toolcache"
)

// imageRef names the base image in its cached OCI layout.
const imageRef = "flink-base"

// imageRecipe changes whenever the way the base image is made changes, so that cached
// images of an older recipe are made anew.
const imageRecipe = "1"

// BaseImage is a Flink image made from the release's provisioned home, for the
// tests that build job images on a Flink base without a registry of the internet: the
// home at /opt/flink, the official image's entrypoint and environment — and no JVM
// (the process node runs Flink images on its own). It is built once per release and
// kept as an OCI layout in ~/.cache/flok/flink-images; the same release gives the
// same digest.
func BaseImage(ctx context.Context, r Release) (v1.Image, error) {
	home, err := Provision(ctx, r)
	if err != nil {
		return nil, err
	}
	dir, err := toolcache.Dir(ctx, "flink-images", r.Version+"-"+r.key()+"-"+imageRecipe, "", func(_ context.Context, work string) (string, error) {
		img, err := home.image()
		if err != nil {
			return "", err
		}
		idx, err := ociimage.Index(nil, img)
		if err != nil {
			return "", err
		}
		out := filepath.Join(work, "layout")
		return out, ociimage.WriteLayout(out, imageRef, idx)
	})
	if err != nil {
		return nil, err
	}
	idx, err := ociimage.ReadLayout(dir, imageRef)
	if err != nil {
		return nil, err
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	return idx.Image(manifest.Manifests[0].Digest)
}

// image packs the home into one layer (fast compression: it is large and read once).
func (h *Home) image() (v1.Image, error) {
	var files []ociimage.File
	err := filepath.WalkDir(h.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == h.Dir {
			return err
		}
		rel, err := filepath.Rel(h.Dir, p)
		if err != nil {
			return err
		}
		f, err := homeFile(p, path.Join("/opt/flink", filepath.ToSlash(rel)), d)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	stamp := time.Unix(0, 0).UTC()
	layer, err := ociimage.Layer(files, stamp, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, err
	}
	return ociimage.Image(nil, v1.Platform{OS: "linux", Architecture: "amd64"}, ociimage.Config{
		Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"help"}, Env: []string{"FLINK_HOME=/opt/flink"},
		WorkingDir: "/opt/flink", Created: stamp,
	}, layer)
}

// homeFile reads one entry of the home as a file of the image.
func homeFile(local, inImage string, d fs.DirEntry) (ociimage.File, error) {
	info, err := d.Info()
	if err != nil {
		return ociimage.File{}, err
	}
	f := ociimage.File{Path: inImage, Mode: int64(info.Mode().Perm())}
	switch {
	case d.IsDir():
		f.Dir = true
	case info.Mode()&fs.ModeSymlink != 0:
		f.Link, err = os.Readlink(local)
	default:
		f.Data, err = os.ReadFile(local)
	}
	return f, err
}
