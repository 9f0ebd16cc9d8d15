package storage_test

import (
	"context"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/storage"
)

func TestAgentStateHistory(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, st := range []string{"available", "reserved", "on-call", "wrap-up", "paused"} {
		r := &storage.AgentStateRow{Agent: "1001", State: st, At: t0.Add(time.Duration(i) * time.Minute)}
		if st == "paused" {
			r.Reason = "lunch"
		}
		if err := db.InsertAgentState(ctx, r); err != nil || r.ID == 0 {
			t.Fatalf("insert %s: %v", st, err)
		}
	}
	if err := db.InsertAgentState(ctx, &storage.AgentStateRow{Agent: "1002", State: "available", At: t0}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.AgentStates(ctx, "1001", t0.Add(time.Minute), t0.Add(4*time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].State != "reserved" || rows[2].State != "wrap-up" {
		t.Fatalf("rows = %+v", rows)
	}
	all, _ := db.AgentStates(ctx, "1001", time.Time{}, time.Time{}, 100)
	if len(all) != 5 || all[4].Reason != "lunch" || !all[4].At.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("all = %+v", all)
	}
	if err := db.InsertAgentState(ctx, &storage.AgentStateRow{State: "x", At: t0}); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("no agent: %v", err)
	}
	if _, err := db.AgentStates(ctx, "1001", time.Time{}, time.Time{}, 0); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("limit 0: %v", err)
	}
}
