package ari

// The PBX conformance suite. It always runs against the simulator (sim)
// and, when ARI_URL, ARI_USERNAME and ARI_PASSWORD are set, also against a
// real Asterisk 22 loaded with configs/asterisk/extensions_test.conf:
//
//	make test-asterisk
//	# = ARI_URL=http://asterisk:8088/ari ARI_USERNAME=switchboard \
//	#   ARI_PASSWORD=... go test -count=1 -v -run Conformance ./ari/
//
// It asserts what a real Asterisk does (the facts of
// ../shared/ARI-NOTES.md, "Lifecycle facts" above all), not the
// simulator's habits; where the two may differ in a detail no fact
// covers, it asserts nothing about it. An event that must not come is
// checked with a marker (harness.mark): a later event the test provokes,
// before which the forbidden one would have arrived. Inbound calls enter
// from the dialplan (on Asterisk the ;2 half of Local/in-TOKEN), so like a
// trunk call they end at StasisEnd with no ChannelDestroyed; originated
// channels are Local/EXTEN@switchboard-test/n on both targets. The far
// end is driven by the simulator's controls or, on Asterisk, by the
// dialplan reacting to a digit we send. Only what needs the simulator's
// control of the PBX itself skips on Asterisk, saying why.
//
// Tests, one behaviour each (go test -run 'Conformance/sim/NAME'):
//
//	link                                       the link is up and names the node
//	originate                                  an originate enters Up with its args and variables
//	originate_instant_answer_skips_ringing     no Ringing, no Dial RINGING before an instant answer
//	originate_busy                             Dial BUSY; ;1 destroyed cause 0, ;2 cause 17; never enters
//	originate_no_answer                        the originate timeout destroys the channel, cause 19
//	dial_timeout_is_soft_32_then_19            create+dial: Ringing, HangupRequest 32 soft, destroyed 19
//	answer                                     an inbound call enters ringing and is answered
//	event_fields                               event header and channel fields of a StasisStart
//	play                                       playback started/finished, stopped early, then gone
//	play_unsupported_media_never_finishes      bogus:thing: 201, started, never finished, GET 404
//	dtmf_received                              one event per digit from the far end
//	dtmf_sent                                  DTMF to a channel; to a missing one is not found
//	bridge                                     members, listing, play, remove, destroy with a member in
//	bridge_created_never_sent                  creating and using a bridge sends no BridgeCreated
//	bridge_destroyed_not_sent_after_removal    no BridgeDestroyed once the members were removed
//	bridge_destroyed_not_sent_if_never_entered no BridgeDestroyed for a bridge no channel entered
//	bridge_record                              a bridge recording is stored and downloads as WAV
//	snoop                                      a snoop channel enters with its args
//	snoop_ends_with_its_target                 the snoop gets StasisEnd only when its target goes
//	far_end_hangs_up                           dialplan channel: HangupRequest, StasisEnd, no destroyed
//	far_end_hangs_up_subscribed                explicitly subscribed: ChannelDestroyed, cause 0
//	far_end_hangs_up_originated                originated: HangupRequest, StasisEnd, destroyed 16
//	far_end_hangs_up_in_a_bridge               leaves the bridge, which stays and is deleted silently
//	we_hang_up                                 dialplan channel: HangupRequest 32 soft, StasisEnd only
//	we_hang_up_originated                      originated: HangupRequest 32 soft, StasisEnd, destroyed
//	hold_and_music_on_hold                     hold, unhold and music on hold commands
//	hold_on_local_sends_no_hold_events         no ChannelHold/ChannelUnhold on a Local channel
//	continue_to_the_dialplan                   a continued channel leaves; only hang-up still works
//	unattended_call_is_recorded                no application: abandon message, hangup handler's global
//	endpoints                                  endpoint listing and state events
//	errors                                     error codes of failed commands
//	get_channels_lists_both_local_halves       GET /channels lists ;1 and ;2
//	application_lists_both_local_halves        GET /applications/{app} lists ;1 and ;2
//	channels_marks_only_stasis_in_app          Channels(): ;1 and inbound InApp with args, ;2 not
//	reconnect_after_our_side_drops             reconnect; the call is listed and controllable
//	reconnect_after_the_PBX_drops              the same when the PBX closes the WebSocket
//	nothing_lost                               no event lost or undecodable

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/sim"
)

// conformanceTests is the suite, in the order it runs; the comment above
// lists the same names (TestConformanceSuiteListed).
var conformanceTests = []struct {
	name string
	run  func(t *testing.T, h *harness)
}{
	{"link", testLink},
	{"originate", testOriginate},
	{"originate_instant_answer_skips_ringing", testInstantAnswer},
	{"originate_busy", testBusy},
	{"originate_no_answer", testNoAnswer},
	{"dial_timeout_is_soft_32_then_19", testDialTimeout},
	{"answer", testAnswer},
	{"event_fields", testEventFields},
	{"play", testPlay},
	{"play_unsupported_media_never_finishes", testPlayUnsupported},
	{"dtmf_received", testDTMFReceived},
	{"dtmf_sent", testDTMFSent},
	{"bridge", testBridge},
	{"bridge_created_never_sent", testBridgeCreatedNeverSent},
	{"bridge_destroyed_not_sent_after_removal", testBridgeDestroyedAfterRemoval},
	{"bridge_destroyed_not_sent_if_never_entered", testBridgeDestroyedNeverEntered},
	{"bridge_record", testBridgeRecord},
	{"snoop", testSnoop},
	{"snoop_ends_with_its_target", testSnoopEndsWithTarget},
	{"far_end_hangs_up", testFarEndHangsUp},
	{"far_end_hangs_up_subscribed", testFarEndHangsUpSubscribed},
	{"far_end_hangs_up_originated", testFarEndHangsUpOriginated},
	{"far_end_hangs_up_in_a_bridge", testFarEndHangsUpInABridge},
	{"we_hang_up", testWeHangUp},
	{"we_hang_up_originated", testWeHangUpOriginated},
	{"hold_and_music_on_hold", testHold},
	{"hold_on_local_sends_no_hold_events", testHoldLocal},
	{"continue_to_the_dialplan", testContinue},
	{"unattended_call_is_recorded", testUnattended},
	{"endpoints", testEndpoints},
	{"errors", testErrors},
	{"get_channels_lists_both_local_halves", testGetChannelsBothHalves},
	{"application_lists_both_local_halves", testApplicationBothHalves},
	{"channels_marks_only_stasis_in_app", testChannelsInApp},
	{"reconnect_after_our_side_drops", testReconnectOurSide},
	{"reconnect_after_the_PBX_drops", testReconnectPBX},
	{"nothing_lost", testNothingLost},
}

