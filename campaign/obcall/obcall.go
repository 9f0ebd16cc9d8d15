// Package obcall decides the course of one campaign call: what the
// center does when the callee's line answers, when AMD says who answered,
// when the 2-second connect window ends, and what the campaign runner is
// told. The machine is pure: Call.Apply(event, now) returns the Commands
// the driver (Driver, driver.go) carries out against the PBX, the router
// and the runner through the engine's Host, and the driver feeds back what
// happened. No I/O of its own, no goroutines, no clock.
package obcall

import (
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
)

// DefaultWindow is how long an answered campaign call may wait for an
// agent before it is abandoned (the 2-second rule).
const DefaultWindow = 2 * time.Second

// FirstPriority queues answered campaign calls ahead of every inbound
// caller: each second they wait counts against the abandon limit.
const FirstPriority = 1 << 30

// Plan is what one campaign call is to do, from the runner's Dial.
type Plan struct {
	// AMD runs answering-machine detection on answer; without it a
	// person is assumed.
	AMD bool
	// MachineMessage is the media (comma-separated) left on an answering
	// machine after its greeting; "" hangs up at once.
	MachineMessage string
	// AbandonMessage is the media (comma-separated) an answered person no
	// agent takes within the window hears before the hang-up.
	AbandonMessage string
	// Window is the connect window; zero means DefaultWindow.
	Window time.Duration
	// Preview is, in preview mode, the agent who chose to dial: his phone
	// rings first, then the customer's.
	Preview sb.AgentID
	// StoreConnect: the runner stores who takes the call before the legs
	// are bridged (StoreConnect); without it the connection is reported
	// once they are (ReportConnected).
	StoreConnect bool
}

// State is where a campaign call is.
type State int

// States of a campaign call and their transitions (Call.Apply):
//
//	Dialing     the originate is sent. Placed -> Ringing. OriginateFailed ->
//	            Ended (the runner hears it from Dial's error). Resumed (an
//	            earlier run placed it) -> Ringing, or Ended by cause when it
//	            ended while its Dial was looked up. AdoptedTalking ->
//	            Connected. AdoptedWaiting -> Abandoning. The leg's events may
//	            come before the PBX's answer to the originate: they are taken
//	            as in Ringing.
//	Ringing     the PBX took the originate: a listing shows it from now on.
//	            Dialed and HangupAsked note why it may end (and an ANSWER).
//	            Entered: ContinueAMD -> AMD, or without AMD as a HUMAN
//	            result. AMDResult (an adopted call back from AMD) as in AMD.
//	            Destroyed -> Ended busy|noanswer|invalid|failed by cause,
//	            or, after an ANSWER, ReadUnattended -> Unheard.
//	            Lost (gone from a listing after a reconnect) ->
//	            ReadUnattended, Unheard (a no answer unless the record says;
//	            in Machine and Message too).
//	AMD         in the dialplan's AMD. AMDResult MACHINE -> Machine:
//	            ContinueBeep, or HangUp without a machine message. Any other
//	            status (HUMAN, NOTSURE): ReportAnswered, StartWindow,
//	            Enqueue first -> Waiting. Destroyed, Lost as in Ringing.
//	Machine     a machine answered; waiting for the beep after its greeting.
//	            Beep -> PlayMachineMessage, Message. Destroyed -> Ended
//	            machine. Lost as in Ringing.
//	Message     the machine message plays. MessagePlayed -> HangUp.
//	            Destroyed -> Ended machine.
//	Unheard     gone after an answer before a person was put through: the
//	            dialplan's record of a call answered while no Switchboard
//	            took it is being read. RecordRead -> Ended (abandoned or
//	            machine with a record, else the outcome its cause gave).
//	Waiting     a person is queued first; the connect window runs.
//	            AgentAnswered -> Answering (StoreConnect -> Connected).
//	            Bridged -> Connected. WindowFired or QueueExit -> Abandon,
//	            Abandoning. HungUp -> Gone.
//	Answering   an agent answered (or, preview, the customer did): the legs
//	            are being bridged and the window no longer counts.
//	            AgentAnswered with StoreConnect: StopWindow, StoreConnect ->
//	            Connected. Bridged: StopWindow, ReportConnected -> Connected.
//	            HungUp -> Gone. PreviewGone as in Preview.
//	Connected   an agent was put through. Finished -> Ended answered.
//	Gone        the person hung up before an agent was put through.
//	            Finished -> Ended abandoned.
//	Abandoning  no agent in the window: the abandon message plays and the
//	            person is hung up. Finished -> Ended abandoned.
//	Preview     preview dial: the agent's phone rings, then the customer's.
//	            CustomerAnswered: ReportAnswered -> Answering. PreviewGone
//	            (no conversation) -> ReadyAgent, Ended with its outcome.
//	Ended       reported (or, OriginateFailed, the runner knows); every event
//	            is ignored.
//
// In every state but Ended, an Entered, AMDResult or Beep the state does
// not await gives HangUp: the channel is in the application with nothing
// to do. Finished from any state with a person (Waiting to Abandoning,
// Preview) stops the window, readies a preview agent and reports the end:
// answered once Connected, else abandoned. Every end gives Rebalance
// first (before its report): the agents held for the campaign's lines are
// counted again. The leg's own events (Dialed, HangupAsked, Destroyed)
// count only before a person is on the line; from then on the call's end
// comes as Finished.
const (
	Dialing State = iota
	Ringing
	AMD
	Machine
	Message
	Unheard
	Waiting
	Answering
	Connected
	Gone
	Abandoning
	Preview
	Ended
)

