package app

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

// TestQueueStatsStoredAtStopEqualRouter: a run's stored queue_stats
// intervals add up to the router's counters when the app stops, calls
// since the sampler's last peek included: its last look comes before the
// center stops.
func TestQueueStatsStoredAtStopEqualRouter(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, 50)
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1, Talk: 3 * time.Second})
	cfgPath := simConfig(t, s, "right-password")
	body, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Peeks are 15 s of wall time apart: the calls below end long before
	// the first one, so only the last look at stop can count them.
	extra := "queues:\n  - name: sales\nrouting:\n  engine: router\n  stats_interval: 1h\n"
	if err := os.WriteFile(cfgPath, append(body, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	app, err := Start(ctx, cfg, slog.New(slog.DiscardHandler), Options{Clock: simClock{s.Clock()}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			app.Close()
		}
	})
	if err := waitFor(ctx, 10*time.Second, func() bool {
		return app.PBX.Ready() && slices.Contains(s.Apps(), "switchboard")
	}); err != nil {
		t.Fatal(err)
	}

	// Three callers for one agent, the last of whom gives up waiting.
	for i, p := range []sim.Party{{}, {}, {Patience: 4 * time.Second}} {
		if _, err := s.Call(sim.Inbound{App: "switchboard", From: "+1555777000" + string(rune('1'+i)), To: "8000", Party: p}); err != nil {
			t.Fatal(err)
		}
	}
	var rowsLogged int
	if err := waitFor(ctx, 20*time.Second, func() bool {
		rowsLogged, _ = app.DB.CountCDR(ctx)
		return rowsLogged == 3 && app.Center.ActiveCalls() == 0 && len(s.Channels()) == 0
	}); err != nil {
		t.Fatalf("calls did not end: %v (%d call-log rows, %d live)", err, rowsLogged, app.Center.ActiveCalls())
	}
	sn, err := app.Center.RoutingSnapshot(ctx)
	if err != nil || len(sn.Queues) != 1 {
		t.Fatalf("snapshot %+v, %v", sn, err)
	}
	sales := sn.Queues[0].QueueStats
	if sales.Answered == 0 || sales.Waiting+sales.Ringing != 0 {
		t.Fatalf("sales %+v: want answered calls and nobody left in the queue", sales)
	}
	closed = true
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := storage.Open(ctx, cfg.Database.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueueHistory(ctx, "sales", start.Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var got storage.QueueInterval
	for _, r := range rows {
		got.Offered += r.Offered
		got.Answered += r.Answered
		got.Abandoned += r.Abandoned
		got.Exited += r.Exited
		got.Completed += r.Completed
	}
	want := storage.QueueInterval{Offered: sales.Answered + sales.Abandoned + sales.Exited,
		Answered: sales.Answered, Abandoned: sales.Abandoned, Exited: sales.Exited, Completed: sales.Completed}
	if got != want {
		t.Fatalf("stored queue_stats totals (%d rows) = offered %d answered %d abandoned %d exited %d completed %d; "+
			"the router counted offered %d answered %d abandoned %d exited %d completed %d",
			len(rows), got.Offered, got.Answered, got.Abandoned, got.Exited, got.Completed,
			want.Offered, want.Answered, want.Abandoned, want.Exited, want.Completed)
	}
}
