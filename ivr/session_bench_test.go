package ivr

import (
	"runtime"
	"testing"
	"time"
)

// benchSet is a typical front door: a menu, an account number, a branch on
// business hours and the caller's tier, a queue.
func benchSet(b *testing.B) *Set {
	return buildSet(b, []string{"account", "tier"}, buildFlow("main",
		nMenu("menu", Menu{Prompt: Prompt{"sound:welcome", "sound:press-1"}, Keys: map[string]string{"1": "acct", "2": "acct"},
			Timeout: 5 * time.Second, Retries: 2, InvalidPrompt: Prompt{"sound:invalid"}, Fail: "general"}),
		nGather("acct", "route", Gather{Prompt: Prompt{"sound:enter-account"}, Min: 4, Max: 8, Terminator: "#",
			Timeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second, Pattern: "[0-9]+", Into: "account",
			Retries: 2, Fail: "general"}),
		nBranch("route", "general",
			Case{When: `tier == "gold" && calendar("support-hours")`, Next: "priority"},
			Case{When: `hour >= 9 && hour < 18`, Next: "general"}),
		&Node{ID: "priority", Type: NodeQueue, Queue: &Queue{Name: "priority", Priority: 10}},
		nQueue("general", "general")))
}

// benchCall is one caller's inputs through benchSet.
var benchCall = []Input{
	Begin{Caller: testCaller, DNIS: "8000", Vars: map[string]string{"tier": "gold"}},
	PlaybackDone{ID: "play-1"},
	Digit{Key: "1"}, // menu: after the prompt (timer-2)
	PlaybackDone{ID: "play-3"},
	Digit{Key: "1"}, Digit{Key: "2"}, Digit{Key: "3"}, Digit{Key: "4"}, Digit{Key: "#"},
}

func runBenchCall(b *testing.B, set *Set, now time.Time) *Session {
	s, err := NewSession(set, "main", supportHours, newYork)
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range benchCall {
		s.Step(in, now)
	}
	if !s.Done() || s.Path().End != "queue:priority" {
		b.Fatalf("call ended %q, path %q", s.Path().End, summarize(s.Path()))
	}
	return s
}

// BenchmarkSessionSteps reports IVR steps per second through a menu ->
// gather -> branch -> queue flow, the bytes one call allocates on its way,
// and the heap a call waiting in the gather holds (live-B/session, measured
// over 1,000 concurrent sessions).
func BenchmarkSessionSteps(b *testing.B) {
	set := benchSet(b)
	now := time.Date(2026, 3, 5, 11, 0, 0, 0, newYork)
	runBenchCall(b, set, now) // warm the pattern cache

	const live = 1000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	held := make([]*Session, live)
	for i := range held {
		s, _ := NewSession(set, "main", supportHours, newYork)
		for _, in := range benchCall[:6] { // waiting for the second account digit
			s.Step(in, now)
		}
		held[i] = s
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	liveBytes := float64(after.HeapAlloc-before.HeapAlloc) / live
	runtime.KeepAlive(held)
	held = nil

	b.ReportAllocs()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	steps := 0
	for b.Loop() {
		steps += runBenchCall(b, set, now).Steps()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N), "B/session")
	b.ReportMetric(liveBytes, "live-B/session")
}
