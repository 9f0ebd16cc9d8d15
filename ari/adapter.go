package ari

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v6/client/native"
	"github.com/coder/websocket"
	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/internal/handoff"
)

// Config configures an Adapter. URL, Username, Password and Application are
// required; zero durations and limits take the defaults noted.
type Config struct {
	// URL is ARI's base URL, e.g. http://asterisk:8088/ari. It must not
	// carry credentials.
	URL string
	// WebsocketURL is the events WebSocket, e.g. ws://asterisk:8088/ari/events;
	// derived from URL when empty (http→ws, https→wss, + "/events").
	WebsocketURL string
	// Username and Password are an ari.conf user. The password is never
	// logged nor put in an error.
	Username, Password string
	// Application is the Stasis application name the dialplan sends calls
	// to (Stasis(switchboard)).
	Application string
	// RequestTimeout bounds every REST command (default 5s).
	RequestTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the jittered exponential back-off
	// between connection attempts (defaults 250ms and 30s).
	ReconnectMin, ReconnectMax time.Duration
	// QueueLimit is how many events may wait for the consumer of Events()
	// before further events are counted lost (default 1,000,000).
	QueueLimit int
	// Logger receives the adapter's logs (default slog.Default()).
	Logger *slog.Logger
	// PlaybackCheckInterval is how long after it started, and then how
	// often, a playback that has not finished is looked up (GET
	// /playbacks/{id}) to notice one Asterisk dropped without a
	// PlaybackFinished (default 5s; see "Lost playbacks" in the package
	// documentation).
	PlaybackCheckInterval time.Duration
	// MaxConnections caps the HTTP connections to Asterisk, open or idle,
	// the events WebSocket included (default 50): REST requests share
	// MaxConnections-1 and wait, under their deadline, for a free one.
	// Asterisk serves at most http.conf's sessionlimit sessions (100 by
	// default) and closes any connection past it with no answer; keep
	// MaxConnections below it. At least 2.
	MaxConnections int
	// Overload tells when Overload reports the PBX overloaded.
	Overload OverloadConfig
	// DialContext, when set, opens every connection to Asterisk, REST and
	// events WebSocket alike, in place of a TCP dial (and no proxy is
	// used): tests reach a simulator over an in-memory sim.Pipe with it,
	// inside a testing/synctest bubble. Nil dials TCP.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Observe, when set, is called after every ARI REST round trip with the
	// operation name (a snake_case verb: "answer", "originate",
	// "add_to_bridge", "list_channels", "asterisk_info", ...), its latency
	// and its error (nil on success), for metrics. It must not block.
	Observe func(op string, d time.Duration, err error)

	// idleTimeout and pingInterval replace idleConnTimeout and the
	// WebSocket keep-alive interval when set: tests that count
	// connections lengthen them, so that a machine slow enough to leave a
	// connection idle past them does not open new ones.
	idleTimeout, pingInterval time.Duration
}

// Defaults applied by New to zero Config fields.
const (
	DefaultRequestTimeout = 5 * time.Second
	DefaultReconnectMin   = 250 * time.Millisecond
	DefaultReconnectMax   = 30 * time.Second
	DefaultQueueLimit     = 1_000_000

	DefaultPlaybackCheckInterval = 5 * time.Second
)

// ErrUnauthorized is returned (wrapped, with the user and URL) by Run when
// Asterisk rejects the credentials. Its code is switchboard.EUNAUTHORIZED.
var ErrUnauthorized = &sb.Error{Code: sb.EUNAUTHORIZED, Message: "ARI credentials rejected"}

