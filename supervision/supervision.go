// Package supervision decides how a supervisor takes part in an agent's
// call: the modes, the keys that switch them, and for each switch where
// the supervisor's channel goes. The engine carries the plan out against
// the PBX (a snoop channel on the agent's leg in a monitor bridge, or the
// supervisor in the call's own bridge).
//
// A supervisor's part, as State records it:
//
//	ringing (phone called) -> up (answered) -> mode applied (listen|whisper|barge)
//	any mode <-> any mode (Switch: the snoop is replaced, or the supervisor
//	moves between the monitor bridge and the call's bridge)
//	any -> gone (the supervisor hangs up, or the call ends)
package supervision

import (
	"slices"

	sb "github.com/switchboard/switchboard"
)

// Mode is how a supervisor takes part in an agent's call.
type Mode string

// Modes, switchable during the call.
const (
	// Listen: the supervisor hears caller and agent; nobody hears the
	// supervisor (a snoop on the agent leg, spy both).
	Listen Mode = "listen"
	// Whisper: the supervisor hears both and talks to the agent only (spy
	// both, whisper out: injected toward the agent).
	Whisper Mode = "whisper"
	// Barge: the supervisor joins the call's bridge: all three talk.
	Barge Mode = "barge"
)

// Modes lists the modes.
var Modes = []Mode{Listen, Whisper, Barge}

// Valid reports whether m is one of Modes.
func Valid(m Mode) bool { return slices.Contains(Modes, m) }

// KeyMode is the mode a key of the supervisor's keypad switches to (1
// listen, 2 whisper, 3 barge); ok is false for another key.
func KeyMode(key string) (m Mode, ok bool) {
	switch key {
	case "1":
		return Listen, true
	case "2":
		return Whisper, true
	case "3":
		return Barge, true
	}
	return "", false
}

// State is where a supervisor's channel is now.
type State struct {
	Mode Mode
	// Snooping: a snoop on the agent's leg is in the monitor bridge with
	// the supervisor.
	Snooping bool
	// BridgeMade: the monitor bridge exists.
	BridgeMade bool
	// InCall: the supervisor is in the call's bridge (barge).
	InCall bool
}

// Snoop is the snoop channel a mode needs on the agent's leg: what it
// hears and what it injects (PBX snoop directions).
type Snoop struct {
	Spy, Whisper string
}

// Plan is what applying a mode takes, in order: hang up the old snoop,
// leave the call's bridge, create the monitor bridge, snoop, put
// supervisor and snoop in the monitor bridge, or for barge leave the
// monitor bridge and join the call's.
type Plan struct {
	HangupSnoop   bool   // the snoop of the previous mode goes
	LeaveCall     bool   // out of the call's bridge first: the customer must not hear a listener
	CreateBridge  bool   // the monitor bridge is made now
	Snoop         *Snoop // a new snoop (nil in barge)
	LeaveMonitor  bool   // barge: out of the monitor bridge
	JoinCall      bool   // barge: into the call's bridge
	MonitorBridge bool   // supervisor and snoop into the monitor bridge
}

// Apply returns the plan that puts a supervisor in mode to from st, and
// the state after it. Applying the mode the supervisor is in again
// replaces its snoop (the engine does so when the supervisor answers).
func Apply(st State, to Mode) (State, Plan) {
	p := Plan{HangupSnoop: st.Snooping}
	next := State{Mode: to, BridgeMade: st.BridgeMade}
	if to == Barge {
		p.LeaveMonitor = st.BridgeMade
		p.JoinCall = true
		next.InCall = true
		return next, p
	}
	p.LeaveCall = st.InCall
	p.CreateBridge = !st.BridgeMade
	p.Snoop = &Snoop{Spy: "both", Whisper: "none"}
	if to == Whisper {
		p.Snoop.Whisper = "out" // heard by the agent only
	}
	p.MonitorBridge = true
	next.Snooping, next.BridgeMade = true, true
	return next, p
}

// Policy says whether the supervisor phone endpoint may monitor a call in
// queue answered by agent (the feature-code path; the API checks its
// tokens itself). Nil allows nobody.
type Policy func(endpoint string, queue sb.QueueName, agent sb.AgentID) bool

// May reports whether p lets endpoint monitor agent's call in queue.
func (p Policy) May(endpoint string, queue sb.QueueName, agent sb.AgentID) bool {
	return p != nil && agent != "" && p(endpoint, queue, agent)
}
