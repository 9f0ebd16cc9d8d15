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
// the router emits StartCallback and the center places an agent-first
// call: the agent's phone rings, and once the agent answers the customer
// is dialed through the trunk. The agent-first call is a call of its own
// (its id is <original call>-cb<n>, its call-log row says
// called "callback:<original call>") that speaks to the router under the
// original call's id.
//
// The agent-first call's decisions (its phases, which leg to hang up,
// what to report) are package agentfirst's; the center maps the PBX's
// events to its events and carries out its commands.
//
// Once connected it is an ordinary bridged call: recordings, supervision,
// hang-up and the call log work as for any call.

// Stasis args of the legs of agent-first calls.
const (
	argFirstAgent    = "cbagent"    // cbagent, <call id>: the agent leg, dialed first
	argFirstCustomer = "cbcustomer" // cbcustomer, <call id>: the customer leg, dialed once the agent answered
)

// CallbackNumberVar is the flow variable holding the number a callback
// dials; without it the caller's number is called back.
const CallbackNumberVar = "callback_number"

// agentFirst is a call placed agent first: its machine, and what the
// center needs to carry out its commands.
type agentFirst struct {
	m          *agentfirst.Call
	routerCall sb.CallID // the router's call this places
	number     string
	endpoint   string // the customer's endpoint
	// agentEndpoint and callerID are what the agent's phone is rung with.
	agentEndpoint, callerID string
	custSeq                 uint64 // when the customer leg was originated (see Center.seq)
	// ob is set for preview dials: campaign reports instead of router ones.
	ob     *obcall.Line
	causes map[sb.ChannelID]sb.LegCause // why each leg ends
}

// firstEvent handles the hang-ups of agent-first calls not connected yet;
// it returns false for the events the skeleton handles.
func (c *Center) firstEvent(e sb.Event) bool {
	ch := sb.ChannelOf(e)
	k := c.byChannel[ch]
	if k == nil || k.first == nil || !k.first.m.Pending() {
		return false
	}
	f := k.first
	if f.causes == nil {
		f.causes = map[sb.ChannelID]sb.LegCause{}
	}
	switch e := e.(type) {
	case sb.DialResult, sb.HangupRequested:
		lc := f.causes[ch]
		lc.Note(e)
		f.causes[ch] = lc
		return true
	case sb.ChannelLeft:
		return true // originated: the destroy follows
	case sb.ChannelDestroyed:
		c.firstGone(k, ch, f.causes[ch].At(e.Cause))
		return true
	}
	return false
}

// callbackKey handles a key the waiting caller pressed: the queue's
// callback key turns the wait into a callback request. It reports whether
// the key was taken.
func (c *Center) callbackKey(k *call, digit string) bool {
	q := c.queues[k.Queue]
	ac := c.acd.calls[k.ID]
	w := agentfirst.Waiting{Key: q.Callback.Key, Caller: k.Caller,
		Queued: ac != nil && k.life.Routing() == lifecycle.RouteQueued && !k.life.Decided()}
	w.FlowNumber = c.flows.Vars(k.ID)[CallbackNumberVar]
	taken, number := agentfirst.CallbackKey(w, digit)
	if !taken {
		return false
	}
	if number == "" {
		c.log.Info("callback refused: no number to call back", "call_id", k.ID)
		return true
	}
	m := routing.CallbackRequest{Call: k.ID, Number: number}
	if err := ignored(c.acdApply(m), m); err != nil {
		c.log.Info("callback refused", "call_id", k.ID, "err", err)
		return true
	}
	c.life(k, lifecycle.CallbackTaken{})
	c.life(k, lifecycle.Decide{Outcome: sb.OutcomeCallback, By: lifecycle.BySystem})
	c.log.Info("callback requested", "call_id", k.ID, "queue", k.Queue, "number", number)
	c.saveCallback(k, number)
	// Offers ringing for the caller are withdrawn (the router sent
	// CancelOffer); the caller hears the confirmation and is hung up.
	c.life(k, lifecycle.SayAndHangUp{What: "cbconfirm", Media: q.Callback.Confirmation})
	return true
}

