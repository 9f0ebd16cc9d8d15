package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// faultRNG seeds the fault generator: Faults.Seed, else Options.Seed.
func faultRNG(f Faults, optSeed int64) *rand.Rand {
	seed := f.Seed
	if seed == 0 {
		seed = optSeed
	}
	return rand.New(rand.NewPCG(uint64(seed)^0xfa017, uint64(seed)))
}

// SetFaults replaces the fault configuration (Options.Faults) at run
// time: the fault generator is seeded afresh from f.Seed and the
// FailFirst and StallFirst counts start again from f's. Stalls and held
// events already drawn keep their fate.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("sim: faults: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaults(f)
	return nil
}

// setFaults installs f (valid) under s.mu.
func (s *Server) setFaults(f Faults) {
	s.faults = f.clone()
	s.frng = faultRNG(f, s.opts.Seed)
	s.firstLeft = map[faultPoint][2]map[string]int{}
	for _, p := range []faultPoint{faultHangup, faultRemoveChannel, faultStopRecording} {
		rf := s.faults.point(p)
		s.firstLeft[p] = [2]map[string]int{copyCounts(rf.FailFirst), copyCounts(rf.StallFirst)}
	}
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Faults returns the fault configuration now in force.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.clone()
}

// countFault counts one fault injected and logs it (under s.mu).
func (s *Server) countFault(kind string, args ...any) {
	s.faultCounts[kind]++
	s.log.Info("sim: fault injected", append([]any{"fault", kind}, args...)...)
}

// chance draws true with probability p (no draw for 0 or 1).
func (s *Server) chance(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return s.frng.Float64() < p
}

// ---- request faults ----

// reqFault is the fate drawn for one request.
type reqFault struct {
	fail, stall bool
	stallFor    time.Duration
	thenDo      bool
	key         string
}

// faultKey is the key of a request at fp (see Faults) and whether its
// target exists (a request that will answer 404 or 422 is not faulted).
func (s *Server) faultKey(fp faultPoint, r *request) (string, bool) {
	switch fp {
	case faultHangup:
		id := r.path("channelId")
		_, ok := s.channels[id]
		return id, ok
	case faultRemoveChannel:
		b, ok := s.bridges[r.path("bridgeId")]
		ids := r.list("channel")
		if !ok || len(ids) == 0 {
			return "", false
		}
		c := s.channels[ids[0]]
		return ids[0], c != nil && c.bridge == b
	case faultStopRecording:
		n := r.path("recordingName")
		_, ok := s.liveRecs[n]
		return n, ok
	}
	return "", false
}

// drawRequestFault decides the fate of a request at fp (under s.mu).
func (s *Server) drawRequestFault(fp faultPoint, r *request) reqFault {
	cfg := s.faults.point(fp)
	key, ok := s.faultKey(fp, r)
	if !ok {
		return reqFault{}
	}
	f := reqFault{key: key, stallFor: cfg.StallFor}
	left := s.firstLeft[fp]
	switch {
	case left[0][key] > 0:
		left[0][key]--
		f.fail = true
	case left[1][key] > 0:
		left[1][key]--
		f.stall = true
	case cfg.Fail <= 0 && cfg.Stall <= 0:
		return reqFault{}
	default:
		u := s.frng.Float64()
		f.fail = u < cfg.Fail
		f.stall = !f.fail && u < cfg.Fail+cfg.Stall
	}
	switch {
	case f.fail:
		s.countFault(fp.String()+".fail", "key", key)
	case f.stall:
		f.thenDo = s.chance(cfg.StallThenDo)
		s.countFault(fp.String()+".stall", "key", key, "stall_for", f.stallFor, "then_do", f.thenDo)
	}
	return f
}

// stall is a request held by a stall fault.
type stall struct{ release chan struct{} }

// ReleaseStalled ends every stall now: each stalled request is then
// carried out or not as drawn. It returns how many it released. Tests use
// it to end a long stall without waiting for it.
func (s *Server) ReleaseStalled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.releaseStalls()
}

func (s *Server) releaseStalls() int {
	n := len(s.stalls)
	for st := range s.stalls {
		close(st.release)
	}
	clear(s.stalls)
	return n
}

// holdStall holds a request for d of wall time, until ReleaseStalled or
// Close; it is called and returns with s.mu held.
func (s *Server) holdStall(d time.Duration) {
	st := &stall{release: make(chan struct{})}
	s.stalls[st] = struct{}{}
	s.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-st.release:
	}
	t.Stop()
	s.mu.Lock()
	if _, held := s.stalls[st]; held {
		delete(s.stalls, st)
		close(st.release)
	}
}

