package routing

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// QueueStats are a queue's live figures since the router started.
type QueueStats struct {
	Queue   sb.QueueName `json:"queue"`
	Waiting int          `json:"waiting"` // callers waiting, callbacks included
	Ringing int          `json:"ringing"` // callers being offered to an agent
	// Callbacks is how many of the waiting are callback requests.
	Callbacks   int           `json:"callbacks"`
	LongestWait time.Duration `json:"longest_wait_ns"`
	// ServiceLevel is answered within ServiceLevelTime / (answered +
	// abandoned or exited after ServiceLevelTime); 1 before any call counts.
	ServiceLevel       float64       `json:"service_level"`
	ServiceLevelTarget float64       `json:"service_level_target"`
	ServiceLevelTime   time.Duration `json:"service_level_time_ns"`
	ASA                time.Duration `json:"asa_ns"` // average speed of answer
	Answered           int           `json:"answered"`
	Abandoned          int           `json:"abandoned"`
	Exited             int           `json:"exited"` // max wait, empty, escalation exit, failed callback
	Completed          int           `json:"completed"`
	// AnsweredInSL and MissedSL are the counts behind ServiceLevel =
	// AnsweredInSL / (Answered + MissedSL): calls answered within
	// ServiceLevelTime, and calls that abandoned or exited after it.
	AnsweredInSL int `json:"answered_in_sl"`
	MissedSL     int `json:"missed_sl"`
	// AHT is the average handle time (talk + wrap-up) of completed calls;
	// ExpectedAHT until one completes.
	AHT time.Duration `json:"aht_ns"`
	// EstimatedWait is what a caller joining now would be told.
	EstimatedWait time.Duration `json:"estimated_wait_ns"`
	// LoggedIn and Available count the agents of the queue's base tier.
	LoggedIn  int `json:"logged_in"`
	Available int `json:"available"`
}

// QueueStats returns a queue's live figures; ok is false for an unknown queue.
func (r *Router) QueueStats(name sb.QueueName, now time.Time) (QueueStats, bool) {
	qi, ok := r.queueIdx[name]
	if !ok {
		return QueueStats{}, false
	}
	q := r.queues[qi]
	st := q.st
	out := QueueStats{
		Queue: name, Waiting: len(q.waiting), Ringing: q.offered,
		ServiceLevel: 1, ServiceLevelTarget: q.cfg.slShare, ServiceLevelTime: q.cfg.slTime,
		Answered: st.answered, Abandoned: st.abandoned, Exited: st.exited, Completed: st.completed,
		AnsweredInSL: st.answeredInSL, MissedSL: st.missedSL,
		AHT: q.cfg.ExpectedAHT,
	}
	for _, c := range q.waiting {
		if c.callback {
			out.Callbacks++
		}
		out.LongestWait = max(out.LongestWait, now.Sub(c.entered))
	}
	if n := st.answered + st.missedSL; n > 0 {
		out.ServiceLevel = float64(st.answeredInSL) / float64(n)
	}
	if st.answered > 0 {
		out.ASA = st.hold / time.Duration(st.answered)
	}
	if st.completed > 0 {
		out.AHT = (st.talk + st.wrap) / time.Duration(st.completed)
	}
	out.EstimatedWait = r.estimate(q, 0, len(q.waiting)+1)
	t := &r.tiers[q.tiers[0]]
	out.LoggedIn, out.Available = t.logged, len(t.avail)
	return out, true
}

// AgentStats are an agent's live figures for the current session (since
// login).
type AgentStats struct {
	Agent       sb.AgentID    `json:"agent"`
	Name        string        `json:"name"`
	Endpoint    string        `json:"endpoint"`
	State       State         `json:"state"`
	Reason      string        `json:"reason,omitempty"`
	Call        sb.CallID     `json:"call,omitempty"`
	Since       time.Time     `json:"since,omitzero"`
	TimeInState time.Duration `json:"time_in_state_ns"`
	Calls       int           `json:"calls"`
	TalkTime    time.Duration `json:"talk_time_ns"`
	// Occupancy is time handling calls (on call, wrap-up) over time staffed
	// (available, reserved, on call, wrap-up); 0 before any staffed time.
	Occupancy float64 `json:"occupancy"`
	// NoAnswers is how many offers in a row went unanswered.
	NoAnswers int `json:"no_answers"`
}

// AgentStats returns an agent's live figures; ok is false for an unknown agent.
func (r *Router) AgentStats(id sb.AgentID, now time.Time) (AgentStats, bool) {
	ai, ok := r.agentIdx[id]
	if !ok {
		return AgentStats{}, false
	}
	return r.agentStats(r.ag(ai), now), true
}

