package routing

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// Msg is something the router is told. Concrete types: Tick, AgentLogin,
// AgentLogout, AgentPause, AgentReady, AgentEndWrapUp, EndpointReachable,
// Enqueue, Abandon, OfferAnswered, OfferFailed, CallEnded, CallbackRequest,
// CallbackResult.
type Msg interface{ isMsg() }

// Tick carries no news: it lets timers due by now fire (ring timeouts,
// wrap-up ends, escalation steps, announcements, max wait, preferred-agent
// windows, callback retries and windows). Every Apply fires due timers, so
// Tick is only needed when nothing else arrives before NextWake.
type Tick struct{}

// AgentLogin logs an agent in (from the keypad after the owner checked the
// PIN with VerifyPIN, or from the API). Endpoint, when set, replaces the
// configured endpoint for this session (hot-desking). Paused logs the agent
// in paused with Reason.
type AgentLogin struct {
	Agent    sb.AgentID
	Endpoint string
	Paused   bool
	Reason   string
}

// AgentLogout logs an agent out. A ringing offer is cancelled and the
// caller keeps his place; a call in progress goes on without wrap-up.
type AgentLogout struct {
	Agent  sb.AgentID
	Reason string
}

// AgentPause pauses an agent with a reason code. An agent ringing, on a
// call or in wrap-up finishes that first and is then paused.
type AgentPause struct {
	Agent  sb.AgentID
	Reason string
}

// AgentReady unpauses an agent, ends a wrap-up early and clears the count
// of unanswered offers.
type AgentReady struct{ Agent sb.AgentID }

// AgentEndWrapUp ends an agent's wrap-up early.
type AgentEndWrapUp struct{ Agent sb.AgentID }

// EndpointReachable reports an agent's phone registered and reachable, or
// not (from the PBX's endpoint state events).
type EndpointReachable struct {
	Agent     sb.AgentID
	Reachable bool
}

// Enqueue puts a caller in a queue. EnteredAt orders callers of equal
// priority (zero: now); a caller moved from another queue keeps its
// original time and so its seniority. Priority: higher first. Preferred,
// when set and the queue has a PreferredWait, is offered the call alone for
// that long. Caller is written to the ENTERQUEUE line. Skills are the
// caller's own requirements (an IVR queue node's skills:, NAME: VALUE; see
// "Caller requirements" in the package documentation): only an agent who
// meets them all is offered the call.
type Enqueue struct {
	Call      sb.CallID
	Queue     sb.QueueName
	Priority  int
	EnteredAt time.Time
	Preferred sb.AgentID
	Caller    string
	Vars      map[string]string
	Skills    map[string]string
	// CallbackNumber, when set, queues the call as a callback request to
	// this number (no caller waits on the line): a request kept across a
	// restart, put back at the place EnteredAt gives it.
	CallbackNumber string
}

// Abandon: the caller hung up before an agent answered, or a callback was
// withdrawn.
type Abandon struct{ Call sb.CallID }

// OfferAnswered: the agent answered the offer and is bridged to the caller.
// Channel is the agent leg's channel, written to the CONNECT line.
type OfferAnswered struct {
	Call    sb.CallID
	Agent   sb.AgentID
	Channel sb.ChannelID
}

// FailReason says why an offer was not answered.
type FailReason string

// Reasons an offer fails.
const (
	// FailNoAnswer: the phone rang out; counts toward auto-pause.
	FailNoAnswer FailReason = "noanswer"
	// FailRejected: the agent declined; counts toward auto-pause.
	FailRejected FailReason = "rejected"
	// FailBusy: the phone was busy; the agent is skipped for Config.BusyBackoff.
	FailBusy FailReason = "busy"
	// FailUnreachable: the phone could not be reached; the agent is skipped
	// until EndpointReachable{true} or Config.UnreachableBackoff passes.
	FailUnreachable FailReason = "unreachable"
)

// OfferFailed: the offer to one agent failed. The caller returns to its
// place when no other agent is still ringing for it.
type OfferFailed struct {
	Call  sb.CallID
	Agent sb.AgentID
	Why   FailReason
}

// CallEnded: an answered call ended. ByAgent says the agent hung up first
// (COMPLETEAGENT rather than COMPLETECALLER). The agent goes to wrap-up.
type CallEnded struct {
	Call    sb.CallID
	Agent   sb.AgentID
	ByAgent bool
}

