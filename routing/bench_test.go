package routing_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// benchSize is the scale a benchmark runs at. Every benchmark runs once per
// size, as a sub-benchmark named after it: -bench 'Decision$/10k' picks
// today's size, /100k the target of issue 12.
type benchSize struct {
	name    string
	agents  int // each with 5 random skills out of queues
	queues  int // queue q needs skill q at level 3 or more
	waiting int // callers waiting while every agent is busy
}

var benchSizes = []benchSize{
	{name: "10k", agents: 10000, queues: 500, waiting: 1000},
	{name: "100k", agents: 100000, queues: 5000, waiting: 10000},
}

// eachSize runs bench once per size. setup runs once per size, however
// often the testing package calls the sub-benchmark to find b.N, and its
// result is dropped before the next size is built.
func eachSize[T any](b *testing.B, setup func(testing.TB, benchSize) T, bench func(*testing.B, benchSize, T)) {
	for _, s := range benchSizes {
		var v T
		built := false
		b.Run(s.name, func(b *testing.B) {
			if !built {
				v, built = setup(b, s), true
			}
			bench(b, s, v)
		})
	}
}

// largeConfig: s.agents agents with 5 random skills each out of s.queues,
// s.queues queues each needing one skill at level 3 or more (about 80
// members per queue at either size), every tenth queue with an escalation
// step that relaxes the level and adds a second queue's agents.
func largeConfig(s benchSize) routing.Config {
	rng := rand.New(rand.NewPCG(1, 1))
	cfg := routing.Config{Seed: 1}
	zero := time.Duration(0)
	for i := range s.agents {
		skills := map[string]int{}
		for range 5 {
			skills[fmt.Sprintf("s%d", rng.IntN(s.queues))] = 1 + rng.IntN(10)
		}
		cfg.Agents = append(cfg.Agents, routing.AgentConfig{ID: sb.AgentID(fmt.Sprintf("a%05d", i)),
			Endpoint: fmt.Sprintf("PJSIP/%d", 10000+i), Skills: skills, Weight: 1 + rng.IntN(3), WrapUp: &zero})
	}
	strategies := []string{routing.LongestIdle, routing.LongestIdle, routing.BestSkill, routing.RoundRobin, routing.FewestCalls, routing.WeightedRandom}
	for q := range s.queues {
		qc := sb.Queue{Name: sb.QueueName(fmt.Sprintf("q%d", q)), Skills: fmt.Sprintf("skills.s%d >= 3", q),
			Strategy: strategies[q%len(strategies)], WaitForAgent: time.Hour, AnnounceEvery: 45 * time.Second, AnnouncePosition: true}
		if q%10 == 0 {
			qc.Escalation = []sb.EscalationStep{{After: 60 * time.Second, Skills: fmt.Sprintf("skills.s%d >= 1", q),
				AddQueues: []sb.QueueName{sb.QueueName(fmt.Sprintf("q%d", (q+1)%s.queues))}}}
		}
		cfg.Queues = append(cfg.Queues, qc)
	}
	return cfg
}

// loaded is a router at a benchmark's size: every agent logged in and on
// a call, and s.waiting callers waiting.
type loaded struct {
	r         *routing.Router
	size      benchSize
	now       time.Time
	connected map[sb.CallID]sb.AgentID
	byAgent   map[sb.AgentID]sb.CallID
	ids       []sb.CallID
	next      int
	rng       *rand.Rand
}

func (l *loaded) apply(m routing.Msg) []routing.Action {
	acts := l.r.Apply(m, l.now)
	for _, a := range acts {
		if o, ok := a.(routing.Offer); ok {
			l.r.Apply(routing.OfferAnswered{Call: o.Call, Agent: o.Agents[0]}, l.now)
			l.connected[o.Call] = o.Agents[0]
			l.byAgent[o.Agents[0]] = o.Call
			l.ids = append(l.ids, o.Call)
		}
	}
	return acts
}

func (l *loaded) enqueue() {
	l.next++
	l.apply(routing.Enqueue{Call: sb.CallID(fmt.Sprintf("c%d", l.next)), Queue: sb.QueueName(fmt.Sprintf("q%d", l.rng.IntN(l.size.queues)))})
}

