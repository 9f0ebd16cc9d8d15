package api

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
)

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	ts := newTestServer(t, Options{Metrics: m})

	// Before anything is fed, every Switchboard metric is already listed
	// (except the ARI histogram, whose ops are only known when observed).
	body := string(ts.do(t, "GET", "/metrics", "").Body)
	for _, want := range []string{
		`switchboard_calls_total{outcome="abandoned"} 0`,
		`switchboard_calls_total{outcome="interrupted"} 0`,
		"switchboard_active_calls 0",
		"switchboard_pbx_events_received_total 0",
		"switchboard_pbx_events_lost_total 0",
		"switchboard_pbx_link_up 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("fresh exposition lacks %q", want)
		}
	}

	m.CallEnded(switchboard.OutcomeCompleted)
	m.CallEnded(switchboard.OutcomeCompleted)
	m.CallEnded(switchboard.OutcomeAbandoned)
	m.SetActiveCallsFunc(func() int { return 7 })
	m.ObserveARI("answer", 3*time.Millisecond, nil)
	m.ObserveARI("originate", 40*time.Millisecond, errors.New("404"))
	m.SetEventStatsFunc(func() (uint64, uint64) { return 1234, 2 })
	m.SetLinkUpFunc(func() bool { return true })
	ts.do(t, "GET", "/api/v1/whoami", adminToken)

	r := ts.do(t, "GET", "/metrics", "")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	body = string(r.Body)
	for _, want := range []string{
		"# TYPE switchboard_calls_total counter",
		`switchboard_calls_total{outcome="completed"} 2`,
		`switchboard_calls_total{outcome="abandoned"} 1`,
		"# TYPE switchboard_active_calls gauge",
		"switchboard_active_calls 7",
		`switchboard_ari_request_seconds_bucket{op="answer",result="ok",le="0.005"} 1`,
		`switchboard_ari_request_seconds_count{op="originate",result="error"} 1`,
		"# TYPE switchboard_pbx_events_received_total counter",
		"switchboard_pbx_events_received_total 1234",
		"switchboard_pbx_events_lost_total 2",
		"switchboard_pbx_link_up 1",
		`switchboard_http_request_seconds_count{code="200",route="GET /api/v1/whoami"} 1`,
		"go_goroutines",
		"process_",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(body, adminToken) {
		t.Error("exposition holds a token")
	}
}

// TestMetricsFuncsSwapConcurrently: the Set*Func methods may be called while
// Prometheus scrapes (run with -race).
func TestMetricsFuncsSwapConcurrently(t *testing.T) {
	m := NewMetrics()
	ts := newTestServer(t, Options{Metrics: m})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 50 {
			m.SetActiveCallsFunc(func() int { return i })
			m.SetLinkUpFunc(func() bool { return i%2 == 0 })
			m.SetEventStatsFunc(func() (uint64, uint64) { return uint64(i), 0 })
			m.CallEnded(switchboard.OutcomeFailed)
		}
	})
	for range 5 {
		if r := ts.do(t, "GET", "/metrics", ""); r.Status != 200 {
			t.Fatalf("scrape: %d", r.Status)
		}
	}
	wg.Wait()
	if !strings.Contains(string(ts.do(t, "GET", "/metrics", "").Body), `switchboard_calls_total{outcome="failed"} 50`) {
		t.Error("calls_total lost increments")
	}
}

func TestMetricsRegister(t *testing.T) {
	m := NewMetrics()
	if err := m.Register(m.calls); err == nil {
		t.Error("registering a collector twice succeeded")
	}
}
