package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/recording/files"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
)

// App is a running controller: database, PBX link, call lifecycle and HTTP.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	DB     *storage.DB
	PBX    *ari.Adapter
	Center *center.Center
	// Outbound runs the campaigns (routing.engine router; nil otherwise).
	Outbound *outbound.Runner
	Metrics  *api.Metrics
	Flows    *flowRegistry
	Files    *files.Store // the recordings folder

	queueLog *queuelog.Writer // nil unless routing.queue_log is set
	HTTP     *http.Server
	Addr     net.Addr // where HTTP listens

	clock  center.Clock
	cancel context.CancelFunc
	// stopStats ends the queue statistics sampler and waits for its last
	// interval to be stored (nil without the router).
	stopStats func()
	wg        sync.WaitGroup
	pbxErr    chan error // the PBX link's end: nil error on shutdown
	ctrErr    chan error
}

// newLogger builds the process logger from the config.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// StartApp opens the database, connects to the PBX (retrying in the
// background while it is unreachable), starts the call lifecycle and the
// HTTP server. clock is the center's clock (the simulator's in the demo).
func StartApp(ctx context.Context, cfg *config.Config, log *slog.Logger, clock center.Clock) (*App, error) {
	return startApp(ctx, cfg, log, clock, nil, nil)
}

