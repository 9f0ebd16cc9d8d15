package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/spf13/cobra"
)

// runCommand runs one subcommand in-process and returns stdout, stderr
// (with the error text appended) and the exit code runCtx would give.
func runCommand(t *testing.T, cmd *cobra.Command, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	code := 0
	if err := cmd.Execute(); err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}
