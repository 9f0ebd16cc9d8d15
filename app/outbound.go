package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/outbound"
)

// newOutbound builds the campaign runner (campaigns dial through the
// router's agents): its metrics and its hooks in the center. It places its
// calls through the center, built next (the runner starts after it).
func (a *App) newOutbound(context.Context) error {
	pbx := a.PBX
	a.Outbound = outbound.New(outbound.Options{
		Store: a.DB, Placer: centerPlacer{a}, Agents: func(ctx context.Context, queue string) ([]dialer.Agent, error) {
			return a.Center.CampaignAgents(ctx, queue)
		},
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
	a.centerOpts.Campaigns = center.Campaigns{Report: runner.Report, Adopt: runner.AdoptedDial, Connect: runner.Connect}
	return nil
}

// centerPlacer places the campaign runner's calls through the center,
// which is built after the runner (its options name the runner's hooks).
type centerPlacer struct{ a *App }

var _ outbound.Placer = centerPlacer{}

func (p centerPlacer) Dial(ctx context.Context, d outbound.Dial) error {
	return p.a.Center.Dial(ctx, d)
}

// addCampaignRoutes adds the campaign routes (campaigns and leads) and
// the runner's.
func (a *App) addCampaignRoutes(context.Context) error {
	a.api.AddCampaignRoutes(a.DB)
	a.api.AddOutboundRoutes(a.Outbound, a.DB)
	return nil
}

// runOutbound runs the campaigns once the PBX link is up (the runner
// reconciles its attempts with the PBX's channels first), until ctx ends.
func (a *App) runOutbound(ctx context.Context) {
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
