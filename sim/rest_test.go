package sim

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/coder/websocket"
)

func TestAuth(t *testing.T) {
	s := startSim(t, Options{})
	req, _ := http.NewRequest("GET", s.URL()+"/asterisk/info", nil)
	req.SetBasicAuth(testUser, "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eq(t, "REST wrong password", resp.StatusCode, 401)

	h := http.Header{}
	h.Set("Authorization", "Basic "+basicAuth(testUser, "wrong"))
	_, wsResp, err := websocket.Dial(context.Background(), s.WebsocketURL()+"?app=x", &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		t.Fatal("websocket with wrong password accepted")
	}
	eq(t, "websocket wrong password", wsResp.StatusCode, 401)

	code, _ := call(t, s, "GET", "/asterisk/info", nil, nil)
	eq(t, "REST right password", code, 200)
}

func basicAuth(u, p string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestStatusCodes(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	_, rec := connect(t, s, "sb")
	pos := 0
	in, err := s.Call(Inbound{App: "sb", From: "1"})
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "StasisStart", chanIs(in))
	// A channel that exists but is not in the app: an originate still ringing.
	code, body := call(t, s, "POST", "/channels", url.Values{"endpoint": {"SIM/noanswer"}, "app": {"sb"}, "channelId": {"out1"}}, nil)
	eq(t, "originate", code, 200)
	eq(t, "originate id", mustJSON(t, body)["id"], any("out1"))
	code, _ = call(t, s, "POST", "/bridges/b1", nil, nil)
	eq(t, "bridge create", code, 200)

	cases := []struct {
		name, method, path string
		q                  url.Values
		body               any
		want               int
	}{
		{"unknown channel", "GET", "/channels/nope", nil, nil, 404},
		{"hangup unknown channel", "DELETE", "/channels/nope", nil, nil, 404},
		{"unknown bridge", "GET", "/bridges/nope", nil, nil, 404},
		{"unknown playback", "GET", "/playbacks/nope", nil, nil, 404},
		{"unknown live recording", "GET", "/recordings/live/nope", nil, nil, 404},
		{"unknown stored recording", "GET", "/recordings/stored/nope", nil, nil, 404},
		{"unknown stored file", "GET", "/recordings/stored/nope/file", nil, nil, 404},
		{"unknown endpoint", "GET", "/endpoints/PJSIP/9999", nil, nil, 404},
		{"answer not in app", "POST", "/channels/out1/answer", nil, nil, 409},
		{"play not in app", "POST", "/channels/out1/play", url.Values{"media": {"sound:beep"}}, nil, 409},
		{"originate no endpoint", "POST", "/channels", url.Values{"app": {"sb"}}, nil, 400},
		{"originate dup id", "POST", "/channels", url.Values{"endpoint": {"SIM/answer"}, "app": {"sb"}, "channelId": {"out1"}}, nil, 409},
		{"originate unknown tech", "POST", "/channels", url.Values{"endpoint": {"FOO/1"}, "app": {"sb"}}, nil, 500},
		{"snoop bad spy", "POST", "/channels/" + in + "/snoop", url.Values{"spy": {"sideways"}, "app": {"sb"}}, nil, 400},
		{"snoop no app", "POST", "/channels/" + in + "/snoop", url.Values{"spy": {"both"}}, nil, 400},
		{"addChannel nonexistent", "POST", "/bridges/b1/addChannel", url.Values{"channel": {"nope"}}, nil, 400},
		{"addChannel missing", "POST", "/bridges/b1/addChannel", nil, nil, 400},
		// A JSON body's string is one id, commas and all (only a query
		// parameter is split): no channel is called "X,X".
		{"addChannel body string with comma", "POST", "/bridges/b1/addChannel", nil, map[string]any{"channel": in + "," + in}, 400},
		{"addChannel not in app", "POST", "/bridges/b1/addChannel", url.Values{"channel": {"out1"}}, nil, 422},
		{"addChannel unknown bridge", "POST", "/bridges/zz/addChannel", url.Values{"channel": {in}}, nil, 404},
		{"removeChannel not in bridge", "POST", "/bridges/b1/removeChannel", url.Values{"channel": {in}}, nil, 422},
		{"bridge dup", "POST", "/bridges/b1", nil, nil, 409},
		{"hangup bad reason", "DELETE", "/channels/" + in, url.Values{"reason": {"bored"}}, nil, 400},
		{"variable missing", "GET", "/channels/" + in + "/variable", nil, nil, 400},
		{"variable unknown", "GET", "/channels/" + in + "/variable", url.Values{"variable": {"NOPE"}}, nil, 404},
		{"dtmf missing", "POST", "/channels/" + in + "/dtmf", nil, nil, 400},
		{"record no name", "POST", "/channels/" + in + "/record", url.Values{"format": {"wav"}}, nil, 400},
		{"record bad format", "POST", "/channels/" + in + "/record", url.Values{"name": {"r"}, "format": {"xyz"}}, nil, 422},
		{"subscribe unknown app", "POST", "/applications/zz/subscription", url.Values{"eventSource": {"endpoint:PJSIP"}}, nil, 404},
		{"subscribe missing", "POST", "/applications/sb/subscription", nil, nil, 400},
		{"subscribe bad source", "POST", "/applications/sb/subscription", url.Values{"eventSource": {"channel:nope"}}, nil, 422},
		{"unknown endpoints tech", "GET", "/endpoints/FOO", nil, nil, 404},
		{"unknown route", "GET", "/nothing", nil, nil, 404},
		{"json body param", "POST", "/channels/" + in + "/variable", nil, map[string]any{"variable": "X", "value": "1"}, 204},
		{"answer ok", "POST", "/channels/" + in + "/answer", nil, nil, 204},
	}
	for _, c := range cases {
		code, body := call(t, s, c.method, c.path, c.q, c.body)
		if code != c.want {
			t.Errorf("%s: %s %s = %d %s, want %d", c.name, c.method, c.path, code, body, c.want)
			continue
		}
		if code >= 400 && code != 500 && c.name != "unknown route" {
			if m := mustJSON(t, body); m["message"] == nil {
				t.Errorf("%s: no message in %s", c.name, body)
			}
		}
		if code == 500 && string(body) != `{"error":"Allocation failed"}` {
			t.Errorf("%s: body %s", c.name, body)
		}
	}
	code, body = call(t, s, "GET", "/channels/"+in+"/variable", url.Values{"variable": {"X"}}, nil)
	eq(t, "get var", code, 200)
	eq(t, "var value", mustJSON(t, body)["value"], any("1"))
	rec.wait(t, &pos, "ChannelVarset", chanIs(in))
}

func TestScriptedParties(t *testing.T) {
	s := startSim(t, Options{Speed: 1000})
	s.AddEndpoint("PJSIP", "2001", Party{Busy: true})
	s.AddEndpoint("PJSIP", "2002", Party{NoAnswer: true})
	s.AddEndpoint("PJSIP", "2003", Party{Rings: 3, Talk: 30 * time.Second})
	s.AddEndpoint("PJSIP", "2004", Party{})
	cl, rec := connect(t, s, "sb")

	t.Run("busy", func(t *testing.T) {
		pos := rec.len()
		h, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/2001", App: "sb"})
		if err != nil {
			t.Fatal(err)
		}
		d := rec.wait(t, &pos, "Dial", func(e ari.Event) bool { return e.(*ari.Dial).Dialstatus == "BUSY" }).(*ari.Dial)
		eq(t, "peer", d.Peer.ID, h.ID())
		cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(h.ID())).(*ari.ChannelDestroyed)
		eq(t, "cause", cd.Cause, 17)
		for _, typ := range rec.typesFor(h.ID()) {
			if typ == "StasisStart" {
				t.Error("StasisStart on a busy originate")
			}
		}
	})
	t.Run("no answer", func(t *testing.T) {
		pos := rec.len()
		h, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/2002", App: "sb", Timeout: 20})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(h.ID())).(*ari.ChannelDestroyed)
		eq(t, "cause", cd.Cause, 19)
		if el := time.Since(start); el < 10*time.Millisecond {
			t.Errorf("no-answer timeout after %v wall, want ~20ms", el)
		}
	})
	t.Run("create dial rings answer talk", func(t *testing.T) {
		pos := rec.len()
		h, err := cl.Channel().Create(nil, ari.ChannelCreateRequest{Endpoint: "PJSIP/2003", App: "sb"})
		if err != nil {
			t.Fatal(err)
		}
		st := rec.wait(t, &pos, "StasisStart", chanIs(h.ID())).(*ari.StasisStart)
		eq(t, "state at start", st.Channel.State, "Down")
		if err := h.Dial("", 60*time.Second); err != nil {
			t.Fatal(err)
		}
		sc := rec.wait(t, &pos, "ChannelStateChange", chanIs(h.ID())).(*ari.ChannelStateChange)
		eq(t, "ringing", sc.Channel.State, "Ringing")
		sc = rec.wait(t, &pos, "ChannelStateChange", chanIs(h.ID())).(*ari.ChannelStateChange)
		eq(t, "up", sc.Channel.State, "Up")
		// Talk time runs only once bridged: bridge with an inbound caller.
		in, _ := s.Call(Inbound{App: "sb", From: "42"})
		rec.wait(t, &pos, "StasisStart", chanIs(in))
		br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "talk"), "mixing", "")
		if err != nil {
			t.Fatal(err)
		}
		br.AddChannel(in)
		br.AddChannel(h.ID())
		start := time.Now()
		cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(h.ID())).(*ari.ChannelDestroyed)
		eq(t, "talk cause", cd.Cause, 16)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("30 s of sim talk at speed 1000 took %v", el)
		}
	})
	t.Run("digits", func(t *testing.T) {
		pos := rec.len()
		in, err := s.Call(Inbound{App: "sb", Party: Party{Digits: "1,4#", DigitsDelay: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for i := 0; i < 3; i++ {
			e := rec.wait(t, &pos, "ChannelDtmfReceived", chanIs(in)).(*ari.ChannelDtmfReceived)
			got += e.Digit
			eq(t, "duration", e.DurationMs, DigitDuration)
		}
		eq(t, "digits", got, "14#")
		s.SendDTMF(in, "9")
		e := rec.wait(t, &pos, "ChannelDtmfReceived", chanIs(in)).(*ari.ChannelDtmfReceived)
		eq(t, "injected", e.Digit, "9")
		s.Hangup(in, 16)
	})
	t.Run("patience", func(t *testing.T) {
		pos := rec.len()
		in, err := s.Call(Inbound{App: "sb", Party: Party{Patience: 20 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		hr := rec.wait(t, &pos, "ChannelHangupRequest", chanIs(in)).(*ari.ChannelHangupRequest)
		eq(t, "abandon cause", hr.Cause, 16)
		rec.wait(t, &pos, "StasisEnd", chanIs(in))
	})
	t.Run("offline endpoint", func(t *testing.T) {
		pos := rec.len()
		if err := cl.Application().Subscribe(ari.NewKey(ari.ApplicationKey, "sb"), "endpoint:PJSIP/2004"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetEndpointState("PJSIP", "2004", "offline"); err != nil {
			t.Fatal(err)
		}
		es := rec.wait(t, &pos, "EndpointStateChange", nil).(*ari.EndpointStateChange)
		eq(t, "endpoint state", es.Endpoint.State, "offline")
		h, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/2004", App: "sb"})
		if err != nil {
			t.Fatal(err)
		}
		d := rec.wait(t, &pos, "Dial", func(e ari.Event) bool { return e.(*ari.Dial).Dialstatus != "" }).(*ari.Dial)
		eq(t, "dialstatus", d.Dialstatus, "CHANUNAVAIL")
		cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(h.ID())).(*ari.ChannelDestroyed)
		eq(t, "cause", cd.Cause, 20)
	})
	t.Run("unregistered phone and SIM script", func(t *testing.T) {
		pos := rec.len()
		h, _ := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/7777", App: "sb"})
		cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(h.ID())).(*ari.ChannelDestroyed)
		eq(t, "unregistered cause", cd.Cause, 20)
		h2, _ := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "SIM/rings=1;digits=5", App: "sb"})
		rec.wait(t, &pos, "StasisStart", chanIs(h2.ID()))
		e := rec.wait(t, &pos, "ChannelDtmfReceived", chanIs(h2.ID())).(*ari.ChannelDtmfReceived)
		eq(t, "sim digit", e.Digit, "5")
		h2.Hangup()
	})
	t.Run("local busy", func(t *testing.T) {
		pos := rec.len()
		s.AddEndpoint("Local", "busy@test", Party{Busy: true})
		h, _ := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "Local/busy@test", App: "sb"})
		d := rec.wait(t, &pos, "Dial", func(e ari.Event) bool { return e.(*ari.Dial).Dialstatus == "BUSY" }).(*ari.Dial)
		eq(t, "peer", d.Peer.ID, h.ID())
		cd := rec.wait(t, &pos, "ChannelDestroyed", chanIs(h.ID())).(*ari.ChannelDestroyed)
		eq(t, "local ;1 cause", cd.Cause, 0)
	})
	t.Run("amd", func(t *testing.T) {
		pos := rec.len()
		h, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "SIM/machine", Context: "amd", Extension: "sb", Priority: 1})
		if err != nil {
			t.Fatal(err)
		}
		st := rec.wait(t, &pos, "StasisStart", chanIs(h.ID())).(*ari.StasisStart)
		if len(st.Args) != 3 || st.Args[0] != "amd" || st.Args[1] != "MACHINE" {
			t.Errorf("amd args %v", st.Args)
		}
		h.Hangup()
	})
}

