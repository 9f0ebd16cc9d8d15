package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/storage"
)

// openTest opens a fresh database file in a temporary directory.
func openTest(t testing.TB) (*storage.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	db, err := storage.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, path
}

var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// cdr returns a valid record entered at base+minute.
func cdr(id string, minute int) *sb.CDR {
	entered := base.Add(time.Duration(minute) * time.Minute)
	return &sb.CDR{
		CallID: sb.CallID(id), Node: "pbx1", Caller: "+15550001", CallerName: "Ada",
		Called: "8000", Queue: "support", Agent: "1001",
		Entered: entered, Answered: sb.SomeTime(entered.Add(time.Second)),
		Bridged: sb.SomeTime(entered.Add(12 * time.Second)), Ended: entered.Add(90 * time.Second),
		Outcome: sb.OutcomeCompleted, HangupCause: 16, HangupBy: "caller",
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}

	full := cdr("full", 0)
	// Given in another zone and with a monotonic reading: read back in UTC.
	full.Entered = time.Now().In(paris)
	full.Answered = sb.SomeTime(full.Entered.Add(1500 * time.Millisecond))
	full.Bridged = sb.SomeTime(full.Entered.Add(3*time.Second + 7*time.Nanosecond))
	full.Ended = full.Entered.Add(time.Minute + time.Nanosecond)

	abandoned := cdr("abandoned", -5)
	abandoned.Answered, abandoned.Bridged = sb.NullTime{}, sb.NullTime{}
	abandoned.Agent, abandoned.Outcome, abandoned.HangupBy = "", sb.OutcomeAbandoned, "caller"

	for _, c := range []*sb.CDR{full, abandoned} {
		if err := db.InsertCDR(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 {
			t.Fatalf("InsertCDR(%s) did not set ID", c.CallID)
		}
	}
	got, total, err := db.ListCDR(ctx, sb.CDRFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []sb.CDR{utc(*full), utc(*abandoned)} // newest first
	if total != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListCDR = %d %+v\nwant 2 %+v", total, got, want)
	}
	for _, c := range got {
		if c.Entered.Location() != time.UTC || c.Ended.Location() != time.UTC {
			t.Errorf("%s: times not in UTC: %v %v", c.CallID, c.Entered, c.Ended)
		}
	}
	if got[1].Answered.Valid || got[1].Bridged.Valid {
		t.Errorf("NULL times read back as %+v %+v", got[1].Answered, got[1].Bridged)
	}
}

// utc is c as it reads back: times in UTC without monotonic reading.
func utc(c sb.CDR) sb.CDR {
	c.Entered, c.Ended = c.Entered.UTC().Round(0), c.Ended.UTC().Round(0)
	if c.Answered.Valid {
		c.Answered.Time = c.Answered.Time.UTC().Round(0)
	}
	if c.Bridged.Valid {
		c.Bridged.Time = c.Bridged.Time.UTC().Round(0)
	}
	return c
}

func TestListCDR(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)

	// Ten calls one minute apart, c0 oldest .. c9 newest, with varied fields.
	var all []sb.CDR
	for i := range 10 {
		c := cdr(fmt.Sprintf("c%d", i), i)
		c.Caller = fmt.Sprintf("+1555000%d", i%3) // c0,c3,c6,c9 share a caller
		c.Agent = sb.AgentID(fmt.Sprintf("100%d", i%2+1))
		if i%4 == 0 {
			c.Called, c.Queue = "8001", "sales"
		}
		if i%5 == 0 {
			c.Outcome, c.Agent, c.Bridged = sb.OutcomeNoAgent, "", sb.NullTime{}
		}
		if err := db.InsertCDR(ctx, c); err != nil {
			t.Fatal(err)
		}
		all = append(all, *c)
	}
	ids := func(idx ...int) []string {
		var s []string
		for _, i := range idx {
			s = append(s, string(all[i].CallID))
		}
		return s
	}
	at := func(minute int) time.Time { return base.Add(time.Duration(minute) * time.Minute) }

	tests := []struct {
		name      string
		f         sb.CDRFilter
		want      []string
		wantTotal int
	}{
		{"all newest first", sb.CDRFilter{}, ids(9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 10},
		{"from inclusive", sb.CDRFilter{From: at(7)}, ids(9, 8, 7), 3},
		{"to exclusive", sb.CDRFilter{To: at(2)}, ids(1, 0), 2},
		{"range", sb.CDRFilter{From: at(3), To: at(6)}, ids(5, 4, 3), 3},
		{"range in another zone", sb.CDRFilter{From: at(3).In(time.FixedZone("X", -5*3600)), To: at(4).In(time.FixedZone("Y", 9*3600))}, ids(3), 1},
		{"sub-second bound", sb.CDRFilter{From: at(3).Add(time.Nanosecond)}, ids(9, 8, 7, 6, 5, 4), 6},
		{"caller", sb.CDRFilter{Caller: "+15550000"}, ids(9, 6, 3, 0), 4},
		{"called", sb.CDRFilter{Called: "8001"}, ids(8, 4, 0), 3},
		{"queue", sb.CDRFilter{Queue: "sales"}, ids(8, 4, 0), 3},
		{"queue set", sb.CDRFilter{Queues: []sb.QueueName{"sales", "billing"}}, ids(8, 4, 0), 3},
		{"queue set and page", sb.CDRFilter{Queues: []sb.QueueName{"sales"}, Limit: 1, Offset: 1}, ids(4), 3},
		{"queue set and queue outside it", sb.CDRFilter{Queues: []sb.QueueName{"billing"}, Queue: "sales"}, nil, 0},
		{"empty queue set", sb.CDRFilter{Queues: []sb.QueueName{}}, nil, 0},
		{"agent", sb.CDRFilter{Agent: "1002"}, ids(9, 7, 3, 1), 4},
		{"outcome", sb.CDRFilter{Outcome: sb.OutcomeNoAgent}, ids(5, 0), 2},
		{"combined", sb.CDRFilter{Caller: "+15550000", Agent: "1002", From: at(1)}, ids(9, 3), 2},
		{"no match", sb.CDRFilter{Caller: "nobody"}, nil, 0},
		{"limit", sb.CDRFilter{Limit: 3}, ids(9, 8, 7), 10},
		{"limit and offset", sb.CDRFilter{Limit: 3, Offset: 3}, ids(6, 5, 4), 10},
		{"last page", sb.CDRFilter{Limit: 3, Offset: 9}, ids(0), 10},
		{"offset past the end", sb.CDRFilter{Offset: 10}, nil, 10},
		{"filter and page", sb.CDRFilter{Caller: "+15550000", Limit: 2, Offset: 1}, ids(6, 3), 4},
		{"max limit", sb.CDRFilter{Limit: storage.MaxCDRLimit}, ids(9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, total, err := db.ListCDR(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, string(r.CallID))
			}
			if !reflect.DeepEqual(got, tt.want) || total != tt.wantTotal {
				t.Errorf("got %v total %d, want %v total %d", got, total, tt.want, tt.wantTotal)
			}
			if rows == nil {
				t.Error("rows is nil, want an empty slice")
			}
		})
	}
}

