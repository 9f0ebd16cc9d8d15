// Package center drives the life of every call: a call enters the
// application, is answered, hears the greeting, waits for a free agent, is
// bridged to the agent's phone, and when either side leaves both legs are
// hung up and the call-log row is written.
//
// One goroutine (Run) owns all call and agent state. PBX events and the
// results of PBX commands arrive there as messages; PBX commands are run per
// call, in order, by a small executor so the owner never waits on the PBX.
//
// The engine keeps the live calls and their course (lifecycle.Call); the
// capabilities are drivers in their own packages (routing, ivr, recording,
// supervision, featurecode, agentfirst, campaign/obcall), each keeping its
// own state per call: handle dispatches the PBX's events to them, and they
// act through the host (host*.go) the engine gives them.
package center

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/agentfirst"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/featurecode"
	"github.com/switchboard/switchboard/internal/handoff"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/reconcile"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/supervision"
)

// Config is what the call lifecycle needs from the configuration.
type Config struct {
	Greeting         []string      // media played to the caller after answer
	NoAgentPrompt    []string      // media played before hanging up when no agent came
	AgentRingTimeout time.Duration // how long the agent's phone rings for a callback, a transfer, a supervisor's phone
	AgentCallerID    string        // caller ID shown on the agent's phone; default the caller's
	CommandTimeout   time.Duration // deadline of one PBX command
	// Agents are logged in to the router at the start; their phones'
	// states are followed, and a call adopted talking on one of them is
	// that agent's.
	Agents []sb.Agent
	// Queues give each queue's returning-caller window and callback
	// offer (the router reads the rest).
	Queues []sb.Queue
	// CallbackCallerID is the caller ID a callback shows the customer
	// (empty: the PBX's default for the trunk).
	CallbackCallerID string
	// CallbackRingTimeout is how long a callback rings the customer.
	CallbackRingTimeout time.Duration
	// VIP gives callers (by number) a queue priority; the higher of it and
	// the flow's priority is used.
	VIP map[string]int
	// ConnectWindow is how long an answered campaign call may wait for an
	// agent before it is abandoned; default ConnectWindow (the 2-second
	// rule).
	ConnectWindow time.Duration
}

func (c *Config) setDefaults() {
	if c.AgentRingTimeout <= 0 {
		c.AgentRingTimeout = 20 * time.Second
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 10 * time.Second
	}
	if c.CallbackRingTimeout <= 0 {
		c.CallbackRingTimeout = 30 * time.Second
	}
	if c.ConnectWindow <= 0 {
		c.ConnectWindow = ConnectWindow
	}
}

// CDRWriter stores call-log rows.
type CDRWriter interface {
	InsertCDR(ctx context.Context, c *sb.CDR) error
}

// Observer is told when calls end (metrics).
type Observer interface {
	CallEnded(o sb.Outcome)
}

// Stats are running totals since start.
type Stats struct {
	Offered     int64 `json:"calls_offered"`     // calls that entered
	Answered    int64 `json:"calls_answered"`    // calls bridged to an agent
	Abandoned   int64 `json:"calls_abandoned"`   // caller left before an agent answered
	Completed   int64 `json:"calls_completed"`   // answered calls that ended normally
	NoAgent     int64 `json:"calls_no_agent"`    // no agent came within the wait limit
	Failed      int64 `json:"calls_failed"`      // PBX or internal failure
	Refused     int64 `json:"calls_refused"`     // refused while draining
	Interrupted int64 `json:"calls_interrupted"` // hung up by a forced stop before an agent
	IVR         int64 `json:"calls_ivr"`         // ended in the IVR (hangup node, caller left the flow)
	Voicemail   int64 `json:"calls_voicemail"`   // left a voicemail
	Transferred int64 `json:"calls_transferred"` // transferred by the IVR
	Callbacks   int64 `json:"calls_callback"`    // the caller asked to be called back
	IVRSteps    int64 `json:"ivr_steps"`         // inputs the IVR flows have processed
	Active      int64 `json:"active_calls"`
	CDRErrors   int64 `json:"cdr_errors"`
}

// Args that mark the legs Switchboard itself originates.
const (
	argAgent    = reconcile.ArgAgent // Stasis args: agent, <call id>
	argTransfer = "transfer"         // Stasis args: transfer, <call id>
)

// Center owns the live calls. Create it with New and start it with Run.
type Center struct {
	cfg   Config
	pbx   sb.PBX
	store CDRWriter
	clock sb.Clock
	log   *slog.Logger
	obs   Observer

	inbox        *handoff.Queue[func()] // work posted to the owner goroutine (post)
	inboxBuf     []func()
	inboxOver    atomic.Uint64 // posts past inboxLimit (kept all the same)
	running      atomic.Bool
	drainStarted atomic.Bool // Drain was called (read off the owner goroutine)
	stopped      chan struct{}

	// Owned by the Run goroutine.
	calls     map[sb.CallID]*call
	ordered   []*call // the live calls, oldest first, as liveOrder last saw them
	byChannel map[sb.ChannelID]*call
	draining  bool
	// seq orders calls, offers and ends against PBX snapshots: a snapshot
	// taken at seq N says nothing of what happened after N.
	seq         uint64
	reconciling int                     // snapshots being listed
	goneAt      map[sb.ChannelID]uint64 // legs ended while reconciling
	goneCause   map[sb.ChannelID]int    // and the cause an unknown one's hang-up request gave
	reconciled  func()                  // test hook: a reconcile was applied
	// endpointSeen is when (seq) each endpoint's last state event came: a
	// snapshot listed before it does not override it.
	endpointSeen map[string]uint64

	ivr    IVROptions
	queues map[sb.QueueName]sb.Queue
	flows  *ivr.Driver // the calls' flows

	pendingAdopt map[sb.ChannelID]sb.ChannelInfo // callers a snapshot showed, to adopt unless an event comes
	// aux are channels in the application that are no call of their own
	// (agent and supervisor feature-code calls): never adopted as callers.
	aux map[sb.ChannelID]bool

	rec   *recording.Driver
	first *agentfirst.Driver
	sup   *supervision.Driver
	codes *featurecode.Driver
	// legOwners are the capabilities that add legs of their own to calls:
	// the events of those legs go to them (legOwner).
	legOwners []legOwner
	runCtx    context.Context
	// settleRetries counts state-deciding commands that needed a retry.
	settleRetries atomic.Int64

	offered, answered, refused, active, cdrErrors, ivrSteps atomic.Int64
	ended                                                   map[sb.Outcome]*atomic.Int64 // calls ended, by outcome

	// router picks the agents; acd is the engine's side of it.
	router *routing.Router
	acd    *routing.Driver
	obd    *obcall.Driver // campaign calls

	startedAt time.Time // when Run began: rows opened before belong to an earlier run

	cmdWG   sync.WaitGroup // PBX command executors
	writeWG sync.WaitGroup // call-log writes
}

