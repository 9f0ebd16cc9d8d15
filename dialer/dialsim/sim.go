package dialsim

import (
	"math"
	"time"

	"github.com/switchboard/switchboard/dialer"
)

// Config is one simulated shift.
type Config struct {
	Scenario Scenario
	Agents   int     // logged in for the whole shift
	Hours    float64 // shift length; dialing stops at its end
	Seed     uint64  // selects the lead stream and the wrap-up stream
	// Tick is the longest gap between two pacer decisions, in seconds (1).
	Tick float64
	// MaxInFlight caps the lines ringing at once; 0 is no cap.
	MaxInFlight int
	// Start is the shift's wall-clock start (clock hours count from it);
	// the zero time means 2026-01-05 08:00 UTC.
	Start time.Time
}

func (c Config) start() time.Time {
	if c.Start.IsZero() {
		return time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	}
	return c.Start
}

// Result is one method's shift.
type Result struct {
	Method string
	Agents int
	Seed   uint64
	Hours  float64

	Attempts  int
	Connected int     // calls given to an agent during the shift
	Abandoned int     // live answers abandoned
	Talk      float64 // agent-seconds talking within the shift
	WaitSum   float64 // agent-seconds idle before each connection
	WaitN     int

	// HourLive and HourAbandoned count live answers and abandons by clock
	// hour of the shift (by when their fate was known).
	HourLive      []int
	HourAbandoned []int
}

// Occupancy is the talk share of logged-in time.
func (r Result) Occupancy() float64 {
	return r.Talk / (float64(r.Agents) * r.Hours * 3600)
}

// AbandonRate is abandoned over live-answered for the whole shift.
func (r Result) AbandonRate() float64 {
	live := 0
	for _, n := range r.HourLive {
		live += n
	}
	if live == 0 {
		return 0
	}
	return float64(r.Abandoned) / float64(live)
}

// WorstHour is the highest abandon rate of any clock hour.
func (r Result) WorstHour() float64 {
	w := 0.0
	for h, n := range r.HourLive {
		if n > 0 {
			w = max(w, float64(r.HourAbandoned[h])/float64(n))
		}
	}
	return w
}

// ConnectsPerAgentHour is calls given to agents per logged-in agent-hour.
func (r Result) ConnectsPerAgentHour() float64 {
	return float64(r.Connected) / (float64(r.Agents) * r.Hours)
}

// MeanWait is the mean idle time of an agent before each call, in seconds.
func (r Result) MeanWait() float64 {
	if r.WaitN == 0 {
		return 0
	}
	return r.WaitSum / float64(r.WaitN)
}

type evKind uint8

const (
	evTick evKind = iota
	evResolve
	evAbandon
	evTalkEnd
	evWrapEnd
)

type event struct {
	t    float64
	seq  uint64
	kind evKind
	id   int
}

// eventHeap is a binary min-heap on (t, seq): ties resolve in scheduling
// order, so a run is reproducible.
type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

type agent struct {
	status dialer.AgentStatus
	since  float64
	wrap   float64
}

type line struct {
	lead   Lead
	dialed float64
	slot   int // index in sim.ringing
}

type waitingCall struct {
	answered float64
	talk     float64
}

type sim struct {
	cfg   Config
	sc    *Scenario
	end   float64
	base  time.Time
	leads *LeadStream
	wrapR func() float64

	heap    eventHeap
	seq     uint64
	agents  []agent
	idle    []int // ready agents, longest idle first
	lines   []line
	ringing []int // line ids still ringing
	waiting []waitingCall
	next    int // next lead

	stats  *dialer.Stats
	ledger *dialer.Ledger
	st     dialer.PacerState
	res    Result
}

func (s *sim) at(t float64) time.Time {
	return s.base.Add(time.Duration(t * float64(time.Second)))
}

func (s *sim) schedule(t float64, k evKind, id int) {
	s.seq++
	s.heap.push(event{t: t, seq: s.seq, kind: k, id: id})
}

// hour is the clock-hour bucket of t, the last bucket for fates known after
// the shift ends.
func (s *sim) hour(t float64) int {
	return max(0, min(int(t/3600), len(s.res.HourLive)-1))
}

// Run simulates one shift dialed by p.
func Run(cfg Config, p dialer.Pacer) Result {
	s := newSim(cfg)
	s.res.Method = p.Name()
	if cfg.Tick <= 0 {
		cfg.Tick = 1
	}
	s.schedule(0, evTick, 0)
	for len(s.heap) > 0 {
		t := s.heap[0].t
		ask := false
		for len(s.heap) > 0 && s.heap[0].t == t {
			e := s.heap.pop()
			ask = s.handle(e, cfg.Tick) || ask
		}
		if ask && t < s.end {
			s.decide(t, p)
		}
	}
	return s.res
}

func newSim(cfg Config) *sim {
	s := &sim{
		cfg:    cfg,
		end:    cfg.Hours * 3600,
		base:   cfg.start(),
		leads:  NewLeadStream(cfg.Seed, cfg.Scenario),
		stats:  dialer.NewStats(),
		ledger: dialer.NewLedger(time.UTC, 0),
	}
	s.sc = &s.cfg.Scenario
	wr := wrapStream(cfg.Seed)
	s.wrapR = func() float64 { return lognormal(wr, s.sc.WrapMean, s.sc.WrapCV) }
	hours := max(1, int(math.Ceil(cfg.Hours-1e-9)))
	s.res = Result{Agents: cfg.Agents, Seed: cfg.Seed, Hours: cfg.Hours,
		HourLive: make([]int, hours), HourAbandoned: make([]int, hours)}
	s.agents = make([]agent, cfg.Agents)
	for i := range s.agents {
		s.idle = append(s.idle, i)
	}
	s.st.Agents = make([]dialer.Agent, cfg.Agents)
	s.st.MaxInFlight = cfg.MaxInFlight
	s.st.Stats = s.stats
	return s
}

// handle applies one event and says whether the pacer should be asked at
// once: after a tick, a line that freed without a person, or an agent who
// became ready. The other events (a hang-up, a live answer, an abandon) never
// make room for more calls, so they wait for the next of those.
func (s *sim) handle(e event, tick float64) bool {
	switch e.kind {
	case evTick:
		if next := e.t + tick; next < s.end {
			s.schedule(next, evTick, 0)
		}
		return true
	case evResolve:
		l := &s.lines[e.id]
		s.unring(e.id)
		after, live := l.lead.resolve(s.sc)
		s.stats.ObserveAttempt(time.Duration(after*float64(time.Second)), live)
		if !live {
			return true
		}
		if len(s.idle) > 0 {
			a := s.idle[0]
			s.idle = s.idle[1:]
			s.connect(e.t, a, l.lead.Talk)
			return false
		}
		s.waiting = append(s.waiting, waitingCall{answered: e.t, talk: l.lead.Talk})
		s.schedule(e.t+s.sc.ConnectWindow, evAbandon, 0)
	case evAbandon:
		// Calls wait in answer order with the same window, so the one whose
		// window ends now, if still waiting, is at the front.
		if len(s.waiting) > 0 && s.waiting[0].answered+s.sc.ConnectWindow <= e.t+1e-9 {
			s.waiting = s.waiting[1:]
			s.res.Abandoned++
			h := s.hour(e.t)
			s.res.HourLive[h]++
			s.res.HourAbandoned[h]++
			s.ledger.Record(s.at(e.t), true)
		}
	case evTalkEnd:
		a := &s.agents[e.id]
		s.stats.ObserveTalk(time.Duration((e.t - a.since) * float64(time.Second)))
		a.status, a.since = dialer.AgentWrapUp, e.t
		a.wrap = s.wrapR()
		s.schedule(e.t+a.wrap, evWrapEnd, e.id)
	case evWrapEnd:
		a := &s.agents[e.id]
		s.stats.ObserveWrap(time.Duration(a.wrap * float64(time.Second)))
		a.status, a.since = dialer.AgentReady, e.t
		if len(s.waiting) > 0 {
			c := s.waiting[0]
			s.waiting = s.waiting[1:]
			s.connect(e.t, e.id, c.talk)
			return false
		}
		s.idle = append(s.idle, e.id)
		return true
	}
	return false
}

func (s *sim) connect(t float64, id int, talk float64) {
	a := &s.agents[id]
	if t < s.end {
		s.res.Connected++
		s.res.WaitSum += t - a.since
		s.res.WaitN++
		s.res.Talk += max(0, min(t+talk, s.end)-t)
	}
	h := s.hour(t)
	s.res.HourLive[h]++
	s.ledger.Record(s.at(t), false)
	a.status, a.since = dialer.AgentTalking, t
	s.schedule(t+talk, evTalkEnd, id)
}

func (s *sim) unring(id int) {
	slot := s.lines[id].slot
	last := s.ringing[len(s.ringing)-1]
	s.ringing[slot] = last
	s.lines[last].slot = slot
	s.ringing = s.ringing[:len(s.ringing)-1]
}

func (s *sim) decide(t float64, p dialer.Pacer) {
	now := s.at(t)
	st := &s.st
	for i, a := range s.agents {
		st.Agents[i] = dialer.Agent{Status: a.status, Since: s.at(a.since)}
	}
	st.Ringing = st.Ringing[:0]
	for _, id := range s.ringing {
		st.Ringing = append(st.Ringing, s.at(s.lines[id].dialed))
	}
	st.Waiting = st.Waiting[:0]
	for _, c := range s.waiting {
		st.Waiting = append(st.Waiting, s.at(c.answered))
	}
	st.Abandons = s.ledger.Windows(now)
	n := p.Decide(*st, now)
	for range n {
		lead := s.leads.Lead(s.next)
		s.next++
		id := len(s.lines)
		s.lines = append(s.lines, line{lead: lead, dialed: t, slot: len(s.ringing)})
		s.ringing = append(s.ringing, id)
		after, _ := lead.resolve(s.sc)
		s.schedule(t+after, evResolve, id)
		s.res.Attempts++
	}
}

// Bound is the occupancy bound on the same streams: every agent takes the
// next live lead the moment wrap-up ends, with no wait and no abandon, so
// occupancy is talk / (talk + wrap-up) as the talk times fall.
func Bound(cfg Config) Result {
	s := newSim(cfg)
	s.res.Method = "bound"
	free := make([]float64, cfg.Agents) // when each agent is next free
	for i := 0; ; i++ {
		lead := s.leads.Lead(i)
		if _, live := lead.resolve(s.sc); !live {
			continue
		}
		a := 0
		for j := range free {
			if free[j] < free[a] {
				a = j
			}
		}
		t := free[a]
		if t >= s.end {
			break
		}
		s.res.Connected++
		s.res.WaitN++
		s.res.Talk += min(t+lead.Talk, s.end) - t
		s.res.HourLive[s.hour(t)]++
		free[a] = t + lead.Talk + s.wrapR()
	}
	return s.res
}
