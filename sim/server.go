package sim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ErrNotFound is returned by the Go API for an unknown channel, endpoint
// or recording.
var ErrNotFound = errors.New("not found")

// ErrNoApp is returned by Call when no websocket has registered the
// Stasis application (Asterisk hangs such a call up at once).
var ErrNoApp = errors.New("stasis application not registered")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("sim: server closed")

// Options configures a Server.
type Options struct {
	// User and Password protect every route with HTTP basic auth (also
	// the events websocket); empty User disables authentication.
	User, Password string
	// Speed is simulated seconds per wall second; 0 or 1 = real time.
	// With Virtual, it is the most the clock runs (0: no limit).
	Speed float64
	// Virtual runs the simulator on a virtual clock (NewVirtualClock): time
	// stands still except while Clock().Drive runs, which moves it from
	// timer to timer whenever the process is quiet. Serve the simulator
	// over a Pipe (StartPipe) and run its clients in the same process.
	Virtual bool
	// Seed seeds the generator used for drawn durations.
	Seed int64
	// EntityID is the asterisk_id of events and /asterisk/info; default
	// "sim-asterisk".
	EntityID string
	// Sounds maps sound names to playback lengths; nil gives DefaultSounds.
	// A sound:NAME not listed plays as failed (PlaybackFinished state
	// "failed"), as Asterisk does for a missing file.
	Sounds map[string]time.Duration
	// Logger receives debug and warning logs; nil discards them.
	Logger *slog.Logger
	// QueueSize is each websocket's outgoing queue length in events; a
	// reader that falls this far behind is disconnected. Default 65536.
	QueueSize int
	// WriteTimeout is the wall-clock limit for writing one event to a
	// websocket before the connection is dropped. Default 10 s.
	WriteTimeout time.Duration
	// ControlApp is the Stasis application a call placed through the
	// control API (POST /sim/v1/calls) enters when the request names
	// none; empty means the only application with a websocket.
	ControlApp string
	// AMDTime is how long the simulated AMD() listens before it decides;
	// 0 gives the AMDTime constant. A test that must act while AMD runs
	// sets it long and ends it with CompleteAMD.
	AMDTime time.Duration
	// KeepCallLog keeps a CallRecord of every channel (CallLog), for
	// tests that check Switchboard's books against what happened.
	KeepCallLog bool
	// Faults makes the simulator misbehave as a loaded Asterisk does
	// (SetFaults changes it at run time); the zero value injects nothing.
	// New panics if it is out of bounds (Faults.Validate).
	Faults Faults
	// SessionLimit is Asterisk's http.conf sessionlimit (100 there by
	// default): past this many open connections on the listener served
	// (Start, StartPipe, Serve; a keep-alive connection counts while it is open, an events
	// websocket too), a new connection is closed with no HTTP response and
	// the warning "HTTP session count exceeded N sessions" is logged. 0 is
	// unlimited. SetSessionLimit changes it at run time.
	SessionLimit int
}

// DefaultSounds returns the default sound list: common Asterisk prompts,
// 2 s each (silence/N lasts N seconds).
func DefaultSounds() map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, n := range []string{"hello-world", "tt-monkeys", "tt-weasels", "queue-periodic-announce",
		"pls-hold-while-try", "vm-goodbye", "beep", "demo-congrats", "conf-onhold", "queue-thankyou",
		"queue-youarenext", "queue-thereare", "queue-callswaiting", "queue-holdtime", "queue-minutes",
		"agent-loginok", "agent-loggedoff", "auth-thankyou", "vm-intro", "vm-review", "custom/welcome",
		"custom/menu", "custom/closed", "invalid", "please-try-again", "goodbye", "transfer",
		"pbx-invalid", "you-entered", "thank-you-for-calling", "for-sales", "for-support", "press-1", "press-2"} {
		m[n] = 2 * time.Second
	}
	for i := 1; i <= 10; i++ {
		m["silence/"+itoa(i)] = time.Duration(i) * time.Second
	}
	return m
}

