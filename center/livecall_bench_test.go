package center_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/sim"
)

// liveFootprint is what n bridged calls hold: heap in use (by where it was
// allocated: the simulator, or the engine and the adapter) and goroutines,
// each against the same link with no call.
type liveFootprint struct {
	engineBytes, simBytes int64
	goroutines            int
}

// measureLive brings up a simulator, the ARI adapter and a center, with n
// agents, then bridges n calls and measures what they hold. The heap is
// read from the memory profile at rate 1 (every allocation), in use after
// two collections, and split by whether a simulator frame allocated it.
// Without heap, only the goroutines are counted, those of the caller's
// synctest bubble.
func measureLive(tb testing.TB, n int, heap bool) liveFootprint {
	tb.Helper()
	if heap {
		old := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = old }()
	}
	inUse := inUse
	if !heap {
		inUse = func() (int64, int64) { return 0, 0 }
	}

	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 1, Seed: 1, Sounds: map[string]time.Duration{"beep": 0}})
	cfg := center.Config{Greeting: []string{"sound:beep"}, AgentRingTimeout: time.Minute, CommandTimeout: 30 * time.Second}
	for i := range n {
		res := fmt.Sprint(10000 + i)
		s.AddEndpoint("PJSIP", res, sim.Party{Talk: time.Hour})
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
	}
	serve(tb, s)
	defer s.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pbx, err := ari.New(ari.Config{URL: s.URL(), Username: "sb", Password: "pw", Application: "switchboard", Logger: log,
		DialContext: simLink(s).dial})
	if err != nil {
		tb.Fatal(err)
	}
	c := center.New(center.Options{Config: cfg, PBX: pbx, Log: log, Router: center.BasicRouter(tb, cfg, 10*time.Minute, time.Second)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	waitUntilFor(tb, "link", time.Minute, func() bool { return pbx.Ready() && slices.Contains(s.Apps(), "switchboard") })
	bridged := func() int {
		k := 0
		for _, call := range c.LiveCalls() {
			if call.State == sb.CallBridged {
				k++
			}
		}
		return k
	}
	// One call first, so that pools and connections the first call opens
	// are in the baseline, not counted per call.
	call := func(i int) string {
		id, err := s.Call(sim.Inbound{App: "switchboard", From: fmt.Sprintf("+1555%07d", i), To: "8000"})
		if err != nil {
			tb.Fatal(err)
		}
		return id
	}
	call(0)
	waitUntilFor(tb, "first bridged", time.Minute, func() bool { return bridged() == 1 })
	engine0, sim0 := inUse()
	count := runtime.NumGoroutine
	if !heap {
		count = bubbleGoroutines // in a bubble: its own goroutines only
	}
	g0 := count()
	for i := 1; i < n; i++ {
		call(i)
	}
	waitUntilFor(tb, "all bridged", 2*time.Minute, func() bool { return bridged() == n })
	// The calls' commands have run: the executors are idle.
	// Counting the bubble's goroutines reads every stack: look seldom.
	for deadline := time.Now().Add(time.Minute); count() > g0+4; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d goroutines more than with one call, a minute after the last was bridged", count()-g0)
		}
	}
	engine1, sim1 := inUse()
	f := liveFootprint{engineBytes: engine1 - engine0, simBytes: sim1 - sim0, goroutines: count() - g0}
	c.HangupAll()
	waitUntilFor(tb, "no channels", time.Minute, func() bool { return len(s.Channels()) == 0 })
	return f
}

// inUse sums the heap in use after two collections, split by whether a
// simulator function is on the allocation's stack.
func inUse() (engine, simulator int64) {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, false)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+100)
	}
	for _, r := range recs {
		b := r.InUseBytes()
		if b == 0 {
			continue
		}
		frames := runtime.CallersFrames(r.Stack())
		inSim := false
		for {
			fr, more := frames.Next()
			if strings.HasPrefix(fr.Function, "github.com/switchboard/switchboard/sim.") {
				inSim = true
				break
			}
			if !more {
				break
			}
		}
		if inSim {
			simulator += b
		} else {
			engine += b
		}
	}
	return engine, simulator
}

// BenchmarkLiveCallMemory: heap in use per bridged call in the engine and
// the ARI adapter (the simulator's share apart), and goroutines per call,
// with 1,000 calls live. Target (issue 12): under 16 KiB per call, and a
// goroutine count that does not grow with the calls.
func BenchmarkLiveCallMemory(b *testing.B) {
	const n = 1000
	for b.Loop() {
		f := measureLive(b, n, true)
		b.ReportMetric(float64(f.engineBytes)/(n-1), "engine-B/call")
		b.ReportMetric(float64(f.simBytes)/(n-1), "sim-B/call")
		b.ReportMetric(float64(f.goroutines)/(n-1), "goroutines/call")
	}
}

// TestGoroutinesIndependentOfCalls: 200 bridged calls hold no more
// goroutines than one: a call's work runs on executors that end when idle,
// and the engine's own goroutines are fixed.
func TestGoroutinesIndependentOfCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	synctest.Test(t, func(t *testing.T) {
		f := measureLive(t, 200, false)
		if f.goroutines > 2 {
			t.Errorf("199 more bridged calls hold %d more goroutines; want none per call", f.goroutines)
		}
	})
}