// acdOfferCallback plays the queue's callback offer to a waiting caller.
func (c *Center) acdOfferCallback(o routing.OfferCallback) {
	k := c.calls[o.Call]
	if k == nil {
		return
	}
	q := c.queues[k.Queue]
	c.playWaiting(k, "cboffer", q.Callback.Prompt)
}

// acdStartCallback places the callback the router says is due: the agent
// first, then the customer.
func (c *Center) acdStartCallback(s routing.StartCallback) {
	if c.draining {
		c.acd.pending = append(c.acd.pending, routing.CallbackResult{Call: s.Call, Agent: s.Agent,
			Outcome: routing.CallbackAgentFailed, Why: routing.FailUnreachable})
		return
	}
	n := c.acd.cbSeq[s.Call] + 1
	c.acd.cbSeq[s.Call] = n
	id := sb.CallID(fmt.Sprintf("%s-cb%d", s.Call, n))
	k := c.newFirstCall(sb.Call{ID: id, Caller: s.Number, Called: "callback:" + string(s.Call), Queue: s.Queue, Agent: s.Agent},
		&agentFirst{routerCall: s.Call, number: s.Number, endpoint: c.trunkEndpoint(s.Number)})
	k.routerID = s.Call
	c.acd.callbacks[s.Call] = k
	c.log.Info("callback: ringing the agent", "call_id", id, "for", s.Call, "agent_id", s.Agent, "number", s.Number)
	c.firstRingAgent(k, s.Endpoint, fmt.Sprintf("%q <%s>", "Callback", s.Number))
}

// newFirstCall makes and registers an agent-first call (its agent not yet
// rung): callbacks and preview dials.
func (c *Center) newFirstCall(info sb.Call, f *agentFirst) *call {
	info.Node, info.State, info.Entered = c.pbx.Node(), sb.CallRinging, c.clock.Now()
	kind := agentfirst.Callback
	if f.ob != nil {
		kind = agentfirst.Preview
	}
	f.m = agentfirst.New(kind)
	k := &call{Call: info, exec: newSerial(c.runCtx, &c.cmdWG), life: lifecycle.New(), inBridge: map[sb.ChannelID]bool{}, first: f}
	c.seq++
	k.seq = c.seq
	c.calls[k.ID] = k
	c.active.Add(1)
	return k
}

// firstRingAgent rings the agent of an agent-first call.
func (c *Center) firstRingAgent(k *call, endpoint, callerID string) {
	k.first.agentEndpoint, k.first.callerID = endpoint, callerID
	c.stepFirst(k, agentfirst.Ring{})
}

// firstLeg is the channel of an agent-first call's leg.
func firstLeg(k *call, leg agentfirst.Leg) sb.ChannelID {
	if leg == agentfirst.AgentLeg {
		return k.agentCh
	}
	return sb.ChannelID(k.ID)
}

// stepFirst applies e to k's agent-first machine and carries out its
// commands.
func (c *Center) stepFirst(k *call, e agentfirst.Event) {
	f := k.first
	for _, cmd := range f.m.Step(e, c.clock.Now()) {
		switch cmd := cmd.(type) {
		case agentfirst.RingAgent:
			c.firstOriginateAgent(k)
		case agentfirst.DialCustomer:
			c.firstDialCustomer(k)
		case agentfirst.Hangup:
			c.hangupChannel(k, firstLeg(k, cmd.Leg))
		case agentfirst.Refuse:
			c.hangupOrphan(firstLeg(k, cmd.Leg))
		case agentfirst.ReportAnswered:
			if f.ob != nil {
				c.obd.Apply(f.ob, obcall.CustomerAnswered{})
				c.stepFirst(k, agentfirst.Accepted{})
				break
			}
			m := routing.CallbackResult{Call: f.routerCall, Agent: k.Agent, Outcome: routing.CallbackConnected}
			if err := ignored(c.acdApply(m), m); err != nil {
				c.log.Info("callback answered too late", "call_id", k.ID, "err", err)
				c.stepFirst(k, agentfirst.Rejected{Err: err})
				break
			}
			c.stepFirst(k, agentfirst.Accepted{})
		case agentfirst.CloseRequest:
			c.saveCallbackDone(f.routerCall, cmd.State)
		case agentfirst.Bridge:
			k.Answered = cmd.At
			ac := c.acdCall(k)
			ac.agent = k.Agent
			c.life(k, lifecycle.Routed{})
			c.seq++
			k.offerSeq = c.seq
			c.log.Info("callback: the customer answered", "call_id", k.ID, "agent_id", k.Agent)
			c.life(k, lifecycle.Connect{})
		case agentfirst.Forget:
			c.life(k, lifecycle.Forget{})
			k.State = sb.CallEnded
			delete(c.calls, k.ID)
			c.rec.Forget(k.ID)
			if c.acd.callbacks[f.routerCall] == k {
				delete(c.acd.callbacks, f.routerCall)
			}
			k.exec.close()
			c.active.Add(-1)
		case agentfirst.ReportPreview:
			// A preview dial that never connected: the agent is free again.
			c.log.Info("preview dial over", "call_id", k.ID, "outcome", cmd.Outcome)
			c.obd.Apply(f.ob, obcall.PreviewGone{Outcome: cmd.Outcome})
		case agentfirst.ReportCallback:
			c.log.Info("callback attempt over", "call_id", k.ID, "for", f.routerCall, "outcome", cmd.Outcome, "why", cmd.Why)
			c.acdApply(routing.CallbackResult{Call: f.routerCall, Agent: k.Agent, Outcome: cmd.Outcome, Why: cmd.Why})
		}
	}
}