// call is one live call's state.
type call struct {
	sb.Call
	exec *serial
	// life is the call's course (its states: lifecycle.State): answer,
	// greeting, queue, agent leg, bridge, the hang-ups, the end.
	life *lifecycle.Call

	agentCh      sb.ChannelID
	attempts     int
	inBridge     map[sb.ChannelID]bool
	seq          uint64   // when the call entered (see Center.seq)
	offerSeq     uint64   // when the current agent leg was originated
	early        []string // keys pressed before the flow started
	legSeq       int
	announceSeq  int
	mohClass     string     // the queue's music class
	adoptedAgent sb.AgentID // agent paused while this adopted call lasts
	priority     int        // in the queue: higher is served first
	routerID     sb.CallID  // the id the router knows the call by, when not ID (callbacks)
	enqueuedAt   time.Time  // when the router got the call
	adoptedPath  sb.RawJSON // the IVR path an adopted call's card carried
	listed       bool       // in Center.ordered

	// ob is a campaign call's line (nil otherwise).
	ob *obcall.Line
	// skills are what the flow's queue node asked of the agent.
	skills map[string]string
}

// Options are what a center is built from: its configuration, the PBX,
// the router and the capabilities it drives. PBX and Router are
// required; every other field may be left zero (defaults, or that
// capability off).
type Options struct {
	Config Config
	PBX    sb.PBX
	// Router picks the agents (routing.engine router and basic alike:
	// app builds it for either; see routing.Basic).
	Router *routing.Router
	// QueueLog gets the router's queue_log lines.
	QueueLog QueueLogger
	// Clock is the center's time (default the wall clock).
	Clock sb.Clock
	Log   *slog.Logger
	// CallLog stores the call-log rows (nil: none kept).
	CallLog CDRWriter
	// Observer is told of every call's end (metrics).
	Observer Observer
	// IVR are the flows, the routes to them and what flows use.
	IVR IVROptions
	// Recording are the recording policies and where recordings go.
	Recording RecordingOptions
	// MonitorPolicy says who may monitor by feature code (nil: nobody).
	MonitorPolicy MonitorPolicy
	// Callbacks keeps callback requests, so that a restart puts them back
	// in their queues at their place (nil: not kept across a restart).
	Callbacks agentfirst.Store
	// LastAgent finds the agent a returning caller last talked to, for
	// the queues that set ReturningCaller (nil: no such preference).
	LastAgent LastAgentFunc
	// AgentHistory keeps every agent state change; it runs off the owner
	// goroutine (nil: not kept).
	AgentHistory func(ctx context.Context, s routing.AgentState, at time.Time) error
	// Campaigns are the campaign runner's hooks.
	Campaigns Campaigns
}

