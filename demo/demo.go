// Package demo runs Switchboard against the built-in simulated Asterisk
// with synthetic callers and agents, and an outbound campaign, and sums up
// what happened (switchboard demo). The simulator runs on a virtual clock
// reached over an in-memory pipe, so a run depends on its seed and
// settings only. It also holds the synthetic inbound traffic that
// switchboard simulate --load places.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/app"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/internal/waitfor"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

// Summary is what `switchboard demo --json` prints at the end. The
// calls_*, cdr_rows and recordings_* fields count the inbound callers'
// calls; the outbound campaign's are in campaign_*.
type Summary struct {
	Seed       int64   `json:"seed"`
	Speed      float64 `json:"speed"`
	SimSeconds float64 `json:"sim_seconds"`
	// WallSeconds is how long the run took on this machine: printed and
	// logged, not in the JSON, which depends only on the seed and flags.
	WallSeconds      float64 `json:"-"`
	Agents           int     `json:"agents"`
	CallsGenerated   int64   `json:"calls_generated"`
	CallsOffered     int64   `json:"calls_offered"`
	CallsAnswered    int64   `json:"calls_answered"`
	CallsAbandoned   int64   `json:"calls_abandoned"`
	CallsCompleted   int64   `json:"calls_completed"`
	CallsNoAgent     int64   `json:"calls_no_agent"`
	CallsFailed      int64   `json:"calls_failed"`
	CallsInterrupted int64   `json:"calls_interrupted"`
	CallsIVR         int64   `json:"calls_ivr"`
	CallsVoicemail   int64   `json:"calls_voicemail"`
	CallsTransferred int64   `json:"calls_transferred"`
	CDRRows          int     `json:"cdr_rows"`
	CDRErrors        int64   `json:"cdr_errors"`
	EventsSent       int64   `json:"events_sent"`
	EventsReceived   int64   `json:"events_received"`
	EventsLost       int64   `json:"events_lost"`
	ChannelsLeft     int     `json:"channels_left"`
	// Recordings that finished this run, and those whose file is present
	// and matches its stored checksum.
	RecordingsCompleted int `json:"recordings_completed"`
	RecordingsVerified  int `json:"recordings_verified"`

	// The outbound campaign demo-outbound (demo.campaign_leads), this
	// run: leads in the campaign, calls placed, live answers (a person,
	// not a machine), live answers an agent took, live answers abandoned
	// (no agent within the 2-second connect window) and their share of
	// the live answers, answering machines, and leads still to dial (new,
	// or due for a retry).
	CampaignLeads       int     `json:"campaign_leads"`
	CampaignDialed      int     `json:"campaign_dialed"`
	CampaignAnswered    int     `json:"campaign_answered"`
	CampaignConnected   int     `json:"campaign_connected"`
	CampaignAbandoned   int     `json:"campaign_abandoned"`
	CampaignAbandonRate float64 `json:"campaign_abandon_rate"`
	CampaignMachines    int     `json:"campaign_machines"`
	CampaignLeadsLeft   int     `json:"campaign_leads_left"`
}

// simClock adapts the simulator's clock to sb.Clock.
type simClock struct{ c *sim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }

func (s simClock) AfterFunc(d time.Duration, f func()) func() bool {
	return s.c.AfterFunc(d, f).Stop
}

var _ sb.Clock = simClock{}

// Config is the configuration file at path, or the embedded demo
// configuration when path is empty.
func Config(path string) (*config.Config, error) {
	if path == "" {
		return config.Demo()
	}
	return config.Load(path)
}