// Adopt: a call found talking to an agent after the controller restarted
// (the router never saw it). The agent is on that call until CallEnded,
// which writes COMPLETECALLER or COMPLETEAGENT with the hold and talk
// times the stored call card gives and starts wrap-up; ENTERQUEUE and
// CONNECT were written before the restart and are not written again.
// Ignored for an unknown queue or agent, a call the router has, or an
// agent already on a call.
type Adopt struct {
	Call       sb.CallID
	Queue      sb.QueueName
	Agent      sb.AgentID
	EnteredAt  time.Time // when the caller entered the queue
	AnsweredAt time.Time // when the agent answered
}

// CallbackRequest: the waiting caller pressed the callback key and will
// hang up. The request keeps the caller's place and counts in estimated
// wait; when its turn comes the router emits StartCallback.
type CallbackRequest struct {
	Call   sb.CallID
	Number string
}

// CallbackOutcome is how a started callback went.
type CallbackOutcome string

// Callback outcomes.
const (
	// CallbackConnected: agent and customer are talking (like OfferAnswered).
	CallbackConnected CallbackOutcome = "connected"
	// CallbackAgentFailed: the agent leg failed (like OfferFailed, with Why).
	CallbackAgentFailed CallbackOutcome = "agent-failed"
	// CallbackCustomerFailed: the customer did not answer. The agent is
	// free again; the request is retried after the queue's CallbackRetry,
	// keeping its place, up to CallbackAttempts, then exits.
	CallbackCustomerFailed CallbackOutcome = "customer-failed"
)

// CallbackResult reports how a StartCallback went.
type CallbackResult struct {
	Call    sb.CallID
	Agent   sb.AgentID
	Outcome CallbackOutcome
	Why     FailReason // for CallbackAgentFailed
}

func (Tick) isMsg()              {}
func (AgentLogin) isMsg()        {}
func (AgentLogout) isMsg()       {}
func (AgentPause) isMsg()        {}
func (AgentReady) isMsg()        {}
func (AgentEndWrapUp) isMsg()    {}
func (EndpointReachable) isMsg() {}
func (Enqueue) isMsg()           {}
func (Adopt) isMsg()             {}
func (Abandon) isMsg()           {}
func (OfferAnswered) isMsg()     {}
func (OfferFailed) isMsg()       {}
func (CallEnded) isMsg()         {}
func (CallbackRequest) isMsg()   {}
func (CallbackResult) isMsg()    {}

// Action is something the owner must do. Concrete types: Offer,
// CancelOffer, Queued, Exit, Announce, OfferCallback, StartCallback,
// AgentState, QueueLog, Ignored.
type Action interface{ isAction() }

// Offer: ring these agents for the call (several only for ring-all) for
// Timeout. Endpoints are the agents' endpoints, index for index. The owner
// reports each agent's OfferAnswered or OfferFailed; if it reports nothing
// the router gives up Config.RingGrace after Timeout with CancelOffer.
type Offer struct {
	Call      sb.CallID
	Queue     sb.QueueName
	Agents    []sb.AgentID
	Endpoints []string
	Timeout   time.Duration
}

// CancelReason says why an offer is withdrawn.
type CancelReason string

// Reasons for CancelOffer.
const (
	CancelAnsweredElsewhere CancelReason = "answered-elsewhere" // ring-all: another agent answered
	CancelCallerLeft        CancelReason = "caller-left"        // abandon, or callback requested
	CancelTimeout           CancelReason = "timeout"            // ring timeout at the router
	CancelAgentLoggedOut    CancelReason = "logged-out"
)

// CancelOffer: stop ringing this agent for the call (hang up the agent leg).
type CancelOffer struct {
	Call   sb.CallID
	Agent  sb.AgentID
	Reason CancelReason
}

// Queued: the caller joined the queue; play music on hold of MusicClass.
type Queued struct {
	Call          sb.CallID
	Queue         sb.QueueName
	Position      int
	EstimatedWait time.Duration
	MusicClass    string
}

// ExitReason says why a caller left a queue without an agent.
type ExitReason string

// Exit reasons.
const (
	ExitMaxWait        ExitReason = "max-wait"        // waited the queue's WaitForAgent
	ExitFull           ExitReason = "max-length"      // the queue had MaxLen callers
	ExitJoinEmpty      ExitReason = "join-empty"      // JoinEmpty policy refused the caller
	ExitEmpty          ExitReason = "empty"           // LeaveWhenEmpty policy removed the caller
	ExitEscalation     ExitReason = "escalation"      // an escalation step's Exit
	ExitCallbackFailed ExitReason = "callback-failed" // the customer never answered a callback
	ExitUnknownQueue   ExitReason = "unknown-queue"   // Enqueue named no configured queue
)

