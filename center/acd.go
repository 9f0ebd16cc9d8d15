package center

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/routing"
)

// QueueLogger receives the router's queue_log lines (a *queuelog.Writer).
type QueueLogger interface {
	Write(e queuelog.Event) error
}

var _ QueueLogger = (*queuelog.Writer)(nil)

// acd is the center's side of the router: the agent legs it rang and what
// it told the router about each call. Owned by the Run goroutine, except
// states (mu), which the API may read.
//
// An agent leg is "ringing" from its originate until it enters the
// application (it then becomes the call's agent channel and the
// skeleton's bridge and hang-up logic take over) or is destroyed (an
// OfferFailed, unless the router cancelled it first).
type acd struct {
	qlog     QueueLogger
	defQueue sb.QueueName
	legs     map[sb.ChannelID]*acdLeg
	calls    map[sb.CallID]*acdCall
	endpoint map[string]sb.AgentID // lower-cased endpoint -> agent

	pending  []routing.Msg // messages raised while carrying out actions
	applying bool
	wakeAt   time.Time
	stopWake func() bool
	wakeGen  uint64

	mu     sync.Mutex
	states map[sb.AgentID]routing.AgentState
}

// acdCall is the center's side of the router's conversation about a
// call: the agent it connected and the legs ringing for it. What the
// router was told (queued, connected, ended, exited, a callback) is the
// call's lifecycle.Routing.
type acdCall struct {
	agent sb.AgentID
	legs  map[sb.AgentID]sb.ChannelID // ringing legs
}

// acdLeg is one ringing agent leg.
type acdLeg struct {
	call      *call
	agent     sb.AgentID
	causes    sb.LegCause // why it ends: Dial status, hang-up request
	cancelled bool        // hung up by us: the router needs no OfferFailed
}

// newACD is the center's side of router r, its queue_log lines going to
// qlog (nil: none).
func newACD(r *routing.Router, qlog QueueLogger, now time.Time) *acd {
	a := &acd{
		qlog:     qlog,
		legs:     map[sb.ChannelID]*acdLeg{},
		calls:    map[sb.CallID]*acdCall{},
		endpoint: map[string]sb.AgentID{},
		states:   map[sb.AgentID]routing.AgentState{},
	}
	snap := r.Snapshot(now)
	if len(snap.Queues) > 0 {
		a.defQueue = snap.Queues[0].Queue
	}
	for _, ag := range snap.Agents {
		if cfg, ok := r.Agent(ag.Agent); ok && cfg.Endpoint != "" {
			a.endpoint[strings.ToLower(cfg.Endpoint)] = cfg.ID
		}
	}
	return a
}

// AgentStates returns the last state the router reported for each agent.
func (c *Center) AgentStates() map[sb.AgentID]routing.AgentState {
	c.acd.mu.Lock()
	defer c.acd.mu.Unlock()
	out := make(map[sb.AgentID]routing.AgentState, len(c.acd.states))
	for id, s := range c.acd.states {
		out[id] = s
	}
	return out
}

// AgentLogin logs an agent in.
func (c *Center) AgentLogin(ctx context.Context, id sb.AgentID) error {
	return c.agentCommand(ctx, routing.AgentLogin{Agent: id})
}

// AgentLogout logs an agent out.
func (c *Center) AgentLogout(ctx context.Context, id sb.AgentID) error {
	return c.agentCommand(ctx, routing.AgentLogout{Agent: id})
}

// AgentPause pauses an agent with a reason code.
func (c *Center) AgentPause(ctx context.Context, id sb.AgentID, reason string) error {
	return c.agentCommand(ctx, routing.AgentPause{Agent: id, Reason: reason})
}

// AgentReady unpauses an agent and ends a wrap-up early.
func (c *Center) AgentReady(ctx context.Context, id sb.AgentID) error {
	return c.agentCommand(ctx, routing.AgentReady{Agent: id})
}

// agentCommand applies m on the owner goroutine; a message the router
// ignored is an error.
func (c *Center) agentCommand(ctx context.Context, m routing.Msg) error {
	if !c.running.Load() {
		return sb.Errorf(sb.EUNAVAILABLE, "the call center is not running")
	}
	return c.onLoop(ctx, func() error { return ignored(c.acdApply(m), m) })
}

