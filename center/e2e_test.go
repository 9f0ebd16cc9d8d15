package center_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

// e2e runs sim + the ARI adapter + the center in-process.
type e2e struct {
	sim  *sim.Server
	pbx  *ari.Adapter
	c    *center.Center
	cdr  *rows
	cfg  center.Config
	stop func()
}

type simClock struct{ c *sim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) AfterFunc(d time.Duration, f func()) func() bool {
	return s.c.AfterFunc(d, f).Stop
}

// rows is an in-memory call log that tests wait on.
type rows struct {
	mu  sync.Mutex
	got map[sb.CallID]sb.CDR
	ch  chan sb.CDR
	bad []string // rows written incomplete (rowProblems)
	db  *storage.DB
}

// OpenCDR forwards the write-ahead rows to the database, if any.
func (r *rows) OpenCDR(ctx context.Context, c *sb.CDR) error {
	if r.db == nil {
		return nil
	}
	return r.db.OpenCDR(ctx, c)
}

// OpenCDRs lists the database's open rows, if any.
func (r *rows) OpenCDRs(ctx context.Context, node string, before time.Time) ([]sb.CDR, error) {
	if r.db == nil {
		return nil, nil
	}
	return r.db.OpenCDRs(ctx, node, before)
}

// rowProblems says what a call-log row lacks: every row must tell who the
// call was, when it entered and ended, how it ended, who hung up and with
// which cause; an answered call also its agent and when it was bridged.
func rowProblems(c *sb.CDR) []string {
	var out []string
	add := func(bad bool, what string) {
		if bad {
			out = append(out, what)
		}
	}
	add(c.CallID == "" || c.Node == "", "no call id or node")
	add(c.Entered.IsZero(), "no entered time")
	add(c.Ended.Before(c.Entered), "ended before it entered")
	add(c.Outcome == "", "no outcome")
	add(c.HangupBy == "", "no hangup_by")
	add(c.HangupCause == 0 || c.HangupCause == 32, fmt.Sprintf("hangup_cause %d", c.HangupCause))
	if c.Outcome == sb.OutcomeCompleted {
		add(c.Agent == "", "completed without an agent")
		add(!c.Bridged.Valid || !c.Answered.Valid, "completed without answered and bridged times")
	}
	add(c.Bridged.Valid && (c.Bridged.Time.Before(c.Entered) || c.Bridged.Time.After(c.Ended)), "bridged outside the call")
	return out
}

func (r *rows) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *rows) InsertCDR(ctx context.Context, c *sb.CDR) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.got[c.CallID]; dup {
		return sb.Errorf(sb.ECONFLICT, "duplicate %s", c.CallID)
	}
	if r.db != nil {
		if err := r.db.InsertCDR(ctx, c); err != nil {
			return err
		}
	}
	if p := rowProblems(c); len(p) > 0 && c.Outcome != sb.OutcomeEndedWhileDown {
		r.bad = append(r.bad, fmt.Sprintf("%s: %s (%+v)", c.CallID, strings.Join(p, ", "), *c))
	}
	r.got[c.CallID] = *c
	r.ch <- *c
	return nil
}

func (r *rows) wait(t *testing.T, id string) sb.CDR {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		row, ok := r.got[sb.CallID(id)]
		r.mu.Unlock()
		if ok {
			return row
		}
		select {
		case <-r.ch:
		case <-timeout:
			t.Fatalf("no call-log row for %s", id)
		}
	}
}

func startE2E(t *testing.T, speed float64, cfg center.Config, phones map[string]sim.Party) *e2e {
	t.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: speed, Seed: 1})
	for res, p := range phones {
		s.AddEndpoint("PJSIP", res, p)
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
	}
	serve(t, s)
	return attach(t, s, cfg)
}

// dialFunc opens a connection (ari.Config.DialContext).
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// link is where an adapter reaches ARI: a URL and the dial function that
// connects to it (nil: TCP).
type link struct {
	url  string
	dial dialFunc
}

// pipes holds the in-memory pipe of each simulator serve started, for the
// adapters attached to it.
var pipes sync.Map // *sim.Server → *sim.Pipe

