package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
)

// qs builds a queue's cumulative figures the way the router reports them:
// averages, not sums.
func qs(answered, abandoned, exited, completed, waiting, ringing int, waitTotal, handleTotal time.Duration, sl float64) routing.QueueStats {
	st := routing.QueueStats{Queue: "support", Answered: answered, Abandoned: abandoned, Exited: exited, Completed: completed,
		Waiting: waiting, Ringing: ringing, ServiceLevel: sl, ServiceLevelTarget: 0.8, ServiceLevelTime: 20 * time.Second,
		AHT: 5 * time.Minute} // the configured expectation until a call completes
	if answered > 0 {
		st.ASA = waitTotal / time.Duration(answered)
	}
	if completed > 0 {
		st.AHT = handleTotal / time.Duration(completed)
	}
	return st
}

func TestQueueDelta(t *testing.T) {
	s := time.Second
	exact := func(c queueCum) queueCum { c.slExact = true; return c }
	cases := []struct {
		name string
		prev queueCum
		st   routing.QueueStats
		want storage.QueueInterval
	}{
		{
			name: "from nothing",
			st:   qs(4, 1, 0, 3, 2, 1, 40*s, 900*s, 1),
			// 4 answered + 1 abandoned (quickly: SL 1 says it did not count)
			// + 3 still in the queue.
			want: storage.QueueInterval{Offered: 8, Answered: 4, AnsweredInSL: 4, Abandoned: 1, Completed: 3,
				WaitSeconds: 40, HandleSeconds: 900},
		},
		{
			name: "difference",
			prev: exact(queueCum{answered: 4, abandoned: 1, completed: 3, inQueue: 3, wait: 40 * s, handle: 900 * s, inSL: 4}),
			// 2 more answered, one of them late: SL 5/6.
			st: qs(6, 1, 0, 5, 0, 0, 100*s, 1500*s, 5.0/6),
			// 2 answered, none left the queue otherwise, the queue went from 3 to 0: none entered.
			want: storage.QueueInterval{Offered: 0, Answered: 2, AnsweredInSL: 1, Completed: 2, WaitSeconds: 60, HandleSeconds: 600},
		},
		{
			name: "entries while waiting",
			prev: exact(queueCum{answered: 6, completed: 5, inQueue: 0, wait: 100 * s, handle: 1500 * s, inSL: 5}),
			st:   qs(6, 0, 0, 5, 7, 0, 100*s, 1500*s, 5.0/6),
			want: storage.QueueInterval{Offered: 7, HandleSeconds: 0},
		},
		{
			name: "restart: a counter went backwards",
			prev: exact(queueCum{answered: 60, abandoned: 9, completed: 58, inQueue: 4, wait: 900 * s, handle: 9000 * s, inSL: 50, missedSL: 3}),
			st:   qs(2, 0, 1, 1, 1, 0, 10*s, 200*s, 1),
			want: storage.QueueInterval{Offered: 4, Answered: 2, AnsweredInSL: 2, Exited: 1, Completed: 1, WaitSeconds: 10, HandleSeconds: 200},
		},
		{
			name: "no completion yet: AHT is the expectation, not a measurement",
			st:   qs(1, 0, 0, 0, 0, 0, 3*s, 0, 1),
			want: storage.QueueInterval{Offered: 1, Answered: 1, AnsweredInSL: 1, WaitSeconds: 3},
		},
		{
			name: "service level split not settled by the counters",
			// 2 answered, 2 abandoned, SL 0.5: 1 in SL and no late
			// abandon, or 2 in SL and both abandons late.
			st: qs(2, 2, 0, 0, 0, 0, 30*s, 0, 0.5),
			want: storage.QueueInterval{Offered: 4, Answered: 2, AnsweredInSL: 1, MissedSL: 0, SLEstimated: true,
				Abandoned: 2, WaitSeconds: 30},
		},
		{
			name: "service level split settled by the previous one",
			prev: exact(queueCum{answered: 10, completed: 10, inSL: 8}),
			// One more answered and one abandon: 9/12 needs a late
			// abandon (9/11 would not do; 8/11 would need an answer lost).
			st:   qs(11, 1, 0, 10, 0, 0, 0, 0, 9.0/12),
			want: storage.QueueInterval{Answered: 1, AnsweredInSL: 1, MissedSL: 1, Abandoned: 1, Offered: 2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.want.Queue = "support"
			c.want.ServiceLevelTarget, c.want.ServiceLevelTimeSeconds = 0.8, 20
			got, _ := queueDelta(c.prev, c.st)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitSL(t *testing.T) {
	cum := func(answered, left, inSL, missed int, exact bool) queueCum {
		return queueCum{answered: answered, abandoned: left, inSL: inSL, missedSL: missed, slExact: exact}
	}
	cases := []struct {
		name       string
		sl         float64
		prev, cur  queueCum
		in, missed int
		exact      bool
	}{
		{"nothing yet", 1, queueCum{}, cum(0, 0, 0, 0, false), 0, 0, true},
		{"only quick abandons", 1, queueCum{}, cum(0, 3, 0, 0, false), 0, 0, true},
		{"late abandons", 0, queueCum{}, cum(0, 3, 0, 0, false), 0, 1, false}, // 1..3 late: any fits
		{"all answered in time", 1, queueCum{}, cum(5, 2, 0, 0, false), 5, 0, true},
		{"none in time", 0, queueCum{}, cum(5, 0, 0, 0, false), 0, 0, true},
		{"a thirds denominator", 2.0 / 3, queueCum{}, cum(2, 1, 0, 0, false), 2, 1, true},
		{"ambiguous: fewest misses", 0.5, queueCum{}, cum(2, 2, 0, 0, false), 1, 0, false},
		{"ambiguous alone, settled from an exact previous split", 0.5, cum(2, 0, 1, 0, true), cum(2, 2, 0, 0, false), 1, 0, true},
		{"settled from a guessed previous split stays a guess", 0.5, cum(2, 0, 1, 0, false), cum(2, 2, 0, 0, false), 1, 0, false},
		{"late exit", 9.0 / 12, cum(10, 0, 8, 0, true), cum(11, 1, 0, 0, false), 9, 1, true},
	}
	for _, c := range cases {
		in, missed, exact := splitSL(c.sl, c.prev, c.cur)
		if in != c.in || missed != c.missed || exact != c.exact {
			t.Errorf("%s: got %d, %d, %v; want %d, %d, %v", c.name, in, missed, exact, c.in, c.missed, c.exact)
		}
	}
}

func snapshot(queues ...routing.QueueStats) routing.Snapshot {
	var s routing.Snapshot
	for _, q := range queues {
		s.Queues = append(s.Queues, routing.QueueSnapshot{QueueStats: q})
	}
	return s
}

func TestQueueSamplerPeaksAndIntervals(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 5, 0, 0, time.FixedZone("CET", 3600))
	s := newQueueSampler()
	if rows := s.close(t0); rows != nil {
		t.Fatalf("rows before the baseline: %+v", rows)
	}
	sales := func(answered, waiting int, longest time.Duration) routing.QueueStats {
		st := qs(answered, 0, 0, 0, waiting, 0, 0, 0, 1)
		st.Queue, st.LongestWait = "sales", longest
		return st
	}
	s.baseline(snapshot(qs(10, 0, 0, 10, 1, 0, 0, 0, 1), sales(0, 0, 0)), t0)
	s.observe(snapshot(qs(11, 0, 0, 10, 6, 0, 0, 0, 1), sales(1, 2, 50*time.Second)))
	s.observe(snapshot(qs(13, 0, 0, 11, 2, 0, 0, 0, 1), sales(2, 1, 30*time.Second)))
	rows := s.close(t0.Add(10 * time.Minute))
	if len(rows) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	sup, sal := rows[0], rows[1]
	if !sup.Start.Equal(t0) || sup.Start.Location() != time.UTC || sup.Seconds != 600 {
		t.Errorf("interval %s + %d s", sup.Start, sup.Seconds)
	}
	if sup.Answered != 3 || sup.Completed != 1 || sup.Offered != 4 || sup.MaxWaiting != 6 {
		t.Errorf("support = %+v", sup)
	}
	if sal.Queue != "sales" || sal.Answered != 2 || sal.MaxWaiting != 2 || sal.MaxLongestWaitSeconds != 50 {
		t.Errorf("sales = %+v", sal)
	}

	// The next interval starts where that one ended, with the boundary's
	// state as its first peak.
	s.observe(snapshot(qs(13, 0, 0, 11, 0, 0, 0, 0, 1), sales(2, 0, 0)))
	rows = s.close(t0.Add(25 * time.Minute))
	if got := rows[0]; !got.Start.Equal(t0.Add(10*time.Minute)) || got.Seconds != 900 || got.Answered != 0 || got.MaxWaiting != 2 {
		t.Errorf("next = %+v", got)
	}
	if got := rows[1]; got.MaxLongestWaitSeconds != 30 {
		t.Errorf("next sales = %+v", got)
	}
}

// fakeRouter is a router whose cumulative figures the test sets.
type fakeRouter struct {
	mu    sync.Mutex
	st    routing.QueueStats
	fail  bool
	calls int
}

func (f *fakeRouter) set(fn func(st *routing.QueueStats)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.st)
}

func (f *fakeRouter) snap(ctx context.Context) (routing.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail {
		return routing.Snapshot{}, sb.Errorf(sb.EUNAVAILABLE, "the call center stopped")
	}
	return snapshot(f.st), nil
}

// fakeWriter records what the sampler writes; it fails while fail is set.
type fakeWriter struct {
	mu   sync.Mutex
	rows []storage.QueueInterval
	fail bool
}

func (w *fakeWriter) write(_ context.Context, rows []storage.QueueInterval) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return errors.New("disk full")
	}
	w.rows = append(w.rows, rows...)
	return nil
}