// Run runs the demo on cfg and returns its summary: with duration above
// 0, callers arrive for that much simulated time, then live calls may
// finish for up to drain, then the rest are hung up; with 0, until ctx
// ends.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, duration, drain time.Duration) (*Summary, error) {
	d := cfg.Demo
	if d.Seed == 0 {
		d.Seed = time.Now().UnixNano()
		cfg.Demo.Seed = d.Seed
	}
	// The simulator runs on a virtual clock that moves only while the
	// whole process is quiet, and is reached over an in-memory pipe: the
	// same seed gives the same run however loaded the machine is.
	s := sim.New(sim.Options{User: cfg.Asterisk.Username, Password: cfg.Asterisk.Password,
		Speed: d.Speed, Virtual: true, Seed: d.Seed, Logger: log.With("component", "sim")})
	if cfg.Path == "" && !memoryDSN(cfg.Database.DSN) {
		// The embedded configuration's run starts from nothing, so that
		// the same seed gives the same run; the last run's database and
		// recordings are kept beside it as *.prev.
		if err := freshDemoFiles(cfg, log); err != nil {
			return nil, err
		}
	}
	agents := demoAgents(cfg)
	rings := 1
	if d.CampaignLeads > 0 {
		// Agents who take campaign calls auto-answer: a person the dialer
		// reached is abandoned if no agent is on the line within 2 s.
		rings = 0
	}
	for _, a := range agents {
		tech, res, _ := strings.Cut(a.Endpoint, "/")
		s.AddEndpoint(tech, res, sim.Party{Rings: rings, TalkDist: func(r *rand.Rand) time.Duration {
			return lognormalDuration(r, d.TalkMean, 1.0)
		}})
	}
	var camp *demoCampaign
	if d.CampaignLeads > 0 {
		camp = newDemoCampaign(cfg)
		for _, l := range camp.leads {
			s.AddEndpoint("PJSIP", l.Number+"@trunk", l.party)
		}
	}
	pipe, err := s.StartPipe()
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer s.Close()
	cfg.Asterisk.URL, cfg.Asterisk.WebsocketURL = s.URL(), s.WebsocketURL()
	cfg.Agents = agents
	if cfg.Path == "" && !filepath.IsAbs(cfg.Recording.Dir) {
		// The embedded configuration keeps recordings beside its database.
		cfg.Recording.Dir = filepath.Join(filepath.Dir(cfg.Database.DSN), cfg.Recording.Dir)
	}
	clock := simClock{s.Clock()}
	early := camp != nil && !memoryDSN(cfg.Database.DSN)
	if early {
		// Stored (paused) before the runner's first look at the campaigns.
		if err := camp.prepareIn(ctx, cfg.Database.DSN, clock.Now(), log); err != nil {
			return nil, err
		}
	}
	ctl, err := app.Start(ctx, cfg, log, app.Options{Clock: clock, PBXDial: pipe.DialContext})
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			ctl.Close()
		}
	}()
	if err := waitfor.Until(ctx, 10*time.Second, func() bool {
		return ctl.PBX.Ready() && slices.Contains(s.Apps(), cfg.Asterisk.Application) && ctl.Outbound.Running()
	}); err != nil {
		return nil, fmt.Errorf("simulated PBX link did not come up: %w", err)
	}
	if camp != nil && !early {
		if err := camp.prepare(ctx, ctl.DB, clock.Now(), log); err != nil {
			return nil, err
		}
	}
	if camp != nil {
		if camp.cdrBefore, err = camp.callLog(ctx, ctl.DB, nil); err != nil {
			return nil, err
		}
	}
	before, err := ctl.DB.CountCDR(ctx)
	if err != nil {
		return nil, err
	}
	if camp != nil {
		// Started once the call log is counted: every campaign call is
		// this run's. The runner sees it at its next re-read.
		if err := camp.start(ctx, ctl.DB, clock.Now(), log); err != nil {
			return nil, err
		}
	}
	recBefore, err := lastRecordingID(ctl)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Seed: d.Seed, Speed: s.Clock().Speed(), Agents: len(agents)}
	simStart, wallStart := clock.Now(), time.Now()
	if addr := ctl.Addr.String(); !strings.HasSuffix(addr, ":0") {
		log.Info("demo running", "http", "http://"+addr, "speed", sum.Speed, "agents", len(agents))
	}

	gen := NewTraffic(s, rand.New(rand.NewPCG(uint64(d.Seed), 0x5eed)), nil,
		Caller(cfg.Asterisk.Application, d.TalkMean, d.PatienceMean), log)
	if d.CallersPerMinute > 0 {
		mean := time.Duration(float64(time.Minute) / d.CallersPerMinute)
		gen.gap = func(r *rand.Rand) time.Duration { return ExpDuration(r, mean) }
		gen.Start()
	}
	vclock := s.Clock()
	if duration > 0 {
		end := make(chan struct{})
		stop := clock.AfterFunc(duration, func() { close(end) })
		if err := vclock.Drive(ctx, closed(end)); err != nil {
			stop()
		}
	} else {
		_ = vclock.Drive(ctx, nil)
	}
	sum.CallsGenerated, _ = gen.Stop()
	if camp != nil {
		camp.pause(ctx, ctl, clock.Now(), log, vclock.Drive)
	}
	if ctx.Err() == nil && drain > 0 {
		// Let live calls end by themselves, in simulated time (campaign
		// calls still ringing are channels without a call yet).
		over := make(chan struct{})
		stop := clock.AfterFunc(drain, func() { close(over) })
		isOver := closed(over)
		_ = vclock.Drive(ctx, func() bool {
			return isOver() || ctl.Center.ActiveCalls() == 0 && len(s.Channels()) == 0
		})
		stop()
	}
	// The end: time moves only as far as the last hang-ups, events and
	// recordings need (each wait is bounded in wall time).
	drive := func(limit time.Duration, cond func() bool) error {
		dctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		return vclock.Drive(dctx, cond)
	}
	ctl.Center.HangupAll()
	if err := drive(30*time.Second, func() bool { return ctl.Center.ActiveCalls() == 0 }); err != nil {
		log.Warn("calls still live after hanging up all", "active", ctl.Center.ActiveCalls())
	}
	// Every event the simulator sent should have arrived: wait until the
	// PBX is quiet (no channel, no bridge: the last commands have run) and
	// the stream has caught up before counting.
	appName := cfg.Asterisk.Application
	_ = drive(10*time.Second, func() bool {
		return len(s.Channels()) == 0 && len(s.Bridges()) == 0 &&
			int64(ctl.PBX.Stats().EventsReceived) >= s.EventsSent(appName)
	})
	// Recordings are fetched and verified after their calls: let the last
	// ones be stored before the PBX link closes.
	if err := drive(30*time.Second, func() bool { return ctl.Center.OpenRecordings() == 0 }); err != nil {
		log.Warn("recordings still being stored at the end of the demo", "open", ctl.Center.OpenRecordings())
	}
	sum.SimSeconds = clock.Now().Sub(simStart).Seconds()
	sum.WallSeconds = time.Since(wallStart).Seconds()
	var campStats outbound.CampaignStats
	if camp != nil {
		// The runner's totals live in its loop: read them before it stops.
		if campStats, err = camp.stats(ctl, log); err != nil {
			return nil, err
		}
	}
	stopped = true
	ctl.Stop() // the queue statistics are stored, the center has written every call-log row
	st := ctl.Center.Stats()
	sum.CallsOffered, sum.CallsAnswered, sum.CallsAbandoned = st.Offered, st.Answered, st.Abandoned
	sum.CallsCompleted, sum.CallsNoAgent, sum.CallsFailed = st.Completed, st.NoAgent, st.Failed
	sum.CallsInterrupted, sum.CDRErrors = st.Interrupted, st.CDRErrors
	sum.CallsIVR, sum.CallsVoicemail, sum.CallsTransferred = st.IVR, st.Voicemail, st.Transferred
	after, err := ctl.DB.CountCDR(context.Background())
	if err != nil {
		return nil, err
	}
	sum.CDRRows = after - before
	if camp != nil {
		if err := camp.summarize(context.Background(), ctl.DB, campStats, sum); err != nil {
			return nil, err
		}
	}
	ps := ctl.PBX.Stats()
	sum.EventsSent = s.EventsSent(appName)
	sum.EventsReceived = int64(ps.EventsReceived)
	sum.EventsLost = int64(ps.EventsLost) + max(0, sum.EventsSent-sum.EventsReceived)
	sum.ChannelsLeft = len(s.Channels())
	sum.RecordingsCompleted, sum.RecordingsVerified, err = verifyRecordings(ctl, recBefore)
	if err != nil {
		return nil, err
	}
	if err := ctl.Close(); err != nil {
		return nil, err
	}
	return sum, nil
}