func TestConformance(t *testing.T) {
	targets := []*target{simTarget(t)}
	if r := realTarget(); r != nil {
		targets = append(targets, r)
	} else {
		t.Log("ARI_URL, ARI_USERNAME, ARI_PASSWORD not set: conformance against the simulator only")
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			h := newHarness(t, tg)
			for _, ct := range conformanceTests {
				t.Run(ct.name, func(t *testing.T) { ct.run(t, h) })
			}
		})
	}
}

func testLink(t *testing.T, h *harness) {
	if !h.a.Ready() || h.a.Node() == "" {
		t.Fatalf("Ready %v Node %q", h.a.Ready(), h.a.Node())
	}
	if h.sim != nil && h.a.Node() != "sim-conformance" {
		t.Errorf("Node %q, want the entity id", h.a.Node())
	}
}

func testOriginate(t *testing.T, h *harness) {
	a := h.a
	id := sb.ChannelID(token("out"))
	from := h.rec.mark()
	info, err := a.Originate(h.ctx, sb.OriginateRequest{ID: id, Endpoint: local(extAnswer),
		CallerID: "Switchboard <+15551230000>", Timeout: 20 * time.Second, AppArgs: []string{"outbound", "lead-7"},
		Variables: map[string]string{"SB_LEAD": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Hangup(h.ctx, id, "") })
	if info.ID != id || info.Name == "" {
		t.Errorf("originate returned %+v", info)
	}
	_, e := h.rec.wait(t, from, "ChannelEntered", is[sb.ChannelEntered](id))
	ce := e.(sb.ChannelEntered)
	if ce.Channel.State != sb.ChannelUp || !slices.Equal(ce.Args, []string{"outbound", "lead-7"}) {
		t.Errorf("entered %+v, want state Up and the app args", ce)
	}
	v, err := a.GetVariable(h.ctx, id, "SB_LEAD")
	if err != nil || v != "7" {
		t.Errorf("variable SB_LEAD = %q, %v; want 7", v, err)
	}
	if err := a.SetVariable(h.ctx, id, "SB_X", "a b&c"); err != nil {
		t.Error(err)
	}
	if v, err := a.GetVariable(h.ctx, id, "SB_X"); err != nil || v != "a b&c" {
		t.Errorf("variable SB_X = %q, %v", v, err)
	}
}

// A far end that answers at once goes from Down straight to Up.
func testInstantAnswer(t *testing.T, h *harness) {
	from := h.rec.mark()
	id := h.originate(t, extAnswer, "outbound", "instant")
	i, _ := h.rec.wait(t, from, "ChannelEntered", is[sb.ChannelEntered](id))
	j, _ := h.rec.wait(t, from, "Dial ANSWER", func(e sb.Event) bool {
		d, ok := e.(sb.DialResult)
		return ok && d.Peer == id && d.Status == "ANSWER"
	})
	h.rec.never(t, from, max(i, j), "Ringing before an instant answer", func(e sb.Event) bool {
		sc, ok := e.(sb.ChannelStateChanged)
		return ok && sc.Channel.ID == id && sc.Channel.State == sb.ChannelRinging
	})
	h.rec.never(t, from, max(i, j), "Dial RINGING before an instant answer", func(e sb.Event) bool {
		d, ok := e.(sb.DialResult)
		return ok && d.Peer == id && d.Status == "RINGING"
	})
}

// Busy on a Local channel: Dial BUSY is the busy signal; ;1 is destroyed
// with cause 0, ;2 (the application is subscribed to both halves of a
// Local channel it originated) with 17.
func testBusy(t *testing.T, h *harness) {
	id := sb.ChannelID(token("busy"))
	from := h.rec.mark()
	if _, err := h.a.Originate(h.ctx, sb.OriginateRequest{ID: id, Endpoint: local(extBusy), Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.Hangup(h.ctx, id, "") })
	i, _ := h.rec.wait(t, from, "Dial BUSY", func(e sb.Event) bool {
		d, ok := e.(sb.DialResult)
		return ok && d.Peer == id && d.Status == "BUSY"
	})
	k, d1 := h.rec.wait(t, from, "ChannelDestroyed ;1", is[sb.ChannelDestroyed](id))
	_, d2 := h.rec.wait(t, from, "ChannelDestroyed ;2", is[sb.ChannelDestroyed](id+";2"))
	if i > k {
		t.Error("ChannelDestroyed before the Dial BUSY")
	}
	if c := d1.(sb.ChannelDestroyed).Cause; c != 0 {
		t.Errorf(";1 cause %d, want 0 (busy is read from Dial)", c)
	}
	if c := d2.(sb.ChannelDestroyed).Cause; c != 17 {
		t.Errorf(";2 cause %d, want 17 (user busy)", c)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "a busy call entered the application", is[sb.ChannelEntered](id))
}

func testNoAnswer(t *testing.T, h *harness) {
	id := sb.ChannelID(token("noans"))
	from := h.rec.mark()
	if _, err := h.a.Originate(h.ctx, sb.OriginateRequest{ID: id, Endpoint: local(extNoAnswer), Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.Hangup(h.ctx, id, "") })
	_, d := h.rec.wait(t, from, "ChannelDestroyed", is[sb.ChannelDestroyed](id))
	if c := d.(sb.ChannelDestroyed).Cause; c != 19 {
		t.Errorf("cause %d, want 19 (no answer)", c)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "an unanswered call entered the application", is[sb.ChannelEntered](id))
}

// POST /channels/create enters at once (Down); a dial?timeout=N that
// expires hangs up softly (32) and destroys with 19.
func testDialTimeout(t *testing.T, h *harness) {
	id := sb.ChannelID(token("dial"))
	from := h.rec.mark()
	q := url.Values{"endpoint": {local(extNoAnswer)}, "app": {confApp}, "channelId": {string(id)}}
	if err := h.a.rest(h.ctx, "create", route{http.MethodPost, "/channels/create"}, "/channels/create", q, nil, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.Hangup(h.ctx, id, "") })
	_, e := h.rec.wait(t, from, "ChannelEntered", is[sb.ChannelEntered](id))
	if st := e.(sb.ChannelEntered).Channel.State; st != sb.ChannelDown {
		t.Errorf("created channel entered in state %q, want Down", st)
	}
	if err := h.a.rest(h.ctx, "dial", route{http.MethodPost, "/channels/{id}/dial"}, "/channels/"+string(id)+"/dial", url.Values{"timeout": {"2"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	r, _ := h.rec.wait(t, from, "Ringing", func(e sb.Event) bool {
		sc, ok := e.(sb.ChannelStateChanged)
		return ok && sc.Channel.ID == id && sc.Channel.State == sb.ChannelRinging
	})
	i, hr := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](id))
	k, d := h.rec.wait(t, from, "ChannelDestroyed", is[sb.ChannelDestroyed](id))
	if !(r < i && i < k) {
		t.Errorf("order Ringing@%d HangupRequested@%d ChannelDestroyed@%d", r, i, k)
	}
	if hr := hr.(sb.HangupRequested); hr.Cause != 32 || !hr.Soft {
		t.Errorf("hang-up request cause %d soft %v, want 32 soft", hr.Cause, hr.Soft)
	}
	if c := d.(sb.ChannelDestroyed).Cause; c != 19 {
		t.Errorf("destroyed cause %d, want 19 (no answer)", c)
	}
}

func testAnswer(t *testing.T, h *harness) {
	from := h.rec.mark()
	ch, ce := h.inbound(t, extWait)
	if ce.Channel.State != sb.ChannelRing {
		t.Errorf("inbound channel state %q, want Ring", ce.Channel.State)
	}
	if err := h.a.Ring(h.ctx, ch); err != nil {
		t.Errorf("ring: %v", err)
	}
	if err := h.a.Answer(h.ctx, ch); err != nil {
		t.Fatal(err)
	}
	_, e := h.rec.wait(t, from, "ChannelStateChanged", func(e sb.Event) bool {
		sc, ok := e.(sb.ChannelStateChanged)
		return ok && sc.Channel.ID == ch && sc.Channel.State == sb.ChannelUp
	})
	if e.Header().Type != "ChannelStateChange" {
		t.Errorf("type %q", e.Header().Type)
	}
}

func testEventFields(t *testing.T, h *harness) {
	ch, ce := h.inbound(t, extWait)
	c := ce.Channel
	if ce.Type != "StasisStart" || ce.Node != h.a.Node() || ce.Time.IsZero() || c.Created.IsZero() {
		t.Errorf("header %+v, created %v", ce.EventHeader, c.Created)
	}
	if d := time.Since(ce.Time); d < -24*time.Hour || d > 24*time.Hour {
		t.Errorf("event time %v is far from now", ce.Time)
	}
	if c.ID != ch || c.Name == "" || c.Context == "" || c.Exten == "" || c.CallerNumber != "+15550001" {
		t.Errorf("channel %+v", c)
	}
	if h.sim != nil && (c.Exten != "+15551230000" || c.CallerName != "Conformance" || c.Context != "from-trunk") {
		t.Errorf("sim channel %+v", c)
	}
	if h.real() && c.Context != dpContext {
		t.Errorf("channel context %q", c.Context)
	}
}

func testPlay(t *testing.T, h *harness) {
	a := h.a
	ch := h.answered(t, extWait)
	pb := sb.PlaybackID(token("pb"))
	from := h.rec.mark()
	if err := a.Play(h.ctx, ch, pb, h.sound); err != nil {
		t.Fatal(err)
	}
	i, s := h.rec.wait(t, from, "PlaybackStarted", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackStarted)
		return ok && p.Playback == pb
	})
	j, f := h.rec.wait(t, from, "PlaybackFinished", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackFinished)
		return ok && p.Playback == pb
	})
	if i > j {
		t.Error("PlaybackFinished before PlaybackStarted")
	}
	if s.(sb.PlaybackStarted).Target != "channel:"+string(ch) {
		t.Errorf("target %q", s.(sb.PlaybackStarted).Target)
	}
	if st := f.(sb.PlaybackFinished).State; st != "done" {
		t.Errorf("finished state %q, want done", st)
	}
	// A second playback stopped early.
	pb2 := sb.PlaybackID(token("pb"))
	from = h.rec.mark()
	if err := a.Play(h.ctx, ch, pb2, "sound:silence/10"); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "PlaybackStarted", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackStarted)
		return ok && p.Playback == pb2
	})
	if err := a.StopPlayback(h.ctx, pb2); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "PlaybackFinished after stop", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackFinished)
		return ok && p.Playback == pb2
	})
	if err := a.StopPlayback(h.ctx, pb2); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("stop a finished playback: %v, want not_found", err)
	}
}

