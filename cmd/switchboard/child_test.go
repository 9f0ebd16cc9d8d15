package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// childArgsEnv, set in a re-executed test binary's environment, makes it
// run the switchboard command line it holds (a JSON array) as the program
// would, signals included, instead of the tests: a test can then kill -9
// a real serve or simulate process.
const childArgsEnv = "SWITCHBOARD_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if addr := os.Getenv(chaosSimEnv); addr != "" {
		os.Exit(runChaosSim(addr))
	}
	if js := os.Getenv(childArgsEnv); js != "" {
		var args []string
		if err := json.Unmarshal([]byte(js), &args); err != nil {
			os.Stderr.WriteString("bad " + childArgsEnv + ": " + err.Error() + "\n")
			os.Exit(2)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// childCommand is the test binary re-executed as `switchboard args...`.
func childCommand(args ...string) *exec.Cmd {
	js, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(js))
	return cmd
}
