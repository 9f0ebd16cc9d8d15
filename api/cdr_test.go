package api

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard"
)

func TestCDRFilterParsing(t *testing.T) {
	from := time.Date(2025, 1, 31, 8, 0, 0, 0, time.UTC)
	to := time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC)
	def := switchboard.CDRFilter{Limit: DefaultCDRLimit}
	with := func(f func(*switchboard.CDRFilter)) switchboard.CDRFilter {
		c := def
		f(&c)
		return c
	}
	tests := []struct {
		query     string
		want      switchboard.CDRFilter
		wantParam string // non-empty: a 400 naming this parameter
	}{
		{"", def, ""},
		{"from=2025-01-31T08:00:00Z", with(func(f *switchboard.CDRFilter) { f.From = from }), ""},
		{"from=2025-01-31T09:00:00%2B01:00&to=2025-02-01T08:00:00Z", with(func(f *switchboard.CDRFilter) { f.From, f.To = from, to }), ""},
		{"from=2025-01-31T08:00:00.123456789Z", with(func(f *switchboard.CDRFilter) { f.From = from.Add(123456789) }), ""},
		{"caller=%2B15551234567&called=100&agent=1001&queue=sales", with(func(f *switchboard.CDRFilter) {
			f.Caller, f.Called, f.Agent, f.Queue = "+15551234567", "100", "1001", "sales"
		}), ""},
		{"outcome=abandoned", with(func(f *switchboard.CDRFilter) { f.Outcome = switchboard.OutcomeAbandoned }), ""},
		{"outcome=no_agent", with(func(f *switchboard.CDRFilter) { f.Outcome = switchboard.OutcomeNoAgent }), ""},
		{"limit=1&offset=0", with(func(f *switchboard.CDRFilter) { f.Limit = 1 }), ""},
		{"limit=1000&offset=5000", with(func(f *switchboard.CDRFilter) { f.Limit, f.Offset = 1000, 5000 }), ""},
		{"caller=&outcome=&limit=", def, ""},

		{"from=yesterday", def, "from"},
		{"from=2025-01-31", def, "from"},
		{"from=2025-01-31T09:00:00+01:00", def, "from"}, // unencoded + is a space
		{"to=2025-13-01T00:00:00Z", def, "to"},
		{"from=2025-02-01T08:00:00Z&to=2025-01-31T08:00:00Z", def, "to"},
		{"from=2025-02-01T08:00:00Z&to=2025-02-01T08:00:00Z", def, "to"},
		{"outcome=hungup", def, "outcome"},
		{"outcome=Completed", def, "outcome"},
		{"limit=0", def, "limit"},
		{"limit=1001", def, "limit"},
		{"limit=-1", def, "limit"},
		{"limit=ten", def, "limit"},
		{"limit=1e2", def, "limit"},
		{"limit=99999999999999999999999", def, "limit"},
		{"offset=-1", def, "offset"},
		{"offset=1.5", def, "offset"},
		{"offset=99999999999999999999999", def, "offset"},
		{"limit=10&limit=20", def, "limit"},
		{"caller=" + strings.Repeat("9", maxFilterLen+1), def, "caller"},
		{"queue=" + strings.Repeat("q", maxFilterLen+1), def, "queue"},
	}
	var got switchboard.CDRFilter
	var calls int
	ts := newTestServer(t, Options{CDR: fakeCDR{ListCDRFn: func(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error) {
		got = f
		calls++
		return nil, 0, nil
	}}})
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			before := calls
			r := ts.do(t, "GET", "/api/v1/cdr?"+tt.query, supervisorToken)
			if tt.wantParam != "" {
				if r.Status != 400 {
					t.Fatalf("status = %d, want 400; body %s", r.Status, r.Body)
				}
				e := r.errBody(t)
				if e.Code != switchboard.EINVALID || !strings.Contains(e.Message, `"`+tt.wantParam+`"`) {
					t.Errorf("error %+v, want invalid naming %q", e, tt.wantParam)
				}
				if calls != before {
					t.Error("store was queried with a bad filter")
				}
				return
			}
			if r.Status != 200 {
				t.Fatalf("status = %d, body %s", r.Status, r.Body)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

// memCDR is a call log of n rows, ids 1..n, paged like the real store.
func memCDR(n int) fakeCDR {
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]switchboard.CDR, n)
	for i := range rows {
		out := switchboard.OutcomeCompleted
		if i%3 == 0 {
			out = switchboard.OutcomeAbandoned
		}
		rows[i] = switchboard.CDR{
			ID: int64(i + 1), CallID: switchboard.CallID(fmt.Sprintf("c%d", i+1)),
			Caller: "+1555000" + fmt.Sprint(i), Called: "100",
			Entered: t0.Add(time.Duration(i) * time.Minute), Ended: t0.Add(time.Duration(i)*time.Minute + 30*time.Second),
			Outcome: out,
		}
	}
	return fakeCDR{ListCDRFn: func(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error) {
		var match []switchboard.CDR
		for _, r := range rows {
			if f.Outcome == "" || r.Outcome == f.Outcome {
				match = append(match, r)
			}
		}
		lo := min(f.Offset, len(match))
		hi := min(lo+f.Limit, len(match))
		return match[lo:hi], len(match), nil
	}}
}