var stateNames = [...]string{"dialing", "ringing", "amd", "machine", "message", "unheard",
	"waiting", "answering", "connected", "gone", "abandoning", "preview", "ended"}

// String names the state for logs.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
	return stateNames[s]
}

// beforePerson: no person is on the line yet (the center follows the
// channel's own events through the machine).
func (s State) beforePerson() bool { return s <= Unheard }

// withPerson: the center runs the call as a caller in a queue or with an
// agent (its events go to the call; the machine hears the milestones).
func (s State) withPerson() bool { return s >= Waiting && s <= Preview }

// Call is one campaign call's state machine. The zero value is not ready:
// use New. It is not safe for concurrent use: the center's owner
// goroutine drives it.
type Call struct {
	plan  Plan
	state State
	// causes follows why the leg ends: the final Dial status is the only
	// busy signal of a Local channel.
	causes sb.LegCause
	// answered: this run saw the callee answer (a Dial ANSWER), so an end
	// before a person came may hide a call answered while nobody took it.
	answered bool
	// pending is the outcome of an Unheard call if the record says nothing.
	pending sb.DialOutcome
}

// New is a call about to be originated (Dialing), or, with a Preview
// agent, a preview dial whose agent is being rung (Preview).
func New(p Plan) *Call {
	if p.Window <= 0 {
		p.Window = DefaultWindow
	}
	c := &Call{plan: p}
	if p.Preview != "" {
		c.state = Preview
	}
	return c
}

// State is where the call is.
func (c *Call) State() State { return c.state }

// WantsAgent reports whether the call is a line still ringing (or in AMD)
// that an answering person may need an agent for: the center holds one
// agent of the campaign's queue for each such line.
func (c *Call) WantsAgent() bool {
	return c.state == Dialing || c.state == Ringing || c.state == AMD
}

// Listed reports whether a listing of the PBX's channels must show the
// call: the PBX took it, no person is on it and its end is not being
// reported. One missing from a listing after a reconnect ended unheard
// (Lost).
func (c *Call) Listed() bool {
	switch c.state {
	case Ringing, AMD, Machine, Message:
		return true
	}
	return false
}

// Event is what happened to a campaign call.
type Event interface{ isEvent() }

// Placed: the PBX took the originate.
type Placed struct{}

// OriginateFailed: the PBX refused the originate.
type OriginateFailed struct{}

// Dialed is the leg's Dial status (RINGING, ANSWER, BUSY...).
type Dialed struct{ Result sb.DialResult }

// HangupAsked: a hang-up of the leg was requested (it carries a cause).
type HangupAsked struct{ Request sb.HangupRequested }

// Destroyed: the leg is gone, with the PBX's cause, before a person was
// put through.
type Destroyed struct{ Cause int }

// Lost: a listing after a reconnect no longer shows the call, and no end
// of it came: it ended while the link was down.
type Lost struct{}

// RecordRead is the dialplan's record of the call (nil: none), asked for
// by ReadUnattended.
type RecordRead struct{ Record *sb.Unattended }

