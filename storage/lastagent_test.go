package storage_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	sb "github.com/switchboard/switchboard"
)

func TestLastAgent(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	add := func(id, caller string, queue sb.QueueName, agent sb.AgentID, endedMin int, outcome sb.Outcome) {
		t.Helper()
		ended := t0.Add(time.Duration(endedMin) * time.Minute)
		c := &sb.CDR{CallID: sb.CallID(id), Caller: caller, Queue: queue, Agent: agent,
			Entered: ended.Add(-5 * time.Minute), Ended: ended, Outcome: outcome}
		if outcome == sb.OutcomeCompleted {
			c.Answered = sb.SomeTime(ended.Add(-4 * time.Minute))
		}
		if err := db.InsertCDR(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	add("c1", "+15550001", "support", "1001", 0, sb.OutcomeCompleted)
	add("c2", "+15550001", "sales", "2001", 10, sb.OutcomeCompleted)
	add("c3", "+15550001", "support", "1002", 20, sb.OutcomeCompleted)
	add("c4", "+15550001", "support", "1003", 30, sb.OutcomeAbandoned) // not completed: ignored
	add("c5", "+15550002", "support", "1004", 40, sb.OutcomeCompleted) // another caller
	add("c6", "+15550001", "sales", "", 50, sb.OutcomeCompleted)       // no agent: ignored

	cases := []struct {
		name, caller, queue string
		since               time.Time
		want                string
		ok                  bool
	}{
		{"latest in queue", "+15550001", "support", t0, "1002", true},
		{"any queue", "+15550001", "", t0, "1002", true},
		{"other queue", "+15550001", "sales", t0, "2001", true},
		{"since is inclusive", "+15550001", "sales", t0.Add(10 * time.Minute), "2001", true},
		{"too old", "+15550001", "sales", t0.Add(11 * time.Minute), "", false},
		{"older still in queue", "+15550001", "support", t0.Add(-time.Hour), "1002", true},
		{"unknown caller", "+15559999", "", t0, "", false},
		{"anonymous caller", "", "", t0, "", false},
		{"unknown queue", "+15550001", "billing", t0, "", false},
	}
	for _, c := range cases {
		got, ok, err := db.LastAgent(ctx, c.caller, c.queue, c.since)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got %q %v, want %q %v", c.name, got, ok, c.want, c.ok)
		}
	}

	// The look-up is served by the (caller, ended_at) index, not a scan.
	raw, err := sql.Open("sqlite3", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`EXPLAIN QUERY PLAN SELECT agent FROM cdr WHERE caller = ? AND ended_at >= ?
		AND outcome = 'completed' AND agent <> '' ORDER BY ended_at DESC, id DESC LIMIT 1`, "+15550001", t0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "cdr_caller_ended_at") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("query plan = %s", p)
	}
}

func TestLastAgentContextCanceled(t *testing.T) {
	db, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := db.LastAgent(ctx, "+15550001", "", time.Time{}); err == nil {
		t.Error("no error with a canceled context")
	}
}
