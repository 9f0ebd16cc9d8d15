package ari

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// fakeClock is a clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced when a timer is added
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

var _ clock = (*fakeClock)(nil)

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), changed: make(chan struct{})}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{at: f.now.Add(d), c: make(chan time.Time, 1)}
	f.timers = append(f.timers, t)
	close(f.changed)
	f.changed = make(chan struct{})
	return t.c, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		i := slices.Index(f.timers, t)
		if i < 0 {
			return false
		}
		f.timers = slices.Delete(f.timers, i, i+1)
		return true
	}
}

// advance moves the clock by d and fires the timers that fall due.
func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.timers = slices.DeleteFunc(f.timers, func(t *fakeTimer) bool {
		if t.at.After(f.now) {
			return false
		}
		t.c <- f.now
		return true
	})
}

// waitTimer waits until a timer set for at is pending: the watchdog is
// waiting for that instant.
func (f *fakeClock) waitTimer(t testing.TB, at time.Time) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		f.mu.Lock()
		found := slices.ContainsFunc(f.timers, func(x *fakeTimer) bool { return x.at.Equal(at) })
		changed := f.changed
		f.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no timer for %s within 20s", at.Format(time.TimeOnly))
		}
	}
}

// watched is an adapter on a fake clock, started, with its events
// recorded.
type watched struct {
	*started
	fc  *fakeClock
	rec *recorder[sb.Event]
}

func startWatched(t *testing.T, cfg Config) *watched {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeClock()
	a.clk = fc
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{Adapter: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		s.err = a.Run(ctx)
		close(s.done)
	}()
	rec, recDone := record(a.Events())
	w := &watched{started: s, fc: fc, rec: rec}
	t.Cleanup(func() {
		cancel()
		<-s.done
		<-recDone
	})
	w.rec.wait(t, 0, "LinkUp", is[sb.LinkUp](""))
	return w
}

// loseCycle drives the watchdog through the two checks that declare a
// playback armed at `at` lost: the interval, then the grace.
func (w *watched) loseCycle(t *testing.T, at time.Time) {
	t.Helper()
	iv := w.cfg.PlaybackCheckInterval
	w.fc.waitTimer(t, at.Add(iv))
	w.fc.advance(at.Add(iv).Sub(w.fc.Now()))
	w.fc.waitTimer(t, at.Add(iv+iv/5))
	w.fc.advance(iv / 5)
}

func isFinished(id sb.PlaybackID) func(sb.Event) bool {
	return func(e sb.Event) bool {
		pf, ok := e.(sb.PlaybackFinished)
		return ok && pf.Playback == id
	}
}

func countFinished(evs []sb.Event, id sb.PlaybackID) int {
	n := 0
	for _, e := range evs {
		if isFinished(id)(e) {
			n++
		}
	}
	return n
}

func finishedFrame(id, target, state string) []byte {
	return fmt.Appendf(nil, `{"type":"PlaybackFinished","timestamp":"2026-12-02T10:00:01.000+0000","playback":{"id":%q,"media_uri":"sound:x","target_uri":%q,"language":"en","state":%q},"asterisk_id":"fa:ke:00:00:00:01","application":"switchboard"}`, id, target, state)
}

// fakePlaybacks installs POST /channels/c1/play/{id} (201) and GET
// /playbacks/{id} (404, counted) for ids.
func fakePlaybacks(f *fakeARI, ids ...string) map[string]*atomic.Int32 {
	gets := map[string]*atomic.Int32{}
	for _, id := range ids {
		n := &atomic.Int32{}
		gets[id] = n
		f.handle("POST /channels/c1/play/"+id, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 201, map[string]string{"id": id, "media_uri": r.URL.Query().Get("media"), "target_uri": "channel:c1", "state": "queued"})
		})
		f.handle("GET /playbacks/"+id, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			writeJSON(w, 404, map[string]string{"message": "Playback not found"})
		})
	}
	return gets
}

