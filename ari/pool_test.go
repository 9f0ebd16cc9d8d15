package ari

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/CyCoreSystems/ari/v6/client/native"
	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// connCounter counts the TCP connections a server holds open, as the
// server sees them (Asterisk counts its sessions the same way). A
// hijacked connection (the events WebSocket) stays counted: it is still
// open.
type connCounter struct {
	mu         sync.Mutex
	open, peak int
	opened     int
}

func (c *connCounter) hook(_ net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		c.open++
		c.opened++
		c.peak = max(c.peak, c.open)
	case http.StateClosed:
		c.open--
	}
}

func (c *connCounter) get() (open, peak, opened int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.peak, c.opened
}

// holdGate holds the requests it sees until released, and signals when
// want of them are held at once; it fails the test if more ever are.
type holdGate struct {
	t       *testing.T
	want    int
	mu      sync.Mutex
	held    int
	peak    int
	done    bool // reached is closed
	reached chan struct{}
	release chan struct{}
}

func newHoldGate(t *testing.T, want int) *holdGate {
	return &holdGate{t: t, want: want, reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *holdGate) hold() {
	g.mu.Lock()
	g.held++
	g.peak = max(g.peak, g.held)
	if g.held == g.want && !g.done {
		g.done = true
		close(g.reached)
	}
	g.mu.Unlock()
	<-g.release
	g.mu.Lock()
	g.held--
	g.mu.Unlock()
}

func (g *holdGate) waitReached() {
	g.t.Helper()
	select {
	case <-g.reached:
	case <-time.After(20 * time.Second):
		g.mu.Lock()
		defer g.mu.Unlock()
		g.t.Fatalf("only %d requests reached the PBX at once, want %d", g.held, g.want)
	}
}

// TestConnectionCapHolds: 200 concurrent commands, through the native
// client and through the adapter's own client, never hold more than
// MaxConnections connections to the PBX, the events WebSocket included;
// the cap is reached, and every command succeeds.
func TestConnectionCapHolds(t *testing.T) {
	const maxConns, requests = 8, 200
	cc := &connCounter{}
	f := newFakeARIWith(t, func(s *http.Server) { s.ConnState = cc.hook })
	var gate *holdGate
	var gateMu sync.Mutex
	f.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		p := strings.TrimPrefix(r.URL.Path, "/ari")
		native := r.Method == http.MethodPost && strings.HasPrefix(p, "/channels/") && strings.HasSuffix(p, "/ring")
		own := r.Method == http.MethodGet && strings.HasPrefix(p, "/recordings/live/")
		if !native && !own {
			return false
		}
		gateMu.Lock()
		g := gate
		gateMu.Unlock()
		g.hold()
		if native {
			w.WriteHeader(http.StatusNoContent)
		} else {
			writeJSON(w, http.StatusOK, map[string]string{"name": "r", "state": "recording"})
		}
		return true
	})
	cfg := f.config(t)
	cfg.MaxConnections = maxConns
	// No connection is closed idle, nor the websocket for a late pong, on
	// a machine slow enough to leave one idle between the bursts: each
	// would open another (9 opened, 9 at once, seen beside a CPU hog).
	cfg.idleTimeout, cfg.pingInterval = time.Hour, time.Hour
	a := start(t, cfg)
	next(t, a.Events()) // LinkUp: the WebSocket holds one connection
	f.waitConn()

	run := func(name string, n int, do func(i int) error) {
		t.Helper()
		g := newHoldGate(t, maxConns-1)
		gateMu.Lock()
		gate = g
		gateMu.Unlock()
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs <- do(i) })
		}
		g.waitReached()
		if open, _, _ := cc.get(); open != maxConns {
			t.Errorf("%s: %d connections open with %d requests held and the websocket, want %d", name, open, maxConns-1, maxConns)
		}
		close(g.release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
		}
		if g.peak > maxConns-1 {
			t.Errorf("%s: %d requests at the PBX at once, want at most %d", name, g.peak, maxConns-1)
		}
	}
	ctx := context.Background()
	ring := func(i int) error { return a.Ring(ctx, chanID(i)) } // a native command
	live := func(i int) error {
		_, err := a.RecordingLive(ctx, fmt.Sprintf("r%d", i))
		return err
	}
	run("native client", requests, ring)
	run("own client", requests, live)
	run("both", requests, func(i int) error {
		if i%2 == 0 {
			return ring(i)
		}
		return live(i)
	})

	_, peak, opened := cc.get()
	if peak > maxConns {
		t.Errorf("the PBX saw %d connections open at once, want at most %d", peak, maxConns)
	}
	// One transport for both clients: the connections of the first burst
	// carry the later ones.
	if opened > maxConns {
		t.Errorf("%d connections opened in all, want at most %d (connections not shared)", opened, maxConns)
	}
	st := a.Stats()
	if st.MaxConnections != maxConns || st.RequestsInFlight != 0 || st.RequestsWaiting != 0 {
		t.Errorf("pool stats %d max, %d in flight, %d waiting; want %d, 0, 0", st.MaxConnections, st.RequestsInFlight, st.RequestsWaiting, maxConns)
	}
	for _, want := range []struct {
		route string
		n     uint64
	}{{"POST /channels/{id}/ring", requests + requests/2}, {"GET /recordings/live/{name}", requests + requests/2}} {
		rs := routeOf(t, st, want.route)
		if rs.Requests != want.n || rs.Results[ResultOK] != want.n {
			t.Errorf("%s: %d requests, results %v; want %d ok", want.route, rs.Requests, rs.Results, want.n)
		}
	}
}

