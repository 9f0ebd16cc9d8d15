package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/dialer"
)

// Measurement windows of CampaignStats.
const (
	dialRateWindow  = 5 * time.Minute
	answerWindow    = time.Hour
	occupancyWindow = 15 * time.Minute
)

// call is one placed call the runner waits to hear about.
type call struct {
	attempt    int64
	campaign   string
	dialed     time.Time
	answered   bool
	answeredAt time.Time
	connected  bool
	connectAt  time.Time
	agent      sb.AgentID
	fated      bool // its live answer is in the ledger
	adopted    bool // placed by an earlier run
	stuck      bool // left out of pacing: no report long past its ring time
}

// camp is one campaign's live state, owned by the loop.
type camp struct {
	c           sb.Campaign
	base        dialer.Pacer // the mode's pacer, kept between decisions
	stats       *dialer.Stats
	ledger      *dialer.Ledger
	ledgerDays  int
	ledgerReady bool
	throttled   string // why the campaign paces progressively now, "" if not
	pacerName   string // the pacer of the last decision
	logged      map[string]bool

	// measurements for CampaignStats
	dials    []time.Time  // placed, last dialRateWindow
	ended    []completion // attempts ended, last answerWindow
	samples  []sample     // agent samples, last occupancyWindow
	agents   int          // at the last sample
	wrapPrev map[int64]int
	wrapAt   time.Time
	totals   struct{ dialed, answered, abandoned, machines int }
}

type completion struct {
	at   time.Time
	live bool
}

type sample struct {
	at             time.Time
	talking, total int
}

func newCamp(c sb.Campaign) *camp {
	return &camp{c: c, stats: dialer.NewStats(), logged: map[string]bool{}}
}

// ledgerDaysFor is the rolling window of a campaign's ledger in days.
func ledgerDaysFor(c sb.Campaign) int {
	return max(1, int(math.Ceil(c.AbandonWindow.Hours()/24)))
}

// update applies new settings: a pacer is made again when the mode, the
// ratio or the cap changed; the ledger is rebuilt when its window changed.
func (cp *camp) update(c sb.Campaign, loc *time.Location) {
	old := cp.c
	cp.c = c
	if cp.base == nil || old.Mode != c.Mode || old.Ratio != c.Ratio || old.AbandonCap != c.AbandonCap {
		switch c.Mode {
		case sb.ProgressiveDialing:
			cp.base = dialer.Progressive{}
		case sb.PowerDialing:
			cp.base = dialer.Power{Ratio: c.Ratio}
		case sb.PredictiveDialing:
			cp.base = dialer.NewPredictive(c.AbandonCap)
		default: // preview: agents dial
			cp.base = nil
		}
	}
	if d := ledgerDaysFor(c); cp.ledger == nil || d != cp.ledgerDays {
		cp.ledger, cp.ledgerDays, cp.ledgerReady = dialer.NewLedger(loc, d), d, false
	}
}