func TestListCDRInvalid(t *testing.T) {
	db, _ := openTest(t)
	for _, f := range []sb.CDRFilter{
		{Limit: -1},
		{Limit: storage.MaxCDRLimit + 1},
		{Offset: -1},
		{From: base, To: base.Add(-time.Second)},
		{Outcome: "bogus"},
	} {
		_, _, err := db.ListCDR(context.Background(), f)
		if got := sb.ErrorCode(err); got != sb.EINVALID {
			t.Errorf("ListCDR(%+v) = %v, want code %s", f, err, sb.EINVALID)
		}
	}
}

func TestInsertDuplicate(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	first := cdr("dup", 0)
	if err := db.InsertCDR(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := cdr("dup", 1)
	err := db.InsertCDR(ctx, again)
	if got := sb.ErrorCode(err); got != sb.ECONFLICT {
		t.Fatalf("second InsertCDR = %v, want code %s", err, sb.ECONFLICT)
	}
	if again.ID != 0 {
		t.Errorf("failed insert set ID %d", again.ID)
	}
	if n, err := db.CountCDR(ctx); err != nil || n != 1 {
		t.Errorf("CountCDR = %d, %v; want 1", n, err)
	}
}

func TestInsertInvalid(t *testing.T) {
	db, _ := openTest(t)
	for name, mutate := range map[string]func(*sb.CDR){
		"no call id":      func(c *sb.CDR) { c.CallID = "" },
		"no entered":      func(c *sb.CDR) { c.Entered = time.Time{} },
		"no ended":        func(c *sb.CDR) { c.Ended = time.Time{} },
		"unknown outcome": func(c *sb.CDR) { c.Outcome = "maybe" },
	} {
		c := cdr("x", 0)
		mutate(c)
		if err := db.InsertCDR(context.Background(), c); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("%s: InsertCDR = %v, want code %s", name, err, sb.EINVALID)
		}
	}
}

