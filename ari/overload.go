package ari

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// OverloadConfig tells when the PBX counts as overloaded (Adapter.Overload):
// over the last Window, at least MinRequests REST requests were made, and
// either at least FailureRatio of them failed for the PBX's sake (a 5xx
// answer, a timeout, no free connection in time, a connection refused or
// closed without an answer) or more than 5% took longer than P95Latency
// (the 95th percentile is over it). 4xx answers are the PBX working: a
// channel that hung up is 404. Zero fields take the defaults.
type OverloadConfig struct {
	Window       time.Duration // default 30s
	MinRequests  int           // default 20
	FailureRatio float64       // default 0.2
	P95Latency   time.Duration // default 1s
}

// Defaults of OverloadConfig.
const (
	DefaultOverloadWindow       = 30 * time.Second
	DefaultOverloadMinRequests  = 20
	DefaultOverloadFailureRatio = 0.2
	DefaultOverloadP95Latency   = time.Second
)

func (c OverloadConfig) withDefaults() OverloadConfig {
	if c.Window <= 0 {
		c.Window = DefaultOverloadWindow
	}
	if c.MinRequests <= 0 {
		c.MinRequests = DefaultOverloadMinRequests
	}
	if c.FailureRatio <= 0 || c.FailureRatio > 1 {
		c.FailureRatio = DefaultOverloadFailureRatio
	}
	if c.P95Latency <= 0 {
		c.P95Latency = DefaultOverloadP95Latency
	}
	return c
}

// Load is what the last OverloadConfig.Window of REST requests says about
// the PBX.
type Load struct {
	// Window is the span the counts cover.
	Window time.Duration
	// Requests counts the requests that ended in the window (those the
	// caller canceled are left out: they say nothing about the PBX).
	Requests int
	// Failures counts those that failed for the PBX's sake, of which
	// Status5xx were answered 5xx, Timeouts had no answer or no free
	// connection in time, and ConnectionFailures met a refused, reset or
	// unreachable connection.
	Failures, Status5xx, Timeouts, ConnectionFailures int
	// Slow counts the requests that took longer than P95Latency.
	Slow int
	// Overloaded is the verdict; Reason says why, for /healthz.
	Overloaded bool
	Reason     string
}

// loadSlots is how many slots a loadWindow has: the window moves in steps
// of Window/loadSlots.
const loadSlots = 30

type loadSlot struct {
	n                                 int64 // slot number (time / width); 0: unused
	requests, slow                    int
	status5xx, timeouts, connFailures int
}

// loadWindow counts the outcomes of recent requests in a ring of time
// slots. Its methods take the time as an argument: the adapter passes its
// clock's, tests any.
type loadWindow struct {
	cfg   OverloadConfig
	width time.Duration

	mu    sync.Mutex
	slots [loadSlots]loadSlot
}

func newLoadWindow(cfg OverloadConfig) *loadWindow {
	cfg = cfg.withDefaults()
	w := max(cfg.Window/loadSlots, time.Millisecond)
	return &loadWindow{cfg: cfg, width: w}
}

// add counts a request that ended at now after d with result.
func (w *loadWindow) add(now time.Time, d time.Duration, result string) {
	if result == ResultCanceled {
		return
	}
	n := now.UnixNano()/int64(w.width) + 1 // +1: 0 marks an unused slot
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &w.slots[n%loadSlots]
	if s.n != n {
		*s = loadSlot{n: n}
	}
	s.requests++
	if d > w.cfg.P95Latency {
		s.slow++
	}
	switch result {
	case ResultOK, ResultError:
	case ResultTimeout, ResultPoolTimeout:
		s.timeouts++
	case ResultRefused, ResultReset, ResultUnreachable:
		s.connFailures++
	default:
		if len(result) == 3 && result[0] == '5' {
			s.status5xx++
		}
	}
}

// load sums the slots of the window that ends at now and judges it.
func (w *loadWindow) load(now time.Time) Load {
	cur := now.UnixNano()/int64(w.width) + 1
	l := Load{Window: w.cfg.Window}
	w.mu.Lock()
	for _, s := range w.slots {
		if s.n == 0 || s.n > cur || s.n <= cur-loadSlots {
			continue
		}
		l.Requests += s.requests
		l.Slow += s.slow
		l.Status5xx += s.status5xx
		l.Timeouts += s.timeouts
		l.ConnectionFailures += s.connFailures
	}
	w.mu.Unlock()
	l.Failures = l.Status5xx + l.Timeouts + l.ConnectionFailures
	if l.Requests < w.cfg.MinRequests {
		return l
	}
	var why []string
	if float64(l.Failures) >= w.cfg.FailureRatio*float64(l.Requests) && l.Failures > 0 {
		var kinds []string
		for _, k := range []struct {
			n    int
			what string
		}{{l.Timeouts, "timed out"}, {l.Status5xx, "answered 5xx"}, {l.ConnectionFailures, "met a refused or closed connection"}} {
			if k.n > 0 {
				kinds = append(kinds, fmt.Sprintf("%d %s", k.n, k.what))
			}
		}
		why = append(why, fmt.Sprintf("%d of %d ARI requests in the last %s failed (%s)",
			l.Failures, l.Requests, w.cfg.Window, strings.Join(kinds, ", ")))
	}
	// The 95th percentile is over the bound when more than 5% are.
	if l.Slow*20 > l.Requests {
		why = append(why, fmt.Sprintf("ARI latency p95 over %s in the last %s (%d of %d requests slower)",
			w.cfg.P95Latency, w.cfg.Window, l.Slow, l.Requests))
	}
	if len(why) > 0 {
		l.Overloaded = true
		l.Reason = "PBX overloaded: " + strings.Join(why, "; ")
	}
	return l
}
