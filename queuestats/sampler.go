// Package queuestats turns the ACD router's cumulative queue counters into
// stored interval rows (the queue history the API serves and reports add
// up).
//
// The router keeps cumulative per-queue counters since it started
// (routing.QueueStats). The sampler snapshots them at wall-clock interval
// boundaries (:00, :15, :30, :45 for 15 minutes) and stores the differences
// as one storage.QueueInterval per queue. Between boundaries it peeks every
// queueStatsPeek to catch the peaks (callers waiting, longest wait) that a
// cumulative counter cannot give.
//
// What the router exposes, and how each column follows from it:
//
//	answered, abandoned, exited, completed   differences of the counters
//	offered        Δanswered + Δabandoned + Δexited + Δ(waiting + ringing):
//	               a call enters the queue by Enqueue and leaves it only by
//	               connect (answered), abandon or exit, so this is exact
//	wait_seconds   Δ(ASA × answered), ASA being total wait / answered
//	handle_seconds Δ(AHT × completed) while completed > 0 (before that AHT
//	               is the configured ExpectedAHT, not a measurement); the
//	               router adds wrap-up when it ends, so a wrap-up that runs
//	               over a boundary counts in the later interval
//	answered_in_sl, missed_sl
//	               differences of the router's AnsweredInSL and MissedSL,
//	               the counts behind ServiceLevel = AnsweredInSL /
//	               (Answered + MissedSL) (MissedSL: abandons and exits
//	               after the service-level time), so they are exact
//	sl_estimated   always false: the router exposes the counts, so nothing
//	               is inferred. The column and the JSON field stay for
//	               compatibility (rows stored by earlier versions, which
//	               inferred the split from the ratio, may say true)
//
// A counter that goes backwards means the router restarted: the current
// cumulative values are then the interval's figures.
package queuestats

import (
	"context"
	"log/slog"
	"slices"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
)

// Snapshotter is the router's owner asked for a snapshot (the center's
// RoutingSnapshot).
type Snapshotter func(context.Context) (routing.Snapshot, error)

// Store is where the intervals go (storage.DB).
type Store interface {
	InsertQueueIntervals(ctx context.Context, rows []storage.QueueInterval) error
}

var _ Store = (*storage.DB)(nil)

// queueStatsPeek is the longest time between two looks at the queues.
const queueStatsPeek = 15 * time.Second

// maxPendingIntervals bounds the rows kept for a retry while the database
// fails (a day of 15-minute intervals for 10 queues).
const maxPendingIntervals = 96 * 10

// Run samples the router's queue statistics every interval and
// stores each queue's figures for the interval in db, until ctx ends; it
// then stores the partial interval and returns. Boundaries are multiples of
// every since the zero time in UTC (time.Truncate): :00/:15/:30/:45 for 15
// minutes, whole UTC hours for an hour. The first row after a start begins
// at the start, so it never shares its key with a row the previous process
// wrote for the same slot. A write that fails is retried with the next one.
// It starts no goroutine: run it in one, and close db only after it
// returns, as its last write follows ctx's end. End ctx before the
// router's owner (the center) stops, and wait for the return: the last
// interval comes from a final snapshot taken then (app.App's stop does so).
func Run(ctx context.Context, every time.Duration, snap Snapshotter, db Store, log *slog.Logger) {
	runQueueSampler(ctx, every, snap, db.InsertQueueIntervals, log)
}

// runQueueSampler is Run with the write as a function, for tests.
func runQueueSampler(ctx context.Context, every time.Duration, snap Snapshotter,
	write func(context.Context, []storage.QueueInterval) error, log *slog.Logger) {
	if every <= 0 {
		log.Error("queue statistics: not sampling: interval must be positive", "interval", every)
		return
	}
	peek := min(every, queueStatsPeek)
	s := newQueueSampler()
	var pending []storage.QueueInterval
	flush := func(ctx context.Context, rows []storage.QueueInterval) {
		pending = append(pending, rows...)
		if len(pending) == 0 {
			return
		}
		if err := write(ctx, pending); err != nil {
			// Rows are upserted by (queue, start): a retry is safe.
			if n := len(pending) - maxPendingIntervals; n > 0 {
				pending = slices.Delete(pending, 0, n)
				log.Error("queue statistics: dropped intervals the database did not take", "dropped", n)
			}
			log.Error("queue statistics: write", "intervals", len(pending), "err", err)
			return
		}
		pending = pending[:0]
	}

	// A router that cannot answer (not configured, stopping) is reported
	// once per spell, not at every peek.
	failing := false
	look := func(ctx context.Context) (routing.Snapshot, bool) {
		sn, err := snap(ctx)
		switch {
		case err == nil && failing:
			failing = false
			log.Info("queue statistics: snapshots again")
		case err != nil && !failing && ctx.Err() == nil:
			failing = true
			log.Warn("queue statistics: snapshot", "err", err)
		}
		return sn, err == nil
	}

	now := time.Now()
	boundary := now.Truncate(every).Add(every)
	if sn, ok := look(ctx); ok {
		s.baseline(sn, now)
	}
	t := time.NewTimer(min(peek, time.Until(boundary)))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The last look, with a moment of its own. The router should
			// still answer (app.App ends the sampler before the center);
			// if it stopped by itself, the last peek stands in.
			end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if sn, err := snap(end); err == nil {
				s.observe(sn)
			}
			flush(end, s.close(time.Now()))
			cancel()
			return
		case <-t.C:
		}
		now := time.Now()
		sn, ok := look(ctx)
		switch {
		case !ok:
		case !s.started():
			s.baseline(sn, now)
		case !now.Before(boundary):
			// A snapshot that failed at a boundary leaves the interval
			// open to the next one; its row says how long it covers.
			s.observe(sn)
			flush(ctx, s.close(boundary))
		default:
			s.observe(sn)
		}
		if !now.Before(boundary) {
			boundary = now.Truncate(every).Add(every)
		}
		t.Reset(max(0, min(peek, time.Until(boundary))))
	}
}