func (l *loaded) waiting() int {
	n := 0
	for q := range l.size.queues {
		st, _ := l.r.QueueStats(sb.QueueName(fmt.Sprintf("q%d", q)), l.now)
		n += st.Waiting
	}
	return n
}

func newLoaded(tb testing.TB, s benchSize) *loaded {
	cfg := largeConfig(s)
	start := time.Now()
	r, err := routing.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("New: %d agents, %d queues in %v", s.agents, s.queues, time.Since(start))
	l := &loaded{r: r, size: s, now: t0, connected: map[sb.CallID]sb.AgentID{}, byAgent: map[sb.AgentID]sb.CallID{}, rng: rand.New(rand.NewPCG(2, 2))}
	for _, a := range cfg.Agents {
		l.apply(routing.AgentLogin{Agent: a.ID})
	}
	// Fill: calls until s.waiting wait (agents in no queue stay free),
	// counted every s.agents/50 calls (200 at 10k).
	for w := 0; w < s.waiting; {
		for range s.agents / 50 {
			l.enqueue()
		}
		w = l.waiting()
	}
	return l
}

// pickConnected returns a random connected call and its agent.
func (l *loaded) pickConnected() (sb.CallID, sb.AgentID) {
	for {
		i := l.rng.IntN(len(l.ids))
		id := l.ids[i]
		if a, ok := l.connected[id]; ok {
			return id, a
		}
		l.ids[i] = l.ids[len(l.ids)-1]
		l.ids = l.ids[:len(l.ids)-1]
	}
}

// reportDecisions reports the timed decisions: their mean (decision-ns),
// p50, p99 and p99.9.
//
// The benchmarks time each decision with time.Now and leave the benchmark
// timer running around the bookkeeping between decisions (ns/op is the
// whole iteration): StopTimer and StartTimer read the memory statistics,
// which stops the world and empties every allocation cache just before
// each timed decision, and so timed a router in a state it is never in.
func reportDecisions(b *testing.B, durs []time.Duration) {
	var sum time.Duration
	for _, d := range durs {
		sum += d
	}
	slices.Sort(durs)
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(durs)), "decision-ns")
	b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(durs[len(durs)*999/1000].Nanoseconds()), "p999-ns")
}

// BenchmarkDecision: an agent ends a call and the router picks his next
// caller among those waiting (1,000 across 500 queues with 10,000 agents;
// 10,000 across 5,000 with 100,000). Each iteration times the one Apply
// that carries the decision (see reportDecisions). A new caller joins
// after each, to keep the load.
func BenchmarkDecision(b *testing.B) {
	eachSize(b, newLoaded, func(b *testing.B, _ benchSize, l *loaded) {
		durs := make([]time.Duration, 0, b.N)
		decisions := 0
		b.ResetTimer()
		for range b.N {
			l.now = l.now.Add(10 * time.Millisecond)
			c, a := l.pickConnected()
			delete(l.connected, c)
			delete(l.byAgent, a)
			start := time.Now()
			acts := l.r.Apply(routing.CallEnded{Call: c, Agent: a}, l.now)
			durs = append(durs, time.Since(start))
			for _, x := range acts {
				if o, ok := x.(routing.Offer); ok {
					decisions++
					l.r.Apply(routing.OfferAnswered{Call: o.Call, Agent: o.Agents[0]}, l.now)
					l.connected[o.Call] = o.Agents[0]
					l.byAgent[o.Agents[0]] = o.Call
					l.ids = append(l.ids, o.Call)
				}
			}
			l.enqueue()
		}
		b.StopTimer()
		reportDecisions(b, durs)
		b.ReportMetric(float64(decisions)/float64(b.N), "offers/op")
		b.ReportMetric(float64(l.waiting()), "waiting")
	})
}

// freeRouter is a router at a benchmark's size with every agent logged in
// and free.
type freeRouter struct {
	r   *routing.Router
	now time.Time
	rng *rand.Rand
	n   int
}

func newFree(tb testing.TB, s benchSize) *freeRouter {
	cfg := largeConfig(s)
	r, err := routing.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f := &freeRouter{r: r, now: t0, rng: rand.New(rand.NewPCG(3, 3))}
	for _, a := range cfg.Agents {
		r.Apply(routing.AgentLogin{Agent: a.ID}, f.now)
	}
	return f
}

