// Command image builds Flok's operator image — flok-operator and the flok CLI, static,
// for linux/amd64 and linux/arm64 — without a container engine (make image). The
// image holds the two binaries, CA certificates, a non-root user and Flok's SQL runner
// jar, nothing else (no shell); the same commit gives the same digest. It is written as an OCI image
// layout and, with -push, pushed to a registry.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/flok-dev/flok/internal/ociimage"
)

func main() {
	var o options
	flag.StringVar(&o.root, "root", ".", "the Flok module's work tree")
	flag.StringVar(&o.out, "o", ".local/image", "directory of the OCI image layout to write")
	flag.StringVar(&o.push, "push", "", "also push the image to this reference (registry/repository[:tag]; the tag defaults to the version)")
	flag.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64", "platforms to build, comma-separated")
	flag.StringVar(&o.version, "version", "", "version to stamp (default: git describe of the work tree)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

type options struct {
	root, out, push, platforms, version string
}

// run builds the image into o.out and pushes it when asked, saying what it did.
func run(ctx context.Context, o options, out io.Writer) error {
	src, err := describeSource(ctx, o.root, o.version)
	if err != nil {
		return err
	}
	idx, err := build(ctx, o.root, src, strings.Split(o.platforms, ","), o.out+".bin")
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	if err := ociimage.WriteLayout(o.out, layoutRef(src), idx); err != nil {
		return err
	}
	fmt.Fprintf(out, "flok-operator %s (%s): %s, OCI image layout in %s\n", src.version, o.platforms, digest, o.out)
	if o.push == "" {
		return nil
	}
	pushed, err := ociimage.Push(ctx, withDefaultTag(o.push, src.version), idx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "pushed", pushed)
	return nil
}

// layoutRef names the image in its layout's index.json.
func layoutRef(src source) string { return "flok-operator:" + src.version }