// startApp is StartApp with an IVR observer and the HTTP client of flow
// lookups (the `ivr test` tool).
func startApp(ctx context.Context, cfg *config.Config, log *slog.Logger, clock center.Clock, observer func(center.IVRNote), lookups *http.Client) (*App, error) {
	a := &App{Config: cfg, Log: log, clock: clock, pbxErr: make(chan error, 1), ctrErr: make(chan error, 1)}
	db, err := storage.Open(ctx, cfg.Database.DSN)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	a.DB = db
	a.Metrics = api.NewMetrics()
	ac := cfg.Asterisk
	pbx, err := ari.New(ari.Config{
		URL: ac.URL, WebsocketURL: ac.WebsocketURL, Username: ac.Username, Password: ac.Password,
		Application: ac.Application, RequestTimeout: ac.RequestTimeout,
		ReconnectMin: ac.ReconnectMin, ReconnectMax: ac.ReconnectMax, QueueLimit: ac.EventQueueLimit,
		MaxConnections: ac.MaxConnections,
		Overload: ari.OverloadConfig{Window: ac.Overload.Window, MinRequests: ac.Overload.MinRequests,
			FailureRatio: ac.Overload.FailureRatio, P95Latency: ac.Overload.P95Latency},
		Logger: log.With("component", "ari"), Observe: a.Metrics.ObserveARI,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("asterisk: %w", err)
	}
	a.PBX = pbx
	agents := cfg.DomainAgents()
	cc := cfg.Center
	var queues []center.QueueConfig
	for _, q := range cfg.Queues {
		qc := center.QueueConfig{Name: q.Name, WaitForAgent: cfg.QueueWait(q), ReturningCaller: q.ReturningCaller,
			Callback: center.QueueCallback{Key: q.Callback.Key, Prompt: q.Callback.Prompt, Confirmation: q.Callback.Confirmation}}
		for _, id := range q.Agents {
			qc.Agents = append(qc.Agents, sb.AgentID(id))
		}
		queues = append(queues, qc)
	}
	vip, err := cfg.LoadVIP()
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Center = center.New(center.Config{
		Greeting: cc.Greeting, NoAgentPrompt: cc.NoAgentPrompt, AgentRingTimeout: cc.AgentRingTimeout,
		AgentCallerID: cc.AgentCallerID, WaitForAgent: cc.WaitForAgent, RetryInterval: cc.RetryInterval,
		CommandTimeout: ac.RequestTimeout, Agents: agents, Queues: queues,
		VIP: vip, CallbackCallerID: cfg.Routing.CallbackCallerID,
	}, pbx, db, clock, a.Metrics, log.With("component", "center"))

	if cfg.Routing.Engine == "router" {
		r, err := buildRouter(cfg)
		if err != nil {
			db.Close()
			return nil, err
		}
		var qlog center.QueueLogger
		if cfg.Routing.QueueLog != "" {
			w, err := queuelog.Open(cfg.Routing.QueueLog, queuelog.Options{Logger: log.With("component", "queue_log")})
			if err != nil {
				db.Close()
				return nil, fmt.Errorf("queue_log: %w", err)
			}
			a.queueLog = w
			qlog = w
		}
		a.Center.SetRouter(r, qlog)
		a.Center.SetCallbackStore(db)
		a.Center.SetLastAgent(db.LastAgent)
		a.Center.SetAgentHistory(func(ctx context.Context, st routing.AgentState, at time.Time) error {
			return db.InsertAgentState(ctx, &storage.AgentStateRow{Agent: st.Agent, State: string(st.State),
				Reason: st.Reason, CallID: st.Call, At: at})
		})
	}

	cals, err := cfg.CalendarSet()
	if err != nil {
		db.Close()
		return nil, err
	}
	if a.Flows, err = newFlowRegistry(cfg, cals, log.With("component", "ivr")); err != nil {
		db.Close()
		return nil, err
	}
	var routes []center.Route
	for _, r := range cfg.IVR.Routes {
		routes = append(routes, center.Route{DNIS: r.DNIS, Flow: r.Flow, Calendar: r.Calendar, ClosedFlow: r.ClosedFlow})
	}
	a.Center.SetIVR(center.IVROptions{
		Flows: a.Flows, Routes: routes, Calendars: cals, Location: cfg.IVR.Location(),
		Voicemail:     &voicemailHook{db: db, url: cfg.IVR.VoicemailWebhook, log: log.With("component", "voicemail"), wg: &a.wg},
		LookupMaxBody: cfg.IVR.LookupMaxBody, TransferContext: cfg.IVR.TransferContext, TrunkTemplate: cfg.IVR.TrunkTemplate,
		Observer: observer, HTTP: lookups,
	})

	a.Metrics.SetActiveCallsFunc(a.Center.ActiveCalls)
	a.Metrics.SetLinkUpFunc(pbx.Ready)
	engine := a.Center
	a.Metrics.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_center_inbox_depth",
			Help: "Work posted to the call engine's owner goroutine and not yet run.",
		}, func() float64 { return float64(engine.InboxDepth()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_center_inbox_overflows_total",
			Help: "Posts to the call engine past its inbox limit (kept, and logged as errors): the engine is not keeping up.",
		}, func() float64 { return float64(engine.InboxOverflows()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_credentials_refused",
			Help: "1 while the PBX refuses the ARI credentials on reconnecting (changed on the PBX under a running Switchboard): live calls are not managed.",
		}, func() float64 {
			if pbx.Stats().CredentialsRefused {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_pbx_credentials_rejected_total",
			Help: "Reconnection attempts the PBX refused with 401 after the link had been up.",
		}, func() float64 { return float64(pbx.Stats().CredentialsRejected) }),
		newPBXRequestCollector(func() []ari.RouteStats { return pbx.Stats().Routes }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_pbx_command_retries_total",
			Help: "Commands that decide a call's state (hang-ups, bridge removals and destroys, recording stops) the PBX neither confirmed nor refused at first, retried with back-off until it did.",
		}, func() float64 { return float64(a.Center.SettleRetries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_recordings_open",
			Help: "Recordings being made or fetched: from their start until their file is stored or they are marked failed.",
		}, func() float64 { return float64(a.Center.OpenRecordings()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_max_connections",
			Help: "HTTP connections to the PBX (ARI) at most, the events websocket included (asterisk.max_connections).",
		}, func() float64 { return float64(pbx.Stats().MaxConnections) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_requests_in_flight",
			Help: "Requests to the PBX's REST interface holding a connection now.",
		}, func() float64 { return float64(pbx.Stats().RequestsInFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_requests_waiting",
			Help: "Requests to the PBX's REST interface waiting for a free connection (every one of asterisk.max_connections busy).",
		}, func() float64 { return float64(pbx.Stats().RequestsWaiting) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_overloaded",
			Help: "1 while the PBX looks overloaded over asterisk.overload.window (ARI requests failing or slow): /healthz says degraded.",
		}, func() float64 {
			if o, _ := pbx.Overload(); o {
				return 1
			}
			return 0
		}),
	)
	a.Metrics.SetEventStatsFunc(func() (uint64, uint64) {
		s := pbx.Stats()
		return uint64(s.EventsReceived), uint64(s.EventsLost)
	})
	srv := api.New(api.Options{
		Tokens: apiTokens(cfg), Queues: apiQueues(cfg), Calls: a.Center, CDR: db, Metrics: a.Metrics, Logger: log.With("component", "http"),
		Ready: func() (bool, string) {
			if a.Center.Draining() {
				return false, "draining"
			}
			if pbx.Stats().CredentialsRefused {
				return false, "PBX refuses the ARI credentials"
			}
			if !pbx.Ready() {
				return false, "PBX link down"
			}
			return true, ""
		},
		Degraded: pbx.Overload,
	})
	srv.AddIVRRoutes(a.Flows, db)
	rc := cfg.Recording
	if a.Files, err = files.Open(files.Config{Dir: cfg.RecordingPath(), SharedDir: rc.SharedDir, DeleteFromPBX: rc.DeleteFromPBX},
		pbx, log.With("component", "recording")); err != nil {
		db.Close()
		return nil, fmt.Errorf("recordings folder: %w", err)
	}
	store := a.Files
	a.Center.SetRecording(center.RecordingOptions{Policies: rc.Policies, Repo: db,
		Fetch: func(ctx context.Context, rec *recording.Recording) error {
			f, err := store.Fetch(ctx, rec.Name)
			if err != nil {
				return err
			}
			f.Apply(rec, rec.Ended.Time)
			return nil
		}})
	srv.AddRecordingRoutes(db, store).SetLive(a.Center)
	sups := supervisorDir(cfg.Supervisors)
	srv.AddMonitorRoutes(monitoring{a.Center}, sups)
	srv.AddCallRecordingRoutes(monitoring{a.Center})
	srv.AddCampaignRoutes(db)
	if cfg.Routing.Engine == "router" {
		// Campaigns dial through the router's agents.
		a.Outbound = outbound.New(outbound.Options{
			Store: db, Placer: a.Center, Agents: a.Center.CampaignAgents,
			Globals: pbx, Node: pbx.Node(),
			LiveChannels: func(ctx context.Context) ([]string, error) {
				chans, err := pbx.Channels(ctx)
				ids := make([]string, len(chans))
				for i, ch := range chans {
					ids[i] = string(ch.ID)
				}
				return ids, err
			},
			Location: cfg.IVR.Location(), Log: log.With("component", "outbound"),
			Now: clock.Now, Tick: runnerTick(clock),
		})
		runner := a.Outbound
		a.Metrics.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "switchboard_outbound_reports_dropped_total",
				Help: "Reports of campaign calls the dialer lost because its queue was full (each also logged as an error; the attempt is closed at the next start).",
			}, func() float64 { return float64(runner.Dropped()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "switchboard_outbound_reports_queued",
				Help: "Reports of campaign calls waiting for the dialer's loop.",
			}, func() float64 { return float64(runner.QueueDepth()) }),
		)
		a.Center.SetOutbound(a.Outbound.Report)
		a.Center.SetOutboundAdopter(a.Outbound.AdoptedDial)
		a.Center.SetOutboundConnector(a.Outbound.Connect)
		srv.AddOutboundRoutes(a.Outbound, db)
	}
	srv.AddAgentRoutes(a.Center)
	srv.AddAgentHistoryRoute(agentHistory{db})
	srv.AddQueueRoutes(a.Center.RoutingSnapshot, queueHistory{db})
	a.Center.SetMonitorPolicy(func(endpoint string, queue sb.QueueName, _ sb.AgentID) bool {
		for _, sv := range cfg.Supervisors {
			if strings.EqualFold(sv.Endpoint, endpoint) && sv.MayMonitor(string(queue)) {
				return true
			}
		}
		return false
	})
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("http listen %s: %w", cfg.HTTP.Listen, err)
	}
	a.Addr = ln.Addr()
	limits := api.Limits{ReadTimeout: cfg.HTTP.ReadTimeout, WriteTimeout: cfg.HTTP.WriteTimeout, IdleTimeout: cfg.HTTP.IdleTimeout,
		MaxHeaderBytes: cfg.HTTP.MaxHeaderBytes, MaxConnections: cfg.HTTP.MaxConnections}
	ln = srv.Listener(ln, limits)
	a.HTTP = srv.HTTPServer(limits)

	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	if a.Outbound != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			// The runner reconciles its attempts with the PBX's channels
			// first: wait for the link.
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for !pbx.Ready() {
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
				}
			}
			if err := a.Outbound.Run(runCtx); err != nil && runCtx.Err() == nil {
				log.Error("outbound campaigns stopped", "err", err)
			}
		}()
	}
	if cfg.Routing.Engine == "router" {
		// Its own context: stop ends it first, so that its last look at
		// the router comes while the center still runs (see stop). Under
		// a.wg too, for a center that stops by itself.
		statsCtx, stopStats := context.WithCancel(runCtx)
		done := make(chan struct{})
		a.stopStats = func() { stopStats(); <-done }
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer close(done)
			runQueueStats(statsCtx, cfg.Routing.StatsInterval, a.Center.RoutingSnapshot, db, log.With("component", "queuestats"))
		}()
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.purgeRecordings(runCtx, rc.PurgeInterval, rc.Policies)
	}()
	if err := a.Flows.watch(runCtx, cfg); err != nil {
		log.Warn("flow files are not watched; reload with SIGHUP or the API", "err", err)
	}
	a.wg.Add(3)
	go func() {
		defer a.wg.Done()
		a.pbxErr <- pbx.Run(runCtx)
	}()
	go func() {
		defer a.wg.Done()
		a.ctrErr <- a.Center.Run(runCtx)
	}()
	go func() {
		defer a.wg.Done()
		if err := a.HTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("switchboard started", "http", a.Addr.String(), "ari", ac.URL, "app", ac.Application, "agents", len(agents))
	return a, nil
}