// queueSampler turns a sequence of router snapshots into interval rows. It
// is not safe for concurrent use.
type queueSampler struct {
	start time.Time // of the open interval; zero before the baseline
	prev  map[sb.QueueName]queueCum
	stats map[sb.QueueName]routing.QueueStats
	peaks map[sb.QueueName]queuePeak
	order []sb.QueueName // as the router lists them
}

type queuePeak struct {
	waiting     int
	longestWait time.Duration
}

func newQueueSampler() *queueSampler {
	return &queueSampler{prev: map[sb.QueueName]queueCum{},
		stats: map[sb.QueueName]routing.QueueStats{}, peaks: map[sb.QueueName]queuePeak{}}
}

func (s *queueSampler) started() bool { return !s.start.IsZero() }

// baseline takes the first snapshot: it opens an interval at now and
// yields no row (the counters before it belong to no interval of ours).
func (s *queueSampler) baseline(sn routing.Snapshot, now time.Time) {
	s.start = now
	s.observe(sn)
	for _, q := range s.order {
		_, s.prev[q] = queueDelta(queueCum{}, s.stats[q])
	}
}

// observe records a snapshot: the latest figures and the peaks.
func (s *queueSampler) observe(sn routing.Snapshot) {
	s.order = s.order[:0]
	for _, qs := range sn.Queues {
		st := qs.QueueStats
		s.order = append(s.order, st.Queue)
		s.stats[st.Queue] = st
		p := s.peaks[st.Queue]
		p.waiting = max(p.waiting, st.Waiting)
		p.longestWait = max(p.longestWait, st.LongestWait)
		s.peaks[st.Queue] = p
	}
}

// close ends the open interval at end and opens the next: one row per
// queue of the latest snapshot. Before the baseline it yields nothing.
func (s *queueSampler) close(end time.Time) []storage.QueueInterval {
	if !s.started() || !end.After(s.start) {
		return nil
	}
	var rows []storage.QueueInterval
	for _, q := range s.order {
		st := s.stats[q]
		row, next := queueDelta(s.prev[q], st)
		row.Start = s.start.UTC()
		row.Seconds = int(end.Sub(s.start).Round(time.Second) / time.Second)
		p := s.peaks[q]
		row.MaxWaiting = p.waiting
		row.MaxLongestWaitSeconds = p.longestWait.Seconds()
		rows = append(rows, row)
		s.prev[q] = next
		// The state at the boundary belongs to the next interval too.
		s.peaks[q] = queuePeak{waiting: st.Waiting, longestWait: st.LongestWait}
	}
	s.start = end
	return rows
}

// queueCum are a queue's cumulative figures as of one snapshot.
type queueCum struct {
	answered, abandoned, exited, completed int
	inSL, missedSL                         int           // the service level's numerator and misses
	inQueue                                int           // waiting + ringing
	wait, handle                           time.Duration // total wait of answered, handle of completed
}

// cumulativeOf reads the cumulative figures of a snapshot.
func cumulativeOf(st routing.QueueStats) queueCum {
	c := queueCum{answered: st.Answered, abandoned: st.Abandoned, exited: st.Exited, completed: st.Completed,
		inSL: st.AnsweredInSL, missedSL: st.MissedSL, inQueue: st.Waiting + st.Ringing}
	c.wait = st.ASA * time.Duration(st.Answered)
	if st.Completed > 0 { // before, AHT is the configured expectation
		c.handle = st.AHT * time.Duration(st.Completed)
	}
	return c
}

// queueDelta returns a queue's figures between the cumulative prev and the
// snapshot st (Start, Seconds and the peaks are the caller's), and st's
// cumulative figures to diff the next snapshot against. A counter below
// prev's means the router restarted: prev is taken as zero. The zero
// queueCum is a valid prev.
func queueDelta(prev queueCum, st routing.QueueStats) (storage.QueueInterval, queueCum) {
	cur := cumulativeOf(st)
	if cur.answered < prev.answered || cur.abandoned < prev.abandoned || cur.exited < prev.exited ||
		cur.completed < prev.completed || cur.inSL < prev.inSL || cur.missedSL < prev.missedSL {
		prev = queueCum{}
	}
	row := storage.QueueInterval{
		Queue:        st.Queue,
		Answered:     cur.answered - prev.answered,
		Abandoned:    cur.abandoned - prev.abandoned,
		Exited:       cur.exited - prev.exited,
		Completed:    cur.completed - prev.completed,
		AnsweredInSL: cur.inSL - prev.inSL,
		MissedSL:     cur.missedSL - prev.missedSL,
		// Always false since the router exposes the counts (nothing is
		// inferred from its ratio); the column and the JSON field stay
		// for compatibility.
		SLEstimated:             false,
		WaitSeconds:             roundMS(max(0, cur.wait-prev.wait)),
		HandleSeconds:           roundMS(max(0, cur.handle-prev.handle)),
		ServiceLevelTarget:      st.ServiceLevelTarget,
		ServiceLevelTimeSeconds: st.ServiceLevelTime.Seconds(),
	}
	row.Offered = max(0, row.Answered+row.Abandoned+row.Exited+cur.inQueue-prev.inQueue)
	return row, cur
}

func roundMS(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }
