package app

import (
	"fmt"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/routing"
)

// BuildRouter builds the ACD router from the configuration. With
// routing.engine router: agents with their skills, the queues as they are
// configured, a queue's zero wait_for_agent and ring_timeout taking
// center.wait_for_agent and center.agent_ring_timeout. With basic (kept for
// old configurations): routing.Basic, each queue's agents as its members
// served longest-idle, each offer ringing center.agent_ring_timeout, a
// caller waiting the queue's wait_for_agent, an agent whose phone failed an
// offer skipped for center.retry_interval. Without queues, calls wait in
// one queue, "default", of every agent. The returning-caller window, the
// callback key and prompts and the VIP lists are the center's, not the
// router's.
func BuildRouter(cfg *config.Config) (*routing.Router, error) {
	rc := routing.Config{Location: cfg.IVR.Location(), Queues: cfg.Queues}
	for _, a := range cfg.Agents {
		rc.Agents = append(rc.Agents, routing.AgentConfig{ID: sb.AgentID(a.ID), Name: a.Name, Endpoint: a.Endpoint,
			Skills: a.Skills, Languages: a.Languages, PINHash: a.PINHash,
			WrapUp: a.WrapUp, Weight: a.Weight, Attributes: a.Attributes})
	}
	if len(rc.Queues) == 0 {
		rc.Queues = []sb.Queue{{Name: "default"}}
	}
	if cfg.Routing.Engine == "basic" {
		loc := rc.Location
		rc = routing.Basic(rc.Agents, rc.Queues, cfg.Center.AgentRingTimeout, cfg.Center.RetryInterval)
		rc.Location = loc
	}
	rc.WaitForAgent, rc.RingTimeout = cfg.Center.WaitForAgent, cfg.Center.AgentRingTimeout
	r, err := routing.New(rc)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return r, nil
}
