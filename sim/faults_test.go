package sim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The fault tests check absence with factApp.mark: events reach a
// websocket in the order they are emitted, so once a marker emitted after
// an action has arrived, an event the action would have sent has too.

func recName(m map[string]any) string {
	r, _ := m["recording"].(map[string]any)
	n, _ := r["name"].(string)
	return n
}

// index returns the position of the first event of type typ about
// channel ch ("" any) or recording rec ("" any), or -1.
func (a *factApp) index(typ, ch, rec string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, e := range a.events {
		if e["type"] == typ && (ch == "" || evChannel(e) == ch) && (rec == "" || recName(e) == rec) {
			return i
		}
	}
	return -1
}

// bridgedCall puts an inbound caller and an originated SIM/answer leg of
// a's application into a new mixing bridge.
func bridgedCall(t *testing.T, s *Server, a *factApp, pos *int) (caller, agent, br string) {
	t.Helper()
	caller, err := s.Call(Inbound{App: a.name, From: "+15550001"})
	if err != nil {
		t.Fatal(err)
	}
	a.wait(pos, "StasisStart", caller)
	code, body := call(t, s, "POST", "/channels", url.Values{"endpoint": {"SIM/answer"}, "app": {a.name}}, nil)
	if code != 200 {
		t.Fatalf("originate: %d %s", code, body)
	}
	agent = mustJSON(t, body)["id"].(string)
	a.wait(pos, "StasisStart", agent)
	br = newBridge(t, s)
	code, body = call(t, s, "POST", "/bridges/"+br+"/addChannel", url.Values{"channel": {caller + "," + agent}}, nil)
	if code != 204 {
		t.Fatalf("addChannel: %d %s", code, body)
	}
	a.wait(pos, "ChannelEnteredBridge", agent)
	return caller, agent, br
}

func newBridge(t *testing.T, s *Server) string {
	t.Helper()
	code, body := call(t, s, "POST", "/bridges", url.Values{"type": {"mixing"}}, nil)
	if code != 200 {
		t.Fatalf("create bridge: %d %s", code, body)
	}
	return mustJSON(t, body)["id"].(string)
}

// record starts recording name on target ("bridges/ID" or "channels/ID")
// and waits for RecordingStarted.
func record(t *testing.T, s *Server, a *factApp, pos *int, target, name string) {
	t.Helper()
	code, body := call(t, s, "POST", "/"+target+"/record", url.Values{"name": {name}, "format": {"wav"}}, nil)
	if code != 201 {
		t.Fatalf("record %s: %d %s", target, code, body)
	}
	for {
		if e := a.wait(pos, "RecordingStarted", ""); recName(e) == name {
			return
		}
	}
}

// checkEnded checks that recording name has really ended: no longer live
// (404) and its file downloadable, a WAV of secs seconds at least.
func checkEnded(t *testing.T, s *Server, name string) {
	t.Helper()
	code, body := call(t, s, "GET", "/recordings/live/"+name, nil, nil)
	eq(t, "GET /recordings/live/"+name+" once it ended", code, 404)
	eq(t, "its 404 body", strings.TrimSpace(string(body)), `{"message":"Recording not found"}`)
	code, body = call(t, s, "GET", "/recordings/stored/"+name+"/file", nil, nil)
	eq(t, "GET /recordings/stored/"+name+"/file", code, 200)
	if len(body) < 44 || string(body[:4]) != "RIFF" {
		t.Errorf("stored %s: %d bytes, not a WAV file", name, len(body))
	}
}

func TestNoFaultsChangeNothing(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	caller, agent, br := bridgedCall(t, s, a, &pos)
	record(t, s, a, &pos, "bridges/"+br, "plain")
	code, _ := call(t, s, "POST", "/recordings/live/plain/stop", nil, nil)
	eq(t, "stop", code, 204)
	end := a.mark()
	if i := a.index("RecordingFinished", "", "plain"); i < 0 || i > end {
		t.Errorf("RecordingFinished at %d, want before the marker at %d", i, end)
	}
	checkEnded(t, s, "plain")
	code, _ = call(t, s, "POST", "/bridges/"+br+"/removeChannel", url.Values{"channel": {agent}}, nil)
	eq(t, "removeChannel", code, 204)
	code, _ = call(t, s, "DELETE", "/channels/"+agent, nil, nil)
	eq(t, "DELETE agent", code, 204)
	code, _ = call(t, s, "DELETE", "/channels/"+caller, nil, nil)
	eq(t, "DELETE caller", code, 204)
	a.wait(&pos, "StasisEnd", caller)
	st := s.Stats()
	if len(st.Faults) != 0 {
		t.Errorf("faults injected with none configured: %v", st.Faults)
	}
	eq(t, "Faults() with none configured", fmt.Sprint(s.Faults()), fmt.Sprint(Faults{}))
}

