package ari

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

func TestNewValidates(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:8088/ari", Username: "u", Password: "p", Application: "app"}
	tests := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.URL = "" }, "url is required"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://h/ari" }, "url must be"},
		{"credentials in url", func(c *Config) { c.URL = "http://u:hunter2@h:8088/ari" }, "must not carry credentials"},
		{"no user", func(c *Config) { c.Username = "" }, "username is required"},
		{"no password", func(c *Config) { c.Password = "" }, "password is required"},
		{"no app", func(c *Config) { c.Application = "" }, "application is required"},
		{"bad ws", func(c *Config) { c.WebsocketURL = "http://h/ari/events" }, "websocket url must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			a, err := New(c)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got, want := a.wsURL, "ws://127.0.0.1:8088/ari/events?app=app"; got != want {
					t.Errorf("ws url %q, want %q", got, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || sb.ErrorCode(err) != sb.EINVALID {
				t.Fatalf("err %v, want %q (invalid)", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Error("error shows the password")
			}
		})
	}
}

func TestEventsInOrderWithLinkUp(t *testing.T) {
	f := newFakeARI(t)
	a := start(t, f.config(t))
	c := f.waitConn()
	up := next(t, a.Events())
	if lu, ok := up.(sb.LinkUp); !ok || lu.Reconnect || lu.Node != f.entity {
		t.Fatalf("first event %#v, want LinkUp{Reconnect:false} from %s", up, f.entity)
	}
	if !a.Ready() || a.Node() != f.entity {
		t.Errorf("Ready %v Node %q", a.Ready(), a.Node())
	}
	frames := recorded(t)
	send(t, c, frames...)
	send(t, c, []byte(`garbage`))
	var types []string
	for range 17 { // the 17 mapped frames
		types = append(types, next(t, a.Events()).Header().Type)
	}
	want := []string{"StasisStart", "ChannelStateChange", "PlaybackStarted", "ChannelDtmfReceived",
		"PlaybackFinished", "Dial", "ChannelVarset", "ChannelEnteredBridge", "RecordingStarted",
		"RecordingFinished", "RecordingFailed", "ChannelLeftBridge", "ChannelHangupRequest",
		"StasisEnd", "ChannelDestroyed", "BridgeDestroyed", "EndpointStateChange"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("types\n got %v\nwant %v", types, want)
	}
	waitFor(t, func() bool { return a.Stats().DecodeErrors == 1 })
	st := a.Stats()
	if st.EventsReceived != uint64(len(frames)+1) || st.EventsIgnored != 2 || st.EventsLost != 0 || st.EventsQueued != 18 {
		t.Errorf("stats %+v", st)
	}
	if err := a.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, ok := <-a.Events(); ok {
		t.Error("Events not closed after Run returned")
	}
	if a.Ready() {
		t.Error("Ready after Run returned")
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUnauthorized(t *testing.T) {
	f := newFakeARI(t)
	cfg := f.config(t)
	log, logs := testLogger(t)
	cfg.Logger = log
	cfg.Password = "wrong-Pa55word-XYZ"
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.Run(context.Background()) }()
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not give up on a 401")
	}
	if !errors.Is(err, ErrUnauthorized) || sb.ErrorCode(err) != sb.EUNAUTHORIZED {
		t.Fatalf("err %v, want ErrUnauthorized", err)
	}
	msg := fmt.Sprintf("ARI rejected the credentials for user %q at %s", f.user, f.url())
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("err %q lacks %q", err, msg)
	}
	if _, ok := <-a.Events(); ok {
		t.Error("Events not closed")
	}
	for _, s := range []string{err.Error(), logs.String()} {
		if strings.Contains(s, cfg.Password) {
			t.Errorf("password leaked: %s", s)
		}
	}
}

