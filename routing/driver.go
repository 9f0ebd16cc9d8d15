package routing

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/queuelog"
)

// The engine side of the router: Driver gives the Router the messages the
// engine's calls and agents raise (a call to enqueue, an agent leg that
// answered or failed, a phone gone offline, an agent's login), carries out
// the actions it returns (ringing agent legs, cancelling them, music on
// hold, announcements, the exits, the queue_log lines, the agents'
// states) and keeps the router's one wake-up timer. What touches a call's
// course (its lifecycle, its channels) it asks of the engine's Host.
//
// An agent leg is "ringing" from its originate until it enters the
// application (it then becomes the call's agent channel and the engine's
// bridge and hang-up logic take over) or is destroyed (an OfferFailed,
// unless the router cancelled it first).

// QueueLogger receives the router's queue_log lines (a *queuelog.Writer).
type QueueLogger interface {
	Write(e queuelog.Event) error
}

var _ QueueLogger = (*queuelog.Writer)(nil)

// PreferredAgentVar is the flow variable naming the agent a queued call is
// offered to first (for the queue's preferred wait).
const PreferredAgentVar = "preferred_agent"

// LastAgentFunc finds the agent a caller last talked to in a queue (""
// any queue) since a time: the returning-caller preference.
type LastAgentFunc func(ctx context.Context, caller, queue string, since time.Time) (agent string, ok bool, err error)

// lastAgentTimeout bounds the returning-caller lookup: a slow database
// must not keep a caller from the queue.
const lastAgentTimeout = 500 * time.Millisecond

// CallInfo is what the engine says of a call it gives the router.
type CallInfo struct {
	Queue     sb.QueueName
	Priority  int
	Caller    string
	Skills    map[string]string
	Preferred sb.AgentID // the flow's PreferredAgentVar (Host.Hunting)
}

// PBX is what the driver does on the PBX itself: the prompts played to a
// waiting caller between two stretches of music on hold.
type PBX interface {
	Play(ctx context.Context, ch sb.ChannelID, id sb.PlaybackID, media ...string) error
	MusicOnHold(ctx context.Context, ch sb.ChannelID, class string, on bool) error
}

var _ PBX = sb.PBX(nil)

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine (Logger from any).
type Host interface {
	Logger() *slog.Logger
	Now() time.Time
	// Running reports whether the engine's owner goroutine runs.
	Running() bool
	// OnLoop runs f on the owner goroutine and returns its error.
	OnLoop(ctx context.Context, f func() error) error
	// Post runs f on the owner goroutine (from any goroutine).
	Post(f func()) bool
	// After runs f on the owner goroutine once d has passed; stop cancels.
	After(d time.Duration, f func()) (stop func() bool)
	// Off runs work off the owner goroutine, then then on it.
	Off(work func(), then func())
	// Do runs f on the call's executor, in order with its other commands.
	Do(call sb.CallID, f func(ctx context.Context))
	// Persist writes to the database off the owner goroutine.
	Persist(write func(ctx context.Context) error, failed func(error))

	// RouterSettled: the router's actions (and the messages they raised)
	// are carried out. AgentChanged: an agent's state changed.
	RouterSettled()
	AgentChanged()
	// StartCallback places the callback the router says is due;
	// WithdrawCallback takes back one not connected yet (false: no such
	// callback); CallbackDone closes the request a caller's exit ends.
	StartCallback(a StartCallback)
	WithdrawCallback(call sb.CallID) bool
	CallbackDone(call sb.CallID, why string)

	// Huntable reports whether call is live (it may be given to the
	// router).
	Huntable(call sb.CallID) bool
	// Hunting marks call enqueued (in the default queue defQueue when it
	// names none) and says what the router is to know of it; ok is false
	// when the router was told of it already.
	Hunting(call sb.CallID, defQueue sb.QueueName) (CallInfo, bool)
	// Prioritize raises the call's priority to p.
	Prioritize(call sb.CallID, p int)
	// Entering notes that the router gets call at at; ok is false when
	// the call ended meanwhile.
	Entering(call sb.CallID, at time.Time) (CallInfo, bool)
	// WaitQueued: the router queued the call; its music is class.
	WaitQueued(call sb.CallID, class string)
	// Ringing marks call ringing for an offer; false: the call (or its
	// caller) is gone.
	Ringing(call sb.CallID) bool
	// NextOfferLeg numbers call's next agent leg and claims its channel.
	NextOfferLeg(call sb.CallID) sb.ChannelID
	// RingOffer originates agent leg ch of call to endpoint; gone runs if
	// the PBX refused it.
	RingOffer(call sb.CallID, agent sb.AgentID, ch sb.ChannelID, endpoint string, timeout time.Duration, queue sb.QueueName, gone func())
	// HangupOffer hangs up agent leg ch of call; notFound runs if the PBX
	// no longer knows it.
	HangupOffer(call sb.CallID, ch sb.ChannelID, notFound func())
	// ReleaseOffer forgets agent leg ch of call.
	ReleaseOffer(call sb.CallID, ch sb.ChannelID)
	// Connectable reports whether an agent leg that answered may become
	// call's agent channel.
	Connectable(call sb.CallID) bool
	// AgentConnected makes ch, agent's answered leg, the call's agent
	// channel.
	AgentConnected(call sb.CallID, agent sb.AgentID, ch sb.ChannelID)
	// RouterConnected reports whether the router connected call.
	RouterConnected(call sb.CallID) bool
	// RingingOver: no offer rings for call any more.
	RingingOver(call sb.CallID)
	// MaybeFinish closes call if nothing is left of it.
	MaybeFinish(call sb.CallID)
	// Exiting reports whether call leaves the queue to an exit target
	// (false: it is gone, or a campaign call, abandoned).
	Exiting(call sb.CallID) bool
	// ExitQueue sends call to x's target.
	ExitQueue(call sb.CallID, x Exit)
	// PromptSeq numbers the next prompt played to waiting call and says
	// whether its music plays; ok is false when no prompt may play.
	PromptSeq(call sb.CallID) (seq int, moh bool, ok bool)
	// QueueOf is the call's queue.
	QueueOf(call sb.CallID) (sb.QueueName, bool)
	// ResumeMOH puts the music back on for a waiting call.
	ResumeMOH(call sb.CallID)
}