// serve starts s on an in-memory pipe, closed (with s) when the test ends.
// Every test reaches its simulator that way, so a test run inside
// synctest.Test runs entirely in the bubble's virtual time (outside a
// bubble the pipe serves as a port would).
func serve(t testing.TB, s *sim.Server) {
	t.Helper()
	p, err := s.StartPipe()
	if err != nil {
		t.Fatal(err)
	}
	pipes.Store(s, p)
	t.Cleanup(func() { s.Close(); pipes.Delete(s) })
}

// simLink is s's own ARI: its pipe when serve started it, its TCP port
// otherwise.
func simLink(s *sim.Server) link {
	l := link{url: s.URL()}
	if p, ok := pipes.Load(s); ok {
		l.dial = p.(*sim.Pipe).DialContext
	}
	return l
}

// servePipe serves h on a new in-memory pipe until the test ends and
// returns its root URL (no trailing slash) and the dial function that
// reaches it: a front of the simulator, a CRM, inside the bubble too.
func servePipe(t testing.TB, h http.Handler) (string, dialFunc) {
	t.Helper()
	p := sim.NewPipe()
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(p) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return "http://" + p.Addr().String(), p.DialContext
}

// attach starts an adapter and a center on a running simulator.
func attach(t *testing.T, s *sim.Server, cfg center.Config) *e2e {
	t.Helper()
	return attachWith(t, s, cfg, nil)
}

// attachWith is attach with a hook to change the center's options (the
// adapter is there to build what needs it) before the center is built.
// Without a router from the hook the center runs on the basic engine.
func attachWith(t *testing.T, s *sim.Server, cfg center.Config, setup func(*center.Options, *ari.Adapter)) *e2e {
	t.Helper()
	return attachVia(t, s, simLink(s), nil, cfg, setup)
}

// attachVia is attachWith reaching the simulator's ARI at l (simLink(s) or
// a front of it) and writing the logs to logTo as well (nil: the test's
// log only).
func attachVia(t *testing.T, s *sim.Server, l link, logTo io.Writer, cfg center.Config, setup func(*center.Options, *ari.Adapter)) *e2e {
	t.Helper()
	return attachDB(t, s, l, logTo, cfg, setup, nil)
}

// attachDB is attachVia whose call log also goes to db (nil: none), which
// keeps the rows of live calls (write-ahead) as serve's does.
func attachDB(t *testing.T, s *sim.Server, l link, logTo io.Writer, cfg center.Config, setup func(*center.Options, *ari.Adapter), db *storage.DB) *e2e {
	t.Helper()
	w := testWriter(t)
	if logTo != nil {
		w = io.MultiWriter(w, logTo)
	}
	log := slog.New(slog.NewTextHandler(w, nil))
	pbx, err := ari.New(ari.Config{URL: l.url, Username: "sb", Password: "pw", Application: "switchboard", Logger: log,
		DialContext: l.dial})
	if err != nil {
		t.Fatal(err)
	}
	r := &rows{got: map[sb.CallID]sb.CDR{}, ch: make(chan sb.CDR, 1000), db: db}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.bad {
			t.Errorf("incomplete call-log row %s", b)
		}
	})
	o := center.Options{Config: cfg, PBX: pbx, CallLog: r, Clock: simClock{s.Clock()}, Log: log}
	if setup != nil {
		setup(&o, pbx)
	}
	if o.Router == nil {
		o.Router = center.BasicRouter(t, o.Config, basicWait, basicRetry)
	}
	c := center.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	e := &e2e{sim: s, pbx: pbx, c: c, cdr: r, cfg: cfg}
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
	t.Cleanup(e.stop)
	waitUntil(t, "PBX link up", func() bool { return pbx.Ready() && slices.Contains(s.Apps(), "switchboard") })
	return e
}

