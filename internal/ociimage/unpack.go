package ociimage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PullImage reads ref's image for platform from its registry: the platform's entry of
// a multi-platform image, or a single-platform image as it is.
func PullImage(ctx context.Context, ref name.Reference, platform v1.Platform) (v1.Image, error) {
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(platform),
		remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return img, nil
}

// Unpack writes img's file system — its layers flattened top layer first, whiteouts
// applied (go-containerregistry's Extract) — into dir, which is created and must not
// exist yet. An upper layer's entry hides what a lower one has at the same path, also
// when the lower one is a symbolic link the upper layer wrote below (well-formed layers
// carry their directories). Nothing is written outside dir: a path with ".." fails, a
// symbolic link met on the way that leads out fails, relative links whose target leaves
// the image are dropped (as Extract drops them), absolute links are kept as written
// (they resolve inside the container's root); a hard link with ".." fails; device
// files are skipped (a container's /dev comes from its runtime). Owners are kept when
// running as root.
func Unpack(img v1.Image, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	flat := mutate.Extract(img)
	defer flat.Close()
	tr := tar.NewReader(flat)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Extract ends the archive before it reports why it stopped: the
			// error, if any, follows the end.
			if _, err := io.Copy(io.Discard, flat); err != nil {
				return fmt.Errorf("reading the image's layers: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the image's layers: %w", err)
		}
		if err := unpackEntry(root, hdr, tr); err != nil {
			return fmt.Errorf("unpacking %q: %w", hdr.Name, err)
		}
	}
}

// unpackEntry writes one entry of the flattened file system. Upper layers come first,
// so a directory may already exist (made as a parent) when its own entry arrives.
func unpackEntry(root *os.Root, hdr *tar.Header, data io.Reader) error {
	name, ok := localName(hdr.Name)
	if !ok {
		return errors.New("the path leaves the image's root")
	}
	if name == "." {
		return nil
	}
	if _, err := root.Lstat(name); err == nil && hdr.Typeflag != tar.TypeDir {
		return nil // an upper layer's directory, made as a parent, hides it
	}
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mode := hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case tar.TypeReg:
		if err := writeFile(root, name, data); err != nil {
			return err
		}
	case tar.TypeSymlink:
		return owned(root.Symlink(hdr.Linkname, name), root, name, hdr, true)
	case tar.TypeLink:
		target, ok := localName(hdr.Linkname)
		if !ok {
			return fmt.Errorf("hard link to %q leaves the image's root", hdr.Linkname)
		}
		return root.Link(target, name)
	default: // devices, FIFOs: a container gets /dev from its runtime
		return nil
	}
	// The owner first: changing it clears the set-user-ID and set-group-ID bits.
	if err := owned(nil, root, name, hdr, false); err != nil {
		return err
	}
	return root.Chmod(name, mode)
}

// owned gives name the entry's owner once err (of making it) is nil, when running as
// root; symbolic links themselves, not their targets.
func owned(err error, root *os.Root, name string, hdr *tar.Header, link bool) error {
	if err != nil || os.Geteuid() != 0 {
		return err
	}
	if link {
		return root.Lchown(name, hdr.Uid, hdr.Gid)
	}
	return root.Chown(name, hdr.Uid, hdr.Gid)
}

func writeFile(root *os.Root, name string, data io.Reader) error {
	f, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// localName is an entry's path relative to the image's root ("./etc/x", "/etc/x" and
// "etc/x" are one; "." the root itself), false when a ".." could lead out of it.
func localName(p string) (string, bool) {
	if slices.Contains(strings.Split(p, "/"), "..") {
		return "", false
	}
	clean := path.Clean("/" + p)
	if clean == "/" {
		return ".", true
	}
	return clean[1:], true
}