// Stats are the adapter's counters since New.
type Stats struct {
	// EventsReceived counts WebSocket frames read from Asterisk.
	EventsReceived uint64
	// EventsIgnored counts well-formed ARI events Switchboard does not use
	// (they are not lost: nobody wants them).
	EventsIgnored uint64
	// EventsQueued counts switchboard events (including LinkUp/LinkDown)
	// accepted into the queue for Events().
	EventsQueued uint64
	// EventsDelivered counts events handed to the consumer of Events().
	EventsDelivered uint64
	// EventsLost counts events refused because QueueLimit events were
	// waiting. Anything but 0 is a fault, logged as an error.
	EventsLost uint64
	// DecodeErrors counts frames that were not valid ARI events.
	DecodeErrors uint64
	// Reconnects counts successful connections after the first.
	Reconnects uint64
	// QueueDepth is the number of events waiting for the consumer now.
	QueueDepth int64
	// QueueHighWater is the largest QueueDepth seen.
	QueueHighWater int64
	// PlaybacksWatched is the number of playbacks started through Play or
	// PlayBridge whose end has not been seen yet.
	PlaybacksWatched int64
	// PlaybacksLost counts playbacks Asterisk dropped without a
	// PlaybackFinished (unplayable media, or the event lost with the link),
	// for which the adapter queued PlaybackFinished{State: "failed"}.
	PlaybacksLost uint64
	// LatePlaybacksDropped counts real PlaybackFinished events dropped
	// because the adapter had already reported that playback lost.
	LatePlaybacksDropped uint64
	// CredentialsRejected counts reconnection attempts Asterisk refused
	// with 401 after the link had been up (the ARI password was changed
	// under a running Switchboard); CredentialsRefused tells whether they
	// have been refused since the link was last up.
	CredentialsRejected uint64
	CredentialsRefused  bool
	// MaxConnections is Config.MaxConnections: REST requests share
	// MaxConnections-1 connections, the events WebSocket has one.
	MaxConnections int
	// RequestsInFlight is how many REST requests hold a connection now;
	// RequestsWaiting how many wait for one (all are busy).
	RequestsInFlight, RequestsWaiting int64
	// Routes are the counters of every REST route, sorted by route.
	Routes []RouteStats
	// Load is the last Config.Overload.Window of requests, as Overload
	// judges it.
	Load Load
}

// Adapter is the Asterisk implementation of switchboard.PBX. Create it with
// New, start Run in a goroutine, and read Events().
type Adapter struct {
	cfg     Config
	log     *slog.Logger
	base    *url.URL // cfg.URL parsed, without a trailing slash
	wsURL   string   // events WebSocket URL with ?app=
	authHdr string   // "Basic ..." (secret: never logged)
	client  *native.Client
	httpc   *http.Client   // the adapter's own requests, when raw is nil
	raw     *restTransport // the REST transport when it is restTransport
	// basePath and wireHead start every request the adapter writes
	// itself for raw: the base URL's path ("/ari"), and Host, User-Agent
	// and Authorization header lines.
	basePath, wireHead string
	wsc                *http.Client // for the events WebSocket's upgrade
	slots              *slots       // REST requests in flight, one per connection
	routes             *routeStats
	load               *loadWindow

	node   atomic.Value // string: Asterisk entity id
	ready  atomic.Bool
	events chan sb.Event
	q      *handoff.Queue[sb.Event] // reader and playback watchdog to the deliverer
	ran    atomic.Bool

	received, ignored, queued, deliveredN, decodeErrs, reconnects, rejected atomic.Uint64

	refused atomic.Bool // Asterisk refused the credentials since the last connection

	lossMu     sync.Mutex
	lossLogged time.Time // last overflow error log line

	connMu sync.Mutex
	conn   *websocket.Conn // the live events WebSocket, for dropLink

	pingInterval time.Duration // WebSocket keep-alive; tests shorten it
	// frameTap, set by tests before Run, sees every WebSocket frame as it
	// is read, before decoding, on the reader goroutine (it must copy the
	// bytes and not block): the conformance suite checks that events the
	// adapter ignores (BridgeCreated, ChannelHold) are not sent at all.
	frameTap func([]byte)

	pw  *playWatchdog // playbacks started and not finished
	clk clock         // the watchdog's time; tests use a fake
}

var _ sb.PBX = (*Adapter)(nil)

