package commands

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flok-dev/flok/internal/cli"
)

func reportObject(w io.Writer, verb string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		fmt.Fprintf(w, "%s %s %s\n", u.GetKind(), u.GetName(), verb)
	}
}

func (e *env) installCommand() *cobra.Command {
	dryRun, image := false, ""
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install Flok's CRDs, the operator's RBAC and the operator (namespace flok-system)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dryRun {
				objs, err := cli.InstallObjects(image)
				if err != nil {
					return err
				}
				for _, u := range objs {
					data, err := yaml.Marshal(u.Object)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "---\n%s", data)
				}
				return nil
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			return c.Install(cmd.Context(), image, reportObject(cmd.OutOrStdout(), "applied"))
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the objects instead of applying them")
	cmd.Flags().StringVar(&image, "image", "", "the operator's image, e.g. from a mirror or `make image PUSH=registry/repo` (default: the release's)")
	return cmd
}

func (e *env) uninstallCommand() *cobra.Command {
	crds, force := false, false
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove the operator and its RBAC (with --crds also Flok's CRDs and every Flok resource)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			return c.Uninstall(cmd.Context(), crds, force, reportObject(cmd.OutOrStdout(), "deleted"))
		},
	}
	cmd.Flags().BoolVar(&crds, "crds", false, "also delete Flok's CRDs")
	cmd.Flags().BoolVar(&force, "force", false, "uninstall even while Flok resources remain (they stay, held by their finalizers, until the operator is back)")
	return cmd
}

func convertCommand() *cobra.Command {
	return fileCommand("convert", "Turn Apache Flink Kubernetes Operator resources into Flok's",
		"the file with flink.apache.org resources (- for standard input)", cli.Convert)
}

func renderCommand() *cobra.Command {
	return fileCommand("render", "Print the Kubernetes objects a FlinkDeployment becomes, without applying them",
		"a YAML file of one or more FlinkDeployments (- for standard input)", cli.Render)
}

// fileCommand is a command that reads a YAML file (-f, - for standard input) and prints
// what transform makes of it, without a cluster.
func fileCommand(use, short, fileHelp string, transform func([]byte) ([]byte, error)) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   use + " -f FILE",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			out, err := transform(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", fileHelp)
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}
