package sim

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// The simulator serves the plain requests of a connection itself (the
// ARI commands and the control API: HTTP/1.1, a Content-Length body or
// none) and hands the connection to net/http's server at the first request
// it does not take (a websocket upgrade, Expect, a chunked body, HTTP/1.0,
// a header past its buffer, anything malformed), with the bytes it read.
// net/http starts a goroutine and a context per request and builds its
// answer through several buffers; for the short JSON exchanges of ARI that
// cost more than the simulation behind them. The answer is what net/http
// sends for a handler that writes its body at once: status line, the
// handler's headers, Date, Content-Type (sniffed if unset) and
// Content-Length, in one write. A request that asks for it, or a handler
// panic, closes the connection; a handler's body is sent whole, never
// chunked.

// fastServer is the accept loop of Serve and the connections it serves.
type fastServer struct {
	s   *Server
	ln  *sessionListener
	srv *http.Server
	hl  *handoffListener

	mu     sync.Mutex
	conns  map[*sessionConn]struct{}
	closed bool
}

func newFastServer(s *Server, ln net.Listener, srv *http.Server) *fastServer {
	return &fastServer{
		s: s, ln: &sessionListener{Listener: ln, s: s}, srv: srv,
		hl:    &handoffListener{ch: make(chan net.Conn), done: make(chan struct{}), addr: ln.Addr()},
		conns: map[*sessionConn]struct{}{},
	}
}

// run accepts connections until the listener is closed, and serves
// net/http's share until srv is closed; s.wg tracks both and every
// connection.
func (f *fastServer) run() {
	f.s.wg.Add(1)
	go func() {
		defer f.s.wg.Done()
		if err := f.srv.Serve(f.hl); err != nil && err != http.ErrServerClosed {
			f.s.log.Warn("sim: serve", "error", err)
		}
	}()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		sc := c.(*sessionConn)
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			sc.Close()
			return
		}
		f.conns[sc] = struct{}{}
		f.s.wg.Add(1)
		f.mu.Unlock()
		go f.serveConn(sc)
	}
}

// close stops accepting and closes the connections still served here
// (net/http's are closed by srv.Close).
func (f *fastServer) close() {
	f.mu.Lock()
	f.closed = true
	for sc := range f.conns {
		sc.Close()
	}
	f.mu.Unlock()
	f.ln.Close()
}

// leave ends the fast service of sc: closed, or handed to net/http.
func (f *fastServer) leave(sc *sessionConn, handoff net.Conn) {
	f.mu.Lock()
	delete(f.conns, sc)
	closed := f.closed
	f.mu.Unlock()
	if handoff == nil || closed || !f.hl.offer(handoff) {
		sc.Close()
	}
	f.s.wg.Done()
}

// maxFastHead is the largest request head served here; a larger one goes
// to net/http, which takes up to 1 MB.
const maxFastHead = 4096

// maxFastBody is the largest request body served here (the handlers
// read at most 1 MiB).
const maxFastBody = 1 << 20

func (f *fastServer) serveConn(sc *sessionConn) {
	br := bufio.NewReaderSize(sc, maxFastHead)
	ctx := context.WithValue(context.Background(), sessionConnKey{}, sc)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, sc.LocalAddr())
	tmpl := (&http.Request{}).WithContext(ctx)
	remote := sc.RemoteAddr().String()
	var out []byte
	var vals valueCache
	for {
		head, err := peekHead(br)
		if err != nil {
			f.leave(sc, nil)
			return
		}
		req, ok := parseHead(head, tmpl, &vals)
		if !ok {
			f.leave(sc, &bufferedConn{sessionConn: sc, r: br})
			return
		}
		br.Discard(len(head))
		req.RemoteAddr = remote
		if req.ContentLength > 0 {
			b := make([]byte, req.ContentLength)
			if _, err := io.ReadFull(br, b); err != nil {
				f.leave(sc, nil)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(b))
		} else {
			req.Body = http.NoBody
		}
		w := &fastWriter{h: http.Header{}}
		if !f.serve(w, req) {
			f.leave(sc, nil)
			return
		}
		out = w.appendAnswer(out[:0], req)
		if _, err := sc.Write(out); err != nil || req.Close || w.close {
			f.leave(sc, nil)
			return
		}
		if cap(out) > 64<<10 {
			out = nil
		}
	}
}

// serve runs the handler; false after a panic, which closes the
// connection as net/http does.
func (f *fastServer) serve(w *fastWriter, req *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				f.s.log.Error("sim: handler panic", "panic", fmt.Sprint(p), "method", req.Method, "uri", req.RequestURI)
			}
			ok = false
		}
	}()
	f.s.handler.ServeHTTP(w, req)
	return true
}

// peekHead waits for a whole request head (up to its blank line) in br's
// buffer and returns it, not consumed. A head that does not fit returns
// what is buffered, which parseHead refuses.
func peekHead(br *bufio.Reader) ([]byte, error) {
	n := 1
	for {
		b, err := br.Peek(n)
		if err != nil {
			if err == bufio.ErrBufferFull {
				return b, nil
			}
			return nil, err
		}
		b, _ = br.Peek(br.Buffered())
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			return b[:i+4], nil
		}
		if len(b) >= maxFastHead {
			return b, nil
		}
		n = len(b) + 1
	}
}

// valueCache keeps the header values of a connection's last request:
// a client sends the same Host, Authorization, User-Agent and
// Content-Type with each, which then cost no allocation.
type valueCache [8]string