// TestFaultDrawsLeaveDurationsAlone: the fault generator is not the one
// of drawn durations and ids, so turning faults on changes none of them.
func TestFaultDrawsLeaveDurationsAlone(t *testing.T) {
	run := func(f Faults) []string {
		s := startSim(t, Options{Speed: 100, Seed: 3, Faults: f})
		connect(t, s, "sb")
		var ids []string
		for range 6 {
			in, err := s.Call(Inbound{App: "sb"})
			if err != nil {
				t.Fatal(err)
			}
			for try := 0; ; try++ {
				code, body := call(t, s, "DELETE", "/channels/"+in, nil, nil)
				if code == 204 {
					break
				}
				if code != 500 || try > 50 {
					t.Fatalf("DELETE %s: %d %s", in, code, body)
				}
			}
			ids = append(ids, newBridge(t, s))
		}
		return ids
	}
	plain := run(Faults{})
	faulty := run(Faults{Seed: 9, Hangup: RequestFaults{Fail: 0.5}})
	eq(t, "bridge ids with and without faults", strings.Join(faulty, " "), strings.Join(plain, " "))
}

func TestRecordingFinishedDropped(t *testing.T) {
	s := startSim(t, Options{Speed: 100, Faults: Faults{RecordingFinished: RecordingFaults{Drop: 1}}})
	a := newFactApp(t, s, "sb")
	pos := 0
	caller, agent, br := bridgedCall(t, s, a, &pos)

	// Ended three ways: stopped, its bridge deleted, its channel gone.
	record(t, s, a, &pos, "bridges/"+br, "stopped")
	code, _ := call(t, s, "POST", "/recordings/live/stopped/stop", nil, nil)
	eq(t, "stop", code, 204)
	checkEnded(t, s, "stopped")

	record(t, s, a, &pos, "bridges/"+br, "bridge-deleted")
	code, _ = call(t, s, "DELETE", "/bridges/"+br, nil, nil)
	eq(t, "DELETE bridge", code, 204)
	checkEnded(t, s, "bridge-deleted")

	record(t, s, a, &pos, "channels/"+caller, "caller-gone")
	if err := s.Hangup(caller, 16); err != nil {
		t.Fatal(err)
	}
	a.wait(&pos, "StasisEnd", caller)
	checkEnded(t, s, "caller-gone")
	call(t, s, "DELETE", "/channels/"+agent, nil, nil)
	a.wait(&pos, "ChannelDestroyed", agent)

	end := a.mark()
	eq(t, "RecordingFinished events", a.count("RecordingFinished", end), 0)
	st := s.Stats()
	eq(t, "recording_finished.drop", st.Faults["recording_finished.drop"], int64(3))
	eq(t, "RecordingFinished sent", st.EventsByType["RecordingFinished"], int64(0))
	eq(t, "held", st.RecordingsHeld, int64(0))
	eq(t, "stored", len(s.StoredRecordings()), 3)
}