// New builds a center from o. It panics without o.PBX or o.Router: a
// wiring mistake, not a run-time condition.
func New(o Options) *Center {
	if o.PBX == nil || o.Router == nil {
		panic("center.New: Options.PBX and Options.Router are required")
	}
	cfg, pbx, store, clock, obs, log := o.Config, o.PBX, o.CallLog, o.Clock, o.Observer, o.Log
	cfg.setDefaults()
	if clock == nil {
		clock = sb.RealClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Center{
		cfg: cfg, pbx: pbx, store: store, clock: clock, obs: obs, log: log,
		inbox:     handoff.New[func()](inboxLimit),
		stopped:   make(chan struct{}),
		calls:     map[sb.CallID]*call{},
		goneAt:    map[sb.ChannelID]uint64{},
		goneCause: map[sb.ChannelID]int{},
		byChannel: map[sb.ChannelID]*call{},
		queues:    map[sb.QueueName]sb.Queue{},

		pendingAdopt: map[sb.ChannelID]sb.ChannelInfo{},
		aux:          map[sb.ChannelID]bool{},
		endpointSeen: map[string]uint64{},

		ivr: o.IVR.withDefaults(),

		router: o.Router,
	}
	c.acd = routing.NewDriver(host{c}, pbx, o.Router, routing.DriverOptions{QueueLog: o.QueueLog, Agents: cfg.Agents,
		Queues: cfg.Queues, VIP: cfg.VIP, LastAgent: o.LastAgent, AgentHistory: o.AgentHistory})
	for _, q := range cfg.Queues {
		c.queues[q.Name] = q
	}
	c.sup = supervision.NewDriver(host{c}, pbx, o.MonitorPolicy, c.cfg.AgentRingTimeout)
	c.codes = featurecode.NewDriver(host{c}, pbx)
	c.flows = ivr.NewDriver(host{c}, pbx, ivr.DriverOptions{Flows: c.ivr.Flows, Routes: c.ivr.Routes, Calendars: c.ivr.Calendars,
		Location: c.ivr.Location, Voicemail: c.ivr.Voicemail, Lookup: c.ivr.Lookup, Observer: c.ivr.Observer})
	c.legOwners = []legOwner{c.sup}
	c.rec = recording.NewDriver(host{c}, pbx, o.Recording)
	c.obd = obcall.NewDriver(host{c}, pbx, o.Campaigns, c.cfg.ConnectWindow)
	c.first = agentfirst.NewDriver(host{c}, agentfirst.Options{Store: o.Callbacks, CallerID: c.cfg.CallbackCallerID,
		RingTimeout: c.cfg.CallbackRingTimeout})
	c.ended = make(map[sb.Outcome]*atomic.Int64, len(sb.Outcomes))
	for _, o := range sb.Outcomes {
		c.ended[o] = new(atomic.Int64)
	}
	return c
}

// Stats returns running totals.
func (c *Center) Stats() Stats {
	return Stats{
		Offered: c.offered.Load(), Answered: c.answered.Load(), Abandoned: c.ended[sb.OutcomeAbandoned].Load(),
		Completed: c.ended[sb.OutcomeCompleted].Load(), NoAgent: c.ended[sb.OutcomeNoAgent].Load(),
		Failed: c.ended[sb.OutcomeFailed].Load(), IVR: c.ended[sb.OutcomeIVR].Load(),
		Voicemail: c.ended[sb.OutcomeVoicemail].Load(), Transferred: c.ended[sb.OutcomeTransferred].Load(),
		Callbacks:   c.ended[sb.OutcomeCallback].Load(),
		Interrupted: c.ended[sb.OutcomeInterrupted].Load(), IVRSteps: c.ivrSteps.Load(),
		Refused: c.refused.Load(), Active: c.active.Load(), CDRErrors: c.cdrErrors.Load(),
	}
}

// ActiveCalls returns the number of live calls.
func (c *Center) ActiveCalls() int { return int(c.active.Load()) }

// Run owns call state until ctx ends or the PBX event stream closes. On
// return every PBX command it started has finished and every call-log row it
// had to write is written.
func (c *Center) Run(ctx context.Context) error {
	c.runCtx = ctx
	c.startedAt = c.clock.Now()
	c.running.Store(true)
	defer close(c.stopped)
	defer c.writeWG.Wait()
	defer c.cmdWG.Wait()
	defer c.running.Store(false)
	c.acd.Start()
	c.rec.Sweep()
	events := c.pbx.Events()
	for {
		select {
		case <-ctx.Done():
			c.shutdown()
			return nil
		case <-c.inbox.Ready():
			c.runPosted()
		case e, ok := <-events:
			if !ok {
				c.shutdown()
				return errors.New("center: PBX event stream closed")
			}
			c.handle(e)
		}
	}
}

// shutdown stops timers and closes executors; the calls still up stay in the
// PBX's application and are re-adopted by the next start.
func (c *Center) shutdown() {
	c.acd.Stop()
	for _, k := range c.calls {
		k.exec.close()
	}
}

// inboxLimit is how much posted work may wait for the owner goroutine
// before each post past it is logged as an error and counted
// (InboxOverflows); the work is kept all the same: it carries results the
// call's state needs.
const inboxLimit = 1 << 14

// post runs f on the owner goroutine. It never blocks (it may be called
// from the owner goroutine itself) and returns false once Run has ended.
func (c *Center) post(f func()) bool {
	select {
	case <-c.stopped:
		return false
	default:
	}
	if err := c.inbox.Push(f); err != nil {
		c.inbox.Force(f)
		if n := c.inboxOver.Add(1); n == 1 || n%1000 == 0 {
			c.log.Error("center: posted work is piling up: the owner goroutine is not keeping up", "waiting", c.inbox.Depth(), "over_limit", n)
		}
	}
	return true
}

// runPosted runs the work posted so far, in order.
func (c *Center) runPosted() {
	c.inboxBuf = c.inbox.Take(c.inboxBuf)
	for i, f := range c.inboxBuf {
		f()
		c.inboxBuf[i] = nil
	}
	c.inbox.Done(len(c.inboxBuf))
}

// InboxDepth counts the work posted to the owner goroutine and not yet
// run; InboxOverflows the posts made past its limit (each logged).
func (c *Center) InboxDepth() int64 { return c.inbox.Depth() }

// InboxOverflows counts the posts made past the inbox's limit.
func (c *Center) InboxOverflows() uint64 { return c.inboxOver.Load() }

// LiveCalls returns a snapshot of the live calls, oldest first.
func (c *Center) LiveCalls() []sb.Call {
	if !c.running.Load() {
		return nil
	}
	reply := make(chan []sb.Call, 1)
	ok := c.post(func() {
		order := c.liveOrder()
		out := make([]sb.Call, len(order))
		for i, k := range order {
			out[i] = k.Call
			if c.flows.Has(k.ID) {
				out[i].IVRVars = c.flows.Vars(k.ID)
				out[i].IVRPath = c.flows.Path(k.ID)
			}
		}
		reply <- out
	})
	if !ok {
		return nil
	}
	select {
	case r := <-reply:
		return r
	case <-c.stopped:
		return nil
	}
}

// liveOrder returns the live calls, oldest first. It keeps the list
// from one snapshot to the next (LiveCalls is polled: a wallboard, the
// API), so that each sorts, in place, a list of pointers already in order
// but for the calls that entered since, rather than a fresh one in the
// map's order.
func (c *Center) liveOrder() []*call {
	order := c.ordered[:0]
	for _, k := range c.ordered {
		if c.calls[k.ID] == k {
			order = append(order, k)
		} else {
			k.listed = false
		}
	}
	clear(c.ordered[len(order):])
	for _, k := range c.calls {
		if !k.listed {
			k.listed = true
			order = append(order, k)
		}
	}
	slices.SortStableFunc(order, func(a, b *call) int { return a.Entered.Compare(b.Entered) })
	c.ordered = order
	return order
}

// Drain stops taking new calls (they are refused with a busy signal) and
// waits until the live calls have ended and their recordings are stored
// or failed (a stop right after a call must not leave its recording
// marked recording), or ctx ends.
func (c *Center) Drain(ctx context.Context) error {
	// Set on the owner goroutine first: a call that enters once Draining
	// says true is refused.
	if !c.post(func() {
		c.draining = true
		c.drainStarted.Store(true)
	}) {
		return nil
	}
	for c.active.Load() > 0 || c.rec.OpenRecordings() > 0 {
		done := make(chan struct{})
		stop := c.clock.AfterFunc(100*time.Millisecond, func() { close(done) })
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-done:
		case <-c.stopped:
			stop()
			return nil
		}
	}
	return nil
}

