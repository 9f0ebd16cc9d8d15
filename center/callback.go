package center

import (
	"context"
	"fmt"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/agentfirst"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/routing"
)

// Callbacks keep the caller's place: a caller waiting in a queue presses
// the queue's callback key, hears the confirmation and hangs up; the
// router keeps the request at the caller's position. When its turn comes
// the router emits StartCallback and agentfirst.Driver places an
// agent-first call: the agent's phone rings, and once the agent answers
// the customer is dialed through the trunk. The agent-first call is a call
// of its own (its id is <original call>-cb<n>, its call-log row says
// called "callback:<original call>") that speaks to the router under the
// original call's id. Preview dials are agent-first calls too.
//
// Once connected it is an ordinary bridged call: recordings, supervision,
// hang-up and the call log work as for any call. Below are the host
// methods the driver needs of the engine.

// CallbackNumberVar is the flow variable holding the number a callback
// dials; without it the caller's number is called back.
const CallbackNumberVar = agentfirst.CallbackNumberVar

// acdOfferCallback plays the queue's callback offer to a waiting caller.
func (c *Center) acdOfferCallback(o routing.OfferCallback) {
	k := c.calls[o.Call]
	if k == nil {
		return
	}
	q := c.queues[k.Queue]
	c.playWaiting(k, "cboffer", q.Callback.Prompt)
}

var _ agentfirst.Host = host{}

// Defer has m applied to the router once the actions being carried out
// are done.
func (h host) Defer(m routing.Msg) { h.c.acd.pending = append(h.c.acd.pending, m) }

// PlaceCall registers the call s places agent first (its agent not yet
// rung): callbacks and preview dials.
func (h host) PlaceCall(s agentfirst.Spec) {
	c, info := h.c, s.Call
	info.Node, info.State, info.Entered = c.pbx.Node(), sb.CallRinging, c.clock.Now()
	k := &call{Call: info, exec: newSerial(c.runCtx, &c.cmdWG), life: lifecycle.New(), inBridge: map[sb.ChannelID]bool{}}
	k.routerID = s.RouterCall
	if l, ok := s.Line.(*obcall.Line); ok {
		k.ob = l
	}
	c.seq++
	k.seq = c.seq
	c.calls[k.ID] = k
	c.active.Add(1)
}

// AgentVars are the channel variables of the call's agent leg.
func (h host) AgentVars(call sb.CallID) map[string]string {
	if k := h.c.calls[call]; k != nil {
		return h.c.agentVars(k)
	}
	return map[string]string{}
}

// Trunk is the endpoint that dials an external number.
func (h host) Trunk(number string) string { return h.c.trunkEndpoint(number) }

// RingAgent originates the agent leg of an agent-first call.
func (h host) RingAgent(call sb.CallID, endpoint, callerID string, vars map[string]string, gone func(sb.ChannelID, int)) sb.ChannelID {
	c, k := h.c, h.c.calls[call]
	k.attempts = 1
	k.agentCh = sb.ChannelID(fmt.Sprintf("%s-a1", k.ID))
	k.AgentChannel = k.agentCh
	c.byChannel[k.agentCh] = k
	c.life(k, lifecycle.AgentDialed{})
	req := sb.OriginateRequest{
		ID: k.agentCh, Endpoint: endpoint, CallerID: callerID,
		Timeout: c.cfg.AgentRingTimeout, AppArgs: []string{agentfirst.ArgAgent, string(k.ID)}, Variables: vars,
	}
	ch := k.agentCh
	c.originate(k, req, "agent-first originate failed", func() { gone(ch, 20) })
	return ch
}

// DialCustomer: the agent answered; the customer is dialed from the
// agent's leg.
func (h host) DialCustomer(call sb.CallID, req sb.OriginateRequest, gone func(sb.ChannelID, int)) agentfirst.Placed {
	c, k := h.c, h.c.calls[call]
	c.life(k, lifecycle.AgentUp{})
	c.seq++
	c.byChannel[sb.ChannelID(k.ID)] = k
	c.originate(k, req, "callback customer originate failed", func() { gone(sb.ChannelID(k.ID), 38) })
	return agentfirst.Placed{Seq: c.seq}
}

// LegGone takes the end of a leg of an agent-first call not connected yet.
func (h host) LegGone(call sb.CallID, ch sb.ChannelID) bool {
	c, k := h.c, h.c.calls[call]
	if k == nil {
		return false
	}
	switch ch {
	case k.agentCh:
		if k.life.AgentGone() {
			return false
		}
		c.life(k, lifecycle.AgentGone{Placing: true})
	case sb.ChannelID(k.ID):
		if k.life.CallerGone() {
			return false
		}
		c.life(k, lifecycle.CallerGone{Placing: true})
	default:
		return false
	}
	delete(c.byChannel, ch)
	return true
}