// Failed returns a channel that yields the PBX link's fatal error (e.g. the
// credentials were rejected).
func (a *App) Failed() <-chan error { return a.pbxErr }

// Drain stops taking new calls and waits for live calls to end.
func (a *App) Drain(ctx context.Context) error { return a.Center.Drain(ctx) }

// Close stops everything and waits for every goroutine it started.
func (a *App) Close() error {
	a.stop()
	a.Files.Close()
	if a.queueLog != nil {
		a.queueLog.Close()
	}
	return a.DB.Close()
}

// stop ends the goroutines StartApp started, in order: HTTP first (no new
// API calls); then the queue statistics sampler, which stores the last
// interval from a final snapshot of the router taken while the center
// still runs (once the center stops the router cannot be asked, and the
// calls since the sampler's last peek would be lost); then the PBX link,
// the center and the rest, waiting for all of them. The database stays
// open.
func (a *App) stop() {
	shutdownHTTP(a)
	if a.stopStats != nil {
		a.stopStats()
	}
	a.cancel()
	a.wg.Wait()
}

// purgeRecordings runs retention every interval until ctx ends.
func (a *App) purgeRecordings(ctx context.Context, every time.Duration, ps recording.Policies) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rep, err := a.Files.Purge(ctx, a.DB, ps, time.Now())
			if err != nil {
				a.Log.Error("recording retention", "err", err)
			} else if rep.Deleted+rep.Failed > 0 {
				a.Log.Info("recording retention", "deleted", rep.Deleted, "busy", rep.Busy, "failed", rep.Failed)
			}
		}
	}
}