// Draining reports whether Drain has been called: the center refuses new
// calls (readiness checks say not ready) while the live ones go on.
func (c *Center) Draining() bool { return c.drainStarted.Load() }

// HangupAll hangs up every live call (forced shutdown, end of a demo run).
func (c *Center) HangupAll() {
	c.post(func() {
		for _, k := range c.calls {
			c.life(k, lifecycle.Interrupt{}) // bridged calls stay completed
		}
	})
}

// do queues a PBX command on the call's executor with the command deadline.
func (c *Center) do(k *call, f func(ctx context.Context)) {
	timeout := c.cfg.CommandTimeout
	k.exec.do(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		f(ctx)
	})
}

func (c *Center) handle(e sb.Event) {
	switch e := e.(type) {
	case sb.ChannelDestroyed:
		delete(c.aux, e.Channel.ID)
	case sb.ChannelLeft:
		// Feature-code calls come from the dialplan: StasisEnd is the last
		// event Asterisk sends of them.
		delete(c.aux, e.Channel.ID)
	}
	switch e := e.(type) {
	case sb.HangupRequested:
		if cause := sb.RequestCause(e); c.reconciling > 0 && c.byChannel[e.Channel] == nil && cause != 0 {
			c.goneCause[e.Channel] = cause
		}
	case sb.ChannelLeft, sb.ChannelDestroyed:
		if d, ok := e.(sb.ChannelDestroyed); ok && c.reconciling > 0 && d.Cause != 0 && c.goneCause[d.Channel.ID] == 0 {
			c.goneCause[d.Channel.ID] = d.Cause
		}
		if id := sb.ChannelOf(e); c.byChannel[id] == nil {
			// A channel no call has (yet): a snapshot being listed may
			// still show it, and must not take it as live.
			c.noteGone(id)
		}
	}
	if len(c.pendingAdopt) > 0 {
		// An event about a caller waiting to be adopted settles it: it
		// entered (the normal path takes it) or it is gone.
		switch e.(type) {
		case sb.ChannelEntered, sb.ChannelLeft, sb.ChannelDestroyed, sb.HangupRequested:
			delete(c.pendingAdopt, sb.ChannelOf(e))
		}
	}
	// A channel that enters the application goes to the capability its
	// role names (enterRoles). Every other event goes to the owner of its
	// channel, in this order: an agent leg the router offered (acd.Event),
	// a leg of an agent-first call (agentfirst.Driver.Event: callbacks and preview), a
	// campaign call before a person is on it (obd.Event), then the call the
	// channel belongs to (below).
	if en, ok := e.(sb.ChannelEntered); ok {
		c.obd.Entering(en.Channel.ID) // answered, or back from AMD: adopted from here
		c.onEntered(en)
		return
	}
	if c.acd.Event(e) {
		return
	}
	if c.first.Event(e) || c.obd.Event(e) {
		return
	}
	switch e := e.(type) {
	case sb.LinkUp:
		c.onLinkUp(e)
	case sb.PlaybackFinished:
		if c.flows.Played(e.Playback, e.State == "failed") || c.codes.Played(e.Playback) || c.acd.Announced(e.Playback) {
			return
		}
		c.onPlaybackFinished(e)
	case sb.DTMFReceived:
		if k := c.byChannel[e.Channel]; k != nil && c.legDigit(k, e.Channel, e.Digit) {
			return
		}
		if k := c.byChannel[e.Channel]; k != nil && e.Channel == k.agentCh && k.life.AgentAnswered() {
			c.rec.AgentKey(k.ID, e.Digit)
			return
		}
		if k := c.byChannel[e.Channel]; k != nil && e.Channel == sb.ChannelID(k.ID) {
			if c.first.Key(k.ID, e.Digit) {
				return
			}
			switch {
			case c.flows.Has(k.ID):
				c.flows.Feed(k.ID, ivr.Digit{Key: e.Digit})
			case k.State == sb.CallEntered && len(k.early) < 32:
				// Keys pressed before the flow starts (while the answer
				// is on its way) are the flow's type-ahead.
				k.early = append(k.early, e.Digit)
			}
		}
	case sb.RecordingStarted:
		c.rec.Event(e.Name, recording.Started{})
	case sb.RecordingFinished:
		if !c.rec.Event(e.Name, recording.Finished{Duration: e.Duration}) {
			c.flows.Recorded(e.Name, e.Duration, false, "")
		}
	case sb.RecordingFailed:
		if !c.rec.Event(e.Name, recording.Failed{Cause: e.Cause}) {
			c.flows.Recorded(e.Name, 0, true, e.Cause)
		}
	case sb.EnteredBridge:
		if k := c.byChannel[e.Channel]; k != nil {
			k.inBridge[e.Channel] = true
			c.checkBridged(k)
		}
	case sb.LeftBridge:
		if k := c.byChannel[e.Channel]; k != nil {
			delete(k.inBridge, e.Channel)
		}
	case sb.HangupRequested:
		if k := c.byChannel[e.Channel]; k != nil {
			cause := sb.RequestCause(e)
			if cause == 0 && !e.Soft && e.Channel == sb.ChannelID(k.ID) {
				// The caller's far end hangs up, but the request has no
				// cause yet (a call through a Local trunk leg): the
				// meaningful request, then StasisEnd, follow.
				return
			}
			c.noteHangup(k, e.Channel, cause)
			c.channelGone(k, e.Channel)
		}
	case sb.ChannelLeft:
		if k := c.byChannel[e.Channel.ID]; k != nil {
			if e.Channel.ID == sb.ChannelID(k.ID) {
				// A caller gone with no request that said who (a request
				// without a cause): the far end left.
				c.noteHangup(k, e.Channel.ID, 0)
			}
			c.channelGone(k, e.Channel.ID)
		}
	case sb.ChannelDestroyed:
		if k := c.byChannel[e.Channel.ID]; k != nil {
			c.noteHangup(k, e.Channel.ID, e.Cause)
			c.channelGone(k, e.Channel.ID)
		}
	case sb.EndpointStateChanged:
		c.seq++
		c.endpointSeen[strings.ToLower(e.Endpoint.Endpoint)] = c.seq
		c.onEndpoint(e.Endpoint)
	}
}