// firstOriginateAgent originates the agent leg of an agent-first call.
func (c *Center) firstOriginateAgent(k *call) {
	k.attempts = 1
	k.agentCh = sb.ChannelID(fmt.Sprintf("%s-a1", k.ID))
	k.AgentChannel = k.agentCh
	c.byChannel[k.agentCh] = k
	c.life(k, lifecycle.AgentDialed{})
	vars := c.agentVars(k)
	vars["SB_CALLBACK_NUMBER"] = k.first.number
	if k.first.routerCall != "" {
		vars["SB_CALLBACK_FOR"] = string(k.first.routerCall)
	}
	req := sb.OriginateRequest{
		ID: k.agentCh, Endpoint: k.first.agentEndpoint, CallerID: k.first.callerID,
		Timeout: c.cfg.AgentRingTimeout, AppArgs: []string{argFirstAgent, string(k.ID)}, Variables: vars,
	}
	ch := k.agentCh
	c.originate(k, req, "agent-first originate failed", func() { c.firstGone(k, ch, 20) })
}

// firstDialCustomer: the agent answered; the customer is dialed from the
// agent's leg.
func (c *Center) firstDialCustomer(k *call) {
	f := k.first
	c.life(k, lifecycle.AgentUp{})
	c.seq++
	f.custSeq = c.seq
	c.byChannel[sb.ChannelID(k.ID)] = k
	req := sb.OriginateRequest{
		ID: sb.ChannelID(k.ID), Endpoint: f.endpoint, CallerID: c.cfg.CallbackCallerID,
		Timeout: c.cfg.CallbackRingTimeout, AppArgs: []string{argFirstCustomer, string(k.ID)},
		Originator: k.agentCh,
	}
	if f.ob != nil {
		d := f.ob.Dial()
		req.CallerID, req.Timeout = d.CallerID, d.RingTime
		req.Variables = obcall.LineVars(d.Campaign, d.Attempt)
	}
	c.log.Info("callback: the agent answered, dialing the customer", "call_id", k.ID, "endpoint", f.endpoint)
	c.originate(k, req, "callback customer originate failed", func() { c.firstGone(k, sb.ChannelID(k.ID), 38) })
}

// firstEntered: a leg of an agent-first call entered the application.
func (c *Center) firstEntered(ch sb.ChannelInfo, args []string) {
	k := c.calls[sb.CallID(args[1])]
	if k == nil || k.first == nil || k.life.Over() {
		c.hangupOrphan(ch.ID)
		return
	}
	switch {
	case args[0] == argFirstAgent && ch.ID == k.agentCh:
		c.stepFirst(k, agentfirst.AgentEntered{})
	case args[0] == argFirstCustomer && ch.ID == sb.ChannelID(k.ID):
		c.stepFirst(k, agentfirst.CustomerEntered{})
	default:
		c.hangupOrphan(ch.ID)
	}
}