// ignored is the router's refusal of m among acts (routing.Refused), as
// an error.
func ignored(acts []routing.Action, m routing.Msg) error {
	if why, refused := routing.Refused(acts, m); refused {
		return sb.Errorf(sb.ECONFLICT, "%s", why)
	}
	return nil
}

// acdStart logs in the configured agents (Run start).
func (c *Center) acdStart() {
	for _, a := range c.cfg.Agents {
		m := routing.AgentLogin{Agent: a.ID}
		if err := ignored(c.acdApply(m), m); err != nil {
			c.log.Warn("agent login at start", "agent_id", a.ID, "err", err)
		}
	}
}

func (c *Center) acdStop() {
	if c.acd.stopWake != nil {
		c.acd.stopWake()
		c.acd.stopWake = nil
	}
}

// acdApply gives m to the router, carries out the actions and re-arms
// the wake-up timer. It returns m's own actions. Messages raised while
// carrying them out are applied after, in order.
func (c *Center) acdApply(m routing.Msg) []routing.Action {
	a := c.acd
	now := c.clock.Now()
	acts := c.router.Apply(m, now)
	if a.applying {
		// Never re-entered in practice; kept safe all the same.
		c.acdActions(acts)
		return acts
	}
	a.applying = true
	c.acdActions(acts)
	for len(a.pending) > 0 {
		next := a.pending[0]
		a.pending = a.pending[1:]
		c.acdActions(c.router.Apply(next, c.clock.Now()))
	}
	a.applying = false
	c.obd.RouterSettled()
	c.acdArm()
	return acts
}

// acdArm keeps one clock timer for the router's next wake-up.
func (c *Center) acdArm() {
	a := c.acd
	at := c.router.NextWake()
	if at.Equal(a.wakeAt) && (a.stopWake != nil || at.IsZero()) {
		return
	}
	if a.stopWake != nil {
		a.stopWake()
		a.stopWake = nil
	}
	a.wakeAt = at
	a.wakeGen++
	if at.IsZero() {
		return
	}
	gen := a.wakeGen
	d := max(at.Sub(c.clock.Now()), 0)
	a.stopWake = c.after(d, func() {
		if gen != a.wakeGen {
			return
		}
		a.stopWake, a.wakeAt = nil, time.Time{}
		c.acdApply(routing.Tick{})
	})
}

func (c *Center) acdCall(k *call) *acdCall {
	ac := c.acd.calls[k.ID]
	if ac == nil {
		ac = &acdCall{legs: map[sb.AgentID]sb.ChannelID{}}
		c.acd.calls[k.ID] = ac
	}
	return ac
}

// acdActions carries out the router's actions.
func (c *Center) acdActions(acts []routing.Action) {
	for _, act := range acts {
		switch a := act.(type) {
		case routing.Offer:
			c.acdOffer(a)
		case routing.CancelOffer:
			c.acdCancel(a)
		case routing.Queued:
			c.acdQueued(a)
		case routing.Exit:
			c.acdExit(a)
		case routing.Announce:
			c.acdAnnounce(a)
		case routing.AgentState:
			c.acd.mu.Lock()
			c.acd.states[a.Agent] = a
			c.acd.mu.Unlock()
			c.obd.AgentChanged() // an agent to hold, or a hold ended
			if save := c.agentHistory; save != nil {
				st, at := a, c.clock.Now()
				c.persist(func(ctx context.Context) error { return save(ctx, st, at) }, func(err error) {
					c.log.Error("agent state history not written", "agent_id", st.Agent, "err", err)
				})
			}
			c.log.Debug("agent state", "agent_id", a.Agent, "state", a.State, "reason", a.Reason, "call_id", a.Call)
		case routing.QueueLog:
			if c.acd.qlog != nil {
				ev := queuelog.Event{Time: a.Time, CallID: string(a.CallID), Queue: string(a.Queue),
					Agent: string(a.Agent), Event: a.Event, Data: a.Data}
				if err := c.acd.qlog.Write(ev); err != nil {
					c.log.Warn("queue_log write", "call_id", a.CallID, "event", a.Event, "err", err)
				}
			}
		case routing.Ignored:
			c.log.Debug("router ignored a message", "msg", fmt.Sprintf("%T", a.Msg), "why", a.Why)
		case routing.OfferCallback:
			c.acdOfferCallback(a)
		case routing.StartCallback:
			c.first.Start(a)
		}
	}
}