// Asterisk accepts a media scheme it cannot play, starts the playback and
// drops it: no PlaybackFinished ever, and the playback is gone.
func testPlayUnsupported(t *testing.T, h *harness) {
	ch := h.answered(t, extWait)
	pb := sb.PlaybackID(token("bogus"))
	from := h.rec.mark()
	if err := h.a.Play(h.ctx, ch, pb, "bogus:thing"); err != nil {
		t.Fatalf("play bogus:thing: %v, want 201", err)
	}
	h.rec.wait(t, from, "PlaybackStarted", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackStarted)
		return ok && p.Playback == pb
	})
	// The next playback on the channel plays after it, and finishes.
	pb2 := sb.PlaybackID(token("pb"))
	if err := h.a.Play(h.ctx, ch, pb2, h.sound); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "PlaybackFinished of the next playback", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackFinished)
		return ok && p.Playback == pb2
	})
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "PlaybackFinished for unsupported media", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackFinished)
		return ok && p.Playback == pb
	})
	err := h.a.rest(h.ctx, "get_playback", rGetPlayback, rGetPlayback.path(string(pb)), nil, nil, nil)
	if sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("GET the dropped playback: %v, want not_found (404)", err)
	}
}

func testDTMFReceived(t *testing.T, h *harness) {
	ch := h.answered(t, extDTMF)
	from := h.rec.mark()
	h.pressDigits(t, ch)
	var digits string
	last := from
	for range 3 {
		i, e := h.rec.wait(t, last, "DTMFReceived", is[sb.DTMFReceived](ch))
		d := e.(sb.DTMFReceived)
		if d.Duration <= 0 {
			t.Errorf("digit %q duration %v", d.Digit, d.Duration)
		}
		digits += d.Digit
		last = i + 1
	}
	if digits != "12#" {
		t.Errorf("digits %q, want 12#", digits)
	}
}