func TestLostPlaybackIsReportedOnceAndTheLateOneDropped(t *testing.T) {
	f := newFakeARI(t)
	gets := fakePlaybacks(f, "p1")
	w := startWatched(t, f.config(t))
	c := f.waitConn()
	ctx := context.Background()

	at := w.fc.Now()
	if err := w.Play(ctx, "c1", "p1", "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.PlaybacksWatched != 1 {
		t.Fatalf("watched %d, want 1", st.PlaybacksWatched)
	}
	iv := w.cfg.PlaybackCheckInterval
	w.fc.waitTimer(t, at.Add(iv)) // nothing is checked before the interval
	if n := gets["p1"].Load(); n != 0 {
		t.Errorf("%d checks before the interval", n)
	}
	w.loseCycle(t, at)
	_, e := w.rec.wait(t, 0, "PlaybackFinished p1", isFinished("p1"))
	pf := e.(sb.PlaybackFinished)
	want := sb.PlaybackFinished{EventHeader: sb.EventHeader{Type: "PlaybackFinished", Node: f.entity, Time: at.Add(iv + iv/5)},
		Playback: "p1", Target: "channel:c1", State: "failed"}
	if pf != want {
		t.Errorf("got  %+v\nwant %+v", pf, want)
	}
	if n := gets["p1"].Load(); n != 2 {
		t.Errorf("%d checks, want 2 (one 404 is not enough)", n)
	}
	if st := w.Stats(); st.PlaybacksLost != 1 || st.PlaybacksWatched != 0 {
		t.Errorf("stats %+v", st)
	}

	// Asterisk's own PlaybackFinished, late: dropped, the events after it
	// still come.
	from := w.rec.mark()
	send(t, c, finishedFrame("p1", "channel:c1", "done"), recorded(t)[3])
	w.rec.wait(t, from, "DTMF after the late PlaybackFinished", is[sb.DTMFReceived](""))
	if n := countFinished(w.rec.between(0, math.MaxInt), "p1"); n != 1 {
		t.Errorf("%d PlaybackFinished for p1, want 1", n)
	}
	if st := w.Stats(); st.LatePlaybacksDropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRealPlaybackFinishedEndsTheWatch(t *testing.T) {
	f := newFakeARI(t)
	gets := fakePlaybacks(f, "p1", "p2")
	w := startWatched(t, f.config(t))
	c := f.waitConn()
	ctx := context.Background()
	iv := w.cfg.PlaybackCheckInterval

	// The first check overtakes the PlaybackFinished (404), which comes
	// before the confirming check: it is passed on, nothing is made up.
	at := w.fc.Now()
	if err := w.Play(ctx, "c1", "p1", "sound:x"); err != nil {
		t.Fatal(err)
	}
	w.fc.waitTimer(t, at.Add(iv))
	w.fc.advance(iv)
	w.fc.waitTimer(t, at.Add(iv+iv/5))
	send(t, c, finishedFrame("p1", "channel:c1", "done"))
	_, e := w.rec.wait(t, 0, "PlaybackFinished p1", isFinished("p1"))
	if pf := e.(sb.PlaybackFinished); pf.State != "done" {
		t.Errorf("got %+v, want Asterisk's (done)", pf)
	}
	if st := w.Stats(); st.PlaybacksWatched != 0 {
		t.Errorf("still watched: %+v", st)
	}
	w.fc.advance(iv / 5)

	// A later lost playback is reported; p1 was never checked again.
	at = w.fc.Now()
	if err := w.Play(ctx, "c1", "p2", "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	w.loseCycle(t, at)
	w.rec.wait(t, 0, "PlaybackFinished p2", isFinished("p2"))
	if n := countFinished(w.rec.between(0, math.MaxInt), "p1"); n != 1 || gets["p1"].Load() != 1 {
		t.Errorf("p1: %d PlaybackFinished, %d checks; want 1 and 1", n, gets["p1"].Load())
	}
	if st := w.Stats(); st.PlaybacksLost != 1 || st.LatePlaybacksDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestPlaybackFinishedBeforePlayReturns(t *testing.T) {
	// Asterisk's 201 and its events race: PlaybackFinished can be read
	// before Play returns.
	f := newFakeARI(t)
	var w *watched
	var conn *websocket.Conn
	f.handle("POST /channels/c1/play/p1", func(rw http.ResponseWriter, r *http.Request) {
		send(t, conn, finishedFrame("p1", "channel:c1", "done"))
		// Answer once the event is through the adapter.
		deadline := time.Now().Add(20 * time.Second)
		for countFinished(w.rec.between(0, math.MaxInt), "p1") == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		writeJSON(rw, 201, map[string]string{"id": "p1", "media_uri": "sound:x", "target_uri": "channel:c1", "state": "queued"})
	})
	w = startWatched(t, f.config(t))
	conn = f.waitConn()
	if err := w.Play(context.Background(), "c1", "p1", "sound:x"); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.PlaybacksWatched != 0 {
		t.Errorf("a finished playback is watched: %+v", st)
	}
	if n := countFinished(w.rec.between(0, math.MaxInt), "p1"); n != 1 {
		t.Errorf("%d PlaybackFinished, want 1", n)
	}
}

func TestRefusedPlaybackIsNotWatched(t *testing.T) {
	f := newFakeARI(t)
	gets := fakePlaybacks(f, "p1")
	f.handle("POST /channels/gone/play/p2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]string{"message": "Channel not found"})
	})
	w := startWatched(t, f.config(t))
	f.waitConn()
	ctx := context.Background()
	if err := w.Play(ctx, "gone", "p2", "sound:x"); err == nil {
		t.Fatal("play on a missing channel succeeded")
	}
	if err := w.PlayBridge(ctx, "nobridge", "p3", "sound:x"); err == nil {
		t.Fatal("play on a missing bridge succeeded")
	}
	if st := w.Stats(); st.PlaybacksWatched != 0 {
		t.Fatalf("refused playbacks watched: %+v", st)
	}

	// A second play with an id still playing is refused (409 on
	// Asterisk); the first one stays watched and is reported once.
	at := w.fc.Now()
	if err := w.Play(ctx, "c1", "p1", "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	f.handle("POST /channels/c1/play/p1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 409, map[string]string{"message": "Playback with the same id already exists"})
	})
	if err := w.Play(ctx, "c1", "p1", "sound:x"); err == nil {
		t.Fatal("second play with the same id succeeded")
	}
	if st := w.Stats(); st.PlaybacksWatched != 1 {
		t.Fatalf("watched %d, want 1", st.PlaybacksWatched)
	}
	w.loseCycle(t, at)
	w.rec.wait(t, 0, "PlaybackFinished p1", isFinished("p1"))
	if n := gets["p1"].Load(); n != 2 {
		t.Errorf("%d checks, want 2", n)
	}
}

