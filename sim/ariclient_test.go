package sim

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scenarioDir holds the npm ari-client scenario (package.json pins the
// version; `make test` runs `npm ci --prefix test/ari-client`).
const scenarioDir = "../test/ari-client"

// TestStockARIClient runs a call through the unmodified npm ari-client,
// which loads /ari/api-docs and builds its methods from the declared
// nicknames: originate into an application, StasisStart, answer, play
// until PlaybackFinished, mixing bridge, bridge recording until
// RecordingFinished, hang-up until StasisEnd and ChannelDestroyed.
func TestStockARIClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed for the ari-client scenario (%v): install Node.js, then `make test` installs the scenario's packages (npm ci --prefix test/ari-client)", err)
	}
	if _, err := os.Stat(filepath.Join(scenarioDir, "node_modules", "ari-client", "package.json")); err != nil {
		t.Fatalf("npm ari-client is not installed in %s (%v): `make test` installs it (npm ci --prefix test/ari-client --no-audit --no-fund)", scenarioDir, err)
	}
	s := startSim(t, Options{Speed: 50})

	// Generous: the scenario ends on its own events; this only bounds a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "scenario.js", "http://"+s.Addr(), testUser, testPass)
	cmd.Dir = scenarioDir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("scenario did not finish: %v\n%s", ctx.Err(), out)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("scenario exited %d:\n%s", exit.ExitCode(), out)
	}
	if err != nil {
		t.Fatalf("run scenario: %v\n%s", err, out)
	}

	// The simulator's own view of what the client did.
	var result struct{ Channel, Bridge, Recording string }
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "result: "); ok {
			if err := json.Unmarshal([]byte(rest), &result); err != nil {
				t.Fatalf("result line %q: %v", rest, err)
			}
		}
	}
	if result.Channel == "" {
		t.Fatalf("no result line in the scenario's output:\n%s", out)
	}
	if _, ok := s.StoredRecordings()[result.Recording]; !ok {
		t.Errorf("recording %s not stored; stored: %v", result.Recording, s.StoredRecordings())
	}
	for _, c := range s.Channels() {
		t.Errorf("channel %s left after the scenario", c.ID)
	}
	for _, b := range s.Bridges() {
		if b == result.Bridge {
			t.Errorf("bridge %s left after the scenario", b)
		}
	}
	if s.Stats().ChannelsCreated == 0 {
		t.Error("the scenario created no channel")
	}
}