// noteHangup records who ended the call: the caller's leg or the agent's
// own answered leg. Other legs (supervisors, even barging; snoops) say
// nothing about it.
func (c *Center) noteHangup(k *call, ch sb.ChannelID, cause int) {
	switch ch {
	case sb.ChannelID(k.ID):
		c.life(k, lifecycle.Hungup{Leg: lifecycle.CallerLeg, Cause: cause})
	case k.agentCh:
		c.life(k, lifecycle.Hungup{Leg: lifecycle.AgentLeg, Cause: cause})
	}
}

// enterRole is how a channel that enters the application with a role
// (its first Stasis argument) is handled: by at least minArgs arguments.
type enterRole struct {
	minArgs int
	enter   func(c *Center, e sb.ChannelEntered)
}

// enterRoles is the dispatch table from a channel's role, the first Stasis
// argument Switchboard (or the shipped dialplan) gave it, to the capability
// that takes it. A channel with no role, an unknown one, or too few
// arguments is a caller.
var enterRoles = map[string]enterRole{
	// Snoops of ours: they live and die with the leg they hear.
	recording.ArgSnoop:   {1, func(*Center, sb.ChannelEntered) {}},
	supervision.ArgSnoop: {1, func(*Center, sb.ChannelEntered) {}},
	// supervisor, <call>: a supervisor's phone answered (supervision).
	supervision.ArgSupervisor: {2, func(c *Center, e sb.ChannelEntered) { c.sup.Entered(e.Channel, sb.CallID(e.Args[1])) }},
	// agentcode, <action>[, <arg>]: a desk-phone feature code (featurecode).
	featurecode.Arg: {2, func(c *Center, e sb.ChannelEntered) { c.codes.Entered(e.Channel, e.Args) }},
	// monitor, <agent>: a supervisor dialled the monitor feature code.
	supervision.ArgCode: {2, func(c *Center, e sb.ChannelEntered) { c.sup.ByCode(e.Channel, sb.AgentID(e.Args[1])) }},
	// firstagent|firstcustomer, <call>: agent-first calls (callbacks, preview).
	agentfirst.ArgAgent:    {2, (*Center).firstEntered},
	agentfirst.ArgCustomer: {2, (*Center).firstEntered},
	// agent|transfer, <call>: the agent's leg (or a transfer target) answered.
	argAgent:    {2, (*Center).agentLegEntered},
	argTransfer: {2, (*Center).agentLegEntered},
	// Campaign calls: obdial, <attempt> at the answer; amd, STATUS, CAUSE
	// back from AMD; beep after a machine's greeting.
	obcall.ArgDial: {1, func(c *Center, e sb.ChannelEntered) { c.obd.Entered(e.Channel, e.Args) }},
	obcall.ArgAMD:  {2, func(c *Center, e sb.ChannelEntered) { c.obd.Entered(e.Channel, e.Args) }},
	obcall.ArgBeep: {1, func(c *Center, e sb.ChannelEntered) { c.obd.LeaveMessage(e.Channel.ID) }},
}

func (c *Center) onEntered(e sb.ChannelEntered) {
	if len(e.Args) > 0 {
		if r, ok := enterRoles[e.Args[0]]; ok && len(e.Args) >= r.minArgs {
			r.enter(c, e)
			return
		}
	}
	c.callerEntered(e)
}