func testDTMFSent(t *testing.T, h *harness) {
	ch := h.answered(t, extWait)
	if err := h.a.SendDTMF(h.ctx, ch, "1234*#"); err != nil {
		t.Fatal(err)
	}
	if err := h.a.SendDTMF(h.ctx, "no-such-channel", "1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("dtmf to a missing channel: %v, want not_found", err)
	}
}

// A bridge deleted while a member is still in it sends BridgeDestroyed.
func testBridge(t *testing.T, h *harness) {
	a := h.a
	c1 := h.answered(t, extWait)
	c2 := h.answered(t, extWait)
	br := sb.BridgeID(token("br"))
	from := h.rec.mark()
	if err := a.CreateBridge(h.ctx, br, "conformance"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.DestroyBridge(h.ctx, br) })
	if err := a.AddToBridge(h.ctx, br, c1, c2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []sb.ChannelID{c1, c2} {
		_, e := h.rec.wait(t, from, "EnteredBridge", is[sb.EnteredBridge](c))
		if e.(sb.EnteredBridge).Bridge != br {
			t.Errorf("entered %+v", e)
		}
	}
	bridges, err := a.Bridges(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(bridges, func(b sb.BridgeInfo) bool { return b.ID == br })
	if i < 0 {
		t.Fatalf("bridge %s not listed in %+v", br, bridges)
	}
	got := slices.Clone(bridges[i].Channels)
	slices.Sort(got)
	want := []sb.ChannelID{c1, c2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bridge channels %v, want %v", got, want)
	}
	if err := a.PlayBridge(h.ctx, br, sb.PlaybackID(token("bpb")), h.sound); err != nil {
		t.Error(err)
	}
	from = h.rec.mark()
	if err := a.RemoveFromBridge(h.ctx, br, c1); err != nil {
		t.Fatal(err)
	}
	_, e := h.rec.wait(t, from, "LeftBridge", is[sb.LeftBridge](c1))
	if e.(sb.LeftBridge).Bridge != br {
		t.Errorf("left %+v", e)
	}
	if err := a.AddToBridge(h.ctx, br, "no-such-channel"); sb.ErrorCode(err) != sb.EINVALID && sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("add a missing channel: %v, want invalid (Asterisk: 400 Channel not found)", err)
	}
	from = h.rec.mark()
	if err := a.DestroyBridge(h.ctx, br); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "LeftBridge for the last member", is[sb.LeftBridge](c2))
	h.rec.wait(t, from, "BridgeDestroyed (a member was still in)", func(e sb.Event) bool {
		d, ok := e.(sb.BridgeDestroyed)
		return ok && d.Bridge == br
	})
	if err := a.DestroyBridge(h.ctx, br); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("destroy again: %v, want not_found", err)
	}
}

func testBridgeCreatedNeverSent(t *testing.T, h *harness) {
	ch := h.answered(t, extWait)
	br := sb.BridgeID(token("cbr"))
	rawFrom, from := h.raw.mark(), h.rec.mark()
	if err := h.a.CreateBridge(h.ctx, br, "created"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.DestroyBridge(h.ctx, br) })
	if err := h.a.AddToBridge(h.ctx, br, ch); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "EnteredBridge", is[sb.EnteredBridge](ch))
	m := h.mark(t)
	h.raw.never(t, rawFrom, m.raw, "BridgeCreated sent", rawIs("BridgeCreated", ""))
}

func testBridgeDestroyedAfterRemoval(t *testing.T, h *harness) {
	ch := h.answered(t, extWait)
	br := sb.BridgeID(token("rbr"))
	if err := h.a.CreateBridge(h.ctx, br, "removed"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.DestroyBridge(h.ctx, br) })
	from := h.rec.mark()
	if err := h.a.AddToBridge(h.ctx, br, ch); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "EnteredBridge", is[sb.EnteredBridge](ch))
	if err := h.a.RemoveFromBridge(h.ctx, br, ch); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "LeftBridge", is[sb.LeftBridge](ch))
	from = h.rec.mark()
	if err := h.a.DestroyBridge(h.ctx, br); err != nil {
		t.Fatal(err)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "BridgeDestroyed after the members were removed", func(e sb.Event) bool {
		d, ok := e.(sb.BridgeDestroyed)
		return ok && d.Bridge == br
	})
}

func testBridgeDestroyedNeverEntered(t *testing.T, h *harness) {
	br := sb.BridgeID(token("ebr"))
	from := h.rec.mark()
	if err := h.a.CreateBridge(h.ctx, br, "empty"); err != nil {
		t.Fatal(err)
	}
	if err := h.a.DestroyBridge(h.ctx, br); err != nil {
		t.Fatal(err)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "BridgeDestroyed for a bridge no channel entered", func(e sb.Event) bool {
		d, ok := e.(sb.BridgeDestroyed)
		return ok && d.Bridge == br
	})
}

