package outbound

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/internal/handoff"
)

// Options configure a Runner.
type Options struct {
	Store  Store // *storage.DB
	Placer Placer
	Agents AgentSource
	// LiveChannels lists the PBX's channel ids now, for ReconcileDialing
	// at start.
	LiveChannels func(ctx context.Context) ([]string, error)
	// Globals reads the dialplan's records of campaign calls answered
	// while no Switchboard was connected (ReadUnattended); nil reads none.
	Globals Globals
	// Node names this controller in the call-log rows the runner writes
	// for such calls.
	Node string
	Now  func() time.Time // default time.Now
	Tick time.Duration    // pacing interval, default 1s
	// AfterFunc sets the pacing timer on the clock Now reads (f runs in a
	// goroutine of its own after d; stop cancels it); default
	// time.AfterFunc. A simulated clock paces in its own time.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Location is where the abandon ledger's clock hours and days are
	// counted (nil: UTC).
	Location *time.Location
	Log      *slog.Logger
}

// Tunables.
const (
	// refreshEvery is how often campaign settings and states are re-read,
	// so start/pause/stop from the CLI or the API take effect.
	refreshEvery = 3 * time.Second
	// previewHold is how long an agent may hold a preview lead before it
	// goes back.
	previewHold = 10 * time.Minute
	// stuckGrace is how long past its ring time a call with no answer and
	// no end still counts as ringing for pacing: a lost report must not
	// hold an agent's line for ever (the attempt stays open for the report
	// or the next start's reconciliation).
	stuckGrace = 2 * time.Minute
	// dialTimeout bounds one originate.
	dialTimeout = 30 * time.Second
	// drainTimeout bounds the last store writes at shutdown.
	drainTimeout = 10 * time.Second
	// maxQueued is the most reports waiting for the loop; more is an
	// overflow (logged, counted by Dropped).
	maxQueued = 1 << 16
)

// Runner dials the running campaigns. Create it with New and start Run.
type Runner struct {
	o      Options
	log    *slog.Logger
	manual bool // tests: no ticker, steps driven by the test

	queue *handoff.Queue[item] // reports, to the loop
	batch []item               // the loop's reusable Take buffer

	reqs    chan request
	up      chan struct{} // closed when the loop runs
	down    chan struct{} // closed when the loop stops taking requests
	started atomic.Bool
	paced   atomic.Bool    // Run has made its first pass (Running)
	dials   sync.WaitGroup // originates in progress

	// Owned by the loop goroutine.
	dialCtx    context.Context
	camps      map[string]*camp
	calls      map[int64]*call
	previews   map[int64]*preview
	reconciled bool
	refreshed  time.Time
	startedAt  time.Time
	logged     map[string]bool // runner-wide conditions logged once
}

// item is one queued report, or an originate's failure.
type item struct {
	ev      Event
	dialErr error // non-nil: Placer.Dial failed for ev.Attempt
}

type request struct {
	f    func()
	done chan struct{}
}

// New returns a runner; Run starts it.
func New(o Options) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		o:        o,
		log:      o.Log,
		queue:    handoff.New[item](maxQueued),
		reqs:     make(chan request),
		up:       make(chan struct{}),
		down:     make(chan struct{}),
		camps:    map[string]*camp{},
		calls:    map[int64]*call{},
		previews: map[int64]*preview{},
		logged:   map[string]bool{},
	}
}

// Run reconciles the attempts left open by the last run with the PBX's
// live channels, rebuilds each campaign's abandon ledger, then paces the
// running campaigns every Tick until ctx ends. It then waits for the
// originates in progress and records their results and the reports already
// queued; calls still up finish on the PBX and are reconciled at the next
// start. Run may be called once.
func (r *Runner) Run(ctx context.Context) error {
	var missing []string
	if r.o.Store == nil {
		missing = append(missing, "Store")
	}
	if r.o.Placer == nil {
		missing = append(missing, "Placer")
	}
	if r.o.Agents == nil {
		missing = append(missing, "Agents")
	}
	if r.o.LiveChannels == nil {
		missing = append(missing, "LiveChannels")
	}
	if len(missing) > 0 {
		return sb.Errorf(sb.EINVALID, "outbound: options missing: %v", missing)
	}
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("outbound: Run called twice")
	}
	r.dialCtx = context.WithoutCancel(ctx)
	r.startedAt = r.o.Now()
	close(r.up)

	var tick chan struct{}
	stop := func() bool { return false }
	arm := func() {
		stop = r.o.AfterFunc(r.o.Tick, func() {
			select {
			case tick <- struct{}{}:
			default:
			}
		})
	}
	if !r.manual {
		tick = make(chan struct{}, 1)
		r.step(ctx)
		arm()
	}
	r.paced.Store(true)
	defer func() { stop() }()
	for {
		select {
		case <-ctx.Done():
			close(r.down)
			r.dials.Wait()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
			r.drain(dctx)
			cancel()
			r.log.Info("outbound runner stopped", slog.Int("calls_in_flight", len(r.calls)))
			return nil
		case <-tick:
			r.drain(ctx)
			r.step(ctx)
			arm() // a tick after the step: paced in the clock's time, never piling up
		case <-r.queue.Ready():
			r.drain(ctx)
		case q := <-r.reqs:
			r.drain(ctx)
			q.f()
			close(q.done)
		}
	}
}