func TestReconnectRechecksPlaybacksAtOnce(t *testing.T) {
	f := newFakeARI(t)
	gets := fakePlaybacks(f, "p1")
	w := startWatched(t, f.config(t))
	f.waitConn()
	if err := w.Play(context.Background(), "c1", "p1", "sound:x"); err != nil {
		t.Fatal(err)
	}
	f.dropAll()
	f.waitConn()
	i, _ := w.rec.wait(t, 0, "LinkUp{Reconnect:true}", func(e sb.Event) bool {
		lu, ok := e.(sb.LinkUp)
		return ok && lu.Reconnect
	})
	// Checked with no time passing on the watchdog's clock; then confirmed
	// after the grace.
	waitFor(t, func() bool { return gets["p1"].Load() == 1 })
	at := w.fc.Now()
	iv := w.cfg.PlaybackCheckInterval
	w.fc.waitTimer(t, at.Add(iv/5))
	w.fc.advance(iv / 5)
	j, e := w.rec.wait(t, 0, "PlaybackFinished p1", isFinished("p1"))
	if pf := e.(sb.PlaybackFinished); j < i || pf.State != "failed" || pf.Target != "channel:c1" {
		t.Errorf("PlaybackFinished %+v at %d, LinkUp at %d", pf, j, i)
	}
}

