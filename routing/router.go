package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Router is the ACD's state: agents, queues, waiting calls and timers. It
// is owned by one goroutine; Apply is its only mutator. The read methods
// (NextWake, QueueStats, AgentStats, Snapshot) must be called from the
// same goroutine.
type Router struct {
	cfg      Config
	agents   []agent // by index, as in Config.Agents
	facts    []agentFacts
	agentIdx map[sb.AgentID]int32
	queues   []*queue
	queueIdx map[sb.QueueName]int32
	// heads are the queues' first waiting callers (nil: none), by queue
	// index, side by side: an agent who frees up reads his queues' heads
	// from here.
	heads []qhead
	tiers []tier
	calls map[sb.CallID]*call
	// prefCalls are the calls in a preferred-agent window, by that agent.
	prefCalls map[int32][]*call

	timers timerQueue
	seq    uint64
	rng    *rand.Rand
	now    time.Time
	out    []Action

	freed []int32 // agents who became available, to be given a call
	dirty []int32 // queues whose callers must be walked
	spare []int32 // dirty's other buffer, while dirty is walked
	leave []int32 // queues whose staffing fell, for LeaveWhenEmpty

	cands     []Candidate
	candAgent []int32
	picks     []int
}

type activity uint8

const (
	actIdle activity = iota
	actOffered
	actOnCall
	actWrapUp
)

// membership: the agent is eligible for tier local of queue q.
type membership struct {
	tier  int32 // index in Router.tiers
	q     int32
	local int32 // tier index within the queue
	order int32 // place in the tier's member list
	skill int32 // level of the queue's primary skill
	pos   int32 // index in the tier's avail list, -1 when not available
}

// agent is one agent's facts and figures. The fields a decision reads
// come first, with copies of the configuration's ID, wrap-up and weight,
// so that a decision touches the agent's first cache lines and not its
// AgentConfig.
type agent struct {
	id       sb.AgentID
	idx      int32
	act      activity
	inAvail  bool
	members  []membership   // grouped by queue, tiers ascending; in inline when they fit
	call     *call          // offered or connected call
	callID   sb.CallID      // offer, call or wrap-up call, for AgentState
	f        *agentFacts    // in Router.facts
	wrapUp   *time.Duration // AgentConfig.WrapUp
	endpoint string

	loggedIn, reachable, paused bool
	inLogged, inReady           bool
	noAnswer                    int
	backoff                     string // "busy" or "unreachable" while skipped
	state                       State
	reason                      string
	stateSince                  time.Time

	cfg         *AgentConfig
	base        []int32 // queues whose base tier the agent is in
	pauseReason string
	backoffGen  uint64
	wrapGen     uint64
	wrapStart   time.Time
	wrapQ       int32
	loginAt     time.Time
	stateTotals [numStates]time.Duration // this session
	// inline holds the memberships of an agent in a few queues, beside
	// his other facts (Router.agents never moves).
	inline [inlineMembers]membership
}

const inlineMembers = 6

// agentFacts are what strategies rank an agent by, for every agent side
// by side (Router.facts), so that the candidates for a caller are read
// from one cache line each rather than from the agents' records.
type agentFacts struct {
	idleSince time.Time // when the agent last finished a call or logged in
	talk      time.Duration
	calls     int // answered since login
	weight    int
	id        sb.AgentID
}

const numStates = 7

func stateIndex(s State) int {
	switch s {
	case StateAvailable:
		return 1
	case StateReserved:
		return 2
	case StateOnCall:
		return 3
	case StateWrapUp:
		return 4
	case StatePaused:
		return 5
	case StateUnavailable:
		return 6
	}
	return 0
}

// tier is the set of agents eligible for a queue at one escalation level.
type tier struct {
	q       int32
	members []int32
	avail   []availRef
	// availKey is, index for index with avail, what strategies read of
	// the agent's membership: candidates are read from here and from
	// Router.facts, not from the agents' records.
	availKey []memberKey
	logged   int // members logged in
	ready    int // members logged in, reachable and unpaused
}

type availRef struct{ agent, mi int32 }

type memberKey struct{ order, skill int32 }

type queue struct {
	// The fields a decision reads first.
	idx      int32
	offered  int     // calls ringing an agent
	waiting  []*call // by priority, EnteredAt, arrival
	tiers    []int32 // global tier index by local index; in tiers1 when one
	tiers1   [1]int32
	strategy Strategy
	primary  string
	dirty    bool
	leaving  bool
	stepTier []int32   // local tier after k escalation steps
	windowAt time.Time // a callback-window timer is set for then
	st       qstats
	cfg      queueConfig
}

type qstats struct {
	answered, answeredInSL, abandoned, exited, missedSL, completed int
	hold, talk, wrap                                               time.Duration
	aht                                                            float64 // seconds, EWMA of talk+wrap
	perPlace                                                       float64 // seconds waited per place in line, EWMA
	placeSamples                                                   int
}

type callState uint8

const (
	callWaiting callState = iota
	callOffered
	callConnected
)

// call is one caller. The fields a decision reads come first, so that
// it touches the call's first cache lines.
type call struct {
	prio     int
	entered  time.Time
	seq      uint64
	q        *queue
	state    callState
	gone     bool
	callback bool
	tier     int32 // local tier index
	pref     int32
	agent    int32
	req      []requirement // the caller's own skill requirements
	refused  []int32
	id       sb.CallID
	offer    []int32 // in offer1 unless ring-all rings several
	offer1   [1]int32
	offerGen uint64
	origPos  int
	step     int
	// timers are where the call's timers are in Router.timers, by kind
	// (a timerQueue place, 0: none).
	timers     [numCallTimers]uint32
	offerAt    time.Time
	answeredAt time.Time
	prefUntil  time.Time
	notBefore  time.Time
	caller     string
	vars       map[string]string
	number     string
	cbAttempts int
	// A pending exit for a caller who was ringing when it became due.
	exitReason ExitReason
	exitTarget string
	exitEvent  string
}

// qhead is a queue's first waiting caller with his place in the waiting
// order, so that he can be compared without reading the call.
type qhead struct {
	c       *call
	prio    int
	entered time.Time
	seq     uint64
}

func (h *qhead) set(c *call) {
	if c == nil {
		*h = qhead{}
		return
	}
	*h = qhead{c: c, prio: c.prio, entered: c.entered, seq: c.seq}
}

// before is before(h.c, b).
func (h *qhead) before(b *call) bool {
	if h.prio != b.prio {
		return h.prio > b.prio
	}
	if !h.entered.Equal(b.entered) {
		return h.entered.Before(b.entered)
	}
	return h.seq < b.seq
}

// before is the waiting order: priority, then EnteredAt, then arrival.
func before(a, b *call) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if !a.entered.Equal(b.entered) {
		return a.entered.Before(b.entered)
	}
	return a.seq < b.seq
}

