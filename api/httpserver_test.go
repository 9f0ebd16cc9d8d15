package api

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// limitedServer serves a test Server through HTTPServer and Listener with
// limits l on a local port.
func limitedServer(t *testing.T, l Limits) (addr string, cl *capListener) {
	t.Helper()
	s := New(Options{Tokens: testTokens()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	capped := s.Listener(ln, l)
	hs := s.HTTPServer(l)
	go hs.Serve(capped)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), capped.(*capListener)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reads c until the server closes it, and returns what it
// read; the test fails if the server holds it for 20 s (its limits are far
// shorter).
func closedByServer(t *testing.T, c net.Conn, what string) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server still holds the connection after 20 s", what)
	}
	return string(b)
}

const whoami = "GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + agentToken + "\r\n\r\n"

// TestSlowClientsAreCutOff: a client that sends its body slowly, and one
// that keeps a connection idle, lose it; the limits are what the server
// was given.
func TestSlowClientsAreCutOff(t *testing.T) {
	addr, _ := limitedServer(t, Limits{ReadTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})

	slow := dial(t, addr)
	io.WriteString(slow, "POST /api/v1/whoami HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
	// ... and the other 95 bytes never come.
	closedByServer(t, slow, "a body that never ends")

	header := dial(t, addr)
	io.WriteString(header, "GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n") // headers never finished
	closedByServer(t, header, "headers that never end")

	idle := dial(t, addr)
	io.WriteString(idle, whoami)
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("whoami: %d, close %v; want 200 kept alive", resp.StatusCode, resp.Close)
	}
	idle.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle kept-alive connection: %v, want closed by the server", err)
	}
}

// TestConnectionCap: past MaxConnections a connection is answered 503 with
// Retry-After and closed, without the server reading a request from it;
// once one closes, a new one is served.
func TestConnectionCap(t *testing.T) {
	addr, cl := limitedServer(t, Limits{MaxConnections: 2})
	var held []net.Conn
	for range 2 {
		c := dial(t, addr)
		io.WriteString(c, whoami)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("connection under the cap: %v %v", resp, err)
		}
		resp.Body.Close()
		held = append(held, c)
	}
	over := dial(t, addr) // sends nothing at all
	got := closedByServer(t, over, "a connection over the cap")
	if !strings.HasPrefix(got, "HTTP/1.1 503 ") || !strings.Contains(got, "Retry-After: 1") || !strings.Contains(got, "too many connections") {
		t.Fatalf("over the cap: %q, want a 503 with Retry-After", got)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
	if err != nil {
		t.Fatalf("the refusal is not a valid HTTP response: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), `"code":"unavailable"`) {
		t.Errorf("refusal body %q", b)
	}
	if n := cl.refused.Load(); n != 1 {
		t.Errorf("refused = %d, want 1", n)
	}
	held[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for cl.open.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("open connections = %d after one closed, want 1", cl.open.Load())
		}
		time.Sleep(time.Millisecond)
	}
	again := dial(t, addr)
	io.WriteString(again, whoami)
	resp, err = http.ReadResponse(bufio.NewReader(again), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a slot freed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestHTTPServerLimits: zero limits take the defaults; given ones are used.
func TestHTTPServerLimits(t *testing.T) {
	s := New(Options{})
	hs := s.HTTPServer(Limits{})
	d := DefaultLimits
	if hs.ReadTimeout != d.ReadTimeout || hs.WriteTimeout != d.WriteTimeout || hs.IdleTimeout != d.IdleTimeout ||
		hs.MaxHeaderBytes != d.MaxHeaderBytes || hs.ReadHeaderTimeout != 10*time.Second {
		t.Errorf("defaults: %+v", hs)
	}
	hs = New(Options{}).HTTPServer(Limits{ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second, MaxHeaderBytes: 8192})
	if hs.ReadTimeout != 2*time.Second || hs.ReadHeaderTimeout != 2*time.Second || hs.WriteTimeout != 3*time.Second ||
		hs.IdleTimeout != 4*time.Second || hs.MaxHeaderBytes != 8192 {
		t.Errorf("given: %+v", hs)
	}
}