func (r *Router) agentStats(a *agent, now time.Time) AgentStats {
	out := AgentStats{
		Agent: a.id, Name: a.cfg.Name, Endpoint: a.endpoint, State: a.state, Reason: a.reason,
		Since: a.stateSince, Calls: a.f.calls, TalkTime: a.f.talk, NoAnswers: a.noAnswer,
	}
	if a.state == StateReserved || a.state == StateOnCall || a.state == StateWrapUp {
		out.Call = a.callID
	}
	totals := a.stateTotals
	if !a.stateSince.IsZero() {
		out.TimeInState = now.Sub(a.stateSince)
		totals[stateIndex(a.state)] += out.TimeInState
	}
	if a.state == StateOnCall {
		out.TalkTime += now.Sub(a.call.answeredAt)
	}
	handling := totals[stateIndex(StateOnCall)] + totals[stateIndex(StateWrapUp)]
	staffed := handling + totals[stateIndex(StateAvailable)] + totals[stateIndex(StateReserved)]
	if staffed > 0 {
		out.Occupancy = float64(handling) / float64(staffed)
	}
	return out
}

// WaitingCall is a caller in a queue, for the API.
type WaitingCall struct {
	Call      sb.CallID     `json:"call"`
	Position  int           `json:"position"` // 0 while ringing an agent
	Priority  int           `json:"priority"`
	EnteredAt time.Time     `json:"entered_at"`
	Wait      time.Duration `json:"wait_ns"`
	Callback  bool          `json:"callback"`
	Ringing   []sb.AgentID  `json:"ringing,omitempty"`
	// Step is how many escalation steps have applied.
	Step int `json:"step"`
}

// QueueSnapshot is a queue's figures and callers.
type QueueSnapshot struct {
	QueueStats
	Calls []WaitingCall `json:"calls"`
}

// Snapshot is the whole ACD at one moment, for the API.
type Snapshot struct {
	Time   time.Time       `json:"time"`
	Agents []AgentStats    `json:"agents"`
	Queues []QueueSnapshot `json:"queues"`
}

// Snapshot copies the router's state; the result shares nothing with it.
func (r *Router) Snapshot(now time.Time) Snapshot {
	s := Snapshot{Time: now, Agents: make([]AgentStats, 0, len(r.agents)), Queues: make([]QueueSnapshot, 0, len(r.queues))}
	for i := range r.agents {
		s.Agents = append(s.Agents, r.agentStats(&r.agents[i], now))
	}
	ringing := map[*queue][]*call{}
	for _, c := range r.calls {
		if c.state == callOffered {
			ringing[c.q] = append(ringing[c.q], c)
		}
	}
	for _, q := range r.queues {
		st, _ := r.QueueStats(q.cfg.Name, now)
		qs := QueueSnapshot{QueueStats: st}
		for i, c := range q.waiting {
			qs.Calls = append(qs.Calls, r.waitingCall(c, i+1, now))
		}
		for _, c := range ringing[q] {
			qs.Calls = append(qs.Calls, r.waitingCall(c, 0, now))
		}
		s.Queues = append(s.Queues, qs)
	}
	return s
}

func (r *Router) waitingCall(c *call, pos int, now time.Time) WaitingCall {
	w := WaitingCall{Call: c.id, Position: pos, Priority: c.prio, EnteredAt: c.entered, Wait: now.Sub(c.entered), Callback: c.callback, Step: c.step}
	for _, ai := range c.offer {
		w.Ringing = append(w.Ringing, r.ag(ai).id)
	}
	return w
}

// Agent returns an agent's configuration (e.g. its PINHash for VerifyPIN).
func (r *Router) Agent(id sb.AgentID) (AgentConfig, bool) {
	ai, ok := r.agentIdx[id]
	if !ok {
		return AgentConfig{}, false
	}
	return *r.ag(ai).cfg, true
}

// QueueAgents returns the agents of a queue's base tier (those its skill
// expression and members select), in configuration order; ok is false for
// an unknown queue.
func (r *Router) QueueAgents(name sb.QueueName) (agents []sb.AgentID, ok bool) {
	qi, ok := r.queueIdx[name]
	if !ok {
		return nil, false
	}
	t := &r.tiers[r.queues[qi].tiers[0]]
	out := make([]sb.AgentID, 0, len(t.members))
	for _, ai := range t.members {
		out = append(out, r.ag(ai).id)
	}
	return out, true
}
