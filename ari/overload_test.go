package ari

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadWindow drives the window with explicit times.
func TestLoadWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	cfg := OverloadConfig{Window: 30 * time.Second, MinRequests: 10, FailureRatio: 0.2, P95Latency: time.Second}
	type req struct {
		at     time.Duration // after t0
		n      int
		d      time.Duration
		result string
	}
	tests := []struct {
		name     string
		reqs     []req
		at       time.Duration
		want     bool
		reason   []string // substrings of the reason
		requests int
	}{
		{"quiet", nil, 0, false, nil, 0},
		{"healthy", []req{{0, 100, time.Millisecond, ResultOK}}, time.Second, false, nil, 100},
		{"4xx are the PBX working", []req{{0, 50, time.Millisecond, "404"}, {0, 10, time.Millisecond, "409"}}, 0, false, nil, 60},
		{"too few to judge", []req{{0, 9, 5 * time.Second, ResultTimeout}}, 0, false, nil, 9},
		{"failures at the ratio", []req{{0, 8, time.Millisecond, ResultOK}, {0, 1, time.Millisecond, "503"}, {0, 1, time.Millisecond, ResultReset}}, 0, true,
			[]string{"PBX overloaded: 2 of 10 ARI requests in the last 30s failed", "1 answered 5xx", "1 met a refused or closed connection"}, 10},
		{"failures under the ratio", []req{{0, 9, time.Millisecond, ResultOK}, {0, 1, time.Millisecond, "500"}}, 0, false, nil, 10},
		{"timeouts and pool waits", []req{{0, 10, time.Millisecond, ResultOK}, {0, 2, 5 * time.Second, ResultTimeout}, {0, 1, 5 * time.Second, ResultPoolTimeout}}, 0, true,
			[]string{"3 of 13", "3 timed out", "ARI latency p95 over 1s in the last 30s (3 of 13 requests slower)"}, 13},
		{"slow but answering", []req{{0, 90, time.Millisecond, ResultOK}, {0, 10, 1500 * time.Millisecond, ResultOK}}, 0, true,
			[]string{"ARI latency p95 over 1s"}, 100},
		{"5% slow is p95 at the bound", []req{{0, 95, time.Millisecond, ResultOK}, {0, 5, 1500 * time.Millisecond, ResultOK}}, 0, false, nil, 100},
		{"canceled say nothing", []req{{0, 50, time.Millisecond, ResultCanceled}}, 0, false, nil, 0},
		{"failures age out", []req{{0, 20, 5 * time.Second, ResultTimeout}, {20 * time.Second, 20, time.Millisecond, ResultOK}}, 30 * time.Second, false, nil, 20},
		{"still inside the window", []req{{0, 20, 5 * time.Second, ResultTimeout}}, 29 * time.Second, true, []string{"20 of 20"}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newLoadWindow(cfg)
			for _, r := range tt.reqs {
				for range r.n {
					w.add(t0.Add(r.at), r.d, r.result)
				}
			}
			l := w.load(t0.Add(tt.at))
			if l.Overloaded != tt.want || l.Requests != tt.requests {
				t.Fatalf("overloaded %v with %d requests (%q), want %v with %d", l.Overloaded, l.Requests, l.Reason, tt.want, tt.requests)
			}
			if !tt.want && l.Reason != "" {
				t.Errorf("reason %q while not overloaded", l.Reason)
			}
			for _, s := range tt.reason {
				if !strings.Contains(l.Reason, s) {
					t.Errorf("reason %q lacks %q", l.Reason, s)
				}
			}
		})
	}
}

func TestOverloadDefaults(t *testing.T) {
	got := OverloadConfig{FailureRatio: 2}.withDefaults()
	want := OverloadConfig{Window: 30 * time.Second, MinRequests: 20, FailureRatio: 0.2, P95Latency: time.Second}
	if got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
}

// TestOverloadTransitions: an adapter whose PBX starts failing reports
// itself overloaded, with the reason, and healthy again once the failures
// are out of the window; a slow PBX is overloaded too. Time is the
// adapter's (fake) clock.
func TestOverloadTransitions(t *testing.T) {
	f := newFakeARI(t)
	fc := newFakeClock()
	var mode atomic.Value // "ok", "503", "slow"
	mode.Store("ok")
	f.handle("GET /recordings/live/r", func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "503":
			writeJSON(w, 503, map[string]string{"message": "busy"})
			return
		case "slow":
			fc.advance(3 * time.Second)
		}
		writeJSON(w, 200, map[string]string{"name": "r"})
	})
	cfg := f.config(t)
	cfg.Overload = OverloadConfig{Window: 30 * time.Second, MinRequests: 10, FailureRatio: 0.5, P95Latency: 2 * time.Second}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.clk = fc
	ctx := context.Background()
	reqs := func(n int) {
		for range n {
			a.RecordingLive(ctx, "r")
		}
	}
	check := func(step string, want bool, reason string) {
		t.Helper()
		got, why := a.Overload()
		if got != want || !strings.Contains(why, reason) {
			t.Errorf("%s: overloaded %v (%q), want %v (%q)", step, got, why, want, reason)
		}
		if st := a.Stats().Load; st.Overloaded != got || st.Reason != why {
			t.Errorf("%s: Stats.Load %+v disagrees with Overload", step, st)
		}
	}
	reqs(20)
	check("healthy", false, "")
	mode.Store("503")
	fc.advance(time.Second)
	reqs(10)
	check("a third failing", false, "")
	reqs(10)
	check("half failing", true, "PBX overloaded: 20 of 40 ARI requests in the last 30s failed (20 answered 5xx)")
	mode.Store("ok")
	fc.advance(29 * time.Second)
	check("the healthy ones aged out, the failures not yet", true, "20 of 20")
	fc.advance(time.Second)
	check("the failures aged out", false, "")
	reqs(10)
	check("healthy again", false, "")
	mode.Store("slow")
	reqs(1)
	check("one slow of 11", true, "ARI latency p95 over 2s")
	fc.advance(30 * time.Second)
	check("slow aged out", false, "")
}