// pacer is the pacer to ask now. A power or predictive campaign whose
// day's abandon rate is at or over its daily cap, or whose rolling
// window's is at or over its cap, paces progressively (one line per ready
// agent, which never abandons) until the rate is under again: stopping
// instead would freeze the rate over the cap, since only live answers
// bring it down. The predictive pacer plans under AbandonCap itself; this
// also holds it to a lower daily cap. A change is logged once.
func (cp *camp) pacer(w dialer.Windows, log *slog.Logger) dialer.Pacer {
	why := ""
	if cp.c.Mode == sb.PowerDialing || cp.c.Mode == sb.PredictiveDialing {
		// Power dialing is held to the cap once it reaches it. A
		// predictive campaign goes further: one more abandon must not take
		// a window over its cap, so until enough people have been answered
		// (about 1/cap of them), and again after each abandon that leaves
		// no room, it dials progressively.
		over := atOrOver
		if cp.c.Mode == sb.PredictiveDialing {
			over = nextOver
		}
		switch {
		case over(w.Day, cp.c.DailyAbandonCap):
			why = fmt.Sprintf("today's abandons (%d of %d answered) leave no room under the daily cap %.2f%%",
				w.Day.Abandoned, w.Day.Live, 100*cp.c.DailyAbandonCap)
		case over(w.Rolling, cp.c.AbandonCap):
			why = fmt.Sprintf("the abandons over %s (%d of %d answered) leave no room under the cap %.2f%%",
				cp.c.AbandonWindow, w.Rolling.Abandoned, w.Rolling.Live, 100*cp.c.AbandonCap)
		}
	}
	if why != "" && cp.throttled == "" {
		log.Info("outbound: abandon cap near: dialing progressively until there is room under it",
			slog.String("campaign", cp.c.Name), slog.String("why", why))
	} else if why == "" && cp.throttled != "" {
		log.Info("outbound: room under the abandon cap again: pacing by mode", slog.String("campaign", cp.c.Name), slog.String("mode", string(cp.c.Mode)))
	}
	cp.throttled = why
	if why != "" {
		return dialer.Progressive{}
	}
	return cp.base
}

// nextOver says whether one more abandoned call would put the window's
// rate over limit.
func nextOver(c dialer.Counts, limit float64) bool {
	return float64(c.Abandoned+1) > limit*float64(c.Live+1)
}

// atOrOver says whether the window's rate is at or over limit.
func atOrOver(c dialer.Counts, limit float64) bool {
	return c.Abandoned > 0 && c.Rate() >= limit
}

// sample records the agents working the campaign now: occupancy, and the
// wrap-ups that ended since the last sample. Agents carry no id, so a
// wrap-up is known by its start (Since): one seen at the last sample and
// gone now ended between the two, and its length is taken at the midpoint.
func (cp *camp) sample(agents []dialer.Agent, tick time.Duration, at time.Time) {
	talking := 0
	wraps := map[int64]int{}
	for _, a := range agents {
		switch a.Status {
		case dialer.AgentTalking:
			talking++
		case dialer.AgentWrapUp:
			wraps[a.Since.UnixNano()]++
		}
	}
	if cp.wrapPrev != nil && at.Sub(cp.wrapAt) <= 3*tick {
		mid := cp.wrapAt.Add(at.Sub(cp.wrapAt) / 2)
		for since, n := range cp.wrapPrev {
			for range n - wraps[since] {
				if d := mid.Sub(time.Unix(0, since)); d > 0 {
					cp.stats.ObserveWrap(d)
				}
			}
		}
	}
	cp.wrapPrev, cp.wrapAt = wraps, at
	cp.agents = len(agents)
	cp.samples = append(cp.samples, sample{at: at, talking: talking, total: len(agents)})
	cp.prune(at)
}

// prune drops measurements older than their windows.
func (cp *camp) prune(now time.Time) {
	cut := func(n int, at func(int) time.Time, window time.Duration) int {
		i := 0
		for i < n && now.Sub(at(i)) > window {
			i++
		}
		return i
	}
	cp.dials = cp.dials[cut(len(cp.dials), func(i int) time.Time { return cp.dials[i] }, dialRateWindow):]
	cp.ended = cp.ended[cut(len(cp.ended), func(i int) time.Time { return cp.ended[i].at }, answerWindow):]
	cp.samples = cp.samples[cut(len(cp.samples), func(i int) time.Time { return cp.samples[i].at }, occupancyWindow):]
}

func (cp *camp) logOnce(log *slog.Logger, key string, level slog.Level, msg string, attrs ...slog.Attr) {
	if cp.logged[key] {
		return
	}
	cp.logged[key] = true
	log.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("campaign", cp.c.Name))...)
}

// maxInFlight caps the lines ringing at once: MaxRatio per agent working
// the campaign (ready or about to be).
func maxInFlight(c sb.Campaign, agents int) int {
	if agents == 0 {
		return 0
	}
	return max(1, int(math.Floor(c.MaxRatio*float64(agents))))
}

