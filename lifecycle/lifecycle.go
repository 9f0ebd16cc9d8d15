// Package lifecycle holds the decisions of an inbound call's course: it
// is answered, hears the greeting or runs a flow, is handed to the router,
// rings agents, is bridged to the one who answers, and ends when both its
// legs are gone. It decides what either side's hang-up does to the other,
// what Switchboard's own end decisions (no agent, a failure, a forced stop,
// a callback, a flow's hang-up) ask for, and, once nothing is left live,
// the call-log outcome and what to tear down.
//
// Call.Apply takes what the PBX, the flow and the router did and returns
// what to do. Nothing here does I/O, starts goroutines or reads the clock:
// the owner (the center) maps PBX events to Events, carries out the
// Commands, and passes now.
package lifecycle

import (
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
)

// State is where a call is in its course.
//
//	entered    --Enter-------------------> entered (Answer)
//	entered    --AnswerDone--------------> answered (StartFlow)
//	answered   --NoFlow------------------> answered (PlayGreeting), or waiting (Hunt) without a greeting
//	answered   --GreetingDone------------> waiting (Hunt)
//	answered   --Queue-------------------> waiting (a flow's queue node, a campaign's person: the owner hunts)
//	waiting    --Queued------------------> waiting, music on (StartMOH)
//	waiting    --LeftQueue---------------> answered, in a flow (StopMOH)
//	answered   --AgentDialed{Transfer}---> answered, agent leg ringing (a flow's transfer)
//	any live   --AgentAnswered, Connect--> connecting (Bridge: stop the music, make the bridge once, join the legs)
//	connecting --Bridged-----------------> talking (Connected, or TransferAnswered)
//	any        --CallerGone--------------> same state, caller gone (CallerLeft; ReportEnded or ReportAbandon; CancelOffers; HangUp the agent leg)
//	talking    --AgentGone---------------> talking, agent gone (HangUp the caller)
//	connecting --AgentGone, routed-------> connecting, failed (ReportEnded; HangUp the caller)
//	waiting    --AgentGone---------------> waiting (Rehunt: a leg the router did not connect)
//	answered   --AgentGone, a transfer---> answered (TransferFailed: the flow decides)
//	any        --Decide, Fail, Interrupt, FlowHangup, SayAndHangUp, HangUpCaller--> same state, the end decided (HangUp, Say)
//	any        --Settle, both legs gone, no offer ringing--> ended (Close: the row's outcome, the bridge to destroy)
//	any        --Forget------------------> ended (nothing: an agent-first call that never connected)
//	entered    --Adopted-----------------> answered, or talking when the snapshot showed it bridged
//	talking    --RecordingsRecovered-----> talking (StartRecordings, once, for a call adopted talking)
//
// The legs' states (LegState), what the router was told (Routing), the
// music, whether the bridge was made and the end decided so far (outcome,
// who hung up, the Q.850 cause) go with the state.
type State int

// States of a call.
const (
	Entered    State = iota // in the application; the answer is on its way
	Answered                // answered: the greeting plays or a flow runs
	Waiting                 // handed to the router: queued, agents may ring
	Connecting              // an agent (or a transfer target) answered; the bridge is being made
	Talking                 // caller and agent are bridged
	Ended                   // over: the row is closed (or the call forgotten)
)