func testBridgeRecord(t *testing.T, h *harness) {
	a := h.a
	c1 := h.answered(t, extWait)
	c2 := h.answered(t, extWait)
	br := sb.BridgeID(token("rbr"))
	if err := a.CreateBridge(h.ctx, br, "rec"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.DestroyBridge(h.ctx, br) })
	if err := a.AddToBridge(h.ctx, br, c1, c2); err != nil {
		t.Fatal(err)
	}
	name := token("rec")
	from := h.rec.mark()
	if err := a.RecordBridge(h.ctx, br, sb.RecordRequest{Name: name, Format: "wav", IfExists: "overwrite"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.DeleteStoredRecording(h.ctx, name) })
	_, e := h.rec.wait(t, from, "RecordingStarted", func(e sb.Event) bool {
		r, ok := e.(sb.RecordingStarted)
		return ok && r.Name == name
	})
	if e.(sb.RecordingStarted).Target != "bridge:"+string(br) {
		t.Errorf("target %q", e.(sb.RecordingStarted).Target)
	}
	if err := a.PauseRecording(h.ctx, name, true); err != nil {
		t.Error(err)
	}
	if err := a.PauseRecording(h.ctx, name, false); err != nil {
		t.Error(err)
	}
	// Some audio to record: a prompt played to the bridge, to its end.
	pb := sb.PlaybackID(token("rpb"))
	if err := a.PlayBridge(h.ctx, br, pb, h.sound); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "PlaybackFinished of the recorded prompt", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackFinished)
		return ok && p.Playback == pb
	})
	if err := a.StopRecording(h.ctx, name); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "RecordingFinished", func(e sb.Event) bool {
		r, ok := e.(sb.RecordingFinished)
		return ok && r.Name == name
	})
	rc, err := a.StoredRecording(h.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkWAV(t, b)
	if err := a.DeleteStoredRecording(h.ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := a.StoredRecording(h.ctx, name); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("download a deleted recording: %v, want not_found", err)
	}
}

// snoop starts a snoop channel on ch and returns it once it entered.
func (h *harness) snoop(t *testing.T, ch sb.ChannelID) sb.ChannelID {
	t.Helper()
	id := sb.ChannelID(token("snoop"))
	from := h.rec.mark()
	info, err := h.a.Snoop(h.ctx, sb.SnoopRequest{ID: id, Channel: ch, Spy: "both", Whisper: "none", AppArgs: []string{"snoop", string(ch)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.Hangup(h.ctx, id, "") })
	if info.ID != id {
		t.Errorf("snoop returned %+v", info)
	}
	_, e := h.rec.wait(t, from, "ChannelEntered for the snoop channel", is[sb.ChannelEntered](id))
	if ce := e.(sb.ChannelEntered); !slices.Equal(ce.Args, []string{"snoop", string(ch)}) {
		t.Errorf("snoop args %v", ce.Args)
	}
	return id
}

func testSnoop(t *testing.T, h *harness) {
	h.snoop(t, h.answered(t, extWait))
	if _, err := h.a.Snoop(h.ctx, sb.SnoopRequest{Channel: "no-such-channel", Spy: "both"}); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("snoop on a missing channel: %v, want not_found", err)
	}
}

// When the snooped channel hangs up, its snoop gets StasisEnd and nothing
// else.
func testSnoopEndsWithTarget(t *testing.T, h *harness) {
	ch := h.answered(t, extWait)
	sn := h.snoop(t, ch)
	from := h.rec.mark()
	if err := h.a.Hangup(h.ctx, ch, ""); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "ChannelLeft for the snoop", is[sb.ChannelLeft](sn))
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "HangupRequested for the snoop", is[sb.HangupRequested](sn))
	h.rec.never(t, from, m.ev, "ChannelDestroyed for the snoop", is[sb.ChannelDestroyed](sn))
}

// goneCode checks a command on a channel that left for good: not found,
// or on Asterisk, where the channel can outlive its StasisEnd for a
// moment, not in the application.
func goneCode(t *testing.T, h *harness, err error) {
	t.Helper()
	if c := sb.ErrorCode(err); c != sb.ENOTFOUND && !(h.real() && c == sb.ECONFLICT) {
		t.Errorf("answer a gone channel: %v, want not_found", err)
	}
}

// A channel that entered from the dialplan ends at StasisEnd: no
// ChannelDestroyed (the cause of its hang-up request is not asserted: on
// Asterisk the first one of a Local leg can carry 0).
func testFarEndHangsUp(t *testing.T, h *harness) {
	ch := h.answered(t, extHangup)
	from := h.rec.mark()
	h.farHangup(t, ch)
	i, _ := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](ch))
	j, _ := h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](ch))
	if i > j {
		t.Errorf("order HangupRequested@%d ChannelLeft@%d", i, j)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "ChannelDestroyed for a channel from the dialplan", is[sb.ChannelDestroyed](ch))
	goneCode(t, h, h.a.Answer(h.ctx, ch))
}

// An explicit subscription brings ChannelDestroyed back, with cause 0.
func testFarEndHangsUpSubscribed(t *testing.T, h *harness) {
	ch, _ := h.inbound(t, extHangup)
	if err := h.a.SubscribeChannel(h.ctx, ch); err != nil {
		t.Fatal(err)
	}
	h.answer(t, ch)
	from := h.rec.mark()
	h.farHangup(t, ch)
	i, _ := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](ch))
	j, _ := h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](ch))
	k, d := h.rec.wait(t, from, "ChannelDestroyed", is[sb.ChannelDestroyed](ch))
	if !(i < j && j < k) {
		t.Errorf("order HangupRequested@%d ChannelLeft@%d ChannelDestroyed@%d", i, j, k)
	}
	if c := d.(sb.ChannelDestroyed).Cause; c != 0 {
		t.Errorf("destroyed cause %d, want 0", c)
	}
}