func (w *fakeWriter) take() []storage.QueueInterval {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.rows
	w.rows = nil
	return r
}

func TestRunQueueSampler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at midnight UTC: start off a boundary.
		time.Sleep(5 * time.Minute)
		t0 := time.Now().UTC()
		r := &fakeRouter{st: qs(0, 0, 0, 0, 0, 0, 0, 0, 1)}
		w := &fakeWriter{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			runQueueSampler(ctx, 15*time.Minute, r.snap, w.write, slog.New(slog.DiscardHandler))
			close(done)
		}()
		synctest.Wait()

		r.set(func(st *routing.QueueStats) { st.Answered, st.Waiting = 3, 5 })
		time.Sleep(time.Minute)
		r.set(func(st *routing.QueueStats) { st.Waiting = 1 })
		time.Sleep(9 * time.Minute) // 00:15
		synctest.Wait()
		got := w.take()
		if len(got) != 1 || !got[0].Start.Equal(t0) || got[0].Seconds != 600 || got[0].Answered != 3 ||
			got[0].Offered != 4 || got[0].MaxWaiting != 5 {
			t.Fatalf("first interval = %+v", got)
		}

		// The database fails at 00:30: the rows are written with 00:45's.
		w.mu.Lock()
		w.fail = true
		w.mu.Unlock()
		r.set(func(st *routing.QueueStats) { st.Answered = 4 })
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		w.mu.Lock()
		w.fail = false
		w.mu.Unlock()
		r.set(func(st *routing.QueueStats) { st.Answered = 6 })
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		got = w.take()
		if len(got) != 2 || got[0].Start != t0.Add(10*time.Minute) || got[0].Answered != 1 ||
			got[1].Start != t0.Add(25*time.Minute) || got[1].Seconds != 900 || got[1].Answered != 2 {
			t.Fatalf("after the retry = %+v", got)
		}

		// A snapshot failing at 01:00 leaves the interval open to 01:15.
		r.set(func(st *routing.QueueStats) { st.Answered = 7 })
		time.Sleep(15*time.Minute - 20*time.Second)
		r.mu.Lock()
		r.fail = true
		r.mu.Unlock()
		time.Sleep(30 * time.Second) // 01:00:10
		r.mu.Lock()
		r.fail = false
		r.mu.Unlock()
		synctest.Wait()
		if got := w.take(); len(got) != 0 {
			t.Fatalf("rows without a boundary snapshot: %+v", got)
		}
		time.Sleep(15*time.Minute - 10*time.Second) // 01:15
		synctest.Wait()
		got = w.take()
		if len(got) != 1 || got[0].Start != t0.Add(40*time.Minute) || got[0].Seconds != 1800 || got[0].Answered != 1 {
			t.Fatalf("double interval = %+v", got)
		}

		// Stopping writes the partial interval, even when the router has
		// already stopped (the last peek stands in).
		r.set(func(st *routing.QueueStats) { st.Answered = 9 })
		time.Sleep(7 * time.Minute)
		r.mu.Lock()
		r.fail = true
		r.mu.Unlock()
		cancel()
		<-done
		got = w.take()
		if len(got) != 1 || got[0].Start != t0.Add(70*time.Minute) || got[0].Seconds != 420 || got[0].Answered != 2 {
			t.Fatalf("partial interval = %+v", got)
		}
	})
}