// DriverOptions are what the driver routes with.
type DriverOptions struct {
	// QueueLog gets the router's queue_log lines (nil: none).
	QueueLog QueueLogger
	// Agents are logged in at Start.
	Agents []sb.Agent
	// Queues give each queue's returning-caller window and callback
	// offer.
	Queues []sb.Queue
	// VIP gives callers (by number) a queue priority.
	VIP map[string]int
	// LastAgent finds a returning caller's last agent (nil: none).
	LastAgent LastAgentFunc
	// AgentHistory keeps every agent state change, off the owner
	// goroutine (nil: not kept).
	AgentHistory func(ctx context.Context, s AgentState, at time.Time) error
}

// Driver is the engine's side of the router: the agent legs it rang and
// what it told the router about each call. Owned by the engine's owner
// goroutine, except states (mu), which the API may read.
type Driver struct {
	h        Host
	pbx      PBX
	r        *Router
	o        DriverOptions
	queues   map[sb.QueueName]sb.Queue
	defQueue sb.QueueName
	legs     map[sb.ChannelID]*offerLeg
	calls    map[sb.CallID]*routed
	endpoint map[string]sb.AgentID // lower-cased endpoint -> agent

	pending  []Msg // messages raised while carrying out actions
	applying bool
	wakeAt   time.Time
	stopWake func() bool
	wakeGen  uint64

	announcements map[sb.PlaybackID]sb.CallID // queue position/wait announcements playing

	mu     sync.Mutex
	states map[sb.AgentID]AgentState
}

// routed is the driver's side of the router's conversation about a call:
// the agent it connected and the legs ringing for it. What the router
// was told (queued, connected, ended, exited, a callback) is the call's
// lifecycle, in the engine.
type routed struct {
	agent sb.AgentID
	legs  map[sb.AgentID]sb.ChannelID // ringing legs
}

// offerLeg is one ringing agent leg.
type offerLeg struct {
	call      sb.CallID
	agent     sb.AgentID
	causes    sb.LegCause // why it ends: Dial status, hang-up request
	cancelled bool        // hung up by us: the router needs no OfferFailed
}

// NewDriver is the engine's side of router r.
func NewDriver(h Host, pbx PBX, r *Router, o DriverOptions) *Driver {
	d := &Driver{
		h: h, pbx: pbx, r: r, o: o,
		queues:        map[sb.QueueName]sb.Queue{},
		legs:          map[sb.ChannelID]*offerLeg{},
		calls:         map[sb.CallID]*routed{},
		endpoint:      map[string]sb.AgentID{},
		announcements: map[sb.PlaybackID]sb.CallID{},
		states:        map[sb.AgentID]AgentState{},
	}
	for _, q := range o.Queues {
		d.queues[q.Name] = q
	}
	snap := r.Snapshot(h.Now())
	if len(snap.Queues) > 0 {
		d.defQueue = snap.Queues[0].Queue
	}
	for _, ag := range snap.Agents {
		if cfg, ok := r.Agent(ag.Agent); ok && cfg.Endpoint != "" {
			d.endpoint[strings.ToLower(cfg.Endpoint)] = cfg.ID
		}
	}
	return d
}