func chanID(i int) sb.ChannelID { return sb.ChannelID(fmt.Sprintf("c%d", i)) }

// TestPoolTimeout: a command that finds every connection busy until its
// deadline is not sent, fails EUNAVAILABLE, and counts as pool_timeout.
func TestPoolTimeout(t *testing.T) {
	f := newFakeARI(t)
	g := newHoldGate(t, 1)
	f.handle("POST /channels/busy/answer", func(w http.ResponseWriter, r *http.Request) {
		g.hold()
		w.WriteHeader(http.StatusNoContent)
	})
	var sent sync.Map
	f.handle("POST /channels/late/answer", func(w http.ResponseWriter, r *http.Request) {
		sent.Store("late", true)
		w.WriteHeader(http.StatusNoContent)
	})
	cfg := f.config(t)
	cfg.MaxConnections = 2 // one REST connection
	cfg.RequestTimeout = 5 * time.Second
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	busy := make(chan error, 1)
	go func() { busy <- a.Answer(ctx, "busy") }()
	g.waitReached()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = a.Answer(short, "late")
	if code := sb.ErrorCode(err); code != sb.EUNAVAILABLE || !strings.Contains(err.Error(), "no free connection") {
		t.Errorf("answer with every connection busy: %v, want unavailable, no free connection", err)
	}
	if st := a.Stats(); st.RequestsInFlight != 1 {
		t.Errorf("in flight %d, want 1", st.RequestsInFlight)
	}
	close(g.release)
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	// The connection is free again: a command now goes through, and the
	// one that timed out was never sent.
	if err := a.Answer(ctx, "busy"); err != nil {
		t.Fatal(err)
	}
	if _, ok := sent.Load("late"); ok {
		t.Error("the command that timed out waiting for a connection was sent")
	}
	rs := routeOf(t, a.Stats(), "POST /channels/{id}/answer")
	if rs.Results[ResultPoolTimeout] != 1 || rs.Results[ResultOK] != 2 {
		t.Errorf("results %v, want 1 pool_timeout and 2 ok", rs.Results)
	}
}