// New checks cfg, applies defaults and returns an Adapter. It does no I/O;
// Run connects.
func New(cfg Config) (*Adapter, error) {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = DefaultReconnectMin
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = DefaultReconnectMax
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = cfg.ReconnectMin
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = DefaultQueueLimit
	}
	if cfg.PlaybackCheckInterval <= 0 {
		cfg.PlaybackCheckInterval = DefaultPlaybackCheckInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	cfg.Overload = cfg.Overload.withDefaults()
	var problems []string
	if cfg.MaxConnections < 2 {
		problems = append(problems, fmt.Sprintf("ari: max connections must be at least 2 (one is the events websocket), got %d", cfg.MaxConnections))
	}
	if cfg.Username == "" {
		problems = append(problems, "ari: username is required")
	}
	if cfg.Password == "" {
		problems = append(problems, "ari: password is required")
	}
	if cfg.Application == "" {
		problems = append(problems, "ari: application is required")
	}
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	switch {
	case cfg.URL == "":
		problems = append(problems, "ari: url is required")
	case err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "":
		problems = append(problems, "ari: url must be http(s)://host:port/ari")
	case base.User != nil:
		// Refuse rather than redact: credentials belong in Username/Password.
		problems = append(problems, "ari: url must not carry credentials (use username and password)")
	}
	ws := cfg.WebsocketURL
	if ws == "" && len(problems) == 0 {
		w := *base
		w.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
		w.Path += "/events"
		ws = w.String()
	}
	if len(problems) == 0 {
		u, err := url.Parse(ws)
		switch {
		case err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "":
			problems = append(problems, "ari: websocket url must be ws(s)://host:port/ari/events")
		case u.User != nil:
			problems = append(problems, "ari: websocket url must not carry credentials")
		default:
			v := u.Query()
			v.Set("app", cfg.Application)
			u.RawQuery = v.Encode()
			ws = u.String()
		}
	}
	if len(problems) > 0 {
		return nil, sb.Errorf(sb.EINVALID, "%s", strings.Join(problems, "; "))
	}

	cfg.URL = base.String()
	client := native.New(&native.Options{
		Application:  cfg.Application,
		URL:          cfg.URL,
		WebsocketURL: ws, // unused: the adapter reads events itself
		Username:     cfg.Username,
		Password:     cfg.Password,
	})
	tr := newTransport(base, cfg.MaxConnections-1, cfg.RequestTimeout, cfg.idleTimeout, cfg.DialContext)
	if err := useTransport(client, tr); err != nil {
		return nil, err
	}
	a := &Adapter{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "ari", "ari_url", cfg.URL),
		base:         base,
		wsURL:        ws,
		authHdr:      "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)),
		client:       client,
		httpc:        &http.Client{Transport: tr},
		wsc:          &http.Client{Transport: newWebsocketTransport(cfg.RequestTimeout, cfg.DialContext)},
		slots:        newSlots(cfg.MaxConnections - 1),
		routes:       newRouteStats(),
		load:         newLoadWindow(cfg.Overload),
		events:       make(chan sb.Event, 256),
		q:            handoff.New[sb.Event](cfg.QueueLimit),
		pingInterval: cmp.Or(cfg.pingInterval, 15*time.Second),
		pw:           newPlayWatchdog(cfg.PlaybackCheckInterval),
		clk:          realClock{},
	}
	if rt, ok := tr.(*restTransport); ok {
		a.raw = rt
	}
	a.basePath = base.EscapedPath()
	a.wireHead = "Host: " + base.Host + "\r\nUser-Agent: Go-http-client/1.1\r\nAuthorization: " + a.authHdr + "\r\n"
	a.node.Store("")
	return a, nil
}

// Node returns Asterisk's entity id (empty until Run first connects).
func (a *Adapter) Node() string { return a.node.Load().(string) }

// Events returns every event in the order Asterisk sent it, with LinkUp and
// LinkDown where the link came up or broke. It is closed when Run returns.
func (a *Adapter) Events() <-chan sb.Event { return a.events }

// Ready reports whether the events WebSocket is connected and authorised.
func (a *Adapter) Ready() bool { return a.ready.Load() }

