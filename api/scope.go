package api

import (
	"slices"

	"github.com/switchboard/switchboard"
)

// Queue scope: who may see and act on what.
//
// Every piece of data the API serves that belongs to a queue is checked
// against the caller's [Identity]:
//
//   - an admin, and a supervisor whose token names no queues, see every
//     queue (and what belongs to none, such as a call still in the IVR);
//   - a supervisor whose token names queues sees those queues only: the
//     live calls, call-log rows and recordings of calls in them (a campaign
//     call is in its campaign's queue), the campaigns that dial for them,
//     the agents who answer them and their statistics. Lists are filtered;
//     a request naming something outside the scope (a call, a recording, a
//     campaign, a queue, an agent, a queue filter) is refused with 403.
//     What belongs to no queue is outside every scope;
//   - an agent acts on itself only: its own state and history, the
//     recordings of its own calls, the dispositions of the attempts it
//     took, and the preview leads of campaigns of the queues it answers.
//
// Out-of-scope requests answer 403 rather than 404: ids are not secrets
// (they are sequence numbers and call ids), and a 404 would send an
// integrator looking for a bug in the wrong place. The resource is looked up
// first, so an unknown id is 404 for everyone.

// QueueMembers is a configured queue and the agents who answer it; the API
// decides by it which agents a supervisor with a queue scope may act on.
type QueueMembers struct {
	// Queue is the queue's name.
	Queue switchboard.QueueName
	// Agents lists every agent who answers the queue (a queue configured
	// for all agents lists them all).
	Agents []switchboard.AgentID
}

// AllQueues reports whether the caller sees every queue: an admin, or a
// supervisor whose token names no queues.
func (id Identity) AllQueues() bool {
	return id.Role == RoleAdmin || (id.Role == RoleSupervisor && len(id.Queues) == 0)
}

// SeesQueue reports whether the caller may see and act on what belongs to
// queue q ("" is the queue of a call in no queue yet). Agents see no queue
// as such: their rights are per call and per agent.
func (id Identity) SeesQueue(q switchboard.QueueName) bool {
	if id.AllQueues() {
		return true
	}
	return id.Role == RoleSupervisor && q != "" && slices.Contains(id.Queues, q)
}

// queueFilter returns the queues a listing is limited to: nil when the
// caller sees every queue, else the caller's queues (never nil, so an
// empty scope matches nothing rather than everything).
func (id Identity) queueFilter() []switchboard.QueueName {
	if id.AllQueues() {
		return nil
	}
	if id.Role != RoleSupervisor {
		return []switchboard.QueueName{}
	}
	return slices.Clone(id.Queues)
}

// outOfScope is the 403 for something of queue q the caller may not touch.
func outOfScope(id Identity, what string, q switchboard.QueueName) error {
	if q == "" {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "%s is in no queue; token %s sees only queues %v", what, id.Name, id.Queues)
	}
	return switchboard.Errorf(switchboard.EFORBIDDEN, "%s is in queue %q, outside token %s's queues %v", what, q, id.Name, id.Queues)
}

// checkQueue refuses a caller who does not see queue q (see
// [Identity.SeesQueue]). Agents are refused: routes open to agents check
// them their own way first.
func checkQueue(id Identity, what string, q switchboard.QueueName) error {
	if id.SeesQueue(q) {
		return nil
	}
	return outOfScope(id, what, q)
}

// answers reports whether agent a answers queue q.
func (s *Server) answers(a switchboard.AgentID, q switchboard.QueueName) bool {
	for _, m := range s.queues {
		if m.Queue == q {
			return slices.Contains(m.Agents, a)
		}
	}
	return false
}

// supervisesAgent reports whether the caller, an admin or supervisor, may
// see and act on agent a: every agent for callers that see every queue,
// else the agents who answer one of the caller's queues.
func (s *Server) supervisesAgent(id Identity, a switchboard.AgentID) bool {
	if id.AllQueues() {
		return true
	}
	if id.Role != RoleSupervisor {
		return false
	}
	for _, q := range id.Queues {
		if s.answers(a, q) {
			return true
		}
	}
	return false
}

// checkAgent refuses a caller who may not act on agent a: an agent other
// than a, or a supervisor none of whose queues a answers.
func (s *Server) checkAgent(id Identity, a switchboard.AgentID) error {
	switch {
	case id.Role == RoleAgent && id.Name != string(a):
		return switchboard.Errorf(switchboard.EFORBIDDEN, "agents act on themselves only")
	case id.Role == RoleAgent:
		return nil
	case !s.supervisesAgent(id, a):
		return switchboard.Errorf(switchboard.EFORBIDDEN, "agent %q answers none of token %s's queues %v", a, id.Name, id.Queues)
	}
	return nil
}

// scopedAgents are the agents the caller supervises, nil when every one.
func (s *Server) scopedAgents(id Identity) map[switchboard.AgentID]bool {
	if id.AllQueues() {
		return nil
	}
	out := map[switchboard.AgentID]bool{}
	for _, q := range id.queueFilter() {
		for _, m := range s.queues {
			if m.Queue == q {
				for _, a := range m.Agents {
					out[a] = true
				}
			}
		}
	}
	return out
}