// A channel the application originated keeps its subscription: it gets
// ChannelDestroyed with the far end's cause.
func testFarEndHangsUpOriginated(t *testing.T, h *harness) {
	id := h.originate(t, extHangup, "outbound", "hangup")
	from := h.rec.mark()
	h.farHangup(t, id)
	i, _ := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](id))
	j, _ := h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](id))
	k, d := h.rec.wait(t, from, "ChannelDestroyed", is[sb.ChannelDestroyed](id))
	if !(i < j && j < k) {
		t.Errorf("order HangupRequested@%d ChannelLeft@%d ChannelDestroyed@%d", i, j, k)
	}
	if d := d.(sb.ChannelDestroyed); d.Cause != 16 || d.CauseText == "" {
		t.Errorf("destroyed cause %d %q, want 16 Normal Clearing", d.Cause, d.CauseText)
	}
}

// A bridged channel whose far end hangs up leaves the bridge first; the
// bridge survives empty, and deleting it then sends no BridgeDestroyed.
func testFarEndHangsUpInABridge(t *testing.T, h *harness) {
	a := h.a
	ch := h.answered(t, extHangup)
	br := sb.BridgeID(token("hbr"))
	if err := a.CreateBridge(h.ctx, br, "hangup"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.DestroyBridge(h.ctx, br) })
	from := h.rec.mark()
	if err := a.AddToBridge(h.ctx, br, ch); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "EnteredBridge", is[sb.EnteredBridge](ch))
	h.farHangup(t, ch)
	i, _ := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](ch))
	j, _ := h.rec.wait(t, from, "LeftBridge", is[sb.LeftBridge](ch))
	k, _ := h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](ch))
	if !(i < j && j < k) {
		t.Errorf("order HangupRequested@%d LeftBridge@%d ChannelLeft@%d", i, j, k)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "ChannelDestroyed for a channel from the dialplan", is[sb.ChannelDestroyed](ch))
	bridges, err := a.Bridges(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(bridges, func(b sb.BridgeInfo) bool { return b.ID == br && len(b.Channels) == 0 }) {
		t.Errorf("empty bridge %s not listed: %+v", br, bridges)
	}
	from = h.rec.mark()
	if err := a.DestroyBridge(h.ctx, br); err != nil {
		t.Fatal(err)
	}
	m = h.mark(t)
	h.rec.never(t, from, m.ev, "BridgeDestroyed after the member left", func(e sb.Event) bool {
		d, ok := e.(sb.BridgeDestroyed)
		return ok && d.Bridge == br
	})
}

// Our hang-up is a soft hang-up (32 is Asterisk's flag, not a Q.850
// cause); a channel from the dialplan then ends at StasisEnd.
func testWeHangUp(t *testing.T, h *harness) {
	ch := h.answered(t, extWait)
	from := h.rec.mark()
	if err := h.a.Hangup(h.ctx, ch, "normal"); err != nil {
		t.Fatal(err)
	}
	i, hr := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](ch))
	j, _ := h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](ch))
	if i > j {
		t.Errorf("order HangupRequested@%d ChannelLeft@%d", i, j)
	}
	if hr := hr.(sb.HangupRequested); hr.Cause != 32 || !hr.Soft {
		t.Errorf("hang-up request cause %d soft %v, want 32 soft", hr.Cause, hr.Soft)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "ChannelDestroyed for a channel from the dialplan", is[sb.ChannelDestroyed](ch))
}

func testWeHangUpOriginated(t *testing.T, h *harness) {
	id := h.originate(t, extAnswer, "outbound", "hangup")
	from := h.rec.mark()
	if err := h.a.Hangup(h.ctx, id, "normal"); err != nil {
		t.Fatal(err)
	}
	i, hr := h.rec.wait(t, from, "HangupRequested", is[sb.HangupRequested](id))
	j, _ := h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](id))
	k, _ := h.rec.wait(t, from, "ChannelDestroyed", is[sb.ChannelDestroyed](id))
	if !(i < j && j < k) {
		t.Errorf("order HangupRequested@%d ChannelLeft@%d ChannelDestroyed@%d", i, j, k)
	}
	if hr := hr.(sb.HangupRequested); hr.Cause != 32 || !hr.Soft {
		t.Errorf("hang-up request cause %d soft %v, want 32 soft", hr.Cause, hr.Soft)
	}
}

func testHold(t *testing.T, h *harness) {
	a := h.a
	ch := h.answered(t, extWait)
	for _, step := range []struct {
		name string
		err  error
	}{
		{"hold", a.Hold(h.ctx, ch, true)},
		{"unhold", a.Hold(h.ctx, ch, false)},
		{"moh start", a.MusicOnHold(h.ctx, ch, "default", true)},
		{"moh stop", a.MusicOnHold(h.ctx, ch, "", false)},
	} {
		if step.err != nil {
			t.Errorf("%s: %v", step.name, step.err)
		}
	}
	if err := a.Hold(h.ctx, "no-such-channel", true); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("hold a missing channel: %v, want not_found", err)
	}
}

// ARI hold on a Local channel works and sends no ChannelHold/ChannelUnhold
// (events the adapter ignores: the frames are checked).
func testHoldLocal(t *testing.T, h *harness) {
	id := h.originate(t, extAnswer, "outbound", "hold")
	rawFrom := h.raw.mark()
	if err := h.a.Hold(h.ctx, id, true); err != nil {
		t.Fatalf("hold: %v", err)
	}
	if err := h.a.Hold(h.ctx, id, false); err != nil {
		t.Fatalf("unhold: %v", err)
	}
	m := h.mark(t)
	h.raw.never(t, rawFrom, m.raw, "ChannelHold on a Local channel", rawIs("ChannelHold", id))
	h.raw.never(t, rawFrom, m.raw, "ChannelUnhold on a Local channel", rawIs("ChannelUnhold", id))
}