// internalError is what a loaded Asterisk answers a request it dropped.
func internalError() reply { return fail(http.StatusInternalServerError, "Internal Server Error") }

// faulted runs the request faults of fp for req around h; called and
// returns with s.mu held. open is false when the server closed during a
// stall.
func (s *Server) faulted(fp faultPoint, req *request, h func(*Server, *request) reply) (rep reply, open bool) {
	f := s.drawRequestFault(fp, req)
	switch {
	case f.fail:
		return internalError(), true
	case f.stall:
		s.holdStall(f.stallFor)
		if s.closed {
			return reply{}, false
		}
		if !f.thenDo {
			s.countFault(fp.String()+".stall_not_done", "key", f.key)
			return internalError(), true
		}
		s.countFault(fp.String()+".stall_done", "key", f.key)
	}
	return h(s, req), true
}

// ---- recording faults ----

// heldEvent is an event sent late: delayed, or reordered until the
// channels of waitFor have ended.
type heldEvent struct {
	apps    []string
	typ     string
	fields  map[string]any
	at      time.Time
	waitFor map[*channel]bool
}

// emitRecordingFinished sends (or drops, delays or holds back) a
// RecordingFinished event for r to apps, as the fault draw decides.
// Called with s.mu held, when r has already ended.
func (s *Server) emitRecordingFinished(r *liveRec, apps []string, fields map[string]any) {
	const typ = "RecordingFinished"
	cfg := s.faults.RecordingFinished
	if cfg.Drop <= 0 && cfg.Delay <= 0 && cfg.Reorder <= 0 {
		s.emit(apps, typ, fields)
		return
	}
	u := s.frng.Float64()
	at := s.clock.Now()
	switch {
	case u < cfg.Drop:
		s.countFault("recording_finished.drop", "recording", r.name)
	case u < cfg.Drop+cfg.Delay:
		s.countFault("recording_finished.delay", "recording", r.name, "delay_by", cfg.DelayBy)
		ev := &heldEvent{apps: apps, typ: typ, fields: fields, at: at}
		s.held[ev] = struct{}{}
		s.after(cfg.DelayBy, func() { s.sendHeld(ev) })
	case u < cfg.Drop+cfg.Delay+cfg.Reorder:
		s.countFault("recording_finished.reorder", "recording", r.name)
		ev := &heldEvent{apps: apps, typ: typ, fields: fields, at: at, waitFor: map[*channel]bool{}}
		if r.ch != nil {
			ev.waitFor[r.ch] = true
		} else {
			for _, c := range r.br.chans {
				ev.waitFor[c] = true
			}
		}
		s.held[ev] = struct{}{}
		s.heldOrder = append(s.heldOrder, ev)
		if len(ev.waitFor) == 0 {
			// Nothing of the call left to come first: after this
			// request's events.
			s.after(0, func() { s.sendHeld(ev) })
		}
	default:
		s.emit(apps, typ, fields)
	}
}

// sendHeld sends a held event once (under s.mu).
func (s *Server) sendHeld(ev *heldEvent) {
	if _, ok := s.held[ev]; !ok {
		return
	}
	delete(s.held, ev)
	for i, x := range s.heldOrder {
		if x == ev {
			s.heldOrder = append(s.heldOrder[:i:i], s.heldOrder[i+1:]...)
			break
		}
	}
	s.emitAt(ev.apps, ev.typ, ev.fields, ev.at)
}

// channelEnded sends the reordered events that waited for c alone, in
// the order they were held back (under s.mu, at the end of c's hang-up).
func (s *Server) channelEnded(c *channel) {
	var ready []*heldEvent
	for _, ev := range s.heldOrder {
		if !ev.waitFor[c] {
			continue
		}
		delete(ev.waitFor, c)
		if len(ev.waitFor) == 0 {
			ready = append(ready, ev)
		}
	}
	for _, ev := range ready {
		s.sendHeld(ev)
	}
}

// ---- HTTP sessions ----

