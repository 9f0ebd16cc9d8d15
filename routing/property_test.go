package routing

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

// check verifies the router's internal consistency and the invariants
// the package promises.
func (r *Router) check() error {
	inOffer := map[int32]*call{}
	for id, c := range r.calls {
		if c.id != id || c.gone {
			return fmt.Errorf("call %s: bad index entry", id)
		}
		inList := 0
		for _, w := range c.q.waiting {
			if w == c {
				inList++
			}
		}
		switch c.state {
		case callWaiting:
			if inList != 1 || len(c.offer) != 0 {
				return fmt.Errorf("waiting call %s: in list %d times, offered to %d", id, inList, len(c.offer))
			}
		case callOffered:
			if inList != 0 {
				return fmt.Errorf("call %s both waiting and offered", id)
			}
			if len(c.offer) == 0 || (len(c.offer) > 1 && (c.q.strategy.Name() != RingAll || c.callback)) {
				return fmt.Errorf("call %s offered to %d agents (strategy %s)", id, len(c.offer), c.q.strategy.Name())
			}
			for _, ai := range c.offer {
				a := r.agents[ai]
				if a.call != c || a.act != actOffered {
					return fmt.Errorf("call %s offered to %s who is %v/%v", id, a.cfg.ID, a.act, a.call != nil)
				}
				if other, dup := inOffer[ai]; dup {
					return fmt.Errorf("agent %s has two offers: %s and %s", a.cfg.ID, other.id, id)
				}
				inOffer[ai] = c
			}
		case callConnected:
			a := r.agents[c.agent]
			if inList != 0 || a.call != c || a.act != actOnCall {
				return fmt.Errorf("connected call %s: agent %s has %v", id, a.cfg.ID, a.act)
			}
			if other, dup := inOffer[c.agent]; dup {
				return fmt.Errorf("agent %s has two calls: %s and %s", a.cfg.ID, other.id, id)
			}
			inOffer[c.agent] = c
		}
	}
	offered := map[*queue]int{}
	for _, c := range r.calls {
		if c.state == callOffered {
			offered[c.q]++
		}
	}
	for _, q := range r.queues {
		if q.offered != offered[q] {
			return fmt.Errorf("queue %s: offered count %d, want %d", q.cfg.Name, q.offered, offered[q])
		}
		for i := 1; i < len(q.waiting); i++ {
			if !before(q.waiting[i-1], q.waiting[i]) {
				return fmt.Errorf("queue %s: waiting list out of order at %d", q.cfg.Name, i)
			}
		}
		for _, c := range q.waiting {
			if r.calls[c.id] != c {
				return fmt.Errorf("queue %s: lost call %s in list", q.cfg.Name, c.id)
			}
			// Nobody may wait beside a free agent who could take him.
			if c.callback && !r.callbackDue(c) {
				continue
			}
			if c.pref >= 0 && r.now.Before(c.prefUntil) {
				if r.agents[c.pref].inAvail {
					return fmt.Errorf("call %s waits while its preferred agent is free", c.id)
				}
				continue
			}
			t := &r.tiers[q.tiers[c.tier]]
			free := 0
			for _, e := range t.avail {
				if meets(r.agents[e.agent].cfg, c.req) {
					free++
				}
			}
			if free > 0 {
				return fmt.Errorf("call %s waits in %s while %d eligible agents are free", c.id, q.cfg.Name, free)
			}
		}
	}
	for _, a := range r.agents {
		want := a.loggedIn && a.reachable && !a.paused && a.act == actIdle && a.backoff == ""
		if a.inAvail != want {
			return fmt.Errorf("agent %s: available %v, want %v", a.cfg.ID, a.inAvail, want)
		}
		if (a.act == actOffered || a.act == actOnCall) && inOffer[a.idx] != a.call {
			return fmt.Errorf("agent %s: %v with no call", a.cfg.ID, a.act)
		}
		if a.act == actIdle && a.call != nil {
			return fmt.Errorf("agent %s idle with a call", a.cfg.ID)
		}
		if a.noAnswer >= 3 && !a.paused && a.loggedIn {
			return fmt.Errorf("agent %s missed %d offers in a row and is not paused", a.cfg.ID, a.noAnswer)
		}
		for i, m := range a.members {
			t := &r.tiers[m.tier]
			if want && (m.pos < 0 || int(m.pos) >= len(t.avail) || t.avail[m.pos] != (availRef{a.idx, int32(i)})) {
				return fmt.Errorf("agent %s: bad avail index in tier %d", a.cfg.ID, m.tier)
			}
			if !want && m.pos != -1 {
				return fmt.Errorf("agent %s: unavailable but indexed", a.cfg.ID)
			}
		}
		if st, _ := a.derive(); st != a.state {
			return fmt.Errorf("agent %s: published %s, derived %s", a.cfg.ID, a.state, st)
		}
	}
	for ti := range r.tiers {
		t := &r.tiers[ti]
		logged, ready := 0, 0
		for _, ai := range t.members {
			a := r.agents[ai]
			if a.loggedIn {
				logged++
			}
			if a.loggedIn && a.reachable && !a.paused {
				ready++
			}
		}
		if logged != t.logged || ready != t.ready {
			return fmt.Errorf("tier %d: counters %d/%d, want %d/%d", ti, t.logged, t.ready, logged, ready)
		}
	}
	return nil
}

