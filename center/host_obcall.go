package center

import (
	"fmt"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/agentfirst"
	"github.com/switchboard/switchboard/campaign/blend"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/routing"
)

// The host methods only the campaign-call driver (obcall.Driver) needs.

var _ obcall.Host = host{}

// Post (host_featurecode.go) and After (ivr.go) serve it too.

// Draining reports whether the center takes no new calls.
func (h host) Draining() bool { return h.c.draining }

// NoteGone tells the snapshot being listed that ch ended.
func (h host) NoteGone(ch sb.ChannelID) { h.c.noteGone(ch) }

// Known reports whether ch is a leg of a live call.
func (h host) Known(ch sb.ChannelID) bool { return h.c.byChannel[ch] != nil }

// Enqueue takes a campaign call's person in as a call queued first in
// the campaign's queue (obcall.Enqueue).
func (h host) Enqueue(l *obcall.Line, ch sb.ChannelInfo, priority int) {
	c, d := h.c, l.Dial()
	now := c.clock.Now()
	k := c.newCall(ch, now)
	k.Caller, k.Called = d.Lead.Number, "campaign:"+d.Campaign
	k.Answered = now
	k.Queue = sb.QueueName(d.Queue)
	k.priority = priority
	c.life(k, lifecycle.Queue{})
	k.ob = l
	c.journal(k)
	c.log.Info("campaign call: a person answered", "call_id", k.ID, "campaign", d.Campaign)
	c.acdCall(k)
	c.life(k, lifecycle.Enqueued{})
	k.State = sb.CallPrompting
	c.acdEnqueue(k, "")
}

// Abandon ends a person no agent took (obcall.Abandon): the campaign's
// message plays and the call is hung up. A call whose end was decided
// otherwise (a failure) ends that way.
func (h host) Abandon(call sb.CallID, media []string) {
	c := h.c
	k := c.calls[call]
	if k == nil || k.life.Over() || k.life.Decided() {
		return
	}
	c.log.Info("campaign call abandoned: no agent within the connect window", "call_id", k.ID, "campaign", campaignOf(k))
	c.life(k, lifecycle.Decide{Outcome: sb.OutcomeAbandoned, By: lifecycle.BySystem})
	if c.acd.calls[k.ID] != nil {
		c.life(k, lifecycle.GiveUpQueue{})
	}
	c.life(k, lifecycle.SayAndHangUp{What: "noagent", Media: media})
}

// DialPreview places a preview dial: the agent who chose the lead is
// paused in the router, his phone rings, then the customer is dialed.
func (h host) DialPreview(l *obcall.Line) error {
	c, d := h.c, l.Dial()
	cfg, ok := c.router.Agent(d.Agent)
	if !ok || cfg.Endpoint == "" {
		return sb.Errorf(sb.ENOTFOUND, "agent %s has no phone", d.Agent)
	}
	m := routing.AgentPause{Agent: d.Agent, Reason: obcall.PreviewPauseReason}
	if err := ignored(c.acdApply(m), m); err != nil {
		return err
	}
	c.first.Place(agentfirst.Spec{
		Call: sb.Call{ID: sb.CallID(d.Channel), Caller: d.Lead.Number, Called: "campaign:" + d.Campaign,
			Queue: sb.QueueName(d.Queue), Agent: d.Agent},
		Number: d.Lead.Number, Endpoint: d.Endpoint,
		AgentEndpoint: cfg.Endpoint, AgentCallerID: fmt.Sprintf("%q <%s>", "Preview "+d.Campaign, d.Lead.Number),
		Customer: &sb.OriginateRequest{CallerID: d.CallerID, Timeout: d.RingTime, Variables: obcall.LineVars(d.Campaign, d.Attempt)},
		Line:     l,
	})
	return nil
}

// AgentReady makes agent ready in the router.
func (h host) AgentReady(agent sb.AgentID) { h.c.acdApply(routing.AgentReady{Agent: agent}) }

// Hold pauses agent for a ringing campaign line (blend.HoldReason).
func (h host) Hold(agent sb.AgentID) error {
	m := routing.AgentPause{Agent: agent, Reason: blend.HoldReason}
	return ignored(h.c.acdApply(m), m)
}

// Routing reports whether the router's actions are being carried out.
func (h host) Routing() bool { return h.c.acd.applying }

// QueueAgents are the agents of a queue's base tier.
func (h host) QueueAgents(q sb.QueueName) []sb.AgentID { return h.c.queueAgents(q) }

// AgentStates is the router's view of each agent (the live map).
func (h host) AgentStates() map[sb.AgentID]routing.AgentState { return h.c.acd.states }