// TestNoSecretInLogsOrErrors captures every log line and error of a wrong
// password, an unreachable URL and commands that fail, and checks the
// password never shows.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const password = "Tr0ub4dor&3-secret"
	f := newFakeARI(t)
	f.pass = password + "-not" // the server wants another password

	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/ari"
	l.Close()

	for _, url := range []string{f.url(), dead} {
		t.Run(url, func(t *testing.T) {
			log, logs := testLogger(t)
			a, err := New(Config{URL: url, Username: "switchboard", Password: password, Application: "switchboard",
				ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond, RequestTimeout: time.Second, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var texts []string
			if err := a.Run(ctx); err != nil {
				texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
			}
			bg := context.Background()
			_, err = a.Originate(bg, sb.OriginateRequest{ID: "o1", Endpoint: "PJSIP/1001"})
			texts = append(texts, fmt.Sprintf("%+v", err))
			texts = append(texts, fmt.Sprintf("%+v", a.Answer(bg, "c1")))
			_, err = a.Channels(bg)
			texts = append(texts, fmt.Sprintf("%+v", err))
			_, err = a.StoredRecording(bg, "r1")
			texts = append(texts, fmt.Sprintf("%+v", err))
			texts = append(texts, logs.String())
			all := strings.Join(texts, "\n")
			if strings.Contains(all, password) {
				t.Fatalf("password leaked:\n%s", all)
			}
			if url == dead && !strings.Contains(logs.String(), "ARI unreachable at "+url+", retrying in ") {
				t.Errorf("no unreachable log line:\n%s", logs)
			}
			if url == dead && sb.ErrorCode(a.Answer(bg, "c1")) != sb.EUNAVAILABLE {
				t.Errorf("answer against a dead URL: %v, want unavailable", a.Answer(bg, "c1"))
			}
			t.Logf("sample: %s", texts[0])
		})
	}
}

func TestUnreachableThenUp(t *testing.T) {
	// Asterisk is down at first, comes up later: Run keeps retrying and the
	// first successful connection is LinkUp{Reconnect:false}.
	f := newFakeARI(t)
	f.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	cfg := f.config(t)
	log, logs := testLogger(t)
	cfg.Logger = log
	a := start(t, cfg)
	waitFor(t, func() bool { return strings.Count(logs.String(), "ARI unreachable at") >= 3 })
	if a.Ready() {
		t.Error("Ready while down")
	}
	f.setIntercept(nil)
	f.waitConn()
	if lu, ok := next(t, a.Events()).(sb.LinkUp); !ok || lu.Reconnect {
		t.Fatalf("want LinkUp{Reconnect:false}, got %#v", lu)
	}
}

func TestReconnect(t *testing.T) {
	f := newFakeARI(t)
	a := start(t, f.config(t))
	c := f.waitConn()
	next(t, a.Events()) // LinkUp
	frames := recorded(t)
	send(t, c, frames[0])
	if _, ok := next(t, a.Events()).(sb.ChannelEntered); !ok {
		t.Fatal("want ChannelEntered")
	}
	f.dropAll()
	ld, ok := next(t, a.Events()).(sb.LinkDown)
	if !ok || ld.Err == "" {
		t.Fatalf("want LinkDown with a reason, got %#v", ld)
	}
	c = f.waitConn()
	lu, ok := next(t, a.Events()).(sb.LinkUp)
	if !ok || !lu.Reconnect {
		t.Fatalf("want LinkUp{Reconnect:true}, got %#v", lu)
	}
	if !a.Ready() || a.Stats().Reconnects != 1 {
		t.Errorf("Ready %v, stats %+v", a.Ready(), a.Stats())
	}
	send(t, c, frames[13]) // StasisEnd on the new link
	if _, ok := next(t, a.Events()).(sb.ChannelLeft); !ok {
		t.Fatal("want ChannelLeft after reconnect")
	}
	// Our own side can drop the link too (used by the conformance suite).
	if !a.dropLink() {
		t.Fatal("dropLink: no link")
	}
	if _, ok := next(t, a.Events()).(sb.LinkDown); !ok {
		t.Fatal("want LinkDown")
	}
	f.waitConn()
	if lu, ok := next(t, a.Events()).(sb.LinkUp); !ok || !lu.Reconnect {
		t.Fatalf("want LinkUp{Reconnect:true}, got %#v", lu)
	}
}

func TestKeepAliveNoticesDeadLink(t *testing.T) {
	// A server that accepts the WebSocket but never reads it answers no
	// ping: the adapter must notice and reconnect.
	f := newFakeARI(t)
	a, err := New(f.config(t))
	if err != nil {
		t.Fatal(err)
	}
	a.pingInterval = 50 * time.Millisecond
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	var once sync.Once
	f.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		first := false
		if strings.HasSuffix(r.URL.Path, "/events") {
			once.Do(func() { first = true })
		}
		if !first {
			return false
		}
		// Complete the handshake, then go silent.
		c, err := acceptSilent(w, r)
		if err == nil {
			<-stuck
			c.Close()
		}
		return true
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	if _, ok := next(t, a.Events()).(sb.LinkUp); !ok {
		t.Fatal("want LinkUp")
	}
	if _, ok := next(t, a.Events()).(sb.LinkDown); !ok {
		t.Fatal("want LinkDown after a silent link")
	}
	if lu, ok := next(t, a.Events()).(sb.LinkUp); !ok || !lu.Reconnect {
		t.Fatal("want LinkUp{Reconnect:true}")
	}
}

// acceptSilent completes a WebSocket handshake by hand and then never reads
// nor writes: a frozen peer.
func acceptSilent(w http.ResponseWriter, r *http.Request) (net.Conn, error) {
	h, ok := w.(http.Hijacker)
	if !ok {
		return nil, errors.New("no hijacker")
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	conn, brw, err := h.Hijack()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(key))
	brw.Flush()
	return conn, nil
}

func TestOverflowIsCountedAndLogged(t *testing.T) {
	f := newFakeARI(t)
	cfg := f.config(t)
	log, logs := testLogger(t)
	cfg.Logger = log
	cfg.QueueLimit = 50
	a := start(t, cfg)
	c := f.waitConn()
	// Nobody reads Events(): 256 fit in the channel, 50 in the queue.
	fr := recorded(t)[3] // a DTMF event
	burst := make([][]byte, 1000)
	for i := range burst {
		burst[i] = fr
	}
	send(t, c, burst...)
	waitFor(t, func() bool { return a.Stats().EventsReceived == 1000 })
	st := a.Stats()
	// 1 LinkUp + 1000 events offered; 256 in the channel, 50 queued.
	if st.EventsLost == 0 || st.EventsLost != 1001-uint64(st.EventsDelivered)-uint64(st.QueueDepth) {
		t.Errorf("stats %+v", st)
	}
	if st.QueueHighWater != 50 {
		t.Errorf("high water %d, want 50", st.QueueHighWater)
	}
	if !strings.Contains(logs.String(), "events lost") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("no error log for lost events:\n%s", logs)
	}
}