// PreferredAgentVar is the flow variable naming the agent a queued call is
// offered to first (for the queue's preferred wait).
const PreferredAgentVar = "preferred_agent"

// LastAgentFunc finds the agent a caller last talked to in a queue (""
// any queue) since a time: the returning-caller preference.
type LastAgentFunc func(ctx context.Context, caller, queue string, since time.Time) (agent string, ok bool, err error)

// lastAgentTimeout bounds the returning-caller lookup: a slow database
// must not keep a caller from the queue.
const lastAgentTimeout = 500 * time.Millisecond

// acdHunt enqueues the call in the router once. A flow that found the
// caller's account owner (a CRM lookup) names the preferred agent in the
// variable preferred_agent; otherwise a queue with a returning-caller
// window prefers the agent the caller last talked to.
func (c *Center) acdHunt(k *call) {
	if !k.life.Live() {
		return
	}
	c.acdCall(k)
	if k.life.Routing() != lifecycle.RouteNone {
		return
	}
	c.life(k, lifecycle.Enqueued{})
	k.State = sb.CallPrompting
	if k.Queue == "" {
		k.Queue = c.acd.defQueue
	}
	k.priority = max(k.priority, c.cfg.VIP[k.Caller])
	var preferred sb.AgentID
	preferred = sb.AgentID(c.flows.Vars(k.ID)[PreferredAgentVar])
	since, look := routing.ReturningCaller(preferred, c.queues[k.Queue], k.Caller, c.clock.Now())
	if !look || c.lastAgent == nil {
		c.acdEnqueue(k, preferred)
		return
	}
	find, caller, queue := c.lastAgent, k.Caller, string(k.Queue)
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), lastAgentTimeout)
		agent, ok, err := find(ctx, caller, queue, since)
		cancel()
		if err != nil {
			c.log.Warn("returning-caller lookup failed; the queue's strategy serves the call", "call_id", k.ID, "err", err)
		}
		if !ok {
			agent = ""
		}
		c.post(func() { c.acdEnqueue(k, sb.AgentID(agent)) })
	}()
}

// acdEnqueue gives the call to the router, unless it ended meanwhile.
func (c *Center) acdEnqueue(k *call, preferred sb.AgentID) {
	if !k.life.Live() {
		return
	}
	c.log.Debug("call enqueued", "call_id", k.ID, "queue", k.Queue, "priority", k.priority, "skills", k.skills, "preferred_agent", preferred)
	k.enqueuedAt = c.clock.Now()
	c.acdApply(routing.Enqueue{Call: k.ID, Queue: k.Queue, Priority: k.priority,
		EnteredAt: k.enqueuedAt, Caller: k.Caller, Preferred: preferred, Skills: k.skills})
}

func (c *Center) acdOffer(o routing.Offer) {
	k := c.calls[o.Call]
	if k == nil || k.life.Over() || k.life.CallerGone() {
		for _, ag := range o.Agents {
			c.acd.pending = append(c.acd.pending, routing.OfferFailed{Call: o.Call, Agent: ag, Why: routing.FailUnreachable})
		}
		return
	}
	ac := c.acdCall(k)
	k.State = sb.CallRinging
	callerID := c.cfg.AgentCallerID
	if callerID == "" {
		callerID = fmt.Sprintf("%q <%s>", k.CallerName, k.Caller)
	}
	for i, ag := range o.Agents {
		k.attempts++
		ch := sb.ChannelID(fmt.Sprintf("%s-a%d", k.ID, k.attempts))
		c.acd.legs[ch] = &acdLeg{call: k, agent: ag}
		ac.legs[ag] = ch
		c.byChannel[ch] = k
		req := sb.OriginateRequest{
			ID: ch, Endpoint: o.Endpoints[i], CallerID: callerID,
			Timeout: o.Timeout, AppArgs: []string{argAgent, string(k.ID)},
			Originator: sb.ChannelID(k.ID), Variables: c.agentVars(k),
		}
		c.log.Debug("offering call", "call_id", k.ID, "agent_id", ag, "channel_id", ch, "queue", o.Queue)
		c.originate(k, req, "agent originate failed", func() {
			if c.acd.legs[ch] != nil {
				c.acdLegGone(ch, 20)
			}
		}, "agent_id", ag)
	}
}

