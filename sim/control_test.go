package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// ctl does a control API request (path under ControlPrefix) with the test
// credentials. body is sent as is when it is a string, else as JSON.
func ctl(t testing.TB, s *Server, method, path string, body any) (int, []byte) {
	t.Helper()
	return ctlAs(t, s, method, path, body, func(r *http.Request) { r.SetBasicAuth(testUser, testPass) })
}

func ctlAs(t testing.TB, s *Server, method, path string, body any, auth func(*http.Request)) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(j))
	}
	req, err := http.NewRequest(method, "http://"+s.Addr()+ControlPrefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// placeCall places a call through the control API and returns its party id.
func placeCall(t testing.TB, s *Server, body map[string]any) string {
	t.Helper()
	code, b := ctl(t, s, "POST", "/calls", body)
	if code != http.StatusCreated {
		t.Fatalf("POST /calls %v: %d %s", body, code, b)
	}
	m := mustJSON(t, b)
	id, _ := m["party_id"].(string)
	eq(t, "channel_id = party_id", m["channel_id"], any(id))
	if id == "" {
		t.Fatalf("POST /calls: no party_id in %s", b)
	}
	return id
}

func simTime(e ari.Event) time.Time {
	switch v := e.(type) {
	case *ari.StasisStart:
		return time.Time(v.Timestamp)
	case *ari.ChannelHangupRequest:
		return time.Time(v.Timestamp)
	case *ari.ChannelDtmfReceived:
		return time.Time(v.Timestamp)
	}
	return time.Time{}
}

func TestControlPlaceCall(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	_, rec := connect(t, s, "sb")
	tests := []struct {
		name                    string
		body                    map[string]any
		number, callerName      string
		exten, context, chanPfx string
		args                    []string
	}{
		{name: "defaults", body: map[string]any{},
			exten: "s", context: "from-trunk", chanPfx: "PJSIP/trunk-"},
		{name: "dialed and caller", body: map[string]any{"dialed": "8000", "caller_id": "+15551230001", "caller_name": "Ann Smith"},
			number: "+15551230001", callerName: "Ann Smith", exten: "8000", context: "from-trunk", chanPfx: "PJSIP/trunk-"},
		{name: "context, trunk, args", body: map[string]any{"app": "sb", "dialed": "100", "context": "did", "trunk": "PJSIP/carrier", "args": []string{"vip", "en"}},
			exten: "100", context: "did", chanPfx: "PJSIP/carrier-", args: []string{"vip", "en"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pos := rec.len()
			id := placeCall(t, s, tc.body)
			st := rec.wait(t, &pos, "StasisStart", chanIs(id)).(*ari.StasisStart)
			eq(t, "state", st.Channel.State, "Ring")
			eq(t, "exten", st.Channel.Dialplan.Exten, tc.exten)
			eq(t, "context", st.Channel.Dialplan.Context, tc.context)
			eq(t, "caller number", st.Channel.Caller.Number, tc.number)
			eq(t, "caller name", st.Channel.Caller.Name, tc.callerName)
			eq(t, "application", st.Application, "sb")
			if !strings.HasPrefix(st.Channel.Name, tc.chanPfx) {
				t.Errorf("channel name %q, want prefix %q", st.Channel.Name, tc.chanPfx)
			}
			if !slices.Equal(st.Args, tc.args) && (len(st.Args) != 0 || len(tc.args) != 0) {
				t.Errorf("args %v, want %v", st.Args, tc.args)
			}
			if err := s.Hangup(id, 16); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestControlCallerScript(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	_, rec := connect(t, s, "sb")
	t.Run("digits", func(t *testing.T) {
		pos := rec.len()
		id := placeCall(t, s, map[string]any{"digits": "1,2#", "digits_delay": "1s"})
		st := rec.wait(t, &pos, "StasisStart", chanIs(id))
		var got string
		var first time.Time
		for range 3 {
			e := rec.wait(t, &pos, "ChannelDtmfReceived", chanIs(id)).(*ari.ChannelDtmfReceived)
			if got == "" {
				first = simTime(e)
			}
			got += e.Digit
		}
		eq(t, "digits", got, "12#")
		if d := first.Sub(simTime(st)); d < time.Second {
			t.Errorf("first digit %v after entering the app, want at least the 1s digits_delay", d)
		}
		code, b := ctl(t, s, "POST", "/parties/"+id+"/dtmf", map[string]any{"digits": "9"})
		eq(t, "POST dtmf "+string(b), code, http.StatusNoContent)
		e := rec.wait(t, &pos, "ChannelDtmfReceived", chanIs(id)).(*ari.ChannelDtmfReceived)
		eq(t, "pressed", e.Digit, "9")
		s.Hangup(id, 16)
	})
	for _, tc := range []struct {
		name string
		body map[string]any
		min  time.Duration
	}{
		{"patience", map[string]any{"patience": "20s"}, 20 * time.Second},
		{"script patience", map[string]any{"script": "patience=15s;digits=3"}, 15 * time.Second},
		{"hangup_after", map[string]any{"hangup_after": "10s"}, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pos := rec.len()
			id := placeCall(t, s, tc.body)
			st := rec.wait(t, &pos, "StasisStart", chanIs(id))
			hr := rec.wait(t, &pos, "ChannelHangupRequest", chanIs(id)).(*ari.ChannelHangupRequest)
			eq(t, "cause", hr.Cause, 16)
			if d := simTime(hr).Sub(simTime(st)); d < tc.min {
				t.Errorf("hung up %v after entering, want at least %v", d, tc.min)
			}
			rec.wait(t, &pos, "StasisEnd", chanIs(id))
		})
	}
}

func TestControlPartiesAndHangup(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	_, rec := connect(t, s, "sb")
	pos := 0
	a := placeCall(t, s, map[string]any{"dialed": "8000", "caller_id": "+15550000001", "talk": "30s-90s", "patience": "1h"})
	b := placeCall(t, s, map[string]any{"dialed": "8001", "caller_id": "+15550000002"})
	c := placeCall(t, s, map[string]any{"dialed": "8002"})
	for _, id := range []string{a, b, c} {
		rec.wait(t, &pos, "StasisStart", chanIs(id))
	}
	if code, body := call(t, s, "POST", "/bridges/b1", nil, nil); code != 200 {
		t.Fatalf("bridge: %d %s", code, body)
	}
	if code, body := call(t, s, "POST", "/bridges/b1/addChannel", map[string][]string{"channel": {a}}, nil); code != 204 {
		t.Fatalf("addChannel: %d %s", code, body)
	}
	rec.wait(t, &pos, "ChannelEnteredBridge", chanIs(a))

	code, body := ctl(t, s, "GET", "/parties", nil)
	eq(t, "GET /parties", code, 200)
	var list []map[string]any
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("parties: got %d, want 3: %s", len(list), body)
	}
	pa := list[0]
	for _, f := range []struct {
		key  string
		want any
	}{
		{"party_id", a}, {"channel_id", a}, {"kind", "inbound"}, {"state", "Ring"}, {"dialed", "8000"},
		{"context", "from-trunk"}, {"app", "sb"}, {"in_app", true}, {"bridge", "b1"}, {"bridged", false},
		{"script", "talk=30s-1m30s;patience=1h0m0s"}, {"endpoint", "PJSIP/trunk"},
	} {
		eq(t, "party a "+f.key, pa[f.key], f.want)
	}
	eq(t, "party a caller", pa["caller"].(map[string]any)["number"], any("+15550000001"))
	eq(t, "party b id", list[1]["party_id"], any(b))
	eq(t, "party b bridge", list[1]["bridge"], any(""))

	code, body = ctl(t, s, "GET", "/parties/"+b, nil)
	eq(t, "GET /parties/b", code, 200)
	eq(t, "GET /parties/b dialed", mustJSON(t, body)["dialed"], any("8001"))

	// The far ends hang up: a by DELETE, b by DELETE with cause 17, c by
	// the Go API. The events are those of the Go API's far-end hang-up.
	code, body = ctl(t, s, "DELETE", "/parties/"+a, nil)
	eq(t, "DELETE a "+string(body), code, http.StatusNoContent)
	code, body = ctl(t, s, "DELETE", "/parties/"+b+"?cause=17", nil)
	eq(t, "DELETE b "+string(body), code, http.StatusNoContent)
	if err := s.Hangup(c, 16); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		id    string
		cause int
	}{{a, 16}, {b, 17}, {c, 16}} {
		p := pos
		hr := rec.wait(t, &p, "ChannelHangupRequest", chanIs(want.id)).(*ari.ChannelHangupRequest)
		eq(t, "hang-up cause", hr.Cause, want.cause)
		eq(t, "soft", hr.Soft, false)
		rec.wait(t, &p, "StasisEnd", chanIs(want.id))
	}
	// Every event before the marker call's StasisStart has arrived.
	marker, err := s.Call(Inbound{App: "sb"})
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "StasisStart", chanIs(marker))
	goAPI := rec.typesFor(c)
	for _, id := range []string{a, b} {
		got := rec.typesFor(id)
		if id == a {
			// a was in a bridge: the same, with ChannelLeftBridge before StasisEnd.
			want := []string{"StasisStart", "ChannelEnteredBridge"}
			want = append(want, goAPI[1:2]...)
			want = append(want, "ChannelLeftBridge")
			want = append(want, goAPI[2:]...)
			if !slices.Equal(got, want) {
				t.Errorf("events of a: %v, want %v", got, want)
			}
			continue
		}
		if !slices.Equal(got, goAPI) {
			t.Errorf("events of DELETE /parties: %v, want those of Hangup %v", got, goAPI)
		}
	}
	code, _ = ctl(t, s, "GET", "/parties/"+a, nil)
	eq(t, "GET gone party", code, http.StatusNotFound)
	code, _ = ctl(t, s, "DELETE", "/parties/"+a, nil)
	eq(t, "DELETE gone party", code, http.StatusNotFound)
	code, _ = ctl(t, s, "POST", "/parties/"+a+"/dtmf", map[string]any{"digits": "1"})
	eq(t, "dtmf to gone party", code, http.StatusNotFound)
	s.Hangup(marker, 16)
	code, body = ctl(t, s, "GET", "/parties", nil)
	eq(t, "GET /parties at the end", strings.TrimSpace(string(body)), "[]")
	eq(t, "GET /parties code", code, 200)
}

func TestControlEndpoints(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	s.AddDefaultPhones()
	_, rec := connect(t, s, "sb")
	originate := func(t *testing.T, ep string) string {
		t.Helper()
		code, body := call(t, s, "POST", "/channels", map[string][]string{"endpoint": {ep}, "app": {"sb"}}, nil)
		if code != 200 {
			t.Fatalf("originate %s: %d %s", ep, code, body)
		}
		return mustJSON(t, body)["id"].(string)
	}
	dialStatus := func(pos *int, id string) string {
		return rec.wait(t, pos, "Dial", func(e ari.Event) bool {
			d := e.(*ari.Dial)
			return d.Peer.ID == id && d.Dialstatus != "" && d.Dialstatus != "RINGING"
		}).(*ari.Dial).Dialstatus
	}
	tests := []struct {
		name, endpoint string
		body           map[string]any
		state, script  string
		dial           string // final Dial status; "" = no originate
		cause          int
	}{
		{"registered phone offline", "PJSIP/1001", map[string]any{"state": "offline"}, "offline", "rings=1;talk=drawn", "CHANUNAVAIL", 20},
		{"back online, busy", "PJSIP/1001", map[string]any{"state": "online", "script": "busy"}, "online", "busy", "BUSY", 17},
		{"new phone, script only", "PJSIP/2000", map[string]any{"script": "answer-after-1;talk=5s"}, "online", "rings=1;talk=5s", "ANSWER", 16},
		{"new phone offline", "PJSIP/2001", map[string]any{"state": "offline"}, "offline", "", "CHANUNAVAIL", 20},
		{"local endpoint", "Local/200@agents", map[string]any{"script": "noanswer"}, "online", "noanswer", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ctl(t, s, "PUT", "/endpoints/"+tc.endpoint, tc.body)
			if code != 200 {
				t.Fatalf("PUT: %d %s", code, body)
			}
			m := mustJSON(t, body)
			eq(t, "state", m["state"], any(tc.state))
			eq(t, "script", m["script"], any(tc.script))
			if tc.dial == "" {
				return
			}
			pos := rec.len()
			id := originate(t, tc.endpoint)
			eq(t, "dial status", dialStatus(&pos, id), tc.dial)
			if tc.dial == "ANSWER" {
				st := rec.wait(t, &pos, "StasisStart", chanIs(id)).(*ari.StasisStart)
				eq(t, "answered state", st.Channel.State, "Up")
				call(t, s, "DELETE", "/channels/"+id, nil, nil)
				return
			}
			cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(id)).(*ari.ChannelDestroyed)
			eq(t, "cause", cd.Cause, tc.cause)
		})
	}
	code, body := ctl(t, s, "GET", "/endpoints", nil)
	eq(t, "GET /endpoints", code, 200)
	var eps []map[string]any
	if err := json.Unmarshal(body, &eps); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range eps {
		got[e["technology"].(string)+"/"+e["resource"].(string)] = e["state"].(string)
	}
	for ep, want := range map[string]string{"PJSIP/1001": "online", "PJSIP/1002": "online", "PJSIP/2000": "online",
		"PJSIP/2001": "offline", "Local/200@agents": "online"} {
		eq(t, "listed "+ep, got[ep], want)
	}
	eq(t, "endpoints listed", len(eps), 13)
}