func testContinue(t *testing.T, h *harness) {
	a := h.a
	ch := h.answered(t, extWait)
	from := h.rec.mark()
	if err := a.Continue(h.ctx, ch, dpContext, extWait, 1); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "ChannelLeft", is[sb.ChannelLeft](ch))
	chans, err := a.Channels(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(chans, func(c sb.ChannelInfo) bool { return c.ID == ch }) {
		t.Errorf("channel %s still listed after leaving the application", ch)
	}
	// Out of the application it exists but cannot be commanded ...
	if err := a.Answer(h.ctx, ch); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("answer a channel outside the application: %v, want conflict (409)", err)
	}
	br := sb.BridgeID(token("cbr"))
	if err := a.CreateBridge(h.ctx, br, "continue"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.DestroyBridge(h.ctx, br) })
	if err := a.AddToBridge(h.ctx, br, ch); sb.ErrorCode(err) != sb.EUNPROCESSABLE {
		t.Errorf("bridge a channel outside the application: %v, want unprocessable (422)", err)
	}
	// ... but it can still be hung up.
	if err := a.Hangup(h.ctx, ch, ""); err != nil {
		t.Errorf("hang up a channel in the dialplan: %v", err)
	}
}

func testEndpoints(t *testing.T, h *harness) {
	a := h.a
	if _, err := a.Endpoints(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.skipOnReal(t, "the suite cannot change a real phone's registration")
	h.sim.AddEndpoint("PJSIP", "7001", sim.Party{})
	eps, err := a.Endpoints(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(eps, sb.EndpointState{Endpoint: "PJSIP/7001", State: "online"}) {
		t.Errorf("PJSIP/7001 not listed online: %+v", eps)
	}
	if err := a.SubscribeEndpoint(h.ctx, "PJSIP/7001"); err != nil {
		t.Fatal(err)
	}
	from := h.rec.mark()
	if err := h.sim.SetEndpointState("PJSIP", "7001", "offline"); err != nil {
		t.Fatal(err)
	}
	_, e := h.rec.wait(t, from, "EndpointStateChanged", is[sb.EndpointStateChanged](""))
	if got := e.(sb.EndpointStateChanged).Endpoint; got != (sb.EndpointState{Endpoint: "PJSIP/7001", State: "offline"}) {
		t.Errorf("endpoint event %+v", got)
	}
}

func testErrors(t *testing.T, h *harness) {
	a := h.a
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"answer a missing channel", a.Answer(h.ctx, "no-such-channel"), sb.ENOTFOUND},
		{"hang up a missing channel", a.Hangup(h.ctx, "no-such-channel", ""), sb.ENOTFOUND},
		{"play on a missing channel", a.Play(h.ctx, "no-such-channel", "pb-x", h.sound), sb.ENOTFOUND},
		{"bad hang-up reason", a.Hangup(h.ctx, "x", "no such reason"), sb.EINVALID},
		{"unknown technology", func() error {
			_, err := a.Originate(h.ctx, sb.OriginateRequest{ID: sb.ChannelID(token("bad")), Endpoint: "Nope/123"})
			return err
		}(), sb.EINTERNAL},
	}
	for _, tt := range tests {
		if got := sb.ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, tt.err, tt.code)
		}
	}
}

// bothHalves checks that ids holds a Local channel's ;1 and ;2 halves.
func bothHalves(t *testing.T, what string, ids []string, id sb.ChannelID) {
	t.Helper()
	for _, want := range []string{string(id), string(id) + ";2"} {
		if !slices.Contains(ids, want) {
			t.Errorf("%s lacks %s: %v", what, want, ids)
		}
	}
}

func testGetChannelsBothHalves(t *testing.T, h *harness) {
	id := h.originate(t, extAnswer, "outbound", "list")
	var all []struct {
		ID string `json:"id"`
	}
	if err := h.a.rest(h.ctx, "list_channels", rListChannels, rListChannels.path(), nil, nil, &all); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	bothHalves(t, "GET /channels", ids, id)
}