// Entered: the callee answered and the channel entered the application.
type Entered struct{}

// AMDResult is AMD's verdict (AMDSTATUS: HUMAN, MACHINE, NOTSURE...).
type AMDResult struct{ Status string }

// Beep: a machine's greeting is over; the message may be left.
type Beep struct{}

// MessagePlayed: the machine message is over.
type MessagePlayed struct{}

// AgentAnswered: an agent's leg answered and is about to be bridged with
// the person.
type AgentAnswered struct{ Agent sb.AgentID }

// Bridged: the person and the agent are bridged.
type Bridged struct{ Agent sb.AgentID }

// WindowFired: the connect-window timer (StartWindow) fired.
type WindowFired struct{}

// QueueExit: the router gave the call up (no agent can take it).
type QueueExit struct{}

// HungUp: the person hung up.
type HungUp struct{}

// Finished: the call with a person is over (its call-log row closes).
type Finished struct{}

// CustomerAnswered: a preview dial's customer answered.
type CustomerAnswered struct{}

// PreviewGone: both legs of a preview dial are gone before they talked;
// Outcome is what the agent-first call made of its legs (agentfirst: failed
// when the agent's leg failed, else by the customer's cause).
type PreviewGone struct{ Outcome sb.DialOutcome }

// Resumed: the Dial of a call an earlier run placed is known; Causes are
// what was noted while it was looked up, and Gone (with the Destroyed
// cause) says it ended meanwhile.
type Resumed struct {
	Causes    sb.LegCause
	Gone      bool
	Destroyed int
}

// AdoptedTalking: a call an earlier run placed is found bridged with Agent.
type AdoptedTalking struct{ Agent sb.AgentID }

// AdoptedWaiting: a call an earlier run placed is found with a person no
// agent took: its window is long over, it is abandoned (the center hangs
// it up as it adopts it).
type AdoptedWaiting struct{}

func (Placed) isEvent()           {}
func (OriginateFailed) isEvent()  {}
func (Dialed) isEvent()           {}
func (HangupAsked) isEvent()      {}
func (Destroyed) isEvent()        {}
func (Lost) isEvent()             {}
func (RecordRead) isEvent()       {}
func (Entered) isEvent()          {}
func (AMDResult) isEvent()        {}
func (Beep) isEvent()             {}
func (MessagePlayed) isEvent()    {}
func (AgentAnswered) isEvent()    {}
func (Bridged) isEvent()          {}
func (WindowFired) isEvent()      {}
func (QueueExit) isEvent()        {}
func (HungUp) isEvent()           {}
func (Finished) isEvent()         {}
func (CustomerAnswered) isEvent() {}
func (PreviewGone) isEvent()      {}
func (Resumed) isEvent()          {}
func (AdoptedTalking) isEvent()   {}
func (AdoptedWaiting) isEvent()   {}

// Command is what the center does for a campaign call, in order.
type Command interface{ isCommand() }

// ContinueAMD subscribes to the channel (so that a hang-up during AMD
// still comes as an event) and continues it into the dialplan's AMD; a
// refusal hangs it up.
type ContinueAMD struct{}

// ContinueBeep continues a machine's channel into the dialplan's wait for
// the silence after the greeting; a refusal hangs it up.
type ContinueBeep struct{}

// PlayMachineMessage plays the machine message (MessagePlayed follows); a
// failure hangs up.
type PlayMachineMessage struct{ Media []string }

// HangUp hangs the channel up.
type HangUp struct{}

// Enqueue takes the person in as a call queued in the campaign's queue
// with Priority (ahead of inbound callers).
type Enqueue struct{ Priority int }

// Rebalance counts again the lines that want an agent (WantsAgent) and
// holds or releases agents of the campaign queues to match: queued first,
// then released, the held agent goes to this person.
type Rebalance struct{}

// StartWindow starts the connect-window timer: WindowFired After from now.
type StartWindow struct{ After time.Duration }

// StopWindow stops the connect-window timer if it runs.
type StopWindow struct{}

// Abandon ends a person no agent took: out of the queue, agent legs
// ringing for it cancelled, Media played, hung up; its call-log row says
// abandoned by the system.
type Abandon struct{ Media []string }

// StoreConnect stores, before the bridge, that Agent takes the call, so
// that a crash from then on cannot close the attempt as abandoned and
// dial again a lead who talked.
type StoreConnect struct {
	Agent sb.AgentID
	At    time.Time
}