// AgentLeg is the call's agent channel.
func (h host) AgentLeg(call sb.CallID) sb.ChannelID {
	if k := h.c.calls[call]; k != nil {
		return k.agentCh
	}
	return ""
}

// Connect: the customer answered: both legs are bridged.
func (h host) Connect(call sb.CallID, answered time.Time) {
	c, k := h.c, h.c.calls[call]
	k.Answered = answered
	ac := c.acdCall(k)
	ac.agent = k.Agent
	c.life(k, lifecycle.Routed{})
	c.seq++
	k.offerSeq = c.seq
	c.life(k, lifecycle.Connect{})
}

// Forget drops an agent-first call that never connected.
func (h host) Forget(call sb.CallID) {
	c, k := h.c, h.c.calls[call]
	if k == nil {
		return
	}
	c.life(k, lifecycle.Forget{})
	k.State = sb.CallEnded
	delete(c.calls, k.ID)
	k.exec.close()
	c.active.Add(-1)
	c.rec.Forget(k.ID)
}

// PreviewAnswered reports a preview dial's customer answered.
func (h host) PreviewAnswered(call sb.CallID) {
	if k := h.c.calls[call]; k != nil && k.ob != nil {
		h.c.obd.Apply(k.ob, obcall.CustomerAnswered{})
	}
}

// PreviewGone reports a preview dial that never connected.
func (h host) PreviewGone(call sb.CallID, outcome sb.DialOutcome) {
	if k := h.c.calls[call]; k != nil && k.ob != nil {
		h.c.obd.Apply(k.ob, obcall.PreviewGone{Outcome: outcome})
	}
}

// Waiter says who pressed a key on call.
func (h host) Waiter(call sb.CallID) (agentfirst.Waiter, bool) {
	c, k := h.c, h.c.calls[call]
	if k == nil {
		return agentfirst.Waiter{}, false
	}
	ac := c.acd.calls[k.ID]
	return agentfirst.Waiter{
		Waiting: agentfirst.Waiting{Caller: k.Caller, FlowNumber: c.flows.Vars(k.ID)[CallbackNumberVar],
			Queued: ac != nil && k.life.Routing() == lifecycle.RouteQueued && !k.life.Decided()},
		Queue: k.Queue, Priority: k.priority, EnqueuedAt: k.enqueuedAt,
	}, true
}

// CallbackTaken decides a call whose caller asked to be called back.
func (h host) CallbackTaken(call sb.CallID) {
	if k := h.c.calls[call]; k != nil {
		h.c.life(k, lifecycle.CallbackTaken{})
		h.c.life(k, lifecycle.Decide{Outcome: sb.OutcomeCallback, By: lifecycle.BySystem})
	}
}

// SayAndHangUp plays media to the caller, then hangs up.
func (h host) SayAndHangUp(call sb.CallID, what string, media []string) {
	if k := h.c.calls[call]; k != nil {
		h.c.life(k, lifecycle.SayAndHangUp{What: what, Media: media})
	}
}

// Queue is a queue's configuration.
func (h host) Queue(q sb.QueueName) sb.Queue { return h.c.queues[q] }

// playWaiting plays media to a waiting caller between two stretches of
// music on hold (announcements, the callback offer).
func (c *Center) playWaiting(k *call, what string, media []string) {
	if k == nil || !k.life.Live() || len(media) == 0 || k.State == sb.CallBridged {
		return
	}
	k.announceSeq++
	pb := sb.PlaybackID(fmt.Sprintf("%s-%s%d", k.ID, what, k.announceSeq))
	moh := k.life.MOH()
	c.announcements[pb] = k
	c.do(k, func(ctx context.Context) {
		if moh {
			_ = c.pbx.MusicOnHold(ctx, sb.ChannelID(k.ID), "", false)
		}
		if err := c.pbx.Play(ctx, sb.ChannelID(k.ID), pb, media...); err != nil {
			c.log.Debug("queue prompt", "call_id", k.ID, "what", what, "err", err)
			c.post(func() { c.announced(pb) })
		}
	})
}

// rid is the id the router knows the call by.
func rid(k *call) sb.CallID {
	if k.routerID != "" {
		return k.routerID
	}
	return k.ID
}

// trunkEndpoint is the endpoint that dials an external number.
func (c *Center) trunkEndpoint(number string) string {
	tmpl := c.ivr.TrunkTemplate
	if tmpl == "" {
		tmpl = DefaultTrunkTemplate
	}
	return strings.ReplaceAll(tmpl, "${number}", number)
}

// firstEntered: a leg of an agent-first call entered the application.
func (c *Center) firstEntered(e sb.ChannelEntered) {
	k := c.calls[sb.CallID(e.Args[1])]
	c.first.Entered(e.Channel, e.Args, k == nil || k.life.Over())
}