func TestErrorMapping(t *testing.T) {
	f := newFakeARI(t)
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	f.handle("POST /channels/c404/answer", status(404, `{"message":"Channel not found"}`))
	f.handle("POST /channels/c409/answer", status(409, `{"message":"Channel not in Stasis application"}`))
	f.handle("POST /channels/c412/answer", status(412, `{"message":"Channel in invalid state"}`))
	f.handle("POST /channels/c500/answer", status(500, `{"error":"Allocation failed"}`))
	f.handle("POST /channels/ok/answer", status(204, ``))
	f.handle("POST /bridges/b1/addChannel", status(422, `{"message":"Channel not in Stasis application"}`))
	f.handle("POST /bridges/b2/addChannel", status(400, `{"message":"Channel not found"}`))
	f.handle("POST /channels/c1/play/p404", status(404, ``)) // non-JSON error body with a decoded answer
	f.handle("POST /channels/o500", status(500, `{"error":"Allocation failed"}`))
	f.handle("POST /channels/o400", status(400, `{"message":"Endpoint must be specified"}`))
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	f.handle("POST /channels/slow/answer", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-slow:
		case <-r.Context().Done():
		}
	})
	var mu sync.Mutex
	observed := map[string]int{}
	cfg := f.config(t)
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.Observe = func(op string, d time.Duration, err error) {
		mu.Lock()
		observed[op+"/"+sb.ErrorCode(err)]++
		mu.Unlock()
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, errO500 := a.Originate(ctx, sb.OriginateRequest{ID: "o500", Endpoint: "Foo/bar"})
	_, errO400 := a.Originate(ctx, sb.OriginateRequest{ID: "o400", Endpoint: "PJSIP/x"})
	tests := []struct {
		name string
		err  error
		code string
		text string
	}{
		{"404", a.Answer(ctx, "c404"), sb.ENOTFOUND, "answer c404: "},
		{"409", a.Answer(ctx, "c409"), sb.ECONFLICT, "answer c409: "},
		{"412", a.Answer(ctx, "c412"), sb.ECONFLICT, ""},
		{"500", a.Answer(ctx, "c500"), sb.EINTERNAL, ""},
		{"ok", a.Answer(ctx, "ok"), "", ""},
		{"422", a.AddToBridge(ctx, "b1", "c1"), sb.EUNPROCESSABLE, "add c1 to bridge b1: "},
		{"400", a.AddToBridge(ctx, "b2", "nope"), sb.EINVALID, ""},
		{"originate 500 keeps Asterisk's text", errO500, sb.EINTERNAL, "Allocation failed"},
		{"originate 400", errO400, sb.EINVALID, "Endpoint must be specified"},
		{"bad id", a.Answer(ctx, "../x"), sb.EINVALID, ""},
		{"empty id", a.Hangup(ctx, "", ""), sb.EINVALID, ""},
		{"timeout", a.Answer(ctx, "slow"), sb.EUNAVAILABLE, "no answer in time"},
		{"canceled ctx", func() error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return a.Answer(c, "ok")
		}(), sb.EUNAVAILABLE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sb.ErrorCode(tt.err); got != tt.code {
				t.Errorf("code %q (%v), want %q", got, tt.err, tt.code)
			}
			if tt.text != "" && !strings.Contains(tt.err.Error(), tt.text) {
				t.Errorf("error %q lacks %q", tt.err, tt.text)
			}
		})
	}
	// A non-JSON error body for a command whose answer the native client
	// decodes: the native client reports a decode error and loses the
	// status. Document what we get rather than pretend.
	err = a.Play(ctx, "c1", "p404", "sound:x")
	t.Logf("play with an empty 404 body: code %s: %v", sb.ErrorCode(err), err)
	if err == nil {
		t.Error("play against a 404 succeeded")
	}

	mu.Lock()
	defer mu.Unlock()
	if observed["answer/not_found"] != 1 || observed["answer/"] != 1 || observed["originate/internal"] != 1 || observed["answer/unavailable"] < 1 {
		t.Errorf("observed %v", observed)
	}
}