// redact hides a secret in a string (belt and braces for error texts).
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "***")
}

// shutdownHTTP stops the HTTP server.
func shutdownHTTP(a *App) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.HTTP.Shutdown(ctx)
}

// monitoring adapts the center's supervision to the API's.
type monitoring struct{ c *center.Center }

func (m monitoring) Monitor(ctx context.Context, call sb.CallID, endpoint, mode string) error {
	return m.c.Monitor(ctx, call, endpoint, center.MonitorMode(mode))
}
func (m monitoring) SetMonitorMode(ctx context.Context, call sb.CallID, mode string) error {
	return m.c.SetMonitorMode(ctx, call, center.MonitorMode(mode))
}
func (m monitoring) StopMonitor(ctx context.Context, call sb.CallID) error {
	return m.c.StopMonitor(ctx, call)
}
func (m monitoring) StartRecording(ctx context.Context, call sb.CallID) error {
	return m.c.StartRecording(ctx, call)
}
func (m monitoring) StopRecording(ctx context.Context, call sb.CallID) error {
	return m.c.StopRecording(ctx, call)
}
func (m monitoring) MonitorInfo(ctx context.Context, call sb.CallID) (sb.QueueName, sb.AgentID, error) {
	return m.c.MonitorInfo(ctx, call)
}
func (m monitoring) RecordingPolicy(ctx context.Context, call sb.CallID) (recording.Policy, error) {
	return m.c.RecordingPolicy(ctx, call)
}