// AgentStates returns the last state the router reported for each agent
// (a copy: from any goroutine).
func (d *Driver) AgentStates() map[sb.AgentID]AgentState {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[sb.AgentID]AgentState, len(d.states))
	for id, s := range d.states {
		out[id] = s
	}
	return out
}

// LiveStates is the router's view of each agent: the live map, for the
// owner goroutine.
func (d *Driver) LiveStates() map[sb.AgentID]AgentState { return d.states }

// Command applies m on the owner goroutine (from any goroutine); a
// message the router ignored is an error.
func (d *Driver) Command(ctx context.Context, m Msg) error {
	if !d.h.Running() {
		return sb.Errorf(sb.EUNAVAILABLE, "the call center is not running")
	}
	return d.h.OnLoop(ctx, func() error { return d.Route(m) })
}

// Route applies m; an error says the router refused it.
func (d *Driver) Route(m Msg) error { return ignored(d.Apply(m), m) }

// ignored is the router's refusal of m among acts (Refused), as an error.
func ignored(acts []Action, m Msg) error {
	if why, refused := Refused(acts, m); refused {
		return sb.Errorf(sb.ECONFLICT, "%s", why)
	}
	return nil
}

// Start logs in the configured agents (the engine's start).
func (d *Driver) Start() {
	for _, a := range d.o.Agents {
		m := AgentLogin{Agent: a.ID}
		if err := d.Route(m); err != nil {
			d.h.Logger().Warn("agent login at start", "agent_id", a.ID, "err", err)
		}
	}
}

// Stop stops the wake-up timer.
func (d *Driver) Stop() {
	if d.stopWake != nil {
		d.stopWake()
		d.stopWake = nil
	}
}

// Applying reports whether the router's actions are being carried out.
func (d *Driver) Applying() bool { return d.applying }

// Defer has m applied once the actions being carried out are done.
func (d *Driver) Defer(m Msg) { d.pending = append(d.pending, m) }

// Apply gives m to the router, carries out the actions and re-arms the
// wake-up timer. It returns m's own actions. Messages raised while
// carrying them out are applied after, in order.
func (d *Driver) Apply(m Msg) []Action {
	acts := d.r.Apply(m, d.h.Now())
	if d.applying {
		// Never re-entered in practice; kept safe all the same.
		d.actions(acts)
		return acts
	}
	d.applying = true
	d.actions(acts)
	for len(d.pending) > 0 {
		next := d.pending[0]
		d.pending = d.pending[1:]
		d.actions(d.r.Apply(next, d.h.Now()))
	}
	d.applying = false
	d.h.RouterSettled()
	d.arm()
	return acts
}

// arm keeps one timer for the router's next wake-up.
func (d *Driver) arm() {
	at := d.r.NextWake()
	if at.Equal(d.wakeAt) && (d.stopWake != nil || at.IsZero()) {
		return
	}
	if d.stopWake != nil {
		d.stopWake()
		d.stopWake = nil
	}
	d.wakeAt = at
	d.wakeGen++
	if at.IsZero() {
		return
	}
	gen := d.wakeGen
	wait := max(at.Sub(d.h.Now()), 0)
	d.stopWake = d.h.After(wait, func() {
		if gen != d.wakeGen {
			return
		}
		d.stopWake, d.wakeAt = nil, time.Time{}
		d.Apply(Tick{})
	})
}

// entry is the driver's side of call, made on first use.
func (d *Driver) entry(call sb.CallID) *routed {
	rc := d.calls[call]
	if rc == nil {
		rc = &routed{legs: map[sb.AgentID]sb.ChannelID{}}
		d.calls[call] = rc
	}
	return rc
}

// Track starts the router's conversation about call (the engine gives
// it to the router itself, or connects it).
func (d *Driver) Track(call sb.CallID) { d.entry(call) }

// Attach tracks call as connected to agent (an agent-first call that
// connected, a call adopted talking).
func (d *Driver) Attach(call sb.CallID, agent sb.AgentID) { d.entry(call).agent = agent }