func TestOriginateNoApp(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	code, body := call(t, s, "POST", "/channels", url.Values{"endpoint": {"SIM/answer"}, "app": {"ghost"}}, nil)
	eq(t, "code", code, 200)
	id := mustJSON(t, body)["id"].(string)
	waitUntil(t, func() bool { return len(s.Channels()) == 0 })
	code, _ = call(t, s, "GET", "/channels/"+id, nil, nil)
	eq(t, "gone", code, 404)
	if _, err := s.Call(Inbound{App: "ghost"}); err == nil {
		t.Error("Call into an unregistered app succeeded")
	}
}

func TestMediaAndRecordings(t *testing.T) {
	s := startSim(t, Options{Speed: 1000, Sounds: map[string]time.Duration{"long": time.Hour, "short": time.Second}})
	cl, rec := connect(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb"})
	rec.wait(t, &pos, "StasisStart", chanIs(in))
	ch := cl.Channel().Get(ari.NewKey(ari.ChannelKey, in))

	// Stop a long playback.
	pb, err := ch.Play("long1", "sound:long")
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "PlaybackStarted", nil)
	if err := pb.Stop(); err != nil {
		t.Fatal(err)
	}
	f := rec.wait(t, &pos, "PlaybackFinished", nil).(*ari.PlaybackFinished)
	eq(t, "stopped state", f.Playback.State, "done")
	// Unknown sound fails.
	ch.Play("bad1", "sound:no-such-sound")
	f = rec.wait(t, &pos, "PlaybackFinished", nil).(*ari.PlaybackFinished)
	eq(t, "unknown sound", f.Playback.State, "failed")
	// Sequence: one playback, continuing between media.
	ch.Play("seq1", "sound:short", "digits:12", "number:7")
	rec.wait(t, &pos, "PlaybackContinuing", nil)
	f = rec.wait(t, &pos, "PlaybackFinished", nil).(*ari.PlaybackFinished)
	eq(t, "sequence", f.Playback.State, "done")
	eq(t, "sequence id", f.Playback.ID, "seq1")

	// Channel recording, with a 5 s max duration.
	_, err = ch.Record("msg", &ari.RecordingOptions{Format: "wav", MaxDuration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "RecordingStarted", nil)
	rf := rec.wait(t, &pos, "RecordingFinished", nil).(*ari.RecordingFinished)
	eq(t, "max duration", time.Duration(rf.Recording.Duration), 5*time.Second)
	// ifExists fail → 409; overwrite → 201.
	code, _ := call(t, s, "POST", "/channels/"+in+"/record", url.Values{"name": {"msg"}, "format": {"wav"}}, nil)
	eq(t, "exists", code, 409)
	code, _ = call(t, s, "POST", "/channels/"+in+"/record", url.Values{"name": {"msg"}, "format": {"wav"}, "ifExists": {"overwrite"}}, nil)
	eq(t, "overwrite", code, 201)
	rec.wait(t, &pos, "RecordingStarted", nil)
	s.FailRecording("msg")
	rfl := rec.wait(t, &pos, "RecordingFailed", nil).(*ari.RecordingFailed)
	eq(t, "failed state", rfl.Recording.State, "failed")

	// The stored file is a WAV of the recorded length.
	resp, err := func() (*http.Response, error) {
		req, _ := http.NewRequest("GET", s.URL()+"/recordings/stored/msg/file", nil)
		req.SetBasicAuth(testUser, testPass)
		return http.DefaultClient.Do(req)
	}()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 44)
	if _, err := resp.Body.Read(buf[:0]); err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < 44 {
		m, err := resp.Body.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	eq(t, "riff", string(buf[0:4]), "RIFF")
	eq(t, "rate", binary.LittleEndian.Uint32(buf[24:]), uint32(8000))
	eq(t, "bits", binary.LittleEndian.Uint16(buf[34:]), uint16(16))
	eq(t, "data size", binary.LittleEndian.Uint32(buf[40:]), uint32(5*8000*2))
	eq(t, "content length", resp.ContentLength, int64(44+5*8000*2))

	// Copy, list, delete.
	if _, err := cl.StoredRecording().Copy(ari.NewKey(ari.StoredRecordingKey, "msg"), "msg2"); err != nil {
		t.Fatal(err)
	}
	keys, _ := cl.StoredRecording().List(nil)
	eq(t, "stored count", len(keys), 2)
	code, _ = call(t, s, "DELETE", "/recordings/stored/msg2", nil, nil)
	eq(t, "delete", code, 204)

	// Playback ends with the channel.
	ch.Play("tone1", "tone:ring")
	rec.wait(t, &pos, "PlaybackStarted", nil)
	s.Hangup(in, 16)
	f = rec.wait(t, &pos, "PlaybackFinished", nil).(*ari.PlaybackFinished)
	eq(t, "tone ended", f.Playback.ID, "tone1")
}

func TestReconnectKeepsChannels(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	_, rec := connect(t, s, "sb")
	pos := 0
	in, _ := s.Call(Inbound{App: "sb"})
	rec.wait(t, &pos, "StasisStart", chanIs(in))
	s.DropWebSockets()
	// The native client reconnects by itself; the channel stayed in Stasis.
	waitUntil(t, func() bool { return s.registeredApp("sb") })
	chs := s.Channels()
	if len(chs) != 1 || !chs[0].InApp {
		t.Fatalf("channels after drop: %+v", chs)
	}
	s.SendDTMF(in, "7")
	e := rec.wait(t, &pos, "ChannelDtmfReceived", chanIs(in)).(*ari.ChannelDtmfReceived)
	eq(t, "digit after reconnect", e.Digit, "7")
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Options{Speed: 10, User: testUser, Password: testPass})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Authorization", "Basic "+basicAuth(testUser, testPass))
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, s.WebsocketURL()+"?app=g", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return s.registeredApp("g") })
	s.AddEndpoint("PJSIP", "1", Party{NoAnswer: true})
	for i := 0; i < 20; i++ {
		s.Call(Inbound{App: "g", Party: Party{Patience: time.Hour, Digits: "123"}})
		call(t, s, "POST", "/channels", url.Values{"endpoint": {"PJSIP/1"}, "app": {"g"}}, nil)
	}
	_, _, err = ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ws.CloseNow()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d > baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	eq(t, "timers", s.clock.pending(), 0)
}
