package storage_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// rec returns a new recording's row started at base+minute.
func rec(name string, minute int) *recording.Recording {
	started := base.Add(time.Duration(minute) * time.Minute)
	return &recording.Recording{
		Name: name, CallID: sb.CallID("call-" + name), Queue: "support", Agent: "1001",
		Caller: "+15550001", Started: started, Created: started,
	}
}

// store moves a recording row to stored, as a finished fetch does.
func store(t *testing.T, db interface {
	UpdateRecording(context.Context, *recording.Recording) error
}, r *recording.Recording) {
	t.Helper()
	r.State = recording.StateStored
	r.Ended = sb.SomeTime(r.Started.Add(90 * time.Second))
	r.Duration = 85 * time.Second
	r.Size = 1360044
	r.SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	r.Path = r.Name + ".wav"
	if err := db.UpdateRecording(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func TestRecordingLifeCycle(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)

	r := rec("r1", 0)
	if err := db.InsertRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.State != recording.StateRecording {
		t.Fatalf("after insert: id %d state %s", r.ID, r.State)
	}
	if err := db.InsertRecording(ctx, rec("r1", 1)); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second row for the name: %v, want conflict", err)
	}

	// Paused and resumed while written.
	paris := time.FixedZone("CEST", 2*3600)
	r.Pauses, _ = r.Pauses.Pause(base.Add(10 * time.Second).In(paris))
	r.Pauses, _ = r.Pauses.Resume(base.Add(25 * time.Second))
	if err := db.UpdateRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetRecording(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantPauses := recording.Pauses{{Start: base.Add(10 * time.Second), End: base.Add(25 * time.Second)}}
	if !slices.Equal(got.Pauses, wantPauses) {
		t.Errorf("pauses = %v, want %v", got.Pauses, wantPauses)
	}

	store(t, db, r)
	got, err = db.GetRecordingByName(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}

	// A stored recording never goes back to recording or to failed.
	for _, s := range []recording.State{recording.StateRecording, recording.StateFailed} {
		back := *r
		back.State = s
		if err := db.UpdateRecording(ctx, &back); sb.ErrorCode(err) != sb.ECONFLICT {
			t.Errorf("stored -> %s: %v, want conflict", s, err)
		}
	}
	deletedAt := base.Add(31 * recording.Day)
	if err := db.MarkDeleted(ctx, r.ID, deletedAt); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDeleted(ctx, r.ID, deletedAt); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("deleted twice: %v, want conflict", err)
	}
	got, _ = db.GetRecording(ctx, r.ID)
	if got.State != recording.StateDeleted || !got.Deleted.Valid || !got.Deleted.Time.Equal(deletedAt) || got.SHA256 != r.SHA256 {
		t.Errorf("after delete: %+v", got)
	}
	again := *r
	again.State = recording.StateStored
	if err := db.UpdateRecording(ctx, &again); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("deleted -> stored: %v, want conflict", err)
	}

	// Missing rows and bad input.
	if _, err := db.GetRecording(ctx, 999); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("get missing: %v", err)
	}
	ghost := rec("ghost", 0)
	ghost.ID = 999
	ghost.State = recording.StateFailed
	if err := db.UpdateRecording(ctx, ghost); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("update missing: %v", err)
	}
	if err := db.MarkDeleted(ctx, 999, deletedAt); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("delete missing: %v", err)
	}

	// Still being written: never deleted.
	live := rec("live", 5)
	if err := db.InsertRecording(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDeleted(ctx, live.ID, deletedAt); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("delete while recording: %v, want conflict", err)
	}
	// Failed, then stored by a later fetch.
	live.State, live.Error = recording.StateFailed, "fetch: connection refused"
	if err := db.UpdateRecording(ctx, live); err != nil {
		t.Fatal(err)
	}
	live.Error = ""
	store(t, db, live)
}

