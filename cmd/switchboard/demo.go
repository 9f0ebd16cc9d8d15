package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/sim"
)

// DemoSummary is what `switchboard demo --json` prints at the end.
type DemoSummary struct {
	Seed             int64   `json:"seed"`
	Speed            float64 `json:"speed"`
	SimSeconds       float64 `json:"sim_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
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
}

// simClock adapts the simulator's clock to the center's.
type simClock struct{ c *sim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) AfterFunc(d time.Duration, f func()) func() bool {
	return s.c.AfterFunc(d, f).Stop
}

func newDemoCmd() *cobra.Command {
	var (
		path, listen, dsn string
		duration, drain   time.Duration
		seed              int64
		speed             float64
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Switchboard on embedded defaults: SQLite, the simulated Asterisk, synthetic callers and agents",
		Long: `demo starts the controller against the built-in simulated Asterisk with
synthetic callers (Poisson arrivals) and agent desk phones, the call log in a
SQLite file and the HTTP server (default 127.0.0.1:8080).

With --duration it stops taking calls after that much simulated time, lets
live calls finish (at most --drain), and prints a summary (--json: one JSON
object). --speed runs simulated time faster than the wall clock.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := demoConfig(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			fl := cmd.Flags()
			if fl.Changed("seed") {
				cfg.Demo.Seed = seed
			}
			if fl.Changed("speed") {
				cfg.Demo.Speed = speed
			}
			if fl.Changed("listen") {
				cfg.HTTP.Listen = listen
			}
			if fl.Changed("db") {
				cfg.Database.DSN = dsn
			}
			level := cfg.Log.Level
			if asJSON && !fl.Changed("log-level") {
				level = "warn" // keep stdout for the summary, stderr quiet
			}
			log := newLogger(cmd.ErrOrStderr(), level, cfg.Log.Format)
			sum, err := runDemo(cmd.Context(), cfg, log, duration, drain)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			printSummary(cmd.OutOrStdout(), sum)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "configuration file (default: the embedded demo configuration)")
	f.DurationVar(&duration, "duration", 0, "simulated time to take calls for (0: until Ctrl-C)")
	f.DurationVar(&drain, "drain", 10*time.Minute, "simulated time live calls may take to finish after --duration")
	f.Int64Var(&seed, "seed", 1, "seed for the synthetic traffic")
	f.Float64Var(&speed, "speed", 1, "simulated seconds per wall-clock second")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "HTTP listen address")
	f.StringVar(&dsn, "db", "switchboard-demo.db", "SQLite database file")
	f.String("log-level", "", "log level (debug, info, warn, error)")
	return cmd
}

func demoConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Demo()
	}
	return config.Load(path)
}

