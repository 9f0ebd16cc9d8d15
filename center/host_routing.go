package center

import (
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/routing"
)

// The host methods only the router's driver (routing.Driver) needs: what
// touches a call's course when the router decides. Logger, Now, OnLoop,
// Do, Post, After (host_recording.go), Off (host_featurecode.go) and
// Persist (ivr.go) serve it too.

var _ routing.Host = host{}

// Running reports whether Run is running.
func (h host) Running() bool { return h.c.running.Load() }

// RouterSettled tells the campaign calls the router's actions are done.
func (h host) RouterSettled() { h.c.obd.RouterSettled() }

// AgentChanged tells the campaign calls an agent's state changed (an
// agent to hold, or a hold ended).
func (h host) AgentChanged() { h.c.obd.AgentChanged() }

// StartCallback places the callback the router says is due.
func (h host) StartCallback(a routing.StartCallback) { h.c.first.Start(a) }

// WithdrawCallback takes back a callback not connected yet.
func (h host) WithdrawCallback(call sb.CallID) bool { return h.c.first.Cancel(call) }

// CallbackDone closes the callback request of a caller who left a queue.
func (h host) CallbackDone(call sb.CallID, why string) { h.c.first.Done(call, why) }

// Huntable reports whether call is live.
func (h host) Huntable(call sb.CallID) bool {
	k := h.c.calls[call]
	return k != nil && k.life.Live()
}

// Hunting marks the call enqueued, once.
func (h host) Hunting(call sb.CallID, defQueue sb.QueueName) (routing.CallInfo, bool) {
	c, k := h.c, h.c.calls[call]
	if k == nil || k.life.Routing() != lifecycle.RouteNone {
		return routing.CallInfo{}, false
	}
	c.life(k, lifecycle.Enqueued{})
	k.State = sb.CallPrompting
	if k.Queue == "" {
		k.Queue = defQueue
	}
	w := callInfo(k)
	w.Preferred = sb.AgentID(c.flows.Vars(k.ID)[routing.PreferredAgentVar])
	return w, true
}

func callInfo(k *call) routing.CallInfo {
	return routing.CallInfo{Queue: k.Queue, Priority: k.priority, Caller: k.Caller, Skills: k.skills}
}

// Prioritize sets the call's priority in the queue.
func (h host) Prioritize(call sb.CallID, p int) {
	if k := h.c.calls[call]; k != nil {
		k.priority = p
	}
}

// Entering notes when the router got the call, unless it ended.
func (h host) Entering(call sb.CallID, at time.Time) (routing.CallInfo, bool) {
	k := h.c.calls[call]
	if k == nil || !k.life.Live() {
		return routing.CallInfo{}, false
	}
	k.enqueuedAt = at
	return callInfo(k), true
}

// WaitQueued: the router queued the call: the music follows.
func (h host) WaitQueued(call sb.CallID, class string) {
	k := h.c.calls[call]
	if k == nil || k.life.Over() || k.life.CallerGone() || k.life.MOH() {
		return
	}
	k.mohClass = class
	h.c.life(k, lifecycle.Queued{})
}

// Ringing marks the call ringing for an offer.
func (h host) Ringing(call sb.CallID) bool {
	k := h.c.calls[call]
	if k == nil || k.life.Over() || k.life.CallerGone() {
		return false
	}
	k.State = sb.CallRinging
	return true
}

// NextOfferLeg numbers the call's next agent leg (<call>-a<n>) and
// claims it.
func (h host) NextOfferLeg(call sb.CallID) sb.ChannelID {
	k := h.c.calls[call]
	k.attempts++
	ch := sb.ChannelID(fmt.Sprintf("%s-a%d", k.ID, k.attempts))
	h.c.byChannel[ch] = k
	return ch
}

// RingOffer originates an agent leg of the call.
func (h host) RingOffer(call sb.CallID, agent sb.AgentID, ch sb.ChannelID, endpoint string, timeout time.Duration, queue sb.QueueName, gone func()) {
	c, k := h.c, h.c.calls[call]
	callerID := c.cfg.AgentCallerID
	if callerID == "" {
		callerID = fmt.Sprintf("%q <%s>", k.CallerName, k.Caller)
	}
	req := sb.OriginateRequest{
		ID: ch, Endpoint: endpoint, CallerID: callerID,
		Timeout: timeout, AppArgs: []string{argAgent, string(k.ID)},
		Originator: sb.ChannelID(k.ID), Variables: c.agentVars(k),
	}
	c.log.Debug("offering call", "call_id", k.ID, "agent_id", agent, "channel_id", ch, "queue", queue)
	c.originate(k, req, "agent originate failed", gone, "agent_id", agent)
}

// HangupOffer hangs up an agent leg of the call; of a call that is over,
// as an orphan.
func (h host) HangupOffer(call sb.CallID, ch sb.ChannelID, notFound func()) {
	c, k := h.c, h.c.calls[call]
	if k == nil || k.life.Over() {
		c.hangupOrphan(ch)
		return
	}
	c.settle(k, "hangup", []any{"call_id", k.ID, "channel_id", ch}, c.hangupOp(ch), func(err error) {
		if sb.ErrorCode(err) == sb.ENOTFOUND {
			notFound()
		}
	})
}