// BenchmarkDecisionEnqueue: a caller joins a queue with free agents (about
// 80 free per queue) and is offered at once (the other direction of a
// decision).
func BenchmarkDecisionEnqueue(b *testing.B) {
	eachSize(b, newFree, func(b *testing.B, s benchSize, f *freeRouter) {
		r := f.r
		durs := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			f.now = f.now.Add(time.Millisecond)
			f.n++
			id := sb.CallID(fmt.Sprintf("c%d", f.n))
			start := time.Now()
			acts := r.Apply(routing.Enqueue{Call: id, Queue: sb.QueueName(fmt.Sprintf("q%d", f.rng.IntN(s.queues)))}, f.now)
			durs = append(durs, time.Since(start))
			for _, x := range acts {
				if o, ok := x.(routing.Offer); ok { // the agent is free again at once
					r.Apply(routing.OfferAnswered{Call: o.Call, Agent: o.Agents[0]}, f.now)
					r.Apply(routing.CallEnded{Call: o.Call, Agent: o.Agents[0]}, f.now)
				} else if e, ok := x.(routing.Queued); ok {
					r.Apply(routing.Abandon{Call: e.Call}, f.now)
				}
			}
		}
		b.StopTimer()
		reportDecisions(b, durs)
	})
}

// BenchmarkMessages: router throughput on a realistic mix at full size:
// per iteration a call ends (the agent takes the next caller), the offer is
// answered, a caller joins, and a tick fires timers (announcements).
func BenchmarkMessages(b *testing.B) {
	eachSize(b, newLoaded, func(b *testing.B, _ benchSize, l *loaded) {
		msgs := 0
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			l.now = l.now.Add(10 * time.Millisecond)
			c, a := l.pickConnected()
			delete(l.connected, c)
			delete(l.byAgent, a)
			acts := l.r.Apply(routing.CallEnded{Call: c, Agent: a}, l.now)
			msgs++
			for _, x := range acts {
				if o, ok := x.(routing.Offer); ok {
					l.r.Apply(routing.OfferAnswered{Call: o.Call, Agent: o.Agents[0]}, l.now)
					msgs++
					l.connected[o.Call] = o.Agents[0]
					l.ids = append(l.ids, o.Call)
				}
			}
			l.enqueue()
			l.r.Apply(routing.Tick{}, l.now)
			msgs += 2
		}
		el := time.Since(start)
		b.ReportMetric(float64(msgs)/el.Seconds(), "msgs/s")
	})
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// memFigures is the heap a router holds per agent (configured and logged
// in, with its queue memberships) and per waiting caller (with timers).
type memFigures struct{ perAgent, perCall float64 }

func measureMemory(_ testing.TB, s benchSize) memFigures {
	cfg := largeConfig(s)
	base := heapNow()
	r, err := routing.New(cfg)
	if err != nil {
		panic(err)
	}
	for _, a := range cfg.Agents {
		r.Apply(routing.AgentLogin{Agent: a.ID}, t0)
	}
	perAgent := float64(heapNow()-base) / float64(s.agents)
	// Make everyone busy: a paused agent takes no call.
	for _, a := range cfg.Agents {
		r.Apply(routing.AgentPause{Agent: a.ID, Reason: "x"}, t0)
	}
	before := heapNow()
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range s.waiting {
		r.Apply(routing.Enqueue{Call: sb.CallID(fmt.Sprintf("w%06d", i)), Queue: sb.QueueName(fmt.Sprintf("q%d", rng.IntN(s.queues)))}, t0)
	}
	perCall := float64(heapNow()-before) / float64(s.waiting)
	runtime.KeepAlive(r)
	runtime.KeepAlive(cfg)
	return memFigures{perAgent, perCall}
}

// BenchmarkMemory reports the heap held per agent and per waiting caller;
// the measurement (once per size) is the benchmark.
func BenchmarkMemory(b *testing.B) {
	eachSize(b, measureMemory, func(b *testing.B, _ benchSize, m memFigures) {
		for range b.N {
		}
		b.ReportMetric(m.perAgent, "B/agent")
		b.ReportMetric(m.perCall, "B/waiting-call")
	})
}