// ReadUnattended reads the dialplan's record of a call answered while no
// Switchboard was connected; RecordRead follows.
type ReadUnattended struct{}

// ReadyAgent makes a preview dial's agent ready again in the router.
type ReadyAgent struct{ Agent sb.AgentID }

// ReportAnswered tells the runner a person answered (the window starts).
type ReportAnswered struct{ At time.Time }

// ReportConnected tells the runner an agent was put through.
type ReportConnected struct {
	Agent sb.AgentID
	At    time.Time
}

// ReportEnded tells the runner the call is over, with its outcome and
// the dialplan's record if one was read.
type ReportEnded struct {
	Outcome    sb.DialOutcome
	Unattended *sb.Unattended
	At         time.Time
}

func (ContinueAMD) isCommand()        {}
func (ContinueBeep) isCommand()       {}
func (PlayMachineMessage) isCommand() {}
func (HangUp) isCommand()             {}
func (Enqueue) isCommand()            {}
func (Rebalance) isCommand()          {}
func (StartWindow) isCommand()        {}
func (StopWindow) isCommand()         {}
func (Abandon) isCommand()            {}
func (StoreConnect) isCommand()       {}
func (ReadUnattended) isCommand()     {}
func (ReadyAgent) isCommand()         {}
func (ReportAnswered) isCommand()     {}
func (ReportConnected) isCommand()    {}
func (ReportEnded) isCommand()        {}

// Apply applies one event at now and returns what to do, in order.
// Events a state does not await are ignored (nil), except where the
// state list says otherwise.
func (c *Call) Apply(ev Event, now time.Time) []Command {
	if c.state == Ended {
		return nil
	}
	switch ev := ev.(type) {
	case Placed:
		if c.state == Dialing {
			c.state = Ringing
		}
	case OriginateFailed:
		if c.state.beforePerson() {
			c.state = Ended
			return []Command{Rebalance{}}
		}
	case Dialed:
		if c.state.beforePerson() {
			c.causes.Note(ev.Result)
			if strings.EqualFold(ev.Result.Status, "ANSWER") {
				c.answered = true
			}
		}
	case HangupAsked:
		if c.state.beforePerson() {
			c.causes.Note(ev.Request)
		}
	case Destroyed:
		return c.destroyed(ev.Cause, now)
	case Lost:
		if c.Listed() {
			return c.unheard(sb.DialNoAnswer)
		}
	case RecordRead:
		if c.state == Unheard {
			return c.end(UnattendedOutcome(ev.Record, c.pending), ev.Record, now)
		}
	case Entered:
		switch {
		case c.state != Dialing && c.state != Ringing && c.state != AMD:
			return c.stray()
		case c.plan.AMD:
			c.state = AMD
			return []Command{ContinueAMD{}}
		}
		return c.amd("HUMAN", now)
	case AMDResult:
		if c.state != Dialing && c.state != Ringing && c.state != AMD {
			return c.stray()
		}
		return c.amd(ev.Status, now)
	case Beep:
		if c.state != Machine || c.plan.MachineMessage == "" {
			return c.stray()
		}
		c.state = Message
		return []Command{PlayMachineMessage{Media: strings.Split(c.plan.MachineMessage, ",")}}
	case MessagePlayed:
		if c.state == Message {
			return []Command{HangUp{}}
		}
	case AgentAnswered:
		if c.state != Waiting && c.state != Answering {
			return nil
		}
		c.state = Answering
		if c.plan.StoreConnect {
			c.state = Connected
			return []Command{StopWindow{}, StoreConnect{Agent: ev.Agent, At: now}}
		}
	case Bridged:
		if c.state.withPerson() && c.state != Connected {
			c.state = Connected
			return []Command{StopWindow{}, ReportConnected{Agent: ev.Agent, At: now}}
		}
	case WindowFired:
		if c.state == Waiting {
			return c.abandon()
		}
	case QueueExit:
		if c.state == Waiting || c.state == Answering {
			return c.abandon()
		}
	case HungUp:
		if c.state == Waiting || c.state == Answering {
			c.state = Gone
			return []Command{StopWindow{}}
		}
	case Finished:
		if !c.state.withPerson() {
			return nil
		}
		o := sb.DialAbandoned
		if c.state == Connected {
			o = sb.DialAnswered
		}
		out := []Command{StopWindow{}}
		if c.plan.Preview != "" {
			out = append(out, ReadyAgent{Agent: c.plan.Preview})
		}
		return append(out, c.end(o, nil, now)...)
	case CustomerAnswered:
		if c.state == Preview {
			c.state = Answering
			return []Command{ReportAnswered{At: now}}
		}
	case PreviewGone:
		if c.plan.Preview == "" || (c.state != Preview && c.state != Answering) {
			return nil
		}
		return append([]Command{ReadyAgent{Agent: c.plan.Preview}}, c.end(ev.Outcome, nil, now)...)
	case Resumed:
		if c.state != Dialing {
			return nil
		}
		c.causes = ev.Causes
		if ev.Gone {
			return c.end(campaign.OutcomeOfCause(c.causes.At(ev.Destroyed)), nil, now)
		}
		c.state = Ringing
	case AdoptedTalking:
		if c.state == Dialing {
			c.state = Connected
			return []Command{ReportConnected{Agent: ev.Agent, At: now}}
		}
	case AdoptedWaiting:
		if c.state == Dialing {
			c.state = Abandoning
		}
	}
	return nil
}