func TestChannelsListsOnlyTheApplication(t *testing.T) {
	f := newFakeARI(t)
	f.handle("GET /applications/switchboard", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"name": "switchboard", "channel_ids": []string{"in1", "in2", "gone"}, "bridge_ids": []string{"b1"}})
	})
	f.handle("GET /channels", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"id":"in1","name":"PJSIP/a-1","state":"Up","caller":{"name":"A","number":"1"},"dialplan":{"context":"from-trunk","exten":"100","priority":1},"creationtime":"2025-03-04T10:15:02.101+0000","language":"en"},
		{"id":"dialplan-only","name":"PJSIP/b-2","state":"Up"},
		{"id":"in2","name":"Local/x@y-0001;1","state":"Ring"}]`)
	})
	f.handle("GET /bridges", func(w http.ResponseWriter, r *http.Request) {
		// Every ARI bridge is listed (an empty one too: no application is
		// subscribed to it any more); a dialplan bridge is not.
		io.WriteString(w, `[{"id":"b1","bridge_type":"mixing","bridge_class":"stasis","channels":["in1","in2"]},
		{"id":"left-empty","bridge_type":"mixing","bridge_class":"stasis","channels":[]},
		{"id":"dialplan","bridge_type":"mixing","bridge_class":"basic","channels":["z"]}]`)
	})
	f.handle("GET /endpoints", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"technology":"PJSIP","resource":"1001","state":"online","channel_ids":[]},{"technology":"PJSIP","resource":"1002","state":"offline","channel_ids":[]}]`)
	})
	a, err := New(f.config(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	chans, err := a.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(chans) != 2 || chans[0].ID != "in1" || chans[1].ID != "in2" {
		t.Fatalf("channels %+v", chans)
	}
	if c := chans[0]; c.CallerNumber != "1" || c.Context != "from-trunk" || c.Exten != "100" || c.State != sb.ChannelUp || c.Created.IsZero() {
		t.Errorf("channel info %+v", c)
	}
	bridges, err := a.Bridges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bridges) != 2 || bridges[0].ID != "b1" || len(bridges[0].Channels) != 2 || bridges[1].ID != "left-empty" {
		t.Errorf("bridges %+v", bridges)
	}
	eps, err := a.Endpoints(ctx)
	if err != nil || len(eps) != 2 || eps[1] != (sb.EndpointState{Endpoint: "PJSIP/1002", State: "offline"}) {
		t.Errorf("endpoints %+v %v", eps, err)
	}
}

func TestRunTwiceAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFakeARI(t)
	a, err := New(f.config(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	f.waitConn()
	next(t, a.Events())
	if err := a.Run(ctx); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	f.dropAll()
	f.srv.CloseClientConnections()
	a.httpc.CloseIdleConnections()
	// The fake server's own goroutines are part of "before" only once it
	// is up; allow it a few.
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before+4 })
}

// TestCredentialsRejectedOnReconnect: the ARI password is changed on the
// PBX while the link is up. Reconnecting is refused with 401: Run goes on
// (live calls must be managed again as soon as it is put right), not
// ready, retrying with back-off, each refusal logged as an error and
// counted; once the password is right again the link comes back.
func TestCredentialsRejectedOnReconnect(t *testing.T) {
	f := newFakeARI(t)
	cfg := f.config(t)
	log, logs := testLogger(t)
	cfg.Logger = log
	s := start(t, cfg)
	if e := next(t, s.Events()); e.(sb.LinkUp).Reconnect {
		t.Fatalf("first event %+v", e)
	}
	// The link is up on our side once LinkUp comes; the fake holds the
	// connection (to drop it) once its handler took it.
	f.waitConn()
	f.setPassword("changed-on-the-PBX")
	f.dropAll()
	waitFor(t, func() bool { return s.Stats().CredentialsRejected >= 3 })
	select {
	case <-s.done:
		t.Fatalf("Run returned %v on a refused reconnection", s.err)
	default:
	}
	if st := s.Stats(); !st.CredentialsRefused || s.Ready() {
		t.Fatalf("stats %+v, ready %v; want refused and not ready", st, s.Ready())
	}
	if !strings.Contains(logs.String(), "ARI rejected the credentials on reconnecting") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("no error logged for the refusal:\n%s", logs)
	}
	if e := next(t, s.Events()); e.Header().Type != "LinkDown" {
		t.Fatalf("after the drop: %+v, want LinkDown", e)
	}
	f.setPassword(cfg.Password)
	e := next(t, s.Events())
	if up, ok := e.(sb.LinkUp); !ok || !up.Reconnect {
		t.Fatalf("after the password is right again: %+v, want LinkUp{Reconnect}", e)
	}
	if st := s.Stats(); st.CredentialsRefused || !s.Ready() {
		t.Errorf("stats %+v, ready %v; want accepted and ready", st, s.Ready())
	}
	if strings.Contains(logs.String(), cfg.Password) || strings.Contains(logs.String(), "changed-on-the-PBX") {
		t.Error("a password is in the log")
	}
	if err := s.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
}
