// Package app wires a Switchboard controller together: it opens the
// database, builds the PBX adapter, the call center with its router, IVR,
// recordings and campaigns, the HTTP API and its metrics, and runs them.
// Start reads as the list of those steps; each step is a method of its own
// in the file named after its concern. The commands in cmd/switchboard only
// parse flags and call Start or Serve.
//
// app is the one package that may import both the SQL store and HTTP: it
// adapts the one to the other (stored history served by the API).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/ivr/registry"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/recording/files"
	"github.com/switchboard/switchboard/storage"
	"github.com/switchboard/switchboard/voicemail"
)

// App is a running controller: database, PBX link, call lifecycle and HTTP.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	DB     *storage.DB
	PBX    *ari.Adapter
	Center *center.Center
	// Outbound runs the campaigns.
	Outbound *outbound.Runner
	Metrics  *api.Metrics
	Flows    *registry.Registry
	Files    *files.Store // the recordings folder
	HTTP     *http.Server
	Addr     net.Addr // where HTTP listens

	opts  Options
	clock sb.Clock
	// centerOpts are the center's options, filled in by the steps before
	// newCenter builds it.
	centerOpts center.Options
	queueLog   *queuelog.Writer   // nil unless routing.queue_log is set
	voicemail  *voicemail.Webhook // stores messages, posts ivr.voicemail_webhook
	api        *api.Server        // routes are added step by step
	listener   net.Listener

	cancel context.CancelFunc
	// stopStats ends the queue statistics sampler and waits for its last
	// interval to be stored.
	stopStats func()
	wg        sync.WaitGroup // every goroutine Start started
	stopOnce  sync.Once
	pbxErr    chan error // the PBX link's end: nil error on shutdown
	ctrErr    chan error
}

// Options are what a caller other than serve changes in the wiring.
type Options struct {
	// Clock is the center's clock (the simulator's in the demo); nil is
	// the wall clock.
	Clock sb.Clock
	// IVRObserver is told what each call's flow does (the `ivr test`
	// tool); nil for none.
	IVRObserver func(ivr.Note)
	// Lookups is the HTTP client of flow look-ups (stubbed by `ivr test`);
	// nil for the center's default.
	Lookups *http.Client
	// PBXDial opens every connection to the PBX (the demo's in-memory pipe
	// to its simulator); nil dials asterisk.url over TCP.
	PBXDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Start opens the database, connects to the PBX (retrying in the
// background while it is unreachable), starts the call lifecycle and the
// HTTP server. On an error everything opened so far is closed again.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*App, error) {
	a := &App{Config: cfg, Log: log, opts: opts, clock: opts.Clock, Metrics: api.NewMetrics(),
		pbxErr: make(chan error, 1), ctrErr: make(chan error, 1)}
	if a.clock == nil {
		a.clock = sb.RealClock{}
	}
	steps := []func(context.Context) error{
		a.openStorage,            // the database, migrated
		a.newPBX,                 // the ARI adapter (it connects once running)
		a.buildRouter,            // the ACD (routing.engine router or basic), queue_log, callbacks, history
		a.loadIVR,                // flows (hot reload), routes, calendars, voicemail
		a.openRecordings,         // recordings folder, policies
		a.newOutbound,            // the campaign runner
		a.newCenter,              // the call lifecycle with all the above; who may monitor
		a.registerMetrics,        // PBX link, requests and center gauges
		a.newAPI,                 // HTTP API: tokens, queue scopes, readiness, IVR routes
		a.addRecordingRoutes,     // recordings, stored and live
		a.addSupervisionRoutes,   // monitoring and on-demand recording
		a.addCampaignRoutes,      // campaigns and leads; the runner's routes
		a.addAgentAndQueueRoutes, // agents and queues, live and history
		a.listen,                 // the HTTP listener with its limits
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			a.release()
			return nil, err
		}
	}
	a.run()
	log.Info("switchboard started", "http", a.Addr.String(), "ari", cfg.Asterisk.URL, "app", cfg.Asterisk.Application,
		"agents", len(cfg.Agents))
	return a, nil
}

// openStorage opens (and migrates) the database.
func (a *App) openStorage(ctx context.Context) error {
	db, err := storage.Open(ctx, a.Config.Database.DSN)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	a.DB = db
	return nil
}

// run starts the goroutines: campaigns, queue statistics, retention, the
// flow watch, then the PBX link, the center and the HTTP server.
func (a *App) run() {
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.runOutbound(runCtx)
	a.runQueueStats(runCtx)
	a.runRetention(runCtx)
	a.watchFlows(runCtx)
	a.wg.Go(func() { a.pbxErr <- a.PBX.Run(runCtx) })
	a.wg.Go(func() { a.ctrErr <- a.Center.Run(runCtx) })
	a.wg.Go(a.serveHTTP)
}

// Failed returns a channel that yields the PBX link's fatal error (e.g. the
// credentials were rejected).
func (a *App) Failed() <-chan error { return a.pbxErr }

// Drain stops taking new calls and waits for live calls to end.
func (a *App) Drain(ctx context.Context) error { return a.Center.Drain(ctx) }

// Close stops everything and waits for every goroutine it started, then
// closes the recordings folder, the queue_log file and the database.
func (a *App) Close() error {
	a.Stop()
	return a.release()
}

// Stop ends the goroutines Start started and waits for them, leaving the
// database open (the demo counts its rows after the last call is written);
// Close after it. Stop may be called more than once.
func (a *App) Stop() { a.stopOnce.Do(a.stop) }

// stop ends the goroutines Start started, in order: HTTP first (no new
// API calls); then the queue statistics sampler, which stores the last
// interval from a final snapshot of the router taken while the center
// still runs (once the center stops the router cannot be asked, and the
// calls since the sampler's last peek would be lost); then the PBX link,
// the center and the rest, waiting for all of them, and the voicemail
// webhook posts still under way. The database stays open.
func (a *App) stop() {
	a.shutdownHTTP()
	if a.stopStats != nil {
		a.stopStats()
	}
	a.cancel()
	a.wg.Wait()
	if a.voicemail != nil {
		a.voicemail.Wait()
	}
}

// release closes what the steps opened: the recordings folder, the
// queue_log file and the database.
func (a *App) release() error {
	if a.Files != nil {
		a.Files.Close()
	}
	if a.queueLog != nil {
		a.queueLog.Close()
	}
	if a.DB == nil {
		return nil
	}
	return a.DB.Close()
}
