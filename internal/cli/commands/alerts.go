package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flok-dev/flok/internal/cli"
)

func (e *env) alertsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the incidents of Flink jobs, test alert receivers",
		Long: `The operator sends the incidents of Flink jobs — a job that failed, a restart loop,
checkpoints that stall, a savepoint that failed, an upgrade rolled back, a container
OOMKilled... (the reasons of their Degraded condition) — to the AlertReceivers that the
AlertRoutes of their namespace name: once when an incident opens, at the route's
repeatInterval while it stays open, and once when it is resolved.`,
	}
	cmd.AddCommand(e.alertsListCommand(), e.alertsTestCommand())
	return cmd
}

func (e *env) alertsListCommand() *cobra.Command {
	return e.listingCommand("List open incidents, and the receivers told of them", func(cmd *cobra.Command, c *cli.Client, output string, all bool) error {
		open, err := c.Incidents(cmd.Context(), all)
		if err != nil {
			return err
		}
		if output == cli.OutputJSON || output == cli.OutputYAML {
			if open == nil {
				open = []cli.Incident{}
			}
			return cli.PrintData(cmd.OutOrStdout(), map[string]any{"items": open}, output)
		}
		return cli.PrintIncidents(cmd.OutOrStdout(), open, e.now())
	})
}

func (e *env) alertsTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test RECEIVER",
		Short: "Send a test message to an AlertReceiver and report its answer",
		Long: `Send a test message to an AlertReceiver of the namespace, from this machine, with the
address and credentials of the receiver's Secret (read with your rights), and report
whether the receiver took it. A PagerDuty test is resolved at once.`,
		Example: "  flok alerts test oncall-slack -n team",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			typ, err := c.TestReceiver(cmd.Context(), args[0], e.now())
			if err != nil {
				return fmt.Errorf("AlertReceiver %s did not take the test message: %w", args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "AlertReceiver %s (%s) took the test message\n", args[0], typ)
			return err
		},
	}
}