// Stats are the simulator's counters.
type Stats struct {
	// EventsSent counts events queued to a websocket (all applications).
	EventsSent int64
	// EventsDropped counts events lost because a reader fell behind and
	// was disconnected (those still queued plus the one that overflowed).
	EventsDropped int64
	// EventsUnrouted counts events for an application with no websocket.
	EventsUnrouted int64
	// ChannelsCreated and ChannelsActive count channels.
	ChannelsCreated, ChannelsActive int64
	// BridgesActive counts existing bridges.
	BridgesActive int64
	// ConnectionsDropped counts websockets the simulator disconnected
	// because the reader fell behind or a write failed.
	ConnectionsDropped int64
	// SentByApp is EventsSent per application name.
	SentByApp map[string]int64
	// EventsByType is EventsSent per event type ("StasisStart", ...).
	EventsByType map[string]int64
	// Requests counts HTTP requests by method and the pattern of the route
	// that took them, e.g. "DELETE /ari/channels/{channelId}",
	// "POST /sim/v1/calls"; paths no route serves count under their
	// catch-all ("GET /ari/").
	Requests map[string]int64
	// Faults counts the faults injected, by "POINT.KIND": POINT is
	// recording_finished (KIND drop, delay, reorder) or hangup,
	// remove_channel, stop_recording (KIND fail, stall, and once a stall
	// ends stall_done or stall_not_done).
	Faults map[string]int64
	// Stalled is the number of requests held by a stall now;
	// RecordingsHeld the RecordingFinished events delayed or reordered
	// and not sent yet.
	Stalled, RecordingsHeld int64
	// Sessions is the number of open HTTP sessions (TCP connections on
	// the listener of Start, websockets included); SessionsRefused counts
	// the connections closed unanswered past the session limit.
	Sessions, SessionsRefused int64
}

// Server is a simulated Asterisk serving ARI (REST and events websocket).
// All state sits behind one mutex; every delay runs on its Clock; events
// are queued per websocket and written by that websocket's goroutine, so a
// slow reader never blocks the simulation.
type Server struct {
	opts Options
	pass atomic.Pointer[string] // the ARI password now; SetPassword changes it
	// lastAuth is the last Authorization header accepted, and with which
	// password: the same header again needs no base64 decoding.
	lastAuth atomic.Pointer[acceptedAuth]
	clock    *Clock
	log      *slog.Logger
	rng      *rand.Rand
	seed     uint64 // Options.Seed: each channel's talk time is drawn from it and the channel (talkRand)
	mux      *countingMux
	start    time.Time
	sounds   map[string]time.Duration

	mu        sync.Mutex
	closed    bool
	apps      map[string]*application
	conns     map[*wsConn]struct{}
	channels  map[string]*channel
	bridges   map[string]*bridge
	playbacks map[string]*playback
	liveRecs  map[string]*liveRec
	stored    map[string]*storedRec
	endpoints map[string]*endpoint
	techs     map[string]bool
	globals   map[string]string
	nameSeq   int64
	idSeq     int64
	stats     Stats
	sentByApp map[string]int64
	callLog   []*CallRecord // Options.KeepCallLog
	// evBuf and snap are the buffers events (emitAt) and snapshots
	// (chanJSON, bridgeJSON) are encoded in before being copied out.
	evBuf, snap []byte

	// Faults (faults.go, inject.go) and counters.
	faults          Faults
	frng            *rand.Rand
	firstLeft       map[faultPoint][2]map[string]int // FailFirst, StallFirst left
	faultCounts     map[string]int64
	stalls          map[*stall]struct{}
	held            map[*heldEvent]struct{}
	heldOrder       []*heldEvent // reordered events, in the order held
	eventsByType    map[string]int64
	requests        map[requestKey]int64
	sessionLimit    int
	sessions        int
	sessionsRefused int64
	handler         http.Handler

	srv  *http.Server
	fast *fastServer // serves srv's plain requests itself (fastserve.go)
	ln   net.Listener
	wg   sync.WaitGroup
}