func TestRunQueueStatsStores(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := &fakeRouter{st: qs(0, 0, 0, 0, 0, 0, 0, 0, 1)}
	peeked := make(chan struct{}) // the baseline is taken: stop, and the last look makes the row
	snap := func(ctx context.Context) (routing.Snapshot, error) {
		s, err := r.snap(ctx)
		r.mu.Lock()
		n := r.calls
		r.mu.Unlock()
		if n == 1 { // the baseline
			r.set(func(st *routing.QueueStats) { st.Answered, st.Completed = 2, 1 })
			close(peeked)
		}
		return s, err
	}
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		runQueueStats(run, time.Hour, snap, db, slog.New(slog.DiscardHandler))
		close(done)
	}()
	select {
	case <-peeked:
	case <-time.After(time.Minute):
		t.Fatal("no baseline")
	}
	cancel()
	<-done
	rows, err := db.QueueHistory(ctx, "support", start.Add(-time.Second), time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Answered != 2 || rows[0].Completed != 1 || rows[0].ServiceLevelTimeSeconds != 20 {
		t.Fatalf("stored = %+v", rows)
	}
}

// The wiring app.go needs compiles: the center's snapshot serves both the
// sampler and the live routes, the database the history.
var _ = func(ctx context.Context, a *App, srv *api.Server) {
	srv.AddQueueRoutes(a.Center.RoutingSnapshot, queueHistory{a.DB})
	runQueueStats(ctx, 15*time.Minute, a.Center.RoutingSnapshot, a.DB, a.Log)
}
