package commands

import (
	"errors"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/flok-dev/flok/internal/jobimage"
	"github.com/flok-dev/flok/internal/ociimage"
)

func imageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Build job images without a container engine"}
	cmd.AddCommand(imageBuildCommand())
	return cmd
}

func imageBuildCommand() *cobra.Command {
	spec := jobimage.Spec{Maven: &jobimage.Maven{}}
	var tag, output, platform string
	var push bool
	cmd := &cobra.Command{
		Use:   "build --from BASE --jar JOB.jar --tag REF [--connector maven:GROUP:ARTIFACT:VERSION|FILE]... (--push | --output DIR)",
		Short: "Build a job's image: its jar and connectors on top of a Flink image",
		Long: `Build a job's image without a container engine: thin layers on top of a Flink image
pulled from its registry — the connectors in /opt/flink/lib, the job's jar in
/opt/flink/usrlib — stamped so that the same base, jar and connectors give the same
digest. Registry credentials come from the Docker config (~/.docker/config.json,
$DOCKER_CONFIG), as docker and crane read them. The job then runs with
jarURI local:///opt/flink/usrlib/<jar>.`,
		Example: `  flok image build --from flink:2.3 --jar target/orders-1.4.jar \
    --connector maven:org.apache.flink:flink-sql-connector-kafka:4.0.1-2.0 \
    --tag registry.example.com/team/orders:1.4 --push`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !push && output == "" {
				return errors.New("say where the image goes: --push to the registry of --tag, or --output DIR for an OCI image layout")
			}
			p, err := v1.ParsePlatform(platform)
			if err != nil {
				return fmt.Errorf("--platform %q: %w", platform, err)
			}
			spec.Platform = *p
			img, err := jobimage.Build(cmd.Context(), spec)
			if err != nil {
				return err
			}
			idx, err := ociimage.Index(nil, img)
			if err != nil {
				return err
			}
			return publishImage(cmd, idx, tag, output, push, filepath.Base(spec.Jar))
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Base, "from", "", "the Flink image to build on, such as flink:2.3 (required)")
	f.StringVar(&spec.Jar, "jar", "", "the job's jar, a local file (required)")
	f.StringArrayVar(&spec.Connectors, "connector", nil, "a jar for /opt/flink/lib: maven:group:artifact:version[:classifier] or a local file (repeatable)")
	f.StringVar(&spec.Maven.Repository, "maven-repository", jobimage.DefaultMavenRepository, "where maven: connectors come from (https://, http:// or file://)")
	f.StringVar(&tag, "tag", "", "the image's reference, registry/repository:tag (required)")
	f.BoolVar(&push, "push", false, "push the image to the registry of --tag")
	f.StringVar(&output, "output", "", "write the image as an OCI image layout into this directory")
	f.StringVar(&platform, "platform", "linux/amd64", "the base image's platform to build on")
	for _, required := range []string{"from", "jar", "tag"} {
		_ = cmd.MarkFlagRequired(required)
	}
	return cmd
}

// publishImage writes idx where the user asked and says what to run.
func publishImage(cmd *cobra.Command, idx v1.ImageIndex, tag, output string, push bool, jar string) error {
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if output != "" {
		if err := ociimage.WriteLayout(output, tag, idx); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s (%s) to %s as an OCI image layout\n", tag, digest, output)
	}
	if push {
		pushed, err := ociimage.Push(cmd.Context(), tag, idx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "pushed %s\n", pushed)
	}
	fmt.Fprintf(out, "run it with image: %s and jarURI: local://%s/%s\n", tag, jobimage.UsrLib, jar)
	return nil
}
