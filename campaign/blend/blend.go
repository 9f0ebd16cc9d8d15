// Package blend decides for blended agents: agents who take inbound calls
// and also work a campaign's lines. While lines the dialer placed for a
// queue may still be answered, as many of its available agents as it has
// such lines are held (paused HoldReason) so that no inbound caller takes
// them; the pacer counts held agents as ready, and inbound callers already
// waiting for an agent as claims on the ready ones. It is pure: the center
// carries out the moves and feeds back the router's states.
package blend

import (
	"slices"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/routing"
)

// HoldReason is the router pause reason of an agent held for a campaign
// line that is ringing.
const HoldReason = "outbound-hold"

// Holds are the agents held for each campaign queue, in the order they
// were held. A queue with no agent held has no entry.
type Holds map[sb.QueueName][]sb.AgentID

// Move is one step towards the holds wanted: hold Agent for Queue (pause
// him HoldReason) or, Hold false, release him (ready).
type Move struct {
	Queue sb.QueueName
	Agent sb.AgentID
	Hold  bool
}

// Prune forgets the agents whose hold ended otherwise (logged out, paused
// by hand, taken by a call): by states, the router's last word on each,
// they are no longer paused HoldReason.
func (h Holds) Prune(states map[sb.AgentID]routing.AgentState) {
	for q, held := range h {
		held = slices.DeleteFunc(held, func(id sb.AgentID) bool {
			st := states[id]
			return st.State != routing.StatePaused || st.Reason != HoldReason
		})
		if len(held) == 0 {
			delete(h, q)
		} else {
			h[q] = held
		}
	}
}

// Holding reports whether id is held for any queue.
func (h Holds) Holding(id sb.AgentID) bool {
	for _, held := range h {
		if slices.Contains(held, id) {
			return true
		}
	}
	return false
}

// Next is the next move towards want, the lines wanting an agent in each
// queue: a queue holding more agents than it has lines releases the one
// held last; a queue holding fewer holds the first of its members (in the
// router's order) who is available, not held for another queue and not in
// refused (a pause the router refused during this rebalance). Queues go
// in name order. ok is false when nothing is left to do. The caller
// carries out the move, records it with Done and asks again: the router's
// states change with each move (a released agent may take a call at once).
func (h Holds) Next(want map[sb.QueueName]int, members func(sb.QueueName) []sb.AgentID,
	states map[sb.AgentID]routing.AgentState, refused map[sb.AgentID]bool) (m Move, ok bool) {
	queues := make([]sb.QueueName, 0, len(want)+len(h))
	for q := range want {
		queues = append(queues, q)
	}
	for q := range h {
		if _, dup := want[q]; !dup {
			queues = append(queues, q)
		}
	}
	slices.Sort(queues)
	for _, q := range queues {
		held, n := h[q], want[q]
		if len(held) > n {
			return Move{Queue: q, Agent: held[len(held)-1]}, true
		}
		if len(held) == n {
			continue
		}
		for _, id := range members(q) {
			if !refused[id] && states[id].State == routing.StateAvailable && !h.Holding(id) {
				return Move{Queue: q, Agent: id, Hold: true}, true
			}
		}
	}
	return Move{}, false
}

// Done records a move carried out: a hold the router took, or a release.
func (h Holds) Done(m Move) {
	held := h[m.Queue]
	if m.Hold {
		h[m.Queue] = append(held, m.Agent)
		return
	}
	if i := slices.Index(held, m.Agent); i >= 0 {
		held = slices.Delete(held, i, i+1)
	}
	if len(held) == 0 {
		delete(h, m.Queue)
	} else {
		h[m.Queue] = held
	}
}

// Claimed counts the inbound callers waiting for agents: waiting holds
// the queue of each inbound caller waiting in the router; one counts if
// any of agents answers its queue (members gives a queue's agents).
// These callers will take the next free agents, so that many ready agents
// are not the dialer's to count on.
func Claimed(waiting []sb.QueueName, agents []sb.AgentID, members func(sb.QueueName) []sb.AgentID) int {
	shares := map[sb.QueueName]bool{}
	n := 0
	for _, q := range waiting {
		share, seen := shares[q]
		if !seen {
			share = slices.ContainsFunc(members(q), func(a sb.AgentID) bool { return slices.Contains(agents, a) })
			shares[q] = share
		}
		if share {
			n++
		}
	}
	return n
}

// PacerView is the router's view of a queue's agents as the pacer sees
// it (outbound.AgentSource): available agents are ready, but for the
// first claimed of them, who count as talking from now; agents held for
// the campaign's lines are ready; reserved and on-call agents talking;
// wrap-up as such; paused, logged-out and unreachable agents are left out.
func PacerView(agents []routing.AgentStats, claimed int, now time.Time) []dialer.Agent {
	var out []dialer.Agent
	for _, st := range agents {
		a := dialer.Agent{Since: st.Since}
		switch st.State {
		case routing.StateAvailable:
			a.Status = dialer.AgentReady
			if claimed > 0 {
				claimed--
				a.Status, a.Since = dialer.AgentTalking, now
			}
		case routing.StatePaused:
			if st.Reason != HoldReason {
				continue
			}
			a.Status = dialer.AgentReady
		case routing.StateReserved, routing.StateOnCall:
			a.Status = dialer.AgentTalking
		case routing.StateWrapUp:
			a.Status = dialer.AgentWrapUp
		default:
			continue
		}
		out = append(out, a)
	}
	return out
}
