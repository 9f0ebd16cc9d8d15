package ari

import (
	"bufio"
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

	sb "github.com/switchboard/switchboard"
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
	r.t = newTransport(u, 4, time.Second, 0, nil).(*restTransport)
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

// seenRequest is what a server saw of a request.
type seenRequest struct {
	method, uri, contentType, auth, body string
	length                               int64
}

// TestCommandsAsNativeClientSends: the commands the adapter makes itself
// reach Asterisk exactly as the native client's: method, path, query,
// Content-Type, credentials and JSON body, over restTransport and over
// http.Transport alike.
func TestCommandsAsNativeClientSends(t *testing.T) {
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, seenRequest{r.Method, r.RequestURI, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b), r.ContentLength})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	take := func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		s := seen
		seen = nil
		return s
	}
	mk := func(u string) *Adapter {
		a, err := New(Config{URL: u, Username: "u", Password: "p w", Application: "app"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ch, br := sb.ChannelID("1700000000.42;2"), sb.BridgeID("br-1700000000.42")
	ctx := context.Background()
	commands := []struct {
		name   string
		own    func(a *Adapter) error
		native func(a *Adapter) error
	}{
		{"answer", func(a *Adapter) error { return a.Answer(ctx, ch) },
			func(a *Adapter) error { return a.client.Channel().Answer(chanKey(ch)) }},
		{"hangup", func(a *Adapter) error { return a.Hangup(ctx, ch, "") },
			func(a *Adapter) error { return a.client.Channel().Hangup(chanKey(ch), "") }},
		{"hangup busy", func(a *Adapter) error { return a.Hangup(ctx, ch, "busy") },
			func(a *Adapter) error { return a.client.Channel().Hangup(chanKey(ch), "busy") }},
		{"set variable", func(a *Adapter) error { return a.SetVariable(ctx, ch, "SB_CARD", `{"a":"<b>&"}`) },
			func(a *Adapter) error { return a.client.Channel().SetVariable(chanKey(ch), "SB_CARD", `{"a":"<b>&"}`) }},
		{"unset variable", func(a *Adapter) error { return a.SetVariable(ctx, ch, "X", "") },
			func(a *Adapter) error { return a.client.Channel().SetVariable(chanKey(ch), "X", "") }},
		{"moh", func(a *Adapter) error { return a.MusicOnHold(ctx, ch, "", true) },
			func(a *Adapter) error { return a.client.Channel().MOH(chanKey(ch), "") }},
		{"moh class", func(a *Adapter) error { return a.MusicOnHold(ctx, ch, "jazz", true) },
			func(a *Adapter) error { return a.client.Channel().MOH(chanKey(ch), "jazz") }},
		{"stop moh", func(a *Adapter) error { return a.MusicOnHold(ctx, ch, "", false) },
			func(a *Adapter) error { return a.client.Channel().StopMOH(chanKey(ch)) }},
		{"play", func(a *Adapter) error { return a.Play(ctx, ch, "pb-1", "sound:hello", "digits:12") },
			func(a *Adapter) error {
				_, err := a.client.Channel().Play(chanKey(ch), "pb-1", "sound:hello", "digits:12")
				return err
			}},
		{"create bridge", func(a *Adapter) error { return a.CreateBridge(ctx, br, "call 1") },
			func(a *Adapter) error {
				_, err := a.client.Bridge().Create(bridgeKey(br), "mixing", "call 1")
				return err
			}},
		{"destroy bridge", func(a *Adapter) error { return a.DestroyBridge(ctx, br) },
			func(a *Adapter) error { return a.client.Bridge().Delete(bridgeKey(br)) }},
		{"subscribe channel", func(a *Adapter) error { return a.SubscribeChannel(ctx, ch) },
			func(a *Adapter) error { return a.client.Application().Subscribe(appKey("app"), "channel:"+string(ch)) }},
		{"subscribe endpoint", func(a *Adapter) error { return a.SubscribeEndpoint(ctx, "PJSIP/1001") },
			func(a *Adapter) error { return a.client.Application().Subscribe(appKey("app"), "endpoint:PJSIP/1001") }},
	}
	for _, base := range []string{srv.URL + "/ari", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/ari/", srv.URL + "/my%20ari"} {
		own := mk(base)
		if own.raw == nil {
			t.Fatal("plain HTTP without a proxy should use restTransport")
		}
		fallback := mk(base)
		fallback.raw = nil // through http.Client
		for _, c := range commands {
			if err := c.native(own); err != nil {
				t.Fatalf("%s, native: %v", c.name, err)
			}
			want := take()
			for _, a := range []*Adapter{own, fallback} {
				if err := c.own(a); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				got := take()
				if len(got) != 1 || len(want) != 1 || got[0] != want[0] {
					t.Errorf("%s (raw %v): sent %+v, the native client %+v", c.name, a.raw != nil, got, want)
				}
			}
		}
	}
}

// TestReadAnswer: answers framed by Content-Length, chunked, or by the
// connection's end, after a 100 Continue, with or without keep-alive.
func TestReadAnswer(t *testing.T) {
	tests := []struct {
		name, in   string
		wire       string
		status     int
		body       string
		keep, fail bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", "GET / ", 200, "{}", true, false},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", "DELETE / ", 204, "", true, false},
		{"close", "HTTP/1.1 404 Not Found\r\nconnection: Close\r\ncontent-length: 5\r\n\r\nnope!", "GET / ", 404, "nope!", false, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", "GET / ", 200, "abcde", true, false},
		{"to the end", "HTTP/1.1 200 OK\r\n\r\nall of it", "GET / ", 200, "all of it", false, false},
		{"continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", "POST / ", 201, "x", true, false},
		{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", "GET / ", 200, "x", false, false},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD / ", 200, "", true, false},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "GET / ", 0, "", false, true},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", "GET / ", 0, "", false, true},
	}
	for _, tt := range tests {
		status, body, keep, err := readAnswer(bufio.NewReader(strings.NewReader(tt.in)), []byte(tt.wire))
		if (err != nil) != tt.fail || status != tt.status || string(body) != tt.body || keep != tt.keep {
			t.Errorf("%s: %d %q keep %v err %v; want %d %q keep %v fail %v", tt.name, status, body, keep, err, tt.status, tt.body, tt.keep, tt.fail)
		}
	}
}