// SetSessionLimit changes Options.SessionLimit at run time (0 =
// unlimited); sessions already open stay open.
func (s *Server) SetSessionLimit(n int) error {
	if n < 0 {
		return fmt.Errorf("sim: session limit %d: want 0 (unlimited) or more", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionLimit = n
	return nil
}

// SessionLimit is the HTTP session limit now in force (0 = unlimited).
func (s *Server) SessionLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionLimit
}

// admitSession counts a new TCP connection in, or refuses it past the
// limit as Asterisk's HTTP server does (main/http.c: the connection is
// closed with no response and a warning is logged).
func (s *Server) admitSession() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessionLimit > 0 && s.sessions >= s.sessionLimit {
		s.sessionsRefused++
		s.log.Warn(fmt.Sprintf("HTTP session count exceeded %d sessions", s.sessionLimit),
			"limit", s.sessionLimit, "refused_total", s.sessionsRefused)
		return false
	}
	s.sessions++
	return true
}

func (s *Server) endSession() {
	s.mu.Lock()
	s.sessions--
	s.mu.Unlock()
}

// sessionListener counts the server's open TCP connections (keep-alive
// ones and websockets included) and refuses those past the limit.
type sessionListener struct {
	net.Listener
	s *Server
}

func (l *sessionListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.admitSession() {
			return &sessionConn{Conn: c, s: l.s}, nil
		}
		c.Close()
	}
}

// sessionConn ends its session once, when closed. An events websocket's
// writer corks it while it writes the events queued back to back, and
// uncork sends them in one write: one system call (and one wake-up of
// the reader) for a burst rather than one per event, as Asterisk's own
// buffered websocket writes do.
type sessionConn struct {
	net.Conn
	s    *Server
	once sync.Once

	mu     sync.Mutex // serializes writes; guards corked and held
	corked bool
	held   []byte
}

func (c *sessionConn) Close() error {
	c.once.Do(c.s.endSession)
	return c.Conn.Close()
}

// Write implements net.Conn: held while corked.
func (c *sessionConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *sessionConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// heldLen is the number of bytes corked so far.
func (c *sessionConn) heldLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.held)
}

// uncork writes what was held, within timeout of the wall clock.
func (c *sessionConn) uncork(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.held) == 0 {
		return nil
	}
	c.Conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.Conn.Write(c.held)
	c.Conn.SetWriteDeadline(time.Time{})
	if cap(c.held) > maxCork*2 {
		c.held = nil
	} else {
		c.held = c.held[:0]
	}
	return err
}

// maxCork bounds the bytes of one corked burst.
const maxCork = 64 << 10

// sessionConnKey is the request context key of the *sessionConn a
// request came on (http.Server.ConnContext).
type sessionConnKey struct{}

func withSessionConn(ctx context.Context, c net.Conn) context.Context {
	switch c := c.(type) {
	case *sessionConn:
		return context.WithValue(ctx, sessionConnKey{}, c)
	case *bufferedConn: // handed over by the fast loop (fastserve.go)
		return context.WithValue(ctx, sessionConnKey{}, c.sessionConn)
	}
	return ctx
}

// ---- request counts ----

// requestKey is a Stats.Requests key, "METHOD /pattern", before it is
// joined (counted builds no string per request).
type requestKey struct{ method, pattern string }

// counted counts each request under its route's METHOD and path pattern,
// then serves it. A request the fast loop serves (fastWriter) is counted
// by its route's handler (countingMux), which knows its pattern: the
// mux's look-up is not made twice; one no route took (404, 405, a
// redirect) is counted once served, under the pattern the mux gave it.
func (s *Server) counted(mux *countingMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fw, ok := w.(*fastWriter); ok {
			mux.ServeHTTP(w, r)
			if !fw.counted {
				s.count(r.Method, r.Pattern)
			}
			return
		}
		_, pat := mux.Handler(r)
		s.count(r.Method, pat)
		mux.ServeHTTP(w, r)
	})
}

// count counts a request of method under the mux pattern pat.
func (s *Server) count(method, pat string) {
	if _, path, ok := strings.Cut(pat, " "); ok {
		pat = path
	}
	if pat == "" {
		pat = "(no route)"
	}
	s.mu.Lock()
	s.requests[requestKey{method, pat}]++
	s.mu.Unlock()
}

// countingMux is the simulator's ServeMux: the handler of each pattern
// counts the requests the fast loop serves it (see counted).
type countingMux struct {
	*http.ServeMux
	s *Server
}

func newCountingMux(s *Server) *countingMux { return &countingMux{ServeMux: http.NewServeMux(), s: s} }

// HandleFunc registers f for pattern, counted.
func (m *countingMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	path := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		path = p
	}
	m.ServeMux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if fw, ok := w.(*fastWriter); ok && !fw.counted {
			fw.counted = true
			m.s.count(r.Method, path)
		}
		f(w, r)
	})
}