// verifyRecordings counts the recordings of inbound calls this run stored
// (ids after since) and those whose file verifies (present, same size and
// SHA-256).
func verifyRecordings(ctl *app.App, since int64) (completed, verified int, err error) {
	err = eachRecording(ctl, func(rec recording.Recording) {
		if rec.ID <= since || rec.State != recording.StateStored {
			return
		}
		if _, ob := outbound.AttemptOf(sb.ChannelID(rec.CallID)); ob {
			return // a campaign call
		}
		completed++
		if ctl.Files.Verify(rec) == nil {
			verified++
		}
	})
	return completed, verified, err
}

// lastRecordingID is the highest recording id so far (0 when none).
func lastRecordingID(ctl *app.App) (int64, error) {
	var last int64
	err := eachRecording(ctl, func(rec recording.Recording) { last = max(last, rec.ID) })
	return last, err
}

// eachRecording calls f for every recording row.
func eachRecording(ctl *app.App, f func(recording.Recording)) error {
	for offset := 0; ; {
		page, total, err := ctl.DB.ListRecordings(context.Background(), recording.Filter{Limit: 1000, Offset: offset})
		if err != nil {
			return err
		}
		for _, rec := range page {
			f(rec)
		}
		offset += len(page)
		if len(page) == 0 || offset >= total {
			return nil
		}
	}
}