func (c *Center) acdCancel(o routing.CancelOffer) {
	ac := c.acd.calls[o.Call]
	if ac == nil {
		if c.first.Cancel(o.Call) {
			c.log.Info("callback withdrawn", "call_id", o.Call, "agent_id", o.Agent, "reason", o.Reason)
		}
		return
	}
	ch, ok := ac.legs[o.Agent]
	if !ok {
		return
	}
	leg := c.acd.legs[ch]
	if leg == nil || leg.cancelled {
		return
	}
	leg.cancelled = true
	c.log.Info("offer cancelled", "call_id", o.Call, "agent_id", o.Agent, "channel_id", ch, "reason", o.Reason)
	c.hangupLeg(leg.call, ch)
}

func (c *Center) acdQueued(q routing.Queued) {
	k := c.calls[q.Call]
	if k == nil || k.life.Over() || k.life.CallerGone() || k.life.MOH() {
		return
	}
	k.mohClass = q.MusicClass
	c.life(k, lifecycle.Queued{})
}

// startMOH starts the queue's music (lifecycle.StartMOH).
func (c *Center) startMOH(k *call) {
	c.moh(k, k.mohClass, true)
}

// ExitHangup is the exit target that hangs the caller up at once (no
// prompt); routing.Exit.To says where each target goes.
const ExitHangup = routing.ExitHangup

// acdExit: the caller leaves the queue without an agent, to the exit's
// target.
func (c *Center) acdExit(x routing.Exit) {
	c.first.Done(x.Call, "given up: "+string(x.Reason))
	k := c.calls[x.Call]
	if k == nil || k.life.Over() || k.life.CallerGone() {
		return
	}
	if k.ob != nil {
		// A campaign call no agent can take: abandoned at once.
		c.obd.Apply(k.ob, obcall.QueueExit{})
		return
	}
	c.acdCall(k)
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
		delete(c.acd.calls, k.ID)
		c.life(k, lifecycle.LeftQueue{})
		k.State = sb.CallIVR
	})
	if err != nil {
		c.log.Error("queue exit target is no flow; the caller hears the no-agent prompt", "call_id", k.ID, "target", flow, "err", err)
		c.giveUp(k)
	}
}

// stopMOH stops the caller's music (lifecycle.StopMOH).
func (c *Center) stopMOH(k *call) {
	c.moh(k, "", false)
}

// acdEvent handles the events of ringing agent legs; it returns false for
// the events the skeleton handles.
func (c *Center) acdEvent(e sb.Event) bool {
	switch e := e.(type) {
	case sb.ChannelEntered:
		leg := c.acd.legs[e.Channel.ID]
		if leg == nil {
			return false
		}
		c.acdAnswered(e.Channel.ID, leg)
		return true
	case sb.DialResult, sb.HangupRequested:
		if leg := c.acd.legs[sb.ChannelOf(e)]; leg != nil {
			return leg.causes.Note(e)
		}
	case sb.ChannelLeft:
		return c.acd.legs[e.Channel.ID] != nil // originated: the destroy follows
	case sb.ChannelDestroyed:
		if leg := c.acd.legs[e.Channel.ID]; leg != nil {
			c.acdLegGone(e.Channel.ID, leg.causes.At(e.Cause))
			return true
		}
	}
	return false
}

// acdAnswered: an agent leg entered the application. The first one
// becomes the call's agent channel; any other is hung up.
func (c *Center) acdAnswered(ch sb.ChannelID, leg *acdLeg) {
	k := leg.call
	ac := c.acd.calls[k.ID]
	if leg.cancelled || k.life.Over() || k.life.CallerGone() || ac == nil || k.life.RouterConnected() || (k.agentCh != "" && !k.life.AgentGone()) {
		leg.cancelled = true
		c.hangupLeg(k, ch)
		return
	}
	m := routing.OfferAnswered{Call: k.ID, Agent: leg.agent, Channel: ch}
	if err := ignored(c.acdApply(m), m); err != nil {
		// Too late: the router took the offer back.
		c.log.Info("agent answered too late", "call_id", k.ID, "agent_id", leg.agent, "err", err)
		leg.cancelled = true
		c.hangupLeg(k, ch)
		return
	}
	delete(c.acd.legs, ch)
	delete(ac.legs, leg.agent)
	ac.agent = leg.agent
	c.life(k, lifecycle.Routed{})
	c.seq++
	k.offerSeq = c.seq
	k.agentCh, k.AgentChannel, k.Agent = ch, ch, leg.agent
	c.life(k, lifecycle.AgentAnswered{})
}