// TestConcurrentInserts: many writers and readers at once never see
// SQLITE_BUSY (run with -race).
func TestConcurrentInserts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	const writers, each = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each+writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := db.InsertCDR(ctx, cdr(fmt.Sprintf("w%d-%d", w, i), i)); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for range 5 {
				if _, _, err := db.ListCDR(ctx, sb.CDRFilter{Agent: "1001", Limit: 10}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := db.CountCDR(ctx); err != nil || n != writers*each {
		t.Errorf("CountCDR = %d, %v; want %d", n, err, writers*each)
	}
}

// TestReopen: a second Open of the same file finds the schema in place,
// applies nothing twice and keeps the data.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	for i := range 3 {
		db, err := storage.Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if err := db.InsertCDR(ctx, cdr(fmt.Sprintf("r%d", i), i)); err != nil {
			t.Fatal(err)
		}
		n, err := db.CountCDR(ctx)
		if err != nil || n != i+1 {
			t.Fatalf("open #%d: CountCDR = %d, %v; want %d", i+1, n, err, i+1)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWAL(t *testing.T) {
	db, path := openTest(t)
	if err := db.InsertCDR(context.Background(), cdr("w", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log next to the database: %v", err)
	}
}

func TestOpenErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "switchboard.db")
	_, err := storage.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(%s) = %v, want an error naming the file", path, err)
	}
	t.Log(err)
	if _, err := storage.Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not sqlite ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := storage.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(junk) = %v, want an error naming the file", err)
	}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := db.InsertCDR(ctx, cdr(fmt.Sprint(i), i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	rows, total, err := db.ListCDR(ctx, sb.CDRFilter{Limit: 2})
	if err != nil || total != 10 || len(rows) != 2 || rows[0].CallID != "9" {
		t.Fatalf("ListCDR = %v %d %v", rows, total, err)
	}
}

func TestContextCanceled(t *testing.T) {
	db, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.InsertCDR(ctx, cdr("late", 0)); err == nil {
		t.Error("InsertCDR with a canceled context succeeded")
	}
	if n, err := db.CountCDR(context.Background()); err != nil || n != 0 {
		t.Errorf("CountCDR = %d, %v; want 0", n, err)
	}
}

func BenchmarkInsertCDR(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := db.InsertCDR(ctx, cdr(fmt.Sprintf("b%d", i), i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkInsertCDRParallel(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b)
	var mu sync.Mutex
	n := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := n
			mu.Unlock()
			if err := db.InsertCDR(ctx, cdr(fmt.Sprintf("p%d", id), id)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestIVRPathRoundTrip(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	with := &sb.CDR{CallID: "p1", Entered: at, Ended: at.Add(time.Minute), Outcome: sb.OutcomeIVR,
		IVRPath: sb.RawJSON(`{"flow":"main","visits":[{"node":"menu","keys":"1"}],"end":"hangup"}`)}
	without := &sb.CDR{CallID: "p2", Entered: at, Ended: at.Add(time.Minute), Outcome: sb.OutcomeAbandoned}
	for _, c := range []*sb.CDR{with, without} {
		if err := db.InsertCDR(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	rows, _, err := db.ListCDR(ctx, sb.CDRFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[sb.CallID]sb.CDR{}
	for _, r := range rows {
		got[r.CallID] = r
	}
	if string(got["p1"].IVRPath) != string(with.IVRPath) {
		t.Errorf("ivr path = %s, want %s", got["p1"].IVRPath, with.IVRPath)
	}
	if got["p2"].IVRPath != nil {
		t.Errorf("no path = %q, want nil", got["p2"].IVRPath)
	}
}

func TestVoicemails(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, mb := range []string{"sales", "support", "sales"} {
		v := &sb.Voicemail{CallID: sb.CallID(fmt.Sprint("c", i)), Mailbox: mb, Recording: fmt.Sprint("vm-", i),
			Duration: 12 * time.Second, Caller: "+15550000", Vars: map[string]string{"account": "42"}, Created: at.Add(time.Duration(i) * time.Minute)}
		if err := db.InsertVoicemail(ctx, v); err != nil || v.ID == 0 {
			t.Fatalf("insert: %v id %d", err, v.ID)
		}
	}
	dup := &sb.Voicemail{CallID: "c9", Mailbox: "sales", Recording: "vm-0", Created: at}
	if err := db.InsertVoicemail(ctx, dup); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("duplicate recording: %v, want conflict", err)
	}
	got, err := db.ListVoicemails(ctx, []string{"sales"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Recording != "vm-2" || got[0].Vars["account"] != "42" || got[0].Duration != 12*time.Second {
		t.Fatalf("sales mailbox = %+v", got)
	}
	if all, _ := db.ListVoicemails(ctx, nil, 10); len(all) != 3 {
		t.Errorf("all mailboxes: %d messages, want 3", len(all))
	}
	if two, _ := db.ListVoicemails(ctx, []string{"support", "sales"}, 10); len(two) != 3 {
		t.Errorf("two mailboxes: %d messages, want 3", len(two))
	}
	if none, err := db.ListVoicemails(ctx, []string{}, 10); err != nil || len(none) != 0 {
		t.Errorf("no mailbox: %v %v, want none", none, err)
	}
	if _, err := db.ListVoicemails(ctx, nil, 0); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("limit 0: %v", err)
	}
}

// TestWriteAheadCDR: a call's row is open from its entry, merged as it
// goes (writes landing out of order never clear a field), hidden from the
// call log until closed, listed by OpenCDRs for the next start, and closed
// exactly once.
func TestWriteAheadCDR(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	full := cdr("c1", 0)
	entry := &sb.CDR{CallID: "c1", Node: "pbx1", Caller: full.Caller, Called: full.Called, Entered: full.Entered}
	bridged := &sb.CDR{CallID: "c1", Node: "pbx1", Entered: full.Entered, Queue: "support", Agent: "1001", Bridged: full.Bridged, Answered: full.Answered}
	// The bridge's write lands first, the entry's after it.
	for _, c := range []*sb.CDR{bridged, entry} {
		if err := db.OpenCDR(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if rows, total, err := db.ListCDR(ctx, sb.CDRFilter{}); err != nil || total != 0 || len(rows) != 0 {
		t.Fatalf("open row listed in the call log: %v %d %v", rows, total, err)
	}
	open, err := db.OpenCDRs(ctx, "pbx1", full.Entered.Add(time.Second))
	if err != nil || len(open) != 1 {
		t.Fatalf("open rows = %v, %v", open, err)
	}
	if o := open[0]; o.Agent != "1001" || o.Queue != "support" || o.Caller != full.Caller || !o.Bridged.Valid {
		t.Errorf("merged open row = %+v", o)
	}
	if other, _ := db.OpenCDRs(ctx, "pbx2", full.Entered.Add(time.Second)); len(other) != 0 {
		t.Errorf("another node's open rows: %v", other)
	}
	if later, _ := db.OpenCDRs(ctx, "pbx1", full.Entered); len(later) != 0 {
		t.Errorf("rows entered at or after the start listed: %v", later)
	}
	if err := db.InsertCDR(ctx, full); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertCDR(ctx, cdr("c1", 0)); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second close: %v, want ECONFLICT", err)
	}
	// A late open write leaves the closed row alone.
	if err := db.OpenCDR(ctx, &sb.CDR{CallID: "c1", Node: "pbx1", Entered: full.Entered, Agent: "9999"}); err != nil {
		t.Fatal(err)
	}
	rows, total, err := db.ListCDR(ctx, sb.CDRFilter{})
	if err != nil || total != 1 || rows[0].Agent != "1001" || rows[0].Outcome != sb.OutcomeCompleted {
		t.Fatalf("closed row = %+v (%d, %v)", rows, total, err)
	}
	if open, _ := db.OpenCDRs(ctx, "pbx1", full.Ended.Add(time.Hour)); len(open) != 0 {
		t.Errorf("closed row still open: %v", open)
	}
}
