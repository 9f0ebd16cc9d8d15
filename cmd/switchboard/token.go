package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/routing"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Make API bearer tokens (only their hashes go in the config)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "hash TOKEN",
		Short: "Print the sha256 to put in api.tokens[].sha256 for a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), config.HashToken(args[0]))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "pin PIN",
		Short: "Print the hash to put in agents[].pin_hash for an agent's keypad login PIN",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, r := range args[0] {
				if r < '0' || r > '9' {
					return &exitError{code: 2, err: fmt.Errorf("a PIN is digits only (it is typed on a keypad)")}
				}
			}
			salt := make([]byte, 16)
			if _, err := rand.Read(salt); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), routing.HashPIN(args[0], salt))
			return nil
		},
	})
	var name, role string
	var queues []string
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Generate a random token; print it once with the config lines that hold its hash",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(queues) > 0 && role != config.RoleSupervisor {
				return &exitError{code: 2, err: fmt.Errorf("--queues: only supervisor tokens have a queue scope, not %s", role)}
			}
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			tok := base64.RawURLEncoding.EncodeToString(b)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "token (shown once, give it to the user): %s\n", tok)
			fmt.Fprintf(out, "config:\n  api:\n    tokens:\n      - name: %s\n        role: %s\n        sha256: %s\n", name, role, config.HashToken(tok))
			if len(queues) > 0 {
				fmt.Fprintf(out, "        queues: [%s]\n", strings.Join(queues, ", "))
			}
			return nil
		},
	}
	newCmd.Flags().StringVar(&name, "name", "ops", "token name (shown in logs)")
	newCmd.Flags().StringVar(&role, "role", "admin", "role: admin, supervisor or agent")
	newCmd.Flags().StringSliceVar(&queues, "queues", nil, "supervisor only: the queues the token is limited to (default every queue)")
	cmd.AddCommand(newCmd)
	return cmd
}
