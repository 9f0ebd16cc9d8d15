package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateQueueTargetsAndVIP: validate reports exit targets naming no
// flow, and bad lines of VIP files, at their lines.
func TestValidateQueueTargetsAndVIP(t *testing.T) {
	const head = `asterisk:
  username: u
  password: p
queues:
  - name: q
    max_wait_target: vm
    empty_target: hangup
    escalation:
      - {after: 30s, exit: nope}
routing:
  vip:
    - {name: gold, priority: 5, file: vip.txt}
flows:
  vm:
    start: bye
    nodes:
      bye:
        hangup: {}
`
	path := writeFile(t, "sb.yaml", head)
	vip := filepath.Join(filepath.Dir(path), "vip.txt")
	if err := os.WriteFile(vip, []byte("+15550100\nnot-a-number\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCommand(t, newValidateCmd(), "--config", path)
	if want := path + `:9: queues[0].escalation[0].exit: no flow named "nope"`; code != 2 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}

	if err := os.WriteFile(path, []byte(strings.Replace(head, "exit: nope", "exit: vm", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCommand(t, newValidateCmd(), "--config", path)
	if want := vip + `:2: number must be a caller number`; code != 2 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}

	if err := os.WriteFile(vip, []byte("# ok\n+15550100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runCommand(t, newValidateCmd(), "--config", path); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
}
