// Package ociimage builds OCI images without a container engine, reproducibly: the
// same files give the same layer, the same layers and settings the same image digest.
// It writes them as OCI image layouts and pushes them to registries, with
// go-containerregistry.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one file or directory of a layer.
type File struct {
	// Path is where it lands in the image's file system, absolute ("/etc/passwd").
	Path string
	// Mode is its permission bits (0o644, 0o755, 0o1777 …).
	Mode int64
	// Dir makes it a directory; Data is then empty.
	Dir bool
	// Link makes it a symbolic link to Link; Data is then empty.
	Link string
	Data []byte
	// UID and GID own it (0: root).
	UID, GID int
}

// Layer packs files into a gzip-compressed OCI layer. Entries are sorted by path,
// parent directories are added (root-owned, 0755) where not given, and every entry
// is stamped with modTime and no user or group names: the layer's digest depends on
// the files alone (and opts, such as a compression level).
func Layer(files []File, modTime time.Time, opts ...tarball.LayerOption) (v1.Layer, error) {
	entries, err := withParents(files)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range entries {
		hdr := &tar.Header{
			Name: strings.TrimPrefix(f.Path, "/"), Mode: f.Mode, Uid: f.UID, Gid: f.GID,
			ModTime: modTime, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(f.Data)),
		}
		if f.Link != "" {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, f.Link, 0
		}
		if f.Dir {
			hdr.Typeflag, hdr.Name, hdr.Size = tar.TypeDir, hdr.Name+"/", 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("packing %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("packing %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, append([]tarball.LayerOption{tarball.WithMediaType(types.OCILayer)}, opts...)...)
}

// withParents checks the paths, adds the missing parent directories and sorts.
func withParents(files []File) ([]File, error) {
	byPath := map[string]File{}
	for _, f := range files {
		clean := path.Clean(f.Path)
		if !path.IsAbs(f.Path) || clean == "/" || clean != f.Path {
			return nil, fmt.Errorf("layer file %q: want a clean absolute path below / (like /etc/passwd)", f.Path)
		}
		if _, dup := byPath[clean]; dup {
			return nil, fmt.Errorf("layer file %q: given twice", f.Path)
		}
		byPath[clean] = f
	}
	for _, f := range files {
		for dir := path.Dir(f.Path); dir != "/"; dir = path.Dir(dir) {
			parent, ok := byPath[dir]
			if !ok {
				byPath[dir] = File{Path: dir, Dir: true, Mode: 0o755}
			} else if !parent.Dir {
				return nil, fmt.Errorf("layer file %q: its parent %s is a file, not a directory", f.Path, dir)
			}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}
