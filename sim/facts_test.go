package sim

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The tests in this file each check one lifecycle fact observed on a real
// Asterisk 22.10.1 (../shared/ARI-NOTES.md, "Lifecycle facts"). Absence
// of an event is checked with a marker: the simulator emits events in
// order on one websocket, so once a later marker event has arrived, any
// event the fact forbids would have arrived before it.

// factApp is an application's websocket with every event kept as JSON.
type factApp struct {
	t      *testing.T
	s      *Server
	name   string
	mu     sync.Mutex
	events []map[string]any
	marks  int
}

func newFactApp(t *testing.T, s *Server, name string) *factApp {
	t.Helper()
	a := &factApp{t: t, s: s, name: name}
	dialApp(t, s, name, func(_ string, m map[string]any) {
		a.mu.Lock()
		a.events = append(a.events, m)
		a.mu.Unlock()
	})
	return a
}

func evChannel(m map[string]any) string {
	if c, ok := m["channel"].(map[string]any); ok {
		id, _ := c["id"].(string)
		return id
	}
	if c, ok := m["peer"].(map[string]any); ok {
		id, _ := c["id"].(string)
		return id
	}
	return ""
}

// wait returns the first event after *pos of type typ about channel ch
// ("" for any) and moves *pos past it.
func (a *factApp) wait(pos *int, typ, ch string) map[string]any {
	a.t.Helper()
	var got map[string]any
	waitUntil(a.t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for ; *pos < len(a.events); *pos++ {
			e := a.events[*pos]
			if e["type"] == typ && (ch == "" || evChannel(e) == ch) {
				got = e
				*pos++
				return true
			}
		}
		return false
	})
	return got
}

// mark makes the simulator emit a marker event and waits for it: every
// event emitted before the marker has arrived when mark returns. It
// returns the number of events before the marker.
func (a *factApp) mark() int {
	a.t.Helper()
	a.marks++
	name := "MARK" + itoa(a.marks)
	a.s.mu.Lock()
	a.s.emit([]string{a.name}, "ChannelVarset", map[string]any{"variable": name, "value": "1"})
	a.s.mu.Unlock()
	var n int
	waitUntil(a.t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for i, e := range a.events {
			if e["type"] == "ChannelVarset" && e["variable"] == name {
				n = i
				return true
			}
		}
		return false
	})
	return n
}

// typesFor lists the types of the events about channel ch before index end.
func (a *factApp) typesFor(ch string, end int) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events[:end] {
		if evChannel(e) == ch {
			out = append(out, e["type"].(string))
		}
	}
	return out
}

