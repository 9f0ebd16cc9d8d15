package main

import (
	"fmt"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/routing"
)

// buildRouter builds the ACD router from the configuration (routing.engine
// router): agents with their skills, queues with their strategies.
func buildRouter(cfg *config.Config) (*routing.Router, error) {
	rc := routing.Config{Location: cfg.IVR.Location()}
	for _, a := range cfg.Agents {
		rc.Agents = append(rc.Agents, routing.AgentConfig{ID: sb.AgentID(a.ID), Name: a.Name, Endpoint: a.Endpoint,
			Skills: a.Skills, Languages: a.Languages, PINHash: a.PINHash})
	}
	for _, q := range cfg.Queues {
		qc := routing.QueueConfig{Name: sb.QueueName(q.Name), Skills: q.Skills, Strategy: q.Strategy,
			RingTimeout: q.RingTimeout, MaxNoAnswer: q.MaxNoAnswer, WrapUp: q.WrapUp, MaxWait: cfg.QueueWait(q),
			PreferredWait: q.PreferredWait}
		for _, id := range q.Agents {
			qc.Members = append(qc.Members, sb.AgentID(id))
		}
		if qc.RingTimeout == 0 {
			qc.RingTimeout = cfg.Center.AgentRingTimeout
		}
		rc.Queues = append(rc.Queues, qc)
	}
	if len(rc.Queues) == 0 {
		// Calls not queued by a flow wait in a queue of every agent.
		rc.Queues = []routing.QueueConfig{{Name: "default", RingTimeout: cfg.Center.AgentRingTimeout, MaxWait: cfg.Center.WaitForAgent}}
	}
	r, err := routing.New(rc)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return r, nil
}