// agentLegEntered: an agent's leg (the router's offer) or a transfer
// target answered.
func (c *Center) agentLegEntered(e sb.ChannelEntered) {
	ch := e.Channel
	if c.acd.Entered(ch.ID) {
		return
	}
	k := c.calls[sb.CallID(e.Args[1])]
	if k == nil || k.life.Over() || k.agentCh != ch.ID || k.life.AgentGone() {
		// A leg for a call that is over: no one to talk to.
		c.hangupOrphan(ch.ID)
		return
	}
	c.life(k, lifecycle.AgentAnswered{})
}

// callerEntered: a caller came in (from the trunk's dialplan).
func (c *Center) callerEntered(e sb.ChannelEntered) {
	ch := e.Channel
	if c.acd.Entered(ch.ID) { // an offer whose args were lost
		return
	}
	if _, known := c.byChannel[ch.ID]; known {
		return
	}
	if c.draining {
		c.refused.Add(1)
		c.refuseBusy(ch.ID)
		return
	}
	k := c.newCall(ch, e.Header().Time)
	c.journal(k)
	c.log.Info("call entered", "call_id", k.ID, "caller", k.Caller, "called", k.Called)
	c.life(k, lifecycle.Enter{})
}

// answer answers the caller (lifecycle.Answer).
func (c *Center) answer(k *call) {
	c.do(k, func(ctx context.Context) {
		if err := c.pbx.Answer(ctx, sb.ChannelID(k.ID)); err != nil {
			c.post(func() { c.fail(k, fmt.Errorf("answer: %w", err)) })
			return
		}
		c.post(func() { c.answered0(k) })
	})
}

func (c *Center) newCall(ch sb.ChannelInfo, at time.Time) *call {
	if at.IsZero() {
		at = c.clock.Now()
	}
	k := &call{
		Call: sb.Call{
			ID: sb.CallID(ch.ID), Node: c.pbx.Node(), State: sb.CallEntered,
			Caller: ch.CallerNumber, CallerName: ch.CallerName, Called: ch.Exten, Entered: at,
		},
		exec:     newSerial(c.runCtx, &c.cmdWG),
		life:     lifecycle.New(),
		inBridge: map[sb.ChannelID]bool{},
	}
	c.seq++
	k.seq = c.seq
	c.calls[k.ID] = k
	c.byChannel[ch.ID] = k
	c.offered.Add(1)
	c.active.Add(1)
	return k
}

// answered0 runs when the caller's channel has been answered.
func (c *Center) answered0(k *call) {
	if k.life.Over() || k.life.CallerGone() {
		return
	}
	k.State = sb.CallAnswered
	k.Answered = c.clock.Now()
	c.life(k, lifecycle.AnswerDone{})
}

// startFlow starts the call's flow, if its route names one
// (lifecycle.StartFlow).
func (c *Center) startFlow(k *call) {
	if c.flows.Start(k.ID, k.Caller, k.Called, k.early, func() { k.State = sb.CallIVR }) {
		k.early = nil
		c.life(k, lifecycle.FlowStarted{})
		return
	}
	c.life(k, lifecycle.NoFlow{Greeting: len(c.cfg.Greeting) > 0})
}

// playGreeting plays the greeting (lifecycle.PlayGreeting).
func (c *Center) playGreeting(k *call) {
	k.State = sb.CallPrompting
	id := playbackID(k, "greet")
	media := c.cfg.Greeting
	// A missing prompt must not lose the call: go on to the agent.
	c.try(k, "greeting failed", func(ctx context.Context) error {
		return c.pbx.Play(ctx, sb.ChannelID(k.ID), id, media...)
	}, func(error) { c.greetingOver(k) })
}

func playbackID(k *call, what string) sb.PlaybackID {
	return sb.PlaybackID(fmt.Sprintf("%s-%s", k.ID, what))
}

func (c *Center) onPlaybackFinished(e sb.PlaybackFinished) {
	id := string(e.Playback)
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return
	}
	k := c.calls[sb.CallID(id[:i])]
	if k == nil {
		return
	}
	switch id[i+1:] {
	case "greet":
		c.greetingOver(k)
	case "noagent", "cbconfirm":
		c.life(k, lifecycle.HangUpCaller{})
	}
}

func (c *Center) greetingOver(k *call) { c.life(k, lifecycle.GreetingDone{}) }

// agentVars are the channel variables of an agent leg: what the agent's
// phone or screen can show (call id, queue, the IVR's variables).
func (c *Center) agentVars(k *call) map[string]string {
	vars := map[string]string{"SB_CALL_ID": string(k.ID)}
	if k.Queue != "" {
		vars["SB_QUEUE"] = string(k.Queue)
	}
	for name, v := range c.flows.Vars(k.ID) {
		vars["SB_"+strings.ToUpper(name)] = v
	}
	if k.ob != nil {
		d := k.ob.Dial()
		obcall.AgentVars(vars, d.Campaign, d.Attempt, d.Lead)
	}
	return vars
}

// bridge joins caller and answered agent.
func (c *Center) bridge(k *call, cmd lifecycle.Bridge) {
	bid := sb.BridgeID("br-" + string(k.ID))
	k.Bridge = bid
	agentCh := k.agentCh
	if k.ob != nil {
		c.obd.Apply(k.ob, obcall.AgentAnswered{Agent: k.Agent}) // window met; who takes it is stored first
	}
	c.do(k, func(ctx context.Context) {
		if cmd.StopMOH {
			_ = c.pbx.MusicOnHold(ctx, sb.ChannelID(k.ID), "", false)
		}
		if cmd.Create {
			if err := c.pbx.CreateBridge(ctx, bid, "call "+string(k.ID)); err != nil {
				c.post(func() { c.fail(k, fmt.Errorf("create bridge: %w", err)) })
				return
			}
		}
		if err := c.pbx.AddToBridge(ctx, bid, sb.ChannelID(k.ID), agentCh); err != nil {
			c.post(func() { c.bridgeFailed(k, err) })
		}
	})
}

