package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/internal/waitfor"
	"github.com/switchboard/switchboard/sim"
)

// The helpers below are those of cmd/switchboard's tests that the tests
// moved here with their code use.

// simClock adapts the simulator's clock to the center's (as the demo's).
type simClock struct{ c *sim.Clock }

var _ sb.Clock = simClock{}

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) Speed() float64 { return s.c.Speed() }
func (s simClock) AfterFunc(d time.Duration, f func()) func() bool {
	return s.c.AfterFunc(d, f).Stop
}

func startSim(t *testing.T, speed float64) *sim.Server {
	t.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "right-password", Speed: speed, Seed: 3})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// simConfig writes a serve configuration pointing at a simulator.
func simConfig(t *testing.T, s *sim.Server, password string) string {
	t.Helper()
	return writeFile(t, "sb.yaml", fmt.Sprintf(`http:
  listen: 127.0.0.1:0
database:
  dsn: %s
asterisk:
  url: %s
  username: sb
  password: %s
  reconnect_min: 50ms
  reconnect_max: 200ms
center:
  greeting: ["sound:hello-world"]
  wait_for_agent: 30s
agents:
  - id: "1001"
    endpoint: PJSIP/1001
api:
  tokens:
    - name: ops
      role: admin
      sha256: %s
`, filepath.Join(t.TempDir(), "sb.db"), s.URL(), password, config.HashToken("test-token")))
}

// waitFor polls cond until it holds, ctx ends or timeout (0: none) passes.
var waitFor = waitfor.Until