func TestRecordingFinishedDelayed(t *testing.T) {
	t.Run("held", func(t *testing.T) {
		// An hour of simulated time: the event stays held for the test.
		s := startSim(t, Options{Speed: 1, Faults: Faults{RecordingFinished: RecordingFaults{Delay: 1, DelayBy: time.Hour}}})
		a := newFactApp(t, s, "sb")
		pos := 0
		_, _, br := bridgedCall(t, s, a, &pos)
		record(t, s, a, &pos, "bridges/"+br, "late")
		code, _ := call(t, s, "POST", "/recordings/live/late/stop", nil, nil)
		eq(t, "stop", code, 204)
		checkEnded(t, s, "late")
		end := a.mark()
		eq(t, "RecordingFinished before the delay", a.count("RecordingFinished", end), 0)
		st := s.Stats()
		eq(t, "held", st.RecordingsHeld, int64(1))
		eq(t, "recording_finished.delay", st.Faults["recording_finished.delay"], int64(1))
	})
	t.Run("sent late", func(t *testing.T) {
		const by = 5 * time.Second
		s := startSim(t, Options{Speed: 100, Faults: Faults{RecordingFinished: RecordingFaults{Delay: 1, DelayBy: by}}})
		a := newFactApp(t, s, "sb")
		pos := 0
		_, _, br := bridgedCall(t, s, a, &pos)
		record(t, s, a, &pos, "bridges/"+br, "late")
		code, _ := call(t, s, "POST", "/recordings/live/late/stop", nil, nil)
		eq(t, "stop", code, 204)
		checkEnded(t, s, "late")
		e := a.wait(&pos, "RecordingFinished", "")
		got := s.Clock().Now()
		// Its timestamp is when the recording ended; it arrives at least
		// DelayBy of simulated time later.
		at, err := time.Parse(ariDateFormat, e["timestamp"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if late := got.Sub(at); late < by {
			t.Errorf("RecordingFinished arrived %v after the recording ended, want at least %v", late, by)
		}
		eq(t, "name", recName(e), "late")
		eq(t, "state", e["recording"].(map[string]any)["state"], any("done"))
		eq(t, "held once sent", s.Stats().RecordingsHeld, int64(0))
	})
}

func TestRecordingFinishedReordered(t *testing.T) {
	s := startSim(t, Options{Speed: 100, Faults: Faults{RecordingFinished: RecordingFaults{Reorder: 1}}})
	a := newFactApp(t, s, "sb")
	pos := 0

	t.Run("bridge recording stopped", func(t *testing.T) {
		caller, agent, br := bridgedCall(t, s, a, &pos)
		record(t, s, a, &pos, "bridges/"+br, "talk")
		code, _ := call(t, s, "POST", "/recordings/live/talk/stop", nil, nil)
		eq(t, "stop", code, 204)
		checkEnded(t, s, "talk")
		end := a.mark()
		eq(t, "RecordingFinished while the call goes on", a.count("RecordingFinished", end), 0)
		eq(t, "held", s.Stats().RecordingsHeld, int64(1))

		if err := s.Hangup(caller, 16); err != nil {
			t.Fatal(err)
		}
		a.wait(&pos, "StasisEnd", caller)
		end = a.mark()
		eq(t, "RecordingFinished with the agent still there", a.count("RecordingFinished", end), 0)

		code, _ = call(t, s, "DELETE", "/channels/"+agent, nil, nil)
		eq(t, "DELETE agent", code, 204)
		e := a.wait(&pos, "RecordingFinished", "")
		eq(t, "name", recName(e), "talk")
		fin := a.index("RecordingFinished", "", "talk")
		for _, x := range []struct{ typ, ch string }{
			{"ChannelLeftBridge", caller}, {"StasisEnd", caller},
			{"ChannelLeftBridge", agent}, {"StasisEnd", agent}, {"ChannelDestroyed", agent}} {
			if i := a.index(x.typ, x.ch, ""); i < 0 || i > fin {
				t.Errorf("%s of %s at %d, want before RecordingFinished at %d", x.typ, x.ch, i, fin)
			}
		}
	})
	t.Run("channel recording ended by its hang-up", func(t *testing.T) {
		in, err := s.Call(Inbound{App: "sb"})
		if err != nil {
			t.Fatal(err)
		}
		a.wait(&pos, "StasisStart", in)
		record(t, s, a, &pos, "channels/"+in, "msg")
		if err := s.Hangup(in, 16); err != nil {
			t.Fatal(err)
		}
		a.wait(&pos, "RecordingFinished", "")
		checkEnded(t, s, "msg")
		if end, fin := a.index("StasisEnd", in, ""), a.index("RecordingFinished", "", "msg"); end > fin {
			t.Errorf("StasisEnd at %d, want before RecordingFinished at %d", end, fin)
		}
	})
	t.Run("empty bridge", func(t *testing.T) {
		br := newBridge(t, s)
		record(t, s, a, &pos, "bridges/"+br, "empty")
		code, _ := call(t, s, "POST", "/recordings/live/empty/stop", nil, nil)
		eq(t, "stop", code, 204)
		e := a.wait(&pos, "RecordingFinished", "")
		eq(t, "name", recName(e), "empty")
		checkEnded(t, s, "empty")
	})
	eq(t, "recording_finished.reorder", s.Stats().Faults["recording_finished.reorder"], int64(3))
}

// hangupStatus is a DELETE /channels/{id} answer: status and body.
func hangupStatus(t *testing.T, s *Server, id string) (int, string) {
	t.Helper()
	code, body := call(t, s, "DELETE", "/channels/"+id, nil, nil)
	return code, strings.TrimSpace(string(body))
}

func TestHangupFailFirst(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb"})
	other, _ := s.Call(Inbound{App: "sb"})
	a.wait(&pos, "StasisStart", other)
	if err := s.SetFaults(Faults{Hangup: RequestFaults{FailFirst: map[string]int{in: 2}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		code, body := hangupStatus(t, s, in)
		eq(t, fmt.Sprintf("try %d", i+1), code, 500)
		eq(t, "500 body", body, `{"message":"Internal Server Error"}`)
	}
	code, _ := call(t, s, "GET", "/channels/"+in, nil, nil)
	eq(t, "channel after two failed hang-ups", code, 200)
	end := a.mark()
	eq(t, "hang-up requests sent", a.count("ChannelHangupRequest", end), 0)
	code, _ = hangupStatus(t, s, other)
	eq(t, "another channel", code, 204)
	code, _ = hangupStatus(t, s, in)
	eq(t, "third try", code, 204)
	a.wait(&pos, "StasisEnd", in)
	code, _ = hangupStatus(t, s, in)
	eq(t, "once gone", code, 404)
	eq(t, "hangup.fail", s.Stats().Faults["hangup.fail"], int64(2))
}

// TestHangupFailSeeded: a fraction of hang-ups fail, the same ones for a
// seed, and retries get through.
func TestHangupFailSeeded(t *testing.T) {
	run := func(seed int64) []int {
		s := startSim(t, Options{Speed: 100, Faults: Faults{Seed: seed, Hangup: RequestFaults{Fail: 0.4}}})
		a := newFactApp(t, s, "sb")
		pos := 0
		var codes []int
		fails := int64(0)
		for range 12 {
			in, _ := s.Call(Inbound{App: "sb"})
			a.wait(&pos, "StasisStart", in)
			for try := 0; ; try++ {
				code, body := hangupStatus(t, s, in)
				codes = append(codes, code)
				if code == 204 {
					break
				}
				if code != 500 || try > 50 {
					t.Fatalf("DELETE %s: %d %s", in, code, body)
				}
				fails++
			}
			a.wait(&pos, "StasisEnd", in)
		}
		eq(t, "hangup.fail", s.Stats().Faults["hangup.fail"], fails)
		eq(t, "channels left", len(s.Channels()), 0)
		return codes
	}
	first, again, other := run(4), run(4), run(5)
	eq(t, "codes for one seed", fmt.Sprint(again), fmt.Sprint(first))
	if !slices.Contains(first, 500) || slices.Index(first, 204) < 0 {
		t.Errorf("seed 4 gave %v, want failures and successes", first)
	}
	if fmt.Sprint(other) == fmt.Sprint(first) {
		t.Errorf("seeds 4 and 5 gave the same codes %v", first)
	}
}

func TestHangupStall(t *testing.T) {
	impatient := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{}}
	del := func(t *testing.T, s *Server, cl *http.Client, id string) (*http.Response, error) {
		req, _ := http.NewRequest("DELETE", s.URL()+"/channels/"+id, nil)
		req.SetBasicAuth(testUser, testPass)
		return cl.Do(req)
	}
	for _, tc := range []struct {
		name   string
		thenDo float64
	}{{"then done", 1}, {"then not done", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, Options{Speed: 100})
			a := newFactApp(t, s, "sb")
			pos := 0
			in, _ := s.Call(Inbound{App: "sb"})
			a.wait(&pos, "StasisStart", in)
			s.SetFaults(Faults{Hangup: RequestFaults{StallFirst: map[string]int{in: 1}, StallFor: time.Hour, StallThenDo: tc.thenDo}})
			resp, err := del(t, s, impatient, in)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("stalled DELETE answered %d within the client's timeout", resp.StatusCode)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("stalled DELETE: %v, want the client's timeout", err)
			}
			waitUntil(t, func() bool { return s.Stats().Stalled == 1 })
			code, _ := call(t, s, "GET", "/channels/"+in, nil, nil)
			eq(t, "channel during the stall", code, 200)
			end := a.mark()
			eq(t, "hang-up requests during the stall", a.count("ChannelHangupRequest", end), 0)
			eq(t, "released", s.ReleaseStalled(), 1)
			if tc.thenDo == 1 {
				a.wait(&pos, "StasisEnd", in)
				eq(t, "hangup.stall_done", s.Stats().Faults["hangup.stall_done"], int64(1))
				return
			}
			waitUntil(t, func() bool { return s.Stats().Faults["hangup.stall_not_done"] == 1 })
			code, _ = call(t, s, "GET", "/channels/"+in, nil, nil)
			eq(t, "channel after a stall not carried out", code, 200)
			code, _ = hangupStatus(t, s, in)
			eq(t, "retry", code, 204)
			a.wait(&pos, "StasisEnd", in)
			eq(t, "hangup.stall", s.Stats().Faults["hangup.stall"], int64(1))
		})
	}
	t.Run("ends by itself", func(t *testing.T) {
		const stallFor = 30 * time.Millisecond
		s := startSim(t, Options{Speed: 100, Faults: Faults{Hangup: RequestFaults{Stall: 1, StallFor: stallFor, StallThenDo: 1}}})
		a := newFactApp(t, s, "sb")
		pos := 0
		in, _ := s.Call(Inbound{App: "sb"})
		a.wait(&pos, "StasisStart", in)
		start := time.Now()
		resp, err := del(t, s, http.DefaultClient, in)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		eq(t, "after the stall", resp.StatusCode, 204)
		if took := time.Since(start); took < stallFor {
			t.Errorf("stalled DELETE answered after %v, want at least %v", took, stallFor)
		}
		a.wait(&pos, "StasisEnd", in)
	})
}

