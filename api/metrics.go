package api

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard"
)

// Metrics owns Switchboard's Prometheus collectors on its own registry (plus
// the Go runtime and process collectors), so tests and several instances in
// one process never collide in the global registry.
//
// Every metric is registered up front: the exposition lists all of them from
// the first scrape (zero until fed), and the Set*Func methods only swap the
// function a collector reads, so they may be called at any time, again, and
// concurrently with scrapes.
type Metrics struct {
	reg     *prometheus.Registry
	calls   *prometheus.CounterVec
	ari     *prometheus.HistogramVec
	http    *prometheus.HistogramVec
	active  atomic.Pointer[func() int]
	events  atomic.Pointer[func() (received, lost uint64)]
	linkUp  atomic.Pointer[func() bool]
	handler http.Handler
}

// NewMetrics registers Switchboard's collectors on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_calls_total",
		Help: "Calls ended, by outcome (completed, abandoned, no_agent, failed, interrupted).",
	}, []string{"outcome"})
	for _, o := range switchboard.Outcomes {
		m.calls.WithLabelValues(string(o))
	}
	m.ari = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "switchboard_ari_request_seconds",
		Help: "Duration of requests to the PBX's REST interface, by operation and result (ok, error).",
		// A healthy local Asterisk answers in about a millisecond; the tail
		// shows a loaded PBX or network before callers hear it.
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"op", "result"})
	m.http = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchboard_http_request_seconds",
		Help:    "Duration of HTTP requests served, by route pattern and status code.",
		Buckets: []float64{.001, .005, .025, .1, .5, 2.5, 10},
	}, []string{"route", "code"})

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.calls, m.ari, m.http,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_active_calls",
			Help: "Calls in progress.",
		}, func() float64 {
			if f := m.active.Load(); f != nil {
				return float64((*f)())
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_pbx_events_received_total",
			Help: "Events received from the PBX.",
		}, func() float64 {
			r, _ := m.eventStats()
			return float64(r)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_pbx_events_lost_total",
			Help: "PBX events lost (queue overflow or link down); any increase means call state may be wrong until reconciled.",
		}, func() float64 {
			_, l := m.eventStats()
			return float64(l)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_link_up",
			Help: "1 when the link to the PBX is up, else 0.",
		}, func() float64 {
			if f := m.linkUp.Load(); f != nil && (*f)() {
				return 1
			}
			return 0
		}),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// Handler serves the Prometheus exposition of the registry.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Register adds another collector to Switchboard's registry, for packages
// that own their metrics.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// MustRegister is Register for collectors fixed at program start: a
// duplicate is a programming error and panics.
func (m *Metrics) MustRegister(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// CallEnded counts a call that ended with outcome o.
func (m *Metrics) CallEnded(o switchboard.Outcome) {
	m.calls.WithLabelValues(string(o)).Inc()
}

// SetActiveCallsFunc sets what switchboard_active_calls reads at scrape time.
// f must be safe to call from any goroutine and quick.
func (m *Metrics) SetActiveCallsFunc(f func() int) { m.active.Store(&f) }

// ObserveARI records one request to the PBX's REST interface: op names the
// operation (answer, originate, play ...), err nil means result="ok".
func (m *Metrics) ObserveARI(op string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.ari.WithLabelValues(op, result).Observe(d.Seconds())
}

// SetEventStatsFunc sets what switchboard_pbx_events_received_total and
// switchboard_pbx_events_lost_total read at scrape time. The counts must
// only grow (counter semantics).
func (m *Metrics) SetEventStatsFunc(f func() (received, lost uint64)) { m.events.Store(&f) }

// SetLinkUpFunc sets what switchboard_pbx_link_up reads at scrape time.
func (m *Metrics) SetLinkUpFunc(f func() bool) { m.linkUp.Store(&f) }

func (m *Metrics) eventStats() (received, lost uint64) {
	if f := m.events.Load(); f != nil {
		return (*f)()
	}
	return 0, 0
}

// observeHTTP records one served request.
func (m *Metrics) observeHTTP(route string, status int, d time.Duration) {
	m.http.WithLabelValues(route, statusLabel(status)).Observe(d.Seconds())
}
