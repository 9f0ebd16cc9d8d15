package ari

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// restTransport is the REST transport for plain-HTTP Asterisk with no proxy
// (see newTransport): an HTTP/1.1 client that makes each request on the
// caller's goroutine, over at most max kept-alive connections. Go's
// http.Transport hands every request to a writer and a reader goroutine
// per connection (three goroutine switches and several channel operations
// a request), which in a call center that sends ten requests a call costs
// more than the requests themselves. It keeps http.Transport's contract
// as the adapter uses it:
//
//   - at most max connections, open or idle; kept-alive connections are
//     closed after idleTimeout unused (below Asterisk's session_keep_alive);
//   - the answer's headers are awaited at most respTimeout, and the
//     request's context cancels the request at any point;
//   - every answer's body is read to its end, so its connection is reused
//     (an answer of up to eagerBody bytes is read before RoundTrip returns
//     and its connection freed at once; a larger or chunked one streams, its
//     connection freed at the body's end, or drained up to 64 KiB on Close);
//   - a request on a reused connection that Asterisk closed before sending
//     a byte of answer (it closed the idle session as the request was on
//     its way, or it restarted) is sent again once on a new connection:
//     Asterisk read none of it.
//
// Requests carry the headers the caller set, Host, User-Agent and
// Content-Length, as http.Transport sends them with compression disabled.
type restTransport struct {
	dial        dialFunc
	addr        string // host:port to dial
	max         int
	respTimeout time.Duration
	idleTimeout time.Duration

	open chan struct{} // one token per open connection

	mu      sync.Mutex
	idle    []*restConn // oldest first; reuse takes the newest
	janitor *time.Timer // armed while idle is not empty
}

// restConn is one kept-alive connection.
type restConn struct {
	c      net.Conn
	br     *bufio.Reader
	idleAt time.Time
	reused bool
}

// eagerBody is the largest answer body read before RoundTrip returns.
const eagerBody = 256 << 10

// aLongTimeAgo is a deadline in the past: it ends a pending read or write.
var aLongTimeAgo = time.Unix(1, 0)

// errBadHeader refuses a request header that would break the request.
var errBadHeader = errors.New("invalid request header")

func newRestTransport(addr string, max int, requestTimeout, idle time.Duration, dial dialFunc) *restTransport {
	return &restTransport{
		dial:        dial,
		addr:        addr,
		max:         max,
		respTimeout: 2 * requestTimeout,
		idleTimeout: idle,
		open:        make(chan struct{}, max),
	}
}

// RoundTrip implements http.RoundTripper.
func (t *restTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	bp := reqBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			reqBufs.Put(bp)
		}
	}()
	*bp, err = appendRequest((*bp)[:0], req, body)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		pc, err := t.get(ctx, attempt > 0)
		if err != nil {
			return nil, err
		}
		resp, retry, err := t.exchange(ctx, pc, req, *bp)
		if err == nil {
			return resp, nil
		}
		if !retry || attempt > 0 {
			return nil, err
		}
	}
}

// reqBufs recycles the buffers requests are written into.
var reqBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// requestBody reads the request's body (ARI bodies are small JSON) and
// closes it, as a RoundTripper must.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	if req.ContentLength > 0 {
		b := make([]byte, req.ContentLength)
		if _, err := io.ReadFull(req.Body, b); err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// get returns an idle connection, or a new one; fresh asks for a new one.
func (t *restTransport) get(ctx context.Context, fresh bool) (*restConn, error) {
	if !fresh {
		if pc := t.takeIdle(); pc != nil {
			return pc, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case t.open <- struct{}{}:
	default:
		// Every connection is in use: the adapter's slots let this happen
		// only for a moment (a connection on its way back to idle).
		wait := time.NewTimer(t.respTimeout)
		defer wait.Stop()
		select {
		case t.open <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait.C:
			return nil, errPoolTimeout
		}
		if pc := t.takeIdle(); pc != nil {
			<-t.open
			return pc, nil
		}
	}
	c, err := t.dial(ctx, "tcp", t.addr)
	if err != nil {
		<-t.open
		return nil, err
	}
	return &restConn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

// takeIdle takes the newest idle connection not past idleTimeout, closing
// the older ones that are.
func (t *restTransport) takeIdle() *restConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.idle)
	if n == 0 {
		return nil
	}
	pc := t.idle[n-1]
	t.idle[n-1] = nil
	t.idle = t.idle[:n-1]
	if time.Since(pc.idleAt) >= t.idleTimeout {
		// The newest is stale, so all are: the janitor is late.
		t.idle = append(t.idle, pc)
		t.sweepLocked(time.Now())
		return nil
	}
	pc.reused = true
	return pc
}

// put makes pc idle.
func (t *restTransport) put(pc *restConn) {
	pc.idleAt = time.Now()
	t.mu.Lock()
	t.idle = append(t.idle, pc)
	if t.janitor == nil {
		t.janitor = time.AfterFunc(t.idleTimeout, t.sweep)
	}
	t.mu.Unlock()
}

// closed gives back the token of a connection closed.
func (t *restTransport) closed() { <-t.open }