// bridgeGrace is how long a refused bridge waits for the hang-up that
// usually explains it before the call is failed.
const bridgeGrace = 5 * time.Second

// bridgeFailed: the PBX refused to bridge the legs. Most often one of them
// has just hung up (Asterisk answers "Channel not found") and its hang-up
// event is on its way: the call then ends as the hang-up says. A refusal
// no hang-up explains within bridgeGrace fails the call.
func (c *Center) bridgeFailed(k *call, err error) {
	if k.life.Over() || k.life.CallerGone() || k.life.AgentGone() {
		return
	}
	code := sb.ErrorCode(err)
	if code != sb.EINVALID && code != sb.ENOTFOUND {
		c.fail(k, fmt.Errorf("bridge: %w", err))
		return
	}
	c.log.Info("bridge refused; waiting for the hang-up that explains it", "call_id", k.ID, "err", err)
	c.after(bridgeGrace, func() {
		if !k.life.Over() && !k.life.CallerGone() && !k.life.AgentGone() && k.State != sb.CallBridged {
			c.fail(k, fmt.Errorf("bridge: %w", err))
		}
	})
}

func (c *Center) checkBridged(k *call) {
	if k.State == sb.CallBridged || !k.inBridge[sb.ChannelID(k.ID)] || !k.inBridge[k.agentCh] {
		return
	}
	k.State = sb.CallBridged
	k.Bridged = c.clock.Now()
	c.life(k, lifecycle.Bridged{})
}

// transferAnswered: the flow's transfer target answered and is bridged
// (lifecycle.TransferAnswered).
func (c *Center) transferAnswered(k *call) {
	c.log.Info("call transferred", "call_id", k.ID, "channel_id", k.agentCh)
	c.flows.TransferDone(k.ID, true)
}

// talking: caller and agent are bridged (lifecycle.Connected).
func (c *Center) talking(k *call) {
	c.answered.Add(1)
	if k.ob != nil {
		c.obd.Apply(k.ob, obcall.Bridged{Agent: k.Agent})
	}
	c.log.Debug("call bridged", "call_id", k.ID, "agent_id", k.Agent)
	c.saveCard(k)
	c.journal(k)
	c.rec.Talking(k.ID)
}

// giveUp ends a call no agent took in time: the caller hears the no-agent
// prompt and is hung up.
func (c *Center) giveUp(k *call) {
	c.life(k, lifecycle.Decide{Outcome: sb.OutcomeNoAgent, By: lifecycle.BySystem})
	c.log.Info("no agent for call", "call_id", k.ID)
	c.life(k, lifecycle.SayAndHangUp{What: "noagent", Media: c.cfg.NoAgentPrompt})
}

// sayAndHangUp stops the caller's music, plays media (playback
// <call>-<what>, whose end onPlaybackFinished turns into the hang-up) and
// hangs the caller up; without media, or when the prompt fails, at once.
func (c *Center) sayAndHangUp(k *call, cmd lifecycle.Say) {
	id := playbackID(k, cmd.What)
	c.do(k, func(ctx context.Context) {
		if cmd.StopMOH {
			_ = c.pbx.MusicOnHold(ctx, sb.ChannelID(k.ID), "", false)
		}
		if len(cmd.Media) == 0 || c.pbx.Play(ctx, sb.ChannelID(k.ID), id, cmd.Media...) != nil {
			c.post(func() { c.life(k, lifecycle.HangUpCaller{}) })
		}
	})
}

// fail ends a call after a PBX failure.
func (c *Center) fail(k *call, err error) {
	if k.life.Over() {
		return
	}
	c.log.Error("call failed", "call_id", k.ID, "err", err)
	c.life(k, lifecycle.Fail{})
}

// hangupChannel hangs up a leg of k until the PBX confirms it. A leg the
// PBX no longer knows, whose end this run never heard of (the events lost
// with a reconnect), is taken as gone.
func (c *Center) hangupChannel(k *call, ch sb.ChannelID) {
	c.settle(k, "hangup", []any{"call_id", k.ID, "channel_id", ch}, c.hangupOp(ch), func(err error) {
		if sb.ErrorCode(err) == sb.ENOTFOUND && !k.life.Over() {
			c.channelGone(k, ch)
		}
	})
}

// detached runs a PBX command off the owner goroutine and outside any
// call's executor (channels of no call, or of a call whose executor may be
// closed), with the command deadline; Run waits for it.
func (c *Center) detached(f func(ctx context.Context)) {
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CommandTimeout)
		defer cancel()
		f(ctx)
	}()
}

// hangupOrphan hangs up a channel that belongs to no live call.
func (c *Center) hangupOrphan(ch sb.ChannelID) {
	c.settle(nil, "hangup", []any{"channel_id", ch}, c.hangupOp(ch), nil)
}

// refuseBusy hangs up a caller refused while draining with a busy signal
// (cause 17, user busy), so that the trunk or the caller's carrier tries
// elsewhere instead of taking the call as answered and cleared.
func (c *Center) refuseBusy(ch sb.ChannelID) {
	c.settle(nil, "refuse call while draining", []any{"channel_id", ch}, func(ctx context.Context) error {
		return c.pbx.Hangup(ctx, ch, "busy")
	}, nil)
}

