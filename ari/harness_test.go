package ari

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// recorder keeps everything an adapter reports (its events, or the raw
// WebSocket frames) so that tests can wait for one, check the order of
// several, and assert that one never came.
type recorder[E any] struct {
	mu      sync.Mutex
	evs     []E
	changed chan struct{} // closed and replaced on every append
	closed  bool
}

func newRecorder[E any]() *recorder[E] {
	return &recorder[E]{changed: make(chan struct{})}
}

func (r *recorder[E]) add(e E) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder[E]) close() {
	r.mu.Lock()
	r.closed = true
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// record keeps every event of ch; done is closed when ch is.
func record(ch <-chan sb.Event) (r *recorder[sb.Event], done <-chan struct{}) {
	r = newRecorder[sb.Event]()
	d := make(chan struct{})
	go func() {
		defer close(d)
		for e := range ch {
			r.add(e)
		}
		r.close()
	}()
	return r, d
}

// mark is the index the next event will have.
func (r *recorder[E]) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// wait returns the index and the first event at or after from that matches.
func (r *recorder[E]) wait(t testing.TB, from int, what string, match func(E) bool) (int, E) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		for i := from; i < len(r.evs); i++ {
			if match(r.evs[i]) {
				e := r.evs[i]
				r.mu.Unlock()
				return i, e
			}
		}
		from = len(r.evs)
		changed, closed := r.changed, r.closed
		r.mu.Unlock()
		if closed {
			t.Fatalf("events closed while waiting for %s", what)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s within 20s", what)
		}
	}
}

// between returns a copy of the events with index in [from, to).
func (r *recorder[E]) between(from, to int) []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs[from:min(to, len(r.evs))])
}

// never fails the test if an event with index in [from, to) matches. to is
// a marker's index (harness.mark): everything sent before the marker is
// before it, so the event did not come "yet" can be told from "never".
func (r *recorder[E]) never(t testing.TB, from, to int, what string, match func(E) bool) {
	t.Helper()
	for i, e := range r.between(from, to) {
		if match(e) {
			t.Errorf("%s at %d: %+v", what, from+i, e)
		}
	}
}

// is matches an event of type T about channel ch ("" = any).
func is[T sb.Event](ch sb.ChannelID) func(sb.Event) bool {
	return func(e sb.Event) bool {
		_, ok := e.(T)
		return ok && (ch == "" || sb.ChannelOf(e) == ch)
	}
}

// frame is the gist of one WebSocket frame as Asterisk sent it, before the
// adapter translates (or ignores) it.
type frame struct {
	Type, Channel, Bridge, Variable, Value string
}