var stateNames = [...]string{"entered", "answered", "waiting", "connecting", "talking", "ended"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Leg names one of the call's two legs.
type Leg int

// The legs of a call.
const (
	CallerLeg Leg = iota // the caller's channel (the customer's, for agent-first calls)
	AgentLeg             // the agent's answered leg, or a transfer target
)

func (l Leg) String() string {
	if l == CallerLeg {
		return "caller"
	}
	return "agent"
}

// LegState is where one leg is.
//
//	none --AgentDialed--> ringing --AgentUp, AgentAnswered--> up --AgentGone--> gone
//	ringing --AgentGone--> gone; gone --AgentAnswered (another offer)--> up
//
// The caller's leg is up from the start and only ever goes to gone.
type LegState int

// States of a leg.
const (
	LegNone    LegState = iota // not dialed (no agent leg yet)
	LegRinging                 // dialed, not in the application yet
	LegUp                      // answered and in the application
	LegGone                    // ended
)

func (s LegState) live() bool { return s == LegRinging || s == LegUp }

// Routing is what the router was told of the call, so that a leg's end
// is reported to it once and as what it is.
//
//	none      --Enqueued--------------------> queued
//	none, queued --Routed-------------------> connected (an offer answered, a callback's customer, an adopted call)
//	connected --CallerGone, AgentGone-------> ended (ReportEnded)
//	queued    --CallerGone------------------> exited (ReportAbandon)
//	queued    --Exited----------------------> exited (the router let it go)
//	any but exited --GiveUpQueue------------> exited (ReportAbandon, CancelOffers)
//	queued    --CallbackTaken---------------> callback (the router keeps the request)
//	any       --LeftQueue-------------------> none (a queue in the next flow takes it afresh)
type Routing int

// What the router knows.
const (
	RouteNone      Routing = iota // not handed to the router
	RouteQueued                   // waiting in a queue
	RouteConnected                // connected to an agent
	RouteEnded                    // its end was reported (CallEnded)
	RouteExited                   // out of the queue without an agent (Exit, Abandon)
	RouteCallback                 // a callback request replaced the wait
)

// Hang-up attributions of the call-log row (HangupBy).
const (
	ByCaller = "caller"
	ByAgent  = "agent"
	BySystem = "system"
)

// causeNormal is the Q.850 cause Switchboard gives a caller it clears.
const causeNormal = 16

// Call is one inbound call's lifecycle.
type Call struct {
	state       State
	caller      LegState
	agent       LegState
	agentWasUp  bool // the current agent leg answered (it stays so once gone)
	transfer    bool // the agent leg is a flow's transfer target
	greeted     bool // the greeting is over (or there is none, or a flow took over)
	flow        bool // a flow ran
	queued      bool // a queue took the call
	moh         bool // music on hold is playing
	bridge      bool // the call's bridge was made
	talked      bool // caller and agent were bridged
	transferred bool // bridged to a transfer target, not an agent
	adopted     bool // adopted talking at a link-up: recordings to check once recovered
	routing     Routing

	outcome sb.Outcome // decided by Switchboard (no agent, failed...); "" until then
	by      string     // who hung up first
	cause   int        // the caller's hang-up cause (Q.850)
}

// New is a call whose caller just entered the application: feed it Enter.
func New() *Call { return &Call{caller: LegUp} }

// State is where the call is.
func (c *Call) State() State { return c.state }

// Over reports whether the call ended (its row closed, or forgotten).
func (c *Call) Over() bool { return c.state == Ended }

// CallerGone reports whether the caller's leg is gone.
func (c *Call) CallerGone() bool { return c.caller == LegGone }

// Agent is the agent leg's state.
func (c *Call) Agent() LegState { return c.agent }

// AgentUp reports whether the agent leg answered and is still there.
func (c *Call) AgentUp() bool { return c.agent == LegUp }

// AgentGone reports whether the agent leg ended.
func (c *Call) AgentGone() bool { return c.agent == LegGone }

// AgentAnswered reports whether the current agent leg answered, even if
// it is gone since.
func (c *Call) AgentAnswered() bool { return c.agentWasUp }

// Greeted reports whether the greeting is over (or skipped).
func (c *Call) Greeted() bool { return c.greeted }

// MOH reports whether music on hold is playing to the caller.
func (c *Call) MOH() bool { return c.moh }

// Transferred reports whether the call was bridged to a transfer target.
func (c *Call) Transferred() bool { return c.transferred }

// Routing is what the router was told of the call.
func (c *Call) Routing() Routing { return c.routing }

// RouterConnected reports whether the router connected the call to an
// agent (its end may be reported already).
func (c *Call) RouterConnected() bool {
	return c.routing == RouteConnected || c.routing == RouteEnded
}

// Decided reports whether Switchboard decided how the call ends.
func (c *Call) Decided() bool { return c.outcome != "" }

// Live reports whether the call may still be served: not over, the
// caller there and no end decided.
func (c *Call) Live() bool { return c.state != Ended && c.caller != LegGone && c.outcome == "" }

// Event is what the owner feeds a Call.
type Event interface{ isEvent() }

// Enter: the caller's channel entered the application.
type Enter struct{}

// AnswerDone: the PBX confirmed the caller's answer.
type AnswerDone struct{}

// FlowStarted: a flow runs for the call (StartFlow found one).
type FlowStarted struct{}

// NoFlow: no flow serves the call; Greeting says whether a greeting is
// configured.
type NoFlow struct{ Greeting bool }

// GreetingDone: the greeting finished (or failed: a missing prompt must
// not lose the call).
type GreetingDone struct{}

// Queue: the call was handed to a queue by a flow's queue node or as a
// campaign's person; the owner enqueues it.
type Queue struct{}

// Queued: the router holds the call: music on hold.
type Queued struct{}

// LeftQueue: a queue exit sent the call to a flow.
type LeftQueue struct{}

// Enqueued: the router took the call in a queue.
type Enqueued struct{}

// Routed: the router connected the call to an agent (its offer was
// answered; a callback's customer answered; an adopted call talking).
type Routed struct{}

// Exited: the router let the call out of its queue without an agent.
type Exited struct{}

// GiveUpQueue: Switchboard abandons the call in its queue (a campaign's
// connect window passed).
type GiveUpQueue struct{}

// CallbackTaken: the caller's wait became a callback request.
type CallbackTaken struct{}

// AgentDialed: the call's own agent leg was originated (a flow's transfer
// target when Transfer, an agent-first call's agent otherwise).
type AgentDialed struct{ Transfer bool }

// AgentUp: the agent leg answered, with nothing to bridge yet (an
// agent-first call dials its customer now).
type AgentUp struct{}

// AgentAnswered: an agent leg (the router's answered offer, a transfer
// target, one found answered at a reconcile) entered: it is bridged.
type AgentAnswered struct{}

// Connect: bridge caller and agent (an agent-first call's customer
// answered).
type Connect struct{}

// Bridged: both legs are in the bridge.
type Bridged struct{}

// Hungup: a hang-up of the leg was heard, with its cause (0: none given).
// It says who ended the call; the leg's end itself is CallerGone or
// AgentGone.
type Hungup struct {
	Leg   Leg
	Cause int
}

// CallerGone: the caller's leg is gone. Placing: an agent-first call
// still being placed, whose own machine decides (the leg is only marked).
type CallerGone struct{ Placing bool }

// AgentGone: the agent leg is gone. Placing as for CallerGone.
type AgentGone struct{ Placing bool }

// Decide: Switchboard decided how the call ends (no agent, a callback, a
// campaign's abandon); it overrides what was decided before.
type Decide struct {
	Outcome sb.Outcome
	By      string
}

// Fail: a PBX failure ends the call (failed, unless it talked or its end
// was decided).
type Fail struct{}

// Interrupt: a forced stop hangs the call up (interrupted, unless its end
// was decided; a call that talked stays completed).
type Interrupt struct{}

// FlowHangup: the flow hung up (ivr, or voicemail once one was left).
type FlowHangup struct{ Voicemail bool }

// VoicemailKept: a message being recorded when the caller left is kept.
type VoicemailKept struct{}

// SayAndHangUp: play Media (playback What) to the caller, then hang up.
type SayAndHangUp struct {
	What  string
	Media []string
}

// HangUpCaller: hang the caller up (a prompt is over, or failed).
type HangUpCaller struct{}

// Adopted: the call was found in the application at a link-up. Bridge:
// in its bridge; Agent: with its agent there (talking); Gone: the caller
// hung up since the listing.
type Adopted struct{ Bridge, Agent, Gone bool }

// RecordingsRecovered: the recordings of the link-up were taken up.
type RecordingsRecovered struct{}

// Settle: the owner carried out a leg's end; Ringing counts the router's
// offers still ringing for the call. The call closes when nothing is left.
type Settle struct{ Ringing int }

// Forget: an agent-first call that never connected is over; it has no row.
type Forget struct{}

func (Enter) isEvent()               {}
func (AnswerDone) isEvent()          {}
func (FlowStarted) isEvent()         {}
func (NoFlow) isEvent()              {}
func (GreetingDone) isEvent()        {}
func (Queue) isEvent()               {}
func (Queued) isEvent()              {}
func (LeftQueue) isEvent()           {}
func (Enqueued) isEvent()            {}
func (Routed) isEvent()              {}
func (Exited) isEvent()              {}
func (GiveUpQueue) isEvent()         {}
func (CallbackTaken) isEvent()       {}
func (AgentDialed) isEvent()         {}
func (AgentUp) isEvent()             {}
func (AgentAnswered) isEvent()       {}
func (Connect) isEvent()             {}
func (Bridged) isEvent()             {}
func (Hungup) isEvent()              {}
func (CallerGone) isEvent()          {}
func (AgentGone) isEvent()           {}
func (Decide) isEvent()              {}
func (Fail) isEvent()                {}
func (Interrupt) isEvent()           {}
func (FlowHangup) isEvent()          {}
func (VoicemailKept) isEvent()       {}
func (SayAndHangUp) isEvent()        {}
func (HangUpCaller) isEvent()        {}
func (Adopted) isEvent()             {}
func (RecordingsRecovered) isEvent() {}
func (Settle) isEvent()              {}
func (Forget) isEvent()              {}

// Command is what a Call asks its owner to do.
type Command interface{ isCommand() }

// Answer answers the caller; Answered (or Fail) comes back.
type Answer struct{}

// StartFlow starts the flow the call's route names; FlowStarted or
// NoFlow comes back.
type StartFlow struct{}

// PlayGreeting plays the greeting; GreetingDone comes back.
type PlayGreeting struct{}

// Hunt hands the call to the router.
type Hunt struct{}

// Rehunt hands the call back to the router after an agent leg it did not
// connect went away.
type Rehunt struct{}

// StartMOH starts music on hold.
type StartMOH struct{}

// StopMOH stops music on hold.
type StopMOH struct{}

// Bridge joins caller and agent: stop the music first when StopMOH, make
// the bridge first when Create.
type Bridge struct{ Create, StopMOH bool }

// Connected: caller and agent talk: count the answer, tell the campaign,
// start the recordings the policy asks for.
type Connected struct{}

// StartRecordings starts the recordings of a call adopted talking, if
// none was taken up (the crash came between the bridge and the start).
type StartRecordings struct{}

// TransferAnswered: the flow's transfer target answered and is bridged.
type TransferAnswered struct{}

// TransferFailed: the flow's transfer target did not answer; the flow
// decides (if the caller is still there).
type TransferFailed struct{}

// CallerLeft: the caller left: tell the flow, the campaign and the router.
type CallerLeft struct{}

// ReportEnded tells the router the connected call ended (CallEnded);
// ByAgent: the agent's leg ended first.
type ReportEnded struct{ ByAgent bool }

// ReportAbandon tells the router the caller left the queue (Abandon).
type ReportAbandon struct{}

// CancelOffers hangs up the agent legs still ringing for the call.
type CancelOffers struct{}

// HangUp hangs up a leg until the PBX confirms it.
type HangUp struct{ Leg Leg }

// Say stops the music when StopMOH, plays Media as playback What, and
// hangs the caller up when it ends (at once without media).
type Say struct {
	What    string
	Media   []string
	StopMOH bool
}

// Close ends the call: destroy its bridge when DestroyBridge, stop its
// recordings, and close its row with Outcome, HangupBy and HangupCause.
type Close struct {
	Outcome       sb.Outcome
	HangupBy      string
	HangupCause   int
	DestroyBridge bool
}

func (Answer) isCommand()           {}
func (StartFlow) isCommand()        {}
func (PlayGreeting) isCommand()     {}
func (Hunt) isCommand()             {}
func (Rehunt) isCommand()           {}
func (StartMOH) isCommand()         {}
func (StopMOH) isCommand()          {}
func (Bridge) isCommand()           {}
func (Connected) isCommand()        {}
func (StartRecordings) isCommand()  {}
func (TransferAnswered) isCommand() {}
func (TransferFailed) isCommand()   {}
func (CallerLeft) isCommand()       {}
func (ReportEnded) isCommand()      {}
func (ReportAbandon) isCommand()    {}
func (CancelOffers) isCommand()     {}
func (HangUp) isCommand()           {}
func (Say) isCommand()              {}
func (Close) isCommand()            {}

// Apply applies one event at now and returns what to do, in order. Once
// the call is over every event returns nothing.
func (c *Call) Apply(e Event, now time.Time) []Command {
	if c.state == Ended {
		return nil
	}
	switch e := e.(type) {
	case Enter:
		return []Command{Answer{}}
	case AnswerDone:
		if c.caller == LegGone {
			return nil
		}
		c.state = Answered
		return []Command{StartFlow{}}
	case FlowStarted:
		c.flow = true
	case NoFlow:
		if e.Greeting {
			return []Command{PlayGreeting{}}
		}
		c.greeted = true
		c.state = Waiting
		return []Command{Hunt{}}
	case GreetingDone:
		if c.greeted {
			return nil
		}
		c.greeted = true
		c.state = Waiting
		return []Command{Hunt{}}
	case Queue:
		c.greeted, c.queued = true, true
		c.state = Waiting
	case Queued:
		if c.caller == LegGone || c.moh {
			return nil
		}
		c.moh = true
		return []Command{StartMOH{}}
	case Enqueued:
		if c.routing == RouteNone {
			c.routing = RouteQueued
		}
	case Routed:
		c.routing = RouteConnected
	case Exited:
		c.routing = RouteExited
	case GiveUpQueue:
		if c.routing == RouteExited {
			return nil
		}
		c.routing = RouteExited
		return []Command{ReportAbandon{}, CancelOffers{}}
	case CallbackTaken:
		c.routing = RouteCallback
	case LeftQueue:
		c.state, c.flow, c.routing = Answered, true, RouteNone
		if c.moh {
			c.moh = false
			return []Command{StopMOH{}}
		}
	case AgentDialed:
		c.agent, c.agentWasUp, c.transfer = LegRinging, false, e.Transfer
	case AgentUp:
		c.agent, c.agentWasUp = LegUp, true
	case AgentAnswered:
		c.agent, c.agentWasUp = LegUp, true
		return c.connect()
	case Connect:
		return c.connect()
	case Bridged:
		if c.state == Talking {
			return nil
		}
		c.state, c.talked = Talking, true
		if c.transfer {
			c.transfer, c.transferred = false, true
			return []Command{TransferAnswered{}}
		}
		return []Command{Connected{}}
	case Hungup:
		c.hungup(e)
	case CallerGone:
		if c.caller == LegGone {
			return nil
		}
		c.caller = LegGone
		if e.Placing {
			return nil
		}
		cmds := []Command{CallerLeft{}}
		switch c.routing {
		case RouteConnected:
			c.routing = RouteEnded
			cmds = append(cmds, ReportEnded{})
		case RouteQueued:
			c.routing = RouteExited
			cmds = append(cmds, ReportAbandon{})
		}
		// The router cancels the offers of an abandoned call; make sure.
		cmds = append(cmds, CancelOffers{})
		if c.agent.live() {
			cmds = append(cmds, HangUp{Leg: AgentLeg})
		}
		return cmds
	case AgentGone:
		if c.agent == LegGone {
			return nil
		}
		c.agent = LegGone
		if e.Placing {
			return nil
		}
		return c.agentGone()
	case Decide:
		c.outcome, c.by = e.Outcome, e.By
	case Fail:
		if c.outcome == "" && c.state != Talking {
			c.outcome = sb.OutcomeFailed
		}
		c.decideBy()
		cmds := c.hangUpCaller()
		if c.agent.live() {
			cmds = append(cmds, HangUp{Leg: AgentLeg})
		}
		return cmds
	case Interrupt:
		c.decideBy()
		if c.outcome == "" {
			c.outcome = sb.OutcomeInterrupted
		}
		cmds := c.hangUpCaller()
		if c.agent.live() {
			cmds = append(cmds, HangUp{Leg: AgentLeg})
		}
		return cmds
	case FlowHangup:
		if c.outcome == "" {
			c.outcome = sb.OutcomeIVR
			if e.Voicemail {
				c.outcome = sb.OutcomeVoicemail
			}
		}
		c.decideBy()
		return c.hangUpCaller()
	case VoicemailKept:
		if c.outcome == "" {
			c.outcome = sb.OutcomeVoicemail
		}
	case SayAndHangUp:
		moh := c.moh
		c.moh = false
		return []Command{Say{What: e.What, Media: e.Media, StopMOH: moh}}
	case HangUpCaller:
		return c.hangUpCaller()
	case Adopted:
		c.greeted, c.bridge = true, e.Bridge
		c.state = Answered
		if e.Agent {
			c.agent, c.agentWasUp = LegUp, true
			c.state, c.talked, c.adopted = Talking, true, !e.Gone
		}
	case RecordingsRecovered:
		if !c.adopted {
			return nil
		}
		c.adopted = false
		if c.state == Talking {
			return []Command{StartRecordings{}}
		}
	case Settle:
		if c.caller != LegGone || c.agent.live() || e.Ringing > 0 {
			return nil
		}
		c.state = Ended
		return []Command{Close{Outcome: c.endOutcome(), HangupBy: c.by, HangupCause: c.cause, DestroyBridge: c.bridge}}
	case Forget:
		c.state = Ended
	}
	return nil
}

// connect bridges the legs, or hangs up the agent of a caller who left.
func (c *Call) connect() []Command {
	if c.caller == LegGone {
		return []Command{HangUp{Leg: AgentLeg}}
	}
	if c.state != Talking {
		c.state = Connecting
	}
	cmd := Bridge{Create: !c.bridge, StopMOH: c.moh}
	c.bridge, c.moh = true, false
	return []Command{cmd}
}

// agentGone decides what the agent leg's end does to the caller: a call
// that talked, or whose end is decided, hangs up; an unanswered transfer
// goes back to its flow; any other leg the router did not connect hands
// the caller back to the router.
func (c *Call) agentGone() []Command {
	var cmds []Command
	if c.routing == RouteConnected {
		c.routing = RouteEnded
		cmds = append(cmds, ReportEnded{ByAgent: c.caller != LegGone})
		if c.state != Talking && c.outcome == "" {
			// The agent left before the bridge was up: the caller is
			// not offered again, the call ends.
			c.outcome = sb.OutcomeFailed
		}
	}
	switch {
	case c.state == Talking || c.outcome != "":
		return append(cmds, c.hangUpCaller()...)
	case c.transfer:
		c.transfer, c.agent = false, LegNone
		c.state = Answered
		return append(cmds, TransferFailed{})
	case c.caller != LegGone:
		c.state = Waiting
		return append(cmds, Rehunt{})
	}
	return cmds
}

// hungup notes who ended the call: the caller, or the agent's own
// answered leg; and the caller's cause.
func (c *Call) hungup(h Hungup) {
	if c.by == "" {
		switch {
		case h.Leg == CallerLeg:
			c.by = ByCaller
		case c.agentWasUp:
			c.by = ByAgent
		}
	}
	if h.Leg == CallerLeg && h.Cause != 0 && c.cause == 0 {
		c.cause = h.Cause
	}
}

func (c *Call) decideBy() {
	if c.by == "" {
		c.by = BySystem
	}
}

// hangUpCaller hangs up a caller still there, as a normal clearing unless
// a cause was heard.
func (c *Call) hangUpCaller() []Command {
	if c.caller == LegGone {
		return nil
	}
	if c.cause == 0 {
		c.cause = causeNormal
	}
	return []Command{HangUp{Leg: CallerLeg}}
}

// endOutcome is the row's outcome: a transfer, a call that talked
// (completed), what Switchboard decided, or the caller's leaving (in a
// flow before any queue: ivr; else abandoned).
func (c *Call) endOutcome() sb.Outcome {
	switch {
	case c.transferred:
		return sb.OutcomeTransferred
	case c.talked:
		return sb.OutcomeCompleted
	case c.outcome != "":
		return c.outcome
	case c.flow && !c.queued:
		return sb.OutcomeIVR
	}
	return sb.OutcomeAbandoned
}