// waitUntil waits (20 s at most) for cond; an optional state function says,
// when it times out, what there was instead. Inside a synctest bubble the
// 20 s and the 2 ms between looks are virtual: the look happens at the same
// simulated instant however loaded the machine is.
func waitUntil(t testing.TB, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, f := range state {
				t.Fatalf("timed out waiting for %s: %s", what, f())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *e2e) call(t *testing.T, from string, p sim.Party) string {
	t.Helper()
	id, err := e.sim.Call(sim.Inbound{App: "switchboard", From: from, To: "8000", Party: p})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitCard waits until the call's card is on its caller channel (it is
// written just after the bridge; a restart before that adopts the call
// without it).
func (e *e2e) waitCard(t *testing.T, id string) {
	t.Helper()
	waitUntil(t, "call card of "+id, func() bool {
		v, err := e.pbx.GetVariable(context.Background(), sb.ChannelID(id), "SB_CARD")
		return err == nil && v != ""
	})
}

// noChannelsLeft waits until the PBX has no channel and no live call is left.
func (e *e2e) noChannelsLeft(t *testing.T) {
	t.Helper()
	waitUntil(t, "no channel or bridge left", func() bool {
		return len(e.sim.Channels()) == 0 && len(e.sim.Bridges()) == 0 && e.c.ActiveCalls() == 0 && len(e.c.LiveCalls()) == 0
	}, func() string {
		return fmt.Sprintf("channels %v, bridges %v, active calls %d, live calls %v", e.sim.Channels(), e.sim.Bridges(), e.c.ActiveCalls(), e.c.LiveCalls())
	})
}

func baseConfig() center.Config {
	return center.Config{
		Greeting: []string{"sound:hello-world"}, NoAgentPrompt: []string{"sound:vm-goodbye"},
		AgentRingTimeout: 20 * time.Second,
	}
}

// basicWait and basicRetry are the basic engine's settings in these
// tests (center.wait_for_agent, center.retry_interval): how long a caller
// waits, how long a phone that failed an offer is skipped.
const basicWait, basicRetry = 60 * time.Second, 2 * time.Second

func TestE2ECallerHangsUpAfterTalking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 50, baseConfig(), map[string]sim.Party{"1001": {Rings: 1}})
		id := e.call(t, "+15551230001", sim.Party{Talk: 30 * time.Second})
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.HangupBy != "caller" || row.Agent != "1001" {
			t.Fatalf("cdr = %+v", row)
		}
		if talk := row.Talk(); talk < 25*time.Second || talk > 40*time.Second {
			t.Errorf("talk = %v, want about 30s (simulated)", talk)
		}
		if row.Caller != "+15551230001" || row.Called != "8000" || !row.Answered.Valid || !row.Bridged.Valid {
			t.Errorf("cdr = %+v", row)
		}
		e.noChannelsLeft(t) // the agent leg was hung up too
	})
}

func TestE2EAgentHangsUpFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 50, baseConfig(), map[string]sim.Party{"1001": {Rings: 1, Talk: 10 * time.Second}})
		id := e.call(t, "+15551230002", sim.Party{})
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.HangupBy != "agent" {
			t.Fatalf("cdr = %+v", row)
		}
		e.noChannelsLeft(t) // the caller was hung up when the agent left
	})
}

func TestE2ECallerHangsUpWhileAgentRings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 20, baseConfig(), map[string]sim.Party{"1001": {NoAnswer: true}})
		id := e.call(t, "+15551230003", sim.Party{})
		waitUntil(t, "agent phone ringing", func() bool {
			for _, k := range e.c.LiveCalls() {
				if k.State == sb.CallRinging {
					return true
				}
			}
			return false
		})
		if err := e.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeAbandoned || row.HangupBy != "caller" || row.Bridged.Valid {
			t.Fatalf("cdr = %+v", row)
		}
		e.noChannelsLeft(t) // the ringing agent leg is gone too
	})
}

func TestE2ENoFreeAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 50, Seed: 1})
		serve(t, s)
		e := attachWith(t, s, baseConfig(), func(o *center.Options, _ *ari.Adapter) { // no agents configured
			o.Router = center.BasicRouter(t, o.Config, 20*time.Second, basicRetry)
		})
		id := e.call(t, "+15551230004", sim.Party{})
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeNoAgent || row.HangupBy != "system" {
			t.Fatalf("cdr = %+v", row)
		}
		if w := row.Wait(); w < 20*time.Second {
			t.Errorf("caller waited %v, want at least the 20s limit", w)
		}
		e.noChannelsLeft(t)
	})
}

