// Package jobimage builds a Flink job's image without a container engine: thin,
// reproducible layers — connectors in /opt/flink/lib, the job's jar in
// /opt/flink/usrlib — on top of a Flink base image pulled from its registry. The same
// base, jar and connectors give the same digest.
package jobimage

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/flok-dev/flok/internal/artifact"
	"github.com/flok-dev/flok/internal/ociimage"
)

// Paths in the official Flink image where the layers put their jars.
const (
	// UsrLib holds the job's jar: jarURI local:///opt/flink/usrlib/<name>.jar.
	UsrLib = "/opt/flink/usrlib"
	// Lib is on the class path of every JobManager and TaskManager.
	Lib = "/opt/flink/lib"
)

// Standard OCI annotations naming the base image.
const (
	annotationBaseName   = "org.opencontainers.image.base.name"
	annotationBaseDigest = "org.opencontainers.image.base.digest"
)

// epoch stamps every file of the added layers, so that their digests depend on their
// contents alone.
var epoch = time.Unix(0, 0).UTC()

// Spec says what goes into a job image.
type Spec struct {
	// Base is the Flink image to build on, such as flink:2.3 or a registry's copy.
	Base string
	// Jar is the job's jar, a local file; it lands in /opt/flink/usrlib under its name.
	Jar string
	// Connectors are jars for /opt/flink/lib: maven:group:artifact:version, or local
	// files.
	Connectors []string
	// Maven fetches the maven: connectors.
	Maven *Maven
	// Platform is the base's platform to build on; linux/amd64 when empty.
	Platform v1.Platform
}

// Build pulls the base image and adds the connectors' layer, then the job's. The
// connectors come first so that a new jar on the same connectors shares their layer.
func Build(ctx context.Context, spec Spec) (v1.Image, error) {
	if spec.Jar == "" {
		return nil, fmt.Errorf("no job jar: give the jar to put into %s", UsrLib)
	}
	platform := spec.Platform
	if platform.OS == "" {
		platform = v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	ref, err := name.ParseReference(spec.Base)
	if err != nil {
		return nil, fmt.Errorf("base image %q: %w", spec.Base, err)
	}
	base, err := ociimage.PullImage(ctx, ref, platform)
	if err != nil {
		return nil, err
	}
	baseDigest, err := base.Digest()
	if err != nil {
		return nil, err
	}
	baseConfig, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of %s: %w", spec.Base, err)
	}
	var layers []v1.Layer
	if len(spec.Connectors) > 0 {
		files, err := connectorFiles(ctx, spec.Connectors, spec.Maven)
		if err != nil {
			return nil, err
		}
		if layers, err = appendLayer(layers, files); err != nil {
			return nil, err
		}
	}
	jar, err := jarFile(spec.Jar, UsrLib)
	if err != nil {
		return nil, err
	}
	if layers, err = appendLayer(layers, []ociimage.File{jar}); err != nil {
		return nil, err
	}
	return ociimage.Image(base, platform, ociimage.Config{
		Created:     baseConfig.Created.Time,
		Annotations: map[string]string{annotationBaseName: ref.Name(), annotationBaseDigest: baseDigest.String()},
	}, layers...)
}

func appendLayer(layers []v1.Layer, files []ociimage.File) ([]v1.Layer, error) {
	l, err := ociimage.Layer(files, epoch)
	if err != nil {
		return nil, err
	}
	return append(layers, l), nil
}

// connectorFiles fetches the connectors into files of /opt/flink/lib, refusing two of
// one name (the second would hide the first).
func connectorFiles(ctx context.Context, connectors []string, maven *Maven) ([]ociimage.File, error) {
	seen := map[string]string{}
	var files []ociimage.File
	for _, c := range connectors {
		var f ociimage.File
		var err error
		if coords, ok := strings.CutPrefix(c, "maven:"); ok {
			f, err = maven.jar(ctx, coords)
		} else {
			f, err = jarFile(c, Lib)
		}
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", c, err)
		}
		if other, dup := seen[f.Path]; dup {
			return nil, fmt.Errorf("connectors %s and %s both become %s", other, c, f.Path)
		}
		seen[f.Path] = c
		files = append(files, f)
	}
	return files, nil
}

// jarFile reads a local jar as a file of dir, readable by every user (the official
// image runs Flink as user flink).
func jarFile(local, dir string) (ociimage.File, error) {
	data, err := artifact.ReadJar(local)
	if err != nil {
		return ociimage.File{}, err
	}
	return ociimage.File{Path: path.Join(dir, filepath.Base(local)), Mode: 0o644, Data: data}, nil
}