func (t *restTransport) sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.janitor = nil
	t.sweepLocked(time.Now())
}

// sweepLocked closes the connections idle for idleTimeout and arms the
// janitor for the next one.
func (t *restTransport) sweepLocked(now time.Time) {
	k := 0
	for k < len(t.idle) && now.Sub(t.idle[k].idleAt) >= t.idleTimeout {
		t.idle[k].c.Close()
		t.closed()
		t.idle[k] = nil
		k++
	}
	t.idle = append(t.idle[:0], t.idle[k:]...)
	if len(t.idle) > 0 && t.janitor == nil {
		t.janitor = time.AfterFunc(t.idleTimeout-now.Sub(t.idle[0].idleAt), t.sweep)
	}
}

// CloseIdleConnections closes every idle connection (http.Client's
// CloseIdleConnections calls it).
func (t *restTransport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, pc := range t.idle {
		pc.c.Close()
		t.closed()
		t.idle[i] = nil
	}
	t.idle = t.idle[:0]
	if t.janitor != nil {
		t.janitor.Stop()
		t.janitor = nil
	}
}

// appendRequest appends req with body, as sent on the wire, to b.
func appendRequest(b []byte, req *http.Request, body []byte) ([]byte, error) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	if _, ok := req.Header["User-Agent"]; !ok {
		b = append(b, "User-Agent: Go-http-client/1.1\r\n"...)
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Trailer":
			continue
		}
		if !validHeaderName(k) {
			return nil, fmt.Errorf("%w: %q", errBadHeader, k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("%w: value of %q", errBadHeader, k)
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	if req.Close {
		b = append(b, "Connection: close\r\n"...)
	}
	if body != nil || methodWantsLength(req.Method) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...), nil
}

// methodWantsLength: http.Transport sends Content-Length: 0 for a POST,
// PUT or PATCH without a body.
func methodWantsLength(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// exchange sends the request written into pc and reads the answer's
// headers (and a small body). retry tells that the request may be sent
// again: it went on a reused connection and Asterisk closed it with no
// answer.
func (t *restTransport) exchange(ctx context.Context, pc *restConn, req *http.Request, wire []byte) (resp *http.Response, retry bool, err error) {
	var stop func() bool
	if ctx.Done() != nil {
		c := pc.c
		stop = context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	}
	fail := func(e error, again bool) (*http.Response, bool, error) {
		if stop != nil {
			stop()
		}
		pc.c.Close()
		t.closed()
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, again && pc.reused, e
	}
	if err := pc.c.SetDeadline(time.Now().Add(t.respTimeout)); err != nil {
		return fail(err, false)
	}
	if _, err := pc.c.Write(wire); err != nil {
		return fail(err, true)
	}
	if _, err := pc.br.Peek(1); err != nil {
		return fail(err, true)
	}
	resp, err = http.ReadResponse(pc.br, req)
	if err != nil {
		return fail(err, false)
	}
	keep := !resp.Close && !req.Close
	if req.Method == http.MethodHead {
		resp.ContentLength = 0
	}
	if resp.ContentLength >= 0 && resp.ContentLength <= eagerBody {
		var b []byte
		if resp.ContentLength > 0 {
			b = make([]byte, resp.ContentLength)
			if _, err := io.ReadFull(resp.Body, b); err != nil {
				return fail(err, false)
			}
		}
		if stop != nil && !stop() {
			// ctx ended as the answer came: the deadline is spoilt.
			keep = false
		}
		if keep {
			t.put(pc)
		} else {
			pc.c.Close()
			t.closed()
		}
		if len(b) == 0 {
			resp.Body = http.NoBody
		} else {
			resp.Body = io.NopCloser(bytes.NewReader(b))
		}
		return resp, false, nil
	}
	if err := pc.c.SetDeadline(time.Time{}); err != nil {
		return fail(err, false)
	}
	resp.Body = &streamBody{rc: resp.Body, t: t, pc: pc, stop: stop, keep: keep}
	return resp, false, nil
}

// streamBody is a large or chunked answer's body: its connection goes
// back to idle when the body has been read to its end, or is closed.
type streamBody struct {
	rc   io.ReadCloser
	t    *restTransport
	pc   *restConn
	stop func() bool
	keep bool
	mu   sync.Mutex
	done bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
	}
	return n, err
}

func (b *streamBody) Close() error {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done {
		return nil
	}
	_, err := io.Copy(io.Discard, io.LimitReader(b.rc, 64<<10))
	complete := false
	if err == nil {
		// At the end only if nothing is left.
		var one [1]byte
		n, rerr := b.rc.Read(one[:])
		complete = n == 0 && rerr == io.EOF
	}
	b.finish(complete)
	return nil
}

// finish frees the connection once: idle when the body was read to its
// end and both sides keep it alive, else closed.
func (b *streamBody) finish(atEOF bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	keep := atEOF && b.keep
	if b.stop != nil && !b.stop() {
		keep = false
	}
	if keep {
		b.t.put(b.pc)
		return
	}
	b.pc.c.Close()
	b.t.closed()
}

// maxBody bounds an answer read whole by do (the channel listing of a
// busy Asterisk is the largest ARI answer).
const maxBody = 64 << 20

