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

// loadRun places n concurrent inbound calls on a simulator with n agent
// phones and waits until every call is bridged, then until every call has
// ended and been logged. It returns the time of the set-up phase (all
// calls entered → all bridged: wall time over TCP, virtual time in a
// synctest bubble) and the adapter's and simulator's counts. overTCP
// serves the simulator on a loopback port (the benchmark measures ARI as
// deployed); otherwise on an in-memory pipe, which a test in a synctest
// bubble needs.
func loadRun(tb testing.TB, n int, overTCP bool) (setup time.Duration, sent, received, lost uint64, logged int) {
	tb.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 1, Seed: 1, Sounds: map[string]time.Duration{"beep": 0}})
	cfg := center.Config{Greeting: []string{"sound:beep"}, AgentRingTimeout: time.Minute, CommandTimeout: 30 * time.Second}
	for i := range n {
		res := fmt.Sprint(10000 + i)
		s.AddEndpoint("PJSIP", res, sim.Party{})
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
	}
	if overTCP {
		if err := s.Start("127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
		defer s.Close()
	} else {
		serve(tb, s)
		defer s.Close() // before the return, for TestGoroutinesReturnToBaseline
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pbx, err := ari.New(ari.Config{URL: s.URL(), Username: "sb", Password: "pw", Application: "switchboard", Logger: log,
		DialContext: simLink(s).dial})
	if err != nil {
		tb.Fatal(err)
	}
	r := &rows{got: map[sb.CallID]sb.CDR{}, ch: make(chan sb.CDR, n+10)}
	c := center.New(center.Options{Config: cfg, PBX: pbx, CallLog: r, Log: log, Router: center.BasicRouter(tb, cfg, 10*time.Minute, time.Second)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	waitUntil(tb, "link", func() bool { return pbx.Ready() && slices.Contains(s.Apps(), "switchboard") })

	bridged := func() int {
		k := 0
		for _, call := range c.LiveCalls() {
			if call.State == sb.CallBridged {
				k++
			}
		}
		return k
	}
	start := time.Now()
	ids := make([]string, 0, n)
	for i := range n {
		id, err := s.Call(sim.Inbound{App: "switchboard", From: fmt.Sprintf("+1555%07d", i), To: "8000"})
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	waitUntilFor(tb, "all bridged", 2*time.Minute, func() bool { return bridged() == n })
	setup = time.Since(start)
	for _, id := range ids {
		if err := s.Hangup(id, 16); err != nil {
			tb.Fatal(err)
		}
	}
	waitUntilFor(tb, "all logged", 2*time.Minute, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.got) == n
	})
	waitUntilFor(tb, "no channels", time.Minute, func() bool { return len(s.Channels()) == 0 })
	waitUntilFor(tb, "events settle", 10*time.Second, func() bool {
		return int64(pbx.Stats().EventsReceived) >= s.EventsSent("switchboard")
	})
	st := pbx.Stats()
	return setup, uint64(s.EventsSent("switchboard")), st.EventsReceived, st.EventsLost, len(r.got)
}

func waitUntilFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestThousandConcurrentCalls: 1,000 callers at once meet 1,000 agents; no
// call is lost, no event is lost, every call is logged once, nothing is
// left behind.
func TestThousandConcurrentCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	synctest.Test(t, func(t *testing.T) {
		_, sent, received, lost, rows := loadRun(t, 1000, false)
		if lost != 0 || received != sent {
			t.Fatalf("events sent %d received %d lost %d", sent, received, lost)
		}
		if rows != 1000 {
			t.Fatalf("%d call-log rows, want 1000", rows)
		}
	})
}

// BenchmarkCallSetup1000 measures full call set-ups (enter, answer, greet,
// originate to the agent, agent answers, bridge) with 1,000 concurrent
// calls through the simulator over real ARI.
func BenchmarkCallSetup1000(b *testing.B) {
	for b.Loop() {
		setup, sent, received, lost, _ := loadRun(b, 1000, true)
		b.ReportMetric(1000/setup.Seconds(), "setups/s")
		b.ReportMetric(float64(sent), "events")
		b.ReportMetric(float64(lost+sent-received), "events_lost")
	}
}

// TestGoroutinesReturnToBaseline: a center, adapter and simulator that ran
// calls leave no goroutine behind once stopped.
func TestGoroutinesReturnToBaseline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := bubbleGoroutines()
		loadRun(t, 20, false)
		deadline := time.Now().Add(10 * time.Second)
		for bubbleGoroutines() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutines %d > baseline %d:\n%s", bubbleGoroutines(), base, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// bubbleGoroutines counts the goroutines of the caller's synctest bubble:
// runtime.NumGoroutine would also count those an earlier test left
// winding down on the wall clock, which a bubble's virtual deadline does
// not wait for.
func bubbleGoroutines() int {
	buf := make([]byte, 1<<16)
	self := string(buf[:runtime.Stack(buf, false)])
	first, _, _ := strings.Cut(self, "\n")
	_, bubble, ok := strings.Cut(first, "synctest bubble ")
	if !ok {
		panic("bubbleGoroutines called outside a synctest bubble")
	}
	bubble = strings.TrimRight(bubble, "]:")
	buf = make([]byte, 1<<22)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	k := 0
	for _, line := range strings.Split(string(buf), "\n") {
		if strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, "synctest bubble "+bubble+"]:") {
			k++
		}
	}
	return k
}
