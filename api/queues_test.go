package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// fakeQueueHistory answers from rows and records the range it was asked.
type fakeQueueHistory struct {
	rows     []QueueInterval
	err      error
	queue    switchboard.QueueName
	from, to time.Time
}

var _ QueueHistoryStore = (*fakeQueueHistory)(nil)

func (f *fakeQueueHistory) QueueHistory(_ context.Context, queue switchboard.QueueName, from, to time.Time) ([]QueueInterval, error) {
	f.queue, f.from, f.to = queue, from, to
	return f.rows, f.err
}

func liveQueues(context.Context) (routing.Snapshot, error) {
	return routing.Snapshot{
		Time:   time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),
		Agents: []routing.AgentStats{{Agent: "1001"}},
		Queues: []routing.QueueSnapshot{
			{QueueStats: routing.QueueStats{Queue: "support", Waiting: 2, Answered: 10, ServiceLevel: 0.9},
				Calls: []routing.WaitingCall{{Call: "c1", Position: 1}, {Call: "c2", Position: 2}}},
			{QueueStats: routing.QueueStats{Queue: "sales", ServiceLevel: 1}},
		},
	}, nil
}

func TestQueueRoutesLive(t *testing.T) {
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddQueueRoutes(liveQueues, &fakeQueueHistory{}) })

	var all struct {
		Time   time.Time
		Queues []routing.QueueSnapshot
		Agents any
	}
	ts.do(t, "GET", "/api/v1/queues", supervisorToken).decode(t, &all)
	if len(all.Queues) != 2 || all.Queues[0].Queue != "support" || len(all.Queues[0].Calls) != 2 || all.Agents != nil {
		t.Errorf("queues = %+v", all)
	}

	var one routing.QueueSnapshot
	ts.do(t, "GET", "/api/v1/queues/support", adminToken).decode(t, &one)
	if one.Queue != "support" || one.Answered != 10 || one.Calls[1].Call != "c2" {
		t.Errorf("support = %+v", one)
	}
	if r := ts.do(t, "GET", "/api/v1/queues/billing", adminToken); r.Status != http.StatusNotFound || !strings.Contains(r.errBody(t).Message, "billing") {
		t.Errorf("unknown queue: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/queues", "/api/v1/queues/support", "/api/v1/queues/support/history"} {
		if r := ts.do(t, "GET", path, agentToken); r.Status != http.StatusForbidden {
			t.Errorf("agent %s: %d", path, r.Status)
		}
		if r := ts.do(t, "GET", path, ""); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous %s: %d", path, r.Status)
		}
	}
}

func TestQueueRoutesUnavailable(t *testing.T) {
	down := func(context.Context) (routing.Snapshot, error) {
		return routing.Snapshot{}, switchboard.Errorf(switchboard.EUNAVAILABLE, "no ACD router configured")
	}
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddQueueRoutes(down, &fakeQueueHistory{}) })
	for _, path := range []string{"/api/v1/queues", "/api/v1/queues/support"} {
		if r := ts.do(t, "GET", path, adminToken); r.Status != http.StatusServiceUnavailable {
			t.Errorf("%s: %d", path, r.Status)
		}
	}
	empty := func(context.Context) (routing.Snapshot, error) { return routing.Snapshot{}, nil }
	ts = newTestServer(t, Options{}, func(s *Server) { s.AddQueueRoutes(empty, &fakeQueueHistory{}) })
	if r := ts.do(t, "GET", "/api/v1/queues", adminToken); !strings.Contains(string(r.Body), `"queues":[]`) {
		t.Errorf("no queues: %s", r.Body)
	}
}

