package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/config"
)

func newValidateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration file; list every problem with file:line",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := config.Load(path); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return &exitError{code: 2, err: fmt.Errorf("%s is not valid", path)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "switchboard.yaml", "configuration file")
	return cmd
}
