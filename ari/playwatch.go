package ari

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	sb "github.com/switchboard/switchboard"
)

// The playback watchdog. Asterisk answers 201 to a play whose media it
// cannot play (an unsupported URI scheme), sends PlaybackStarted, drops the
// playback and never sends PlaybackFinished; a PlaybackFinished can also be
// lost with the link. Whoever waits for the end of a greeting or a prompt
// would wait for ever. So every playback started through Play or PlayBridge
// is watched until its PlaybackFinished arrives: PlaybackCheckInterval
// after it started, and then every interval, the watchdog asks Asterisk
// (GET /playbacks/{id}). A 404 marks it gone; a second 404, one grace
// (interval/5) later with still no PlaybackFinished, makes the adapter put a
// PlaybackFinished{State: "failed"} of its own into the event queue. The
// grace is there because Asterisk forgets a playback as it publishes its
// PlaybackFinished, so the first 404 can overtake the real event on its
// way over the WebSocket.
//
// The real and the made-up event for one playback never both reach the
// consumer: both are queued under the watchdog's lock; a real one cancels
// the watch, and a real one that comes after the adapter reported the
// playback lost is dropped (counted in Stats.LatePlaybacksDropped).
//
// States of a watch: pending (the play request is in flight: not checked,
// a check would find nothing yet) → armed (checked when due) → gone (the
// last check answered 404; checked again after the grace) → ended, by a real
// PlaybackFinished (any state), by a second 404 (reported lost), by the play
// request failing (never watched), or when Run returns.

// clock is the watchdog's time source; tests use a fake one.
type clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once d has passed, and a
	// function that stops the timer.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Watchdog tuning.
const (
	// playCheckParallel bounds the GET /playbacks requests of one round.
	playCheckParallel = 8
	// reportedRetention is how long a playback reported lost is
	// remembered, so that its late real PlaybackFinished is dropped.
	reportedRetention = 10 * time.Minute
)

// playWatch is one playback the adapter started that has not finished.
type playWatch struct {
	target string    // "channel:ID" or "bridge:ID"
	gen    uint64    // tells a later play with the same id from this one
	armed  bool      // the play request succeeded: checks may begin
	gone   bool      // the last check answered 404
	due    time.Time // next check, when armed
}

// playWatchdog holds the watches. Its lock also orders the queueing of
// PlaybackFinished events, real and made up.
type playWatchdog struct {
	interval, grace time.Duration

	mu       sync.Mutex
	live     map[sb.PlaybackID]*playWatch
	reported map[sb.PlaybackID]time.Time // reported lost, at
	gen      uint64
	closed   bool

	wake chan struct{} // capacity 1: a watch was armed or a recheck asked

	lost, late atomic.Uint64
	watched    atomic.Int64
}

func newPlayWatchdog(interval time.Duration) *playWatchdog {
	return &playWatchdog{
		interval: interval, grace: max(interval/5, time.Millisecond),
		live: map[sb.PlaybackID]*playWatch{}, reported: map[sb.PlaybackID]time.Time{},
		wake: make(chan struct{}, 1),
	}
}

func (w *playWatchdog) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// watchPlayback registers a playback about to be requested and returns the
// function that settles it with the request's result: watched from then on
// when err is nil, forgotten otherwise (a playback the PBX refused never
// sends events). An id still watched (Asterisk refuses a second playback
// with it) is left as it is.
func (a *Adapter) watchPlayback(id sb.PlaybackID, target string) func(err error) {
	w := a.pw
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.live[id] != nil {
		return func(error) {}
	}
	// The newest playback owns the id: a late PlaybackFinished of an
	// earlier one reported lost now passes as this one's.
	delete(w.reported, id)
	w.gen++
	pw := &playWatch{target: target, gen: w.gen}
	w.live[id] = pw
	w.watched.Add(1)
	return func(err error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.live[id] != pw {
			return // finished already (a fast PlaybackFinished), or closed
		}
		if err != nil {
			delete(w.live, id)
			w.watched.Add(-1)
			return
		}
		pw.armed = true
		pw.due = a.clk.Now().Add(w.interval)
		w.poke()
	}
}

// enqueuePBX queues an event read from Asterisk. A PlaybackFinished ends its
// watch, or is dropped when the adapter has reported that playback lost.
func (a *Adapter) enqueuePBX(e sb.Event) {
	pf, ok := e.(sb.PlaybackFinished)
	if !ok {
		a.enqueue(e)
		return
	}
	w := a.pw
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, was := w.reported[pf.Playback]; was {
		delete(w.reported, pf.Playback)
		w.late.Add(1)
		a.log.Info("late PlaybackFinished dropped: the playback was already reported lost",
			"playback_id", string(pf.Playback), "target", pf.Target, "state", pf.State)
		return
	}
	if w.live[pf.Playback] != nil {
		delete(w.live, pf.Playback)
		w.watched.Add(-1)
	}
	a.enqueue(e)
}

