package dialer

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ago(s float64) time.Time { return t0.Add(-time.Duration(s * float64(time.Second))) }

// agents builds agents from (status, seconds in status) pairs.
func agents(spec ...any) []Agent {
	var out []Agent
	for i := 0; i < len(spec); i += 2 {
		out = append(out, Agent{Status: spec[i].(AgentStatus), Since: ago(spec[i+1].(float64))})
	}
	return out
}

func lines(ages ...float64) []time.Time {
	var out []time.Time
	for _, a := range ages {
		out = append(out, ago(a))
	}
	return out
}

func TestProgressive(t *testing.T) {
	tests := []struct {
		name string
		s    PacerState
		want int
	}{
		{"no agents", PacerState{}, 0},
		{"three ready", PacerState{Agents: agents(AgentReady, 1.0, AgentReady, 2.0, AgentReady, 3.0)}, 3},
		{"one line already out", PacerState{Agents: agents(AgentReady, 1.0, AgentReady, 2.0), Ringing: lines(3)}, 1},
		{"a call waits", PacerState{Agents: agents(AgentReady, 1.0, AgentReady, 2.0), Waiting: lines(1)}, 1},
		{"all busy", PacerState{Agents: agents(AgentTalking, 10.0, AgentWrapUp, 14.0)}, 0},
		{"more lines than ready", PacerState{Agents: agents(AgentReady, 1.0), Ringing: lines(1, 2)}, 0},
		{"trunk cap", PacerState{Agents: agents(AgentReady, 1.0, AgentReady, 1.0, AgentReady, 1.0), Ringing: lines(1), MaxInFlight: 2}, 1},
	}
	for _, tt := range tests {
		if got := (Progressive{}).Decide(tt.s, t0); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPower(t *testing.T) {
	tests := []struct {
		ratio   float64
		ready   int
		ringing int
		want    int
	}{
		{1.5, 2, 0, 3},
		{1.5, 1, 0, 2}, // 1.5 rounds to 2
		{1.5, 3, 2, 3}, // round(4.5) = 5, 2 out
		{2, 2, 5, 0},
		{3, 4, 0, 12},
		{3, 0, 0, 0},
	}
	for _, tt := range tests {
		var s PacerState
		for range tt.ready {
			s.Agents = append(s.Agents, Agent{Status: AgentReady, Since: t0})
		}
		s.Agents = append(s.Agents, Agent{Status: AgentTalking, Since: ago(30)})
		for range tt.ringing {
			s.Ringing = append(s.Ringing, ago(2))
		}
		if got := (Power{Ratio: tt.ratio}).Decide(s, t0); got != tt.want {
			t.Errorf("ratio %g, %d ready, %d ringing: got %d, want %d", tt.ratio, tt.ready, tt.ringing, got, tt.want)
		}
	}
	for r, want := range map[float64]string{1.5: "ratio-1.5", 2: "ratio-2.0", 3: "ratio-3.0"} {
		if got := (Power{Ratio: r}).Name(); got != want {
			t.Errorf("name %g: got %q, want %q", r, got, want)
		}
	}
}

func TestAdaptiveLevel(t *testing.T) {
	a := NewAdaptive(0.03, 8*time.Hour)
	// 4 agents: 2 ready, 2 talking, nothing out. Level 1 keeps one call up
	// per active agent: 4 calls, 2 of them talking, so 2 lines.
	s := PacerState{Agents: agents(AgentReady, 1.0, AgentReady, 1.0, AgentTalking, 30.0, AgentTalking, 40.0)}
	if got := a.Decide(s, t0); got != 2 {
		t.Fatalf("level 1: got %d lines, want 2", got)
	}
	// 15 s with 2 agents ready and no call waiting: level += 2/4.
	a.Decide(s, t0.Add(15*time.Second))
	if got := a.Level(); got != 1.5 {
		t.Fatalf("after a 15 s gap of 2 ready: level %g, want 1.5", got)
	}
	// floor(1.5 × 4) = 6 calls up, 2 talking: 4 lines.
	if got := a.Decide(s, t0.Add(16*time.Second)); got != 4 {
		t.Errorf("level 1.5: got %d lines, want 4", got)
	}
	// Drops spike in the next interval: 3 of 20 answers abandoned → halved
	// (and then held at the floor of 1).
	s.Abandons.Day = Counts{Live: 20, Abandoned: 3}
	a.Decide(s, t0.Add(30*time.Second))
	if got := a.Level(); got != 1 {
		t.Errorf("after a drop spike: level %g, want 1", got)
	}
	// The level never passes MaxLevel.
	many := PacerState{Agents: agents(AgentReady, 1.0, AgentReady, 1.0, AgentReady, 1.0, AgentReady, 1.0)}
	many.Abandons.Day = Counts{Live: 2000, Abandoned: 3}
	for i := 3; i < 40; i++ {
		a.Decide(many, t0.Add(time.Duration(i)*15*time.Second))
	}
	if got := a.Level(); got != 3 {
		t.Errorf("after long idle: level %g, want the cap 3", got)
	}
	// The day's rate over the tapered limit resets the level to 1: late in
	// the shift the limit is near the cap.
	many.Abandons.Day = Counts{Live: 1000, Abandoned: 40}
	a.Decide(many, t0.Add(8*time.Hour))
	if got := a.Level(); got != 1 {
		t.Errorf("day over the limit: level %g, want 1", got)
	}
}

// trainedStats are statistics a campaign like the default scenario
// would have measured: a 30% live rate, rings around 9 s, talk around 180 s,
// wrap-up around 15 s.
func trainedStats() *Stats {
	st := NewStats()
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		u := r.Float64()
		switch {
		case u < 0.3:
			st.ObserveAttempt(sec(4+10*r.Float64()), true)
		case u < 0.4:
			st.ObserveAttempt(sec(3), false)
		case u < 0.55:
			st.ObserveAttempt(sec(7+10*r.Float64()), false)
		default:
			st.ObserveAttempt(sec(20), false)
		}
	}
	for range 500 {
		st.ObserveTalk(sec(30 + 300*r.Float64()))
		st.ObserveWrap(sec(8 + 14*r.Float64()))
	}
	return st
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func TestPredictiveHandMade(t *testing.T) {
	st := trainedStats()
	tests := []struct {
		name     string
		s        PacerState
		min, max int
	}{
		{"nobody logged in", PacerState{Stats: st}, 0, 0},
		{"everyone just started talking", PacerState{Stats: st, Agents: agents(AgentTalking, 0.0, AgentTalking, 1.0, AgentTalking, 2.0)}, 0, 0},
		{"a call already waits for the only agent about to be free",
			PacerState{Stats: st, Agents: agents(AgentWrapUp, 14.0, AgentTalking, 5.0), Waiting: lines(0.5)}, 0, 0},
		{"one ready agent gets at least its line", PacerState{Stats: st, Agents: agents(AgentReady, 3.0, AgentTalking, 5.0)}, 1, 1},
		{"fifty ready agents get more than fifty lines", PacerState{Stats: st, Agents: repeat(AgentReady, 50)}, 60, 200},
		{"dial ahead for agents ending wrap-up in a big team",
			PacerState{Stats: st, Agents: append(repeat(AgentTalking, 40), agents(AgentWrapUp, 15.0, AgentWrapUp, 16.0, AgentWrapUp, 14.0, AgentWrapUp, 17.0)...)}, 1, 12},
		{"trunk full", PacerState{Stats: st, Agents: repeat(AgentReady, 10), Ringing: lines(1, 2, 3), MaxInFlight: 3}, 0, 0},
	}
	for _, tt := range tests {
		p := NewPredictive(0.03)
		if got := p.Decide(tt.s, t0); got < tt.min || got > tt.max {
			t.Errorf("%s: got %d, want %d-%d", tt.name, got, tt.min, tt.max)
		}
	}
}

func repeat(status AgentStatus, n int) []Agent {
	out := make([]Agent, n)
	for i := range out {
		out[i] = Agent{Status: status, Since: ago(float64(i%7) * 20)}
	}
	return out
}

// Once a window's allowance is spent the predictive pacer takes no risk at
// all: it dials no more than progressive, which never abandons.
func TestPredictiveSpentHourIsProgressive(t *testing.T) {
	st := trainedStats()
	s := PacerState{
		Stats:   st,
		Agents:  append(agents(AgentReady, 2.0, AgentReady, 9.0, AgentWrapUp, 15.0, AgentWrapUp, 14.0), repeat(AgentTalking, 16)...),
		Ringing: lines(1),
	}
	fresh := NewPredictive(0.03).Decide(s, t0)
	c := Counts{Live: 200, Abandoned: 15} // the hour's 3% is gone
	s.Abandons = Windows{Hour: c, Day: c, Rolling: c, HourEnd: t0.Add(30 * time.Minute)}
	spent := NewPredictive(0.03).Decide(s, t0)
	if want := (Progressive{}).Decide(s, t0); spent != want {
		t.Errorf("spent hour: got %d lines, want progressive's %d", spent, want)
	}
	if fresh <= spent {
		t.Errorf("fresh hour dials %d, spent hour %d: want more with allowance left", fresh, spent)
	}
}

// More abandons already used never means more lines.
func TestPredictiveMonotoneInAllowance(t *testing.T) {
	st := trainedStats()
	base := PacerState{
		Stats:   st,
		Agents:  append(agents(AgentReady, 2.0, AgentWrapUp, 12.0, AgentWrapUp, 15.0), repeat(AgentTalking, 37)...),
		Ringing: lines(1, 4, 8),
	}
	prev := 1 << 30
	for used := 0; used <= 60; used += 5 {
		s := base
		c := Counts{Live: 1000, Abandoned: used}
		s.Abandons = Windows{Hour: c, Day: c, Rolling: c, HourEnd: t0.Add(20 * time.Minute)}
		got := NewPredictive(0.03).Decide(s, t0)
		if got > prev {
			t.Errorf("%d abandons used: %d lines, more than %d with fewer used", used, got, prev)
		}
		prev = got
	}
}

// Every pacer, on any state: never negative, never past MaxInFlight, nothing
// without agents.
func TestPacersProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	st := trainedStats()
	pacers := []Pacer{Progressive{}, Power{Ratio: 1.5}, Power{Ratio: 3}, NewAdaptive(0.03, 8*time.Hour), NewPredictive(0.03)}
	now := t0
	for i := range 3000 {
		now = now.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
		var s PacerState
		s.Stats = st
		for range r.IntN(30) {
			s.Agents = append(s.Agents, Agent{Status: AgentStatus(r.IntN(3)), Since: now.Add(-time.Duration(r.IntN(900_000)) * time.Millisecond)})
		}
		for range r.IntN(40) {
			s.Ringing = append(s.Ringing, now.Add(-time.Duration(r.IntN(25_000))*time.Millisecond))
		}
		for range r.IntN(3) {
			s.Waiting = append(s.Waiting, now.Add(-time.Duration(r.IntN(2_000))*time.Millisecond))
		}
		if r.IntN(2) == 0 {
			s.MaxInFlight = r.IntN(50)
		}
		live := r.IntN(500)
		c := Counts{Live: live, Abandoned: r.IntN(live/10 + 1)}
		s.Abandons = Windows{Hour: c, Day: c, Rolling: c, HourEnd: now.Add(time.Duration(r.IntN(3600)) * time.Second)}
		for _, p := range pacers {
			n := p.Decide(s, now)
			if n < 0 {
				t.Fatalf("state %d: %s dialed %d", i, p.Name(), n)
			}
			if len(s.Agents) == 0 && n != 0 {
				t.Fatalf("state %d: %s dialed %d with nobody logged in", i, p.Name(), n)
			}
			if s.MaxInFlight > 0 && n > 0 && len(s.Ringing)+n > s.MaxInFlight {
				t.Fatalf("state %d: %s dialed %d with %d of %d lines out", i, p.Name(), n, len(s.Ringing), s.MaxInFlight)
			}
		}
	}
}

func BenchmarkPredictiveDecide(b *testing.B) {
	st := trainedStats()
	s := PacerState{
		Stats:   st,
		Agents:  append(agents(AgentReady, 2.0, AgentWrapUp, 12.0, AgentWrapUp, 15.0, AgentWrapUp, 4.0), repeat(AgentTalking, 96)...),
		Ringing: lines(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 2),
	}
	p := NewPredictive(0.03)
	for b.Loop() {
		p.Decide(s, t0)
	}
}
