package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

func TestNativeClientFlow(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	s.AddEndpoint("PJSIP", "1001", Party{Rings: 1})
	cl, rec := connect(t, s, "sb")
	pos := 0

	info, err := cl.Asterisk().Info(nil)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "entity", info.SystemInfo.EntityID, "sim-asterisk")

	// Inbound caller enters the app.
	callerID, err := s.Call(Inbound{App: "sb", Args: []string{"inbound"}, From: "5551234", Name: "Ann", To: "800"})
	if err != nil {
		t.Fatal(err)
	}
	ev := rec.wait(t, &pos, "StasisStart", chanIs(callerID)).(*ari.StasisStart)
	eq(t, "state", ev.Channel.State, "Ring")
	eq(t, "caller", ev.Channel.Caller.Number, "5551234")
	eq(t, "args", slices.Equal(ev.Args, []string{"inbound"}), true)
	eq(t, "exten", ev.Channel.Dialplan.Exten, "800")
	caller := cl.Channel().Get(ari.NewKey(ari.ChannelKey, callerID))
	if err := caller.Answer(); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "ChannelStateChange", chanIs(callerID))
	pb, err := caller.Play("pb1", "sound:hello-world")
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "PlaybackStarted", nil)
	fin := rec.wait(t, &pos, "PlaybackFinished", nil).(*ari.PlaybackFinished)
	eq(t, "pb state", fin.Playback.State, "done")
	eq(t, "pb id", fin.Playback.ID, pb.ID())

	// Originate to the agent phone: StasisStart only on answer, state Up.
	agent, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/1001", App: "sb", AppArgs: "agent", CallerID: "Queue <800>"})
	if err != nil {
		t.Fatal(err)
	}
	dial := rec.wait(t, &pos, "Dial", func(e ari.Event) bool { return e.(*ari.Dial).Dialstatus == "ANSWER" }).(*ari.Dial)
	eq(t, "peer", dial.Peer.ID, agent.ID())
	st := rec.wait(t, &pos, "StasisStart", chanIs(agent.ID())).(*ari.StasisStart)
	eq(t, "agent state", st.Channel.State, "Up")
	eq(t, "agent caller", st.Channel.Caller.Number, "800")

	// Bridge them, record the bridge, snoop the caller.
	br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br1"), "mixing", "call")
	if err != nil {
		t.Fatal(err)
	}
	if err := br.AddChannel(callerID); err != nil {
		t.Fatal(err)
	}
	if err := br.AddChannel(agent.ID()); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "ChannelEnteredBridge", chanIs(agent.ID()))
	lr, err := br.Record("call-1", &ari.RecordingOptions{Format: "wav"})
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "RecordingStarted", nil)
	sn, err := caller.Snoop("snoop1", &ari.SnoopOptions{App: "sb", Spy: ari.DirectionBoth})
	if err != nil {
		t.Fatal(err)
	}
	sst := rec.wait(t, &pos, "StasisStart", chanIs(sn.ID())).(*ari.StasisStart)
	eq(t, "snoop state", sst.Channel.State, "Up")

	time.Sleep(20 * time.Millisecond) // 2 s of simulated talk
	if err := lr.Stop(); err != nil {
		t.Fatal(err)
	}
	rf := rec.wait(t, &pos, "RecordingFinished", nil).(*ari.RecordingFinished)
	if rf.Recording.Duration < ari.DurationSec(time.Second) {
		t.Errorf("recording duration %v", time.Duration(rf.Recording.Duration))
	}
	if _, err := cl.StoredRecording().Data(ari.NewKey(ari.StoredRecordingKey, "call-1")); err != nil {
		t.Errorf("stored recording: %v", err)
	}

	// Far end of the caller hangs up: the documented order (the caller came
	// from the dialplan, so StasisEnd is its last event), then the snoop
	// goes with StasisEnd only.
	if err := s.Hangup(callerID, 16); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "StasisEnd", chanIs(callerID))
	rec.wait(t, &pos, "StasisEnd", chanIs(sn.ID()))
	got := rec.typesFor(callerID)
	tail := got[len(got)-3:]
	want := []string{"ChannelHangupRequest", "ChannelLeftBridge", "StasisEnd"}
	eq(t, "hangup order", slices.Equal(tail, want), true)
	eq(t, "snoop events", strings.Join(rec.typesFor(sn.ID()), " "), "StasisStart StasisEnd")

	// The bridge survives; the agent is still in it; hang the agent up.
	if _, err := br.Data(); err != nil {
		t.Errorf("bridge gone: %v", err)
	}
	if err := agent.Hangup(); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, &pos, "ChannelDestroyed", chanIs(agent.ID()))
	if err := br.Delete(); err != nil {
		t.Fatal(err)
	}
	// Its members had left: the application is no longer subscribed to it,
	// so no BridgeDestroyed comes; the bridge is gone all the same.
	if n := len(s.Bridges()); n != 0 {
		t.Errorf("%d bridges left", n)
	}
	if n := len(s.Channels()); n != 0 {
		t.Errorf("%d channels left", n)
	}
}
