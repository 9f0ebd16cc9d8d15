package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

// scanBestCall is what bestCall must return, by the plain rule: the first
// caller in waiting order, across every queue and tier the agent serves
// and his preferred-agent callers, whom he may take now.
func (r *Router) scanBestCall(a *agent, strict bool) *call {
	var best *call
	consider := func(c *call) {
		if (best == nil || before(c, best)) && r.callable(c, a, strict) {
			best = c
		}
	}
	for _, m := range a.members {
		for _, c := range r.queues[m.q].waiting {
			if c.tier == m.local {
				consider(c)
			}
		}
	}
	for _, c := range r.prefCalls[a.idx] {
		if c.state == callWaiting && r.now.Before(c.prefUntil) {
			consider(c)
		}
	}
	return best
}

// checkFastPaths verifies the structures kept for speed against what they
// summarise: queue heads, the available agents' keys and facts, the timer
// queue's places, and the best call of every agent.
func (r *Router) checkFastPaths() error {
	for _, q := range r.queues {
		h := r.heads[q.idx]
		var first *call
		if len(q.waiting) > 0 {
			first = q.waiting[0]
		}
		if h.c != first || (first != nil && (h.prio != first.prio || !h.entered.Equal(first.entered) || h.seq != first.seq)) {
			return fmt.Errorf("queue %s: head %v, first waiting %v", q.cfg.Name, h.c, first)
		}
	}
	for ti := range r.tiers {
		t := &r.tiers[ti]
		if len(t.availKey) != len(t.avail) {
			return fmt.Errorf("tier %d: %d available, %d keys", ti, len(t.avail), len(t.availKey))
		}
		for i, e := range t.avail {
			m := r.agents[e.agent].members[e.mi]
			if t.availKey[i] != (memberKey{m.order, m.skill}) {
				return fmt.Errorf("tier %d: key %v of agent %d, membership says %v", ti, t.availKey[i], e.agent, memberKey{m.order, m.skill})
			}
		}
	}
	for i := range r.agents {
		if a := &r.agents[i]; a.f != &r.facts[i] || a.f.id != a.id || a.f.weight != a.cfg.Weight {
			return fmt.Errorf("agent %s: facts not his", a.id)
		}
	}
	if err := r.timers.check(); err != nil {
		return err
	}
	for id, c := range r.calls {
		for k, p := range c.timers {
			if p == 0 {
				continue
			}
			if c.state == callConnected {
				return fmt.Errorf("answered call %s keeps timer kind %d", id, k)
			}
			li, i := int(p>>placeShift)-1, int(p&placeIndex)-1
			var t *timer
			if li < 0 {
				t = &r.timers.heap[i]
			} else {
				t = &r.timers.lanes[li].buf[i]
			}
			if t.c != c || int(t.kind) != k {
				return fmt.Errorf("call %s: timer kind %d placed at lane %d index %d, which holds kind %d of another call", id, k, li, i, t.kind)
			}
		}
	}
	count := 0
	each := func(t *timer) error {
		if t.c == nil || int(t.kind) >= numCallTimers {
			return nil
		}
		count++
		if t.c.gone || r.calls[t.c.id] != t.c {
			return fmt.Errorf("timer kind %d of call %s, gone", t.kind, t.c.id)
		}
		return nil
	}
	for i := range r.timers.heap {
		if err := each(&r.timers.heap[i]); err != nil {
			return err
		}
	}
	for li := range r.timers.lanes {
		l := &r.timers.lanes[li]
		for i := l.head; i < len(l.buf); i++ {
			if err := each(&l.buf[i]); err != nil {
				return err
			}
		}
	}
	placed := 0
	for _, c := range r.calls {
		for _, p := range c.timers {
			if p != 0 {
				placed++
			}
		}
	}
	if count != placed {
		return fmt.Errorf("%d call timers queued, %d placed", count, placed)
	}
	return nil
}