// Exit: the caller leaves the queue without an agent; send it to Target (a
// flow/node name, "voicemail", ... as the owner interprets; may be empty).
type Exit struct {
	Call   sb.CallID
	Queue  sb.QueueName
	Reason ExitReason
	Target string
}

// Announce: tell the waiting caller his position and/or estimated wait
// (SayPosition, SayWait from the queue's configuration).
type Announce struct {
	Call          sb.CallID
	Position      int
	EstimatedWait time.Duration
	SayPosition   bool
	SayWait       bool
}

// OfferCallback: an escalation step offers the waiting caller a callback
// (play the prompt; a key press comes back as CallbackRequest).
type OfferCallback struct {
	Call  sb.CallID
	Queue sb.QueueName
}

// StartCallback: the callback's turn has come: call the agent first and,
// when he answers, the customer's Number; report with CallbackResult.
type StartCallback struct {
	Call     sb.CallID
	Queue    sb.QueueName
	Agent    sb.AgentID
	Endpoint string
	Number   string
}

// AgentState: the agent's state changed (for the API, the database and the
// agent's phone display). Call is the offer or call for reserved, on-call
// and wrap-up.
type AgentState struct {
	Agent  sb.AgentID
	State  State
	Reason string
	Call   sb.CallID
}

// Queue-log event names, as app_queue writes them.
const (
	LogEnterQueue      = "ENTERQUEUE"      // url, callerid
	LogConnect         = "CONNECT"         // holdtime, bridged channel uniqueid, ringtime
	LogCompleteAgent   = "COMPLETEAGENT"   // holdtime, calltime, origposition
	LogCompleteCaller  = "COMPLETECALLER"  // holdtime, calltime, origposition
	LogAbandon         = "ABANDON"         // position, origposition, waittime
	LogRingNoAnswer    = "RINGNOANSWER"    // ringtime (ms)
	LogRingCanceled    = "RINGCANCELED"    // ringtime (ms)
	LogExitWithTimeout = "EXITWITHTIMEOUT" // position, origposition, waittime
	LogExitEmpty       = "EXITEMPTY"       // position, origposition, waittime
	LogFull            = "FULL"            // (none)
	LogJoinEmpty       = "JOINEMPTY"       // (none)
	LogPause           = "PAUSE"           // reason
	LogUnpause         = "UNPAUSE"         // reason
	LogPauseAll        = "PAUSEALL"        // reason
	LogUnpauseAll      = "UNPAUSEALL"      // reason
	LogAddMember       = "ADDMEMBER"       // (none)
	LogRemoveMember    = "REMOVEMEMBER"    // (none)
	LogAgentLogin      = "AGENTLOGIN"      // channel
	LogAgentLogoff     = "AGENTLOGOFF"     // channel, logintime
)

// QueueLog is one queue_log line: time|callid|queue|agent|event|data...
// An empty CallID, Queue or Agent is written "NONE", as app_queue does.
type QueueLog struct {
	Time   time.Time
	CallID sb.CallID
	Queue  sb.QueueName
	Agent  sb.AgentID
	Event  string
	Data   []string
}

// Ignored: the message did not apply (unknown agent or call, or stale: an
// answer for an offer already cancelled). The owner should clean up its own
// side (e.g. hang up an agent leg that answered too late) and may log it.
type Ignored struct {
	Msg Msg
	Why string
}

func (Offer) isAction()         {}
func (CancelOffer) isAction()   {}
func (Queued) isAction()        {}
func (Exit) isAction()          {}
func (Announce) isAction()      {}
func (OfferCallback) isAction() {}
func (StartCallback) isAction() {}
func (AgentState) isAction()    {}
func (QueueLog) isAction()      {}
func (Ignored) isAction()       {}

// State is an agent's state, derived as the package documentation shows.
type State string

// Agent states.
const (
	StateLoggedOut   State = "logged-out"
	StateAvailable   State = "available"
	StateReserved    State = "reserved" // ringing an offer (or a callback)
	StateOnCall      State = "on-call"
	StateWrapUp      State = "wrap-up"
	StatePaused      State = "paused"
	StateUnavailable State = "unavailable" // endpoint unreachable, or busy back-off
)

// States lists every agent state.
var States = []State{StateLoggedOut, StateAvailable, StateReserved, StateOnCall, StateWrapUp, StatePaused, StateUnavailable}

// ReasonNoAnswer is the pause reason of an agent auto-paused after
// MaxNoAnswer unanswered offers in a row.
const ReasonNoAnswer = "no answer"