func TestQueueHistoryRoute(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := &fakeQueueHistory{rows: []QueueInterval{
		{Start: t0, Seconds: 900, Queue: "support", Offered: 12, Answered: 8, AnsweredInSL: 6, MissedSL: 2, Abandoned: 3, Exited: 1,
			Completed: 7, WaitSeconds: 80, HandleSeconds: 1400, MaxWaiting: 3, MaxLongestWaitSeconds: 95},
		{Start: t0.Add(15 * time.Minute), Seconds: 900, Queue: "support", Offered: 5, Answered: 2, AnsweredInSL: 2, SLEstimated: true,
			Completed: 3, WaitSeconds: 10, HandleSeconds: 500, MaxWaiting: 5, MaxLongestWaitSeconds: 40},
	}}
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddQueueRoutes(liveQueues, h) })

	var page queueHistoryPage
	q := url.Values{"from": {"2026-03-02T10:00:00+01:00"}, "to": {"2026-03-02T12:00:00Z"}}
	ts.do(t, "GET", "/api/v1/queues/support/history?"+q.Encode(), supervisorToken).decode(t, &page)
	if h.queue != "support" || !h.from.Equal(t0) || !h.to.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("asked %s [%s, %s)", h.queue, h.from, h.to)
	}
	if page.From != t0 || len(page.Intervals) != 2 || page.Intervals[1] != h.rows[1] {
		t.Errorf("page = %+v", page)
	}
	f := func(v float64) *float64 { return &v }
	want := QueueTotals{Offered: 17, Answered: 10, Abandoned: 3, Exited: 1, Completed: 10,
		ServiceLevel: f(8.0 / 12), SLEstimated: true, ASASeconds: f(9), AHTSeconds: f(190),
		MaxWaiting: 5, MaxLongestWaitSeconds: 95}
	if diff := cmp.Diff(want, page.Totals, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}

	// Defaults: the 24 hours up to now.
	before := time.Now()
	ts.do(t, "GET", "/api/v1/queues/support/history", adminToken).decode(t, &page)
	if h.to.Before(before) || time.Since(h.to) > time.Minute || h.to.Sub(h.from) != 24*time.Hour {
		t.Errorf("default range [%s, %s)", h.from, h.to)
	}
	// Only to: the 24 hours before it.
	ts.do(t, "GET", "/api/v1/queues/support/history?to=2026-03-02T12:00:00Z", adminToken).decode(t, &page)
	if !h.from.Equal(t0.Add(-21*time.Hour)) || !page.To.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("range [%s, %s)", h.from, h.to)
	}

	// No intervals: an empty list and null ratios.
	h.rows = nil
	r := ts.do(t, "GET", "/api/v1/queues/gone/history", adminToken)
	var raw map[string]json.RawMessage
	r.decode(t, &raw)
	if string(raw["intervals"]) != "[]" || !strings.Contains(string(raw["totals"]), `"service_level":null`) ||
		!strings.Contains(string(raw["totals"]), `"asa_seconds":null`) {
		t.Errorf("empty history = %s", r.Body)
	}
}

func TestQueueHistoryBadParams(t *testing.T) {
	h := &fakeQueueHistory{}
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddQueueRoutes(liveQueues, h) })
	cases := []struct{ query, param string }{
		{"from=yesterday", "from"},
		{"to=2026-03-02", "to"},
		{"from=2026-03-02T12:00:00Z&to=2026-03-02T12:00:00Z", "to"},
		{"from=2026-03-02T13:00:00Z&to=2026-03-02T12:00:00Z", "to"},
		{"from=2026-01-01T00:00:00Z&to=2026-03-02T12:00:00Z", "from"},
		{"from=2026-03-02T10:00:00Z&from=2026-03-02T11:00:00Z", "from"},
		{"limit=5", "limit"},
	}
	for _, c := range cases {
		r := ts.do(t, "GET", "/api/v1/queues/support/history?"+c.query, adminToken)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d", c.query, r.Status)
			continue
		}
		if msg := r.errBody(t).Message; !strings.Contains(msg, `"`+c.param+`"`) {
			t.Errorf("%s: message %q does not name %s", c.query, msg, c.param)
		}
	}
	if !h.from.IsZero() {
		t.Errorf("the store was asked despite bad parameters: %s", h.from)
	}
	h.err = switchboard.Errorf(switchboard.EINVALID, "time range ends before it starts")
	if r := ts.do(t, "GET", "/api/v1/queues/support/history", adminToken); r.Status != http.StatusBadRequest {
		t.Errorf("store error: %d", r.Status)
	}
}