// Stats returns the adapter's counters.
func (a *Adapter) Stats() Stats {
	return Stats{
		EventsReceived:  a.received.Load(),
		EventsIgnored:   a.ignored.Load(),
		EventsQueued:    a.queued.Load(),
		EventsDelivered: a.deliveredN.Load(),
		EventsLost:      a.q.Lost(),
		DecodeErrors:    a.decodeErrs.Load(),
		Reconnects:      a.reconnects.Load(),
		QueueDepth:      a.q.Depth(),
		QueueHighWater:  a.q.High(),

		PlaybacksWatched:     a.pw.watched.Load(),
		PlaybacksLost:        a.pw.lost.Load(),
		LatePlaybacksDropped: a.pw.late.Load(),
		CredentialsRejected:  a.rejected.Load(),
		CredentialsRefused:   a.refused.Load(),

		MaxConnections:   a.cfg.MaxConnections,
		RequestsInFlight: a.slots.inUse(),
		RequestsWaiting:  a.slots.waiting.Load(),
		Routes:           a.routes.all(),
		Load:             a.load.load(a.clk.Now()),
	}
}

// Overload reports whether the PBX looks overloaded, and why: over the
// last Config.Overload.Window, a high share of REST requests failed with
// 5xx answers, timeouts or connection failures, or their 95th-percentile
// latency passed the bound (see OverloadConfig). The link may be up and
// every call still managed, only slowly or with failed commands: /healthz
// says "degraded". The verdict clears by itself once the failures are out
// of the window.
func (a *Adapter) Overload() (overloaded bool, reason string) {
	l := a.load.load(a.clk.Now())
	return l.Overloaded, l.Reason
}

