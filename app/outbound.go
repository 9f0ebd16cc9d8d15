package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/outbound"
)

// attachOutbound adds the campaign routes and, with routing.engine router
// (campaigns dial through the router's agents), builds the campaign
// runner: its metrics, its hooks in the center and its routes.
func (a *App) attachOutbound(context.Context) error {
	a.api.AddCampaignRoutes(a.DB) // campaigns and leads are managed whatever the engine
	if !a.usesRouter() {
		return nil
	}
	pbx := a.PBX
	a.Outbound = outbound.New(outbound.Options{
		Store: a.DB, Placer: a.Center, Agents: a.Center.CampaignAgents,
		Globals: pbx, Node: pbx.Node(),
		LiveChannels: func(ctx context.Context) ([]string, error) {
			chans, err := pbx.Channels(ctx)
			ids := make([]string, len(chans))
			for i, ch := range chans {
				ids[i] = string(ch.ID)
			}
			return ids, err
		},
		Location: a.Config.IVR.Location(), Log: a.Log.With("component", "outbound"),
		Now: a.clock.Now, AfterFunc: a.clock.AfterFunc, Tick: time.Second,
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
	a.Center.SetOutbound(runner.Report)
	a.Center.SetOutboundAdopter(runner.AdoptedDial)
	a.Center.SetOutboundConnector(runner.Connect)
	a.api.AddOutboundRoutes(runner, a.DB)
	return nil
}

// runOutbound runs the campaigns once the PBX link is up (the runner
// reconciles its attempts with the PBX's channels first), until ctx ends.
func (a *App) runOutbound(ctx context.Context) {
	if a.Outbound == nil {
		return
	}
	a.wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for !a.PBX.Ready() {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		if err := a.Outbound.Run(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("outbound campaigns stopped", "err", err)
		}
	})
}