// firstGone: a leg of an agent-first call that is not connected yet is
// gone (cause is its hang-up cause).
func (c *Center) firstGone(k *call, ch sb.ChannelID, cause int) {
	switch ch {
	case k.agentCh:
		if k.life.AgentGone() {
			return
		}
		c.life(k, lifecycle.AgentGone{Placing: true})
		delete(c.byChannel, ch)
		c.stepFirst(k, agentfirst.AgentGone{Why: routing.FailReasonOf(cause)})
	case sb.ChannelID(k.ID):
		if k.life.CallerGone() {
			return
		}
		c.life(k, lifecycle.CallerGone{Placing: true})
		delete(c.byChannel, ch)
		if k.first.m.Result() == agentfirst.ResultNone {
			c.log.Info("callback: the customer did not answer", "call_id", k.ID, "cause", cause)
		}
		c.stepFirst(k, agentfirst.CustomerGone{Cause: cause})
	}
}

// firstCancel: the router withdrew a callback it had started (its dial
// timeout passed): both legs are hung up and nothing is reported.
func (c *Center) firstCancel(routerCall sb.CallID) bool {
	k := c.acd.callbacks[routerCall]
	if k == nil || !k.first.m.Pending() {
		return false
	}
	c.stepFirst(k, agentfirst.Cancel{})
	return true
}

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

// CallbackStore keeps callback requests so that a restart does not lose
// them (their place in the queue included).
type CallbackStore interface {
	SaveCallback(ctx context.Context, cb sb.PendingCallback) error
	CallbackDone(ctx context.Context, call sb.CallID, state string, at time.Time) error
	PendingCallbacks(ctx context.Context) ([]sb.PendingCallback, error)
}

func (c *Center) saveCallback(k *call, number string) {
	c.acd.pendingCB[k.ID] = true
	store := c.acd.cbStore
	if store == nil {
		return
	}
	cb := sb.PendingCallback{Call: k.ID, Queue: k.Queue, Number: number, Priority: k.priority, EnteredAt: k.enqueuedAt}
	c.persist(func(ctx context.Context) error { return store.SaveCallback(ctx, cb) }, func(err error) {
		c.log.Error("callback request not stored: it is lost if Switchboard restarts before it is made", "call_id", cb.Call, "err", err)
	})
}

// saveCallbackDone closes a callback request: state connected, or why it
// was given up.
func (c *Center) saveCallbackDone(id sb.CallID, state string) {
	if !c.acd.pendingCB[id] {
		return
	}
	delete(c.acd.pendingCB, id)
	store := c.acd.cbStore
	if store == nil {
		return
	}
	at := c.clock.Now()
	c.persist(func(ctx context.Context) error { return store.CallbackDone(ctx, id, state, at) }, func(err error) {
		c.log.Error("callback state not stored", "call_id", id, "state", state, "err", err)
	})
}

// restoreCallbacks puts the stored pending requests back in their queues
// (Run start), each at the place its caller's arrival gives it.
func (c *Center) restoreCallbacks() {
	store := c.acd.cbStore
	if store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	list, err := store.PendingCallbacks(ctx)
	cancel()
	if err != nil {
		c.log.Error("pending callbacks not read", "err", err)
		return
	}
	for _, cb := range list {
		c.acd.pendingCB[cb.Call] = true
		m := routing.Enqueue{Call: cb.Call, Queue: cb.Queue, Priority: cb.Priority, EnteredAt: cb.EnteredAt,
			Caller: cb.Number, CallbackNumber: cb.Number}
		if err := ignored(c.acdApply(m), m); err != nil {
			c.log.Warn("pending callback not restored", "call_id", cb.Call, "err", err)
			c.saveCallbackDone(cb.Call, "lost: "+err.Error())
			continue
		}
		c.log.Info("pending callback restored", "call_id", cb.Call, "queue", cb.Queue, "number", cb.Number)
	}
}

// trunkEndpoint is the endpoint that dials an external number.
func (c *Center) trunkEndpoint(number string) string {
	tmpl := c.ivr.TrunkTemplate
	if tmpl == "" {
		tmpl = DefaultTrunkTemplate
	}
	return strings.ReplaceAll(tmpl, "${number}", number)
}
