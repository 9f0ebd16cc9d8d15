package center_test

import (
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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

	rig := startLoadRig(tb, n, false, sim.Party{Talk: time.Hour})
	defer rig.stop()
	// One call first, so that pools and connections the first call opens
	// are in the baseline, not counted per call.
	rig.call(tb, 0)
	waitUntilFor(tb, "first bridged", time.Minute, func() bool { return rig.bridged() == 1 })
	engine0, sim0 := inUse()
	count := runtime.NumGoroutine
	if !heap {
		count = bubbleGoroutines // in a bubble: its own goroutines only
	}
	g0 := count()
	for i := 1; i < n; i++ {
		rig.call(tb, i)
	}
	waitUntilFor(tb, "all bridged", 2*time.Minute, func() bool { return rig.bridged() == n })
	// The calls' commands have run: the executors are idle.
	// Counting the bubble's goroutines reads every stack: look seldom.
	for deadline := time.Now().Add(time.Minute); count() > g0+4; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d goroutines more than with one call, a minute after the last was bridged", count()-g0)
		}
	}
	engine1, sim1 := inUse()
	f := liveFootprint{engineBytes: engine1 - engine0, simBytes: sim1 - sim0, goroutines: count() - g0}
	rig.c.HangupAll()
	waitUntilFor(tb, "no channels", time.Minute, func() bool { return len(rig.s.Channels()) == 0 })
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