// New builds a router from cfg. Every problem is reported, with its place:
// an unknown strategy names the valid ones; a bad skill expression names
// its queue (and step).
func New(cfg Config) (*Router, error) {
	cfg.withDefaults()
	cfg.Queues = slices.Clone(cfg.Queues)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("routing config: %w", err)
	}
	r := &Router{
		cfg:       cfg,
		agents:    make([]agent, 0, len(cfg.Agents)),
		facts:     make([]agentFacts, len(cfg.Agents)),
		agentIdx:  make(map[sb.AgentID]int32, len(cfg.Agents)),
		queueIdx:  make(map[sb.QueueName]int32, len(cfg.Queues)),
		calls:     make(map[sb.CallID]*call),
		prefCalls: make(map[int32][]*call),
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	r.heads = make([]qhead, len(cfg.Queues))
	envs := make([]agentEnv, len(cfg.Agents))
	for i := range cfg.Agents {
		ac := &r.cfg.Agents[i]
		r.facts[i] = agentFacts{id: ac.ID, weight: ac.Weight}
		r.agents = append(r.agents, agent{cfg: ac, id: ac.ID, idx: int32(i), f: &r.facts[i], wrapUp: ac.WrapUp,
			endpoint: ac.Endpoint, reachable: true, state: StateLoggedOut})
		r.agentIdx[ac.ID] = int32(i)
		envs[i] = agentEnv{ID: string(ac.ID), Name: ac.Name, Skills: ac.Skills, Languages: ac.Languages, Attributes: ac.Attributes, Weight: ac.Weight}
	}
	for i := range r.agents {
		a := &r.agents[i]
		a.members = a.inline[:0]
	}
	for i := range r.cfg.Queues {
		qc := r.cfg.Queues[i]
		st, _ := NewStrategy(qc.Strategy)
		q := &queue{cfg: newQueueConfig(qc, &r.cfg), idx: int32(i), strategy: st}
		q.tiers = q.tiers1[:0]
		r.queues = append(r.queues, q)
		r.queueIdx[qc.Name] = int32(i)
	}

	// Who matches an expression; cached by source because queues often
	// share expressions.
	mt := newMatcher(envs)
	// memberOrder is a queue's configured members, in order and without
	// repeats; nil (with all set) when every agent may be a member, in
	// configuration order.
	memberOrder := func(q *queue) (order []int32, all bool) {
		if len(q.cfg.Agents) == 0 {
			return nil, true
		}
		seen := map[int32]bool{}
		for _, id := range q.cfg.Agents {
			if i := r.agentIdx[id]; !seen[i] {
				seen[i] = true
				order = append(order, i)
			}
		}
		return order, false
	}
	baseMembers := make([][]int32, len(r.queues))
	for _, q := range r.queues {
		m, err := mt.match(q.cfg.Skills, fmt.Sprintf("queue %q", q.cfg.Name))
		if err != nil {
			return nil, fmt.Errorf("routing config: %w", err)
		}
		order, all := memberOrder(q)
		baseMembers[q.idx] = m.appendMembers(nil, order, all, len(r.agents))
		q.primary = q.cfg.PrimarySkill
		if q.primary == "" && q.cfg.Skills != "" {
			_, q.primary, _ = compileSkills(q.cfg.Skills)
		}
	}
	for _, q := range r.queues {
		src := q.cfg.Skills
		var added []sb.QueueName
		prevKey := ""
		for k := 0; k <= len(q.cfg.Escalation); k++ {
			if k > 0 {
				s := q.cfg.Escalation[k-1]
				if s.Skills != "" {
					src = s.Skills
				}
				for _, aq := range s.AddQueues {
					if !slices.Contains(added, aq) {
						added = append(added, aq)
					}
				}
			}
			sorted := slices.Clone(added)
			slices.Sort(sorted)
			key := src + "\x00" + fmt.Sprint(sorted)
			if k > 0 && key == prevKey {
				q.stepTier = append(q.stepTier, q.stepTier[k-1])
				continue
			}
			prevKey = key
			var members []int32
			if k == 0 {
				members = baseMembers[q.idx]
			} else {
				m, err := mt.match(src, fmt.Sprintf("queue %q: escalation[%d]", q.cfg.Name, k-1))
				if err != nil {
					return nil, fmt.Errorf("routing config: %w", err)
				}
				order, all := memberOrder(q)
				members = m.appendMembers(nil, order, all, len(r.agents))
				in := make(map[int32]bool, len(members))
				for _, i := range members {
					in[i] = true
				}
				for _, aq := range added {
					for _, i := range baseMembers[r.queueIdx[aq]] {
						if !in[i] {
							members = append(members, i)
							in[i] = true
						}
					}
				}
			}
			local := int32(len(q.tiers))
			gt := int32(len(r.tiers))
			r.tiers = append(r.tiers, tier{q: q.idx, members: members})
			q.tiers = append(q.tiers, gt)
			q.stepTier = append(q.stepTier, local)
			for order, ai := range members {
				a := r.ag(ai)
				a.members = append(a.members, membership{
					tier: gt, q: q.idx, local: local, order: int32(order),
					skill: int32(a.cfg.Skills[q.primary]), pos: -1,
				})
				if local == 0 {
					a.base = append(a.base, q.idx)
				}
			}
		}
		q.st.aht = q.cfg.ExpectedAHT.Seconds()
	}
	// Each tier's available agents are at most its members: the lists
	// share one allocation, each with room for all its members.
	n := 0
	for i := range r.tiers {
		n += len(r.tiers[i].members)
	}
	slab, keys := make([]availRef, n), make([]memberKey, n)
	for i := range r.tiers {
		t := &r.tiers[i]
		m := len(t.members)
		t.avail, slab = slab[:0:m], slab[m:]
		t.availKey, keys = keys[:0:m], keys[m:]
	}
	return r, nil
}

// Apply applies one message at now and returns the actions to carry out,
// in order. Timers due by now fire first (and again after the message).
func (r *Router) Apply(m Msg, now time.Time) []Action {
	r.out = nil
	r.now = now
	r.fire()
	switch m := m.(type) {
	case Tick:
	case AgentLogin:
		r.login(m)
	case AgentLogout:
		r.logout(m)
	case AgentPause:
		r.pause(m)
	case AgentReady:
		r.ready(m)
	case AgentEndWrapUp:
		if a := r.agent(m, m.Agent); a != nil {
			if a.act != actWrapUp {
				r.ignore(m, "not in wrap-up")
			} else {
				r.endWrap(a)
				r.refresh(a)
			}
		}
	case EndpointReachable:
		if a := r.agent(m, m.Agent); a != nil {
			a.reachable = m.Reachable
			if m.Reachable && a.backoff == "unreachable" {
				a.backoff = ""
				a.backoffGen++
			}
			r.refresh(a)
		}
	case Enqueue:
		r.enqueue(m)
	case Adopt:
		r.adopt(m)
	case Abandon:
		r.abandon(m)
	case OfferAnswered:
		if c, a := r.ringing(m, m.Call, m.Agent, false); c != nil {
			r.connect(c, a, m.Channel)
		}
	case OfferFailed:
		if c, a := r.ringing(m, m.Call, m.Agent, false); c != nil {
			r.fail(c, a, m.Why)
		}
	case CallEnded:
		r.callEnded(m)
	case CallbackRequest:
		r.callbackRequest(m)
	case CallbackResult:
		r.callbackResult(m)
	default:
		r.ignore(m, fmt.Sprintf("unknown message %T", m))
	}
	r.fire()
	r.settle()
	return r.out
}