func TestCDRPaging(t *testing.T) {
	ts := newTestServer(t, Options{CDR: memCDR(250)})
	type page struct {
		Rows       []switchboard.CDR
		Total      int
		Limit      int
		Offset     int
		NextOffset *int `json:"next_offset"`
		Next       string
	}

	// Walk every abandoned call 30 at a time by following next.
	seen := map[int64]bool{}
	path := "/api/v1/cdr?outcome=abandoned&limit=30"
	pages := 0
	for path != "" {
		var p page
		ts.do(t, "GET", path, adminToken).decode(t, &p)
		pages++
		if p.Total != 84 || p.Limit != 30 {
			t.Fatalf("%s: total %d limit %d, want 84 and 30", path, p.Total, p.Limit)
		}
		for _, r := range p.Rows {
			if r.Outcome != switchboard.OutcomeAbandoned || seen[r.ID] {
				t.Fatalf("%s: row %d outcome %s (seen before: %v)", path, r.ID, r.Outcome, seen[r.ID])
			}
			seen[r.ID] = true
		}
		if (p.Next == "") != (p.NextOffset == nil) {
			t.Fatalf("next %q and next_offset %v disagree", p.Next, p.NextOffset)
		}
		if p.NextOffset != nil {
			if *p.NextOffset != p.Offset+len(p.Rows) {
				t.Fatalf("next_offset %d after offset %d + %d rows", *p.NextOffset, p.Offset, len(p.Rows))
			}
			u, err := url.Parse(p.Next)
			if err != nil || u.Path != "/api/v1/cdr" || u.Query().Get("outcome") != "abandoned" || u.Query().Get("offset") != fmt.Sprint(*p.NextOffset) {
				t.Fatalf("next %q: want the same filter at the next offset", p.Next)
			}
		}
		path = p.Next
	}
	if pages != 3 || len(seen) != 84 {
		t.Errorf("walked %d pages and %d rows, want 3 and 84", pages, len(seen))
	}

	// Defaults, exact last page, and past the end.
	var p page
	ts.do(t, "GET", "/api/v1/cdr", adminToken).decode(t, &p)
	if len(p.Rows) != 100 || p.Total != 250 || p.Offset != 0 || p.Limit != 100 || *p.NextOffset != 100 {
		t.Errorf("first default page: %d rows total %d offset %d limit %d next %v", len(p.Rows), p.Total, p.Offset, p.Limit, p.NextOffset)
	}
	p = page{}
	ts.do(t, "GET", "/api/v1/cdr?offset=200&limit=50", adminToken).decode(t, &p)
	if len(p.Rows) != 50 || p.Next != "" || p.NextOffset != nil {
		t.Errorf("last page: %d rows next %q", len(p.Rows), p.Next)
	}
	r := ts.do(t, "GET", "/api/v1/cdr?offset=900", adminToken)
	if !strings.Contains(string(r.Body), `"rows":[]`) || strings.Contains(string(r.Body), "next") {
		t.Errorf("past the end: %s, want empty rows and no next", r.Body)
	}
}

func TestCDRStoreErrors(t *testing.T) {
	var next error
	ts := newTestServer(t, Options{CDR: fakeCDR{ListCDRFn: func(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error) {
		return nil, 0, next
	}}})
	for _, tt := range []struct {
		err    error
		status int
	}{
		{switchboard.Errorf(switchboard.EUNAVAILABLE, "database is restarting"), 503},
		{fmt.Errorf("list cdr: %w", context.DeadlineExceeded), 500},
	} {
		next = tt.err
		if got := ts.do(t, "GET", "/api/v1/cdr", adminToken); got.Status != tt.status {
			t.Errorf("%v: status %d, want %d", tt.err, got.Status, tt.status)
		}
	}
	unwired := newTestServer(t, Options{})
	if got := unwired.do(t, "GET", "/api/v1/cdr", adminToken); got.Status != 503 {
		t.Errorf("no CDRStore: status %d, want 503", got.Status)
	}
}

// FuzzParseCDRFilter checks the parser never panics and that whatever it
// accepts is within bounds, and whatever it rejects names a parameter.
func FuzzParseCDRFilter(f *testing.F) {
	for _, s := range []string{
		"", "limit=10&offset=20", "from=2025-01-31T08:00:00Z&to=2025-02-01T00:00:00Z",
		"outcome=completed", "limit=0", "offset=-5", "from=x", "caller=%2B1555&caller=2",
		"to=2025-01-31T08:00:00%2B14:00", "limit=1000&offset=9223372036854775807",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := parseCDRFilter(q)
		if err != nil {
			if switchboard.ErrorCode(err) != switchboard.EINVALID || !strings.Contains(err.Error(), `invalid parameter "`) {
				t.Fatalf("error %v: want EINVALID naming a parameter", err)
			}
			return
		}
		if flt.Limit < 1 || flt.Limit > MaxCDRLimit || flt.Offset < 0 {
			t.Fatalf("accepted out-of-bounds page %+v", flt)
		}
		if flt.Outcome != "" && !slices.Contains(switchboard.Outcomes, flt.Outcome) {
			t.Fatalf("accepted outcome %q", flt.Outcome)
		}
		if !flt.From.IsZero() && !flt.To.IsZero() && !flt.From.Before(flt.To) {
			t.Fatalf("accepted from %v not before to %v", flt.From, flt.To)
		}
	})
}