func propertyConfig(seed uint64) Config {
	rng := rand.New(rand.NewPCG(seed, 1))
	var agents []AgentConfig
	for i := range 24 {
		wrap := time.Duration(rng.IntN(3)) * 5 * time.Second
		agents = append(agents, AgentConfig{
			ID: sb.AgentID(fmt.Sprintf("a%02d", i)), Endpoint: fmt.Sprintf("PJSIP/%d", 1000+i),
			Skills:    map[string]int{"sales": rng.IntN(10), "billing": rng.IntN(10), "support": rng.IntN(10)},
			Languages: []string{[]string{"en", "es", "fr"}[rng.IntN(3)]},
			Weight:    1 + rng.IntN(5), WrapUp: &wrap,
		})
	}
	return Config{
		Seed: seed, Agents: agents, BusyBackoff: 7 * time.Second, UnreachableBackoff: 20 * time.Second,
		Queues: []sb.Queue{
			{Name: "sales", Skills: "skills.sales >= 5", Strategy: LongestIdle, WrapUp: 5 * time.Second, WaitForAgent: 120 * time.Second,
				AnnounceEvery: 20 * time.Second, AnnouncePosition: true, PreferredWait: 15 * time.Second},
			{Name: "billing", Skills: "skills.billing >= 7", Strategy: BestSkill, Escalation: []sb.EscalationStep{
				{After: 20 * time.Second, Skills: "skills.billing >= 4"},
				{After: 40 * time.Second, AddQueues: []sb.QueueName{"support"}, RaisePriority: 2},
				{After: 50 * time.Second, RaisePriority: 1},
				{After: 60 * time.Second, OfferCallback: true},
				{After: 200 * time.Second, Exit: "voicemail"}},
				Callback: sb.QueueCallback{Key: "1", Prompt: []string{"sound:press-1"}, Confirmation: []string{"sound:we-call-back"}}},
			{Name: "support", Skills: "skills.support >= 3", Strategy: RingAll, RingTimeout: 8 * time.Second, MaxLength: 6},
			{Name: "es", Skills: `"es" in languages`, Strategy: RoundRobin, LeaveWhenEmpty: sb.EmptyNoAvailable, JoinEmpty: sb.EmptyNoMembers},
			{Name: "vip", Strategy: WeightedRandom, WaitForAgent: 90 * time.Second,
				Callback: sb.QueueCallback{Windows: []string{"10:05-10:20"}}},
			{Name: "misc", Skills: "skills.sales + skills.support > 12", Strategy: Random},
			{Name: "top", Strategy: Linear, Agents: []sb.AgentID{"a03", "a01", "a07"}},
			{Name: "few", Strategy: FewestCalls}, {Name: "talk", Strategy: LeastTalkTime},
		},
	}
}

type offerKey struct {
	call  sb.CallID
	agent sb.AgentID
}

