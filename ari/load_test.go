package ari

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// loadRig is an adapter connected to a fresh simulator, and a consumer
// that counts every event by type.
type loadRig struct {
	sim *sim.Server
	a   *Adapter

	mu      sync.Mutex
	byType  map[string]int
	total   int
	waiters []func() // re-checked on every event
	entered chan sb.ChannelID
	stop    func() error
}

func newLoadRig(tb testing.TB) *loadRig {
	tb.Helper()
	s := sim.New(sim.Options{User: "switchboard", Password: "load-secret", Speed: 50, Seed: 7, EntityID: "sim-load"})
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	log, _ := testLogger(tb)
	a, err := New(Config{URL: s.URL(), Username: "switchboard", Password: "load-secret", Application: "load",
		RequestTimeout: 30 * time.Second, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	r := &loadRig{sim: s, a: a, byType: map[string]int{}, entered: make(chan sb.ChannelID, 4096)}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for e := range a.Events() {
			if ce, ok := e.(sb.ChannelEntered); ok {
				r.entered <- ce.Channel.ID
			}
			r.mu.Lock()
			r.byType[e.Header().Type]++
			r.total++
			r.mu.Unlock()
		}
	}()
	r.stop = func() error {
		cancel()
		err := <-runErr
		<-consumed
		s.Close()
		return err
	}
	tb.Cleanup(func() { r.stop() })
	r.waitCount(tb, "LinkUp", 1)
	return r
}

func (r *loadRig) count(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byType[typ]
}

func (r *loadRig) waitCount(tb testing.TB, typ string, n int) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for r.count(typ) < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d %s events after 60s, want %d", r.count(typ), typ, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// calls runs n concurrent inbound calls through the adapter the way the
// call center does: each call arrives (StasisStart), is answered, gets a
// greeting; calls are bridged in pairs, hear a bridge announcement, and
// are hung up; bridges are destroyed. At most par REST commands are in
// flight. It returns how long the call set-ups (arrival to answered and
// bridged) took.
func (r *loadRig) calls(tb testing.TB, n, par int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	base := map[string]int{}
	for _, typ := range []string{"StasisStart", "ChannelStateChange", "ChannelEnteredBridge", "ChannelDestroyed", "BridgeDestroyed", "PlaybackFinished", "StasisEnd"} {
		base[typ] = r.count(typ)
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var failed atomic.Int64
	do := func(what string, f func() error) {
		sem <- struct{}{}
		defer func() { <-sem }()
		if err := f(); err != nil {
			if failed.Add(1) < 5 {
				tb.Errorf("%s: %v", what, err)
			}
		}
	}
	start := time.Now()
	// Calls arrive from the trunk, 16 at a time.
	var arrivals sync.WaitGroup
	for w := range 16 {
		arrivals.Add(1)
		go func() {
			defer arrivals.Done()
			for i := w; i < n; i += 16 {
				if _, err := r.sim.Call(sim.Inbound{App: "load", Args: []string{"inbound"}, From: fmt.Sprintf("+1555%07d", i), To: "+15551230000"}); err != nil {
					tb.Errorf("call %d: %v", i, err)
				}
			}
		}()
	}
	// The call owner answers and greets every call as it enters.
	chans := make([]sb.ChannelID, 0, n)
	for len(chans) < n {
		select {
		case ch := <-r.entered:
			chans = append(chans, ch)
			wg.Add(1)
			go func() {
				defer wg.Done()
				do("answer", func() error { return r.a.Answer(ctx, ch) })
				do("play", func() error { return r.a.Play(ctx, ch, sb.PlaybackID("g-"+string(ch)), "sound:hello-world") })
			}()
		case <-time.After(60 * time.Second):
			tb.Fatalf("only %d of %d calls entered", len(chans), n)
		}
	}
	arrivals.Wait()
	wg.Wait()
	// Pairs meet in a bridge.
	for i := 0; i+1 < n; i += 2 {
		c1, c2 := chans[i], chans[i+1]
		br := sb.BridgeID("b-" + string(c1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			do("create bridge", func() error { return r.a.CreateBridge(ctx, br, "pair") })
			do("add to bridge", func() error { return r.a.AddToBridge(ctx, br, c1, c2) })
			do("play bridge", func() error { return r.a.PlayBridge(ctx, br, sb.PlaybackID("bp-"+string(br)), "sound:beep") })
		}()
	}
	wg.Wait()
	r.waitCount(tb, "ChannelEnteredBridge", base["ChannelEnteredBridge"]+n/2*2)
	setup := time.Since(start)
	// Everyone hangs up; bridges go.
	for i, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do("hangup", func() error { return r.a.Hangup(ctx, ch, "normal") })
			if i%2 == 0 && i+1 < n {
				do("destroy bridge", func() error { return r.a.DestroyBridge(ctx, sb.BridgeID("b-"+string(ch))) })
			}
		}()
	}
	wg.Wait()
	// The callers came from the dialplan: StasisEnd is their last event
	// (Asterisk sends no ChannelDestroyed to the application for them), and
	// BridgeDestroyed comes only for a bridge whose members had not left
	// yet, so the bridges are counted in the PBX instead.
	r.waitCount(tb, "StasisEnd", base["StasisEnd"]+n)
	if left := len(r.sim.Bridges()); left != 0 {
		tb.Errorf("%d bridges left", left)
	}
	if failed.Load() > 0 {
		tb.Fatalf("%d commands failed", failed.Load())
	}
	return setup
}

// settle waits until the adapter has received every event the simulator
// sent to the application and the consumer has had them all, and checks
// that none was lost. It returns the number of events.
func (r *loadRig) settle(tb testing.TB) int64 {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sent := r.sim.EventsSent("load")
		st := r.a.Stats()
		r.mu.Lock()
		consumed := r.total
		r.mu.Unlock()
		if int64(st.EventsReceived) == sent && uint64(consumed) == st.EventsQueued {
			if st.EventsLost != 0 || st.DecodeErrors != 0 {
				tb.Fatalf("lost %d, decode errors %d", st.EventsLost, st.DecodeErrors)
			}
			if ss := r.sim.Stats(); ss.EventsDropped != 0 || ss.ConnectionsDropped != 0 {
				tb.Fatalf("the simulator dropped events or the link: %+v", ss)
			}
			if st.EventsReceived != st.EventsQueued-1+st.EventsIgnored { // -1: LinkUp
				tb.Fatalf("received %d != queued %d - 1 + ignored %d", st.EventsReceived, st.EventsQueued, st.EventsIgnored)
			}
			return sent
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sim sent %d events to the app, adapter received %d, queued %d, consumer got %d (stats %+v)",
				sent, st.EventsReceived, st.EventsQueued, consumed, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestThousandConcurrentCalls runs 1,000 concurrent calls through the
// adapter and the simulator and checks that every event the simulator sent
// reached the consumer.
func TestThousandConcurrentCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 calls: not in -short")
	}
	r := newLoadRig(t)
	begin := time.Now()
	setup := r.calls(t, 1000, 64)
	events := r.settle(t)
	st := r.a.Stats()
	t.Logf("1000 calls: set-up %v, total %v, %d events, queue high water %d, %d ignored",
		setup.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond), events, st.QueueHighWater, st.EventsIgnored)
	chans, err := r.a.Channels(context.Background())
	if err != nil || len(chans) != 0 {
		t.Errorf("channels left: %d %v", len(chans), err)
	}
}