// checkBestCalls compares every agent's best call with a scan.
func (r *Router) checkBestCalls() error {
	for i := range r.agents {
		a := &r.agents[i]
		for _, strict := range []bool{true, false} {
			if got, want := r.bestCall(a, strict), r.scanBestCall(a, strict); got != want {
				return fmt.Errorf("agent %s (strict %v): best call %v, a scan gives %v", a.id, strict, got, want)
			}
		}
	}
	return nil
}

// fastPathConfig: agents in several queues each, escalation tiers that
// overlap, preferred agents, callbacks with a window, announcements and
// max waits of a few distinct delays (lanes) and EnteredAt in the past
// (heap).
func fastPathConfig(seed uint64) Config {
	rng := rand.New(rand.NewPCG(seed, 21))
	cfg := Config{Seed: seed, BusyBackoff: 7 * time.Second, UnreachableBackoff: 20 * time.Second}
	for i := range 60 {
		sk := map[string]int{}
		for range 1 + rng.IntN(4) {
			sk[fmt.Sprint("s", rng.IntN(8))] = rng.IntN(10)
		}
		wrap := time.Duration(rng.IntN(3)) * 4 * time.Second
		cfg.Agents = append(cfg.Agents, AgentConfig{ID: sb.AgentID(fmt.Sprintf("a%02d", i)), Skills: sk, WrapUp: &wrap,
			Languages: []string{[]string{"en", "es"}[rng.IntN(2)]}, Weight: 1 + rng.IntN(3)})
	}
	for q := range 10 {
		qc := sb.Queue{Name: sb.QueueName(fmt.Sprint("q", q)), Skills: fmt.Sprintf("skills.s%d >= %d", q%8, rng.IntN(6)),
			Strategy: StrategyNames[rng.IntN(len(StrategyNames))], RingTimeout: time.Duration(5+rng.IntN(3)*5) * time.Second,
			AnnounceEvery: time.Duration(1+rng.IntN(3)) * 15 * time.Second, WaitForAgent: time.Duration(2+rng.IntN(3)) * time.Minute,
			PreferredWait: time.Duration(rng.IntN(2)) * 10 * time.Second}
		if q%3 == 0 {
			qc.Callback.Windows = []string{"10:10-10:40"}
		}
		if q%2 == 0 {
			qc.Escalation = []sb.EscalationStep{
				{After: 20 * time.Second, Skills: fmt.Sprintf("skills.s%d >= 1", q%8), RaisePriority: 1},
				{After: 40 * time.Second, AddQueues: []sb.QueueName{sb.QueueName(fmt.Sprint("q", (q+1)%10))}, OfferCallback: true}}
			qc.Callback = sb.QueueCallback{Key: "1", Prompt: []string{"sound:press-1"}, Confirmation: []string{"sound:we-call-back"}}
		}
		cfg.Queues = append(cfg.Queues, qc)
	}
	return cfg
}

// TestFastPathsRandom drives routers with random traffic and checks, after
// every message, the queue heads, the timer queue's places, and every
// agent's best call against a scan.
func TestFastPathsRandom(t *testing.T) {
	for seed := range uint64(4) {
		cfgs := map[string]Config{"property": propertyConfig(seed + 1), "fast-path": fastPathConfig(seed)}
		for name, cfg := range cfgs {
			t.Run(fmt.Sprint(name, "/", seed), func(t *testing.T) { driveRandom(t, cfg, seed, 2000) })
		}
	}
}