func TestRemoveChannelAndStopFaults(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	_, agent, br := bridgedCall(t, s, a, &pos)
	record(t, s, a, &pos, "bridges/"+br, "r1")
	err := s.SetFaults(Faults{
		RemoveChannel: RequestFaults{FailFirst: map[string]int{agent: 1}},
		StopRecording: RequestFaults{FailFirst: map[string]int{"r1": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, body := call(t, s, "POST", "/recordings/live/r1/stop", nil, nil)
	eq(t, "first stop", code, 500)
	eq(t, "its body", strings.TrimSpace(string(body)), `{"message":"Internal Server Error"}`)
	code, body = call(t, s, "GET", "/recordings/live/r1", nil, nil)
	eq(t, "live after a failed stop", code, 200)
	eq(t, "still recording", mustJSON(t, body)["state"], any("recording"))
	code, _ = call(t, s, "POST", "/recordings/live/r1/stop", nil, nil)
	eq(t, "second stop", code, 204)
	a.wait(&pos, "RecordingFinished", "")
	checkEnded(t, s, "r1")

	code, _ = call(t, s, "POST", "/bridges/"+br+"/removeChannel", url.Values{"channel": {agent}}, nil)
	eq(t, "first removeChannel", code, 500)
	code, body = call(t, s, "GET", "/bridges/"+br, nil, nil)
	eq(t, "GET bridge", code, 200)
	if chans := toStrings(mustJSON(t, body)["channels"]); !slices.Contains(chans, agent) {
		t.Errorf("bridge channels %v after a failed removeChannel, want %s still in", chans, agent)
	}
	code, _ = call(t, s, "POST", "/bridges/"+br+"/removeChannel", url.Values{"channel": {agent}}, nil)
	eq(t, "second removeChannel", code, 204)
	a.wait(&pos, "ChannelLeftBridge", agent)
	st := s.Stats()
	eq(t, "remove_channel.fail", st.Faults["remove_channel.fail"], int64(1))
	eq(t, "stop_recording.fail", st.Faults["stop_recording.fail"], int64(1))
	eq(t, "requests to stop", st.Requests["POST /ari/recordings/live/{recordingName}/stop"], int64(2))
}

// lockedBuffer collects log output written from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// session is one raw keep-alive HTTP connection.
type session struct {
	c net.Conn
	r *bufio.Reader
}

func dialSession(t *testing.T, s *Server) *session {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &session{c: c, r: bufio.NewReader(c)}
}

// ping sends GET /ari/asterisk/ping on the connection and returns the status.
func (ss *session) ping(t *testing.T) int {
	t.Helper()
	fmt.Fprintf(ss.c, "GET /ari/asterisk/ping HTTP/1.1\r\nHost: sim\r\nAuthorization: Basic %s\r\n\r\n", basicAuth(testUser, testPass))
	resp, err := http.ReadResponse(ss.r, nil)
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// refused checks that the connection is closed with no response at all.
func (ss *session) refused(t *testing.T) {
	t.Helper()
	fmt.Fprintf(ss.c, "GET /ari/asterisk/ping HTTP/1.1\r\nHost: sim\r\n\r\n")
	ss.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := ss.r.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("a session past the limit: read %d bytes, %v; want it closed unanswered", n, err)
	}
}

func TestSessionLimit(t *testing.T) {
	logs := &lockedBuffer{}
	s := startSim(t, Options{Speed: 100, SessionLimit: 2, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	one, two := dialSession(t, s), dialSession(t, s)
	eq(t, "first session", one.ping(t), 200)
	eq(t, "second session", two.ping(t), 200)
	eq(t, "sessions", s.Stats().Sessions, int64(2))
	dialSession(t, s).refused(t)
	eq(t, "refused", s.Stats().SessionsRefused, int64(1))
	if !strings.Contains(logs.String(), "HTTP session count exceeded 2 sessions") {
		t.Errorf("log %q: no warning of the session limit", logs.String())
	}
	// A keep-alive session stays counted while open: the same
	// connection serves again; closing it frees its place.
	eq(t, "second session again", two.ping(t), 200)
	two.c.Close()
	waitUntil(t, func() bool { return s.Stats().Sessions == 1 })

	// The events websocket counts as a session for as long as it is open.
	h := http.Header{}
	h.Set("Authorization", "Basic "+basicAuth(testUser, testPass))
	ws, _, err := websocket.Dial(context.Background(), s.WebsocketURL()+"?app=sb",
		&websocket.DialOptions{HTTPHeader: h, HTTPClient: &http.Client{Transport: &http.Transport{}}})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return s.registeredApp("sb") })
	eq(t, "sessions with the websocket", s.Stats().Sessions, int64(2))
	dialSession(t, s).refused(t)
	eq(t, "refused with the websocket open", s.Stats().SessionsRefused, int64(2))
	ws.CloseNow()
	waitUntil(t, func() bool { return s.Stats().Sessions == 1 })
	eq(t, "a session once the websocket closed", dialSession(t, s).ping(t), 200)

	if err := s.SetSessionLimit(0); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		eq(t, fmt.Sprintf("unlimited session %d", i), dialSession(t, s).ping(t), 200)
	}
	eq(t, "refused in all", s.Stats().SessionsRefused, int64(2))
	if err := s.SetSessionLimit(-1); err == nil {
		t.Error("SetSessionLimit(-1): no error")
	}
}

func TestCounters(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb"})
	a.wait(&pos, "StasisStart", in)
	for range 3 {
		call(t, s, "GET", "/channels/"+in, nil, nil)
	}
	call(t, s, "GET", "/no/such/route", nil, nil)
	hangupStatus(t, s, in)
	a.wait(&pos, "StasisEnd", in)
	a.mark()
	st := s.Stats()
	for route, want := range map[string]int64{
		"GET /ari/channels/{channelId}":    3,
		"DELETE /ari/channels/{channelId}": 1,
		"GET /ari/events":                  1,
		"GET /ari/":                        1,
	} {
		eq(t, "requests "+route, st.Requests[route], want)
	}
	var sum int64
	for _, n := range st.EventsByType {
		sum += n
	}
	eq(t, "events by type add up to events sent", sum, st.EventsSent)
	eq(t, "StasisStart", st.EventsByType["StasisStart"], int64(1))
	eq(t, "StasisEnd", st.EventsByType["StasisEnd"], int64(1))

	code, body := ctl(t, s, "GET", "/stats", nil)
	eq(t, "GET /stats", code, 200)
	m := mustJSON(t, body)
	eq(t, "requests in /stats", m["requests"].(map[string]any)["GET /ari/channels/{channelId}"], any(float64(3)))
	eq(t, "events_by_type in /stats", m["events_by_type"].(map[string]any)["StasisEnd"], any(float64(1)))
	for _, k := range []string{"faults", "stalled", "recordings_held", "sessions", "sessions_refused"} {
		if _, ok := m[k]; !ok {
			t.Errorf("GET /stats: no %s in %s", k, body)
		}
	}
}

func TestControlFaults(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb"})
	a.wait(&pos, "StasisStart", in)
	body := map[string]any{
		"seed":               7,
		"recording_finished": map[string]any{"drop": 0.1, "delay": 0.2, "delay_by": "2s", "reorder": 0.3},
		"hangup":             map[string]any{"fail": 0.2, "stall": 0.1, "stall_for": "10s", "stall_then_do": 0.5, "fail_first": map[string]int{in: 1}},
		"stop_recording":     map[string]any{"fail": 1},
	}
	code, got := ctl(t, s, "POST", "/faults", body)
	if code != 200 {
		t.Fatalf("POST /faults: %d %s", code, got)
	}
	want := Faults{Seed: 7,
		RecordingFinished: RecordingFaults{Drop: 0.1, Delay: 0.2, DelayBy: 2 * time.Second, Reorder: 0.3},
		Hangup:            RequestFaults{Fail: 0.2, Stall: 0.1, StallFor: 10 * time.Second, StallThenDo: 0.5, FailFirst: map[string]int{in: 1}},
		StopRecording:     RequestFaults{Fail: 1}}
	eq(t, "Faults() after POST", fmt.Sprint(s.Faults()), fmt.Sprint(want))
	code, read := ctl(t, s, "GET", "/faults", nil)
	eq(t, "GET /faults", code, 200)
	eq(t, "GET /faults = POST's answer", string(read), string(got))
	m := mustJSON(t, read)
	eq(t, "hangup.stall_for", m["hangup"].(map[string]any)["stall_for"], any("10s"))
	eq(t, "remove_channel.fail", m["remove_channel"].(map[string]any)["fail"], any(float64(0)))

	// fail_first set over the control API takes effect.
	c, _ := hangupStatus(t, s, in)
	eq(t, "hang-up with fail_first", c, 500)

	code, _ = ctl(t, s, "POST", "/faults/release", nil)
	eq(t, "POST /faults/release", code, 200)
	code, _ = ctl(t, s, "DELETE", "/faults", nil)
	eq(t, "DELETE /faults", code, 204)
	eq(t, "Faults() after DELETE", fmt.Sprint(s.Faults()), fmt.Sprint(Faults{}))
	c, _ = hangupStatus(t, s, in)
	eq(t, "hang-up with no faults", c, 204)

	for _, tc := range []struct {
		body, field string
	}{
		{`{"hangup":{"fail":1.5}}`, "hangup.fail"},
		{`{"hangup":{"fail":"x"}}`, "hangup.fail"},
		{`{"hangup":{"fail":0.6,"stall":0.6,"stall_for":"1s"}}`, "hangup.fail"},
		{`{"hangup":{"stall":0.5}}`, "hangup.stall_for"},
		{`{"hangup":{"stall_for":"soon"}}`, "hangup.stall_for"},
		{`{"hangup":{"stall_first":{"x":1}}}`, "hangup.stall_for"},
		{`{"hangup":{"fail_first":{"x":-1}}}`, "hangup.fail_first"},
		{`{"hangup":{"fail_first":[1]}}`, "hangup.fail_first"},
		{`{"hangup":{"bogus":1}}`, "hangup.bogus"},
		{`{"hangup":3}`, "hangup"},
		{`{"remove_channel":{"stall_then_do":-0.1}}`, "remove_channel.stall_then_do"},
		{`{"recording_finished":{"delay":0.5}}`, "recording_finished.delay_by"},
		{`{"recording_finished":{"drop":0.5,"reorder":0.6}}`, "recording_finished.drop"},
		{`{"recording_finished":{"delay_by":"-1s"}}`, "recording_finished.delay_by"},
		{`{"seed":"x"}`, "seed"},
		{`{"hangups":{}}`, "hangups"},
		{`[1]`, "body"},
	} {
		code, b := ctl(t, s, "POST", "/faults", tc.body)
		eq(t, "POST /faults "+tc.body, code, 400)
		if m := mustJSON(t, b); m["field"] != tc.field {
			t.Errorf("POST /faults %s: %s, want field %s", tc.body, b, tc.field)
		}
	}
	eq(t, "Faults() after refused bodies", fmt.Sprint(s.Faults()), fmt.Sprint(Faults{}))

	code, b := ctl(t, s, "PUT", "/sessions", map[string]any{"limit": 50})
	eq(t, "PUT /sessions", code, 200)
	eq(t, "limit", mustJSON(t, b)["limit"], any(float64(50)))
	eq(t, "SessionLimit()", s.SessionLimit(), 50)
	code, b = ctl(t, s, "GET", "/sessions", nil)
	eq(t, "GET /sessions", code, 200)
	if n, _ := mustJSON(t, b)["active"].(float64); n < 1 {
		t.Errorf("GET /sessions: %s, want the sessions open counted", b)
	}
	for _, bad := range []string{`{"limit":-1}`, `{"limit":"x"}`, `{}`, `{"max":3}`} {
		code, _ := ctl(t, s, "PUT", "/sessions", bad)
		eq(t, "PUT /sessions "+bad, code, 400)
	}
}

func TestParseFaultSpecs(t *testing.T) {
	rec := []struct {
		in, want, err string
	}{
		{"", "", ""},
		{"drop=0.1,delay=0.1:2s,reorder=0.1", "drop=0.1,delay=0.1:2s,reorder=0.1", ""},
		{" reorder=1 ", "reorder=1", ""},
		{"delay=0.5:1m", "delay=0.5:1m0s", ""},
		{"drop=2", "", "not a fraction"},
		{"drop=0.1:2s", "", "no duration"},
		{"delay=0.1", "", "FRACTION:DURATION"},
		{"delay=0.1:soon", "", "not a duration"},
		{"drop=0.6,reorder=0.6", "", "add up"},
		{"drop=0.1,drop=0.2", "", "twice"},
		{"lose=0.1", "", "unknown item"},
		{"drop", "", "NAME=VALUE"},
	}
	for _, tc := range rec {
		got, err := ParseRecordingFaults(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRecordingFaults(%q): %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRecordingFaults(%q): %v", tc.in, err)
			continue
		}
		eq(t, "ParseRecordingFaults("+tc.in+")", got.String(), tc.want)
		back, err := ParseRecordingFaults(got.String())
		if err != nil || back != got {
			t.Errorf("%q read back as %+v, %v; want %+v", got.String(), back, err, got)
		}
	}
	req := []struct {
		in, want, err string
	}{
		{"", "", ""},
		{"fail=0.2,stall=0.1:10s,stall-then-do=0.5", "fail=0.2,stall=0.1:10s,stall-then-do=0.5", ""},
		{"stall=1:1h", "stall=1:1h0m0s", ""},
		{"fail=-0.1", "", "not a fraction"},
		{"stall=0.1", "", "FRACTION:DURATION"},
		{"stall=0.1:0s", "", "not a duration"},
		{"fail=0.7,stall=0.7:1s", "", "add up"},
		{"then-do=1", "", "unknown item"},
	}
	for _, tc := range req {
		got, err := ParseRequestFaults(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRequestFaults(%q): %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRequestFaults(%q): %v", tc.in, err)
			continue
		}
		eq(t, "ParseRequestFaults("+tc.in+")", got.String(), tc.want)
		back, err := ParseRequestFaults(got.String())
		if err != nil || back.String() != got.String() {
			t.Errorf("%q read back as %+v, %v; want %+v", got.String(), back, err, got)
		}
	}
}

func TestFaultsValidate(t *testing.T) {
	tests := []struct {
		f     Faults
		field string
	}{
		{Faults{RecordingFinished: RecordingFaults{Drop: 1.5}}, "recording_finished.drop"},
		{Faults{RecordingFinished: RecordingFaults{Delay: 0.5}}, "recording_finished.delay_by"},
		{Faults{Hangup: RequestFaults{Stall: 0.5}}, "hangup.stall_for"},
		{Faults{Hangup: RequestFaults{StallFor: -time.Second}}, "hangup.stall_for"},
		{Faults{StopRecording: RequestFaults{FailFirst: map[string]int{"": 1}}}, "stop_recording.fail_first"},
		{Faults{RemoveChannel: RequestFaults{FailFirst: map[string]int{"c": MaxFaultFirst + 1}}}, "remove_channel.fail_first"},
	}
	for _, tc := range tests {
		err := tc.f.Validate()
		var fe *fieldError
		if !errors.As(err, &fe) || fe.field != tc.field {
			t.Errorf("Validate(%+v): %v, want an error on %s", tc.f, err, tc.field)
		}
	}
	if err := (Faults{Hangup: RequestFaults{Fail: 0.5, Stall: 0.5, StallFor: time.Second, StallThenDo: 1}}).Validate(); err != nil {
		t.Errorf("Validate of a good configuration: %v", err)
	}
	s := New(Options{})
	defer s.Close()
	if err := s.SetFaults(tests[0].f); err == nil || !strings.Contains(err.Error(), "recording_finished.drop") {
		t.Errorf("SetFaults of a bad configuration: %v", err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Options.Faults") {
			t.Errorf("New with bad Options.Faults: recovered %v, want a panic naming Options.Faults", r)
		}
	}()
	New(Options{Faults: tests[0].f})
}