// NextWake returns when Apply(Tick{}, at) must next be called, zero when
// no timer is pending.
func (r *Router) NextWake() time.Time {
	for t := r.timers.peek(); t != nil; t = r.timers.peek() {
		if r.live(t) {
			return t.at
		}
		r.timers.pop()
	}
	return time.Time{}
}

// ag is the agent of index i.
func (r *Router) ag(i int32) *agent { return &r.agents[i] }

func (r *Router) emit(a Action) {
	if r.out == nil {
		r.out = make([]Action, 0, 8) // a decision emits about 4 to 8
	}
	r.out = append(r.out, a)
}

func (r *Router) ignore(m Msg, why string) { r.emit(Ignored{Msg: m, Why: why}) }

func (r *Router) qlog(c sb.CallID, q sb.QueueName, a sb.AgentID, event string, data ...string) {
	r.emit(QueueLog{Time: r.now, CallID: c, Queue: q, Agent: a, Event: event, Data: data})
}

func secs(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
func msecs(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}

func (r *Router) agent(m Msg, id sb.AgentID) *agent {
	i, ok := r.agentIdx[id]
	if !ok {
		r.ignore(m, fmt.Sprintf("unknown agent %q", id))
		return nil
	}
	return r.ag(i)
}

// ringing finds a call being offered to an agent.
func (r *Router) ringing(m Msg, id sb.CallID, aid sb.AgentID, callback bool) (*call, *agent) {
	c := r.calls[id]
	a := r.agent(m, aid)
	switch {
	case a == nil:
		return nil, nil
	case c == nil:
		r.ignore(m, "no such call")
	case c.state != callOffered || a.call != c || a.act != actOffered:
		r.ignore(m, "no offer of this call to this agent")
	case c.callback != callback:
		r.ignore(m, "wrong message for a callback / not a callback")
	default:
		return c, a
	}
	return nil, nil
}

// ----- agents

func (r *Router) login(m AgentLogin) {
	a := r.agent(m, m.Agent)
	if a == nil {
		return
	}
	if a.loggedIn {
		r.ignore(m, "already logged in")
		return
	}
	a.loggedIn = true
	a.endpoint = a.cfg.Endpoint
	if m.Endpoint != "" {
		a.endpoint = m.Endpoint
	}
	a.loginAt, a.f.idleSince = r.now, r.now
	a.f.calls, a.f.talk, a.noAnswer = 0, 0, 0
	a.stateTotals = [numStates]time.Duration{}
	a.stateSince = r.now
	a.paused, a.pauseReason = m.Paused, m.Reason
	r.qlog("", "", a.id, LogAgentLogin, a.endpoint)
	for _, qi := range a.base {
		r.qlog("", r.queues[qi].cfg.Name, a.id, LogAddMember)
	}
	if a.paused {
		r.logPause(a, true)
	}
	r.refresh(a)
}

func (r *Router) logout(m AgentLogout) {
	a := r.agent(m, m.Agent)
	if a == nil {
		return
	}
	if !a.loggedIn {
		r.ignore(m, "not logged in")
		return
	}
	if a.act == actOffered {
		r.withdraw(a, CancelAgentLoggedOut)
	}
	if a.act == actWrapUp {
		r.endWrap(a)
	}
	for _, c := range slices.Clone(r.prefCalls[a.idx]) {
		r.clearPref(c)
		r.markDirty(c.q)
	}
	for _, qi := range a.base {
		r.qlog("", r.queues[qi].cfg.Name, a.id, LogRemoveMember)
	}
	r.qlog("", "", a.id, LogAgentLogoff, a.endpoint, secs(r.now.Sub(a.loginAt)))
	a.loggedIn, a.paused, a.pauseReason = false, false, ""
	r.refresh(a)
}

func (r *Router) pause(m AgentPause) {
	a := r.agent(m, m.Agent)
	if a == nil {
		return
	}
	if !a.loggedIn {
		r.ignore(m, "not logged in")
		return
	}
	r.pauseAgent(a, m.Reason)
	r.refresh(a)
}

func (r *Router) pauseAgent(a *agent, reason string) {
	a.paused, a.pauseReason = true, reason
	r.logPause(a, true)
}

func (r *Router) logPause(a *agent, on bool) {
	all, one := LogPauseAll, LogPause
	if !on {
		all, one = LogUnpauseAll, LogUnpause
	}
	r.qlog("", "", a.id, all, a.pauseReason)
	for _, qi := range a.base {
		r.qlog("", r.queues[qi].cfg.Name, a.id, one, a.pauseReason)
	}
}

func (r *Router) ready(m AgentReady) {
	a := r.agent(m, m.Agent)
	if a == nil {
		return
	}
	if !a.loggedIn {
		r.ignore(m, "not logged in")
		return
	}
	if a.paused {
		r.logPause(a, false)
		a.paused, a.pauseReason = false, ""
	}
	a.noAnswer = 0
	if a.act == actWrapUp {
		r.endWrap(a)
	}
	r.refresh(a)
}

func (r *Router) endWrap(a *agent) {
	q := r.queues[a.wrapQ]
	q.st.wrap += r.now.Sub(a.wrapStart)
	a.act = actIdle
	a.f.idleSince = r.now
	a.callID = ""
	a.wrapGen++
}

func (r *Router) startBackoff(a *agent, why string, d time.Duration) {
	a.backoff = why
	a.backoffGen++
	r.addTimerIn(timer{at: r.now.Add(d), kind: tBackoff, a: a.idx, gen: a.backoffGen}, d)
}

// derive is the agent's state from the facts.
func (a *agent) derive() (State, string) {
	switch {
	case a.act == actOffered:
		return StateReserved, ""
	case a.act == actOnCall:
		return StateOnCall, ""
	case !a.loggedIn:
		return StateLoggedOut, ""
	case a.act == actWrapUp:
		return StateWrapUp, ""
	case !a.reachable:
		return StateUnavailable, "unreachable"
	case a.backoff != "":
		return StateUnavailable, a.backoff
	case a.paused:
		return StatePaused, a.pauseReason
	}
	return StateAvailable, ""
}

// refresh brings the indexes (available sets, staffing counters) and the
// published state in line with the agent's facts. Every change to an
// agent's facts is followed by refresh.
func (r *Router) refresh(a *agent) {
	logged := a.loggedIn
	ready := logged && a.reachable && !a.paused
	avail := ready && a.act == actIdle && a.backoff == ""
	if logged != a.inLogged || ready != a.inReady {
		for i := range a.members {
			t := &r.tiers[a.members[i].tier]
			if logged != a.inLogged {
				t.logged += b2i(logged)
			}
			if ready != a.inReady {
				t.ready += b2i(ready)
			}
			if (!logged && t.logged == 0) || (!ready && t.ready == 0) {
				if q := r.queues[t.q]; !q.leaving && q.cfg.LeaveWhenEmpty != sb.EmptyNever {
					q.leaving = true
					r.leave = append(r.leave, q.idx)
				}
			}
		}
		a.inLogged, a.inReady = logged, ready
	}
	if avail != a.inAvail {
		for i := range a.members {
			m := &a.members[i]
			t := &r.tiers[m.tier]
			if avail {
				m.pos = int32(len(t.avail))
				t.avail = append(t.avail, availRef{a.idx, int32(i)})
				t.availKey = append(t.availKey, memberKey{m.order, m.skill})
				continue
			}
			n := len(t.avail) - 1
			last := t.avail[n]
			t.avail[m.pos], t.availKey[m.pos] = last, t.availKey[n]
			r.ag(last.agent).members[last.mi].pos = m.pos
			t.avail, t.availKey = t.avail[:n], t.availKey[:n]
			m.pos = -1
		}
		a.inAvail = avail
		if avail {
			r.freed = append(r.freed, a.idx)
		}
	}
	st, reason := a.derive()
	if st != a.state || reason != a.reason {
		if !a.stateSince.IsZero() {
			a.stateTotals[stateIndex(a.state)] += r.now.Sub(a.stateSince)
		}
		a.state, a.reason, a.stateSince = st, reason, r.now
		var cid sb.CallID
		if st == StateReserved || st == StateOnCall || st == StateWrapUp {
			cid = a.callID
		}
		r.emit(AgentState{Agent: a.id, State: st, Reason: reason, Call: cid})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return -1
}

// ----- calls

func (r *Router) enqueue(m Enqueue) {
	if _, dup := r.calls[m.Call]; dup || m.Call == "" {
		r.ignore(m, "call already queued, or no call id")
		return
	}
	qi, ok := r.queueIdx[m.Queue]
	if !ok {
		r.emit(Exit{Call: m.Call, Queue: m.Queue, Reason: ExitUnknownQueue})
		return
	}
	q := r.queues[qi]
	if q.cfg.MaxLength > 0 && len(q.waiting)+q.offered >= q.cfg.MaxLength {
		r.qlog(m.Call, q.cfg.Name, "", LogFull)
		r.emit(Exit{Call: m.Call, Queue: q.cfg.Name, Reason: ExitFull, Target: q.cfg.MaxLengthTarget})
		return
	}
	if r.empty(q.cfg.JoinEmpty, &r.tiers[q.tiers[0]]) {
		r.qlog(m.Call, q.cfg.Name, "", LogJoinEmpty)
		r.emit(Exit{Call: m.Call, Queue: q.cfg.Name, Reason: ExitJoinEmpty, Target: q.cfg.EmptyTarget})
		return
	}
	entered := m.EnteredAt
	if entered.IsZero() {
		entered = r.now
	}
	r.seq++
	var req []requirement
	if !q.cfg.IgnoreCallSkills {
		req = parseRequirements(m.Skills)
	}
	c := &call{id: m.Call, q: q, prio: m.Priority, entered: entered, seq: r.seq, caller: m.Caller, vars: m.Vars, pref: -1, agent: -1,
		callback: m.CallbackNumber != "", number: m.CallbackNumber, req: req}
	c.offer = c.offer1[:0]
	r.calls[c.id] = c
	r.insertWaiting(c)
	c.origPos = r.position(c)
	r.qlog(c.id, q.cfg.Name, "", LogEnterQueue, "", m.Caller)
	r.emit(Queued{Call: c.id, Queue: q.cfg.Name, Position: c.origPos, EstimatedWait: r.estimate(q, c.tier, c.origPos), MusicClass: q.cfg.MusicClass})
	if q.cfg.WaitForAgent > 0 {
		r.addTimerIn(timer{at: entered.Add(q.cfg.WaitForAgent), kind: tMaxWait, c: c}, q.cfg.WaitForAgent)
	}
	if len(q.cfg.Escalation) > 0 {
		r.addTimerIn(timer{at: entered.Add(q.cfg.Escalation[0].After), kind: tStep, c: c, gen: 0}, q.cfg.Escalation[0].After)
	}
	if q.cfg.AnnounceEvery > 0 {
		r.addTimerIn(timer{at: r.now.Add(q.cfg.AnnounceEvery), kind: tAnnounce, c: c}, q.cfg.AnnounceEvery)
	}
	if pi, ok := r.agentIdx[m.Preferred]; ok && q.cfg.PreferredWait > 0 && r.ag(pi).loggedIn && !c.callback && c.accepts(r.ag(pi)) {
		c.pref, c.prefUntil = pi, r.now.Add(q.cfg.PreferredWait)
		r.prefCalls[pi] = append(r.prefCalls[pi], c)
		r.addTimerIn(timer{at: c.prefUntil, kind: tPrefEnd, c: c}, q.cfg.PreferredWait)
	}
	if q.cfg.LeaveWhenEmpty != sb.EmptyNever && !q.leaving {
		q.leaving = true
		r.leave = append(r.leave, q.idx)
	}
	r.markDirty(q)
}

func (r *Router) empty(p sb.EmptyPolicy, t *tier) bool {
	switch p {
	case sb.EmptyNoMembers:
		return t.logged == 0
	case sb.EmptyNoAvailable:
		return t.ready == 0
	}
	return false
}

func (r *Router) abandon(m Abandon) {
	c := r.calls[m.Call]
	if c == nil {
		r.ignore(m, "no such call")
		return
	}
	if c.state == callConnected {
		r.ignore(m, "call answered: send CallEnded")
		return
	}
	pos := r.position(c)
	r.unqueue(c, CancelCallerLeft)
	wait := r.now.Sub(c.entered)
	q := c.q
	q.st.abandoned++
	if wait > q.cfg.slTime {
		q.st.missedSL++
	}
	r.qlog(c.id, q.cfg.Name, "", LogAbandon, strconv.Itoa(pos), strconv.Itoa(c.origPos), secs(wait))
	r.forget(c)
}

// unqueue takes a waiting or offered call out of its queue, cancelling
// any offer.
func (r *Router) unqueue(c *call, why CancelReason) {
	switch c.state {
	case callWaiting:
		r.removeWaiting(c)
	case callOffered:
		var buf [4]int32
		for _, ai := range copyOffer(&buf, c.offer) {
			a := r.ag(ai)
			r.emit(CancelOffer{Call: c.id, Agent: a.id, Reason: why})
			r.qlog(c.id, c.q.cfg.Name, a.id, LogRingCanceled, msecs(r.now.Sub(c.offerAt)))
			r.dropAgent(c, a)
		}
		c.q.offered--
		c.state = callWaiting // not in the list; the caller forgets or reinserts it
	}
}

func (r *Router) forget(c *call) {
	c.gone = true
	r.dropTimers(c)
	delete(r.calls, c.id)
	r.clearPref(c)
}

func (r *Router) clearPref(c *call) {
	if c.pref < 0 {
		return
	}
	l := r.prefCalls[c.pref]
	if i := slices.Index(l, c); i >= 0 {
		l = slices.Delete(l, i, i+1)
	}
	if len(l) == 0 {
		delete(r.prefCalls, c.pref)
	} else {
		r.prefCalls[c.pref] = l
	}
	c.pref = -1
}

// copyOffer copies the agents an offer rings, to walk while the offer
// changes (into buf, on the caller's stack, for up to 4).
func copyOffer(buf *[4]int32, offer []int32) []int32 { return append(buf[:0], offer...) }

// dropAgent ends an agent's part in an offer; the agent is idle again.
func (r *Router) dropAgent(c *call, a *agent) {
	if i := slices.Index(c.offer, a.idx); i >= 0 {
		c.offer = slices.Delete(c.offer, i, i+1)
	}
	a.act, a.call, a.callID = actIdle, nil, ""
	r.refresh(a)
}

// withdraw cancels the offer an agent is ringing; the caller keeps its place.
func (r *Router) withdraw(a *agent, why CancelReason) {
	c := a.call
	r.emit(CancelOffer{Call: c.id, Agent: a.id, Reason: why})
	r.qlog(c.id, c.q.cfg.Name, a.id, LogRingCanceled, msecs(r.now.Sub(c.offerAt)))
	r.dropAgent(c, a)
	if len(c.offer) == 0 {
		r.requeue(c)
	}
}

// requeue returns an offered call to its place, or sends it on its way if
// an exit became due while it rang.
func (r *Router) requeue(c *call) {
	c.q.offered--
	c.state = callWaiting
	r.insertWaiting(c)
	if c.exitReason != "" {
		r.exit(c, c.exitReason, c.exitTarget, c.exitEvent)
		return
	}
	r.markDirty(c.q)
}

// exit sends a waiting caller out of the queue.
func (r *Router) exit(c *call, why ExitReason, target, event string) {
	q := c.q
	pos := r.position(c)
	r.removeWaiting(c)
	wait := r.now.Sub(c.entered)
	q.st.exited++
	if wait > q.cfg.slTime {
		q.st.missedSL++
	}
	r.qlog(c.id, q.cfg.Name, "", event, strconv.Itoa(pos), strconv.Itoa(c.origPos), secs(wait))
	r.emit(Exit{Call: c.id, Queue: q.cfg.Name, Reason: why, Target: target})
	r.forget(c)
}

// exitOrDefer exits a waiting caller now, or a ringing one when the ring ends.
func (r *Router) exitOrDefer(c *call, why ExitReason, target, event string) {
	if c.state == callWaiting {
		r.exit(c, why, target, event)
		return
	}
	if c.exitReason == "" {
		c.exitReason, c.exitTarget, c.exitEvent = why, target, event
	}
}

func (r *Router) connect(c *call, a *agent, ch sb.ChannelID) {
	q := c.q
	var buf [4]int32
	for _, ai := range copyOffer(&buf, c.offer) {
		if ai == a.idx {
			continue
		}
		o := r.ag(ai)
		r.emit(CancelOffer{Call: c.id, Agent: o.id, Reason: CancelAnsweredElsewhere})
		r.qlog(c.id, q.cfg.Name, o.id, LogRingCanceled, msecs(r.now.Sub(c.offerAt)))
		r.dropAgent(c, o)
	}
	c.offer = c.offer[:0]
	q.offered--
	c.state, c.agent, c.answeredAt = callConnected, a.idx, r.now
	r.dropTimers(c)
	r.clearPref(c)
	a.act, a.call, a.callID = actOnCall, c, c.id
	a.noAnswer = 0
	a.f.calls++
	r.refresh(a)
	hold := r.now.Sub(c.entered)
	q.st.answered++
	q.st.hold += hold
	if hold <= q.cfg.slTime {
		q.st.answeredInSL++
	}
	sample := hold.Seconds() / float64(max(c.origPos, 1))
	if q.st.placeSamples == 0 {
		q.st.perPlace = sample
	} else {
		q.st.perPlace += 0.2 * (sample - q.st.perPlace)
	}
	q.st.placeSamples++
	r.qlog(c.id, q.cfg.Name, a.id, LogConnect, secs(hold), string(ch), secs(r.now.Sub(c.offerAt)))
}

func (r *Router) fail(c *call, a *agent, why FailReason) {
	q := c.q
	r.qlog(c.id, q.cfg.Name, a.id, LogRingNoAnswer, msecs(r.now.Sub(c.offerAt)))
	if !slices.Contains(c.refused, a.idx) {
		c.refused = append(c.refused, a.idx)
	}
	if c.pref == a.idx {
		r.clearPref(c) // the preferred agent let the caller down: the strategy takes over
	}
	switch why {
	case FailBusy:
		r.startBackoff(a, "busy", r.cfg.BusyBackoff)
	case FailUnreachable:
		r.startBackoff(a, "unreachable", r.cfg.UnreachableBackoff)
	default: // no answer, rejected
		a.noAnswer++
		if q.cfg.MaxNoAnswer > 0 && a.noAnswer >= q.cfg.MaxNoAnswer && a.loggedIn && !a.paused {
			r.pauseAgent(a, ReasonNoAnswer)
		} else if r.cfg.NoAnswerBackoff > 0 {
			r.startBackoff(a, "no answer", r.cfg.NoAnswerBackoff)
		}
	}
	r.dropAgent(c, a)
	if len(c.offer) == 0 {
		r.requeue(c)
	}
}

func (r *Router) adopt(m Adopt) {
	qi, ok := r.queueIdx[m.Queue]
	switch {
	case !ok:
		r.ignore(m, "unknown queue")
		return
	case r.calls[m.Call] != nil:
		r.ignore(m, "call already known")
		return
	}
	a := r.agent(m, m.Agent)
	if a == nil {
		return
	}
	if a.act != actIdle {
		r.ignore(m, "agent is busy")
		return
	}
	entered, answered := m.EnteredAt, m.AnsweredAt
	if answered.IsZero() || answered.After(r.now) {
		answered = r.now
	}
	if entered.IsZero() || entered.After(answered) {
		entered = answered
	}
	r.seq++
	c := &call{id: m.Call, q: r.queues[qi], entered: entered, seq: r.seq, pref: -1, agent: a.idx,
		state: callConnected, answeredAt: answered, origPos: 1}
	c.offer = c.offer1[:0]
	r.calls[c.id] = c
	a.act, a.call, a.callID = actOnCall, c, c.id
	r.refresh(a)
}

func (r *Router) callEnded(m CallEnded) {
	c := r.calls[m.Call]
	if c == nil || c.state != callConnected || r.ag(c.agent).id != m.Agent {
		r.ignore(m, "no answered call with this agent")
		return
	}
	a := r.ag(c.agent)
	q := c.q
	talk := r.now.Sub(c.answeredAt)
	hold := c.answeredAt.Sub(c.entered)
	a.f.talk += talk
	q.st.talk += talk
	q.st.completed++
	wrap := q.cfg.WrapUp
	if a.wrapUp != nil {
		wrap = *a.wrapUp
	}
	q.st.aht += 0.1 * ((talk + wrap).Seconds() - q.st.aht)
	ev := LogCompleteCaller
	if m.ByAgent {
		ev = LogCompleteAgent
	}
	r.qlog(c.id, q.cfg.Name, a.id, ev, secs(hold), secs(talk), strconv.Itoa(c.origPos))
	a.call = nil
	if a.loggedIn && wrap > 0 {
		a.act, a.wrapStart, a.wrapQ = actWrapUp, r.now, q.idx
		a.wrapGen++
		r.addTimerIn(timer{at: r.now.Add(wrap), kind: tWrapEnd, a: a.idx, gen: a.wrapGen}, wrap)
	} else {
		a.act, a.callID, a.f.idleSince = actIdle, "", r.now
	}
	r.forget(c)
	r.refresh(a)
}

func (r *Router) callbackRequest(m CallbackRequest) {
	c := r.calls[m.Call]
	switch {
	case c == nil:
		r.ignore(m, "no such call")
		return
	case c.callback:
		r.ignore(m, "callback already requested")
		return
	case c.state == callConnected:
		r.ignore(m, "call answered")
		return
	}
	c.exitReason = ""
	if c.state == callOffered {
		r.unqueue(c, CancelCallerLeft)
		r.insertWaiting(c)
	}
	c.callback, c.number = true, m.Number
	r.clearPref(c)
	r.markDirty(c.q)
}

func (r *Router) callbackResult(m CallbackResult) {
	c, a := r.ringing(m, m.Call, m.Agent, true)
	if c == nil {
		return
	}
	switch m.Outcome {
	case CallbackConnected:
		r.connect(c, a, "")
	case CallbackAgentFailed:
		why := m.Why
		if why == "" {
			why = FailNoAnswer
		}
		r.fail(c, a, why)
	default:
		r.customerFailed(c, a)
	}
}

func (r *Router) customerFailed(c *call, a *agent) {
	r.dropAgent(c, a)
	c.cbAttempts++
	c.notBefore = r.now.Add(c.q.cfg.Callback.Retry)
	if c.cbAttempts >= c.q.cfg.Callback.Attempts {
		c.exitReason, c.exitTarget, c.exitEvent = ExitCallbackFailed, "", LogExitWithTimeout
	} else {
		r.addTimerIn(timer{at: c.notBefore, kind: tRetry, c: c, gen: uint64(c.cbAttempts)}, c.q.cfg.Callback.Retry)
	}
	r.requeue(c)
}

// ----- waiting lists

func (r *Router) insertWaiting(c *call) {
	w := c.q.waiting
	i := sort.Search(len(w), func(i int) bool { return before(c, w[i]) })
	c.q.waiting = slices.Insert(w, i, c)
	r.heads[c.q.idx].set(c.q.waiting[0])
}

func (r *Router) removeWaiting(c *call) {
	w := c.q.waiting
	i := sort.Search(len(w), func(i int) bool { return !before(w[i], c) })
	if i < len(w) && w[i] == c {
		c.q.waiting = slices.Delete(w, i, i+1)
		if i == 0 {
			var first *call
			if len(c.q.waiting) > 0 {
				first = c.q.waiting[0]
			}
			r.heads[c.q.idx].set(first)
		}
	}
}

// position is the caller's place in line (1 = next), counting callbacks;
// for a ringing caller the place it would take back.
func (r *Router) position(c *call) int {
	w := c.q.waiting
	return sort.Search(len(w), func(i int) bool { return !before(w[i], c) }) + 1
}

func (r *Router) markDirty(q *queue) {
	if !q.dirty {
		q.dirty = true
		r.dirty = append(r.dirty, q.idx)
	}
}

// ----- deciding

// settle gives every newly available agent a call and walks every queue
// whose callers changed, until nothing more can be offered.
func (r *Router) settle() {
	for len(r.leave) > 0 || len(r.freed) > 0 || len(r.dirty) > 0 {
		// Queues and agents are taken first in first out; the lists are
		// reused from one message to the next.
		for i := 0; i < len(r.leave); i++ {
			q := r.queues[r.leave[i]]
			q.leaving = false
			for i := 0; i < len(q.waiting); {
				c := q.waiting[i]
				if !c.callback && r.empty(q.cfg.LeaveWhenEmpty, &r.tiers[q.tiers[c.tier]]) {
					r.exit(c, ExitEmpty, q.cfg.EmptyTarget, LogExitEmpty)
					continue
				}
				i++
			}
		}
		r.leave = r.leave[:0]
		for i := 0; i < len(r.freed); i++ {
			a := r.ag(r.freed[i])
			for a.inAvail {
				c := r.bestCallFor(a)
				if c == nil || !r.route(c) {
					break
				}
			}
		}
		r.freed = r.freed[:0]
		if len(r.dirty) > 0 {
			dirty := r.dirty
			r.dirty = r.spare[:0]
			slices.SortFunc(dirty, func(x, y int32) int {
				wx, wy := r.queues[x].waiting, r.queues[y].waiting
				switch {
				case len(wx) == 0 || len(wy) == 0:
					return len(wy) - len(wx)
				case before(wx[0], wy[0]):
					return -1
				case before(wy[0], wx[0]):
					return 1
				}
				return 0
			})
			for _, qi := range dirty {
				q := r.queues[qi]
				q.dirty = false
				for i := 0; i < len(q.waiting); {
					if !r.route(q.waiting[i]) {
						i++
					}
				}
			}
			r.spare = dirty[:0]
		}
	}
}

// callable reports whether the caller may be offered to this agent now,
// setting aside tier membership. With strict, an agent who already let
// this caller down is not.
func (r *Router) callable(c *call, a *agent, strict bool) bool {
	if !c.accepts(a) {
		return false
	}
	if c.pref >= 0 && r.now.Before(c.prefUntil) && c.pref != a.idx {
		return false
	}
	if c.callback && !r.callbackDue(c) {
		return false
	}
	return !strict || !slices.Contains(c.refused, a.idx)
}

// bestCallFor is the first caller, across the agent's queues, that he may
// serve now; preferably one he has not let down already (he is tried again
// for such a caller only when nobody else is free for it: see candidates).
func (r *Router) bestCallFor(a *agent) *call {
	if c := r.bestCall(a, true); c != nil {
		return c
	}
	return r.bestCall(a, false)
}

func (r *Router) bestCall(a *agent, strict bool) *call {
	var best *call
	for i := 0; i < len(a.members); {
		qi := a.members[i].q
		var mask uint64
		for ; i < len(a.members) && a.members[i].q == qi; i++ {
			mask |= 1 << uint(a.members[i].local)
		}
		// The queue's first caller from heads, which spares reading the
		// queue when he decides it (no caller, or one after best).
		h := &r.heads[qi]
		if h.c == nil || (best != nil && !h.before(best)) {
			continue
		}
		c := h.c
		if mask>>uint(c.tier)&1 == 1 && r.callable(c, a, strict) {
			best = c
			continue
		}
		for _, c := range r.queues[qi].waiting[1:] {
			if best != nil && !before(c, best) {
				break
			}
			if mask>>uint(c.tier)&1 == 1 && r.callable(c, a, strict) {
				best = c
				break
			}
		}
	}
	for _, c := range r.prefCalls[a.idx] {
		if c.state == callWaiting && r.now.Before(c.prefUntil) && (best == nil || before(c, best)) && r.callable(c, a, strict) {
			best = c
		}
	}
	return best
}

func (r *Router) callbackDue(c *call) bool {
	if r.now.Before(c.notBefore) {
		return false
	}
	if r.windowOpen(c.q, r.now) {
		return true
	}
	if next := r.nextWindow(c.q, r.now); !next.IsZero() && (c.q.windowAt.IsZero() || next.Before(c.q.windowAt)) {
		c.q.windowAt = next
		r.addTimer(timer{at: next, kind: tWindow, a: c.q.idx})
	}
	return false
}

// route offers the caller to the agents its queue's strategy picks among
// the available candidates; false when there is none.
func (r *Router) route(c *call) bool {
	cands := r.candidates(c)
	if len(cands) == 0 {
		return false
	}
	var picks []int
	if c.pref >= 0 {
		picks = append(r.picks[:0], 0)
	} else {
		picks = c.q.strategy.Pick(r.picks[:0], cands, r.rng)
	}
	r.picks = picks
	if len(picks) == 0 {
		return false
	}
	if c.callback {
		picks = picks[:1]
	}
	r.offer(c, picks)
	return true
}

func (r *Router) candidates(c *call) []Candidate {
	r.cands, r.candAgent = r.cands[:0], r.candAgent[:0]
	if c.callback && !r.callbackDue(c) {
		return nil
	}
	add := func(a *agent, order, skill int32) {
		r.cands = append(r.cands, Candidate{
			Agent: a.id, Order: int(order), IdleSince: a.f.idleSince, Calls: a.f.calls,
			TalkTime: a.f.talk, Weight: a.f.weight, Skill: int(skill),
		})
		r.candAgent = append(r.candAgent, a.idx)
	}
	if c.pref >= 0 {
		if r.now.Before(c.prefUntil) {
			if a := r.ag(c.pref); a.inAvail {
				add(a, 0, int32(a.cfg.Skills[c.q.primary]))
			}
			return r.cands
		}
		r.clearPref(c)
	}
	t := &r.tiers[c.q.tiers[c.tier]]
	for {
		refusedFree := false // an agent who let the caller down is free
		for i, e := range t.avail {
			if len(c.req) > 0 && !c.accepts(r.ag(e.agent)) {
				continue
			}
			if len(c.refused) > 0 && slices.Contains(c.refused, e.agent) {
				refusedFree = true
				continue
			}
			f, k := &r.facts[e.agent], t.availKey[i]
			r.cands = append(r.cands, Candidate{
				Agent: f.id, Order: int(k.order), IdleSince: f.idleSince, Calls: f.calls,
				TalkTime: f.talk, Weight: f.weight, Skill: int(k.skill),
			})
			r.candAgent = append(r.candAgent, e.agent)
		}
		if len(r.cands) > 0 || !refusedFree {
			return r.cands
		}
		// Everyone free has let this caller down once: try them again
		// rather than leave the caller waiting beside idle agents.
		c.refused = c.refused[:0]
	}
}

// accepts reports whether the agent meets the caller's own requirements.
func (c *call) accepts(a *agent) bool { return len(c.req) == 0 || meets(a.cfg, c.req) }

func (r *Router) offer(c *call, picks []int) {
	q := c.q
	r.removeWaiting(c)
	c.state = callOffered
	q.offered++
	c.offer = c.offer[:0]
	c.offerAt = r.now
	c.offerGen++
	for _, p := range picks {
		c.offer = append(c.offer, r.candAgent[p])
	}
	for _, ai := range c.offer {
		a := r.ag(ai)
		a.act, a.call, a.callID = actOffered, c, c.id
		r.refresh(a)
	}
	if c.callback {
		a := r.ag(c.offer[0])
		r.emit(StartCallback{Call: c.id, Queue: q.cfg.Name, Agent: a.id, Endpoint: a.endpoint, Number: c.number})
		r.addTimerIn(timer{at: r.now.Add(q.cfg.RingTimeout + r.cfg.CallbackDialTimeout + r.cfg.RingGrace), kind: tOffer, c: c, gen: c.offerGen},
			q.cfg.RingTimeout+r.cfg.CallbackDialTimeout+r.cfg.RingGrace)
		return
	}
	o := Offer{Call: c.id, Queue: q.cfg.Name, Timeout: q.cfg.RingTimeout}
	if len(c.offer) == 1 { // one allocation for both lists
		one := new(struct {
			agent    [1]sb.AgentID
			endpoint [1]string
		})
		o.Agents, o.Endpoints = one.agent[:], one.endpoint[:]
	} else {
		o.Agents, o.Endpoints = make([]sb.AgentID, len(c.offer)), make([]string, len(c.offer))
	}
	for i, ai := range c.offer {
		o.Agents[i], o.Endpoints[i] = r.ag(ai).id, r.ag(ai).endpoint
	}
	r.emit(o)
	r.addTimerIn(timer{at: r.now.Add(q.cfg.RingTimeout + r.cfg.RingGrace), kind: tOffer, c: c, gen: c.offerGen}, q.cfg.RingTimeout+r.cfg.RingGrace)
}

// ----- callback windows

func (r *Router) windowOpen(q *queue, now time.Time) bool {
	if len(q.cfg.windows) == 0 {
		return true
	}
	t := now.In(r.cfg.Location)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, r.cfg.Location)
	for _, w := range q.cfg.windows {
		if (len(w.Days) == 0 || slices.Contains(w.Days, t.Weekday())) &&
			!t.Before(midnight.Add(w.From)) && t.Before(midnight.Add(w.To)) {
			return true
		}
	}
	return false
}

func (r *Router) nextWindow(q *queue, now time.Time) time.Time {
	t := now.In(r.cfg.Location)
	var next time.Time
	for d := 0; d <= 7; d++ {
		day := time.Date(t.Year(), t.Month(), t.Day()+d, 0, 0, 0, 0, r.cfg.Location)
		for _, w := range q.cfg.windows {
			start := day.Add(w.From)
			if (len(w.Days) == 0 || slices.Contains(w.Days, day.Weekday())) && start.After(now) && (next.IsZero() || start.Before(next)) {
				next = start
			}
		}
		if !next.IsZero() {
			return next
		}
	}
	return next
}

// ----- timers

// addTimer sets a timer at an absolute time.
func (r *Router) addTimer(t timer) { r.addTimerIn(t, 0) }

// addTimerIn sets a timer set delay after now or after EnteredAt (the
// delay picks its lane in the timer queue; see timerQueue).
func (r *Router) addTimerIn(t timer, delay time.Duration) {
	r.seq++
	t.seq = r.seq
	if t.c != nil && int(t.kind) < numCallTimers && t.c.timers[t.kind] != 0 {
		// The call's earlier timer of this kind is stale: its generation,
		// step or attempt has moved on (see live).
		r.timers.remove(t.c.timers[t.kind])
	}
	r.timers.push(t, delay)
}

// dropTimers takes out a call's timers: it was answered or is gone, and
// live would say so of each.
func (r *Router) dropTimers(c *call) {
	for k := range c.timers {
		if p := c.timers[k]; p != 0 {
			r.timers.remove(p)
		}
	}
}

// live reports whether a timer still means something.
func (r *Router) live(t *timer) bool {
	switch t.kind {
	case tWrapEnd:
		a := r.ag(t.a)
		return a.act == actWrapUp && a.wrapGen == t.gen
	case tBackoff:
		a := r.ag(t.a)
		return a.backoff != "" && a.backoffGen == t.gen
	case tWindow:
		return true
	}
	c := t.c
	if c.gone || c.state == callConnected {
		return false
	}
	switch t.kind {
	case tOffer:
		return c.state == callOffered && c.offerGen == t.gen
	case tStep:
		return c.step == int(t.gen)
	case tPrefEnd:
		return c.pref >= 0
	case tRetry:
		return c.callback && c.cbAttempts == int(t.gen)
	case tMaxWait:
		return !c.callback
	}
	return true
}

// fire runs the timers due by now.
func (r *Router) fire() {
	for next := r.timers.peek(); next != nil && !next.at.After(r.now); next = r.timers.peek() {
		t := r.timers.pop()
		if !r.live(&t) {
			continue
		}
		switch t.kind {
		case tWrapEnd:
			a := r.ag(t.a)
			r.endWrap(a)
			r.refresh(a)
		case tBackoff:
			a := r.ag(t.a)
			a.backoff = ""
			r.refresh(a)
		case tWindow:
			q := r.queues[t.a]
			if q.windowAt.Equal(t.at) {
				q.windowAt = time.Time{}
			}
			r.markDirty(q)
		case tOffer:
			c := t.c
			if c.callback {
				a := r.ag(c.offer[0])
				r.emit(CancelOffer{Call: c.id, Agent: a.id, Reason: CancelTimeout})
				r.customerFailed(c, a)
				continue
			}
			var buf [4]int32
			for _, ai := range copyOffer(&buf, c.offer) {
				a := r.ag(ai)
				r.emit(CancelOffer{Call: c.id, Agent: a.id, Reason: CancelTimeout})
				r.fail(c, a, FailNoAnswer)
			}
		case tMaxWait:
			r.exitOrDefer(t.c, ExitMaxWait, t.c.q.cfg.MaxWaitTarget, LogExitWithTimeout)
		case tStep:
			r.step(t.c)
		case tAnnounce:
			c := t.c
			q := c.q
			if c.state == callWaiting && !c.callback {
				pos := r.position(c)
				r.emit(Announce{Call: c.id, Position: pos, EstimatedWait: r.estimate(q, c.tier, pos),
					SayPosition: q.cfg.AnnouncePosition, SayWait: q.cfg.AnnounceWait})
			}
			if !c.callback {
				r.addTimerIn(timer{at: r.now.Add(q.cfg.AnnounceEvery), kind: tAnnounce, c: c}, q.cfg.AnnounceEvery)
			}
		case tPrefEnd:
			r.clearPref(t.c)
			r.markDirty(t.c.q)
		case tRetry:
			r.markDirty(t.c.q)
		}
	}
}

// step applies the caller's next escalation step.
func (r *Router) step(c *call) {
	q := c.q
	s := q.cfg.Escalation[c.step]
	c.step++
	if nt := q.stepTier[c.step]; nt != c.tier {
		c.tier = nt
		r.markDirty(q)
	}
	if c.step < len(q.cfg.Escalation) {
		r.addTimerIn(timer{at: c.entered.Add(q.cfg.Escalation[c.step].After), kind: tStep, c: c, gen: uint64(c.step)}, q.cfg.Escalation[c.step].After)
	}
	if s.RaisePriority > 0 {
		r.raise(c, s.RaisePriority)
	}
	if c.callback {
		return
	}
	if s.OfferCallback {
		r.emit(OfferCallback{Call: c.id, Queue: q.cfg.Name})
	}
	if s.Exit != "" {
		r.exitOrDefer(c, ExitEscalation, s.Exit, LogExitWithTimeout)
	}
}

// raise adds to a caller's priority. A waiting caller moves to the place
// it gives him (he must leave the list first: it is searched by order); a
// ringing one takes it if he comes back.
func (r *Router) raise(c *call, by int) {
	if c.state != callWaiting {
		c.prio += by
		return
	}
	r.removeWaiting(c)
	c.prio += by
	r.insertWaiting(c)
	r.markDirty(c.q)
}

// ----- estimated wait

// estimate is the expected wait of the caller at position pos in the given
// tier (see the package documentation).
func (r *Router) estimate(q *queue, local int32, pos int) time.Duration {
	t := &r.tiers[q.tiers[local]]
	aht := q.st.aht
	model := -1.0
	if t.ready > 0 {
		model = float64(max(0, pos-len(t.avail))) * aht / float64(t.ready)
	}
	obs := -1.0
	if q.st.placeSamples > 0 {
		obs = float64(pos) * q.st.perPlace
	}
	var est float64
	switch {
	case model >= 0 && obs >= 0 && q.st.placeSamples >= 5:
		est = (model + obs) / 2
	case model >= 0:
		est = model
	case obs >= 0:
		est = obs
	default:
		est = float64(pos) * aht
	}
	return time.Duration(est * float64(time.Second)).Round(time.Second)
}
