package app

import (
	"context"

	"github.com/switchboard/switchboard/queuestats"
)

// runQueueStats stores the router's queue statistics every
// routing.stats_interval. The sampler has its own
// context: stop ends it first, so that its last look at the router comes
// while the center still runs. It is under a.wg too, for a center that
// stops by itself.
func (a *App) runQueueStats(ctx context.Context) {
	statsCtx, stopStats := context.WithCancel(ctx)
	done := make(chan struct{})
	a.stopStats = func() { stopStats(); <-done }
	a.wg.Go(func() {
		defer close(done)
		queuestats.Run(statsCtx, a.Config.Routing.StatsInterval, a.Center.RoutingSnapshot, a.DB,
			a.Log.With("component", "queuestats"))
	})
}