// Run connects to Asterisk and keeps the link until ctx ends; then it
// returns nil. It returns an error wrapping ErrUnauthorized when Asterisk
// rejects the credentials at the first connection: the configuration is
// wrong. Rejected later (the password changed on the PBX while calls run),
// it keeps retrying with back-off, not ready, logging an error each time
// and counting it in Stats, so that the live calls are managed again as
// soon as the credentials are put right. While Asterisk cannot be reached
// it retries with back-off, logging each attempt.
// Events() is closed when Run returns. Run may be called once.
func (a *Adapter) Run(ctx context.Context) error {
	if !a.ran.CompareAndSwap(false, true) {
		return sb.Errorf(sb.ECONFLICT, "ari: Run called twice")
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	a.goroutine(&wg, func() { a.deliver(quit) })
	a.goroutine(&wg, func() { a.watchPlaybacks(ctx, quit) })
	err := a.maintain(ctx)
	a.ready.Store(false)
	close(quit)
	wg.Wait()
	a.closePlaybacks()
	if n := a.q.Depth(); n > 0 {
		a.log.Warn("ARI adapter stopped with events not yet delivered", "undelivered", n)
	}
	close(a.events)
	// Give Asterisk its sessions back; a command after Run opens anew.
	a.httpc.CloseIdleConnections()
	return err
}

// goroutine starts f, tracked by wg: everything the adapter starts ends
// before Run returns.
func (a *Adapter) goroutine(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
}

// maxRecycle is the largest batch array the deliverer keeps for reuse; a
// larger one (after a burst) is left to the garbage collector.
const maxRecycle = 1 << 14

// deliver moves events from the queue to Events(), in order, until quit.
func (a *Adapter) deliver(quit <-chan struct{}) {
	var batch []sb.Event
	for {
		batch = a.q.Take(batch)
		if len(batch) == 0 {
			select {
			case <-a.q.Ready():
				continue
			case <-quit:
				return
			}
		}
		for _, e := range batch {
			select {
			case a.events <- e:
				a.q.Done(1)
				a.deliveredN.Add(1)
			case <-quit:
				// Shutting down: the rest stays counted in QueueDepth.
				return
			}
		}
		clear(batch)
		if cap(batch) > maxRecycle {
			batch = nil
		}
	}
}

// enqueue puts e in the queue, or counts it lost and says so.
func (a *Adapter) enqueue(e sb.Event) {
	switch e.(type) {
	case sb.LinkUp, sb.LinkDown:
		// Rare, and LinkUp is what makes the consumer reconcile, which
		// repairs what a loss broke: never refused.
		a.q.Force(e)
		a.queued.Add(1)
		return
	}
	if a.q.Push(e) == nil {
		a.queued.Add(1)
		return
	}
	// Overflow: never silent, but at most one log line a second.
	a.lossMu.Lock()
	now := time.Now()
	logIt := now.Sub(a.lossLogged) >= time.Second
	if logIt {
		a.lossLogged = now
	}
	a.lossMu.Unlock()
	if logIt {
		a.log.Error("ARI event queue full: events lost; the consumer of Events() is not keeping up",
			"queue_limit", a.cfg.QueueLimit, "events_lost", a.q.Lost(),
			"event_type", e.Header().Type, "channel_id", string(sb.ChannelOf(e)))
	}
}

// maintain is the connection loop: connect, read until the link breaks,
// back off, reconnect. It returns nil when ctx ends and an error only for
// rejected credentials.
func (a *Adapter) maintain(ctx context.Context) error {
	connectedBefore := false
	attempt := 0
	for ctx.Err() == nil {
		conn, err := a.connect(ctx)
		if err != nil {
			if errors.Is(err, ErrUnauthorized) && !connectedBefore {
				a.log.Error("ARI rejected the credentials", "user", a.cfg.Username, "err", err)
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrUnauthorized) {
				a.refused.Store(true)
				a.rejected.Add(1)
				d := a.backoff(attempt)
				attempt++
				a.log.Error(fmt.Sprintf("ARI rejected the credentials on reconnecting: live calls are not managed until Asterisk accepts them; retrying in %s", d.Round(time.Millisecond)),
					"user", a.cfg.Username, "err", err, "attempt", attempt, "retry_in", d)
				if !sleep(ctx, d) {
					return nil
				}
				continue
			}
			d := a.backoff(attempt)
			attempt++
			a.log.Warn(fmt.Sprintf("ARI unreachable at %s, retrying in %s", a.cfg.URL, d.Round(time.Millisecond)),
				"err", err, "attempt", attempt, "retry_in", d)
			if !sleep(ctx, d) {
				return nil
			}
			continue
		}
		attempt = 0
		if connectedBefore {
			a.reconnects.Add(1)
		}
		if a.refused.Swap(false) {
			a.log.Info("ARI accepts the credentials again", "user", a.cfg.Username)
		}
		a.setConn(conn)
		a.ready.Store(true)
		a.log.Info("ARI link up", "node", a.Node(), "application", a.cfg.Application, "reconnect", connectedBefore)
		a.enqueue(sb.LinkUp{EventHeader: a.linkHeader("LinkUp"), Reconnect: connectedBefore})
		if connectedBefore {
			a.recheckPlaybacks()
		}
		connectedBefore = true

		err = a.read(ctx, conn)

		a.ready.Store(false)
		a.setConn(nil)
		conn.CloseNow()
		if ctx.Err() != nil {
			return nil
		}
		a.log.Warn("ARI link down", "err", err)
		a.enqueue(sb.LinkDown{EventHeader: a.linkHeader("LinkDown"), Err: err.Error()})
		d := a.backoff(0)
		attempt = 1
		if !sleep(ctx, d) {
			return nil
		}
	}
	return nil
}

func (a *Adapter) linkHeader(typ string) sb.EventHeader {
	return sb.EventHeader{Type: typ, Node: a.Node(), Time: time.Now()}
}

// backoff returns the delay before connection attempt n+1: exponential from
// ReconnectMin to ReconnectMax, with "equal jitter" (half fixed, half random)
// so that many controllers restarting together do not reconnect in step.
func (a *Adapter) backoff(n int) time.Duration {
	d := a.cfg.ReconnectMin
	for i := 0; i < n && d < a.cfg.ReconnectMax; i++ {
		d *= 2
	}
	d = min(d, a.cfg.ReconnectMax)
	half := d / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// connect checks the credentials and Asterisk's identity with GET
// /asterisk/info, then opens the events WebSocket for the application.
func (a *Adapter) connect(ctx context.Context) (*websocket.Conn, error) {
	var info struct {
		System struct {
			EntityID string `json:"entity_id"`
			Version  string `json:"version"`
		} `json:"system"`
	}
	if err := a.rest(ctx, "asterisk_info", rAsteriskInfo, rAsteriskInfo.path(), nil, nil, &info); err != nil {
		if sb.ErrorCode(err) == sb.EUNAUTHORIZED {
			return nil, a.unauthorized()
		}
		return nil, err
	}
	if old := a.Node(); old != "" && old != info.System.EntityID {
		a.log.Warn("Asterisk entity id changed", "old_node", old, "node", info.System.EntityID)
	}
	a.node.Store(info.System.EntityID)

	dctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, a.wsURL, &websocket.DialOptions{
		HTTPClient: a.wsc,
		HTTPHeader: http.Header{"Authorization": []string{a.authHdr}},
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, a.unauthorized()
		}
		return nil, sb.Errorf(sb.EUNAVAILABLE, "open events websocket %s: %v", redactQuery(a.wsURL), err)
	}
	// ARI events can be large (a BridgeAttendedTransfer carries seven
	// channels); the library's 32 KiB default would kill the link.
	conn.SetReadLimit(64 << 20)
	return conn, nil
}

func (a *Adapter) unauthorized() error {
	return fmt.Errorf("ARI rejected the credentials for user %q at %s: %w", a.cfg.Username, a.cfg.URL, ErrUnauthorized)
}

// read is the one WebSocket reader: it decodes every frame and queues the
// result without ever waiting for the consumer. It returns when the
// connection breaks or ctx ends.
func (a *Adapter) read(ctx context.Context, conn *websocket.Conn) error {
	pctx, stopPing := context.WithCancel(ctx)
	var wg sync.WaitGroup
	a.goroutine(&wg, func() { a.keepAlive(pctx, conn) })
	defer func() {
		stopPing()
		wg.Wait()
	}()

	// The reads take no context, whose timer the library would arm for
	// each frame: the connection is closed when ctx ends, which ends the
	// read in progress as ctx itself would.
	stopClose := context.AfterFunc(ctx, func() { conn.CloseNow() })
	defer stopClose()
	var buf bytes.Buffer
	var dec eventDecoder
	for {
		_, r, err := conn.Reader(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		a.received.Add(1)
		if a.frameTap != nil {
			a.frameTap(buf.Bytes())
		}
		e, res, err := dec.decode(buf.Bytes(), a.Node())
		switch res {
		case decoded:
			a.enqueuePBX(e)
		case ignored:
			a.ignored.Add(1)
		case malformed:
			a.decodeErrs.Add(1)
			a.log.Error("undecodable ARI event", "err", err, "frame", truncate(buf.Bytes(), 256))
		}
	}
}

// keepAlive pings Asterisk so that a link that died silently (a network
// partition, a frozen host) is noticed and reconnected.
func (a *Adapter) keepAlive(ctx context.Context, conn *websocket.Conn) {
	t := time.NewTicker(a.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, a.pingInterval)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			a.log.Warn("ARI websocket keep-alive failed; closing the link", "err", err)
			conn.CloseNow()
			return
		}
	}
}

func (a *Adapter) setConn(c *websocket.Conn) {
	a.connMu.Lock()
	a.conn = c
	a.connMu.Unlock()
}

// dropLink closes the live events WebSocket from our side, as a network
// failure would. Tests use it to exercise reconnection against any
// Asterisk.
func (a *Adapter) dropLink() bool {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	if a.conn == nil {
		return false
	}
	a.conn.CloseNow()
	return true
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// redactQuery strips the query of a URL for logs.
func redactQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}

// drain reads and discards r (so the connection can be reused) and closes it.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	_ = r.Close()
}
