package dialer

import (
	"math"
	"strconv"
	"time"
)

// AgentStatus is where a logged-in agent is in the call cycle:
//
//	Ready --(offered a call)--> Talking --(hang-up)--> WrapUp --(done)--> Ready
//
// Paused or logged-out agents are not in a PacerState at all.
type AgentStatus uint8

const (
	// AgentReady is an idle agent waiting for a call.
	AgentReady AgentStatus = iota
	// AgentTalking is an agent connected to a customer.
	AgentTalking
	// AgentWrapUp is an agent finishing the last call's disposition.
	AgentWrapUp
)

// Agent is one logged-in agent as a pacer sees it.
type Agent struct {
	Status AgentStatus
	// Since is when the agent entered Status; the pacer works on how long ago
	// that was, because a wrap-up 14 s old ends sooner than one 1 s old.
	Since time.Time
}

// PacerState is everything a pacer may look at when it decides. The campaign's
// pacing loop builds it from its own records before every decision.
type PacerState struct {
	// Agents are the agents logged in to the campaign.
	Agents []Agent
	// Ringing holds, for each line dialed and not yet resolved (no answer,
	// busy, machine or a live answer), the time it was dialed.
	Ringing []time.Time
	// Waiting holds, for each live-answered call not yet given an agent,
	// when it was answered. Each is abandoned if no agent is free within
	// the connect window (2 s).
	Waiting []time.Time
	// MaxInFlight caps the lines ringing at once (trunk channels or the
	// campaign's limit); 0 means no cap.
	MaxInFlight int
	// Stats are the measured answer rate, ring, talk and wrap-up times. May
	// be nil for pacers that do not use them.
	Stats *Stats
	// Abandons are the campaign's abandon counts in the windows the cap is
	// checked over.
	Abandons Windows
}

// Count returns how many agents are ready, talking and in wrap-up.
func (s PacerState) Count() (ready, talking, wrapUp int) {
	for _, a := range s.Agents {
		switch a.Status {
		case AgentReady:
			ready++
		case AgentTalking:
			talking++
		case AgentWrapUp:
			wrapUp++
		}
	}
	return ready, talking, wrapUp
}

// room is how many more lines may be dialed now under MaxInFlight.
func (s PacerState) room() int {
	if len(s.Agents) == 0 {
		return 0
	}
	if s.MaxInFlight <= 0 {
		return math.MaxInt32
	}
	return max(0, s.MaxInFlight-len(s.Ringing))
}

// clamp keeps a pacer's wish within [0, room].
func (s PacerState) clamp(n int) int {
	return max(0, min(n, s.room()))
}

// Pacer decides how many new lines to dial now. Implementations are pure:
// no goroutines, no I/O, the clock is the now argument. Some keep state
// between calls (the adaptive dial level, caches), so one Pacer serves one
// campaign's pacing loop and is not safe for concurrent use.
type Pacer interface {
	// Name is the method's name as config and reports spell it.
	Name() string
	// Decide returns how many new lines to dial at now: never negative and
	// never more than MaxInFlight allows.
	Decide(s PacerState, now time.Time) int
}

var (
	_ Pacer = Progressive{}
	_ Pacer = Power{}
	_ Pacer = (*Adaptive)(nil)
	_ Pacer = (*Predictive)(nil)
)

// Progressive dials one line per ready agent that has none yet: an answered
// call always finds its agent, so it never abandons, and agents wait through
// every ring, busy and no-answer.
type Progressive struct{}

// Name implements Pacer.
func (Progressive) Name() string { return "progressive" }

// Decide implements Pacer.
func (Progressive) Decide(s PacerState, _ time.Time) int {
	ready, _, _ := s.Count()
	return s.clamp(ready - len(s.Ringing) - len(s.Waiting))
}

// Power dials a fixed number of lines per ready agent (Ratio, e.g. 1.5 or
// 3.0), rounded to the nearest line. It ignores agents about to become free
// and the abandon rate, which is why fixed ratios either idle agents or
// abandon calls depending on team size.
type Power struct {
	Ratio float64
}

// Name implements Pacer.
func (p Power) Name() string { return "ratio-" + strconv.FormatFloat(p.Ratio, 'f', 1, 64) }

// Decide implements Pacer.
func (p Power) Decide(s PacerState, _ time.Time) int {
	ready, _, _ := s.Count()
	target := int(math.Round(p.Ratio * float64(ready)))
	return s.clamp(target - len(s.Ringing))
}