func testApplicationBothHalves(t *testing.T, h *harness) {
	id := h.originate(t, extAnswer, "outbound", "list")
	app, err := h.a.application(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	bothHalves(t, "GET /applications/"+confApp+" channel_ids", app.ChannelIDs, id)
}

// Channels lists the application's channels; only those in Stasis (the
// originated ;1 half, the inbound channel) are InApp, with their args: a
// reconcile must not take the ;2 half for a call.
func testChannelsInApp(t *testing.T, h *harness) {
	in, ce := h.inbound(t, extWait)
	id := h.originate(t, extAnswer, "outbound", "list")
	chans, err := h.a.Channels(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[sb.ChannelID]sb.ChannelInfo{}
	for _, c := range chans {
		byID[c.ID] = c
	}
	for _, want := range []struct {
		id   sb.ChannelID
		args []string
	}{{in, ce.Args}, {id, []string{"outbound", "list"}}} {
		c, ok := byID[want.id]
		if !ok || !c.InApp || !slices.Equal(c.Args, want.args) {
			t.Errorf("channel %s listed %v as %+v, want InApp with args %v", want.id, ok, c, want.args)
		}
	}
	if c, ok := byID[id+";2"]; !ok || c.InApp {
		t.Errorf("the ;2 half listed %v as %+v, want listed and not InApp", ok, c)
	}
	entered := map[sb.ChannelID]bool{}
	for _, e := range h.rec.between(0, h.rec.mark()) {
		if ce, ok := e.(sb.ChannelEntered); ok {
			entered[ce.Channel.ID] = true
		}
	}
	for _, c := range chans {
		if c.InApp && !entered[c.ID] {
			t.Errorf("channel %s (%s) InApp but never entered the application", c.ID, c.Name)
		}
	}
}

func (h *harness) reconnect(t *testing.T, drop func()) {
	a := h.a
	ch := h.answered(t, extWait)
	from := h.rec.mark()
	drop()
	i, _ := h.rec.wait(t, from, "LinkDown", is[sb.LinkDown](""))
	_, e := h.rec.wait(t, i, "LinkUp", is[sb.LinkUp](""))
	if !e.(sb.LinkUp).Reconnect {
		t.Error("LinkUp after a drop has Reconnect false")
	}
	if !a.Ready() {
		t.Error("not Ready after reconnecting")
	}
	// The call owner reconciles: the channel is still there ...
	chans, err := a.Channels(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(chans, func(c sb.ChannelInfo) bool { return c.ID == ch && c.State == sb.ChannelUp && c.InApp }) {
		t.Fatalf("channel %s not listed in the application after reconnect: %+v", ch, chans)
	}
	// ... and controllable, with its events on the new link.
	pb := sb.PlaybackID(token("pb"))
	from = h.rec.mark()
	if err := a.Play(h.ctx, ch, pb, h.sound); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "PlaybackStarted after reconnect", func(e sb.Event) bool {
		p, ok := e.(sb.PlaybackStarted)
		return ok && p.Playback == pb
	})
	if err := a.Hangup(h.ctx, ch, ""); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "HangupRequested after reconnect", is[sb.HangupRequested](ch))
	h.rec.wait(t, from, "ChannelLeft after reconnect", is[sb.ChannelLeft](ch))
}

func testReconnectOurSide(t *testing.T, h *harness) {
	h.reconnect(t, func() {
		if !h.a.dropLink() {
			t.Fatal("no link to drop")
		}
	})
}

func testReconnectPBX(t *testing.T, h *harness) {
	h.skipOnReal(t, "Asterisk cannot be told to close the events WebSocket; the adapter-side drop covers it")
	h.reconnect(t, h.sim.DropWebSockets)
}

func testNothingLost(t *testing.T, h *harness) {
	st := h.a.Stats()
	if st.EventsLost != 0 || st.DecodeErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// checkWAV checks a RIFF/WAVE file of 8 kHz mono 16-bit PCM with audio.
func checkWAV(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file (%d bytes): % x", len(b), b[:min(len(b), 16)])
	}
	r := bytes.NewReader(b[12:])
	var fmtOK bool
	var data uint32
	for r.Len() >= 8 {
		var id [4]byte
		var size uint32
		binary.Read(r, binary.LittleEndian, &id)
		binary.Read(r, binary.LittleEndian, &size)
		switch string(id[:]) {
		case "fmt ":
			var f struct {
				Format, Channels      uint16
				Rate, ByteRate        uint32
				BlockAlign, BitsPerSm uint16
			}
			binary.Read(r, binary.LittleEndian, &f)
			r.Seek(int64(size)-16, io.SeekCurrent)
			fmtOK = f.Format == 1 && f.Channels == 1 && f.Rate == 8000 && f.BitsPerSm == 16
			if !fmtOK {
				t.Errorf("fmt %+v, want PCM mono 8 kHz 16-bit", f)
			}
		case "data":
			data = size
			r.Seek(int64(size), io.SeekCurrent)
		default:
			r.Seek(int64(size), io.SeekCurrent)
		}
	}
	if !fmtOK || data == 0 {
		t.Errorf("fmt chunk ok %v, data %d bytes", fmtOK, data)
	}
}

// TestConformanceSuiteListed keeps the list at the top of this file and
// the suite in step.
func TestConformanceSuiteListed(t *testing.T) {
	src, err := os.ReadFile("conformance_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "// Tests, one behaviour each"):
			in = true
		case in && strings.HasPrefix(line, "//\t"):
			listed = append(listed, strings.Fields(line[3:])[0])
		case in && len(listed) > 0:
			in = false
		}
	}
	var names []string
	for _, ct := range conformanceTests {
		names = append(names, ct.name)
	}
	if !slices.Equal(listed, names) {
		t.Errorf("the comment lists\n%v\nthe suite runs\n%v", listed, names)
	}
}

// testUnattended: a call whose Stasis() finds no application goes on in
// the dialplan (STASISSTATUS FAILED: the campaign dialplan's exten nobody
// plays SB_ABANDON), and the hangup handler pushed at originate sets
// GLOBAL(SB_UNATTENDED_<SB_ATTEMPT>) = <epoch>,<AMD status>; an empty value
// clears it. This is how a campaign call answered while no Switchboard is
// connected is known at the next start.
func testUnattended(t *testing.T, h *harness) {
	id := sb.ChannelID(token("unatt"))
	attempt := strconv.FormatInt(time.Now().UnixNano(), 10) // unique on a PBX that keeps running
	before := time.Now().Add(-time.Minute).Unix()           // the PBX's clock may differ a little
	from := h.rec.mark()
	_, err := h.a.Originate(h.ctx, sb.OriginateRequest{ID: id, Endpoint: local(extAnswer), Timeout: 20 * time.Second,
		Context: "switchboard-test", Extension: "unattended", Priority: 1,
		Variables: map[string]string{"SB_ATTEMPT": attempt, "SB_ABANDON": "hello-world",
			outbound.HangupHandlerVar: outbound.HangupHandler}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.a.Hangup(h.ctx, id, "") })
	// Originated into the dialplan: followed by an explicit subscription
	// (the abandon message keeps it up long enough).
	if err := h.a.SubscribeChannel(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, from, "ChannelDestroyed", is[sb.ChannelDestroyed](id))
	name := outbound.UnattendedVar(mustInt(t, attempt))
	v, err := h.a.GlobalVariable(h.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	u := outbound.ParseUnattended(v)
	if !strings.HasSuffix(v, ",") || u.At.Unix() < before || u.Machine {
		t.Errorf("%s = %q, want <epoch>, (no AMD status)", name, v)
	}
	if err := h.a.SetGlobalVariable(h.ctx, name, ""); err != nil {
		t.Fatal(err)
	}
	if v, err := h.a.GlobalVariable(h.ctx, name); err != nil || v != "" {
		t.Errorf("after clearing, %s = %q (%v), want empty", name, v, err)
	}
	m := h.mark(t)
	h.rec.never(t, from, m.ev, "the call entered an application", is[sb.ChannelEntered](id))
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