func TestControlDefaultApp(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	code, body := ctl(t, s, "POST", "/calls", map[string]any{})
	eq(t, "no app connected "+string(body), code, http.StatusConflict)
	eq(t, "no app field", mustJSON(t, body)["field"], any("app"))
	code, body = ctl(t, s, "POST", "/calls", map[string]any{"app": "nope"})
	eq(t, "unknown app "+string(body), code, http.StatusConflict)
	eq(t, "unknown app field", mustJSON(t, body)["field"], any("app"))

	_, rec := connect(t, s, "one")
	pos := 0
	id := placeCall(t, s, nil)
	eq(t, "only app", rec.wait(t, &pos, "StasisStart", chanIs(id)).(*ari.StasisStart).Application, "one")

	connect(t, s, "two")
	code, body = ctl(t, s, "POST", "/calls", "")
	eq(t, "two apps "+string(body), code, http.StatusBadRequest)
	eq(t, "two apps field", mustJSON(t, body)["field"], any("app"))

	s2 := startSim(t, Options{Speed: 100, ControlApp: "two"})
	connect(t, s2, "one")
	_, rec2 := connect(t, s2, "two")
	pos = 0
	id = placeCall(t, s2, nil)
	eq(t, "ControlApp", rec2.wait(t, &pos, "StasisStart", chanIs(id)).(*ari.StasisStart).Application, "two")
}