// recheckPlaybacks makes every armed watch due now: after a reconnect a
// PlaybackFinished may have been lost with the link.
func (a *Adapter) recheckPlaybacks() {
	w := a.pw
	w.mu.Lock()
	defer w.mu.Unlock()
	now := a.clk.Now()
	n := 0
	for _, pw := range w.live {
		if pw.armed {
			pw.due = now
			n++
		}
	}
	if n > 0 {
		w.poke()
	}
}

// closePlaybacks ends every watch; later plays are not watched.
func (a *Adapter) closePlaybacks() {
	w := a.pw
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	clear(w.live)
	clear(w.reported)
	w.watched.Store(0)
}

// playCheck is one due check: the watch it was taken from, by generation.
type playCheck struct {
	id  sb.PlaybackID
	gen uint64
	err error // the answer to GET /playbacks/{id}
}

// due returns the checks due at now, and how long until the next one is
// due (-1: none). It also forgets playbacks reported lost long ago.
func (w *playWatchdog) due(now time.Time) ([]playCheck, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, at := range w.reported {
		if now.Sub(at) >= reportedRetention {
			delete(w.reported, id)
		}
	}
	var checks []playCheck
	wait := time.Duration(-1)
	for id, pw := range w.live {
		if !pw.armed {
			continue
		}
		if d := pw.due.Sub(now); d > 0 {
			if wait < 0 || d < wait {
				wait = d
			}
			continue
		}
		checks = append(checks, playCheck{id: id, gen: pw.gen})
	}
	return checks, wait
}

// watchPlaybacks is the watchdog's goroutine: it checks the watches as they
// fall due, until quit.
func (a *Adapter) watchPlaybacks(ctx context.Context, quit <-chan struct{}) {
	w := a.pw
	for {
		checks, wait := w.due(a.clk.Now())
		if len(checks) > 0 {
			a.checkPlaybacks(ctx, checks)
			a.settleChecks(checks)
			continue
		}
		var tc <-chan time.Time
		stop := func() bool { return false }
		if wait >= 0 {
			tc, stop = a.clk.NewTimer(wait)
		}
		select {
		case <-quit:
			stop()
			return
		case <-w.wake:
		case <-tc:
		}
		stop()
	}
}

// checkPlaybacks asks Asterisk about each playback, a few at a time.
func (a *Adapter) checkPlaybacks(ctx context.Context, checks []playCheck) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, playCheckParallel)
	for i := range checks {
		sem <- struct{}{}
		a.goroutine(&wg, func() {
			defer func() { <-sem }()
			c := &checks[i]
			c.err = a.rest(ctx, "get_playback", rGetPlayback, rGetPlayback.path(string(c.id)), nil, nil, nil)
		})
	}
	wg.Wait()
}

// settleChecks applies the answers: a playback found is checked again an
// interval later; one not found twice in a row, a grace apart, is reported
// lost (unless its PlaybackFinished came meanwhile, which ended the watch);
// a failed check is tried again an interval later.
func (a *Adapter) settleChecks(checks []playCheck) {
	w := a.pw
	w.mu.Lock()
	defer w.mu.Unlock()
	now := a.clk.Now()
	for _, c := range checks {
		pw := w.live[c.id]
		if pw == nil || pw.gen != c.gen {
			continue
		}
		switch code := sb.ErrorCode(c.err); {
		case code == "":
			pw.gone, pw.due = false, now.Add(w.interval)
		case code == sb.ENOTFOUND && !pw.gone:
			pw.gone, pw.due = true, now.Add(w.grace)
		case code == sb.ENOTFOUND:
			delete(w.live, c.id)
			w.watched.Add(-1)
			w.reported[c.id] = now
			w.lost.Add(1)
			a.log.Warn("playback lost: Asterisk no longer has it and sent no PlaybackFinished (media it cannot play, or an event lost with the link); reporting it failed",
				"playback_id", string(c.id), "target", pw.target)
			a.enqueue(sb.PlaybackFinished{
				EventHeader: sb.EventHeader{Type: "PlaybackFinished", Node: a.Node(), Time: now},
				Playback:    c.id, Target: pw.target, State: "failed",
			})
		default:
			a.log.Debug("playback check failed; trying again", "playback_id", string(c.id), "err", c.err)
			pw.due = now.Add(w.interval)
		}
	}
}