// New returns a Server; call Start to listen, or mount Handler yourself.
func New(opts Options) *Server {
	if opts.EntityID == "" {
		opts.EntityID = "sim-asterisk"
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 65536
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	sounds := opts.Sounds
	if sounds == nil {
		sounds = DefaultSounds()
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := opts.Faults.Validate(); err != nil {
		panic("sim: Options.Faults: " + err.Error())
	}
	if opts.SessionLimit < 0 {
		panic("sim: Options.SessionLimit is negative")
	}
	s := &Server{
		opts:      opts,
		clock:     newServerClock(opts),
		log:       lg,
		rng:       rand.New(rand.NewPCG(uint64(opts.Seed), uint64(opts.Seed)^0x5eed)),
		seed:      uint64(opts.Seed),
		sounds:    sounds,
		apps:      map[string]*application{},
		conns:     map[*wsConn]struct{}{},
		channels:  map[string]*channel{},
		bridges:   map[string]*bridge{},
		playbacks: map[string]*playback{},
		liveRecs:  map[string]*liveRec{},
		stored:    map[string]*storedRec{},
		endpoints: map[string]*endpoint{},
		techs:     map[string]bool{},
		globals:   map[string]string{},
		sentByApp: map[string]int64{},

		faultCounts:  map[string]int64{},
		stalls:       map[*stall]struct{}{},
		held:         map[*heldEvent]struct{}{},
		eventsByType: map[string]int64{},
		requests:     map[requestKey]int64{},
		sessionLimit: opts.SessionLimit,
	}
	s.setFaults(opts.Faults)
	for t := range knownTechs {
		s.techs[t] = true
	}
	s.start = s.clock.Now()
	s.mux = s.routes()
	s.controlRoutes(s.mux)
	s.handler = s.counted(s.mux)
	return s
}

// Clock returns the simulated clock.
func (s *Server) Clock() *Clock { return s.clock }

// Handler serves ARI under /ari/ and the control API under /sim/v1/.
// Stats.Requests counts its requests; the session limit applies only to
// the listener served (Start, StartPipe, Serve).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// StartPipe serves on a new in-memory Pipe and returns it: clients reach
// the server through its DialContext, at URL() (host PipeAddr). Built and
// used inside a testing/synctest bubble, the whole simulation runs on the
// bubble's fake clock.
func (s *Server) StartPipe() (*Pipe, error) {
	p := NewPipe()
	if err := s.Serve(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Serve serves on ln in the background (Start and StartPipe call it);
// Close closes ln. One listener per Server.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.ln != nil {
		s.mu.Unlock()
		ln.Close()
		return errors.New("sim: server already serving")
	}
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ConnContext: withSessionConn}
	s.fast = newFastServer(s, ln, s.srv)
	fast := s.fast
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fast.run()
	}()
	return nil
}

// Addr is the listening address ("127.0.0.1:PORT", PipeAddr on a Pipe),
// empty before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the ARI REST root, e.g. "http://127.0.0.1:PORT/ari".
func (s *Server) URL() string { return "http://" + s.Addr() + "/ari" }

// WebsocketURL is the events websocket, e.g. "ws://127.0.0.1:PORT/ari/events".
func (s *Server) WebsocketURL() string { return "ws://" + s.Addr() + "/ari/events" }

// Close stops the listener, the websockets, every timer and goroutine.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, fast := s.srv, s.fast
	for c := range s.conns {
		s.detachConn(c, false)
	}
	s.releaseStalls()
	s.mu.Unlock()
	s.clock.stopAll()
	var err error
	if fast != nil {
		fast.close()
	}
	if srv != nil {
		err = srv.Close()
	}
	s.wg.Wait()
	return err
}

// SetPassword changes the ARI password, as an edit of ari.conf and a
// reload do on Asterisk: requests and websockets already open go on; the
// next ones must carry the new password.
func (s *Server) SetPassword(p string) { s.pass.Store(&p) }

// DropWebSockets closes every events websocket, as when the network
// between Asterisk and the application fails. Channels stay in Stasis;
// nothing is replayed when the application reconnects.
func (s *Server) DropWebSockets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		s.detachConn(c, false)
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ChannelsActive = int64(len(s.channels))
	st.BridgesActive = int64(len(s.bridges))
	st.SentByApp = make(map[string]int64, len(s.sentByApp))
	for k, v := range s.sentByApp {
		st.SentByApp[k] = v
	}
	st.EventsByType = copyMap(s.eventsByType)
	st.Requests = make(map[string]int64, len(s.requests))
	for k, v := range s.requests {
		st.Requests[k.method+" "+k.pattern] += v
	}
	st.Faults = copyMap(s.faultCounts)
	st.Stalled, st.RecordingsHeld = int64(len(s.stalls)), int64(len(s.held))
	st.Sessions, st.SessionsRefused = int64(s.sessions), s.sessionsRefused
	return st
}

func copyMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// EventsSent is the number of events queued to app's websockets so far.
func (s *Server) EventsSent(app string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentByApp[app]
}

// Apps lists the applications that currently have a websocket.
func (s *Server) Apps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n, a := range s.apps {
		if a.conn != nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// application is a Stasis application: registered while a websocket
// carries it; its subscriptions outlive the websocket.
type application struct {
	name         string
	conn         *wsConn
	subscribeAll bool
	endpoints    map[string]bool // "PJSIP/1001" or "PJSIP"
	// endpointIDs is endpoints' keys sorted, for appJSON; replaced, never
	// changed in place, as an answer being written may hold it.
	endpointIDs []string
}

func (s *Server) app(name string) *application {
	a := s.apps[name]
	if a == nil {
		a = &application{name: name, endpoints: map[string]bool{}}
		s.apps[name] = a
	}
	return a
}

func (s *Server) registered(name string) bool {
	a := s.apps[name]
	return a != nil && a.conn != nil
}

// wsConn is one events websocket: a queue drained by its writer goroutine.
type wsConn struct {
	apps []string
	q    chan []byte
	done chan struct{}
	gone bool
}

// detachConn unregisters c's applications and tells its writer to close.
// dropped counts it as a slow-reader disconnect.
func (s *Server) detachConn(c *wsConn, dropped bool) {
	if c.gone {
		return
	}
	c.gone = true
	delete(s.conns, c)
	for _, n := range c.apps {
		if a := s.apps[n]; a != nil && a.conn == c {
			a.conn = nil
			a.subscribeAll = false
		}
	}
	if dropped {
		s.stats.ConnectionsDropped++
		s.stats.EventsDropped += int64(len(c.q))
	}
	close(c.done)
}

// deliver queues one encoded event of type typ for app; never blocks.
func (s *Server) deliver(app, typ string, data []byte) {
	a := s.apps[app]
	if a == nil || a.conn == nil {
		s.stats.EventsUnrouted++
		return
	}
	c := a.conn
	select {
	case c.q <- data:
		s.stats.EventsSent++
		s.sentByApp[app]++
		s.eventsByType[typ]++
	default:
		s.stats.EventsDropped++
		s.log.Warn("sim: websocket reader too slow, disconnecting", "app", app)
		s.detachConn(c, true)
	}
}

// emit sends an event of type typ with the given fields to apps. Called
// with s.mu held; the JSON is encoded once and the application field is
// spliced in per recipient.
func (s *Server) emit(apps []string, typ string, fields map[string]any) {
	s.emitAt(apps, typ, fields, s.clock.Now())
}

// emitAt is emit with the event's timestamp at (an event created earlier
// and sent late). The event is fields with type, timestamp and
// asterisk_id added (fields itself is left as it is), keys in sorted
// order after the leading application, as json.Marshal orders a map's.
func (s *Server) emitAt(apps []string, typ string, fields map[string]any, at time.Time) {
	if len(apps) == 0 {
		return
	}
	keys := make([]string, 0, len(fields)+3)
	for k := range fields {
		if k != "type" && k != "timestamp" && k != "asterisk_id" {
			keys = append(keys, k)
		}
	}
	keys = append(keys, "type", "timestamp", "asterisk_id")
	slices.Sort(keys)
	// body is the event after the application field: ,"k":v,...}
	body := s.evBuf[:0]
	defer func() { s.evBuf = body }()
	var err error
	for _, k := range keys {
		body = append(body, ',')
		body = appendString(body, k)
		body = append(body, ':')
		switch k {
		case "type":
			body = appendString(body, typ)
		case "timestamp":
			body = appendTime(body, at)
		case "asterisk_id":
			body = appendString(body, s.opts.EntityID)
		default:
			if body, err = appendJSON(body, fields[k]); err != nil {
				s.log.Error("sim: encode event", "type", typ, "error", err)
				return
			}
		}
	}
	body = append(body, '}')
	for _, app := range apps {
		msg := newMsg(len(body) + len(app) + 32)
		msg = append(msg, `{"application":`...)
		msg = appendString(msg, app)
		msg = append(msg, body...)
		s.deliver(app, typ, msg)
	}
}

// handleEvents serves GET /ari/events: the websocket upgrade.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w)
		return
	}
	var names []string
	for _, n := range strings.Split(r.URL.Query().Get("app"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		writeJSON(w, http.StatusBadRequest, errBody("Missing parameter app"))
		return
	}
	subAll := r.URL.Query().Get("subscribeAll") == "true"
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		writeJSON(w, http.StatusServiceUnavailable, errBody("shutting down"))
		return
	}
	// Like Asterisk, the application is registered before the upgrade
	// completes: a client that sees the handshake finish can use the
	// application's routes at once.
	c := &wsConn{apps: names, q: make(chan []byte, s.opts.QueueSize), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, errBody("shutting down"))
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	s.conns[c] = struct{}{}
	for _, n := range names {
		a := s.app(n)
		if old := a.conn; old != nil && old != c {
			// The newer websocket wins; the older one is told so.
			s.emit([]string{n}, "ApplicationReplaced", map[string]any{})
			for i, on := range old.apps {
				if on == n {
					old.apps = append(old.apps[:i:i], old.apps[i+1:]...)
					break
				}
			}
		}
		a.conn = c
		a.subscribeAll = subAll
	}
	s.mu.Unlock()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, Subprotocols: []string{"ari"}})
	if err != nil {
		s.mu.Lock()
		s.detachConn(c, false)
		s.mu.Unlock()
		return
	}
	ws.SetReadLimit(1 << 20)

	ctx := ws.CloseRead(context.Background())
	sc, _ := r.Context().Value(sessionConnKey{}).(*sessionConn)
	for {
		select {
		case <-c.done:
			ws.CloseNow()
			return
		case <-ctx.Done():
			s.mu.Lock()
			s.detachConn(c, false)
			s.mu.Unlock()
			ws.CloseNow()
			return
		case msg := <-c.q:
			var err error
			if sc != nil {
				err = s.writeBurst(ws, sc, c, msg)
			} else {
				wctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
				err = ws.Write(wctx, websocket.MessageText, msg)
				cancel()
				freeMsg(msg)
			}
			if err != nil {
				s.mu.Lock()
				s.detachConn(c, ctx.Err() == nil)
				s.mu.Unlock()
				ws.CloseNow()
				return
			}
		}
	}
}