func parseFrame(b []byte) frame {
	var m struct {
		Type    string `json:"type"`
		Channel struct {
			ID string `json:"id"`
		} `json:"channel"`
		Bridge struct {
			ID string `json:"id"`
		} `json:"bridge"`
		Variable string `json:"variable"`
		Value    string `json:"value"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return frame{Type: "undecodable"}
	}
	return frame{Type: m.Type, Channel: m.Channel.ID, Bridge: m.Bridge.ID, Variable: m.Variable, Value: m.Value}
}

// rawIs matches a frame of type typ about channel ch ("" = any).
func rawIs(typ string, ch sb.ChannelID) func(frame) bool {
	return func(f frame) bool { return f.Type == typ && (ch == "" || f.Channel == string(ch)) }
}

// The suite's dialplan, configs/asterisk/extensions_test.conf: its
// context and the extensions the suite dials there. On Asterisk each
// endpoint is Local/EXTEN@switchboard-test/n; the simulator gets the same
// endpoint strings and scripts them to behave alike. dialplan_test.go
// checks that each extension takes the exten => line meant for it.
const (
	dpContext   = "switchboard-test"
	extAnswer   = "answer"   // answers at once and stays
	extBusy     = "busy"     // busy
	extNoAnswer = "noanswer" // rings until the originate or dial times out
	extWait     = "wait"     // caller of an inbound call: stays on the line
	extDTMF     = "dtmf"     // caller: presses 1 2 # on hearing a digit
	extHangup   = "hangup"   // caller or far end: hangs up (16) on hearing a digit
)

// inboundExten is the extension the ;2 half of an inbound call dials to
// enter the application with the Stasis args inbound, tok.
func inboundExten(tok string) string { return "in-" + tok }

// local is the Local channel endpoint that reaches exten of the suite's
// dialplan (/n: no Local channel optimisation, so ids stay put).
func local(exten string) string { return "Local/" + exten + "@" + dpContext + "/n" }

// target is where the conformance suite runs: the simulator, or a real
// Asterisk reached through ARI_URL.
type target struct {
	name  string
	sim   *sim.Server // nil on a real Asterisk
	cfg   Config
	sound string // a sound that exists on the target
}

func (tg *target) real() bool { return tg.sim == nil }

// skipOnReal skips a sim-only check on a real Asterisk, saying why.
func (tg *target) skipOnReal(t *testing.T, why string) {
	t.Helper()
	if tg.real() {
		t.Skipf("sim only on a real Asterisk: %s", why)
	}
}

const confApp = "switchboard-test"

var confSeq atomic.Int64

// token makes a test-unique id.
func token(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, time.Now().UnixNano()%1e9, confSeq.Add(1))
}

func simTarget(t testing.TB) *target {
	s := sim.New(sim.Options{User: "switchboard", Password: "conformance-Secret-1", Speed: 10, Seed: 1, EntityID: "sim-conformance"})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The far ends the dialplan scripts on Asterisk; an unregistered
	// Local endpoint (answer, hangup) answers at once.
	s.AddEndpoint("Local", extBusy+"@"+dpContext+"/n", sim.Party{Busy: true})
	s.AddEndpoint("Local", extNoAnswer+"@"+dpContext+"/n", sim.Party{NoAnswer: true})
	return &target{
		name: "sim", sim: s,
		cfg: Config{URL: s.URL(), WebsocketURL: s.WebsocketURL(), Username: "switchboard", Password: "conformance-Secret-1",
			Application: confApp},
		sound: "sound:hello-world",
	}
}

// realTarget is a real Asterisk when ARI_URL, ARI_USERNAME and ARI_PASSWORD
// are set, loaded with configs/asterisk/extensions_test.conf.
func realTarget() *target {
	u, user, pass := os.Getenv("ARI_URL"), os.Getenv("ARI_USERNAME"), os.Getenv("ARI_PASSWORD")
	if u == "" || user == "" || pass == "" {
		return nil
	}
	return &target{
		name:  "asterisk",
		cfg:   Config{URL: u, WebsocketURL: os.Getenv("ARI_WSURL"), Username: user, Password: pass, Application: confApp},
		sound: "sound:hello-world",
	}
}

// harness is one adapter connected to a target, with its events and raw
// frames recorded, and a marker channel for asserting absences.
type harness struct {
	*target
	a   *Adapter
	rec *recorder[sb.Event]
	raw *recorder[frame]
	ctx context.Context

	marker sb.ChannelID // an originated channel that stays up
	marks  int
}

func newHarness(t *testing.T, tg *target) *harness {
	cfg := tg.cfg
	log, _ := testLogger(t)
	cfg.Logger = log
	cfg.ReconnectMin, cfg.ReconnectMax = 10*time.Millisecond, 200*time.Millisecond
	cfg.RequestTimeout = 10 * time.Second
	// The suite checks what the PBX sends: the adapter's own bound on a
	// playback that never finishes (playwatch.go, tested on its own) must
	// not stand in for a PlaybackFinished the PBX never sent.
	cfg.PlaybackCheckInterval = time.Hour
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw := newRecorder[frame]()
	a.frameTap = func(b []byte) { raw.add(parseFrame(b)) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	rec, recDone := record(a.Events())
	h := &harness{target: tg, a: a, rec: rec, raw: raw, ctx: context.Background()}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		<-recDone
	})
	h.rec.wait(t, 0, "LinkUp", is[sb.LinkUp](""))
	h.marker = h.newMarker(t)
	t.Cleanup(func() { a.Hangup(context.Background(), h.marker, "") })
	return h
}

// newMarker originates the channel whose variables mark the event stream.
func (h *harness) newMarker(t *testing.T) sb.ChannelID {
	t.Helper()
	id := sb.ChannelID(token("marker"))
	from := h.rec.mark()
	if _, err := h.a.Originate(h.ctx, sb.OriginateRequest{ID: id, Endpoint: local(extAnswer), Timeout: 20 * time.Second,
		AppArgs: []string{"marker"}}); err != nil {
		t.Fatalf("originate the marker channel: %v", err)
	}
	h.rec.wait(t, from, "ChannelEntered for the marker channel", is[sb.ChannelEntered](id))
	return id
}

// marked is where a marker landed in the event and the frame records.
type marked struct{ ev, raw int }

// mark puts a marker in the event stream and waits for it: it sets a
// variable on the marker channel, and the ChannelVarset that follows comes
// after every event Asterisk sent before (one WebSocket delivers an
// application's events in order). An event a test forbids and that did
// not come before the marker is not late: it is absent. No sleeping.
func (h *harness) mark(t *testing.T) marked {
	t.Helper()
	h.marks++
	value := strconv.Itoa(h.marks)
	from, rawFrom := h.rec.mark(), h.raw.mark()
	if err := h.a.SetVariable(h.ctx, h.marker, "SB_MARK", value); err != nil {
		// The marker's far end gave up (extensions_test.conf: Wait(600)).
		t.Logf("marker channel %s: %v; making another", h.marker, err)
		h.marker = h.newMarker(t)
		if err := h.a.SetVariable(h.ctx, h.marker, "SB_MARK", value); err != nil {
			t.Fatalf("set the marker variable: %v", err)
		}
	}
	i, _ := h.rec.wait(t, from, "marker "+value, func(e sb.Event) bool {
		v, ok := e.(sb.VariableSet)
		return ok && v.Channel == h.marker && v.Name == "SB_MARK" && v.Value == value
	})
	j, _ := h.raw.wait(t, rawFrom, "marker frame "+value, func(f frame) bool {
		return f.Type == "ChannelVarset" && f.Channel == string(h.marker) && f.Variable == "SB_MARK" && f.Value == value
	})
	return marked{ev: i, raw: j}
}

// originate calls exten of the suite's dialplan into the application with
// args and returns the channel once it entered (answered).
func (h *harness) originate(t *testing.T, exten string, args ...string) sb.ChannelID {
	t.Helper()
	id := sb.ChannelID(token("out"))
	from := h.rec.mark()
	if _, err := h.a.Originate(h.ctx, sb.OriginateRequest{ID: id, Endpoint: local(exten), Timeout: 20 * time.Second,
		AppArgs: args}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.Hangup(context.Background(), id, "") })
	h.rec.wait(t, from, "ChannelEntered for "+string(id), is[sb.ChannelEntered](id))
	return id
}

// inbound brings a call into the application from the dialplan, in state
// Ring, and returns its channel. farEnd (extWait, extDTMF or extHangup)
// says what the caller's side does once the application answers. On
// Asterisk the suite originates Local/in-TOKEN@switchboard-test/n into
// the dialplan: the ;2 half enters Stasis(switchboard-test,inbound,TOKEN)
// and is the inbound channel; the ;1 half, the caller, runs farEnd. On the
// simulator a trunk call arrives and the test drives the far end with
// pressDigits and farHangup.
func (h *harness) inbound(t *testing.T, farEnd string) (sb.ChannelID, sb.ChannelEntered) {
	t.Helper()
	tok := token("in")
	from := h.rec.mark()
	if h.real() {
		_, err := h.a.Originate(h.ctx, sb.OriginateRequest{
			ID:       sb.ChannelID("far-" + tok),
			Endpoint: local(inboundExten(tok)),
			CallerID: "Conformance <+15550001>",
			Context:  dpContext, Extension: farEnd, Priority: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.a.Hangup(context.Background(), sb.ChannelID("far-"+tok), "") })
	} else {
		if _, err := h.sim.Call(sim.Inbound{App: confApp, Args: []string{"inbound", tok},
			From: "+15550001", Name: "Conformance", To: "+15551230000"}); err != nil {
			t.Fatal(err)
		}
	}
	_, e := h.rec.wait(t, from, "ChannelEntered for "+tok, func(e sb.Event) bool {
		ce, ok := e.(sb.ChannelEntered)
		return ok && len(ce.Args) == 2 && ce.Args[0] == "inbound" && ce.Args[1] == tok
	})
	ce := e.(sb.ChannelEntered)
	t.Cleanup(func() { h.a.Hangup(context.Background(), ce.Channel.ID, "") })
	return ce.Channel.ID, ce
}

// pressDigits makes the far end of ch press 1 2 #. On Asterisk the far end
// runs extDTMF and presses them when it hears a digit from us.
func (h *harness) pressDigits(t *testing.T, ch sb.ChannelID) {
	t.Helper()
	var err error
	if h.real() {
		err = h.a.SendDTMF(h.ctx, ch, "5")
	} else {
		err = h.sim.SendDTMF(string(ch), "12#")
	}
	if err != nil {
		t.Fatalf("make the far end of %s press digits: %v", ch, err)
	}
}

// farHangup makes the far end of ch hang up with cause 16. On Asterisk the
// far end runs extHangup and hangs up when it hears a digit from us.
func (h *harness) farHangup(t *testing.T, ch sb.ChannelID) {
	t.Helper()
	var err error
	if h.real() {
		err = h.a.SendDTMF(h.ctx, ch, "5")
	} else {
		err = h.sim.Hangup(string(ch), 16)
	}
	if err != nil {
		t.Fatalf("make the far end of %s hang up: %v", ch, err)
	}
}

// answer answers ch and waits for its Up state.
func (h *harness) answer(t *testing.T, ch sb.ChannelID) {
	t.Helper()
	from := h.rec.mark()
	if err := h.a.Answer(h.ctx, ch); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "Up for "+string(ch), func(e sb.Event) bool {
		sc, ok := e.(sb.ChannelStateChanged)
		return ok && sc.Channel.ID == ch && sc.Channel.State == sb.ChannelUp
	})
}

// answered is an inbound call, answered, with its Up state seen.
func (h *harness) answered(t *testing.T, farEnd string) sb.ChannelID {
	t.Helper()
	ch, _ := h.inbound(t, farEnd)
	h.answer(t, ch)
	return ch
}