// channelGone handles a leg that left (hung up, destroyed or left the app).
func (c *Center) channelGone(k *call, ch sb.ChannelID) {
	if k.life.Over() {
		return
	}
	switch {
	case ch == sb.ChannelID(k.ID):
		if k.life.CallerGone() {
			return
		}
		c.noteGone(ch)
		delete(k.inBridge, ch)
		c.life(k, lifecycle.CallerGone{})
	case ch == k.agentCh:
		if k.life.AgentGone() {
			return
		}
		c.noteGone(ch)
		delete(k.inBridge, ch)
		delete(c.byChannel, ch)
		c.life(k, lifecycle.AgentGone{})
	default:
		if !c.legGone(k, ch) {
			delete(c.byChannel, ch)
		}
		return
	}
	c.partyGone(k) // what capabilities added (a supervisor) goes with the call
	c.maybeFinish(k)
}

// callerLeft tells the flow and the campaign that the caller left
// (lifecycle.CallerLeft).
func (c *Center) callerLeft(k *call) {
	c.flows.CallerLeft(k.ID)
	if k.ob != nil {
		c.obd.Apply(k.ob, obcall.HungUp{})
	}
}

// transferFailed: the transfer target did not answer: the flow decides
// (lifecycle.TransferFailed).
func (c *Center) transferFailed(k *call) {
	k.agentCh, k.AgentChannel = "", ""
	k.State = sb.CallIVR
	if !k.life.CallerGone() {
		c.flows.TransferDone(k.ID, false)
	}
}

// rehunt: a leg the router did not connect (its ringing offers are its
// own legs, acd.Event) is gone: the router serves the caller
// (lifecycle.Rehunt).
func (c *Center) rehunt(k *call) {
	k.State = sb.CallPrompting
	k.Agent, k.AgentChannel = "", ""
	c.acd.Hunt(k.ID)
}

// noteGone remembers a leg that ended while a PBX snapshot is being
// listed, so the snapshot does not resurrect it.
func (c *Center) noteGone(ch sb.ChannelID) {
	if c.reconciling > 0 {
		c.seq++
		c.goneAt[ch] = c.seq
	}
}

// maybeFinish closes the call once its lifecycle says nothing is left: no leg
// live and no offer of the router's ringing.
func (c *Center) maybeFinish(k *call) {
	c.life(k, lifecycle.Settle{Ringing: c.acd.Ringing(k.ID)})
}

// finish ends the call as its lifecycle decided (lifecycle.Close): the
// bridge destroyed, the recordings' ends watched, the flow's timers
// stopped, the campaign told, the row written.
func (c *Center) finish(k *call, end lifecycle.Close) {
	c.acd.Untrack(k.ID)
	k.State = sb.CallEnded
	if k.adoptedAgent != "" {
		c.acd.Apply(routing.AgentReady{Agent: k.adoptedAgent})
	}
	c.partyGone(k)
	delete(c.calls, k.ID)
	delete(c.byChannel, sb.ChannelID(k.ID))
	if end.DestroyBridge {
		bid := k.Bridge
		c.do(k, func(ctx context.Context) { // in order after the call's last commands
			_ = c.trySettle(ctx, "destroy bridge", []any{"call_id", k.ID, "bridge_id", bid}, func(ctx context.Context) error {
				return c.pbx.DestroyBridge(ctx, bid)
			})
		})
	}
	k.exec.close()
	c.rec.CallOver(k.ID)
	path := c.flows.Path(k.ID)
	c.flows.Ended(k.ID)
	c.first.Ended(k.ID)
	outcome := end.Outcome
	if k.ob != nil {
		c.obd.Apply(k.ob, obcall.Finished{})
	}
	c.ended[outcome].Add(1)
	c.active.Add(-1)
	if c.obs != nil {
		c.obs.CallEnded(outcome)
	}
	row := &sb.CDR{
		CallID: k.ID, Node: k.Node, Caller: k.Caller, CallerName: k.CallerName, Called: k.Called,
		Queue: k.Queue, Agent: k.Agent, Entered: k.Entered, Answered: sb.SomeTime(k.Answered),
		Bridged: sb.SomeTime(k.Bridged), Ended: c.clock.Now(), Outcome: outcome,
		HangupCause: end.HangupCause, HangupBy: end.HangupBy, IVRPath: path,
	}
	if row.IVRPath == nil {
		row.IVRPath = k.adoptedPath
	}
	if outcome != sb.OutcomeCompleted {
		row.Agent = ""
	}
	c.log.Info("call ended", "call_id", k.ID, "outcome", outcome, "hangup_by", end.HangupBy)
	c.writeCDR(row)
}

// writeCDR stores the row off the owner goroutine.
func (c *Center) writeCDR(row *sb.CDR) {
	if c.store == nil {
		return
	}
	c.persist(func(ctx context.Context) error { return c.store.InsertCDR(ctx, row) }, func(err error) {
		c.cdrErrors.Add(1)
		c.log.Error("call log write failed", "call_id", row.CallID, "err", err)
	})
}

// persist runs a database write off the owner goroutine, retrying briefly:
// a database hiccup must not lose a call's record. ECONFLICT means an
// earlier attempt landed. Run waits for every write before it returns.
func (c *Center) persist(write func(ctx context.Context) error, failed func(error)) {
	c.writeWG.Add(1)
	go func() {
		defer c.writeWG.Done()
		var err error
		for attempt := range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = write(ctx)
			cancel()
			if err == nil || sb.ErrorCode(err) == sb.ECONFLICT {
				return
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
		failed(err)
	}()
}

func (c *Center) onEndpoint(st sb.EndpointState) {
	if !reconcile.HasState(st.Endpoint) {
		return // a Local endpoint is always online
	}
	c.acd.Endpoint(st)
}
