package app

import (
	"fmt"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/routing"
)

// BuildRouter builds the ACD router from the configuration. With
// routing.engine router: agents with their skills, queues with their
// strategies, service level, exits, announcements, escalation and callback
// windows. With basic (kept for old configurations): routing.Basic, each
// queue's agents as its members served longest-idle, each offer ringing
// center.agent_ring_timeout, a caller waiting the queue's wait_for_agent,
// an agent whose phone failed an offer skipped for center.retry_interval.
// The returning-caller window, the callback key and prompts and the VIP
// lists are the center's, not the router's.
func BuildRouter(cfg *config.Config) (*routing.Router, error) {
	rc, err := routerConfig(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Routing.Engine == "basic" {
		loc := rc.Location
		rc = routing.Basic(rc.Agents, rc.Queues, cfg.Center.AgentRingTimeout, cfg.Center.RetryInterval)
		rc.Location = loc
	}
	r, err := routing.New(rc)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return r, nil
}

// routerConfig is the router's configuration for routing.engine router.
func routerConfig(cfg *config.Config) (routing.Config, error) {
	rc := routing.Config{Location: cfg.IVR.Location()}
	for _, a := range cfg.Agents {
		rc.Agents = append(rc.Agents, routing.AgentConfig{ID: sb.AgentID(a.ID), Name: a.Name, Endpoint: a.Endpoint,
			Skills: a.Skills, Languages: a.Languages, PINHash: a.PINHash,
			WrapUp: a.WrapUp, Weight: a.Weight, Attributes: a.Attributes})
	}
	for _, q := range cfg.Queues {
		qc := routing.QueueConfig{Name: sb.QueueName(q.Name), Skills: q.Skills, Strategy: q.Strategy,
			RingTimeout: q.RingTimeout, MaxNoAnswer: q.MaxNoAnswer, WrapUp: q.WrapUp, MaxWait: cfg.QueueWait(q),
			PreferredWait: q.PreferredWait,
			MaxWaitTarget: q.MaxWaitTarget, MaxLen: q.MaxLength, MaxLenTarget: q.MaxLengthTarget,
			JoinEmpty: routing.EmptyPolicy(q.JoinEmpty), LeaveWhenEmpty: routing.EmptyPolicy(q.LeaveWhenEmpty),
			EmptyTarget: q.EmptyTarget, MusicClass: q.MusicClass,
			AnnounceEvery: q.AnnounceEvery, AnnouncePosition: q.AnnouncePosition, AnnounceWait: q.AnnounceWait,
			CallbackAttempts: q.Callback.Attempts, CallbackRetry: q.Callback.Retry}
		var err error
		if qc.ServiceLevel, qc.ServiceLevelTime, err = config.ParseServiceLevel(q.ServiceLevel); err != nil {
			return routing.Config{}, fmt.Errorf("routing: queue %q: service_level: %w", q.Name, err)
		}
		if qc.CallbackWindows, err = config.ParseWindows(q.Callback.Windows); err != nil {
			return routing.Config{}, fmt.Errorf("routing: queue %q: callback: %w", q.Name, err)
		}
		for _, s := range q.Escalation {
			step := routing.EscalationStep{After: s.After, Skills: s.Skills, RaisePriority: s.RaisePriority,
				OfferCallback: s.OfferCallback, Exit: s.Exit}
			for _, aq := range s.AddQueues {
				step.AddQueues = append(step.AddQueues, sb.QueueName(aq))
			}
			qc.Escalation = append(qc.Escalation, step)
		}
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
	return rc, nil
}