func TestE2EBusyAgentThenNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 50, baseConfig(), map[string]sim.Party{
			"1001": {Busy: true}, "1002": {Rings: 1, Talk: 5 * time.Second},
		})
		id := e.call(t, "+15551230005", sim.Party{})
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1002" {
			t.Fatalf("cdr = %+v", row)
		}
		e.noChannelsLeft(t)
	})
}

func TestE2ECallerAbandonsWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 50, baseConfig(), nil)
		id := e.call(t, "+15551230006", sim.Party{Patience: 10 * time.Second})
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeAbandoned || row.HangupBy != "caller" {
			t.Fatalf("cdr = %+v", row)
		}
		e.noChannelsLeft(t)
	})
}

func TestE2EReconnectKeepsCallsAndEndsThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 20, baseConfig(), map[string]sim.Party{"1001": {Rings: 1}})
		id := e.call(t, "+15551230007", sim.Party{})
		waitUntil(t, "bridged", func() bool {
			for _, k := range e.c.LiveCalls() {
				if k.State == sb.CallBridged {
					return true
				}
			}
			return false
		})
		before := e.pbx.Stats().Reconnects
		e.sim.DropWebSockets()
		waitUntil(t, "reconnected", func() bool { return e.pbx.Stats().Reconnects > before && e.pbx.Ready() })
		if calls := e.c.LiveCalls(); len(calls) != 1 || calls[0].State != sb.CallBridged {
			t.Fatalf("after reconnect live calls = %+v", calls)
		}
		if err := e.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted {
			t.Fatalf("cdr = %+v", row)
		}
		e.noChannelsLeft(t)
	})
}

// TestE2ERestartAdoptsCalls: a new center (Switchboard restarted) adopts a
// call that is talking and ends it cleanly when the caller hangs up.
func TestE2ERestartAdoptsCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 20, baseConfig(), map[string]sim.Party{"1001": {Rings: 1}})
		id := e.call(t, "+15551230008", sim.Party{})
		waitUntil(t, "bridged", func() bool {
			calls := e.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallBridged
		})
		// Switchboard stops; the call stays up in the PBX's application.
		e.stop()
		if n := len(e.sim.Channels()); n != 2 {
			t.Fatalf("channels after stop = %d, want caller and agent still up", n)
		}
		// A new controller starts and adopts the talking call.
		e2 := attach(t, e.sim, e.cfg)
		waitUntil(t, "call adopted", func() bool {
			calls := e2.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallBridged && calls[0].Agent == "1001"
		})
		if err := e.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		row := e2.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" {
			t.Fatalf("cdr = %+v", row)
		}
		e2.noChannelsLeft(t)
	})
}

type tw struct{ t *testing.T }

func (w tw) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
func testWriter(t *testing.T) io.Writer  { return tw{t} }

// TestE2ERestartAdoptsWaitingCaller: a caller still waiting for an agent
// when Switchboard stops is adopted by the next start and served.
func TestE2ERestartAdoptsWaitingCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := baseConfig()
		e := startE2E(t, 20, cfg, nil) // no agent yet: the caller waits
		id := e.call(t, "+15551230009", sim.Party{})
		waitUntil(t, "waiting", func() bool {
			calls := e.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallPrompting
		})
		e.stop()
		e.sim.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1, Talk: 5 * time.Second})
		cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
		e2 := attach(t, e.sim, cfg)
		row := e2.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" {
			t.Fatalf("adopted caller: %+v", row)
		}
		e2.noChannelsLeft(t)
	})
}