// Tracked reports whether the router's conversation about call goes on.
func (d *Driver) Tracked(call sb.CallID) bool { return d.calls[call] != nil }

// Untrack ends the conversation about call (it ended, or left the queue
// for a flow that may enqueue it afresh).
func (d *Driver) Untrack(call sb.CallID) { delete(d.calls, call) }

// Calls calls f with each call tracked.
func (d *Driver) Calls(f func(call sb.CallID)) {
	for id := range d.calls {
		f(id)
	}
}

// Ringing counts the agent legs ringing for call.
func (d *Driver) Ringing(call sb.CallID) int {
	if rc := d.calls[call]; rc != nil {
		return len(rc.legs)
	}
	return 0
}

// actions carries out the router's actions.
func (d *Driver) actions(acts []Action) {
	for _, act := range acts {
		switch a := act.(type) {
		case Offer:
			d.offer(a)
		case CancelOffer:
			d.cancel(a)
		case Queued:
			d.h.WaitQueued(a.Call, a.MusicClass)
		case Exit:
			d.exit(a)
		case Announce:
			d.playWaiting(a.Call, "ann", a.Media())
		case AgentState:
			d.mu.Lock()
			d.states[a.Agent] = a
			d.mu.Unlock()
			d.h.AgentChanged() // an agent to hold, or a hold ended
			if save := d.o.AgentHistory; save != nil {
				st, at := a, d.h.Now()
				d.h.Persist(func(ctx context.Context) error { return save(ctx, st, at) }, func(err error) {
					d.h.Logger().Error("agent state history not written", "agent_id", st.Agent, "err", err)
				})
			}
			d.h.Logger().Debug("agent state", "agent_id", a.Agent, "state", a.State, "reason", a.Reason, "call_id", a.Call)
		case QueueLog:
			if d.o.QueueLog != nil {
				ev := queuelog.Event{Time: a.Time, CallID: string(a.CallID), Queue: string(a.Queue),
					Agent: string(a.Agent), Event: a.Event, Data: a.Data}
				if err := d.o.QueueLog.Write(ev); err != nil {
					d.h.Logger().Warn("queue_log write", "call_id", a.CallID, "event", a.Event, "err", err)
				}
			}
		case Ignored:
			d.h.Logger().Debug("router ignored a message", "msg", fmt.Sprintf("%T", a.Msg), "why", a.Why)
		case OfferCallback:
			d.offerCallback(a)
		case StartCallback:
			d.h.StartCallback(a)
		}
	}
}

// Hunt enqueues the call in the router once. A flow that found the
// caller's account owner (a CRM lookup) names the preferred agent in the
// variable preferred_agent; otherwise a queue with a returning-caller
// window prefers the agent the caller last talked to (looked up off the
// owner goroutine).
func (d *Driver) Hunt(call sb.CallID) {
	if !d.h.Huntable(call) {
		return
	}
	d.entry(call)
	w, ok := d.h.Hunting(call, d.defQueue)
	if !ok {
		return
	}
	if p := max(w.Priority, d.o.VIP[w.Caller]); p != w.Priority {
		d.h.Prioritize(call, p)
	}
	preferred := w.Preferred
	since, look := ReturningCaller(preferred, d.queues[w.Queue], w.Caller, d.h.Now())
	if !look || d.o.LastAgent == nil {
		d.Enqueue(call, preferred)
		return
	}
	find, caller, queue := d.o.LastAgent, w.Caller, string(w.Queue)
	var agent string
	d.h.Off(func() {
		ctx, cancel := context.WithTimeout(context.Background(), lastAgentTimeout)
		found, ok, err := find(ctx, caller, queue, since)
		cancel()
		if err != nil {
			d.h.Logger().Warn("returning-caller lookup failed; the queue's strategy serves the call", "call_id", call, "err", err)
		}
		if ok {
			agent = found
		}
	}, func() { d.Enqueue(call, sb.AgentID(agent)) })
}

// Enqueue gives the call to the router, unless it ended meanwhile.
func (d *Driver) Enqueue(call sb.CallID, preferred sb.AgentID) {
	at := d.h.Now()
	w, ok := d.h.Entering(call, at)
	if !ok {
		return
	}
	d.h.Logger().Debug("call enqueued", "call_id", call, "queue", w.Queue, "priority", w.Priority, "skills", w.Skills, "preferred_agent", preferred)
	d.Apply(Enqueue{Call: call, Queue: w.Queue, Priority: w.Priority,
		EnteredAt: at, Caller: w.Caller, Preferred: preferred, Skills: w.Skills})
}