func (a *factApp) count(typ string, end int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.events[:end] {
		if e["type"] == typ {
			n++
		}
	}
	return n
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

func originateLocal(t *testing.T, s *Server, app, resource string, q url.Values) string {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("endpoint", "Local/"+resource)
	q.Set("app", app)
	code, body := call(t, s, "POST", "/channels", q, nil)
	if code != 200 {
		t.Fatalf("originate Local/%s: %d %s", resource, code, body)
	}
	return mustJSON(t, body)["id"].(string)
}

func TestFactDialplanChannelGetsNoChannelDestroyed(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0

	// Entered from the dialplan, hung up by the far end: HangupRequest,
	// StasisEnd, nothing after.
	in, err := s.Call(Inbound{App: "sb", From: "100", To: "200"})
	if err != nil {
		t.Fatal(err)
	}
	a.wait(&pos, "StasisStart", in)
	s.Hangup(in, 16)
	a.wait(&pos, "StasisEnd", in)
	end := a.mark()
	eq(t, "dialplan channel", strings.Join(a.typesFor(in, end), " "), "StasisStart ChannelHangupRequest StasisEnd")

	// An explicit subscription brings ChannelDestroyed back, with cause 0.
	in2, _ := s.Call(Inbound{App: "sb", From: "101", To: "200"})
	a.wait(&pos, "StasisStart", in2)
	if code, body := call(t, s, "POST", "/applications/sb/subscription", url.Values{"eventSource": {"channel:" + in2}}, nil); code != 200 {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	s.Hangup(in2, 16)
	d := a.wait(&pos, "ChannelDestroyed", in2)
	eq(t, "explicitly subscribed destroy cause", num(d, "cause"), 0)

	// Originated channels keep their subscription and get ChannelDestroyed.
	out := originateLocal(t, s, "sb", "100@agents", nil)
	a.wait(&pos, "StasisStart", out)
	s.Hangup(out, 16)
	d = a.wait(&pos, "ChannelDestroyed", out)
	eq(t, "originated destroy cause", num(d, "cause"), 16)
}

func TestFactBridgeCreatedNeverSentBridgeDestroyedOnlyWhileSubscribed(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	bridge := func(id string) {
		if code, body := call(t, s, "POST", "/bridges/"+id, url.Values{"type": {"mixing"}}, nil); code != 200 {
			t.Fatalf("create bridge: %d %s", code, body)
		}
	}
	del := func(id string) {
		if code, body := call(t, s, "DELETE", "/bridges/"+id, nil, nil); code != 204 {
			t.Fatalf("delete bridge: %d %s", code, body)
		}
	}
	add := func(id, ch string) {
		if code, body := call(t, s, "POST", "/bridges/"+id+"/addChannel", url.Values{"channel": {ch}}, nil); code != 204 {
			t.Fatalf("add: %d %s", code, body)
		}
	}

	// No application channel ever in it: neither BridgeCreated nor BridgeDestroyed.
	bridge("empty")
	del("empty")
	// Members removed before the delete: no BridgeDestroyed.
	ch := originateLocal(t, s, "sb", "100@agents", nil)
	a.wait(&pos, "StasisStart", ch)
	bridge("left")
	add("left", ch)
	a.wait(&pos, "ChannelEnteredBridge", ch)
	if code, body := call(t, s, "POST", "/bridges/left/removeChannel", url.Values{"channel": {ch}}, nil); code != 204 {
		t.Fatalf("remove: %d %s", code, body)
	}
	a.wait(&pos, "ChannelLeftBridge", ch)
	del("left")
	end := a.mark()
	eq(t, "BridgeCreated", a.count("BridgeCreated", end), 0)
	eq(t, "BridgeDestroyed without subscription", a.count("BridgeDestroyed", end), 0)
	eq(t, "bridges left", len(s.Bridges()), 0)

	// A member still in it at the delete: BridgeDestroyed comes.
	bridge("full")
	add("full", ch)
	a.wait(&pos, "ChannelEnteredBridge", ch)
	del("full")
	a.wait(&pos, "ChannelLeftBridge", ch)
	a.wait(&pos, "BridgeDestroyed", "")
}

func TestFactOurHangupIsSoftCause32(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0

	in, _ := s.Call(Inbound{App: "sb", From: "100", To: "200"})
	a.wait(&pos, "StasisStart", in)
	if code, body := call(t, s, "DELETE", "/channels/"+in, url.Values{"reason_code": {"17"}}, nil); code != 204 {
		t.Fatalf("hangup: %d %s", code, body)
	}
	hr := a.wait(&pos, "ChannelHangupRequest", in)
	eq(t, "cause", num(hr, "cause"), 32)
	eq(t, "soft", hr["soft"], any(true))

	// dial?timeout=N that expires: soft 32, then ChannelDestroyed 19.
	s.AddEndpoint("PJSIP", "3001", Party{NoAnswer: true})
	code, body := call(t, s, "POST", "/channels/create", url.Values{"endpoint": {"PJSIP/3001"}, "app": {"sb"}}, nil)
	if code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	id := mustJSON(t, body)["id"].(string)
	a.wait(&pos, "StasisStart", id)
	if code, body := call(t, s, "POST", "/channels/"+id+"/dial", url.Values{"timeout": {"2"}}, nil); code != 204 {
		t.Fatalf("dial: %d %s", code, body)
	}
	hr = a.wait(&pos, "ChannelHangupRequest", id)
	eq(t, "timeout cause", num(hr, "cause"), 32)
	eq(t, "timeout soft", hr["soft"], any(true))
	d := a.wait(&pos, "ChannelDestroyed", id)
	eq(t, "timeout destroy cause", num(d, "cause"), 19)
}

func TestFactInstantAnswerSkipsRinging(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	code, body := call(t, s, "POST", "/channels", url.Values{"endpoint": {"SIM/answer"}, "app": {"sb"}}, nil)
	if code != 200 {
		t.Fatalf("originate: %d %s", code, body)
	}
	id := mustJSON(t, body)["id"].(string)
	st := a.wait(&pos, "StasisStart", id)
	eq(t, "state", st["channel"].(map[string]any)["state"], any("Up"))
	end := a.mark()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.events[:end] {
		if evChannel(e) != id {
			continue
		}
		if e["type"] == "ChannelStateChange" && e["channel"].(map[string]any)["state"] == "Ringing" {
			t.Error("a Ringing state change before an instant answer")
		}
		if e["type"] == "Dial" && e["dialstatus"] == "RINGING" {
			t.Error("Dial RINGING before an instant answer")
		}
	}
}

func TestFactBusyLocalHalvesCauses(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	s.AddEndpoint("Local", "busy@agents", Party{Busy: true})
	pos := 0
	id := originateLocal(t, s, "sb", "busy@agents", nil)
	dial := a.wait(&pos, "Dial", id)
	for dial["dialstatus"] != "BUSY" {
		dial = a.wait(&pos, "Dial", id)
	}
	d1 := a.wait(&pos, "ChannelDestroyed", id)
	eq(t, ";1 cause", num(d1, "cause"), 0)
	d2 := a.wait(&pos, "ChannelDestroyed", id+";2")
	eq(t, ";2 cause", num(d2, "cause"), 17)
}

// TestFactLocalBusyOnlyDialStatus: the Dial BUSY is the only busy signal of
// a Local channel: no StasisStart, and ;1 is destroyed with cause 0.
func TestFactLocalBusyOnlyDialStatus(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	s.AddEndpoint("Local", "busy@agents", Party{Busy: true})
	pos := 0
	id := originateLocal(t, s, "sb", "busy@agents", nil)
	a.wait(&pos, "ChannelDestroyed", id)
	end := a.mark()
	got := a.typesFor(id, end)
	if slices.Contains(got, "StasisStart") || slices.Contains(got, "ChannelHangupRequest") {
		t.Errorf("busy Local ;1 events %v", got)
	}
	var busy int
	a.mu.Lock()
	for _, e := range a.events[:end] {
		if e["type"] == "Dial" && e["dialstatus"] == "BUSY" {
			busy++
		}
		if e["type"] == "ChannelDestroyed" && evChannel(e) == id && num(e, "cause") == 17 {
			t.Error(";1 destroyed with cause 17: busy must be read from Dial")
		}
	}
	a.mu.Unlock()
	eq(t, "Dial BUSY", busy, 1)
}

func TestFactUnsupportedMediaNeverFinishes(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb", From: "100", To: "200"})
	a.wait(&pos, "StasisStart", in)
	code, body := call(t, s, "POST", "/channels/"+in+"/play/pb1", url.Values{"media": {"bogus:thing"}}, nil)
	eq(t, "play status", code, 201)
	_ = body
	a.wait(&pos, "PlaybackStarted", "")
	// The next playback on the channel is not held up by it.
	call(t, s, "POST", "/channels/"+in+"/play/pb2", url.Values{"media": {"sound:beep"}}, nil)
	f := a.wait(&pos, "PlaybackFinished", "")
	eq(t, "finished", f["playback"].(map[string]any)["id"], any("pb2"))
	end := a.mark()
	a.mu.Lock()
	for _, e := range a.events[:end] {
		if e["type"] == "PlaybackFinished" && e["playback"].(map[string]any)["id"] == "pb1" {
			t.Error("PlaybackFinished for unsupported media")
		}
	}
	a.mu.Unlock()
	code, _ = call(t, s, "GET", "/playbacks/pb1", nil, nil)
	eq(t, "GET playback", code, 404)
}

func TestFactLocalHoldSendsNoEvents(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	id := originateLocal(t, s, "sb", "100@agents", nil)
	a.wait(&pos, "StasisStart", id)
	for _, m := range []string{"POST", "DELETE"} {
		if code, body := call(t, s, m, "/channels/"+id+"/hold", nil, nil); code != 204 {
			t.Fatalf("%s hold: %d %s", m, code, body)
		}
	}
	end := a.mark()
	eq(t, "ChannelHold", a.count("ChannelHold", end), 0)
	eq(t, "ChannelUnhold", a.count("ChannelUnhold", end), 0)
	// A PJSIP channel still reports hold.
	in, _ := s.Call(Inbound{App: "sb", From: "100", To: "200"})
	a.wait(&pos, "StasisStart", in)
	call(t, s, "POST", "/channels/"+in+"/hold", nil, nil)
	a.wait(&pos, "ChannelHold", in)
}

func TestFactSnoopGetsOnlyStasisEndWhenTargetHangsUp(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb", From: "100", To: "200"})
	a.wait(&pos, "StasisStart", in)
	code, body := call(t, s, "POST", "/channels/"+in+"/snoop", url.Values{"spy": {"both"}, "app": {"sb"}}, nil)
	if code != 200 {
		t.Fatalf("snoop: %d %s", code, body)
	}
	sn := mustJSON(t, body)["id"].(string)
	a.wait(&pos, "StasisStart", sn)
	s.Hangup(in, 16)
	a.wait(&pos, "StasisEnd", sn)
	end := a.mark()
	eq(t, "snoop events", strings.Join(a.typesFor(sn, end), " "), "StasisStart StasisEnd")
	eq(t, "channels left", len(s.Channels()), 0)
}

func TestFactChannelListShowsBothLocalHalves(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	id := originateLocal(t, s, "sb", "100@agents", nil)
	a.wait(&pos, "StasisStart", id)
	code, body := call(t, s, "GET", "/channels", nil, nil)
	eq(t, "status", code, 200)
	for _, want := range []string{`"` + id + `"`, `"` + id + `;2"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /channels lacks %s: %s", want, body)
		}
	}
}

func TestFactApplicationListsBothLocalHalves(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	id := originateLocal(t, s, "sb", "100@agents", nil)
	a.wait(&pos, "StasisStart", id)
	code, body := call(t, s, "GET", "/applications/sb", nil, nil)
	eq(t, "status", code, 200)
	var ids []string
	for _, v := range mustJSON(t, body)["channel_ids"].([]any) {
		ids = append(ids, v.(string))
	}
	slices.Sort(ids)
	eq(t, "channel_ids", strings.Join(ids, ","), id+","+id+";2")
	// Only ;1 is in Stasis.
	for _, c := range s.Channels() {
		if c.ID == id+";2" && c.InApp {
			t.Error(";2 half in Stasis")
		}
	}
}

// TestFactLocalTrunkFirstHangupRequestHasNoCause: on a call that came in
// through a Local trunk leg, the first ChannelHangupRequest carries cause
// 0; the meaningful cause comes in a later one, before StasisEnd.
func TestFactLocalTrunkFirstHangupRequestHasNoCause(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	a := newFactApp(t, s, "sb")
	pos := 0
	in, err := s.Call(Inbound{App: "sb", From: "100", To: "200", Trunk: "Local/trunk@from-pstn"})
	if err != nil {
		t.Fatal(err)
	}
	a.wait(&pos, "StasisStart", in)
	s.Hangup(in, 17)
	first := a.wait(&pos, "ChannelHangupRequest", in)
	eq(t, "first cause", num(first, "cause"), 0)
	second := a.wait(&pos, "ChannelHangupRequest", in)
	eq(t, "later cause", num(second, "cause"), 17)
	a.wait(&pos, "StasisEnd", in)
}
