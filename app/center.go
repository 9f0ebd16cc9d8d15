package app

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/ivr/lookup"
	"github.com/switchboard/switchboard/ivr/registry"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
	"github.com/switchboard/switchboard/voicemail"
)

// newCenter builds the call lifecycle: agents, queues with their
// returning callers and callbacks, the VIP lists; with the router, the
// flows, the recordings and the campaign runner the earlier steps made
// (a.centerOpts).
func (a *App) newCenter(context.Context) error {
	cfg := a.Config
	vip, err := cfg.LoadVIP()
	if err != nil {
		return err
	}
	cc := cfg.Center
	o := a.centerOpts
	o.Config = center.Config{
		Greeting: cc.Greeting, NoAgentPrompt: cc.NoAgentPrompt, AgentRingTimeout: cc.AgentRingTimeout,
		AgentCallerID:  cc.AgentCallerID,
		CommandTimeout: cfg.Asterisk.RequestTimeout, Agents: cfg.DomainAgents(), Queues: cfg.Queues,
		VIP: vip, CallbackCallerID: cfg.Routing.CallbackCallerID,
	}
	o.PBX, o.CallLog, o.Clock, o.Observer, o.Log = a.PBX, a.DB, a.clock, a.Metrics, a.Log.With("component", "center")
	o.MonitorPolicy = monitorPolicy(cfg.Supervisors)
	a.Center = center.New(o)
	return nil
}

// buildRouter builds the ACD router for the center (routing.engine router,
// or basic: see BuildRouter), with the queue_log file, the callback store,
// the last agent of a returning caller and the agent state history.
func (a *App) buildRouter(context.Context) error {
	cfg, db := a.Config, a.DB
	r, err := BuildRouter(cfg)
	if err != nil {
		return err
	}
	o := &a.centerOpts
	if cfg.Routing.QueueLog != "" {
		w, err := queuelog.Open(cfg.Routing.QueueLog, queuelog.Options{Logger: a.Log.With("component", "queue_log")})
		if err != nil {
			return fmt.Errorf("queue_log: %w", err)
		}
		a.queueLog = w
		o.QueueLog = w
	}
	o.Router = r
	o.Callbacks = db
	o.LastAgent = db.LastAgent
	o.AgentHistory = func(ctx context.Context, st routing.AgentState, at time.Time) error {
		return db.InsertAgentState(ctx, &storage.AgentStateRow{Agent: st.Agent, State: string(st.State),
			Reason: st.Reason, CallID: st.Call, At: at})
	}
	return nil
}

// loadIVR loads the flows (kept by a registry that reloads them) and
// gives the center its routes by number and calendar, and the voicemail
// store with its webhook.
func (a *App) loadIVR(context.Context) error {
	cfg := a.Config
	cals, err := cfg.CalendarSet()
	if err != nil {
		return err
	}
	if a.Flows, err = registry.New(cfg, cals, a.Log.With("component", "ivr")); err != nil {
		return err
	}
	var routes []center.Route
	for _, r := range cfg.IVR.Routes {
		routes = append(routes, center.Route{DNIS: r.DNIS, Flow: r.Flow, Calendar: r.Calendar, ClosedFlow: r.ClosedFlow})
	}
	a.voicemail = voicemail.New(a.DB, cfg.IVR.VoicemailWebhook, nil, a.Log.With("component", "voicemail"))
	a.centerOpts.IVR = center.IVROptions{
		Flows: a.Flows, Routes: routes, Calendars: cals, Location: cfg.IVR.Location(),
		Voicemail:       a.voicemail,
		Lookup:          lookup.Client{HTTP: a.opts.Lookups, MaxBody: cfg.IVR.LookupMaxBody},
		TransferContext: cfg.IVR.TransferContext, TrunkTemplate: cfg.IVR.TrunkTemplate,
		Observer: a.opts.IVRObserver,
	}
	return nil
}

// watchFlows reloads the flows when their files change, until ctx ends.
func (a *App) watchFlows(ctx context.Context) {
	w, err := a.Flows.Watch()
	if err != nil {
		a.Log.Warn("flow files are not watched; reload with SIGHUP or the API", "err", err)
		return
	}
	a.wg.Go(func() { w.Run(ctx) })
}