func driveRandom(t *testing.T, cfg Config, seed uint64, steps int) {
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 77))
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	type key struct {
		c sb.CallID
		a sb.AgentID
	}
	ringing, callbacks := map[key]bool{}, map[key]bool{}
	connected := map[sb.CallID]sb.AgentID{}
	var calls []sb.CallID
	n := 0 // messages applied
	sorted := func(m map[key]bool) []key {
		var ks []key
		for k := range m {
			ks = append(ks, k)
		}
		slices.SortFunc(ks, func(x, y key) int {
			if x.c != y.c {
				return cmpStr(string(x.c), string(y.c))
			}
			return cmpStr(string(x.a), string(y.a))
		})
		return ks
	}
	apply := func(m Msg) {
		for _, a := range r.Apply(m, now) {
			switch a := a.(type) {
			case Offer:
				for _, ag := range a.Agents {
					ringing[key{a.Call, ag}] = true
				}
			case StartCallback:
				callbacks[key{a.Call, a.Agent}] = true
			case CancelOffer:
				delete(ringing, key{a.Call, a.Agent})
				delete(callbacks, key{a.Call, a.Agent})
			}
		}
		err := r.checkFastPaths()
		if n++; err == nil && n%4 == 0 { // every agent against a scan: the costly check
			err = r.checkBestCalls()
		}
		if err != nil {
			t.Fatalf("after %T%+v at %s: %v", m, m, now.Format("15:04:05"), err)
		}
	}
	agent := func() sb.AgentID { return cfg.Agents[rng.IntN(len(cfg.Agents))].ID }
	for step := range steps {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		switch x := rng.IntN(100); {
		case x < 22:
			id := sb.CallID(fmt.Sprint("c", step))
			calls = append(calls, id)
			e := Enqueue{Call: id, Queue: cfg.Queues[rng.IntN(len(cfg.Queues))].Name, Priority: rng.IntN(3)}
			if rng.IntN(4) == 0 {
				e.Preferred = agent()
			}
			if rng.IntN(5) == 0 {
				e.EnteredAt = now.Add(-time.Duration(rng.IntN(90)) * time.Second)
			}
			if rng.IntN(6) == 0 {
				e.Skills = map[string]string{LanguageRequirement: "es"}
			}
			if rng.IntN(12) == 0 {
				e.CallbackNumber = "555"
			}
			apply(e)
		case x < 26 && len(calls) > 0:
			apply(Abandon{Call: calls[rng.IntN(len(calls))]})
		case x < 46:
			if ks := sorted(ringing); len(ks) > 0 {
				k := ks[rng.IntN(len(ks))]
				delete(ringing, k)
				if rng.IntN(3) > 0 {
					apply(OfferAnswered{Call: k.c, Agent: k.a})
					connected[k.c] = k.a
				} else {
					apply(OfferFailed{Call: k.c, Agent: k.a, Why: []FailReason{FailNoAnswer, FailBusy, FailUnreachable}[rng.IntN(3)]})
				}
			}
		case x < 50:
			if ks := sorted(callbacks); len(ks) > 0 {
				k := ks[rng.IntN(len(ks))]
				delete(callbacks, k)
				o := []CallbackOutcome{CallbackConnected, CallbackAgentFailed, CallbackCustomerFailed}[rng.IntN(3)]
				apply(CallbackResult{Call: k.c, Agent: k.a, Outcome: o})
				if o == CallbackConnected {
					connected[k.c] = k.a
				}
			}
		case x < 62:
			ids := make([]sb.CallID, 0, len(connected))
			for c := range connected {
				ids = append(ids, c)
			}
			slices.Sort(ids)
			if len(ids) > 0 {
				c := ids[rng.IntN(len(ids))]
				apply(CallEnded{Call: c, Agent: connected[c]})
				delete(connected, c)
			}
		case x < 72:
			apply(AgentLogin{Agent: agent()})
		case x < 75:
			apply(AgentLogout{Agent: agent()})
		case x < 79:
			apply(AgentPause{Agent: agent(), Reason: "break"})
		case x < 87:
			apply(AgentReady{Agent: agent()})
		case x < 89:
			apply(EndpointReachable{Agent: agent(), Reachable: rng.IntN(3) > 0})
		case x < 91 && len(calls) > 0:
			apply(CallbackRequest{Call: calls[rng.IntN(len(calls))], Number: "777"})
		default:
			if w := r.NextWake(); !w.IsZero() && w.After(now) && rng.IntN(2) == 0 {
				now = w
			}
			apply(Tick{})
		}
	}
}
