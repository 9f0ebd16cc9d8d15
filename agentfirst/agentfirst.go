// Package agentfirst holds the decisions of an agent-first call: a
// callback the router says is due, or a preview dial an agent chose from
// a campaign. The agent's phone rings first; once the agent answers the
// customer is dialed; once the customer answers both are bridged and the
// call is an ordinary call. Before that, either leg's end hangs up the
// other, and once both are gone the attempt's outcome is reported: to the
// router for a callback (which retries or gives up the request), to the
// campaign for a preview dial.
//
// Call.Step takes what the PBX and the router did and returns what to do.
// Nothing here does I/O, starts goroutines or reads the clock: the owner
// passes now.
package agentfirst

import (
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/routing"
)

// Kind is what an agent-first call places.
type Kind int

// Kinds of agent-first calls.
const (
	// Callback: a caller's callback request; its outcome goes to the
	// router, the request's state to the callback store.
	Callback Kind = iota
	// Preview: a campaign lead an agent chose; its outcome goes to the
	// campaign and frees the agent.
	Preview
)

// Phase is where an agent-first call is.
//
//	agent-ringing    --AgentEntered----------------------> customer-ringing (dial the customer)
//	customer-ringing --CustomerEntered-------------------> answered (tell the router or campaign)
//	answered         --Accepted--------------------------> connected (bridge; the machine is done)
//	answered         --Rejected--------------------------> answered, withdrawn (hang up both legs)
//	any before connected --AgentGone, CustomerGone-------> same phase, that leg gone (hang up the other)
//	any before connected --Cancel------------------------> same phase, withdrawn (hang up the legs)
//	any before connected --the last leg gone-------------> over (report the outcome)
//
// The legs' states (LegState) and the outcome to report (Result) go with
// the phase: a leg that enters when it is not wanted is hung up.
type Phase int

// Phases of an agent-first call.
const (
	AgentRinging    Phase = iota // the agent's phone rings (its originate may be on its way)
	CustomerRinging              // the agent answered; the customer is being dialed
	Answered                     // the customer answered; the router (or campaign) is told
	Connected                    // agent and customer are bridged: an ordinary call from here
	Over                         // both legs gone before connecting; the outcome is reported
)