// do sends wire, a whole request as appendRequest writes it, and reads the
// answer whole, under ctx and deadline, with RoundTrip's connection
// handling; it has no http.Request nor http.Response to build (see
// Adapter.exchange). A deadline that passes is context.DeadlineExceeded.
func (t *restTransport) do(ctx context.Context, deadline time.Time, wire []byte) (status int, body []byte, err error) {
	for attempt := 0; ; attempt++ {
		pc, err := t.get(ctx, attempt > 0)
		if err != nil {
			return 0, nil, err
		}
		status, body, retry, err := t.exchangeRaw(ctx, deadline, pc, wire)
		if err == nil {
			return status, body, nil
		}
		if !retry || attempt > 0 {
			return 0, nil, err
		}
	}
}

func (t *restTransport) exchangeRaw(ctx context.Context, deadline time.Time, pc *restConn, wire []byte) (status int, body []byte, retry bool, err error) {
	var stop func() bool
	if ctx.Done() != nil {
		c := pc.c
		stop = context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	}
	fail := func(e error, again bool) (int, []byte, bool, error) {
		if stop != nil {
			stop()
		}
		pc.c.Close()
		t.closed()
		if ctx.Err() != nil {
			return 0, nil, false, ctx.Err()
		}
		if errors.Is(e, os.ErrDeadlineExceeded) {
			return 0, nil, false, context.DeadlineExceeded
		}
		return 0, nil, again && pc.reused, e
	}
	if err := pc.c.SetDeadline(deadline); err != nil {
		return fail(err, false)
	}
	if _, err := pc.c.Write(wire); err != nil {
		return fail(err, true)
	}
	if _, err := pc.br.Peek(1); err != nil {
		return fail(err, true)
	}
	status, body, keep, err := readAnswer(pc.br, wire)
	if err != nil {
		return fail(err, false)
	}
	if stop != nil && !stop() {
		keep = false // ctx ended as the answer came: the deadline is spoilt
	}
	if keep {
		t.put(pc)
	} else {
		pc.c.Close()
		t.closed()
	}
	return status, body, false, nil
}

// errBadAnswer is an answer that is not HTTP/1.x.
var errBadAnswer = errors.New("malformed HTTP answer")

// readAnswer reads one HTTP/1.x answer to the request wire: its status,
// its whole body, and whether the connection may carry another request.
func readAnswer(br *bufio.Reader, wire []byte) (status int, body []byte, keep bool, err error) {
	head := bytes.HasPrefix(wire, []byte("HEAD "))
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, noEOF(err)
		}
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return 0, nil, false, fmt.Errorf("%w: %q", errBadAnswer, line)
		}
		status, err = strconv.Atoi(string(line[9:12]))
		if err != nil || status < 100 {
			return 0, nil, false, fmt.Errorf("%w: %q", errBadAnswer, line)
		}
		keep = line[7] == '1'
		length, chunked := int64(-1), false
		for {
			h, err := br.ReadSlice('\n')
			if err != nil {
				return 0, nil, false, noEOF(err)
			}
			h = bytes.TrimRight(h, "\r\n")
			if len(h) == 0 {
				break
			}
			name, value, ok := bytes.Cut(h, []byte(":"))
			if !ok {
				return 0, nil, false, fmt.Errorf("%w: header %q", errBadAnswer, h)
			}
			value = bytes.TrimSpace(value)
			switch {
			case asciiEqualFold(name, "Content-Length"):
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 {
					return 0, nil, false, fmt.Errorf("%w: Content-Length %q", errBadAnswer, value)
				}
				length = n
			case asciiEqualFold(name, "Transfer-Encoding"):
				chunked = asciiEqualFold(value, "chunked")
			case asciiEqualFold(name, "Connection"):
				if asciiEqualFold(value, "close") {
					keep = false
				} else if asciiEqualFold(value, "keep-alive") {
					keep = true
				}
			}
		}
		if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
			continue // 100 Continue and the like: the answer follows
		}
		switch {
		case head || status == http.StatusNoContent || status == http.StatusNotModified:
			return status, nil, keep, nil
		case chunked:
			b, err := io.ReadAll(io.LimitReader(httputil.NewChunkedReader(br), maxBody))
			if err != nil {
				return 0, nil, false, noEOF(err)
			}
			for { // the trailer, up to its empty line
				t, err := br.ReadSlice('\n')
				if err != nil {
					return 0, nil, false, noEOF(err)
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					break
				}
			}
			return status, b, keep, nil
		case length >= 0:
			if length > maxBody {
				return 0, nil, false, fmt.Errorf("%w: body of %d bytes", errBadAnswer, length)
			}
			var b []byte
			if length > 0 {
				b = make([]byte, length)
				if _, err := io.ReadFull(br, b); err != nil {
					return 0, nil, false, noEOF(err)
				}
			}
			return status, b, keep, nil
		default: // to the end of the connection
			b, err := io.ReadAll(io.LimitReader(br, maxBody))
			return status, b, false, err
		}
	}
}

// noEOF: an answer cut short is io.ErrUnexpectedEOF once it has begun.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
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