func TestPlaybackWatchdogEndsWithRun(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFakeARI(t)
	fakePlaybacks(f, "p1")
	entered := make(chan struct{}, 1)
	f.handle("GET /playbacks/p1", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done() // a check still in flight at shutdown
	})
	cfg := f.config(t)
	cfg.RequestTimeout = time.Minute
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeClock()
	a.clk = fc
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	f.waitConn()
	next(t, a.Events())
	at := fc.Now()
	if err := a.Play(context.Background(), "c1", "p1", "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	fc.waitTimer(t, at.Add(a.cfg.PlaybackCheckInterval))
	fc.advance(a.cfg.PlaybackCheckInterval)
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no playback check")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if st := a.Stats(); st.PlaybacksWatched != 0 {
		t.Errorf("watches left after Run: %+v", st)
	}
	if err := a.Play(context.Background(), "c1", "p1", "sound:x"); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.PlaybacksWatched != 0 {
		t.Errorf("a play after Run is watched: %+v", st)
	}
	f.dropAll()
	f.srv.CloseClientConnections()
	a.httpc.CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before+4 })
}

// simWatched is an adapter on the simulator with its watchdog on a fake
// clock; checksOK counts the watchdog's successful GET /playbacks.
type simWatched struct {
	*watched
	sim      *sim.Server
	checksOK *atomic.Int32
}

func newSimWatched(t *testing.T) *simWatched {
	s := sim.New(sim.Options{User: "switchboard", Password: "watch-Secret-1", Speed: 10, Seed: 1, EntityID: "sim-watch"})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log, _ := testLogger(t)
	checksOK := &atomic.Int32{}
	cfg := Config{URL: s.URL(), WebsocketURL: s.WebsocketURL(), Username: "switchboard", Password: "watch-Secret-1",
		Application: "switchboard", Logger: log, RequestTimeout: 10 * time.Second,
		Observe: func(op string, d time.Duration, err error) {
			if op == "get_playback" && err == nil {
				checksOK.Add(1)
			}
		}}
	return &simWatched{watched: startWatched(t, cfg), sim: s, checksOK: checksOK}
}

