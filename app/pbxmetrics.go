package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/ari"
)

// pbxRequestCollector exposes the ARI adapter's per-route request counters
// (ari.Stats.Routes), read at scrape time, so that the adapter stays the
// one owner of the counts:
//
//	switchboard_pbx_requests_total{route,result}  counter
//	switchboard_pbx_request_seconds{route}        histogram
//
// route is the method and path template ("POST /bridges/{id}/addChannel");
// result is ok, the HTTP status ("404", "503"), timeout, pool_timeout,
// refused, reset, unreachable, canceled or error. Routes not used yet are
// left out.
type pbxRequestCollector struct {
	stats   func() []ari.RouteStats
	total   *prometheus.Desc
	seconds *prometheus.Desc
}

var _ prometheus.Collector = (*pbxRequestCollector)(nil)

func newPBXRequestCollector(stats func() []ari.RouteStats) *pbxRequestCollector {
	return &pbxRequestCollector{
		stats: stats,
		total: prometheus.NewDesc("switchboard_pbx_requests_total",
			"Requests to the PBX's REST interface (ARI), by route template and result (ok, an HTTP status, timeout, pool_timeout, refused, reset, unreachable, canceled, error).",
			[]string{"route", "result"}, nil),
		seconds: prometheus.NewDesc("switchboard_pbx_request_seconds",
			"Duration of requests to the PBX's REST interface (ARI), by route template, waiting for a free connection included.",
			[]string{"route"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *pbxRequestCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.seconds
}

// Collect implements prometheus.Collector.
func (c *pbxRequestCollector) Collect(ch chan<- prometheus.Metric) {
	bounds := ari.LatencyBuckets()
	for _, rs := range c.stats() {
		if rs.Requests == 0 {
			continue
		}
		for res, n := range rs.Results {
			ch <- prometheus.MustNewConstMetric(c.total, prometheus.CounterValue, float64(n), rs.Route, res)
		}
		buckets := make(map[float64]uint64, len(bounds))
		for i, b := range bounds {
			buckets[b] = rs.LatencyCounts[i]
		}
		ch <- prometheus.MustNewConstHistogram(c.seconds, rs.Requests, rs.LatencySum.Seconds(), buckets, rs.Route)
	}
}
