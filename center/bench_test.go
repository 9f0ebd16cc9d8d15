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

// loadRig is a simulator with n agent phones, the ARI adapter and a
// center, linked and running.
type loadRig struct {
	s    *sim.Server
	pbx  *ari.Adapter
	c    *center.Center
	rows *rows
	stop func() // stops the center and the adapter, then the simulator
}

// startLoadRig brings the rig up. overTCP serves the simulator on a
// loopback port (a benchmark measures ARI as deployed); otherwise on an
// in-memory pipe, which a test in a synctest bubble needs. agent is what
// each agent's phone does.
func startLoadRig(tb testing.TB, n int, overTCP bool, agent sim.Party) *loadRig {
	tb.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 1, Seed: 1, Sounds: map[string]time.Duration{"beep": 0}})
	cfg := center.Config{Greeting: []string{"sound:beep"}, AgentRingTimeout: time.Minute, CommandTimeout: 30 * time.Second}
	for i := range n {
		res := fmt.Sprint(10000 + i)
		s.AddEndpoint("PJSIP", res, agent)
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
	}
	if overTCP {
		if err := s.Start("127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
	} else {
		serve(tb, s)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pbx, err := ari.New(ari.Config{URL: s.URL(), Username: "sb", Password: "pw", Application: "switchboard", Logger: log,
		DialContext: simLink(s).dial})
	if err != nil {
		s.Close()
		tb.Fatal(err)
	}
	r := &rows{got: map[sb.CallID]sb.CDR{}, ch: make(chan sb.CDR, n+10)}
	c := center.New(center.Options{Config: cfg, PBX: pbx, CallLog: r, Log: log, Router: center.BasicRouter(tb, cfg, 10*time.Minute, time.Second)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	rig := &loadRig{s: s, pbx: pbx, c: c, rows: r, stop: func() { cancel(); wg.Wait(); s.Close() }}
	waitUntil(tb, "link", func() bool { return pbx.Ready() && slices.Contains(s.Apps(), "switchboard") })
	return rig
}

// bridged counts the calls bridged to their agent.
func (r *loadRig) bridged() int {
	k := 0
	for _, call := range r.c.LiveCalls() {
		if call.State == sb.CallBridged {
			k++
		}
	}
	return k
}

// call places inbound caller i.
func (r *loadRig) call(tb testing.TB, i int) string {
	tb.Helper()
	id, err := r.s.Call(sim.Inbound{App: "switchboard", From: fmt.Sprintf("+1555%07d", i), To: "8000"})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// loadRun places n concurrent inbound calls on a rig with n agent phones
// and waits until every call is bridged, then until every call has ended
// and been logged. It returns the time of the set-up phase (all calls
// entered → all bridged: wall time over TCP, virtual time in a synctest
// bubble) and the adapter's and simulator's counts.
func loadRun(tb testing.TB, n int, overTCP bool) (setup time.Duration, sent, received, lost uint64, logged int) {
	tb.Helper()
	rig := startLoadRig(tb, n, overTCP, sim.Party{})
	defer rig.stop() // before the return, for TestGoroutinesReturnToBaseline
	s, pbx, r := rig.s, rig.pbx, rig.rows
	start := time.Now()
	ids := make([]string, 0, n)
	for i := range n {
		ids = append(ids, rig.call(tb, i))
	}
	waitUntilFor(tb, "all bridged", 2*time.Minute, func() bool { return rig.bridged() == n })
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