func TestControlBadInput(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	connect(t, s, "sb")
	tests := []struct {
		method, path string
		body         any
		code         int
		field        string
	}{
		{"POST", "/calls", "not json", 400, "body"},
		{"POST", "/calls", "[1,2]", 400, "body"},
		{"POST", "/calls", map[string]any{"dialled": "8000"}, 400, "dialled"},
		{"POST", "/calls", map[string]any{"dialed": 8000}, 400, "dialed"},
		{"POST", "/calls", map[string]any{"caller_id": true}, 400, "caller_id"},
		{"POST", "/calls", map[string]any{"args": "a,b"}, 400, "args"},
		{"POST", "/calls", map[string]any{"patience": "soon"}, 400, "patience"},
		{"POST", "/calls", map[string]any{"patience": "-5s"}, 400, "patience"},
		{"POST", "/calls", map[string]any{"talk": "90s-30s"}, 400, "talk"},
		{"POST", "/calls", map[string]any{"talk": "30s;busy"}, 400, "talk"},
		{"POST", "/calls", map[string]any{"digits": "12x"}, 400, "digits"},
		{"POST", "/calls", map[string]any{"digits_delay": "1"}, 400, "digits_delay"},
		{"POST", "/calls", map[string]any{"hangup_after": "0s"}, 400, "hangup_after"},
		{"POST", "/calls", map[string]any{"script": "busy"}, 400, "script"},
		{"POST", "/calls", map[string]any{"script": "rings=2"}, 400, "script"},
		{"POST", "/calls", map[string]any{"script": "talk=forever"}, 400, "script"},
		{"POST", "/calls", map[string]any{"trunk": "trunk"}, 400, "trunk"},
		{"DELETE", "/parties/x?cause=abc", nil, 400, "cause"},
		{"DELETE", "/parties/x?cause=300", nil, 400, "cause"},
		{"DELETE", "/parties/nope", nil, 404, ""},
		{"POST", "/parties/x/dtmf", map[string]any{}, 400, "digits"},
		{"POST", "/parties/x/dtmf", map[string]any{"digits": "1e"}, 400, "digits"},
		{"PUT", "/endpoints/PJSIP/3000", map[string]any{}, 400, "state"},
		{"PUT", "/endpoints/PJSIP/3000", map[string]any{"state": "away"}, 400, "state"},
		{"PUT", "/endpoints/PJSIP/3000", map[string]any{"state": "online", "script": "rings=x"}, 400, "script"},
		{"PUT", "/endpoints/PJSIP/3000", map[string]any{"online": true}, 400, "online"},
		{"GET", "/nothing", nil, 404, ""},
	}
	for _, tc := range tests {
		code, body := ctl(t, s, tc.method, tc.path, tc.body)
		what := tc.method + " " + tc.path + " " + string(body)
		eq(t, what, code, tc.code)
		m := mustJSON(t, body)
		msg, _ := m["message"].(string)
		if tc.field == "" {
			if msg == "" {
				t.Errorf("%s: no message", what)
			}
			continue
		}
		eq(t, what+": field", m["field"], any(tc.field))
		if !strings.HasPrefix(msg, tc.field+": ") {
			t.Errorf("%s: message %q does not start with the field", what, msg)
		}
	}
	if n := len(s.Channels()); n != 0 {
		t.Errorf("bad requests left %d channels", n)
	}
	code, body := ctl(t, s, "GET", "/endpoints", nil)
	eq(t, "no endpoint registered by a bad PUT", strings.TrimSpace(string(body)), "[]")
	eq(t, "GET /endpoints", code, 200)
}