// stray answers a channel in the application at a step the call does not
// await there: nothing is to be done with it, it is hung up.
func (c *Call) stray() []Command { return []Command{HangUp{}} }

func (c *Call) destroyed(cause int, now time.Time) []Command {
	switch c.state {
	case Dialing, Ringing, AMD:
		o := campaign.OutcomeOfCause(c.causes.At(cause))
		if c.answered {
			// Answered, and gone before a person was put through: in
			// AMD, or not taken by the application at all.
			return c.unheard(o)
		}
		return c.end(o, nil, now)
	case Machine, Message:
		return c.end(sb.DialMachine, nil, now)
	}
	return nil
}

func (c *Call) unheard(o sb.DialOutcome) []Command {
	c.state, c.pending = Unheard, o
	return []Command{ReadUnattended{}}
}

// amd takes AMD's verdict (HUMAN without AMD).
func (c *Call) amd(status string, now time.Time) []Command {
	if strings.EqualFold(status, "MACHINE") {
		c.state = Machine
		if c.plan.MachineMessage == "" {
			return []Command{Rebalance{}, HangUp{}}
		}
		// The message is left after the greeting's beep: the dialplan
		// waits for the silence after it and sends the call back.
		return []Command{Rebalance{}, ContinueBeep{}}
	}
	c.state = Waiting
	// Queued first, then the agent held for this line is released: the
	// router offers it to the highest-priority caller, this one.
	// The window starts before the enqueue: the router may give the call
	// up at once (QueueExit, while Enqueue is carried out).
	return []Command{ReportAnswered{At: now}, StartWindow{After: c.plan.Window}, Enqueue{Priority: FirstPriority}, Rebalance{}}
}

func (c *Call) abandon() []Command {
	c.state = Abandoning
	var media []string
	if m := c.plan.AbandonMessage; m != "" {
		media = strings.Split(m, ",")
	}
	return []Command{StopWindow{}, Abandon{Media: media}}
}

func (c *Call) end(o sb.DialOutcome, rec *sb.Unattended, now time.Time) []Command {
	c.state = Ended
	return []Command{Rebalance{}, ReportEnded{Outcome: o, Unattended: rec, At: now}}
}

// UnattendedOutcome is how a call gone unheard ended: with the dialplan's
// record of a call answered while no Switchboard took it, abandoned (a
// person reached and not put through) or a machine; without one, o.
func UnattendedOutcome(rec *sb.Unattended, o sb.DialOutcome) sb.DialOutcome {
	switch {
	case rec == nil:
		return o
	case rec.Machine:
		return sb.DialMachine
	}
	return sb.DialAbandoned
}

// UnadoptedOutcome is how a call an earlier run placed ends when nothing
// carries it on (its Dial unknown): it is hung up, and a person reached
// and not put through is abandoned; amdStatus is AMD's verdict if the
// call came back from AMD ("" otherwise).
func UnadoptedOutcome(amdStatus string) sb.DialOutcome {
	if strings.EqualFold(amdStatus, "MACHINE") {
		return sb.DialMachine
	}
	return sb.DialAbandoned
}