// demoAgents returns demo.agents agent phones: the configured agents first,
// then made-up ones on PJSIP/1001.. for the rest.
func demoAgents(cfg *config.Config) []config.Agent {
	n := cfg.Demo.Agents
	out := append([]config.Agent(nil), cfg.Agents...)
	if n <= 0 {
		return out
	}
	if len(out) > n {
		return out[:n]
	}
	used := map[string]bool{}
	for _, a := range out {
		used[a.Endpoint] = true
	}
	for ext := 1001; len(out) < n; ext++ {
		ep := fmt.Sprintf("PJSIP/%d", ext)
		if used[ep] {
			continue
		}
		out = append(out, config.Agent{ID: fmt.Sprint(ext), Name: fmt.Sprintf("Agent %d", ext), Endpoint: ep})
	}
	return out
}

// closed reports whether ch is closed, as a condition for Clock.Drive.
func closed(ch <-chan struct{}) func() bool {
	return func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
}

// Print writes the summary as text.
func Print(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "demo: %.0f s simulated in %.1f s (speed %g, seed %d, %d agents)\n", s.SimSeconds, s.WallSeconds, s.Speed, s.Seed, s.Agents)
	fmt.Fprintf(w, "calls: offered %d, answered %d, completed %d, abandoned %d, no agent %d, failed %d, interrupted %d\n",
		s.CallsOffered, s.CallsAnswered, s.CallsCompleted, s.CallsAbandoned, s.CallsNoAgent, s.CallsFailed, s.CallsInterrupted)
	fmt.Fprintf(w, "IVR: ended in the flow %d, voicemail %d, transferred %d\n", s.CallsIVR, s.CallsVoicemail, s.CallsTransferred)
	fmt.Fprintf(w, "call log rows: %d; PBX events: sent %d, received %d, lost %d\n", s.CDRRows, s.EventsSent, s.EventsReceived, s.EventsLost)
	fmt.Fprintf(w, "recordings: completed %d, verified %d\n", s.RecordingsCompleted, s.RecordingsVerified)
	if s.CampaignLeads > 0 {
		fmt.Fprintf(w, "campaign %s: %d leads, dialed %d, live answers %d (to an agent %d, abandoned %d: %.2f%%), machines %d, leads left %d\n",
			CampaignName, s.CampaignLeads, s.CampaignDialed, s.CampaignAnswered, s.CampaignConnected, s.CampaignAbandoned,
			100*s.CampaignAbandonRate, s.CampaignMachines, s.CampaignLeadsLeft)
	}
}