// offer rings the agents an offer names.
func (d *Driver) offer(o Offer) {
	if !d.h.Ringing(o.Call) {
		for _, ag := range o.Agents {
			d.pending = append(d.pending, OfferFailed{Call: o.Call, Agent: ag, Why: FailUnreachable})
		}
		return
	}
	rc := d.entry(o.Call)
	for i, ag := range o.Agents {
		ch := d.h.NextOfferLeg(o.Call)
		d.legs[ch] = &offerLeg{call: o.Call, agent: ag}
		rc.legs[ag] = ch
		d.h.RingOffer(o.Call, ag, ch, o.Endpoints[i], o.Timeout, o.Queue, func() {
			if d.legs[ch] != nil {
				d.legGone(ch, 20)
			}
		})
	}
}

// cancel hangs up the leg an offer the router took back rang.
func (d *Driver) cancel(o CancelOffer) {
	rc := d.calls[o.Call]
	if rc == nil {
		if d.h.WithdrawCallback(o.Call) {
			d.h.Logger().Info("callback withdrawn", "call_id", o.Call, "agent_id", o.Agent, "reason", o.Reason)
		}
		return
	}
	ch, ok := rc.legs[o.Agent]
	if !ok {
		return
	}
	leg := d.legs[ch]
	if leg == nil || leg.cancelled {
		return
	}
	leg.cancelled = true
	d.h.Logger().Info("offer cancelled", "call_id", o.Call, "agent_id", o.Agent, "channel_id", ch, "reason", o.Reason)
	d.hangupLeg(leg.call, ch)
}

// exit: the caller leaves the queue without an agent, to the exit's
// target.
func (d *Driver) exit(x Exit) {
	d.h.CallbackDone(x.Call, "given up: "+string(x.Reason))
	if !d.h.Exiting(x.Call) {
		return
	}
	d.entry(x.Call)
	d.h.ExitQueue(x.Call, x)
}

// Event handles the events of ringing agent legs; it returns false for
// the events the engine handles.
func (d *Driver) Event(e sb.Event) bool {
	switch e := e.(type) {
	case sb.ChannelEntered:
		return d.Entered(e.Channel.ID)
	case sb.DialResult, sb.HangupRequested:
		if leg := d.legs[sb.ChannelOf(e)]; leg != nil {
			return leg.causes.Note(e)
		}
	case sb.ChannelLeft:
		return d.legs[e.Channel.ID] != nil // originated: the destroy follows
	case sb.ChannelDestroyed:
		if leg := d.legs[e.Channel.ID]; leg != nil {
			d.legGone(e.Channel.ID, leg.causes.At(e.Cause))
			return true
		}
	}
	return false
}

// Entered takes channel ch that entered the application if it is a
// ringing agent leg: the first one to answer becomes the call's agent
// channel; any other is hung up. False: not a ringing leg.
func (d *Driver) Entered(ch sb.ChannelID) bool {
	leg := d.legs[ch]
	if leg == nil {
		return false
	}
	d.answered(ch, leg)
	return true
}

func (d *Driver) answered(ch sb.ChannelID, leg *offerLeg) {
	call := leg.call
	rc := d.calls[call]
	if leg.cancelled || rc == nil || !d.h.Connectable(call) {
		leg.cancelled = true
		d.hangupLeg(call, ch)
		return
	}
	m := OfferAnswered{Call: call, Agent: leg.agent, Channel: ch}
	if err := ignored(d.Apply(m), m); err != nil {
		// Too late: the router took the offer back.
		d.h.Logger().Info("agent answered too late", "call_id", call, "agent_id", leg.agent, "err", err)
		leg.cancelled = true
		d.hangupLeg(call, ch)
		return
	}
	delete(d.legs, ch)
	delete(rc.legs, leg.agent)
	rc.agent = leg.agent
	d.h.AgentConnected(call, leg.agent, ch)
}

// hangupLeg hangs up an agent leg. A leg the PBX no longer knows (its
// destroy event lost in a reconnect) is taken as gone, so that the call
// does not wait for it forever.
func (d *Driver) hangupLeg(call sb.CallID, ch sb.ChannelID) {
	d.h.HangupOffer(call, ch, func() {
		if d.legs[ch] != nil {
			d.legGone(ch, 0)
		}
	})
}

