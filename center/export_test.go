package center

import (
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// OnReconciled makes f run on the owner goroutine each time a PBX
// snapshot has been applied (for tests in package center_test).
func (c *Center) OnReconciled(f func()) {
	c.post(func() { c.reconciled = f })
}

// BasicRouter builds the router the way app builds it for routing.engine
// basic (routing.Basic): cfg's agents; cfg's queues, or one queue
// "default" of every agent when cfg names none (as app does); each offer
// ringing cfg.AgentRingTimeout; callers waiting wait; an agent whose
// phone failed an offer skipped for retry.
func BasicRouter(tb testing.TB, cfg Config, wait, retry time.Duration) *routing.Router {
	tb.Helper()
	var agents []routing.AgentConfig
	for _, a := range cfg.Agents {
		agents = append(agents, routing.AgentConfig{ID: a.ID, Name: a.Name, Endpoint: a.Endpoint})
	}
	queues := cfg.Queues
	if len(queues) == 0 {
		queues = []sb.Queue{{Name: "default"}}
	}
	cfg.setDefaults()
	rc := routing.Basic(agents, queues, cfg.AgentRingTimeout, retry)
	rc.WaitForAgent = wait
	r, err := routing.New(rc)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