// Traffic places synthetic inbound calls in simulated time: the demo's
// callers (Poisson arrivals, Caller) and `simulate --load`'s. gap draws
// the time to the next arrival, caller the next caller, both from rng.
type Traffic struct {
	sim    *sim.Server
	clock  simClock
	rng    *rand.Rand
	gap    func(*rand.Rand) time.Duration
	caller func(*rand.Rand) sim.Inbound
	log    *slog.Logger

	mu      sync.Mutex
	stopped bool
	failing bool // the last call failed: the failure was logged
	placed  int64
	failed  int64
	timer   func() bool
}

// Start places the first caller after a gap, and each next one after
// another.
func (t *Traffic) Start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.next()
	}
}

// next schedules the next arrival; t.mu is held.
func (t *Traffic) next() {
	t.timer = t.clock.AfterFunc(t.gap(t.rng), func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.stopped {
			return
		}
		in := t.caller(t.rng)
		if _, err := t.sim.Call(in); err != nil {
			t.failed++
			if !t.failing {
				t.failing = true
				t.log.Warn("synthetic calls not placed", "app", in.App, "err", err)
			}
		} else {
			t.placed++
			if t.failing {
				t.failing = false
				t.log.Info("synthetic calls placed again", "app", in.App)
			}
		}
		t.next()
	})
}

// Stop ends arrivals and returns how many calls were placed and how many
// could not be (the application had no websocket).
func (t *Traffic) Stop() (placed, failed int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.timer != nil {
		t.timer()
	}
	return t.placed, t.failed
}

// Caller draws the demo's callers into application: a patience of 5 s plus an
// exponential around patience (they abandon when it runs out before an
// agent answers), a lognormal talk time around talk, and most choose a
// menu option while the welcome plays.
func Caller(application string, talk, patience time.Duration) func(*rand.Rand) sim.Inbound {
	return func(r *rand.Rand) sim.Inbound {
		party := sim.Party{
			Patience: ExpDuration(r, patience) + 5*time.Second,
			Talk:     lognormalDuration(r, talk, 1.0),
		}
		// Most callers choose a menu option while the welcome plays (the
		// IVR keeps it as type-ahead); some wait and let the menu time out.
		if r.Float64() < 0.9 {
			party.Digits = fmt.Sprint(1 + r.IntN(2))
			party.DigitsDelay = time.Second + time.Duration(r.Float64()*float64(2*time.Second))
		}
		from := fmt.Sprintf("+1555%07d", r.IntN(10_000_000))
		return sim.Inbound{App: application, From: from, To: "8000", Party: party}
	}
}

// NewTraffic returns arrivals into s on its clock: gap draws the time to
// the next caller, caller the caller, both from rng. Start them with Start.
func NewTraffic(s *sim.Server, rng *rand.Rand, gap func(*rand.Rand) time.Duration, caller func(*rand.Rand) sim.Inbound, log *slog.Logger) *Traffic {
	return &Traffic{sim: s, clock: simClock{s.Clock()}, rng: rng, gap: gap, caller: caller, log: log}
}

// ExpDuration draws an exponential duration with the given mean.
func ExpDuration(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}

// lognormalDuration draws a lognormal duration with the given mean and
// coefficient of variation (talk times are lognormal in call centers).
func lognormalDuration(r *rand.Rand, mean time.Duration, cv float64) time.Duration {
	s2 := math.Log(1 + cv*cv)
	mu := math.Log(float64(mean)) - s2/2
	return time.Duration(math.Exp(mu + math.Sqrt(s2)*r.NormFloat64()))
}

