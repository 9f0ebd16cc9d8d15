package ari

import (
	"context"
	"errors"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Results of a REST request, the values of RouteStats.Results' keys (and
// of the result label of switchboard_pbx_requests_total). A request
// Asterisk answered with a non-2xx status has that status as its result
// ("404", "503").
const (
	// ResultOK: a 2xx answer.
	ResultOK = "ok"
	// ResultTimeout: no answer within the request's deadline
	// (asterisk.request_timeout, or the caller's) or the transport's.
	ResultTimeout = "timeout"
	// ResultPoolTimeout: the deadline passed while every connection to
	// Asterisk (asterisk.max_connections) was busy; the request was not
	// sent.
	ResultPoolTimeout = "pool_timeout"
	// ResultRefused: Asterisk refused the TCP connection (not listening).
	ResultRefused = "refused"
	// ResultReset: the connection was closed or reset with no answer, as
	// Asterisk does past its http.conf sessionlimit.
	ResultReset = "reset"
	// ResultUnreachable: any other transport failure (DNS, no route).
	ResultUnreachable = "unreachable"
	// ResultCanceled: the caller gave up (shutdown); says nothing about
	// the PBX.
	ResultCanceled = "canceled"
	// ResultError: anything else, such as an answer that did not decode.
	ResultError = "error"
)

// resultOf classifies a request's error (raw or from classify, whose
// cause it keeps) as one of the Result values or an HTTP status. Transport
// failures are told apart only beneath the *url.Error that http.Client
// returns: an io.EOF elsewhere is a body that did not decode, not a
// connection closed on us.
func resultOf(err error) string {
	if err == nil {
		return ResultOK
	}
	if errors.Is(err, errPoolTimeout) {
		return ResultPoolTimeout
	}
	if st := statusOf(err); st != 0 {
		return strconv.Itoa(st)
	}
	var transport error
	chain(err, func(e error) bool {
		if ue, ok := e.(*url.Error); ok {
			transport = ue
			return true
		}
		return false
	})
	if transport == nil {
		switch {
		case errors.Is(err, context.Canceled):
			return ResultCanceled
		case errors.Is(err, context.DeadlineExceeded):
			return ResultTimeout // the caller's deadline passed (call)
		}
		return ResultError
	}
	res := ResultUnreachable
	chain(transport, func(e error) bool {
		switch {
		case e == context.Canceled:
			res = ResultCanceled
		case e == context.DeadlineExceeded:
			res = ResultTimeout
		case e == syscall.ECONNREFUSED:
			res = ResultRefused
		case e == syscall.ECONNRESET, e == syscall.EPIPE, e == syscall.ECONNABORTED, e == io.EOF, e == io.ErrUnexpectedEOF:
			res = ResultReset
		default:
			t, ok := e.(interface{ Timeout() bool })
			if !ok || !t.Timeout() {
				return false
			}
			res = ResultTimeout
		}
		return true
	})
	return res
}

// latencyBuckets are the upper bounds, in seconds, of the latency
// histogram of every route. A healthy local Asterisk answers in about a
// millisecond; the tail shows a loaded PBX before callers hear it.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// LatencyBuckets returns the upper bounds, in seconds, of
// RouteStats.LatencyCounts.
func LatencyBuckets() []float64 { return slices.Clone(latencyBuckets) }

// RouteStats are the counters of one ARI REST route since New.
type RouteStats struct {
	// Route is the method and path template, e.g. "POST
	// /bridges/{id}/addChannel": never a concrete id.
	Route string
	// Requests counts the requests made (those refused before any I/O,
	// for a malformed id, are not).
	Requests uint64
	// Results counts them by result: ResultOK, an HTTP status ("404",
	// "503"), ResultTimeout, ResultPoolTimeout, ResultRefused,
	// ResultReset, ResultUnreachable, ResultCanceled, ResultError.
	Results map[string]uint64
	// LatencyCounts[i] counts the requests that took at most
	// LatencyBuckets()[i] seconds (cumulative, as Prometheus buckets);
	// Requests is the count of the +Inf bucket.
	LatencyCounts []uint64
	// LatencySum is the total time of the requests.
	LatencySum time.Duration
}

// routeCounter accumulates one route's RouteStats.
type routeCounter struct {
	mu      sync.Mutex
	n       uint64
	results map[string]uint64
	buckets []uint64 // per bucket, not cumulative; the last is +Inf
	sum     time.Duration
}

func (c *routeCounter) add(d time.Duration, result string) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s) // first bound >= s
	c.mu.Lock()
	c.n++
	c.results[result]++
	c.buckets[i]++
	c.sum += d
	c.mu.Unlock()
}

func (c *routeCounter) stats(name string) RouteStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := RouteStats{Route: name, Requests: c.n, Results: make(map[string]uint64, len(c.results)),
		LatencyCounts: make([]uint64, len(latencyBuckets)), LatencySum: c.sum}
	for k, v := range c.results {
		rs.Results[k] = v
	}
	var cum uint64
	for i := range latencyBuckets {
		cum += c.buckets[i]
		rs.LatencyCounts[i] = cum
	}
	return rs
}

// routeStats holds a routeCounter for every route, keyed by the route
// itself (its String is made only for Stats).
type routeStats struct {
	mu      sync.RWMutex
	byRoute map[route]*routeCounter
}

func newRouteStats() *routeStats {
	s := &routeStats{byRoute: make(map[route]*routeCounter, len(knownRoutes))}
	for _, r := range knownRoutes {
		s.counter(r)
	}
	return s
}

func (s *routeStats) counter(r route) *routeCounter {
	s.mu.RLock()
	c := s.byRoute[r]
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c = s.byRoute[r]; c == nil {
		c = &routeCounter{results: map[string]uint64{}, buckets: make([]uint64, len(latencyBuckets)+1)}
		s.byRoute[r] = c
	}
	return c
}

func (s *routeStats) add(r route, d time.Duration, result string) {
	s.counter(r).add(d, result)
}

// all returns every route's stats, sorted by route.
func (s *routeStats) all() []RouteStats {
	s.mu.RLock()
	out := make([]RouteStats, 0, len(s.byRoute))
	for r, c := range s.byRoute {
		out = append(out, c.stats(r.String()))
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b RouteStats) int { return strings.Compare(a.Route, b.Route) })
	return out
}