var phaseNames = [...]string{"agent-ringing", "customer-ringing", "answered", "connected", "over"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Leg names one of the call's two legs.
type Leg int

// The legs of an agent-first call.
const (
	AgentLeg    Leg = iota // dialed first
	CustomerLeg            // dialed once the agent answered
)

func (l Leg) String() string {
	if l == AgentLeg {
		return "agent"
	}
	return "customer"
}

// LegState is where one leg is.
//
//	none --dialed--> ringing --entered--> up --gone--> gone
//	ringing --gone--> gone
type LegState int

// States of a leg.
const (
	LegNone    LegState = iota // not dialed
	LegRinging                 // dialed, not in the application yet
	LegUp                      // answered and in the application
	LegGone                    // ended
)

// live reports whether the leg was dialed and has not ended.
func (s LegState) live() bool { return s == LegRinging || s == LegUp }

// Result is what the attempt comes to, decided by the first leg to end
// (or the router's withdrawal) and reported once both legs are gone.
type Result int

// Results of an attempt that does not connect.
const (
	ResultNone           Result = iota // nothing decided yet
	ResultAgentFailed                  // the agent leg ended first (Why says how)
	ResultCustomerFailed               // the customer did not answer (or hung up first)
	ResultWithdrawn                    // the router withdrew it, or refused its answer: report nothing
)

// Call is one agent-first call's state.
type Call struct {
	kind     Kind
	phase    Phase
	agent    LegState
	customer LegState
	result   Result
	why      routing.FailReason
	cause    int // the customer leg's hang-up cause (Q.850)
}

// New is an agent-first call about to ring its agent: feed it Ring.
func New(kind Kind) *Call { return &Call{kind: kind} }

// Phase is where the call is.
func (c *Call) Phase() Phase { return c.phase }

// Pending reports whether the call is still being placed (not connected
// and not over): its legs' events are this machine's.
func (c *Call) Pending() bool { return c.phase < Connected }

// Legs are the states of the agent's and the customer's legs.
func (c *Call) Legs() (agent, customer LegState) { return c.agent, c.customer }

// Result is the outcome decided so far.
func (c *Call) Result() Result { return c.result }

// Event is what the owner feeds a Call.
type Event interface{ isEvent() }

// Ring starts the call: the agent's phone is rung.
type Ring struct{}

// AgentEntered: the agent answered; the agent leg entered the application.
type AgentEntered struct{}

// CustomerEntered: the customer answered; the customer leg entered.
type CustomerEntered struct{}

// Accepted: the router (or the campaign) took the customer's answer.
type Accepted struct{}

// Rejected: the router refused the answer (the callback was given up
// meanwhile): both legs are hung up and nothing is reported.
type Rejected struct{ Err error }

// AgentGone: the agent leg ended (or its originate failed); Why is its
// cause as the router knows it.
type AgentGone struct{ Why routing.FailReason }

// CustomerGone: the customer leg ended (or its originate failed) with
// this Q.850 cause.
type CustomerGone struct{ Cause int }

// Cancel: the router withdrew the callback (its dial timeout passed):
// the legs are hung up and nothing is reported.
type Cancel struct{}

func (Ring) isEvent()            {}
func (AgentEntered) isEvent()    {}
func (CustomerEntered) isEvent() {}
func (Accepted) isEvent()        {}
func (Rejected) isEvent()        {}
func (AgentGone) isEvent()       {}
func (CustomerGone) isEvent()    {}
func (Cancel) isEvent()          {}

// Command is what a Call asks its owner to do.
type Command interface{ isCommand() }

// RingAgent originates the agent's leg; AgentEntered or AgentGone comes
// back.
type RingAgent struct{}

// DialCustomer originates the customer's leg from the agent's; Customer
// Entered or CustomerGone comes back.
type DialCustomer struct{}

// Hangup hangs up a leg of the call.
type Hangup struct{ Leg Leg }

// Refuse hangs up a leg that entered when it was not wanted, as no
// call's channel (it is gone from the call, or the call is past it).
type Refuse struct{ Leg Leg }

// ReportAnswered tells the router (a callback: CallbackResult connected)
// or the campaign (a preview: answered) that the customer answered;
// Accepted or Rejected comes back.
type ReportAnswered struct{}

// CloseRequest writes the callback request's final state.
type CloseRequest struct{ State string }

// Bridge connects agent and customer; At is when the customer answered.
type Bridge struct{ At time.Time }

// Forget ends the call: both legs are gone before it connected.
type Forget struct{}

// ReportCallback tells the router how a callback attempt went.
type ReportCallback struct {
	Outcome routing.CallbackOutcome
	Why     routing.FailReason // for CallbackAgentFailed
}

// ReportPreview tells the campaign how a preview dial that never
// connected went, and frees its agent.
type ReportPreview struct{ Outcome sb.DialOutcome }

func (RingAgent) isCommand()      {}
func (DialCustomer) isCommand()   {}
func (Hangup) isCommand()         {}
func (Refuse) isCommand()         {}
func (ReportAnswered) isCommand() {}
func (CloseRequest) isCommand()   {}
func (Bridge) isCommand()         {}
func (Forget) isCommand()         {}
func (ReportCallback) isCommand() {}
func (ReportPreview) isCommand()  {}

// Step applies one event at now and returns what to do. Events once the
// call is connected or over are not its business: they return nothing
// (an entering leg is refused).
func (c *Call) Step(e Event, now time.Time) []Command {
	if !c.Pending() {
		switch e.(type) {
		case AgentEntered:
			return []Command{Refuse{Leg: AgentLeg}}
		case CustomerEntered:
			return []Command{Refuse{Leg: CustomerLeg}}
		}
		return nil
	}
	switch e := e.(type) {
	case Ring:
		if c.agent != LegNone {
			return nil
		}
		c.agent = LegRinging
		return []Command{RingAgent{}}
	case AgentEntered:
		if c.phase != AgentRinging || c.agent != LegRinging {
			return []Command{Refuse{Leg: AgentLeg}}
		}
		if c.result == ResultWithdrawn {
			return []Command{Hangup{Leg: AgentLeg}}
		}
		c.agent, c.customer, c.phase = LegUp, LegRinging, CustomerRinging
		return []Command{DialCustomer{}}
	case CustomerEntered:
		if c.phase != CustomerRinging || c.customer != LegRinging {
			return []Command{Refuse{Leg: CustomerLeg}}
		}
		if c.result == ResultWithdrawn || c.agent == LegGone {
			return []Command{Hangup{Leg: CustomerLeg}}
		}
		c.customer, c.phase = LegUp, Answered
		return []Command{ReportAnswered{}}
	case Accepted:
		if c.phase != Answered || c.result != ResultNone {
			return nil
		}
		c.phase = Connected
		if c.kind == Callback {
			return []Command{CloseRequest{State: "connected"}, Bridge{At: now}}
		}
		return []Command{Bridge{At: now}}
	case Rejected:
		if c.phase != Answered {
			return nil
		}
		c.result = ResultWithdrawn
		return []Command{Hangup{Leg: CustomerLeg}, Hangup{Leg: AgentLeg}}
	case Cancel:
		c.result = ResultWithdrawn
		var out []Command
		if c.agent.live() {
			out = append(out, Hangup{Leg: AgentLeg})
		}
		if c.customer.live() {
			out = append(out, Hangup{Leg: CustomerLeg})
		}
		return out
	case AgentGone:
		if c.agent == LegGone {
			return nil
		}
		c.agent = LegGone
		if c.result == ResultNone {
			c.result, c.why = ResultAgentFailed, e.Why
			if c.phase == CustomerRinging {
				c.why = routing.FailRejected // the agent gave up on the customer
			}
		}
		var out []Command
		if c.customer.live() {
			out = append(out, Hangup{Leg: CustomerLeg})
		}
		return c.over(out)
	case CustomerGone:
		if c.customer == LegGone {
			return nil
		}
		c.customer, c.cause = LegGone, e.Cause
		if c.result == ResultNone {
			c.result = ResultCustomerFailed
		}
		var out []Command
		if c.agent.live() {
			out = append(out, Hangup{Leg: AgentLeg})
		}
		return c.over(out)
	}
	return nil
}

// over ends the call once both legs are gone (the customer's never
// dialed, or ended): the outcome is reported.
func (c *Call) over(out []Command) []Command {
	if c.agent != LegGone || c.customer.live() {
		return out
	}
	c.phase = Over
	out = append(out, Forget{})
	switch {
	case c.kind == Preview:
		o := sb.DialFailed
		if c.result == ResultCustomerFailed {
			o = campaign.OutcomeOfCause(c.cause)
		}
		out = append(out, ReportPreview{Outcome: o})
	case c.result == ResultWithdrawn:
	case c.result == ResultCustomerFailed:
		out = append(out, ReportCallback{Outcome: routing.CallbackCustomerFailed})
	default:
		out = append(out, ReportCallback{Outcome: routing.CallbackAgentFailed, Why: c.why})
	}
	return out
}

// Waiting is what a callback key needs to know of the caller who pressed it.
type Waiting struct {
	Key        string // the queue's callback key, "" when it offers none
	Queued     bool   // waiting in the queue: not connected, not gone, not yet a callback
	Caller     string // the caller's number
	FlowNumber string // the number the flow collected (callback_number), "" for none
}

// CallbackKey decides on a key a waiting caller pressed: taken is whether
// it is the queue's callback key pressed while waiting; number is the
// number to call back (the flow's, else the caller's), "" when there is
// none to call and the request is refused.
func CallbackKey(w Waiting, digit string) (taken bool, number string) {
	if w.Key == "" || digit != w.Key || !w.Queued {
		return false, ""
	}
	if w.FlowNumber != "" {
		return true, w.FlowNumber
	}
	return true, w.Caller
}