// CampaignName is the outbound campaign the demo runs.
const CampaignName = "demo-outbound"

// demoCampaign is the demo's outbound campaign: its settings, its leads
// with what the person at each number does, and the campaign's call-log
// rows and attempts from before this run (a database that had it already).
type demoCampaign struct {
	c              sb.Campaign
	leads          []Lead
	cdrBefore      []sb.CDR
	attemptsBefore map[int64]bool
}

// Lead is a lead's number and its callee.
type Lead struct {
	Number string
	party  sim.Party
}

// newDemoCampaign builds the campaign of demo.campaign_leads leads: open
// around the clock every day (so that the demo behaves the same at any
// hour), AMD on, 20 s ring time, worked by demoCampaignQueue's agents.
func newDemoCampaign(cfg *config.Config) *demoCampaign {
	c := campaign.Default(CampaignName)
	c.Mode = sb.CampaignMode(cfg.Demo.CampaignMode)
	if c.Mode == sb.PowerDialing {
		c.Ratio = 1.5 // at the default 1 power dials as progressive does
	}
	c.Queue = demoCampaignQueue(cfg)
	c.Window = sb.CallingWindow{Start: 0, End: 24 * 60}
	c.Schedule.Days = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	c.CallerID = `"Switchboard demo" <+15550100>`
	c.AbandonMessage = "sound:vm-goodbye" // a sound the simulator knows
	c.AMD = true
	c.RingTime = 20 * time.Second
	return &demoCampaign{c: c, leads: Leads(cfg.Demo)}
}

// demoCampaignQueue is the queue whose agents work the campaign: the
// queue named outbound, else the first configured queue, or the router's
// queue of every agent when none is configured (app.BuildRouter).
func demoCampaignQueue(cfg *config.Config) string {
	for _, q := range cfg.Queues {
		if q.Name == "outbound" {
			return string(q.Name)
		}
	}
	if len(cfg.Queues) > 0 {
		return string(cfg.Queues[0].Name)
	}
	return "default"
}

// Leads draws demo.campaign_leads callees from the seed, as in the
// dialer benchmark's default scenario: 30% talk (lognormal around
// demo.talk_mean), 10% busy, 15% answering machine, 45% no answer. The
// stream is the campaign's own: the inbound callers of a seed are the same
// with or without a campaign.
func Leads(d config.DemoSettings) []Lead {
	rng := rand.New(rand.NewPCG(uint64(d.Seed), 0xca11))
	out := make([]Lead, d.CampaignLeads)
	for i := range out {
		var p sim.Party
		switch u := rng.Float64(); {
		case u < 0.30:
			p = sim.Party{Rings: 1 + rng.IntN(4), Talk: max(5*time.Second, lognormalDuration(rng, d.TalkMean, 1.0))}
		case u < 0.40:
			p = sim.Party{Busy: true}
		case u < 0.55:
			p = sim.Party{Rings: 1 + rng.IntN(4), Machine: true, Talk: time.Minute}
		default:
			p = sim.Party{NoAnswer: true}
		}
		out[i] = Lead{Number: fmt.Sprintf("+1555%07d", 2_000_000+i), party: p}
	}
	return out
}

// freshDemoFiles moves the embedded configuration's database (with its
// WAL and shared-memory files) and recordings folder out of the way, to
// NAME.prev, replacing an older .prev.
func freshDemoFiles(cfg *config.Config, log *slog.Logger) error {
	dsn := cfg.Database.DSN
	if strings.HasPrefix(dsn, "file:") || strings.Contains(dsn, "?") {
		return nil // a DSN with options: the caller's own file, left alone
	}
	recDir := cfg.Recording.Dir
	if !filepath.IsAbs(recDir) {
		recDir = filepath.Join(filepath.Dir(dsn), recDir)
	}
	moved := 0
	for _, p := range []string{dsn, dsn + "-wal", dsn + "-shm", recDir} {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.RemoveAll(p + ".prev"); err != nil {
			return fmt.Errorf("demo: the previous run's files: %w", err)
		}
		if err := os.Rename(p, p+".prev"); err != nil {
			return fmt.Errorf("demo: keeping the last run's files: %w", err)
		}
		moved++
	}
	if moved > 0 {
		log.Info("demo: starting from an empty database; the last run's is kept", "db", dsn+".prev", "recordings", recDir+".prev")
	}
	return nil
}

