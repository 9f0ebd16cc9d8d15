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
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/sim"
)

const benchFlow = `
flows:
  main:
    start: welcome
    nodes:
      welcome: {play: [sound:beep], next: menu}
      menu:
        menu: {prompt: [sound:beep], keys: {"1": account}, timeout: 10s, retries: 2, fail: bye}
      account:
        gather: {prompt: [sound:beep], min: 4, max: 8, terminator: "#", into: account, timeout: 10s, inter_digit_timeout: 10s, fail: bye}
        next: mark
      mark: {set: {vip: 'account startsWith "9"'}, next: route}
      route:
        branch:
          - when: 'vip == "true"'
            next: bye
          - else: bye
      bye: {hangup: {prompt: [sound:beep]}}
`

// ivrLoad runs n concurrent callers through benchFlow (menu, gather, set,
// branch, hangup) on the simulator at the given speed. It returns the wall
// time from the first call to the last call-log row and the IVR steps the
// center processed.
func ivrLoad(tb testing.TB, n int, speed float64, hold bool) (wall time.Duration, steps int64, c *center.Center, stop func()) {
	tb.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: speed, Seed: 1,
		Sounds: map[string]time.Duration{"beep": 500 * time.Millisecond}})
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pbx, err := ari.New(ari.Config{URL: s.URL(), Username: "sb", Password: "pw", Application: "switchboard", Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	flows := &staticFlows{}
	set := loadFlows(tb, benchFlow, nil)
	flows.cur.Store(set)
	r := &rows{got: map[sb.CallID]sb.CDR{}, ch: make(chan sb.CDR, n+10)}
	cfg := center.Config{CommandTimeout: time.Minute}
	c = center.New(center.Options{Config: cfg, PBX: pbx, CallLog: r, Clock: simClock{s.Clock()}, Log: log, Router: center.BasicRouter(tb, cfg, basicWait, basicRetry),
		IVR: center.IVROptions{Flows: flows, Routes: []center.Route{{DNIS: "*", Flow: "main"}}}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	stop = func() { cancel(); wg.Wait(); s.Close() }
	waitUntil(tb, "link", func() bool { return pbx.Ready() && slices.Contains(s.Apps(), "switchboard") })
	party := sim.Party{Digits: "1,1234#", DigitsDelay: 1500 * time.Millisecond}
	if hold {
		party = sim.Party{} // presses nothing: waits in the menu
	}
	start := time.Now()
	for i := range n {
		if _, err := s.Call(sim.Inbound{App: "switchboard", From: fmt.Sprintf("+1555%07d", i), To: "8000", Party: party}); err != nil {
			tb.Fatal(err)
		}
	}
	if hold {
		waitUntilFor(tb, "all in the menu", time.Minute, func() bool {
			k := 0
			for _, call := range c.LiveCalls() {
				if call.IVRNode == "main/menu" {
					k++
				}
			}
			return k == n
		})
		return time.Since(start), c.Stats().IVRSteps, c, stop
	}
	waitUntilFor(tb, "all calls through the flow", 5*time.Minute, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.got) == n
	})
	wall = time.Since(start)
	for _, row := range r.got {
		if p := string(row.IVRPath); !strings.Contains(p, `"node":"mark"`) {
			tb.Fatalf("call %s did not go through the flow: %s", row.CallID, p)
		}
	}
	return wall, c.Stats().IVRSteps, c, stop
}

// BenchmarkIVR1000Callers: 1,000 concurrent callers through a menu, a
// gather, a set, a branch and a hangup over real ARI to the simulator.
// Reports IVR steps per second (inputs the flows processed) and calls/s.
func BenchmarkIVR1000Callers(b *testing.B) {
	for b.Loop() {
		wall, steps, _, stop := ivrLoad(b, 1000, 5, false)
		stop()
		b.ReportMetric(float64(steps)/wall.Seconds(), "steps/s")
		b.ReportMetric(1000/wall.Seconds(), "calls/s")
	}
}

// BenchmarkIVRMemoryPerCall: heap held per call waiting in an IVR menu,
// 1,000 calls (center, adapter and simulator together: an upper bound for
// the center's share).
func BenchmarkIVRMemoryPerCall(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, c, stop := ivrLoad(b, 1000, 1, true)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1000, "B/call")
		if n := len(c.LiveCalls()); n != 1000 {
			b.Fatalf("%d live calls", n)
		}
		stop()
	}
}