// str returns b as a string, the i-th value's of the last request when
// equal.
func (vc *valueCache) str(i int, b []byte) string {
	if i >= len(vc) {
		return string(b)
	}
	if vc[i] != string(b) {
		vc[i] = string(b)
	}
	return vc[i]
}

// parseHead parses a request head served here (false: one for net/http).
// tmpl carries the connection's context; vals the last request's values.
func parseHead(head []byte, tmpl *http.Request, vals *valueCache) (*http.Request, bool) {
	if !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		return nil, false
	}
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	method, line, ok1 := bytes.Cut(line, []byte(" "))
	uri, proto, ok2 := bytes.Cut(line, []byte(" "))
	if !ok1 || !ok2 || string(proto) != "HTTP/1.1" || len(method) == 0 || len(uri) == 0 || uri[0] != '/' {
		return nil, false
	}
	for _, c := range method {
		if c < 'A' || c > 'Z' {
			return nil, false
		}
	}
	u, err := url.ParseRequestURI(string(uri))
	if err != nil {
		return nil, false
	}
	req := new(http.Request)
	*req = *tmpl
	switch string(method) {
	case http.MethodGet:
		req.Method = http.MethodGet
	case http.MethodPost:
		req.Method = http.MethodPost
	case http.MethodDelete:
		req.Method = http.MethodDelete
	default:
		req.Method = string(method)
	}
	req.URL = u
	req.RequestURI = string(uri)
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	req.Header = make(http.Header, 8)
	lengthSeen := false
	for n := 0; len(rest) > 2; n++ {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok || !validFieldName(name) {
			return nil, false
		}
		value = bytes.Trim(value, " \t")
		for _, c := range value {
			if c < ' ' && c != '\t' || c == 0x7f {
				return nil, false
			}
		}
		key := headerKey(name)
		switch key {
		case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer":
			return nil, false
		case "Content-Length":
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || n > maxFastBody || lengthSeen {
				return nil, false
			}
			lengthSeen = true
			req.ContentLength = n
		case "Host":
			if req.Host != "" {
				return nil, false
			}
			req.Host = vals.str(n, value)
			continue // net/http keeps Host out of Header
		case "Connection":
			switch {
			case asciiEqualFoldBytes(value, "close"):
				req.Close = true
			case asciiEqualFoldBytes(value, "keep-alive"):
			default:
				return nil, false // upgrade and the like
			}
		}
		req.Header[key] = append(req.Header[key], vals.str(n, value))
	}
	if req.Host == "" {
		return nil, false // HTTP/1.1 requires it: net/http answers 400
	}
	return req, true
}

// headerKey is the canonical form of a header name; the usual ones cost
// no allocation.
func headerKey(name []byte) string {
	switch string(name) {
	case "Host":
		return "Host"
	case "Authorization":
		return "Authorization"
	case "Content-Type":
		return "Content-Type"
	case "Content-Length":
		return "Content-Length"
	case "User-Agent":
		return "User-Agent"
	case "Accept":
		return "Accept"
	case "Accept-Encoding":
		return "Accept-Encoding"
	case "Connection":
		return "Connection"
	}
	return textproto.CanonicalMIMEHeaderKey(string(name))
}

func validFieldName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenByte[c] {
			return false
		}
	}
	return true
}

// tokenByte marks the bytes of an HTTP token (RFC 9110 tchar).
var tokenByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range []byte(`"(),/:;<=>?@[\]{}`) {
		t[c] = false
	}
	return t
}()

func asciiEqualFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// fastWriter is the http.ResponseWriter of a request served here: it
// keeps the answer until the handler returns.
type fastWriter struct {
	h       http.Header
	status  int
	body    []byte
	close   bool
	counted bool // in Stats.Requests (countingMux)
}

func (w *fastWriter) Header() http.Header { return w.h }

func (w *fastWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
}

func (w *fastWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

// appendAnswer appends the answer as net/http writes it.
func (w *fastWriter) appendAnswer(b []byte, req *http.Request) []byte {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	if t := http.StatusText(w.status); t != "" {
		b = append(b, t...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(w.status), 10)
	}
	b = append(b, "\r\n"...)
	if c := w.h.Get("Connection"); asciiEqualFoldBytes([]byte(c), "close") {
		w.close = true
	}
	allowed := bodyAllowed(w.status)
	for k, vs := range w.h {
		if !allowed && (k == "Content-Length" || k == "Content-Type" || k == "Transfer-Encoding") {
			continue
		}
		if k == "Transfer-Encoding" || k == "Connection" {
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendHeaderValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	if _, ok := w.h["Date"]; !ok {
		b = append(b, "Date: "...)
		b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "\r\n"...)
	}
	if allowed {
		if _, ok := w.h["Content-Type"]; !ok && len(w.body) > 0 {
			b = append(b, "Content-Type: "...)
			b = append(b, http.DetectContentType(w.body)...)
			b = append(b, "\r\n"...)
		}
		if _, ok := w.h["Content-Length"]; !ok {
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, int64(len(w.body)), 10)
			b = append(b, "\r\n"...)
		}
	}
	if req.Close || w.close {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	if allowed && req.Method != http.MethodHead {
		b = append(b, w.body...)
	}
	return b
}

// appendHeaderValue appends v with CR and LF made spaces, as net/http
// does.
func appendHeaderValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// bufferedConn is a connection handed to net/http with the bytes read
// from it and not served.
type bufferedConn struct {
	*sessionConn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// handoffListener is the net.Listener net/http serves: the connections
// the fast loop hands over.
type handoffListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

// offer hands c to net/http; false once the listener is closed.
func (l *handoffListener) offer(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