// TestE2ERestartDeletesBridgeLeftBehind: a call bridge left empty in the
// PBX (its call ended while Switchboard was down) is deleted by the next
// start's reconcile.
func TestE2ERestartDeletesBridgeLeftBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 20, baseConfig(), map[string]sim.Party{"1001": {Rings: 1}})
		e.call(t, "+15551230011", sim.Party{})
		waitUntil(t, "bridged", func() bool {
			calls := e.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallBridged
		})
		e.stop()
		// Both legs hang up while no controller runs: the bridge stays.
		for _, ch := range e.sim.Channels() {
			if err := e.sim.Hangup(ch.ID, 16); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(e.sim.Bridges()); n != 1 {
			t.Fatalf("%d bridges after the hang-ups, want the call's one left", n)
		}
		e2 := attach(t, e.sim, e.cfg)
		e2.noChannelsLeft(t)
	})
}

// TestE2ELocalTrunkHangupCause: a caller who came through a Local trunk
// leg hangs up while waiting: the first ChannelHangupRequest has no cause
// (as on Asterisk 22), and the call-log row has the cause that came after.
func TestE2ELocalTrunkHangupCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startE2E(t, 20, baseConfig(), nil) // no agent: the caller waits
		id, err := e.sim.Call(sim.Inbound{App: "switchboard", From: "+15551230012", To: "8000", Trunk: "Local/trunk@from-pstn"})
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "waiting", func() bool {
			calls := e.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallPrompting
		})
		if err := e.sim.Hangup(id, 17); err != nil {
			t.Fatal(err)
		}
		row := e.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeAbandoned || row.HangupBy != "caller" || row.HangupCause != 17 {
			t.Fatalf("cdr = %+v, want abandoned by the caller with cause 17", row)
		}
		e.noChannelsLeft(t)
	})
}

// TestE2ECallsEndedWhileDownAreLogged: the call log is written ahead: a
// call talking and one waiting when Switchboard stops both end while it is
// down; the next start closes their rows as ended_while_down with what
// they had reached (the talking call's agent and bridged time). A call of
// the new run is logged once, with its real outcome.
func TestE2ECallsEndedWhileDownAreLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "sb.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
		cfg := baseConfig()
		cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
		serve(t, s)
		e := attachDB(t, s, simLink(s), nil, cfg, nil, db)
		talking := e.call(t, "+15551230020", sim.Party{})
		waitUntil(t, "bridged", func() bool {
			calls := e.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallBridged
		})
		waiting := e.call(t, "+15551230021", sim.Party{})
		ctx := context.Background()
		far := time.Now().Add(24 * time.Hour)
		waitUntil(t, "both rows open, the talking one with its agent", func() bool {
			open, err := db.OpenCDRs(ctx, "sim-asterisk", far)
			if err != nil || len(open) != 2 {
				return false
			}
			for _, r := range open {
				if string(r.CallID) == talking && (r.Agent != "1001" || !r.Bridged.Valid) {
					return false
				}
			}
			return true
		})
		e.stop()
		for _, ch := range s.Channels() {
			if err := s.Hangup(ch.ID, 16); err != nil {
				t.Fatal(err)
			}
		}
		// No downtime: in virtual time the next run starts at the very
		// instant the waiting call entered, and its row is closed all the
		// same (the start instant counts as before the start).
		e2 := attachDB(t, s, simLink(s), nil, cfg, nil, db)
		for _, id := range []string{talking, waiting} {
			row := e2.cdr.wait(t, id)
			if row.Outcome != sb.OutcomeEndedWhileDown {
				t.Errorf("%s: outcome %s, want ended_while_down", id, row.Outcome)
			}
			if id == talking && (row.Agent != "1001" || !row.Bridged.Valid) {
				t.Errorf("talking call's row lost what it reached: %+v", row)
			}
		}
		if open, _ := db.OpenCDRs(ctx, "sim-asterisk", far); len(open) != 0 {
			t.Errorf("rows still open: %+v", open)
		}
		fresh := e2.call(t, "+15551230022", sim.Party{Talk: 2 * time.Second})
		if row := e2.cdr.wait(t, fresh); row.Outcome != sb.OutcomeCompleted {
			t.Errorf("call of the new run: %+v", row)
		}
		rows, total, err := db.ListCDR(ctx, sb.CDRFilter{})
		if err != nil || total != 3 {
			t.Fatalf("call log has %d rows (%v), want 3: %+v", total, err, rows)
		}
		e2.noChannelsLeft(t)
	})
}