// legGone: a ringing agent leg is gone without answering.
func (d *Driver) legGone(ch sb.ChannelID, cause int) {
	leg := d.legs[ch]
	delete(d.legs, ch)
	call := leg.call
	d.h.ReleaseOffer(call, ch)
	rc := d.calls[call]
	if rc != nil && rc.legs[leg.agent] == ch {
		delete(rc.legs, leg.agent)
	}
	if !leg.cancelled && rc != nil && !d.h.RouterConnected(call) {
		why := FailReasonOf(cause)
		d.h.Logger().Info("offer failed", "call_id", call, "agent_id", leg.agent, "channel_id", ch, "why", why, "cause", cause)
		d.Apply(OfferFailed{Call: call, Agent: leg.agent, Why: why})
	}
	if rc != nil && len(rc.legs) == 0 {
		d.h.RingingOver(call)
	}
	d.h.MaybeFinish(call)
}

// ReportEnded tells the router the connected call ended: routerCall is
// the id the router knows it by, agent the call's agent (the one the
// router connected, if it did).
func (d *Driver) ReportEnded(call, routerCall sb.CallID, agent sb.AgentID, byAgent bool) {
	if rc := d.calls[call]; rc != nil {
		agent = rc.agent
	}
	d.Apply(CallEnded{Call: routerCall, Agent: agent, ByAgent: byAgent})
}

// CancelLegs hangs up the agent legs still ringing for the call.
func (d *Driver) CancelLegs(call sb.CallID) {
	rc := d.calls[call]
	if rc == nil {
		return
	}
	for _, ch := range rc.legs {
		if leg := d.legs[ch]; leg != nil && !leg.cancelled {
			leg.cancelled = true
			d.hangupLeg(call, ch)
		}
	}
}

// Adopt hands a call adopted while talking to the router (m); true: the
// router took it, connected to m.Agent.
func (d *Driver) Adopt(m Adopt) bool {
	if ignored(d.Apply(m), m) != nil {
		return false
	}
	d.Attach(m.Call, m.Agent)
	return true
}

// Endpoint reports an agent's phone reachable or not.
func (d *Driver) Endpoint(st sb.EndpointState) {
	id, ok := d.endpoint[strings.ToLower(st.Endpoint)]
	if !ok {
		return
	}
	d.Apply(EndpointReachable{Agent: id, Reachable: st.State != "offline"})
}

// LoggedInAt notes that agent logged in on phone (its endpoint's state
// events are the agent's from now on).
func (d *Driver) LoggedInAt(phone string, agent sb.AgentID) {
	d.mu.Lock()
	d.endpoint[strings.ToLower(phone)] = agent
	d.mu.Unlock()
}

// Snapshot copies the router's agents and queues with their live
// statistics (from any goroutine).
func (d *Driver) Snapshot(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	err := d.h.OnLoop(ctx, func() error {
		snap = d.r.Snapshot(d.h.Now())
		return nil
	})
	return snap, err
}

// offerCallback plays the queue's callback offer to a waiting caller.
func (d *Driver) offerCallback(o OfferCallback) {
	queue, ok := d.h.QueueOf(o.Call)
	if !ok {
		return
	}
	q := d.queues[queue]
	d.playWaiting(o.Call, "cboffer", q.Callback.Prompt)
}

// playWaiting plays media to a waiting caller between two stretches of
// music on hold (announcements, the callback offer): the music stops, the
// prompt plays, the music goes on (Announced).
func (d *Driver) playWaiting(call sb.CallID, what string, media []string) {
	if len(media) == 0 {
		return
	}
	seq, moh, ok := d.h.PromptSeq(call)
	if !ok {
		return
	}
	pb := sb.PlaybackID(fmt.Sprintf("%s-%s%d", call, what, seq))
	d.announcements[pb] = call
	log := d.h.Logger()
	d.h.Do(call, func(ctx context.Context) {
		if moh {
			_ = d.pbx.MusicOnHold(ctx, sb.ChannelID(call), "", false)
		}
		if err := d.pbx.Play(ctx, sb.ChannelID(call), pb, media...); err != nil {
			log.Debug("queue prompt", "call_id", call, "what", what, "err", err)
			d.h.Post(func() { d.Announced(pb) })
		}
	})
}

// Announced puts the music back on after an announcement; it reports
// whether pb was one.
func (d *Driver) Announced(pb sb.PlaybackID) bool {
	call, ok := d.announcements[pb]
	if !ok {
		return false
	}
	delete(d.announcements, pb)
	d.h.ResumeMOH(call)
	return true
}