// TestInvariantsRandom drives the router with random owner behaviour and
// checks the invariants after every message; then it drains and checks
// that every call ended answered, abandoned or exited.
func TestInvariantsRandom(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	steps := 4000
	if testing.Short() {
		seeds, steps = seeds[:2], 1000
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runRandom(t, seed, steps) })
	}
}

func runRandom(t *testing.T, seed uint64, steps int) {
	cfg := propertyConfig(seed)
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var (
		ringing   = map[offerKey]bool{} // outstanding offers
		callbacks = map[offerKey]bool{} // outstanding StartCallbacks
		connected = map[sb.CallID]sb.AgentID{}
		live      = map[sb.CallID]bool{}              // enqueued, not ended
		asking    = map[sb.CallID]map[string]string{} // callers with requirements of their own
		ended     = map[sb.CallID]string{}
		nextCall  int
	)
	pickKey := func(m map[offerKey]bool) (offerKey, bool) {
		if len(m) == 0 {
			return offerKey{}, false
		}
		keys := make([]offerKey, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b offerKey) int {
			if a.call != b.call {
				return cmpStr(string(a.call), string(b.call))
			}
			return cmpStr(string(a.agent), string(b.agent))
		})
		return keys[rng.IntN(len(keys))], true
	}
	anyCall := func() sb.CallID {
		ids := make([]sb.CallID, 0, len(live))
		for id := range live {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if len(ids) == 0 || rng.IntN(20) == 0 {
			return sb.CallID(fmt.Sprintf("c%d", rng.IntN(nextCall+1))) // sometimes stale or unknown
		}
		return ids[rng.IntN(len(ids))]
	}
	end := func(id sb.CallID, how string) {
		if !live[id] {
			t.Fatalf("call %s ended (%s) but was not live", id, how)
		}
		delete(live, id)
		ended[id] = how
	}
	apply := func(m Msg) {
		newCall := false
		if e, ok := m.(Enqueue); ok && !live[e.Call] {
			if _, done := ended[e.Call]; !done {
				live[e.Call], newCall = true, true
			}
		}
		switch m := m.(type) {
		case OfferAnswered:
			delete(ringing, offerKey{m.Call, m.Agent})
		case OfferFailed:
			delete(ringing, offerKey{m.Call, m.Agent})
		case CallbackResult:
			delete(callbacks, offerKey{m.Call, m.Agent})
		case CallEnded:
			if connected[m.Call] == m.Agent {
				delete(connected, m.Call)
			}
		}
		acts := r.Apply(m, now)
		ignored := false
		for _, a := range acts {
			switch a := a.(type) {
			case Offer:
				if !live[a.Call] {
					t.Fatalf("offer of dead call %s", a.Call)
				}
				for k := range ringing {
					if k.call == a.Call {
						t.Fatalf("call %s offered again while ringing", a.Call)
					}
				}
				for _, ag := range a.Agents {
					if !meets(&cfg.Agents[r.agentIdx[ag]], parseRequirements(asking[a.Call])) {
						t.Fatalf("call %s asking %v offered to %s", a.Call, asking[a.Call], ag)
					}
					for k := range ringing {
						if k.agent == ag {
							t.Fatalf("agent %s offered %s while ringing %s", ag, a.Call, k.call)
						}
					}
					for c, x := range connected {
						if x == ag {
							t.Fatalf("agent %s offered %s while on %s", ag, a.Call, c)
						}
					}
					ringing[offerKey{a.Call, ag}] = true
				}
			case StartCallback:
				if !meets(&cfg.Agents[r.agentIdx[a.Agent]], parseRequirements(asking[a.Call])) {
					t.Fatalf("callback %s asking %v started with %s", a.Call, asking[a.Call], a.Agent)
				}
				callbacks[offerKey{a.Call, a.Agent}] = true
			case CancelOffer:
				delete(ringing, offerKey{a.Call, a.Agent})
				delete(callbacks, offerKey{a.Call, a.Agent})
			case Exit:
				end(a.Call, "exit")
			case Ignored:
				ignored = true
			}
		}
		switch m := m.(type) {
		case Enqueue:
			if ignored && newCall {
				delete(live, m.Call)
			}
		case Abandon:
			if !ignored {
				end(m.Call, "abandon")
				for k := range ringing {
					if k.call == m.Call {
						t.Fatalf("abandoned call %s still ringing %s", m.Call, k.agent)
					}
				}
			}
		case OfferAnswered:
			if !ignored {
				connected[m.Call] = m.Agent
			}
		case CallbackResult:
			if !ignored && m.Outcome == CallbackConnected {
				connected[m.Call] = m.Agent
			}
		case CallEnded:
			if !ignored {
				end(m.Call, "completed")
			}
		}
		if err := r.check(); err != nil {
			t.Fatalf("after %T%+v at %s: %v", m, m, now.Format("15:04:05"), err)
		}
	}
	agentID := func() sb.AgentID { return cfg.Agents[rng.IntN(len(cfg.Agents))].ID }
	queues := cfg.Queues
	for range steps {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		switch x := rng.IntN(100); {
		case x < 18:
			nextCall++
			var pref sb.AgentID
			if rng.IntN(4) == 0 {
				pref = agentID()
			}
			entered := time.Time{}
			if rng.IntN(5) == 0 {
				entered = now.Add(-time.Duration(rng.IntN(60)) * time.Second)
			}
			// Some callers ask for a language or a skill level of their own.
			var skills map[string]string
			switch rng.IntN(6) {
			case 0:
				skills = map[string]string{LanguageRequirement: []string{"en", "es", "fr"}[rng.IntN(3)]}
			case 1:
				skills = map[string]string{"support": fmt.Sprint(rng.IntN(10)), LanguageRequirement: "es"}
			}
			id := sb.CallID(fmt.Sprintf("c%d", nextCall))
			if _, seen := asking[id]; skills != nil && !seen {
				asking[id] = skills
			}
			apply(Enqueue{Call: id, Queue: queues[rng.IntN(len(queues))].Name,
				Priority: rng.IntN(3), Preferred: pref, EnteredAt: entered, Skills: skills})
		case x < 22:
			apply(Abandon{Call: anyCall()})
		case x < 40:
			if k, ok := pickKey(ringing); ok {
				switch rng.IntN(6) {
				case 0, 1, 2:
					apply(OfferAnswered{Call: k.call, Agent: k.agent})
				case 3:
					apply(OfferFailed{Call: k.call, Agent: k.agent, Why: FailNoAnswer})
				case 4:
					apply(OfferFailed{Call: k.call, Agent: k.agent, Why: FailBusy})
				default:
					apply(OfferFailed{Call: k.call, Agent: k.agent, Why: []FailReason{FailUnreachable, FailRejected}[rng.IntN(2)]})
				}
			}
		case x < 44:
			if k, ok := pickKey(callbacks); ok {
				outcome := []CallbackOutcome{CallbackConnected, CallbackAgentFailed, CallbackCustomerFailed}[rng.IntN(3)]
				apply(CallbackResult{Call: k.call, Agent: k.agent, Outcome: outcome, Why: FailNoAnswer})
			}
		case x < 56:
			for c, a := range connected {
				apply(CallEnded{Call: c, Agent: a, ByAgent: rng.IntN(2) == 0})
				break
			}
		case x < 64:
			apply(AgentLogin{Agent: agentID(), Paused: rng.IntN(5) == 0, Reason: "login"})
		case x < 67:
			apply(AgentLogout{Agent: agentID()})
		case x < 71:
			apply(AgentPause{Agent: agentID(), Reason: "break"})
		case x < 79:
			apply(AgentReady{Agent: agentID()})
		case x < 81:
			apply(AgentEndWrapUp{Agent: agentID()})
		case x < 84:
			apply(EndpointReachable{Agent: agentID(), Reachable: rng.IntN(3) != 0})
		case x < 87:
			apply(CallbackRequest{Call: anyCall(), Number: "555"})
		case x < 89: // stale or wrong messages
			apply(OfferAnswered{Call: anyCall(), Agent: agentID()})
		default:
			if w := r.NextWake(); !w.IsZero() && rng.IntN(2) == 0 && w.After(now) {
				now = w
			}
			apply(Tick{})
		}
	}
	// Drain: every agent works, every offer is answered, every call ends.
	for _, a := range cfg.Agents {
		apply(AgentLogin{Agent: a.ID})
		apply(EndpointReachable{Agent: a.ID, Reachable: true})
		apply(AgentReady{Agent: a.ID})
	}
	for i := 0; len(live) > 0; i++ {
		if i > 100000 {
			t.Fatalf("%d calls never ended: %v", len(live), live)
		}
		if k, ok := pickKey(ringing); ok {
			apply(OfferAnswered{Call: k.call, Agent: k.agent})
			continue
		}
		if k, ok := pickKey(callbacks); ok {
			apply(CallbackResult{Call: k.call, Agent: k.agent, Outcome: CallbackConnected})
			continue
		}
		if len(connected) > 0 {
			for c, a := range connected {
				apply(CallEnded{Call: c, Agent: a})
				break
			}
			continue
		}
		w := r.NextWake()
		if w.IsZero() {
			for _, a := range cfg.Agents {
				apply(AgentReady{Agent: a.ID})
			}
			if len(ringing)+len(callbacks)+len(connected) == 0 {
				// Only a caller asking what no agent of his queue has may
				// wait for ever: he hangs up.
				hung := false
				for _, id := range slices.Sorted(maps.Keys(live)) {
					if asking[id] != nil {
						apply(Abandon{Call: id})
						hung = true
					}
				}
				if !hung {
					t.Fatalf("stuck: %d live calls, nothing pending: %v", len(live), live)
				}
			}
			continue
		}
		now = w
		apply(Tick{})
	}
	if len(r.calls) != 0 {
		t.Fatalf("router still holds %d calls", len(r.calls))
	}
	counts := map[string]int{}
	for _, how := range ended {
		counts[how]++
	}
	t.Logf("seed %d: %d calls: %v", seed, len(ended), counts)
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestFIFORandom: in one queue, with agents who always answer, every offer
// goes to the first caller in (priority, arrival) order.
func TestFIFORandom(t *testing.T) {
	var agents []AgentConfig
	for i := range 5 {
		agents = append(agents, AgentConfig{ID: sb.AgentID(fmt.Sprintf("a%d", i))})
	}
	r, err := New(Config{Agents: agents, Queues: []sb.Queue{{Name: "q", WrapUp: 3 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	type w struct {
		id   sb.CallID
		prio int
		seq  int
	}
	var waiting []w
	onCall := map[sb.CallID]sb.AgentID{}
	seq := 0
	var handle func(acts []Action)
	handle = func(acts []Action) {
		for _, a := range acts {
			o, ok := a.(Offer)
			if !ok {
				continue
			}
			first := waiting[0]
			for _, x := range waiting {
				if x.prio > first.prio {
					first = x
				}
			}
			if o.Call != first.id {
				t.Fatalf("offered %s, but %s is first (waiting %v)", o.Call, first.id, waiting)
			}
			waiting = slices.DeleteFunc(waiting, func(x w) bool { return x.id == o.Call })
			onCall[o.Call] = o.Agents[0]
			handle(r.Apply(OfferAnswered{Call: o.Call, Agent: o.Agents[0]}, now))
		}
	}
	for _, a := range agents {
		handle(r.Apply(AgentLogin{Agent: a.ID}, now))
	}
	for i := range 20000 {
		now = now.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
		switch rng.IntN(3) {
		case 0:
			seq++
			id := sb.CallID(fmt.Sprint("c", i))
			waiting = append(waiting, w{id, rng.IntN(3), seq})
			handle(r.Apply(Enqueue{Call: id, Queue: "q", Priority: waiting[len(waiting)-1].prio}, now))
		case 1:
			for c, a := range onCall {
				handle(r.Apply(CallEnded{Call: c, Agent: a}, now))
				delete(onCall, c)
				break
			}
		default:
			handle(r.Apply(Tick{}, now))
		}
	}
}
