package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/storage"
)

func TestQueueIntervals(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	row := func(queue sb.QueueName, slot, answered int) storage.QueueInterval {
		return storage.QueueInterval{
			Start: t0.Add(time.Duration(slot) * 15 * time.Minute), Seconds: 900, Queue: queue,
			Offered: answered + 2, Answered: answered, AnsweredInSL: answered - 1, MissedSL: 1, SLEstimated: slot == 1,
			Abandoned: 1, Exited: 1, Completed: answered, WaitSeconds: 12.5, HandleSeconds: 1834.25,
			MaxWaiting: 4, MaxLongestWaitSeconds: 61.5, ServiceLevelTarget: 0.8, ServiceLevelTimeSeconds: 20,
		}
	}
	// Written out of order and in a zone other than UTC: read back in order, in UTC.
	in := []storage.QueueInterval{row("support", 2, 7), row("support", 0, 5), row("sales", 0, 3), row("support", 1, 6)}
	in[0].Start = in[0].Start.In(time.FixedZone("CET", 3600))
	if err := db.InsertQueueIntervals(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := db.QueueHistory(ctx, "support", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.QueueInterval{row("support", 0, 5), row("support", 1, 6), row("support", 2, 7)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	// The range is [from, to) on the start.
	got, _ = db.QueueHistory(ctx, "support", t0.Add(15*time.Minute), t0.Add(30*time.Minute))
	if len(got) != 1 || got[0].Answered != 6 {
		t.Errorf("one slot = %+v", got)
	}
	if got, _ := db.QueueHistory(ctx, "nobody", time.Time{}, time.Time{}); got == nil || len(got) != 0 {
		t.Errorf("unknown queue = %#v, want an empty list", got)
	}

	// The same (queue, start) again replaces the row: a retried write
	// leaves one row with the latest figures.
	again := row("support", 1, 9)
	if err := db.InsertQueueIntervals(ctx, []storage.QueueInterval{again, again}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.QueueHistory(ctx, "support", time.Time{}, time.Time{})
	if len(got) != 3 || got[1] != again {
		t.Errorf("after upsert = %+v", got)
	}
}

func TestQueueIntervalsInvalid(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	good := storage.QueueInterval{Queue: "support", Start: t0, Seconds: 900, Offered: 1}
	for name, r := range map[string]storage.QueueInterval{
		"no queue":       {Start: t0, Seconds: 900},
		"no start":       {Queue: "support", Seconds: 900},
		"negative count": {Queue: "support", Start: t0.Add(time.Hour), Seconds: 900, Abandoned: -1},
	} {
		// A bad row fails the whole batch: the good one is not written.
		if err := db.InsertQueueIntervals(ctx, []storage.QueueInterval{good, r}); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
	if got, _ := db.QueueHistory(ctx, "support", time.Time{}, time.Time{}); len(got) != 0 {
		t.Errorf("rows written despite a bad batch: %+v", got)
	}
	if _, err := db.QueueHistory(ctx, "support", t0, t0.Add(-time.Second)); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("reversed range: %v", err)
	}
	if err := db.InsertQueueIntervals(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}