// ReleaseOffer forgets an agent leg of the call.
func (h host) ReleaseOffer(call sb.CallID, ch sb.ChannelID) {
	if k := h.c.byChannel[ch]; k != nil && k.ID == call {
		delete(h.c.byChannel, ch)
	}
}

// Connectable reports whether an answered agent leg may become the
// call's agent channel.
func (h host) Connectable(call sb.CallID) bool {
	k := h.c.calls[call]
	return k != nil && !k.life.Over() && !k.life.CallerGone() && !k.life.RouterConnected() && (k.agentCh == "" || k.life.AgentGone())
}

// AgentConnected makes the agent's answered leg the call's agent
// channel: the bridge follows.
func (h host) AgentConnected(call sb.CallID, agent sb.AgentID, ch sb.ChannelID) {
	c, k := h.c, h.c.calls[call]
	c.life(k, lifecycle.Routed{})
	c.seq++
	k.offerSeq = c.seq
	k.agentCh, k.AgentChannel, k.Agent = ch, ch, agent
	c.life(k, lifecycle.AgentAnswered{})
}

// RouterConnected reports whether the router connected the call.
func (h host) RouterConnected(call sb.CallID) bool {
	k := h.c.calls[call]
	return k != nil && k.life.RouterConnected()
}

// RingingOver: no offer rings for the call; a caller still waiting is
// prompting again.
func (h host) RingingOver(call sb.CallID) {
	k := h.c.calls[call]
	if k != nil && !k.life.RouterConnected() && k.State == sb.CallRinging && !k.life.CallerGone() {
		k.State = sb.CallPrompting
	}
}

// MaybeFinish closes the call if nothing is left of it.
func (h host) MaybeFinish(call sb.CallID) {
	if k := h.c.calls[call]; k != nil {
		h.c.maybeFinish(k)
	}
}

// Exiting reports whether the call leaves the queue to an exit target; a
// campaign call no agent can take is abandoned at once.
func (h host) Exiting(call sb.CallID) bool {
	c, k := h.c, h.c.calls[call]
	if k == nil || k.life.Over() || k.life.CallerGone() {
		return false
	}
	if k.ob != nil {
		c.obd.Apply(k.ob, obcall.QueueExit{})
		return false
	}
	return true
}

// ExitQueue sends a caller who left the queue without an agent to the
// exit's target.
func (h host) ExitQueue(call sb.CallID, x routing.Exit) {
	c, k := h.c, h.c.calls[call]
	c.life(k, lifecycle.Exited{})
	c.log.Info("caller left the queue", "call_id", k.ID, "queue", x.Queue, "reason", x.Reason, "target", x.Target)
	switch x.To() {
	case routing.ExitToPrompt:
		c.giveUp(k)
	case routing.ExitToHangup:
		c.life(k, lifecycle.Decide{Outcome: sb.OutcomeNoAgent, By: lifecycle.BySystem})
		c.life(k, lifecycle.HangUpCaller{})
	case routing.ExitToFlow:
		c.exitToFlow(k, x.Target)
	}
}

// exitToFlow sends a caller who left a queue into a flow, with the
// variables its first flow set; the call-log path goes on from where the
// first flow ended.
func (c *Center) exitToFlow(k *call, flow string) {
	err := c.flows.ExitTo(k.ID, flow, k.Caller, k.Called, k.Answered, func() {
		// A queue node in the new flow enqueues the call afresh.
		c.acd.Untrack(k.ID)
		c.life(k, lifecycle.LeftQueue{})
		k.State = sb.CallIVR
	})
	if err != nil {
		c.log.Error("queue exit target is no flow; the caller hears the no-agent prompt", "call_id", k.ID, "target", flow, "err", err)
		c.giveUp(k)
	}
}

// PromptSeq numbers the next prompt played to a waiting caller.
func (h host) PromptSeq(call sb.CallID) (seq int, moh bool, ok bool) {
	k := h.c.calls[call]
	if k == nil || !k.life.Live() || k.State == sb.CallBridged {
		return 0, false, false
	}
	k.announceSeq++
	return k.announceSeq, k.life.MOH(), true
}

// QueueOf is the call's queue.
func (h host) QueueOf(call sb.CallID) (sb.QueueName, bool) {
	if k := h.c.calls[call]; k != nil {
		return k.Queue, true
	}
	return "", false
}

// ResumeMOH puts the music back on after a prompt, for a caller still
// waiting.
func (h host) ResumeMOH(call sb.CallID) {
	k := h.c.calls[call]
	if k == nil || k.life.Over() || k.life.CallerGone() || !k.life.MOH() || k.State == sb.CallBridged {
		return
	}
	h.c.moh(k, k.mohClass, true)
}

// startMOH starts the queue's music (lifecycle.StartMOH).
func (c *Center) startMOH(k *call) {
	c.moh(k, k.mohClass, true)
}

// stopMOH stops the caller's music (lifecycle.StopMOH).
func (c *Center) stopMOH(k *call) {
	c.moh(k, "", false)
}
