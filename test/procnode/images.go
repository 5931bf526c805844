package procnode

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/test/flinkdist"
)

// OperatorImageRepository is the repository of Flok's operator image. The process node
// runs it from a locally built binary.
const OperatorImageRepository = "ghcr.io/flok-dev/flok-operator"

// image is what a container image stands for on the process node.
type image struct {
	// flinkHome is set for the official Flink images: the provisioned home to present
	// at /opt/flink.
	flinkHome *flinkdist.Home
	// binary is set for Flok's operator image: the program to run.
	binary string
	// rootfs is set for images pulled from a registry: their unpacked file system,
	// the lower layer of each container's root; id is the image's digest reference
	// (repository@sha256:…), the containers' imageID.
	rootfs, id string
	// entrypoint and cmd are the image's ENTRYPOINT and CMD.
	entrypoint, cmd []string
	// env is the image's ENV, in its order.
	env [][2]string
	// workingDir and user are the image's WORKDIR and USER (pulled images only).
	workingDir, user string
}

// errImageNotAvailable is the process node's ErrImagePull: the image names nothing the
// node can run.
type errImageNotAvailable struct{ ref, why string }

func (e *errImageNotAvailable) Error() string {
	return fmt.Sprintf("image %q is not available on the process node: %s (it runs flink:<version>, apache/flink:<version>, %s and images from registries on this machine's loopback, like 127.0.0.1:5000/team/app:1)",
		e.ref, e.why, OperatorImageRepository)
}

// flinkImage matches the official images by repository, with or without a registry:
// flink, library/flink, apache/flink.
var flinkImage = regexp.MustCompile(`^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?(?:library/flink|flink|apache/flink)$`)

// flinkTagVersion reads the Flink version from an official tag such as 1.20,
// 1.20.5-scala_2.12-java17, 2.3-java17 or 2.
var flinkTagVersion = regexp.MustCompile(`^(\d+(?:\.\d+){0,2})(?:-.*)?$`)

// splitImage returns an image reference's repository and tag ("latest" when absent);
// digests are dropped.
func splitImage(ref string) (repo, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, "latest"
}

// resolveImage maps a container's image to what runs it: an image of a registry on
// loopback is pulled and unpacked; the official Flink images are provisioned Flink
// homes (cached, so only the first Pod of a version waits); Flok's operator image is
// the binary the node was given.
func (n *Node) resolveImage(ctx context.Context, c corev1.Container) (*image, error) {
	ref := c.Image
	if r, ok := registryOnLoopback(ref); ok {
		return n.pullImage(ctx, r, c.ImagePullPolicy)
	}
	repo, tag := splitImage(ref)
	switch {
	case flinkImage.MatchString(repo):
		version := tag
		if tag == "latest" {
			version = flinkdist.Releases[len(flinkdist.Releases)-1].Version
		}
		m := flinkTagVersion.FindStringSubmatch(version)
		if m == nil {
			return nil, &errImageNotAvailable{ref, "its tag names no Flink version"}
		}
		release, err := flinkdist.Lookup(m[1])
		if err != nil {
			return nil, &errImageNotAvailable{ref, err.Error()}
		}
		home, err := flinkdist.Provision(ctx, release)
		if err != nil {
			return nil, err
		}
		return &image{
			flinkHome:  home,
			entrypoint: []string{"/docker-entrypoint.sh"},
			cmd:        []string{"help"},
			env:        flinkImageEnv(),
		}, nil
	case repo == OperatorImageRepository || strings.HasSuffix(repo, "/flok-operator") || repo == "flok-operator":
		if n.opts.OperatorBinary == "" {
			return nil, &errImageNotAvailable{ref, "no flok-operator binary was given to the node"}
		}
		return &image{binary: n.opts.OperatorBinary, entrypoint: []string{n.opts.OperatorBinary}}, nil
	default:
		return nil, &errImageNotAvailable{ref, "unknown repository, and its registry is not on loopback"}
	}
}

// FullJITEnv, set to any value, runs the Flink images' JVMs with their full JIT.
const FullJITEnv = "FLOK_PROCNODE_FULL_JIT"

// flinkImageEnv is the Flink images' ENV. Their JVMs compile with C1 only
// (JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1; a Pod's own env overrides it): on the
// 2-core test machine a JobManager and TaskManager running a job for 90 s take a third
// less CPU than with C2, and the many short-lived clusters of the tests all share those
// two cores. Flink behaves the same; FLOK_PROCNODE_FULL_JIT turns it off.
func flinkImageEnv() [][2]string {
	env := [][2]string{{"FLINK_HOME", flinkHomeInPod}}
	if os.Getenv(FullJITEnv) == "" {
		env = append(env, [2]string{"JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1"})
	}
	return env
}