func TestControlAuth(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	connect(t, s, "sb")
	none := func(*http.Request) {}
	wrong := func(r *http.Request) { r.SetBasicAuth(testUser, "wrong") }
	for _, rt := range ControlRoutes() {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.NewReplacer("{id}", "x", "{tech}", "PJSIP", "{resource}", "1001").Replace(path)
		for name, auth := range map[string]func(*http.Request){"no credentials": none, "wrong password": wrong} {
			code, _ := ctlAs(t, s, method, path, nil, auth)
			eq(t, rt+" with "+name, code, http.StatusUnauthorized)
		}
	}
	code, _ := ctlAs(t, s, "GET", "/nothing", nil, none)
	eq(t, "unknown route without credentials", code, http.StatusUnauthorized)
	code, _ = ctlAs(t, s, "GET", "/stats?api_key="+testUser+":"+testPass, nil, none)
	eq(t, "api_key", code, http.StatusOK)
	code, _ = ctlAs(t, s, "POST", "/calls?api_key="+testUser+":"+testPass, `{"dialed":"1"}`, none)
	eq(t, "api_key call", code, http.StatusCreated)
	if n := len(s.Channels()); n != 1 {
		t.Errorf("channels: got %d, want only the api_key call", n)
	}
}

func TestControlStats(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	_, rec := connect(t, s, "sb")
	pos := 0
	id := placeCall(t, s, map[string]any{"dialed": "8000"})
	rec.wait(t, &pos, "StasisStart", chanIs(id))
	code, body := ctl(t, s, "GET", "/stats", nil)
	eq(t, "GET /stats", code, 200)
	m := mustJSON(t, body)
	eq(t, "channels_active", m["channels_active"], any(float64(1)))
	eq(t, "channels_created", m["channels_created"], any(float64(1)))
	eq(t, "apps", strings.Join(toStrings(m["apps"]), ","), "sb")
	eq(t, "speed", m["speed"], any(float64(100)))
	if n, _ := m["events_sent"].(float64); n < 1 {
		t.Errorf("events_sent %v, want at least the StasisStart", m["events_sent"])
	}
	eq(t, "sent_by_app", m["sent_by_app"].(map[string]any)["sb"], m["events_sent"])
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestControlDocumented checks that README.md and the package doc name
// every control route.
func TestControlDocumented(t *testing.T) {
	for _, file := range []string{"../README.md", "doc.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range ControlRoutes() {
			method, path, _ := strings.Cut(rt, " ")
			if want := method + " " + ControlPrefix + path; !strings.Contains(string(b), want) {
				t.Errorf("%s does not document %s", file, want)
			}
		}
	}
}
