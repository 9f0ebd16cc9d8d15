package ari

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// transportRig is a test server and a restTransport to it; conns sees the
// server's connection states.
type transportRig struct {
	srv   *httptest.Server
	t     *restTransport
	c     *http.Client
	mu    sync.Mutex
	opens int
	state chan http.ConnState
}

func newTransportRig(t *testing.T, h http.HandlerFunc) *transportRig {
	t.Helper()
	r := &transportRig{state: make(chan http.ConnState, 100)}
	r.srv = httptest.NewUnstartedServer(h)
	r.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			r.mu.Lock()
			r.opens++
			r.mu.Unlock()
		}
		select {
		case r.state <- st:
		default:
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	u, _ := url.Parse(r.srv.URL)
	r.t = newTransport(u, 4, time.Second, nil).(*restTransport)
	r.c = &http.Client{Transport: r.t}
	t.Cleanup(r.t.CloseIdleConnections)
	return r
}

func (r *transportRig) connsOpened() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opens
}

func (r *transportRig) do(t *testing.T, ctx context.Context, method, path, body string) (string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic eDp5")
	resp, err := r.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestRestTransportExchanges: small answers, an empty one, and a large
// chunked one all arrive whole, with the request's method, path, query,
// headers and body, over one kept-alive connection.
func TestRestTransportExchanges(t *testing.T) {
	big := strings.Repeat("0123456789", 40_000) // past eagerBody
	r := newTransportRig(t, func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		switch req.URL.Path {
		case "/echo":
			w.Write([]byte(req.Method + " " + req.URL.RawQuery + " " + req.Header.Get("Authorization") + " " + string(b)))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/big":
			for i := 0; i < len(big); i += 100_000 {
				w.Write([]byte(big[i : i+100_000]))
				w.(http.Flusher).Flush() // chunked
			}
		}
	})
	ctx := context.Background()
	for range 3 {
		got, err := r.do(t, ctx, http.MethodPost, "/echo?a=b%20c", `{"x":1}`)
		if want := `POST a=b%20c Basic eDp5 {"x":1}`; err != nil || got != want {
			t.Fatalf("echo = %q, %v; want %q", got, err, want)
		}
		if got, err := r.do(t, ctx, http.MethodDelete, "/empty", ""); err != nil || got != "" {
			t.Fatalf("empty = %q, %v", got, err)
		}
		if got, err := r.do(t, ctx, http.MethodGet, "/big", ""); err != nil || got != big {
			t.Fatalf("big: %d bytes, %v; want %d", len(got), err, len(big))
		}
	}
	if n := r.connsOpened(); n != 1 {
		t.Errorf("%d connections opened, want 1 kept alive", n)
	}
}

// TestRestTransportResendsOnClosedIdle: a request on a kept-alive
// connection the server closed meanwhile is sent again on a new one, and
// reaches the server once.
func TestRestTransportResendsOnClosedIdle(t *testing.T) {
	var mu sync.Mutex
	seen := 0
	r := newTransportRig(t, func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		seen++
		mu.Unlock()
		w.Write([]byte("ok"))
	})
	ctx := context.Background()
	if _, err := r.do(t, ctx, http.MethodPost, "/x", ""); err != nil {
		t.Fatal(err)
	}
	r.srv.CloseClientConnections()
	for st := range r.state {
		if st == http.StateClosed {
			break
		}
	}
	if got, err := r.do(t, ctx, http.MethodPost, "/x", ""); err != nil || got != "ok" {
		t.Fatalf("after the server closed the idle connection: %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != 2 || r.connsOpened() != 2 {
		t.Errorf("server saw %d requests on %d connections, want 2 on 2", seen, r.connsOpened())
	}
}

// TestRestTransportDeadlines: the request's context ends a request in
// flight with its error; no answer within respTimeout is a timeout; the
// connections of both are closed, not reused.
func TestRestTransportDeadlines(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 2)
	r := newTransportRig(t, func(w http.ResponseWriter, req *http.Request) {
		arrived <- struct{}{}
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if _, err := r.do(t, ctx, http.MethodPost, "/x", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled request: %v, want context.Canceled", err)
	}
	r.t.respTimeout = 50 * time.Millisecond
	_, err := r.do(t, context.Background(), http.MethodPost, "/x", "")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("unanswered request: %v, want a timeout", err)
	}
	if resultOf(err) != ResultTimeout {
		t.Errorf("result %q, want %q", resultOf(err), ResultTimeout)
	}
	if n := len(r.t.open); n != 0 {
		t.Errorf("%d connections held after two failed requests, want 0", n)
	}
}

// TestRestTransportIdleTimeout: a connection idle for idleTimeout is
// closed by the client.
func TestRestTransportIdleTimeout(t *testing.T) {
	r := newTransportRig(t, func(w http.ResponseWriter, req *http.Request) { w.Write([]byte("ok")) })
	r.t.idleTimeout = 20 * time.Millisecond
	if _, err := r.do(t, context.Background(), http.MethodGet, "/x", ""); err != nil {
		t.Fatal(err)
	}
	for st := range r.state {
		if st == http.StateClosed {
			break
		}
	}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	if len(r.t.idle) != 0 || len(r.t.open) != 0 {
		t.Errorf("%d idle, %d open after the idle timeout, want none", len(r.t.idle), len(r.t.open))
	}
}

// TestRestTransportRefusesBadHeaders: a header that would split the
// request is refused before anything is sent.
func TestRestTransportRefusesBadHeaders(t *testing.T) {
	r := newTransportRig(t, func(w http.ResponseWriter, req *http.Request) { t.Error("request sent") })
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/x", nil)
	req.Header["X-Bad"] = []string{"a\r\nX-Injected: 1"}
	if _, err := r.t.RoundTrip(req); !errors.Is(err, errBadHeader) {
		t.Errorf("RoundTrip = %v, want errBadHeader", err)
	}
}