// pace asks a running campaign's pacer how many lines to dial and dials
// them.
func (r *Runner) pace(ctx context.Context, cp *camp, now time.Time) {
	c := cp.c
	cp.pacerName = ""
	if c.State == sb.CampaignStopped {
		return
	}
	if c.Queue == "" {
		cp.logOnce(r.log, "queue", slog.LevelWarn, "outbound: campaign has no queue: no agents to dial for")
		return
	}
	cp.logged["queue"] = false
	agents, err := r.o.Agents(ctx, c.Queue)
	if err != nil {
		cp.logOnce(r.log, "agents", slog.LevelError, "outbound: reading the queue's agents failed", slog.String("queue", c.Queue), slog.String("err", err.Error()))
		return
	}
	cp.logged["agents"] = false
	cp.sample(agents, r.o.Tick, now)
	if c.State != sb.CampaignRunning || cp.base == nil || !cp.ledgerReady {
		return // paused, preview (agents dial), or no ledger yet
	}
	st := dialer.PacerState{
		Agents:      agents,
		MaxInFlight: maxInFlight(c, len(agents)),
		Stats:       cp.stats,
		Abandons:    cp.ledger.Windows(now),
	}
	for _, id := range slices.Sorted(maps.Keys(r.calls)) {
		k := r.calls[id]
		switch {
		case k.campaign != c.Name:
		case !k.answered:
			if now.Sub(k.dialed) > c.RingTime+stuckGrace {
				if !k.stuck {
					k.stuck = true
					r.log.Warn("outbound: no report for a call long past its ring time: no longer paced as ringing",
						slog.String("campaign", c.Name), slog.Int64("attempt", id), slog.Time("dialed", k.dialed))
				}
				continue
			}
			st.Ringing = append(st.Ringing, k.dialed)
		case !k.connected:
			st.Waiting = append(st.Waiting, k.answeredAt)
		}
	}
	p := cp.pacer(st.Abandons, r.log)
	cp.pacerName = p.Name()
	n := p.Decide(st, now)
	if n <= 0 {
		return
	}
	claims, err := r.o.Store.ClaimLeads(ctx, c.Name, n, now)
	if err != nil {
		cp.logOnce(r.log, "claim", slog.LevelError, "outbound: claiming leads failed", slog.String("err", err.Error()))
		return
	}
	cp.logged["claim"] = false
	for _, cl := range claims {
		r.place(ctx, cp, cl, "")
	}
}

// place checks a claimed lead again at dial time and hands its call to the
// center. A lead that may not be dialed now goes back (or, on the
// do-not-call list, is closed as dnc) and the reason is returned as
// ECONFLICT.
func (r *Runner) place(ctx context.Context, cp *camp, cl campaign.Claim, agent sb.AgentID) error {
	id, l := cl.Attempt.ID, cl.Lead
	now := r.o.Now()
	log := r.log.With(slog.String("campaign", cp.c.Name), slog.Int64("attempt", id))
	_, dnc, err := r.o.Store.DNC(ctx, l.Number)
	if err != nil {
		r.giveBack(ctx, log, id, now)
		return fmt.Errorf("attempt %d: do-not-call check: %w", id, err)
	}
	// Eligible judges the lead as it was before the claim.
	before := l
	before.State, before.Attempts = sb.LeadRetry, l.Attempts-1
	if ok, why := campaign.Eligible(before, cp.c, dnc, now); !ok {
		if dnc {
			if _, err := r.o.Store.CloseAttemptDNC(ctx, id, now); err != nil {
				log.Error("outbound: closing a do-not-call lead failed", slog.String("err", err.Error()))
			}
		} else {
			r.giveBack(ctx, log, id, now)
		}
		log.Info("outbound: lead not dialed at dial time", slog.String("why", why))
		return sb.Errorf(sb.ECONFLICT, "lead %s %s", l.Number, why)
	}
	ch := ChannelFor(id)
	if err := r.o.Store.MarkDialing(ctx, id, string(ch)); err != nil {
		r.giveBack(ctx, log, id, now)
		return fmt.Errorf("attempt %d: %w", id, err)
	}
	r.calls[id] = &call{attempt: id, campaign: cp.c.Name, dialed: now, agent: agent}
	cp.dials = append(cp.dials, now)
	cp.totals.dialed++
	d := Dial{
		Attempt: id, Lead: l, Campaign: cp.c.Name, Queue: cp.c.Queue, Channel: ch,
		Endpoint: cp.c.Endpoint(l.Number), CallerID: cp.c.CallerID, RingTime: cp.c.RingTime, AMD: cp.c.AMD,
		MachineMessage: cp.c.MachineMessage, AbandonMessage: cp.c.AbandonMessage, Agent: agent,
	}
	r.dials.Add(1)
	go func() {
		defer r.dials.Done()
		dctx, cancel := context.WithTimeout(r.dialCtx, dialTimeout)
		defer cancel()
		if err := r.o.Placer.Dial(dctx, d); err != nil {
			r.post(item{ev: Event{Attempt: id, Kind: Ended, Outcome: sb.DialFailed}, dialErr: err})
		}
	}()
	return nil
}