// answered brings an inbound call into the application and answers it.
func (w *simWatched) answered(t *testing.T) sb.ChannelID {
	t.Helper()
	tok := token("in")
	from := w.rec.mark()
	if _, err := w.sim.Call(sim.Inbound{App: "switchboard", Args: []string{tok}, From: "+15550001", To: "+15551230000"}); err != nil {
		t.Fatal(err)
	}
	_, e := w.rec.wait(t, from, "ChannelEntered "+tok, func(e sb.Event) bool {
		ce, ok := e.(sb.ChannelEntered)
		return ok && len(ce.Args) == 1 && ce.Args[0] == tok
	})
	ch := e.(sb.ChannelEntered).Channel.ID
	if err := w.Answer(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	w.rec.wait(t, from, "Up", func(e sb.Event) bool {
		sc, ok := e.(sb.ChannelStateChanged)
		return ok && sc.Channel.ID == ch && sc.Channel.State == sb.ChannelUp
	})
	return ch
}

// lose waits until the simulator has dropped playback pb, then drives the
// watchdog through the checks that report it lost.
func (w *simWatched) lose(t *testing.T, pb sb.PlaybackID, at time.Time) {
	t.Helper()
	waitFor(t, func() bool {
		err := w.rest(context.Background(), "test_get_playback", rGetPlayback, rGetPlayback.path(string(pb)), nil, nil, nil)
		return sb.ErrorCode(err) == sb.ENOTFOUND
	})
	w.loseCycle(t, at)
}

func TestSimUnplayableMediaFinishesFailed(t *testing.T) {
	w := newSimWatched(t)
	ctx := context.Background()
	ch := w.answered(t)
	from := w.rec.mark()
	at := w.fc.Now()
	pb := sb.PlaybackID(token("pb-"))
	if err := w.Play(ctx, ch, pb, "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	i, _ := w.rec.wait(t, from, "PlaybackStarted", func(e sb.Event) bool {
		ps, ok := e.(sb.PlaybackStarted)
		return ok && ps.Playback == pb
	})
	w.lose(t, pb, at)
	j, e := w.rec.wait(t, from, "PlaybackFinished", isFinished(pb))
	if pf := e.(sb.PlaybackFinished); j < i || pf.State != "failed" || pf.Target != "channel:"+string(ch) {
		t.Errorf("got %+v at %d after PlaybackStarted at %d", pf, j, i)
	}

	// The same on a bridge, after a good prompt.
	br := sb.BridgeID(token("br-"))
	if err := w.CreateBridge(ctx, br, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.AddToBridge(ctx, br, ch); err != nil {
		t.Fatal(err)
	}
	at = w.fc.Now()
	pb = sb.PlaybackID(token("pb-"))
	if err := w.PlayBridge(ctx, br, pb, "sound:hello-world", "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	w.lose(t, pb, at)
	_, e = w.rec.wait(t, from, "PlaybackFinished on the bridge", isFinished(pb))
	if pf := e.(sb.PlaybackFinished); pf.State != "failed" || pf.Target != "bridge:"+string(br) {
		t.Errorf("got %+v", pf)
	}
	if st := w.Stats(); st.PlaybacksLost != 2 || st.PlaybacksWatched != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSimPlayableMediaFinishesOnce(t *testing.T) {
	w := newSimWatched(t)
	ctx := context.Background()
	iv := w.cfg.PlaybackCheckInterval
	ch := w.answered(t)

	// A sound: Asterisk's PlaybackFinished, and nothing made up.
	from := w.rec.mark()
	pb := sb.PlaybackID(token("pb-"))
	if err := w.Play(ctx, ch, pb, "sound:hello-world"); err != nil {
		t.Fatal(err)
	}
	_, e := w.rec.wait(t, from, "PlaybackFinished", isFinished(pb))
	if pf := e.(sb.PlaybackFinished); pf.State != "done" {
		t.Errorf("got %+v, want done", pf)
	}
	if st := w.Stats(); st.PlaybacksWatched != 0 || st.PlaybacksLost != 0 {
		t.Errorf("stats %+v", st)
	}

	// A tone plays until stopped: the check finds it playing, and the
	// watch goes on until Asterisk's PlaybackFinished.
	at := w.fc.Now()
	tone := sb.PlaybackID(token("pb-"))
	if err := w.Play(ctx, ch, tone, "tone:ring"); err != nil {
		t.Fatal(err)
	}
	w.fc.waitTimer(t, at.Add(iv))
	w.fc.advance(iv)
	w.fc.waitTimer(t, at.Add(2*iv)) // found: checked again an interval later
	if n := w.checksOK.Load(); n != 1 {
		t.Errorf("%d successful checks, want 1", n)
	}
	if err := w.StopPlayback(ctx, tone); err != nil {
		t.Fatal(err)
	}
	w.rec.wait(t, from, "PlaybackFinished of the tone", isFinished(tone))
	w.fc.advance(iv)

	// A later playback is checked on its own schedule; the tone's watch
	// is gone.
	at = w.fc.Now()
	last := sb.PlaybackID(token("pb-"))
	if err := w.Play(ctx, ch, last, "bogus:thing"); err != nil {
		t.Fatal(err)
	}
	w.lose(t, last, at)
	w.rec.wait(t, from, "PlaybackFinished of the last", isFinished(last))
	evs := w.rec.between(from, math.MaxInt)
	if countFinished(evs, pb) != 1 || countFinished(evs, tone) != 1 {
		var got []string
		for _, e := range evs {
			if pf, ok := e.(sb.PlaybackFinished); ok {
				got = append(got, fmt.Sprintf("%s/%s", pf.Playback, pf.State))
			}
		}
		t.Errorf("PlaybackFinished events: %s", strings.Join(got, ", "))
	}
	if st := w.Stats(); st.PlaybacksLost != 1 || st.LatePlaybacksDropped != 0 || st.PlaybacksWatched != 0 {
		t.Errorf("stats %+v", st)
	}
}
