package center_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/erlang"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

// erlangRun offers Poisson arrivals (rate perHour) with exponential talk
// times (mean aht) to n agents through the router (one queue,
// longest-idle) over real ARI to the simulator, for the given simulated
// time, and returns the waits of the calls after a warm-up tenth.
func erlangRun(tb testing.TB, n int, perHour float64, aht, length time.Duration, speed float64, seed uint64) []time.Duration {
	tb.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: speed, Seed: int64(seed)})
	var rcfg routing.Config
	cfg := center.Config{CommandTimeout: 30 * time.Second, AgentRingTimeout: time.Minute}
	for i := range n {
		res := fmt.Sprint(2000 + i)
		s.AddEndpoint("PJSIP", res, sim.Party{TalkDist: func(r *rand.Rand) time.Duration {
			return time.Duration(r.ExpFloat64() * float64(aht))
		}})
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
		rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
	}
	rcfg.Queues = []sb.Queue{{Name: "q", Strategy: "longest-idle", RingTimeout: time.Minute, WaitForAgent: 10 * time.Hour}}
	r, err := routing.New(rcfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pbx, err := ari.New(ari.Config{URL: s.URL(), Username: "sb", Password: "pw", Application: "switchboard", Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	rows := &rows{got: map[sb.CallID]sb.CDR{}, ch: make(chan sb.CDR, 1<<16)}
	c := center.New(center.Options{Config: cfg, PBX: pbx, Router: r, CallLog: rows, Clock: simClock{s.Clock()}, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	waitUntil(tb, "link", func() bool { return pbx.Ready() && slices.Contains(s.Apps(), "switchboard") })

	// Arrivals on the simulated clock.
	rng := rand.New(rand.NewPCG(seed, 99))
	clock := s.Clock()
	done := make(chan struct{})
	var mu sync.Mutex
	var order []string
	start := clock.Now()
	at := start // arrival times are drawn on an absolute schedule: a late
	// callback must not stretch the next gap
	var next func()
	next = func() {
		at = at.Add(time.Duration(rng.ExpFloat64() * float64(time.Hour) / perHour))
		clock.AfterFunc(max(0, at.Sub(clock.Now())), func() {
			if at.Sub(start) >= length {
				close(done)
				return
			}
			id, err := s.Call(sim.Inbound{App: "switchboard", From: "+1555", To: "8000"})
			if err == nil {
				mu.Lock()
				order = append(order, id)
				mu.Unlock()
			}
			next()
		})
	}
	next()
	<-done
	mu.Lock()
	ids := append([]string(nil), order...)
	mu.Unlock()
	// Every caller is served and hangs up (the agent does, after its talk).
	waitUntilFor(tb, "all calls logged", 10*time.Minute, func() bool {
		rows.mu.Lock()
		defer rows.mu.Unlock()
		return len(rows.got) >= len(ids)
	})
	rows.mu.Lock()
	defer rows.mu.Unlock()
	var waits []time.Duration
	var talk time.Duration
	for _, id := range ids[len(ids)/10:] {
		row := rows.got[sb.CallID(id)]
		if !row.Bridged.Valid {
			tb.Fatalf("call %s was not answered: %+v", id, row)
		}
		waits = append(waits, row.Bridged.Time.Sub(row.Entered))
		talk += row.Talk()
	}
	type ev struct {
		at time.Time
		d  int
	}
	var evs []ev
	agentsUsed := map[sb.AgentID]bool{}
	for _, row := range rows.got {
		if row.Bridged.Valid {
			evs = append(evs, ev{row.Bridged.Time, 1}, ev{row.Ended, -1})
			agentsUsed[row.Agent] = true
		}
	}
	slices.SortFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })
	busy, peak := 0, 0
	for _, e := range evs {
		busy += e.d
		peak = max(peak, busy)
	}
	tb.Logf("calls %d over %v: %.1f/h; mean talk %v; peak simultaneous talks %d; agents used %d", len(ids), length,
		float64(len(ids))/length.Hours(), talk/time.Duration(len(waits)), peak, len(agentsUsed))
	return waits
}

// BenchmarkErlangCCheck compares the service level and ASA measured through
// the simulator (router, ARI, center) with Erlang C for a single-skill
// queue under Poisson arrivals and exponential talk times. Waits are
// strongly autocorrelated (busy periods), so the statistical margin comes
// from batch means: the run is cut into 10 batches of consecutive calls
// and the 95% margin is t(9) x sd(batch means) / sqrt(10). The check fails
// when Erlang C is outside the margin of either figure.
func BenchmarkErlangCCheck(b *testing.B) {
	const (
		agents  = 12
		perHour = 270.0 // 9 Erlangs at AHT 120 s
		aht     = 120 * time.Second
		within  = 20 * time.Second
		batches = 10
		t9      = 2.262 // Student t, 9 degrees of freedom, 95%
	)
	model, err := erlang.Evaluate(erlang.Input{CallsPerHour: perHour, AHT: aht,
		Target: erlang.Target{ServiceLevel: 0.8, Within: within}}, agents)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		waits := erlangRun(b, agents, perHour, aht, 12*time.Hour, 400, 7)
		per := len(waits) / batches
		var sls, asas []float64
		for i := range batches {
			in, sum := 0, 0.0
			for _, w := range waits[i*per : (i+1)*per] {
				if w <= within {
					in++
				}
				sum += w.Seconds()
			}
			sls = append(sls, float64(in)/float64(per))
			asas = append(asas, sum/float64(per))
		}
		sl, slm := meanMargin(sls, t9)
		asa, asam := meanMargin(asas, t9)
		b.ReportMetric(float64(len(waits)), "calls")
		b.ReportMetric(model.ServiceLevel, "erlangC_SL")
		b.ReportMetric(sl, "measured_SL")
		b.ReportMetric(slm, "SL_margin95")
		b.ReportMetric(model.ASASeconds, "erlangC_ASA_s")
		b.ReportMetric(asa, "measured_ASA_s")
		b.ReportMetric(asam, "ASA_margin95_s")
		if math.Abs(sl-model.ServiceLevel) > slm || math.Abs(asa-model.ASASeconds) > asam {
			b.Errorf("measured SL %.3f ± %.3f, ASA %.1f ± %.1f s; Erlang C SL %.3f, ASA %.1f s",
				sl, slm, asa, asam, model.ServiceLevel, model.ASASeconds)
		}
	}
}

// meanMargin returns the mean of xs and the margin t x sd / sqrt(n).
func meanMargin(xs []float64, t float64) (mean, margin float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(len(xs)-1))
	return mean, t * sd / math.Sqrt(float64(len(xs)))
}
