package center

import (
	"strings"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// Route applies m to the router; an error says the router refused it.
func (h host) Route(m routing.Msg) error { return ignored(h.c.acdApply(m), m) }

// AgentPIN returns an agent's configured PIN hash.
func (h host) AgentPIN(agent sb.AgentID) (string, bool) {
	cfg, known := h.c.router.Agent(agent)
	return cfg.PINHash, known
}

// AgentAt finds the agent logged in at (or configured on) a phone.
func (h host) AgentAt(phone string) (sb.AgentID, bool) {
	snap := h.c.router.Snapshot(h.c.clock.Now())
	for _, a := range snap.Agents {
		if strings.EqualFold(a.Endpoint, phone) && a.State != routing.StateLoggedOut {
			return a.Agent, true
		}
	}
	return "", false
}

// LoggedInAt notes that agent logged in on phone (its endpoint's state
// events are the agent's from now on).
func (h host) LoggedInAt(phone string, agent sb.AgentID) {
	h.c.acd.mu.Lock()
	h.c.acd.endpoint[strings.ToLower(phone)] = agent
	h.c.acd.mu.Unlock()
}

// Off runs work off the owner goroutine (Run waits for it), then then on
// it.
func (h host) Off(work func(), then func()) {
	h.c.cmdWG.Add(1)
	go func() {
		defer h.c.cmdWG.Done()
		work()
		h.c.post(then)
	}()
}
