package ari

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	sb "github.com/switchboard/switchboard"
)

// fakeARI is a minimal ARI server for unit tests: basic auth, GET
// /asterisk/info, the events WebSocket (frames pushed by the test), and
// REST routes the test installs. Unlike sim it replays exact recorded JSON
// and can answer anything, including errors and garbage.
type fakeARI struct {
	t      testing.TB
	srv    *httptest.Server
	user   string
	pass   string
	entity string

	mu        sync.Mutex
	conns     []*websocket.Conn
	routes    map[string]http.HandlerFunc                       // "GET /channels"
	intercept func(w http.ResponseWriter, r *http.Request) bool // true: handled
	connected chan *websocket.Conn
}

func newFakeARI(t testing.TB) *fakeARI { return newFakeARIWith(t, nil) }

// newFakeARIWith is newFakeARI with setup applied to the HTTP server
// before it starts (e.g. a ConnState hook).
func newFakeARIWith(t testing.TB, setup func(*http.Server)) *fakeARI {
	f := &fakeARI{
		t: t, user: "switchboard", pass: "s3cr3t-Pa55", entity: "fa:ke:00:00:00:01",
		routes:    map[string]http.HandlerFunc{},
		connected: make(chan *websocket.Conn, 16),
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	if setup != nil {
		setup(f.srv.Config)
	}
	f.srv.Start()
	t.Cleanup(func() {
		f.dropAll()
		f.srv.Close()
	})
	return f
}

func (f *fakeARI) url() string { return f.srv.URL + "/ari" }

// setPassword changes the password the fake wants, as an ARI user's
// password changed in ari.conf and reloaded.
func (f *fakeARI) setPassword(p string) {
	f.mu.Lock()
	f.pass = p
	f.mu.Unlock()
}

func (f *fakeARI) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	f.routes[route] = h
	f.mu.Unlock()
}

// setIntercept installs a function that sees every request first.
func (f *fakeARI) setIntercept(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.intercept = h
	f.mu.Unlock()
}

func (f *fakeARI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ic := f.intercept
	f.mu.Unlock()
	if ic != nil && ic(w, r) {
		return
	}
	u, p, ok := r.BasicAuth()
	f.mu.Lock()
	pass := f.pass
	f.mu.Unlock()
	if !ok || u != f.user || p != pass {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message": "Authentication required"}`))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/ari")
	switch {
	case r.Method == http.MethodGet && path == "/asterisk/info":
		writeJSON(w, 200, map[string]any{"system": map[string]string{"entity_id": f.entity, "version": "22.10.1"}})
		return
	case path == "/events":
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		f.connected <- c
		// Read (and discard) until the client goes: this answers pings.
		ctx := c.CloseRead(context.Background())
		<-ctx.Done()
		return
	}
	f.mu.Lock()
	h := f.routes[r.Method+" "+path]
	f.mu.Unlock()
	if h == nil {
		writeJSON(w, 404, map[string]string{"message": "Resource not found"})
		return
	}
	h(w, r)
}

// acceptKey computes Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// waitConn waits for the adapter's WebSocket.
func (f *fakeARI) waitConn() *websocket.Conn {
	f.t.Helper()
	select {
	case c := <-f.connected:
		return c
	case <-time.After(10 * time.Second):
		f.t.Fatal("adapter never connected its websocket")
		return nil
	}
}

func (f *fakeARI) dropAll() {
	f.mu.Lock()
	cs := f.conns
	f.conns = nil
	f.mu.Unlock()
	for _, c := range cs {
		c.CloseNow()
	}
}

// send writes frames on c, in order.
func send(t testing.TB, c *websocket.Conn, frames ...[]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, fr := range frames {
		if err := c.Write(ctx, websocket.MessageText, fr); err != nil {
			t.Errorf("write frame: %v", err)
			return
		}
	}
}

// logBuffer is a concurrency-safe log sink for assertions on log output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// started is an adapter whose Run is going; stop ends it and returns Run's
// error.
type started struct {
	*Adapter
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, once done is closed
}

func (s *started) stop(t testing.TB) error {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		return s.err
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func start(t testing.TB, cfg Config) *started {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{Adapter: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		s.err = a.Run(ctx)
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
		}
	})
	return s
}

func (f *fakeARI) config(t testing.TB) Config {
	log, _ := testLogger(t)
	return Config{URL: f.url(), Username: f.user, Password: f.pass, Application: "switchboard",
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond, Logger: log}
}

// next waits for the next event.
func next(t testing.TB, ch <-chan sb.Event) sb.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("events channel closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10s")
		return nil
	}
}