// runDemo runs the demo and returns its summary.
func runDemo(ctx context.Context, cfg *config.Config, log *slog.Logger, duration, drain time.Duration) (*DemoSummary, error) {
	d := cfg.Demo
	if d.Seed == 0 {
		d.Seed = time.Now().UnixNano()
		cfg.Demo.Seed = d.Seed
	}
	s := sim.New(sim.Options{User: cfg.Asterisk.Username, Password: cfg.Asterisk.Password,
		Speed: d.Speed, Seed: d.Seed, Logger: log.With("component", "sim")})
	agents := demoAgents(cfg)
	for _, a := range agents {
		tech, res, _ := strings.Cut(a.Endpoint, "/")
		s.AddEndpoint(tech, res, sim.Party{Rings: 1, TalkDist: func(r *rand.Rand) time.Duration {
			return lognormalDuration(r, d.TalkMean, 1.0)
		}})
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
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
	app, err := StartApp(ctx, cfg, log, clock)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			app.Close()
		}
	}()
	if err := waitFor(ctx, 10*time.Second, func() bool {
		return app.PBX.Ready() && slices.Contains(s.Apps(), cfg.Asterisk.Application)
	}); err != nil {
		return nil, fmt.Errorf("simulated PBX link did not come up: %w", err)
	}
	before, err := app.DB.CountCDR(ctx)
	if err != nil {
		return nil, err
	}
	recBefore, err := lastRecordingID(app)
	if err != nil {
		return nil, err
	}
	sum := &DemoSummary{Seed: d.Seed, Speed: s.Clock().Speed(), Agents: len(agents)}
	simStart, wallStart := clock.Now(), time.Now()
	if addr := app.Addr.String(); !strings.HasSuffix(addr, ":0") {
		log.Info("demo running", "http", "http://"+addr, "speed", sum.Speed, "agents", len(agents))
	}

	gen := &traffic{sim: s, clock: clock, app: cfg.Asterisk.Application, rng: rand.New(rand.NewPCG(uint64(d.Seed), 0x5eed)),
		talk: d.TalkMean, patience: d.PatienceMean, log: log}
	if d.CallersPerMinute > 0 {
		gen.mean = time.Duration(float64(time.Minute) / d.CallersPerMinute)
		gen.start()
	}
	if duration > 0 {
		end := make(chan struct{})
		stop := clock.AfterFunc(duration, func() { close(end) })
		select {
		case <-end:
		case <-ctx.Done():
			stop()
		}
	} else {
		<-ctx.Done()
	}
	sum.CallsGenerated = gen.stop()
	if ctx.Err() == nil && drain > 0 {
		// Let live calls end by themselves, in simulated time.
		over := make(chan struct{})
		stop := clock.AfterFunc(drain, func() { close(over) })
		_ = waitFor(ctx, 0, func() bool {
			select {
			case <-over:
				return true
			default:
				return app.Center.ActiveCalls() == 0
			}
		})
		stop()
	}
	app.Center.HangupAll()
	if err := waitFor(context.Background(), 30*time.Second, func() bool { return app.Center.ActiveCalls() == 0 }); err != nil {
		log.Warn("calls still live after hanging up all", "active", app.Center.ActiveCalls())
	}
	// Every event the simulator sent should have arrived: wait until the
	// PBX is quiet (no channel, no bridge: the last commands have run) and
	// the stream has caught up before counting.
	appName := cfg.Asterisk.Application
	_ = waitFor(context.Background(), 10*time.Second, func() bool {
		return len(s.Channels()) == 0 && len(s.Bridges()) == 0 &&
			int64(app.PBX.Stats().EventsReceived) >= s.EventsSent(appName)
	})
	sum.SimSeconds = clock.Now().Sub(simStart).Seconds()
	sum.WallSeconds = time.Since(wallStart).Seconds()
	closed = true
	shutdownHTTP(app)
	app.cancel()
	app.wg.Wait() // the center has written every call-log row
	st := app.Center.Stats()
	sum.CallsOffered, sum.CallsAnswered, sum.CallsAbandoned = st.Offered, st.Answered, st.Abandoned
	sum.CallsCompleted, sum.CallsNoAgent, sum.CallsFailed = st.Completed, st.NoAgent, st.Failed
	sum.CallsInterrupted, sum.CDRErrors = st.Interrupted, st.CDRErrors
	sum.CallsIVR, sum.CallsVoicemail, sum.CallsTransferred = st.IVR, st.Voicemail, st.Transferred
	after, err := app.DB.CountCDR(context.Background())
	if err != nil {
		return nil, err
	}
	sum.CDRRows = after - before
	ps := app.PBX.Stats()
	sum.EventsSent = s.EventsSent(appName)
	sum.EventsReceived = int64(ps.EventsReceived)
	sum.EventsLost = int64(ps.EventsLost) + max(0, sum.EventsSent-sum.EventsReceived)
	sum.ChannelsLeft = len(s.Channels())
	sum.RecordingsCompleted, sum.RecordingsVerified, err = verifyRecordings(app, recBefore)
	if err != nil {
		return nil, err
	}
	if err := app.DB.Close(); err != nil {
		return nil, err
	}
	return sum, nil
}

// verifyRecordings counts the recordings this run stored (ids after
// since) and those whose file verifies (present, same size and SHA-256).
func verifyRecordings(app *App, since int64) (completed, verified int, err error) {
	err = eachRecording(app, func(rec recording.Recording) {
		if rec.ID <= since || rec.State != recording.StateStored {
			return
		}
		completed++
		if app.Files.Verify(rec) == nil {
			verified++
		}
	})
	return completed, verified, err
}

