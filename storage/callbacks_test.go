package storage_test

import (
	"context"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

func TestCallbackRequests(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, id := range []sb.CallID{"c2", "c1", "c3"} {
		cb := sb.PendingCallback{Call: id, Queue: "sales", Number: "+1555000000" + string('0'+rune(i)), Priority: i,
			EnteredAt: t0.Add(time.Duration(2-i) * time.Minute)}
		if err := db.SaveCallback(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveCallback(ctx, sb.PendingCallback{Call: "bad"}); sb.ErrorCode(err) != sb.EINVALID {
		t.Fatalf("incomplete request: err = %v, want EINVALID", err)
	}
	if err := db.CallbackDone(ctx, "c1", "connected", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.CallbackDone(ctx, "nope", "connected", t0); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Fatalf("unknown request: err = %v, want ENOTFOUND", err)
	}
	got, err := db.PendingCallbacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Call != "c3" || got[1].Call != "c2" || got[0].Priority != 2 || !got[1].EnteredAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("pending = %+v, want c3 then c2 (by arrival)", got)
	}
	// Saving again (a restart re-stored it) keeps one request.
	if err := db.SaveCallback(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.PendingCallbacks(ctx); len(again) != 2 {
		t.Fatalf("after re-save: %d pending, want 2", len(again))
	}
}