// TestNativeClientTransport: the native client sends through the
// adapter's transport, not http.DefaultTransport.
func TestNativeClientTransport(t *testing.T) {
	a, err := New(Config{URL: "http://127.0.0.1:1/ari", Username: "u", Password: "p", Application: "app"})
	if err != nil {
		t.Fatal(err)
	}
	f := reflect.ValueOf(a.client).Elem().FieldByName("httpClient")
	hc := (*http.Client)(unsafe.Pointer(f.UnsafeAddr()))
	if got, ok := hc.Transport.(*restTransport); !ok || got != a.httpc.Transport {
		t.Error("the native client does not use the adapter's transport")
	}
	if useTransport(native.New(&native.Options{Application: "x"}), a.httpc.Transport) != nil {
		t.Error("useTransport failed on the native client")
	}
	if tr := a.httpc.Transport.(*restTransport); tr.max != DefaultMaxConnections-1 || cap(tr.open) != DefaultMaxConnections-1 {
		t.Errorf("transport %d conns; want %d", tr.max, DefaultMaxConnections-1)
	}
	// https, or a proxy, goes through http.Transport with the same bound.
	for _, u := range []string{"https://127.0.0.1:1/ari"} {
		b, _ := url.Parse(u)
		tr, ok := newTransport(b, 7, time.Second, 0, nil).(reusing)
		if !ok || tr.MaxConnsPerHost != 7 || tr.MaxIdleConnsPerHost != 7 {
			t.Errorf("%s: transport %T, want http.Transport with 7 conns per host", u, tr)
		}
	}
	if _, err := New(Config{URL: "http://127.0.0.1:1/ari", Username: "u", Password: "p", Application: "app", MaxConnections: 1}); err == nil ||
		!strings.Contains(err.Error(), "max connections must be at least 2") {
		t.Errorf("MaxConnections 1: %v", err)
	}
}

func routeOf(t *testing.T, st Stats, route string) RouteStats {
	t.Helper()
	for _, rs := range st.Routes {
		if rs.Route == route {
			return rs
		}
	}
	t.Fatalf("no stats for route %q", route)
	return RouteStats{}
}

// TestSessionLimitNeverExceeded: against the simulator with Asterisk's
// session limit set to MaxConnections, 200 concurrent commands through
// both clients are all answered: none is refused for want of a session.
func TestSessionLimitNeverExceeded(t *testing.T) {
	const maxConns, requests = 6, 200
	s := sim.New(sim.Options{User: "switchboard", Password: "limit-Secret-1", Seed: 1, EntityID: "sim-limit", SessionLimit: maxConns})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log, _ := testLogger(t)
	a := start(t, Config{URL: s.URL(), Username: "switchboard", Password: "limit-Secret-1", Application: "limit",
		MaxConnections: maxConns, RequestTimeout: 20 * time.Second, Logger: log,
		idleTimeout: time.Hour, pingInterval: time.Hour}) // as in TestConnectionCapHolds
	next(t, a.Events()) // LinkUp: the websocket holds a session
	ctx := context.Background()
	errs := make(chan error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0: // native client; the channel does not exist: 404
				if err = a.Ring(ctx, chanID(i)); sb.ErrorCode(err) == sb.ENOTFOUND {
					err = nil
				}
			case 1: // the adapter's own client, two requests
				_, err = a.Channels(ctx)
			default:
				_, err = a.Endpoints(ctx)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a command failed: %v", err)
			break
		}
	}
	if st := s.Stats(); st.SessionsRefused != 0 {
		t.Errorf("the PBX refused %d sessions past its limit of %d", st.SessionsRefused, maxConns)
	}
	for _, rs := range a.Stats().Routes {
		if n := rs.Results[ResultReset]; n > 0 {
			t.Errorf("%s: %d connections closed with no answer", rs.Route, n)
		}
	}
	if rs := routeOf(t, a.Stats(), "POST /channels/{id}/ring"); rs.Results["404"] != (requests+2)/3 {
		t.Errorf("ring results %v, want %d 404", rs.Results, (requests+2)/3)
	}
}