// lastRecordingID is the highest recording id so far (0 when none).
func lastRecordingID(app *App) (int64, error) {
	var last int64
	err := eachRecording(app, func(rec recording.Recording) { last = max(last, rec.ID) })
	return last, err
}

// eachRecording calls f for every recording row.
func eachRecording(app *App, f func(recording.Recording)) error {
	for offset := 0; ; {
		page, total, err := app.DB.ListRecordings(context.Background(), recording.Filter{Limit: 1000, Offset: offset})
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

// waitFor polls cond until it holds, ctx ends or timeout (0: none) passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("timed out after %s", timeout)
		case <-tick.C:
		}
	}
	return nil
}

// traffic places synthetic inbound calls with Poisson arrivals in simulated
// time: callers with a drawn patience (they abandon when it runs out before
// an agent answers) and a drawn talk time.
type traffic struct {
	sim      *sim.Server
	clock    simClock
	app      string
	rng      *rand.Rand
	mean     time.Duration // mean time between arrivals
	talk     time.Duration
	patience time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	stopped bool
	placed  int64
	timer   func() bool
}

func (t *traffic) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next()
}

// next schedules the next arrival; t.mu is held.
func (t *traffic) next() {
	t.timer = t.clock.AfterFunc(expDuration(t.rng, t.mean), func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.stopped {
			return
		}
		party := sim.Party{
			Patience: expDuration(t.rng, t.patience) + 5*time.Second,
			Talk:     lognormalDuration(t.rng, t.talk, 1.0),
		}
		// Most callers choose a menu option while the welcome plays (the
		// IVR keeps it as type-ahead); some wait and let the menu time out.
		if t.rng.Float64() < 0.9 {
			party.Digits = fmt.Sprint(1 + t.rng.IntN(2))
			party.DigitsDelay = time.Second + time.Duration(t.rng.Float64()*float64(2*time.Second))
		}
		from := fmt.Sprintf("+1555%07d", t.rng.IntN(10_000_000))
		if _, err := t.sim.Call(sim.Inbound{App: t.app, From: from, To: "8000", Party: party}); err != nil {
			t.log.Warn("synthetic call not placed", "err", err)
		} else {
			t.placed++
		}
		t.next()
	})
}

// stop ends arrivals and returns how many calls were placed.
func (t *traffic) stop() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.timer != nil {
		t.timer()
	}
	return t.placed
}

func printSummary(w io.Writer, s *DemoSummary) {
	fmt.Fprintf(w, "demo: %.0f s simulated in %.1f s (speed %g, seed %d, %d agents)\n", s.SimSeconds, s.WallSeconds, s.Speed, s.Seed, s.Agents)
	fmt.Fprintf(w, "calls: offered %d, answered %d, completed %d, abandoned %d, no agent %d, failed %d, interrupted %d\n",
		s.CallsOffered, s.CallsAnswered, s.CallsCompleted, s.CallsAbandoned, s.CallsNoAgent, s.CallsFailed, s.CallsInterrupted)
	fmt.Fprintf(w, "IVR: ended in the flow %d, voicemail %d, transferred %d\n", s.CallsIVR, s.CallsVoicemail, s.CallsTransferred)
	fmt.Fprintf(w, "call log rows: %d; PBX events: sent %d, received %d, lost %d\n", s.CDRRows, s.EventsSent, s.EventsReceived, s.EventsLost)
	fmt.Fprintf(w, "recordings: completed %d, verified %d\n", s.RecordingsCompleted, s.RecordingsVerified)
}

// expDuration draws an exponential duration with the given mean.
func expDuration(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}

// lognormalDuration draws a lognormal duration with the given mean and
// coefficient of variation (talk times are lognormal in call centers).
func lognormalDuration(r *rand.Rand, mean time.Duration, cv float64) time.Duration {
	s2 := math.Log(1 + cv*cv)
	mu := math.Log(float64(mean)) - s2/2
	return time.Duration(math.Exp(mu + math.Sqrt(s2)*r.NormFloat64()))
}

var _ center.Clock = simClock{}