// apiTokens are the configured API tokens as the API takes them.
func apiTokens(cfg *config.Config) []api.Token {
	var tokens []api.Token
	for _, t := range cfg.API.Tokens {
		tk := api.Token{Name: t.Name, Role: api.Role(t.Role), SHA256: t.SHA256}
		for _, q := range t.Queues {
			tk.Queues = append(tk.Queues, sb.QueueName(q))
		}
		tokens = append(tokens, tk)
	}
	return tokens
}

// apiQueues are the configured queues and who answers them, for the API's
// queue scopes: a queue configured without agents is answered by all.
func apiQueues(cfg *config.Config) []api.QueueMembers {
	var out []api.QueueMembers
	for _, q := range cfg.Queues {
		m := api.QueueMembers{Queue: sb.QueueName(q.Name)}
		ids := q.Agents
		if len(ids) == 0 {
			for _, a := range cfg.Agents {
				ids = append(ids, a.ID)
			}
		}
		for _, id := range ids {
			m.Agents = append(m.Agents, sb.AgentID(id))
		}
		out = append(out, m)
	}
	return out
}

// supervisorDir finds supervisors by their API token's name.
type supervisorDir []config.Supervisor

func (d supervisorDir) Supervisor(token string) (string, func(string) bool, bool) {
	for _, sv := range d {
		if sv.Token != "" && sv.Token == token {
			return sv.Endpoint, sv.MayMonitor, true
		}
	}
	return "", nil, false
}

// voicemailHook stores voicemail messages and, when a webhook is
// configured, POSTs each new message's metadata to it (retrying briefly;
// a webhook that stays down is logged, the message is kept either way).
type voicemailHook struct {
	db  *storage.DB
	url string
	log *slog.Logger
	wg  *sync.WaitGroup
}

func (h *voicemailHook) InsertVoicemail(ctx context.Context, v *sb.Voicemail) error {
	if err := h.db.InsertVoicemail(ctx, v); err != nil {
		return err
	}
	if h.url == "" {
		return nil
	}
	body, err := json.Marshal(struct {
		Event     string        `json:"event"`
		Voicemail *sb.Voicemail `json:"voicemail"`
	}{"voicemail.new", v})
	if err != nil {
		return nil
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		client := &http.Client{Timeout: 10 * time.Second}
		for attempt := range 3 {
			resp, err := client.Post(h.url, "application/json", bytes.NewReader(body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 300 {
					return
				}
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			h.log.Warn("voicemail webhook", "call_id", v.CallID, "attempt", attempt+1, "err", err)
			time.Sleep(time.Duration(attempt+1) * time.Second)
		}
	}()
	return nil
}

// agentHistory serves agent state history from the database.
type agentHistory struct{ db *storage.DB }

func (h agentHistory) AgentStateHistory(ctx context.Context, agent sb.AgentID, from, to time.Time, limit int) (any, error) {
	return h.db.AgentStates(ctx, agent, from, to, limit)
}

// runnerTick is the campaign runner's pacing interval: a second of the
// clock's time (a simulated clock running faster paces as often in its
// own time).
func runnerTick(c center.Clock) time.Duration {
	if s, ok := c.(interface{ Speed() float64 }); ok && s.Speed() > 1 {
		return max(2*time.Millisecond, time.Duration(float64(time.Second)/s.Speed()))
	}
	return time.Second
}
