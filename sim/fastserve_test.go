package sim

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawConn is a client connection that writes requests by hand.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

var rawAuth = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPass)) + "\r\n"

// do sends a request head (its lines, CRLF-terminated) and body, and reads
// the answer.
func (r *rawConn) do(head, body string) (*http.Response, string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, head+"\r\n"+body); err != nil {
		r.t.Fatal(err)
	}
	var req *http.Request
	if strings.HasPrefix(head, "HEAD ") {
		req = &http.Request{Method: http.MethodHead}
	}
	resp, err := http.ReadResponse(r.br, req)
	if err != nil {
		r.t.Fatalf("answer to %q: %v", head, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp, string(b)
}

// TestFastServeAnswers: plain requests served by the fast loop get what
// net/http would answer (status, JSON, Content-Length, Date), one after
// another on one connection; a request that asks to close is answered and
// its connection closed.
func TestFastServeAnswers(t *testing.T) {
	s := startSim(t, Options{})
	r := dialRaw(t, s)
	resp, body := r.do("GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n"+rawAuth, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, `"entity_id"`) ||
		resp.ContentLength != int64(len(body)) || resp.Header.Get("Date") == "" {
		t.Errorf("info: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = r.do("POST /ari/asterisk/variable?variable=X&value=1 HTTP/1.1\r\nHost: x\r\n"+rawAuth+"Content-Length: 2\r\nContent-Type: application/json\r\n", "{}")
	if resp.StatusCode != 204 || body != "" || resp.Header.Get("Content-Length") != "" {
		t.Errorf("set global: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = r.do("GET /ari/asterisk/variable?variable=X HTTP/1.1\r\nHost: x\r\n"+rawAuth, "")
	if resp.StatusCode != 200 || body != `{"value":"1"}` {
		t.Errorf("get global: %d %q", resp.StatusCode, body)
	}
	resp, body = r.do("POST /ari/channels/nope/answer HTTP/1.1\r\nHost: x\r\n"+rawAuth+"Content-Length: 0\r\n", "")
	if resp.StatusCode != 404 || !strings.Contains(body, "Channel not found") {
		t.Errorf("answer unknown channel: %d %q", resp.StatusCode, body)
	}
	resp, _ = r.do("GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n", "")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no credentials: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = r.do("HEAD /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n"+rawAuth, "")
	if resp.StatusCode != 200 || body != "" {
		t.Errorf("head: %d %q", resp.StatusCode, body)
	}
	resp, _ = r.do("GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+rawAuth, "")
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("close: %d, close %v", resp.StatusCode, resp.Close)
	}
	if n, err := r.br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after Connection: close, read %d, %v; want EOF", n, err)
	}
	if st := s.Stats(); st.Requests["GET /ari/asterisk/info"] != 3 || st.Requests["HEAD /ari/asterisk/info"] != 1 {
		t.Errorf("requests %v, want 3 GET and 1 HEAD /ari/asterisk/info", st.Requests)
	}
}

// TestFastServeHandsOver: a request the fast loop does not take (Expect,
// a head past its buffer, HTTP/1.0, a websocket upgrade) is served by
// net/http on the same connection, after the plain ones before it.
func TestFastServeHandsOver(t *testing.T) {
	s := startSim(t, Options{})
	cases := []struct {
		name, head, body string
		want             int
	}{
		{"expect", "POST /ari/asterisk/variable?variable=Y&value=2 HTTP/1.1\r\nHost: x\r\n" + rawAuth + "Expect: 100-continue\r\nContent-Length: 2\r\n", "{}", 204},
		{"big head", "GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n" + rawAuth + "X-Pad: " + strings.Repeat("p", 5000) + "\r\n", "", 200},
		{"http/1.0", "GET /ari/asterisk/info HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n" + rawAuth, "", 200},
		{"chunked", "POST /ari/asterisk/variable?variable=Z&value=3 HTTP/1.1\r\nHost: x\r\n" + rawAuth + "Transfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n", 204},
	}
	for _, c := range cases {
		r := dialRaw(t, s)
		if resp, _ := r.do("GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n"+rawAuth, ""); resp.StatusCode != 200 {
			t.Fatalf("%s: first request %d", c.name, resp.StatusCode)
		}
		if c.name == "expect" {
			io.WriteString(r.c, c.head+"\r\n")
			if resp, err := http.ReadResponse(r.br, nil); err != nil || resp.StatusCode != 100 {
				t.Fatalf("%s: %v %v, want 100 Continue", c.name, resp, err)
			}
			c.head = ""
		}
		var resp *http.Response
		if c.head == "" {
			io.WriteString(r.c, c.body)
			var err error
			if resp, err = http.ReadResponse(r.br, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			resp, _ = r.do(c.head, c.body)
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
		if c.name != "http/1.0" {
			if resp, _ := r.do("GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n"+rawAuth, ""); resp.StatusCode != 200 {
				t.Errorf("%s: request after the handover %d", c.name, resp.StatusCode)
			}
		}
	}
	// A websocket after plain requests on one connection.
	r := dialRaw(t, s)
	r.do("GET /ari/asterisk/info HTTP/1.1\r\nHost: x\r\n"+rawAuth, "")
	resp, _ := r.do("GET /ari/events?app=fast HTTP/1.1\r\nHost: x\r\n"+rawAuth+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d", resp.StatusCode)
	}
	waitUntil(t, func() bool { return s.registeredApp("fast") })
}