func TestRecordingInvalid(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	for name, r := range map[string]*recording.Recording{
		"traversal name":   rec("../../etc/passwd", 0),
		"slash name":       rec("a/b", 0),
		"empty name":       rec("", 0),
		"no call":          {Name: "x", Started: base},
		"no start":         {Name: "x", CallID: "c"},
		"starts deleted":   {Name: "x", CallID: "c", Started: base, State: recording.StateDeleted},
		"unknown state":    {Name: "x", CallID: "c", Started: base, State: "archived"},
		"traversal path":   {Name: "x", CallID: "c", Started: base, Path: "../x.wav"},
		"nul in path":      {Name: "x", CallID: "c", Started: base, Path: "x\x00.wav"},
		"absolute in path": {Name: "x", CallID: "c", Started: base, Path: "/etc/x.wav"},
	} {
		if err := db.InsertRecording(ctx, r); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	r := rec("ok", 0)
	if err := db.InsertRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*recording.Recording){
		"stored without checksum": func(r *recording.Recording) { r.State = recording.StateStored; r.Path = "ok.wav"; r.Size = 10 },
		"deleted by update":       func(r *recording.Recording) { r.State = recording.StateDeleted },
		"traversal path":          func(r *recording.Recording) { r.State = recording.StateFailed; r.Path = "../../x.wav" },
	} {
		c := *r
		mut(&c)
		if err := db.UpdateRecording(ctx, &c); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestListRecordings(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	for i, spec := range []struct {
		agent  sb.AgentID
		queue  sb.QueueName
		caller string
	}{
		{"1001", "support", "+1555"},
		{"1002", "support", "+1666"},
		{"1001", "sales", "+1555"},
		{"1003", "sales", "+1777"},
		{"1001", "support", "+1777"},
	} {
		r := rec(string(rune('a'+i)), i*10)
		r.Agent, r.Queue, r.Caller = spec.agent, spec.queue, spec.caller
		if err := db.InsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	names := func(rs []recording.Recording) string {
		var s string
		for _, r := range rs {
			s += r.Name
		}
		return s
	}
	for _, tc := range []struct {
		name      string
		f         recording.Filter
		want      string
		wantTotal int
	}{
		{"all, newest first", recording.Filter{}, "edcba", 5},
		{"agent", recording.Filter{Agent: "1001"}, "eca", 3},
		{"queue", recording.Filter{Queue: "sales"}, "dc", 2},
		{"queue set", recording.Filter{Queues: []sb.QueueName{"sales", "billing"}}, "dc", 2},
		{"queue set and agent", recording.Filter{Queues: []sb.QueueName{"support"}, Agent: "1001"}, "ea", 2},
		{"empty queue set", recording.Filter{Queues: []sb.QueueName{}}, "", 0},
		{"caller", recording.Filter{Caller: "+1777"}, "ed", 2},
		{"agent and queue", recording.Filter{Agent: "1001", Queue: "support"}, "ea", 2},
		{"from", recording.Filter{From: base.Add(20 * time.Minute)}, "edc", 3},
		{"to", recording.Filter{To: base.Add(20 * time.Minute)}, "ba", 2},
		{"range", recording.Filter{From: base.Add(10 * time.Minute), To: base.Add(40 * time.Minute)}, "dcb", 3},
		{"page", recording.Filter{Limit: 2, Offset: 1}, "dc", 5},
		{"past the end", recording.Filter{Offset: 9}, "", 5},
		{"nothing", recording.Filter{Agent: "9999"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, total, err := db.ListRecordings(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(rows); got != tc.want || total != tc.wantTotal {
				t.Errorf("got %q total %d, want %q total %d", got, total, tc.want, tc.wantTotal)
			}
			if rows == nil {
				t.Error("nil rows")
			}
		})
	}
	for _, f := range []recording.Filter{{Limit: -1}, {Limit: 1001}, {Offset: -1}, {From: base.Add(time.Hour), To: base}} {
		if _, _, err := db.ListRecordings(ctx, f); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("%+v: %v, want invalid", f, err)
		}
	}
}

func TestListExpirable(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	old := rec("old", 0)
	young := rec("young", 60*24*10)
	writing := rec("writing", 0)
	failed := rec("failed", 5)
	gone := rec("gone", 1)
	for _, r := range []*recording.Recording{old, young, writing, failed, gone} {
		if err := db.InsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	store(t, db, old)
	store(t, db, young)
	store(t, db, gone)
	if err := db.MarkDeleted(ctx, gone.ID, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	failed.State = recording.StateFailed
	if err := db.UpdateRecording(ctx, failed); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListExpirable(ctx, base.Add(5*recording.Day), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if want := []string{"old", "failed"}; !slices.Equal(names, want) {
		t.Errorf("expirable = %v, want %v", names, want)
	}
	// Keyset paging: one per page, then nothing after the last.
	page1, _ := db.ListExpirable(ctx, base.Add(5*recording.Day), 0, 1)
	page2, _ := db.ListExpirable(ctx, base.Add(5*recording.Day), page1[0].ID, 1)
	page3, _ := db.ListExpirable(ctx, base.Add(5*recording.Day), page2[0].ID, 1)
	if page1[0].Name != "old" || page2[0].Name != "failed" || len(page3) != 0 {
		t.Errorf("pages %v %v %v", page1, page2, page3)
	}
	if _, err := db.ListExpirable(ctx, base, 0, 0); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("limit 0: %v", err)
	}
}

func TestRecordingAudit(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	r := rec("r1", 0)
	if err := db.InsertRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	at := base.Add(time.Hour)
	rows := []recording.Access{
		{Who: "wallboard", Role: "supervisor", Action: recording.ActionList, At: at, Remote: "10.0.0.5:5123", Detail: "agent=1001"},
		{RecordingID: r.ID, Who: "wallboard", Role: "supervisor", Action: recording.ActionView, At: at.Add(time.Second)},
		{RecordingID: r.ID, Who: "ops-admin", Role: "admin", Action: recording.ActionDownload, At: at.Add(2 * time.Second), Range: "bytes=100-199"},
		{RecordingID: r.ID, Who: "retention", Role: "system", Action: recording.ActionDelete, At: at.Add(3 * time.Second)},
	}
	for i := range rows {
		if err := db.AuditAccess(ctx, &rows[i]); err != nil {
			t.Fatal(err)
		}
		if rows[i].ID == 0 {
			t.Fatal("no id")
		}
	}
	all, err := db.ListAudit(ctx, recording.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(rows)
	slices.Reverse(want)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	mine, _ := db.ListAudit(ctx, recording.AuditFilter{RecordingID: r.ID, Who: "wallboard"})
	if len(mine) != 1 || mine[0].Action != recording.ActionView {
		t.Errorf("filtered = %+v", mine)
	}
	for name, a := range map[string]recording.Access{
		"no who":         {Action: recording.ActionList, At: at},
		"unknown action": {Who: "x", Action: "listen", At: at},
		"no time":        {Who: "x", Action: recording.ActionList},
	} {
		if err := db.AuditAccess(ctx, &a); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if err := db.AuditAccess(ctx, &recording.Access{RecordingID: 424242, Who: "x", Action: recording.ActionView, At: at}); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("unknown recording: %v, want not found", err)
	}
}

// TestRecordingConcurrentTransitions: of two writers racing to move the same
// row out of recording, exactly one wins.
func TestRecordingConcurrentTransitions(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	for i := range 20 {
		r := rec(string(rune('a'+i)), i)
		if err := db.InsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j := range 2 {
			wg.Go(func() {
				c := *r
				c.State = recording.StateFailed
				if j == 0 {
					c.State, c.Path, c.SHA256, c.Size = recording.StateStored, c.Name+".wav", "ab", 1
				}
				errs[j] = db.UpdateRecording(ctx, &c)
			})
		}
		wg.Wait()
		// stored -> failed is forbidden; failed -> stored is allowed, so
		// either both succeed in the order failed, stored, or stored wins
		// and failed conflicts.
		got, _ := db.GetRecording(ctx, r.ID)
		switch {
		case errs[0] == nil && errs[1] == nil:
			if got.State != recording.StateStored {
				t.Errorf("both applied but state %s", got.State)
			}
		case errs[0] == nil && sb.ErrorCode(errs[1]) == sb.ECONFLICT:
			if got.State != recording.StateStored {
				t.Errorf("stored won but state %s", got.State)
			}
		default:
			t.Errorf("errors %v", errs)
		}
	}
}