// writeBurst writes msg and the events queued behind it (up to maxCork
// bytes) as websocket messages, one frame each, corked into one write
// within Options.WriteTimeout.
func (s *Server) writeBurst(ws *websocket.Conn, sc *sessionConn, c *wsConn, msg []byte) error {
	// The writes only fill sc's buffer: they need no deadline of their
	// own (whose timer the library would arm for each).
	wctx := context.Background()
	sc.cork()
	err := ws.Write(wctx, websocket.MessageText, msg)
	freeMsg(msg)
	for err == nil && sc.heldLen() < maxCork {
		select {
		case msg = <-c.q:
			err = ws.Write(wctx, websocket.MessageText, msg)
			freeMsg(msg)
			continue
		default:
		}
		break
	}
	if uerr := sc.uncork(s.opts.WriteTimeout); err == nil {
		err = uerr
	}
	return err
}

// msgPool recycles the buffers of events written (ws.Write copies a
// message out before it returns).
var msgPool sync.Pool // of *[]byte

// minMsg is the least capacity of a pooled event buffer: most events fit.
const minMsg = 1024

// newMsg returns an empty buffer for an event of about n bytes.
func newMsg(n int) []byte {
	if p, _ := msgPool.Get().(*[]byte); p != nil && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, max(n, minMsg))
}

// freeMsg gives back the buffer of an event written.
func freeMsg(b []byte) {
	if cap(b) <= 8*minMsg {
		b = b[:0]
		msgPool.Put(&b)
	}
}

func newServerClock(opts Options) *Clock {
	if opts.Virtual {
		return NewVirtualClock(opts.Speed)
	}
	return NewClock(opts.Speed)
}
