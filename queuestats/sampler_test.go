package queuestats

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
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
)

// qs builds a queue's cumulative figures the way the router reports them:
// averages, not sums, and the service level with the counts behind it.
func qs(answered, abandoned, exited, completed, waiting, ringing int, waitTotal, handleTotal time.Duration,
	inSL, missedSL int) routing.QueueStats {
	st := routing.QueueStats{Queue: "support", Answered: answered, Abandoned: abandoned, Exited: exited, Completed: completed,
		Waiting: waiting, Ringing: ringing, AnsweredInSL: inSL, MissedSL: missedSL,
		ServiceLevel: 1, ServiceLevelTarget: 0.8, ServiceLevelTime: 20 * time.Second,
		AHT: 5 * time.Minute} // the configured expectation until a call completes
	if n := answered + missedSL; n > 0 {
		st.ServiceLevel = float64(inSL) / float64(n)
	}
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
	cases := []struct {
		name string
		prev queueCum
		st   routing.QueueStats
		want storage.QueueInterval
	}{
		{
			name: "from nothing",
			// 4 answered, all in time, + 1 quick abandon (counts nowhere
			// in the service level) + 3 still in the queue.
			st: qs(4, 1, 0, 3, 2, 1, 40*s, 900*s, 4, 0),
			want: storage.QueueInterval{Offered: 8, Answered: 4, AnsweredInSL: 4, Abandoned: 1, Completed: 3,
				WaitSeconds: 40, HandleSeconds: 900},
		},
		{
			name: "difference",
			prev: queueCum{answered: 4, abandoned: 1, completed: 3, inQueue: 3, wait: 40 * s, handle: 900 * s, inSL: 4},
			// 2 more answered, one of them late.
			st: qs(6, 1, 0, 5, 0, 0, 100*s, 1500*s, 5, 0),
			// None left the queue otherwise, the queue went from 3 to 0: none entered.
			want: storage.QueueInterval{Offered: 0, Answered: 2, AnsweredInSL: 1, Completed: 2, WaitSeconds: 60, HandleSeconds: 600},
		},
		{
			name: "entries while waiting",
			prev: queueCum{answered: 6, completed: 5, inQueue: 0, wait: 100 * s, handle: 1500 * s, inSL: 5},
			st:   qs(6, 0, 0, 5, 7, 0, 100*s, 1500*s, 5, 0),
			want: storage.QueueInterval{Offered: 7, HandleSeconds: 0},
		},
		{
			name: "late abandons and exits miss the service level, quick ones count nowhere",
			prev: queueCum{answered: 10, abandoned: 2, completed: 10, wait: 50 * s, handle: 3000 * s, inSL: 8, missedSL: 1},
			// 2 answered (1 in time), 3 abandons (1 late), 1 exit (late).
			st: qs(12, 5, 1, 11, 0, 0, 80*s, 3300*s, 9, 3),
			want: storage.QueueInterval{Offered: 6, Answered: 2, AnsweredInSL: 1, MissedSL: 2, Abandoned: 3, Exited: 1,
				Completed: 1, WaitSeconds: 30, HandleSeconds: 300},
		},
		{
			name: "restart: a counter went backwards",
			prev: queueCum{answered: 60, abandoned: 9, completed: 58, inQueue: 4, wait: 900 * s, handle: 9000 * s, inSL: 50, missedSL: 3},
			st:   qs(2, 0, 1, 1, 1, 0, 10*s, 200*s, 2, 1),
			want: storage.QueueInterval{Offered: 4, Answered: 2, AnsweredInSL: 2, MissedSL: 1, Exited: 1, Completed: 1,
				WaitSeconds: 10, HandleSeconds: 200},
		},
		{
			name: "restart seen only in the service-level counts",
			// More answered since the restart than before it, but fewer
			// in time: the counters are the restarted router's.
			prev: queueCum{answered: 2, completed: 2, wait: 10 * s, handle: 400 * s, inSL: 2},
			st:   qs(3, 0, 0, 2, 0, 0, 90*s, 500*s, 1, 0),
			want: storage.QueueInterval{Offered: 3, Answered: 3, AnsweredInSL: 1, Completed: 2, WaitSeconds: 90, HandleSeconds: 500},
		},
		{
			name: "no completion yet: AHT is the expectation, not a measurement",
			st:   qs(1, 0, 0, 0, 0, 0, 3*s, 0, 1, 0),
			want: storage.QueueInterval{Offered: 1, Answered: 1, AnsweredInSL: 1, WaitSeconds: 3},
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

// TestQueueDeltaIntervals chains queueDelta the way the sampler does, over
// intervals with a router restart: each row has the interval's service-level
// counts, never estimated, and the rows since the restart add up to the
// router's service level.
func TestQueueDeltaIntervals(t *testing.T) {
	snaps := []routing.QueueStats{
		qs(3, 1, 0, 3, 0, 0, 0, 0, 3, 0), // baseline
		qs(7, 2, 0, 7, 0, 0, 0, 0, 5, 1), // 4 answered (2 in time), 1 late abandon
		qs(9, 4, 1, 9, 0, 0, 0, 0, 7, 2), // 2 answered in time, 2 abandons (1 late), 1 quick exit
		qs(1, 1, 0, 1, 0, 0, 0, 0, 0, 1), // restart: 1 answered late, 1 late abandon
		qs(4, 1, 2, 4, 0, 0, 0, 0, 3, 3), // 3 answered in time, 2 late exits
		qs(4, 1, 2, 4, 0, 0, 0, 0, 3, 3), // nothing happened
		qs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), // restart with nothing since
		qs(2, 0, 0, 2, 0, 0, 0, 0, 2, 0), // 2 answered in time
	}
	type sl struct{ answered, inSL, missed int }
	want := []sl{{4, 2, 1}, {2, 2, 1}, {1, 0, 1}, {3, 3, 2}, {0, 0, 0}, {0, 0, 0}, {2, 2, 0}}
	first, prev := queueDelta(queueCum{}, snaps[0]) // the router's figures before the first interval
	var got []sl
	sum := sl{first.Answered, first.AnsweredInSL, first.MissedSL}
	for i, st := range snaps[1:] {
		row, next := queueDelta(prev, st)
		prev = next
		if row.SLEstimated {
			t.Errorf("interval %d: estimated", i)
		}
		got = append(got, sl{row.Answered, row.AnsweredInSL, row.MissedSL})
		if i == 2 || i == 5 { // a restart
			sum = sl{}
		}
		sum = sl{sum.answered + row.Answered, sum.inSL + row.AnsweredInSL, sum.missed + row.MissedSL}
		if n := sum.answered + sum.missed; n > 0 && float64(sum.inSL)/float64(n) != st.ServiceLevel {
			t.Errorf("interval %d: rows since the restart give %d/%d, the router %v", i, sum.inSL, n, st.ServiceLevel)
		}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(sl{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
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
		st := qs(answered, 0, 0, 0, waiting, 0, 0, 0, answered, 0)
		st.Queue, st.LongestWait = "sales", longest
		return st
	}
	s.baseline(snapshot(qs(10, 0, 0, 10, 1, 0, 0, 0, 9, 0), sales(0, 0, 0)), t0)
	s.observe(snapshot(qs(11, 0, 0, 10, 6, 0, 0, 0, 10, 0), sales(1, 2, 50*time.Second)))
	s.observe(snapshot(qs(13, 0, 0, 11, 2, 0, 0, 0, 11, 0), sales(2, 1, 30*time.Second)))
	rows := s.close(t0.Add(10 * time.Minute))
	if len(rows) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	sup, sal := rows[0], rows[1]
	if !sup.Start.Equal(t0) || sup.Start.Location() != time.UTC || sup.Seconds != 600 {
		t.Errorf("interval %s + %d s", sup.Start, sup.Seconds)
	}
	if sup.Answered != 3 || sup.AnsweredInSL != 2 || sup.SLEstimated || sup.Completed != 1 || sup.Offered != 4 || sup.MaxWaiting != 6 {
		t.Errorf("support = %+v", sup)
	}
	if sal.Queue != "sales" || sal.Answered != 2 || sal.MaxWaiting != 2 || sal.MaxLongestWaitSeconds != 50 {
		t.Errorf("sales = %+v", sal)
	}

	// The next interval starts where that one ended, with the boundary's
	// state as its first peak.
	s.observe(snapshot(qs(13, 0, 0, 11, 0, 0, 0, 0, 11, 0), sales(2, 0, 0)))
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
		r := &fakeRouter{st: qs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)}
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
	r := &fakeRouter{st: qs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)}
	peeked := make(chan struct{}) // the baseline is taken: stop, and the last look makes the row
	snap := func(ctx context.Context) (routing.Snapshot, error) {
		s, err := r.snap(ctx)
		r.mu.Lock()
		n := r.calls
		r.mu.Unlock()
		if n == 1 { // the baseline
			r.set(func(st *routing.QueueStats) {
				st.Answered, st.Completed, st.Abandoned = 2, 1, 1
				st.AnsweredInSL, st.MissedSL, st.ServiceLevel = 1, 1, 0.5
			})
			close(peeked)
		}
		return s, err
	}
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		Run(run, time.Hour, snap, db, slog.New(slog.DiscardHandler))
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
	if len(rows) != 1 || rows[0].Answered != 2 || rows[0].Completed != 1 || rows[0].AnsweredInSL != 1 ||
		rows[0].MissedSL != 1 || rows[0].SLEstimated || rows[0].ServiceLevelTimeSeconds != 20 {
		t.Fatalf("stored = %+v", rows)
	}
}