// giveBack returns an attempt that was not placed.
func (r *Runner) giveBack(ctx context.Context, log *slog.Logger, id int64, now time.Time) {
	if _, err := r.o.Store.ReturnAttempt(ctx, id, now); err != nil {
		log.Error("outbound: returning an unplaced lead failed (reconciled at the next start)", slog.String("err", err.Error()))
	}
}

// handle applies one report.
func (r *Runner) handle(ctx context.Context, it item) {
	e := it.ev
	at := e.At
	if at.IsZero() {
		at = r.o.Now()
	}
	k := r.calls[e.Attempt]
	var cp *camp
	if k != nil {
		cp = r.camps[k.campaign]
	}
	log := r.log.With(slog.Int64("attempt", e.Attempt))
	if it.dialErr != nil {
		if k == nil || k.answered {
			return // the center's reports came first
		}
		log.Warn("outbound: originate failed", slog.String("campaign", k.campaign), slog.String("err", it.dialErr.Error()))
		r.end(ctx, log, k, cp, e.Attempt, sb.DialFailed, at, false)
		return
	}
	switch e.Kind {
	case Answered:
		if k != nil && k.answered {
			return
		}
		if err := r.o.Store.MarkAnswered(ctx, e.Attempt); err != nil {
			log.Warn("outbound: marking an attempt answered failed", slog.String("err", err.Error()))
		}
		if k == nil {
			return
		}
		k.answered, k.answeredAt = true, at
		if cp != nil {
			cp.stats.ObserveAttempt(at.Sub(k.dialed), true)
			cp.totals.answered++
		}
	case Connected:
		if k == nil {
			// Not (yet) this runner's: a call from before a restart
			// reported before the runner adopted its attempt. Who took
			// it is stored all the same, so that the attempt can never
			// be closed as abandoned.
			if err := r.o.Store.MarkConnected(ctx, e.Attempt, string(e.Agent), at); err != nil && sb.ErrorCode(err) != sb.ECONFLICT {
				log.Warn("outbound: marking an attempt connected failed", slog.String("err", err.Error()))
			}
			return
		}
		if k.connected {
			return
		}
		if !k.answered { // the Answered report was lost: the person did answer
			r.handle(ctx, item{ev: Event{Attempt: e.Attempt, Kind: Answered, At: at}})
		}
		k.connected, k.connectAt, k.agent = true, at, e.Agent
		// Stored before anything else: a crash from here on closes the
		// attempt as answered, and the lead is never dialed again.
		if err := r.o.Store.MarkConnected(ctx, e.Attempt, string(e.Agent), at); err != nil {
			log.Warn("outbound: marking an attempt connected failed", slog.String("err", err.Error()))
		}
		if cp != nil && !k.fated {
			cp.ledger.Record(at, false)
			k.fated = true
		}
	case Ended:
		o := e.Outcome
		if !slices.Contains(sb.DialOutcomes, o) {
			log.Error("outbound: unknown outcome reported: recorded as failed", slog.String("outcome", string(o)))
			o = sb.DialFailed
		}
		if e.Unattended != nil {
			r.endUnattended(ctx, log, k, cp, e.Attempt, *e.Unattended, at)
			return
		}
		r.end(ctx, log, k, cp, e.Attempt, o, at, true)
	default:
		log.Error("outbound: unknown report kind", slog.String("kind", e.Kind.String()))
	}
}