// Report hands the runner what happened to a placed call. It is safe from
// any goroutine and never waits for the runner: the event is queued.
func (r *Runner) Report(e Event) {
	r.post(item{ev: e})
}

// Dropped counts the reports lost because the queue was full.
func (r *Runner) Dropped() uint64 { return r.queue.Lost() }

// QueueDepth counts the reports waiting for the loop.
func (r *Runner) QueueDepth() int64 { return r.queue.Depth() }

func (r *Runner) post(it item) {
	if err := r.queue.Push(it); err != nil {
		r.log.Error("outbound report dropped: queue full", slog.Int64("attempt", it.ev.Attempt),
			slog.String("kind", it.ev.Kind.String()), slog.Uint64("dropped", r.queue.Lost()))
	}
}

// drain applies every queued report, in order.
func (r *Runner) drain(ctx context.Context) {
	for {
		r.batch = r.queue.Take(r.batch)
		if len(r.batch) == 0 {
			return
		}
		for _, it := range r.batch {
			r.handle(ctx, it)
		}
		r.queue.Done(len(r.batch))
		clear(r.batch)
	}
}

// errNotRunning answers requests made while the loop is not running.
var errNotRunning = sb.Errorf(sb.EUNAVAILABLE, "the outbound dialer is not running")

// do runs f on the loop goroutine, after the reports queued before it, and
// waits for it.
func (r *Runner) do(ctx context.Context, f func()) error {
	select {
	case <-r.up:
	default:
		return errNotRunning
	}
	q := request{f: f, done: make(chan struct{})}
	select {
	case r.reqs <- q:
	case <-r.down:
		return errNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	<-q.done
	return nil
}

// step is one pacing round: reconcile if not done yet, re-read the
// campaigns when due, let lapsed previews go and pace every running
// campaign.
func (r *Runner) step(ctx context.Context) {
	now := r.o.Now()
	if !r.reconciled {
		if err := r.reconcile(ctx, now); err != nil {
			r.logOnce("reconcile", slog.LevelError, "outbound: reconcile failed: not dialing until it succeeds", slog.String("err", err.Error()))
			return
		}
		r.logged["reconcile"] = false
	}
	if r.refreshed.IsZero() || now.Sub(r.refreshed) >= refreshEvery {
		r.refresh(ctx, now)
	}
	r.expirePreviews(ctx, now)
	for _, name := range slices.Sorted(maps.Keys(r.camps)) {
		r.pace(ctx, r.camps[name], now)
	}
}

// reconcile closes the attempts the last run left open whose channel is
// gone, and adopts the calls still up so their reports are applied.
func (r *Runner) reconcile(ctx context.Context, now time.Time) error {
	live, err := r.o.LiveChannels(ctx)
	if err != nil {
		return err
	}
	unattended, err := r.unattended(ctx, live)
	if err != nil {
		return err
	}
	res, err := r.o.Store.ReconcileDialing(ctx, live, unattended, r.o.Node, now)
	if err != nil {
		return err
	}
	for _, a := range res.Unattended {
		r.log.Info("outbound: a call answered while Switchboard was down closed from the dialplan's record",
			slog.Int64("attempt", a.ID), slog.String("campaign", a.Campaign), slog.String("outcome", string(a.Outcome)))
		r.forgetUnattended(ctx, a.ID)
	}
	open, err := r.o.Store.OpenAttempts(ctx)
	if err != nil {
		return err
	}
	for _, a := range open {
		if a.State == sb.AttemptClaimed || r.calls[a.ID] != nil {
			continue
		}
		c := &call{attempt: a.ID, campaign: a.Campaign, dialed: a.Started, adopted: true}
		if a.State == sb.AttemptAnswered {
			// When it was answered is not stored: its fate is recorded
			// when it ends, and it does not count as waiting for an agent.
			c.answered, c.connected, c.answeredAt = true, true, a.Started
		}
		r.calls[a.ID] = c
	}
	r.reconciled = true
	r.log.Info("outbound: reconciled with the PBX", slog.Int("live", res.Live), slog.Int("failed", len(res.Failed)),
		slog.Int("returned", len(res.Returned)), slog.Int("orphans", res.Orphans), slog.Int("unattended", len(res.Unattended)),
		slog.Int("adopted", len(r.calls)))
	return nil
}

// unattended reads the dialplan's record of every open attempt that was
// placed, reached no agent, and whose call is gone: answered while no
// Switchboard was connected, it is abandoned (or a machine), not a no
// answer.
func (r *Runner) unattended(ctx context.Context, live []string) (map[int64]sb.Unattended, error) {
	if r.o.Globals == nil {
		return nil, nil
	}
	open, err := r.o.Store.OpenAttempts(ctx)
	if err != nil {
		return nil, err
	}
	up := make(map[string]bool, len(live))
	for _, ch := range live {
		up[ch] = true
	}
	out := map[int64]sb.Unattended{}
	for _, a := range open {
		if a.State == sb.AttemptClaimed || a.ChannelID == "" || up[a.ChannelID] || !a.Connected.IsZero() {
			continue
		}
		u, ok, err := ReadUnattended(ctx, r.o.Globals, a.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out[a.ID] = u
		}
	}
	return out, nil
}

// forgetUnattended clears an attempt's record once it is closed; a record
// left behind only costs a look-up if the attempt were open again.
func (r *Runner) forgetUnattended(ctx context.Context, attempt int64) {
	if r.o.Globals == nil {
		return
	}
	if err := ForgetUnattended(ctx, r.o.Globals, attempt); err != nil {
		r.log.Warn("outbound: clearing the dialplan's record of an unattended call failed", slog.Int64("attempt", attempt), slog.String("err", err.Error()))
	}
}

// ready reconciles if that has not been done yet: no lead is claimed
// before the last run's attempts are settled.
func (r *Runner) ready(ctx context.Context) error {
	if r.reconciled {
		return nil
	}
	if err := r.reconcile(ctx, r.o.Now()); err != nil {
		return &sb.Error{Code: sb.EUNAVAILABLE, Message: "the outbound dialer has not reconciled with the PBX yet", Err: err}
	}
	return nil
}

// refresh re-reads every campaign's settings and state.
func (r *Runner) refresh(ctx context.Context, now time.Time) {
	list, err := r.o.Store.Campaigns(ctx)
	if err != nil {
		r.logOnce("refresh", slog.LevelError, "outbound: reading campaigns failed", slog.String("err", err.Error()))
		return
	}
	r.logged["refresh"] = false
	r.refreshed = now
	for _, c := range list {
		r.campFor(ctx, c, now)
	}
}

// campFor returns the campaign's live state, created (ledger rebuilt) on
// first sight, with its settings updated to c.
func (r *Runner) campFor(ctx context.Context, c sb.Campaign, now time.Time) *camp {
	cp := r.camps[c.Name]
	if cp == nil {
		cp = newCamp(c)
		r.camps[c.Name] = cp
		r.log.Info("outbound: campaign", slog.String("campaign", c.Name), slog.String("mode", string(c.Mode)), slog.String("state", string(c.State)))
	} else if cp.c.State != c.State {
		r.log.Info("outbound: campaign state", slog.String("campaign", c.Name), slog.String("from", string(cp.c.State)), slog.String("to", string(c.State)))
	}
	cp.update(c, r.o.Location)
	if !cp.ledgerReady {
		if err := r.rebuildLedger(ctx, cp, now); err != nil {
			cp.logOnce(r.log, "ledger", slog.LevelError, "outbound: rebuilding the abandon ledger failed: not dialing until it succeeds", slog.String("err", err.Error()))
		}
	}
	return cp
}

// rebuildLedger fills a campaign's abandon ledger from the attempts that
// ended within its abandon window.
func (r *Runner) rebuildLedger(ctx context.Context, cp *camp, now time.Time) error {
	answers, err := r.o.Store.LiveAnswers(ctx, cp.c.Name, now.Add(-cp.c.AbandonWindow))
	if err != nil {
		return err
	}
	for _, a := range answers {
		cp.ledger.Record(a.At, a.Abandoned)
	}
	cp.ledgerReady = true
	cp.logged["ledger"] = false
	w := cp.ledger.Windows(now)
	r.log.Info("outbound: abandon ledger rebuilt", slog.String("campaign", cp.c.Name),
		slog.Int("live", w.Rolling.Live), slog.Int("abandoned", w.Rolling.Abandoned), slog.Int("live_today", w.Day.Live), slog.Int("abandoned_today", w.Day.Abandoned))
	return nil
}

// logOnce logs a runner-wide condition the first time it is seen after
// being clear.
func (r *Runner) logOnce(key string, level slog.Level, msg string, attrs ...slog.Attr) {
	if r.logged[key] {
		return
	}
	r.logged[key] = true
	r.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// Running reports whether Run has made its first pass over the campaigns
// (what is stored from then on is seen at the next re-read).
func (r *Runner) Running() bool { return r.paced.Load() }