// hangupLeg hangs up an agent leg. A leg the PBX no longer knows (its
// destroy event lost in a reconnect) is taken as gone, so that the call
// does not wait for it forever.
func (c *Center) hangupLeg(k *call, ch sb.ChannelID) {
	if k.life.Over() {
		c.hangupOrphan(ch)
		return
	}
	c.settle(k, "hangup", []any{"call_id", k.ID, "channel_id", ch}, c.hangupOp(ch), func(err error) {
		if sb.ErrorCode(err) == sb.ENOTFOUND && c.acd.legs[ch] != nil {
			c.acdLegGone(ch, 0)
		}
	})
}

// acdLegGone: a ringing agent leg is gone without answering.
func (c *Center) acdLegGone(ch sb.ChannelID, cause int) {
	leg := c.acd.legs[ch]
	delete(c.acd.legs, ch)
	k := leg.call
	if c.byChannel[ch] == k {
		delete(c.byChannel, ch)
	}
	ac := c.acd.calls[k.ID]
	if ac != nil && ac.legs[leg.agent] == ch {
		delete(ac.legs, leg.agent)
	}
	if !leg.cancelled && ac != nil && !k.life.RouterConnected() {
		why := routing.FailReasonOf(cause)
		c.log.Info("offer failed", "call_id", k.ID, "agent_id", leg.agent, "channel_id", ch, "why", why, "cause", cause)
		c.acdApply(routing.OfferFailed{Call: k.ID, Agent: leg.agent, Why: why})
	}
	if ac != nil && len(ac.legs) == 0 && !k.life.RouterConnected() && k.State == sb.CallRinging && !k.life.CallerGone() {
		k.State = sb.CallPrompting
	}
	c.maybeFinish(k)
}

// acdReportEnded tells the router the connected call ended
// (lifecycle.ReportEnded).
func (c *Center) acdReportEnded(k *call, byAgent bool) {
	agent := k.Agent
	if ac := c.acd.calls[k.ID]; ac != nil {
		agent = ac.agent
	}
	c.acdApply(routing.CallEnded{Call: rid(k), Agent: agent, ByAgent: byAgent})
}

// acdCancelLegs hangs up the agent legs still ringing for the call.
func (c *Center) acdCancelLegs(k *call, ac *acdCall) {
	for _, ch := range ac.legs {
		if leg := c.acd.legs[ch]; leg != nil && !leg.cancelled {
			leg.cancelled = true
			c.hangupLeg(k, ch)
		}
	}
}

// acdEndpoint reports an agent's phone reachable or not.
func (c *Center) acdEndpoint(st sb.EndpointState) {
	id, ok := c.acd.endpoint[strings.ToLower(st.Endpoint)]
	if !ok {
		return
	}
	c.acdApply(routing.EndpointReachable{Agent: id, Reachable: st.State != "offline"})
}

// RoutingSnapshot copies the router's agents and queues with their live
// statistics.
func (c *Center) RoutingSnapshot(ctx context.Context) (routing.Snapshot, error) {
	var snap routing.Snapshot
	err := c.onLoop(ctx, func() error {
		snap = c.router.Snapshot(c.clock.Now())
		return nil
	})
	return snap, err
}

// acdAnnounce plays the announcement between two stretches of music on
// hold: the music stops, the prompt plays, the music goes on.
func (c *Center) acdAnnounce(a routing.Announce) {
	c.playWaiting(c.calls[a.Call], "ann", a.Media())
}

// announced puts the music back on after an announcement; it reports
// whether pb was one.
func (c *Center) announced(pb sb.PlaybackID) bool {
	k, ok := c.announcements[pb]
	if !ok {
		return false
	}
	delete(c.announcements, pb)
	if k.life.Over() || k.life.CallerGone() || !k.life.MOH() || k.State == sb.CallBridged {
		return true
	}
	c.moh(k, k.mohClass, true)
	return true
}
