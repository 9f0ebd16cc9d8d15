package ari

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	ari6 "github.com/CyCoreSystems/ari/v6"
	"github.com/google/go-cmp/cmp"
	sb "github.com/switchboard/switchboard"
)

// recorded returns the recorded ARI frames in testdata/events.jsonl (the
// shapes Asterisk 22 sends).
func recorded(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	return out
}

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDecodeRecorded(t *testing.T) {
	const node = "02:42:ac:11:00:02"
	hdr := func(typ, at string) sb.EventHeader {
		return sb.EventHeader{Type: typ, Node: node, Time: ts(at)}
	}
	alice := func(state sb.ChannelState) sb.ChannelInfo {
		return sb.ChannelInfo{
			ID: "1741083302.17", Name: "PJSIP/trunk-00000008", State: state,
			CallerNumber: "+15557654321", CallerName: "Alice Smith",
			Exten: "+15551230000", Context: "from-trunk", Language: "en",
			Created: ts("2025-03-04T10:15:02.101+0000"),
		}
	}
	want := []struct {
		ev  sb.Event
		res decodeResult
	}{
		{sb.ChannelEntered{EventHeader: hdr("StasisStart", "2025-03-04T10:15:02.113+0000"), Channel: alice("Ring"), Args: []string{"inbound", "+15551230000"}}, decoded},
		{sb.ChannelStateChanged{EventHeader: hdr("ChannelStateChange", "2025-03-04T10:15:02.250+0000"), Channel: alice("Up")}, decoded},
		{sb.PlaybackStarted{EventHeader: hdr("PlaybackStarted", "2025-03-04T10:15:02.260+0000"), Playback: "pb-greet-1", Target: "channel:1741083302.17"}, decoded},
		{sb.DTMFReceived{EventHeader: hdr("ChannelDtmfReceived", "2025-03-04T10:15:04.010+0000"), Channel: "1741083302.17", Digit: "5", Duration: 120 * time.Millisecond}, decoded},
		{sb.PlaybackFinished{EventHeader: hdr("PlaybackFinished", "2025-03-04T10:15:05.400+0000"), Playback: "pb-greet-1", Target: "channel:1741083302.17", State: "done"}, decoded},
		{sb.DialResult{EventHeader: hdr("Dial", "2025-03-04T10:15:05.500+0000"), Peer: "agent-leg-1", Status: "RINGING"}, decoded},
		{sb.VariableSet{EventHeader: hdr("ChannelVarset", "2025-03-04T10:15:05.510+0000"), Channel: "agent-leg-1", Name: "SWITCHBOARD_CALL", Value: "1741083302.17"}, decoded},
		{sb.EnteredBridge{EventHeader: hdr("ChannelEnteredBridge", "2025-03-04T10:15:08.000+0000"), Bridge: "br-1741083302.17", Channel: "1741083302.17"}, decoded},
		{sb.RecordingStarted{EventHeader: hdr("RecordingStarted", "2025-03-04T10:15:08.100+0000"), Name: "call-1741083302.17", Target: "bridge:br-1741083302.17"}, decoded},
		{sb.RecordingFinished{EventHeader: hdr("RecordingFinished", "2025-03-04T10:16:10.100+0000"), Name: "call-1741083302.17", Target: "bridge:br-1741083302.17", Duration: 62 * time.Second}, decoded},
		{sb.RecordingFailed{EventHeader: hdr("RecordingFailed", "2025-03-04T10:16:10.200+0000"), Name: "call-x", Target: "channel:1741083302.17", Cause: "Could not create file"}, decoded},
		{sb.LeftBridge{EventHeader: hdr("ChannelLeftBridge", "2025-03-04T10:16:10.000+0000"), Bridge: "br-1741083302.17", Channel: "1741083302.17"}, decoded},
		{sb.HangupRequested{EventHeader: hdr("ChannelHangupRequest", "2025-03-04T10:16:10.001+0000"), Channel: "1741083302.17", Cause: 16}, decoded},
		{sb.ChannelLeft{EventHeader: hdr("StasisEnd", "2025-03-04T10:16:10.002+0000"), Channel: alice("Up")}, decoded},
		{sb.ChannelDestroyed{EventHeader: hdr("ChannelDestroyed", "2025-03-04T10:16:10.010+0000"), Channel: alice("Up"), Cause: 16, CauseText: "Normal Clearing"}, decoded},
		{sb.BridgeDestroyed{EventHeader: hdr("BridgeDestroyed", "2025-03-04T10:16:11.000+0000"), Bridge: "br-1741083302.17"}, decoded},
		{sb.EndpointStateChanged{EventHeader: hdr("EndpointStateChange", "2025-03-04T10:16:12.000+0000"), Endpoint: sb.EndpointState{Endpoint: "PJSIP/1001", State: "offline"}}, decoded},
		{nil, ignored}, // ChannelDialplan: known to ari/v6, unused
		{nil, ignored}, // ApplicationRegistered: unknown to ari/v6
	}
	frames := recorded(t)
	if len(frames) != len(want) {
		t.Fatalf("%d recorded frames, %d expectations", len(frames), len(want))
	}
	for i, f := range frames {
		got, res, err := decode(f, "fallback-node")
		if err != nil || res != want[i].res {
			t.Errorf("frame %d: result %v err %v, want %v", i, res, err, want[i].res)
			continue
		}
		if diff := cmp.Diff(want[i].ev, got); diff != "" {
			t.Errorf("frame %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestDecodeEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		res   decodeResult
		check func(t *testing.T, e sb.Event)
	}{
		{name: "not json", frame: `{"type":`, res: malformed},
		{name: "no type", frame: `{"channel":{"id":"1"}}`, res: malformed},
		{name: "known type with bad field", frame: `{"type":"StasisStart","args":7}`, res: malformed},
		{name: "unknown type", frame: `{"type":"ChannelToneDetected","channel":{"id":"1"}}`, res: ignored},
		{name: "no asterisk_id uses the adapter's node", frame: `{"type":"StasisEnd","channel":{"id":"c1","state":"Up"}}`, res: decoded,
			check: func(t *testing.T, e sb.Event) {
				got := e.(sb.ChannelLeft)
				if got.Node != "fallback-node" || got.Channel.ID != "c1" || !got.Channel.Created.IsZero() || !got.Time.IsZero() {
					t.Errorf("got %+v", got)
				}
			}},
		{name: "replaced channel", frame: `{"type":"StasisStart","args":[],"channel":{"id":"new"},"replace_channel":{"id":"old"}}`, res: decoded,
			check: func(t *testing.T, e sb.Event) {
				if got := e.(sb.ChannelEntered); got.Replaced != "old" || got.Channel.ID != "new" {
					t.Errorf("got %+v", got)
				}
			}},
		{name: "busy dial", frame: `{"type":"Dial","dialstatus":"BUSY","peer":{"id":"p;1"},"caller":{"id":"c"}}`, res: decoded,
			check: func(t *testing.T, e sb.Event) {
				if got := e.(sb.DialResult); got.Status != "BUSY" || got.Peer != "p;1" || got.Caller != "c" {
					t.Errorf("got %+v", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, res, err := decode([]byte(tt.frame), "fallback-node")
			if res != tt.res {
				t.Fatalf("result %v (err %v), want %v", res, err, tt.res)
			}
			if (res == malformed) != (err != nil) {
				t.Errorf("err %v with result %v", err, res)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// FuzzDecode feeds arbitrary frames to the decoder: it must never panic, and
// it must classify every frame.
func FuzzDecode(f *testing.F) {
	for _, fr := range recorded(f) {
		f.Add(fr)
	}
	f.Add([]byte(`{"type":"StasisStart","channel":null}`))
	f.Add([]byte(`{"type":"Dial","peer":{"creationtime":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, res, err := decode(data, "n")
		switch res {
		case decoded:
			if e == nil || err != nil {
				t.Fatalf("decoded without an event: %v %v", e, err)
			}
			_ = sb.ChannelOf(e)
		case ignored:
			if e != nil || err != nil {
				t.Fatalf("ignored with %v %v", e, err)
			}
		case malformed:
			if err == nil {
				t.Fatal("malformed without an error")
			}
		default:
			t.Fatalf("result %v", res)
		}
	})
}

// legacyTranslate is how events were translated from ari.DecodeEvent
// before decode read frames itself: the oracle decode is checked against.
func legacyTranslate(ev ari6.Event, node string) sb.Event {
	switch e := ev.(type) {
	case *ari6.StasisStart:
		return sb.ChannelEntered{
			EventHeader: header(&e.EventData, node),
			Channel:     channelInfo(&e.Channel),
			Args:        e.Args,
			Replaced:    sb.ChannelID(e.ReplaceChannel.ID),
		}
	case *ari6.StasisEnd:
		return sb.ChannelLeft{EventHeader: header(&e.EventData, node), Channel: channelInfo(&e.Channel)}
	case *ari6.ChannelStateChange:
		return sb.ChannelStateChanged{EventHeader: header(&e.EventData, node), Channel: channelInfo(&e.Channel)}
	case *ari6.ChannelDtmfReceived:
		return sb.DTMFReceived{
			EventHeader: header(&e.EventData, node),
			Channel:     sb.ChannelID(e.Channel.ID),
			Digit:       e.Digit,
			Duration:    time.Duration(e.DurationMs) * time.Millisecond,
		}
	case *ari6.ChannelHangupRequest:
		return sb.HangupRequested{
			EventHeader: header(&e.EventData, node),
			Channel:     sb.ChannelID(e.Channel.ID),
			Cause:       e.Cause,
			Soft:        e.Soft,
		}
	case *ari6.ChannelDestroyed:
		return sb.ChannelDestroyed{
			EventHeader: header(&e.EventData, node),
			Channel:     channelInfo(&e.Channel),
			Cause:       e.Cause,
			CauseText:   e.CauseTxt,
		}
	case *ari6.ChannelEnteredBridge:
		return sb.EnteredBridge{
			EventHeader: header(&e.EventData, node),
			Bridge:      sb.BridgeID(e.Bridge.ID),
			Channel:     sb.ChannelID(e.Channel.ID),
		}
	case *ari6.ChannelLeftBridge:
		return sb.LeftBridge{
			EventHeader: header(&e.EventData, node),
			Bridge:      sb.BridgeID(e.Bridge.ID),
			Channel:     sb.ChannelID(e.Channel.ID),
		}
	case *ari6.BridgeDestroyed:
		return sb.BridgeDestroyed{EventHeader: header(&e.EventData, node), Bridge: sb.BridgeID(e.Bridge.ID)}
	case *ari6.PlaybackStarted:
		return sb.PlaybackStarted{
			EventHeader: header(&e.EventData, node),
			Playback:    sb.PlaybackID(e.Playback.ID),
			Target:      e.Playback.TargetURI,
		}
	case *ari6.PlaybackFinished:
		return sb.PlaybackFinished{
			EventHeader: header(&e.EventData, node),
			Playback:    sb.PlaybackID(e.Playback.ID),
			Target:      e.Playback.TargetURI,
			State:       e.Playback.State,
		}
	case *ari6.RecordingStarted:
		return sb.RecordingStarted{
			EventHeader: header(&e.EventData, node),
			Name:        e.Recording.Name,
			Target:      e.Recording.TargetURI,
		}
	case *ari6.RecordingFinished:
		return sb.RecordingFinished{
			EventHeader: header(&e.EventData, node),
			Name:        e.Recording.Name,
			Target:      e.Recording.TargetURI,
			Duration:    time.Duration(e.Recording.Duration),
		}
	case *ari6.RecordingFailed:
		return sb.RecordingFailed{
			EventHeader: header(&e.EventData, node),
			Name:        e.Recording.Name,
			Target:      e.Recording.TargetURI,
			Cause:       e.Recording.Cause,
		}
	case *ari6.Dial:
		return sb.DialResult{
			EventHeader: header(&e.EventData, node),
			Peer:        sb.ChannelID(e.Peer.ID),
			Caller:      sb.ChannelID(e.Caller.ID),
			Status:      e.Dialstatus,
		}
	case *ari6.ChannelVarset:
		return sb.VariableSet{
			EventHeader: header(&e.EventData, node),
			Channel:     sb.ChannelID(e.Channel.ID),
			Name:        e.Variable,
			Value:       e.Value,
		}
	case *ari6.EndpointStateChange:
		return sb.EndpointStateChanged{
			EventHeader: header(&e.EventData, node),
			Endpoint:    endpointState(e.Endpoint.Technology, e.Endpoint.Resource, e.Endpoint.State),
		}
	}
	return nil
}

func header(d *ari6.EventData, node string) sb.EventHeader {
	if d.Node != "" {
		node = d.Node
	}
	return sb.EventHeader{Type: d.Type, Node: node, Time: time.Time(d.Timestamp)}
}

// TestDecodeMatchesDecodeEvent: decode gives, for every recorded frame of
// Asterisk 22 and every frame the simulator sends in the conformance
// recordings, what ari.DecodeEvent and the translation from its types gave.
func TestDecodeMatchesDecodeEvent(t *testing.T) {
	const node = "n1"
	frames := recorded(t)
	if len(frames) < 10 {
		t.Fatalf("only %d recorded frames", len(frames))
	}
	for i, f := range frames {
		got, res, err := decode(f, node)
		ev, derr := ari6.DecodeEvent(f)
		if derr != nil {
			if res == decoded {
				t.Errorf("frame %d: decode took %s, ari.DecodeEvent refused it: %v", i+1, f, derr)
			}
			continue
		}
		want := legacyTranslate(ev, node)
		if err != nil {
			t.Errorf("frame %d: %v", i+1, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("frame %d %s (-ari.DecodeEvent +decode):\n%s", i+1, f, diff)
		}
	}
}

// BenchmarkDecode decodes the recorded Asterisk 22 frames, one op per frame.
func BenchmarkDecode(b *testing.B) {
	frames := recorded(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := decode(frames[i%len(frames)], "n1"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecodeEvent is the same through ari.DecodeEvent and the old
// translation, for comparison.
func BenchmarkDecodeEvent(b *testing.B) {
	frames := recorded(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev, err := ari6.DecodeEvent(frames[i%len(frames)])
		if err == nil {
			legacyTranslate(ev, "n1")
		}
		i++
	}
}

// TestDecodeChannelAnswer: an originate's answer decoded in one pass is
// what json.Unmarshal and channelInfo make of it, plain or not.
func TestDecodeChannelAnswer(t *testing.T) {
	for _, answer := range []string{
		`{"id":"1700000000.7","name":"PJSIP/1001-00000007","state":"Down","protocol_id":"","caller":{"name":"","number":""},` +
			`"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"default","exten":"s","priority":1,"app_name":"","app_data":""},` +
			`"creationtime":"2026-12-06T20:40:22.123+0000","language":"en","channelvars":{"SB_CALL_ID":"x"}}`,
		`{"id":"a\u00e9;1","name":"Local/x@y-0001;1","state":"Up","caller":{"name":"A \"B\"","number":"+1555"},"creationtime":"2026-12-06T20:40:22.123+0100"}`,
		`{"id":"z","state":null,"caller":null,"dialplan":null}`,
	} {
		var got sb.ChannelInfo
		if err := decodeChannel(&got)([]byte(answer)); err != nil {
			t.Fatalf("%s: %v", answer, err)
		}
		var data ari6.ChannelData
		if err := json.Unmarshal([]byte(answer), &data); err != nil {
			t.Fatal(err)
		}
		if want := channelInfo(&data); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", answer, got, want)
		}
	}
	var ci sb.ChannelInfo
	if decodeChannel(&ci)([]byte(`{"id":`)) == nil {
		t.Error("a cut answer decoded")
	}
}