// endUnattended closes an attempt whose call the dialplan recorded as
// answered while no Switchboard was connected: abandoned (or machine) with
// its call-log row, in one transaction; then the record is cleared.
func (r *Runner) endUnattended(ctx context.Context, log *slog.Logger, k *call, cp *camp, id int64, u sb.Unattended, at time.Time) {
	o := sb.DialAbandoned
	if u.Machine {
		o = sb.DialMachine
	}
	r.account(k, cp, id, o, at, true)
	got, err := r.o.Store.CloseUnattended(ctx, id, u, r.o.Node, at)
	switch {
	case err != nil && sb.ErrorCode(err) == sb.ECONFLICT:
		log.Debug("outbound: report for an attempt already closed", slog.String("outcome", string(o)))
	case err != nil:
		log.Error("outbound: closing an attempt failed (reconciled at the next start)", slog.String("outcome", string(o)), slog.String("err", err.Error()))
		return
	default:
		log.Info("outbound: a call answered while Switchboard was down closed from the dialplan's record", slog.String("outcome", string(got)))
	}
	r.forgetUnattended(ctx, id)
}

// end closes an attempt: statistics, ledger, then storage (which schedules
// the lead). observe is false for an originate the PBX refused: it never
// rang, so it says nothing about ring times.
func (r *Runner) end(ctx context.Context, log *slog.Logger, k *call, cp *camp, id int64, o sb.DialOutcome, at time.Time, observe bool) {
	r.account(k, cp, id, o, at, observe)
	l, err := r.o.Store.FinishAttempt(ctx, id, o, at)
	switch {
	case err != nil && k == nil && sb.ErrorCode(err) == sb.ECONFLICT:
		log.Debug("outbound: report for an attempt already closed", slog.String("outcome", string(o)))
	case err != nil:
		log.Error("outbound: closing an attempt failed (reconciled at the next start)", slog.String("outcome", string(o)), slog.String("err", err.Error()))
	default:
		log.Debug("outbound: attempt ended", slog.String("campaign", l.Campaign), slog.String("outcome", string(o)), slog.String("lead_state", string(l.State)))
	}
}

// account takes a call's end into the runner's statistics and abandon
// ledger, and forgets the call.
func (r *Runner) account(k *call, cp *camp, id int64, o sb.DialOutcome, at time.Time, observe bool) {
	if k == nil {
		return
	}
	live := o == sb.DialAnswered || o == sb.DialAbandoned
	delete(r.calls, id)
	live = live || k.answered
	if cp == nil {
		return
	}
	if !k.answered {
		if live {
			cp.stats.ObserveAttempt(at.Sub(k.dialed), true)
			cp.totals.answered++
		} else if observe {
			cp.stats.ObserveAttempt(at.Sub(k.dialed), false)
		}
	}
	if (o == sb.DialAnswered || o == sb.DialAbandoned) && !k.fated {
		cp.ledger.Record(at, o == sb.DialAbandoned)
		k.fated = true
	}
	if k.connected && !k.adopted {
		cp.stats.ObserveTalk(at.Sub(k.connectAt))
	}
	switch o {
	case sb.DialAbandoned:
		cp.totals.abandoned++
	case sb.DialMachine:
		cp.totals.machines++
	}
	cp.ended = append(cp.ended, completion{at: at, live: live})
}
