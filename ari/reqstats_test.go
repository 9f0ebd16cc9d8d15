package ari

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

func TestResultOf(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return &url.Error{Op: "Post", URL: "http://pbx/ari", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ResultOK},
		{"status", codeErr(503), "503"},
		{"native status", fmt.Errorf("wrapped: %w", codeErr(404)), "404"},
		{"refused", dial(syscall.ECONNREFUSED), ResultRefused},
		{"reset", dial(syscall.ECONNRESET), ResultReset},
		{"closed with no answer", &url.Error{Op: "Post", URL: "u", Err: io.EOF}, ResultReset},
		{"classified", classify("POST", "/x", &url.Error{Op: "Post", URL: "u", Err: io.EOF}), ResultReset},
		{"request deadline", &url.Error{Op: "Get", URL: "u", Err: context.DeadlineExceeded}, ResultTimeout},
		{"transport timeout", &url.Error{Op: "Get", URL: "u", Err: timeoutErr{}}, ResultTimeout},
		{"caller's deadline", classify("POST", "/x", context.DeadlineExceeded), ResultTimeout},
		{"canceled", classify("POST", "/x", context.Canceled), ResultCanceled},
		{"canceled in flight", &url.Error{Op: "Get", URL: "u", Err: context.Canceled}, ResultCanceled},
		{"pool", classify("POST", "/x", fmt.Errorf("%w: %w", errPoolTimeout, context.DeadlineExceeded)), ResultPoolTimeout},
		{"dns", &url.Error{Op: "Get", URL: "u", Err: &net.DNSError{Err: "no such host", Name: "pbx"}}, ResultUnreachable},
		// An empty body the native client could not decode is no
		// connection failure.
		{"undecodable body", fmt.Errorf("failed to decode response: %w", io.EOF), ResultError},
		{"other", errors.New("boom"), ResultError},
	}
	for _, tt := range tests {
		if got := resultOf(tt.err); got != tt.want {
			t.Errorf("%s: resultOf(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout awaiting response headers" }
func (timeoutErr) Timeout() bool { return true }

type codeErr int

func (c codeErr) Error() string { return fmt.Sprintf("Non-2XX response: %d", int(c)) }
func (c codeErr) Code() int     { return int(c) }

func TestRoutePath(t *testing.T) {
	tests := []struct {
		r    route
		ids  []string
		want string
	}{
		{rAnswer, []string{"1700000000.42"}, "/channels/1700000000.42/answer"},
		{rPlay, []string{"c1", "p1"}, "/channels/c1/play/p1"},
		{rListChannels, nil, "/channels"},
		{rOriginate, []string{""}, "/channels"},
		{rSnoop, []string{"c1", ""}, "/channels/c1/snoop"},
	}
	for _, tt := range tests {
		if got := tt.r.path(tt.ids...); got != tt.want {
			t.Errorf("%s.path(%q) = %q, want %q", tt.r, tt.ids, got, tt.want)
		}
	}
	seen := map[string]bool{}
	for _, r := range knownRoutes {
		if seen[r.String()] {
			t.Errorf("route %s listed twice", r)
		}
		seen[r.String()] = true
	}
}

// TestRouteStats: every request is counted under its route template
// (never an id) with its result, and its latency lands in its bucket.
func TestRouteStats(t *testing.T) {
	f := newFakeARI(t)
	fc := newFakeClock()
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, code, map[string]string{"message": "x"}) }
	}
	hijackClose := func(w http.ResponseWriter, r *http.Request) {
		// What Asterisk does past its sessionlimit: close, no answer.
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}
	f.handle("POST /channels/c1/answer", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	f.handle("POST /channels/c2/answer", func(w http.ResponseWriter, r *http.Request) {
		fc.advance(2 * time.Second) // a slow PBX, on the adapter's clock
		w.WriteHeader(204)
	})
	f.handle("POST /channels/gone/answer", status(404))
	f.handle("DELETE /channels/c1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	f.handle("POST /bridges/b1/addChannel", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("channel"); got != "c1,c2" {
			w.WriteHeader(400) // both channels go in one request
			return
		}
		w.WriteHeader(204)
	})
	f.handle("POST /bridges/b2/addChannel", status(500))
	f.handle("GET /recordings/live/r1", status(503))
	f.handle("GET /recordings/live/cut", hijackClose)
	f.handle("POST /channels/cut/answer", hijackClose)
	slow := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(slow) }) })
	f.handle("POST /channels/stuck/answer", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-slow:
		case <-r.Context().Done():
		}
	})
	cfg := f.config(t)
	cfg.RequestTimeout = 200 * time.Millisecond
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.clk = fc
	ctx := context.Background()
	for _, err := range []error{
		a.Answer(ctx, "c1"), a.Answer(ctx, "c2"), a.Hangup(ctx, "c1", ""), a.AddToBridge(ctx, "b1", "c1", "c2"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{
		a.Answer(ctx, "gone"), a.AddToBridge(ctx, "b2", "c1"), a.Answer(ctx, "cut"), a.Answer(ctx, "stuck"),
		func() error { _, err := a.RecordingLive(ctx, "r1"); return err }(),
		func() error { _, err := a.RecordingLive(ctx, "cut"); return err }(),
	} {
		if err == nil {
			t.Fatal("a failing request succeeded")
		}
	}
	once.Do(func() { close(slow) })
	a.Answer(ctx, "bad/id") // refused before any I/O: not counted

	st := a.Stats()
	want := map[string]map[string]uint64{
		"POST /channels/{id}/answer":            {ResultOK: 2, "404": 1, ResultReset: 1, ResultTimeout: 1},
		"DELETE /channels/{id}":                 {ResultOK: 1},
		"POST /bridges/{id}/addChannel":         {ResultOK: 1, "500": 1},
		"GET /recordings/live/{name}":           {"503": 1, ResultReset: 1},
		"POST /channels/{id}/play/{playbackId}": {},
	}
	for route, results := range want {
		rs := routeOf(t, st, route)
		var n uint64
		for _, v := range results {
			n += v
		}
		if rs.Requests != n {
			t.Errorf("%s: %d requests, want %d", route, rs.Requests, n)
		}
		for res, v := range results {
			if rs.Results[res] != v {
				t.Errorf("%s: results %v, want %v", route, rs.Results, results)
				break
			}
		}
	}
	for _, rs := range st.Routes {
		for _, id := range []string{"c1", "c2", "b1", "gone", "r1", "cut", "stuck", "bad"} {
			if strings.Contains(rs.Route, id) {
				t.Errorf("route label %q carries an id", rs.Route)
			}
		}
	}
	// Latency on the adapter's clock: c2 took 2 s, the rest 0.
	rs := routeOf(t, st, "POST /channels/{id}/answer")
	bounds := LatencyBuckets()
	for i, b := range bounds {
		want := rs.Requests - 1
		if b >= 2 {
			want = rs.Requests
		}
		if rs.LatencyCounts[i] != want {
			t.Errorf("answer: %d requests within %gs, want %d", rs.LatencyCounts[i], b, want)
		}
	}
	if rs.LatencySum != 2*time.Second {
		t.Errorf("answer: latency sum %s, want 2s", rs.LatencySum)
	}
}

// TestRouteStatsRefused: a PBX that is not listening counts as refused.
func TestRouteStatsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a, err := New(Config{URL: "http://" + addr + "/ari", Username: "u", Password: "p", Application: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Answer(context.Background(), "c1"); sb.ErrorCode(err) != sb.EUNAVAILABLE {
		t.Fatalf("answer to a closed port: %v", err)
	}
	if _, err := a.Channels(context.Background()); sb.ErrorCode(err) != sb.EUNAVAILABLE {
		t.Fatalf("channels from a closed port: %v", err)
	}
	st := a.Stats()
	for _, r := range []string{"POST /channels/{id}/answer", "GET /applications/{app}"} {
		if rs := routeOf(t, st, r); rs.Results[ResultRefused] != 1 {
			t.Errorf("%s: results %v, want 1 refused", r, rs.Results)
		}
	}
}
