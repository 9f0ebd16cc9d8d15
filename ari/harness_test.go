package ari

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// recorder keeps every event of an adapter so that tests can wait for an
// event, check the order of several, and assert that one never came.
type recorder struct {
	mu      sync.Mutex
	evs     []sb.Event
	changed chan struct{} // closed and replaced on every append
	closed  bool
	done    chan struct{}
}

func record(ch <-chan sb.Event) *recorder {
	r := &recorder{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for e := range ch {
			r.mu.Lock()
			r.evs = append(r.evs, e)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.closed = true
		close(r.changed)
		r.mu.Unlock()
	}()
	return r
}

// mark is the index the next event will have.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// wait returns the index and the first event at or after from that matches.
func (r *recorder) wait(t testing.TB, from int, what string, match func(sb.Event) bool) (int, sb.Event) {
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

// all returns a copy of the events from index from on.
func (r *recorder) all(from int) []sb.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs[from:])
}

// is matches an event of type T about channel ch ("" = any).
func is[T sb.Event](ch sb.ChannelID) func(sb.Event) bool {
	return func(e sb.Event) bool {
		_, ok := e.(T)
		return ok && (ch == "" || sb.ChannelOf(e) == ch)
	}
}

// target is where the conformance suite runs: the simulator, or a real
// Asterisk reached through ARI_URL.
type target struct {
	name string
	sim  *sim.Server // nil on a real Asterisk
	cfg  Config

	// Endpoints an originate reaches: one that answers, one busy, one that
	// rings for ever.
	answerEP, busyEP, noAnswerEP string
	sound                        string // a sound that exists on the target
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
	return &target{
		name: "sim", sim: s,
		cfg: Config{URL: s.URL(), WebsocketURL: s.WebsocketURL(), Username: "switchboard", Password: "conformance-Secret-1",
			Application: confApp},
		answerEP: "SIM/answer", busyEP: "SIM/busy", noAnswerEP: "SIM/noanswer", sound: "sound:hello-world",
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
		name: "asterisk",
		cfg:  Config{URL: u, WebsocketURL: os.Getenv("ARI_WSURL"), Username: user, Password: pass, Application: confApp},
		// /n: no Local channel optimisation, so ids stay put.
		answerEP:   "Local/answer@switchboard-test/n",
		busyEP:     "Local/busy@switchboard-test/n",
		noAnswerEP: "Local/noanswer@switchboard-test/n",
		sound:      "sound:hello-world",
	}
}

// harness is one adapter connected to a target, with its events recorded.
type harness struct {
	*target
	a   *Adapter
	rec *recorder
	ctx context.Context
}

func newHarness(t *testing.T, tg *target) *harness {
	cfg := tg.cfg
	log, _ := testLogger(t)
	cfg.Logger = log
	cfg.ReconnectMin, cfg.ReconnectMax = 10*time.Millisecond, 200*time.Millisecond
	cfg.RequestTimeout = 10 * time.Second
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	h := &harness{target: tg, a: a, rec: record(a.Events()), ctx: context.Background()}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		<-h.rec.done
	})
	h.rec.wait(t, 0, "LinkUp", is[sb.LinkUp](""))
	return h
}

// inbound brings a call into the application, in state Ring, and returns
// its channel. farEnd says what the caller's side does once the
// application answers: "wait", "dtmf" (presses 1 2 #) or "hangup" (hangs up
// with cause 16). On the simulator the test drives the far end with
// pressDigits and farHangup; on Asterisk the dialplan does.
func (h *harness) inbound(t *testing.T, farEnd string) (sb.ChannelID, sb.ChannelEntered) {
	t.Helper()
	tok := token("in")
	from := h.rec.mark()
	if h.real() {
		_, err := h.a.Originate(h.ctx, sb.OriginateRequest{
			ID:       sb.ChannelID("far-" + tok),
			Endpoint: "Local/in-" + tok + "@switchboard-test/n",
			CallerID: "Conformance <+15550001>",
			Context:  "switchboard-test", Extension: farEnd, Priority: 1,
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

// pressDigits makes the far end press 1 2 # (the dialplan does it on
// Asterisk for a call made with farEnd "dtmf").
func (h *harness) pressDigits(t *testing.T, ch sb.ChannelID) {
	if h.sim != nil {
		if err := h.sim.SendDTMF(string(ch), "12#"); err != nil {
			t.Fatal(err)
		}
	}
}

// farHangup makes the far end hang up with cause 16 (the dialplan does it
// on Asterisk for a call made with farEnd "hangup").
func (h *harness) farHangup(t *testing.T, ch sb.ChannelID) {
	if h.sim != nil {
		if err := h.sim.Hangup(string(ch), 16); err != nil {
			t.Fatal(err)
		}
	}
}

// answered is an inbound call, answered, with its Up state seen.
func (h *harness) answered(t *testing.T, farEnd string) sb.ChannelID {
	t.Helper()
	from := h.rec.mark()
	ch, _ := h.inbound(t, farEnd)
	if err := h.a.Answer(h.ctx, ch); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "Up for "+string(ch), func(e sb.Event) bool {
		sc, ok := e.(sb.ChannelStateChanged)
		return ok && sc.Channel.ID == ch && sc.Channel.State == sb.ChannelUp
	})
	return ch
}