// memoryDSN reports whether a database DSN is an in-memory database, which
// a second connection would not share.
func memoryDSN(dsn string) bool {
	return strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory")
}

// prepareIn stores and starts the campaign in the database file dsn, before
// the application opens it.
func (dc *demoCampaign) prepareIn(ctx context.Context, dsn string, now time.Time, log *slog.Logger) error {
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	err = dc.prepare(ctx, db, now, log)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// prepare creates the campaign (paused) with its leads. A database that
// has the campaign already (an earlier demo run, which left it paused)
// keeps it, with its settings and leads: the leads missing are added and
// the campaign goes on with those left to dial.
func (dc *demoCampaign) prepare(ctx context.Context, db *storage.DB, now time.Time, log *slog.Logger) error {
	name := dc.c.Name
	err := db.CreateCampaign(ctx, dc.c, now)
	existed := sb.ErrorCode(err) == sb.ECONFLICT
	if err != nil && !existed {
		return fmt.Errorf("demo campaign: %w", err)
	}
	batch := make([]sb.Lead, len(dc.leads))
	for i, l := range dc.leads {
		batch[i] = sb.Lead{Campaign: name, Number: l.Number, Region: "US", TimeZone: "UTC"}
	}
	if _, err := db.UpsertLeads(ctx, batch, now); err != nil {
		return fmt.Errorf("demo campaign leads: %w", err)
	}
	dc.attemptsBefore = map[int64]bool{}
	if existed {
		log.Info("demo: the database has the campaign from an earlier run: it goes on with the leads left", "campaign", name)
		atts, err := dc.attempts(ctx, db)
		if err != nil {
			return err
		}
		for _, a := range atts {
			dc.attemptsBefore[a.ID] = true
		}
	}
	if err := db.SetCampaignState(ctx, name, sb.CampaignPaused, now); err != nil {
		return fmt.Errorf("demo campaign: %w", err)
	}
	return nil
}

// start sets the campaign running.
func (dc *demoCampaign) start(ctx context.Context, db *storage.DB, now time.Time, log *slog.Logger) error {
	if err := db.SetCampaignState(ctx, dc.c.Name, sb.CampaignRunning, now); err != nil {
		return fmt.Errorf("demo campaign: start: %w", err)
	}
	log.Info("demo: outbound campaign running", "campaign", dc.c.Name, "mode", dc.c.Mode, "queue", dc.c.Queue, "leads", len(dc.leads))
	return nil
}

// pause stops the campaign's dialing at the end of the run and waits until
// the runner, which re-reads the campaigns every few seconds, has seen it:
// from then on it places no call.
// wait moves the simulated time until its condition holds.
func (dc *demoCampaign) pause(ctx context.Context, ctl *app.App, now time.Time, log *slog.Logger, wait func(context.Context, func() bool) error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := ctl.DB.SetCampaignState(wctx, dc.c.Name, sb.CampaignPaused, now); err != nil {
		log.Warn("demo: pausing the campaign failed", "campaign", dc.c.Name, "err", err)
		return
	}
	if err := wait(wctx, func() bool {
		st, err := ctl.Outbound.Stats(wctx, dc.c.Name)
		return err == nil && st.State == sb.CampaignPaused
	}); err != nil {
		log.Warn("demo: the campaign runner has not seen the pause", "campaign", dc.c.Name, "err", err)
	}
}

// stats reads the runner's picture of the campaign once every call it
// placed has been reported over.
func (dc *demoCampaign) stats(ctl *app.App, log *slog.Logger) (outbound.CampaignStats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st outbound.CampaignStats
	var err error
	if werr := waitfor.Until(ctx, 0, func() bool {
		st, err = ctl.Outbound.Stats(ctx, dc.c.Name)
		return err == nil && st.LinesInFlight == 0
	}); werr != nil && err == nil {
		log.Warn("demo: campaign calls still in flight at the end", "campaign", dc.c.Name, "lines", st.LinesInFlight)
	}
	if err != nil {
		return st, fmt.Errorf("demo campaign stats: %w", err)
	}
	return st, nil
}

// attempts returns every attempt of the campaign's leads.
func (dc *demoCampaign) attempts(ctx context.Context, db *storage.DB) ([]storage.Attempt, error) {
	var out []storage.Attempt
	for _, l := range dc.leads {
		lead, err := db.Lead(ctx, dc.c.Name, l.Number)
		if err != nil {
			return nil, err
		}
		atts, err := db.Attempts(ctx, lead.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, atts...)
	}
	return out, nil
}

// callLog returns the call-log rows of the campaign's calls (those a person
// answered) that are not in skip.
func (dc *demoCampaign) callLog(ctx context.Context, db *storage.DB, skip []sb.CDR) ([]sb.CDR, error) {
	old := make(map[int64]bool, len(skip))
	for _, r := range skip {
		old[r.ID] = true
	}
	var out []sb.CDR
	for offset := 0; ; {
		page, total, err := db.ListCDR(ctx, sb.CDRFilter{Called: "campaign:" + dc.c.Name, Limit: storage.MaxCDRLimit, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if !old[r.ID] {
				out = append(out, r)
			}
		}
		offset += len(page)
		if len(page) == 0 || offset >= total {
			return out, nil
		}
	}
}

// summarize fills the campaign's part of the summary from the runner's
// totals (st) and the database, and takes the campaign's calls out of the
// inbound counts: the center and the call log count every call.
func (dc *demoCampaign) summarize(ctx context.Context, db *storage.DB, st outbound.CampaignStats, sum *Summary) error {
	counts, err := db.LeadCounts(ctx, dc.c.Name)
	if err != nil {
		return err
	}
	for _, n := range counts {
		sum.CampaignLeads += n
	}
	sum.CampaignLeadsLeft = counts[sb.LeadNew] + counts[sb.LeadRetry]
	sum.CampaignDialed, sum.CampaignAnswered = st.Dialed, st.Answered
	sum.CampaignAbandoned, sum.CampaignMachines = st.Abandoned, st.Machines
	if st.Answered > 0 {
		sum.CampaignAbandonRate = float64(st.Abandoned) / float64(st.Answered)
	}
	atts, err := dc.attempts(ctx, db)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if !dc.attemptsBefore[a.ID] && a.Outcome == sb.DialAnswered {
			sum.CampaignConnected++ // answered: a person who reached an agent
		}
	}
	rows, err := dc.callLog(ctx, db, dc.cdrBefore)
	if err != nil {
		return err
	}
	byOutcome := map[sb.Outcome]*int64{
		sb.OutcomeCompleted: &sum.CallsCompleted, sb.OutcomeAbandoned: &sum.CallsAbandoned,
		sb.OutcomeNoAgent: &sum.CallsNoAgent, sb.OutcomeFailed: &sum.CallsFailed,
		sb.OutcomeInterrupted: &sum.CallsInterrupted, sb.OutcomeIVR: &sum.CallsIVR,
		sb.OutcomeVoicemail: &sum.CallsVoicemail, sb.OutcomeTransferred: &sum.CallsTransferred,
	}
	for _, r := range rows {
		sum.CallsOffered--
		if r.Bridged.Valid {
			sum.CallsAnswered--
		}
		if n := byOutcome[r.Outcome]; n != nil {
			*n--
		}
	}
	sum.CDRRows -= len(rows)
	return nil
}
