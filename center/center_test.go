package center

import (
	"context"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/routing"
)

type rig struct {
	pbx   *fakePBX
	clock *manualClock
	cdr   *memCDR
	c     *Center
	stop  func()
}

func newRig(t *testing.T, agents ...string) *rig {
	t.Helper()
	return newRigWith(t, nil, agents...)
}

// newRigWith is newRig with setup changing the center's options before
// it is built.
func newRigWith(t *testing.T, setup func(*Options), agents ...string) *rig {
	t.Helper()
	r := &rig{pbx: newFakePBX(), clock: newManualClock(), cdr: newMemCDR()}
	cfg := Config{
		Greeting: []string{"sound:hello-world"}, NoAgentPrompt: []string{"sound:vm-goodbye"},
		AgentRingTimeout: 15 * time.Second,
	}
	for _, a := range agents {
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(a), Endpoint: "PJSIP/" + a})
	}
	// The basic engine: callers wait 30 s, a phone that failed an offer
	// is skipped 5 s.
	o := Options{Config: cfg, PBX: r.pbx, CallLog: r.cdr, Clock: r.clock, Router: BasicRouter(t, cfg, 30*time.Second, 5*time.Second)}
	if setup != nil {
		setup(&o)
	}
	r.c = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Run(ctx) }()
	r.stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(r.stop)
	return r
}

func (r *rig) send(e sb.Event) { r.pbx.events <- e }

func hdr(typ string) sb.EventHeader { return sb.EventHeader{Type: typ, Node: "fake"} }

func (r *rig) enter(id, from, to string) {
	r.send(sb.ChannelEntered{EventHeader: hdr("StasisStart"), Channel: sb.ChannelInfo{
		ID: sb.ChannelID(id), State: sb.ChannelRing, CallerNumber: from, Exten: to}})
}

func (r *rig) agentAnswers(callID, leg string) {
	r.send(sb.ChannelEntered{EventHeader: hdr("StasisStart"),
		Channel: sb.ChannelInfo{ID: sb.ChannelID(leg), State: sb.ChannelUp}, Args: []string{"agent", callID}})
}

func (r *rig) destroyed(id string, cause int) {
	r.send(sb.ChannelDestroyed{EventHeader: hdr("ChannelDestroyed"), Channel: sb.ChannelInfo{ID: sb.ChannelID(id)}, Cause: cause})
}

func (r *rig) greetingDone(callID string) {
	r.send(sb.PlaybackFinished{EventHeader: hdr("PlaybackFinished"), Playback: sb.PlaybackID(callID + "-greet"), State: "done"})
}

func (r *rig) inBridge(callID string, chans ...string) {
	for _, ch := range chans {
		r.send(sb.EnteredBridge{EventHeader: hdr("ChannelEnteredBridge"), Bridge: sb.BridgeID("br-" + callID), Channel: sb.ChannelID(ch)})
	}
}

// waitState waits until live call id is in state st.
func (r *rig) waitState(t *testing.T, id string, st sb.CallState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, k := range r.c.LiveCalls() {
			if k.ID == sb.CallID(id) && k.State == st {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s never reached %s: %+v", id, st, r.c.LiveCalls())
		}
		time.Sleep(time.Millisecond)
	}
}

// waitLive waits until the center reports n live calls.
func (r *rig) waitLive(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.c.LiveCalls()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("live calls = %d, want %d", len(r.c.LiveCalls()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCallBridgedThenAgentHangsUp(t *testing.T) {
	r := newRig(t, "1001")
	r.enter("c1", "+15551234567", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.clock.Advance(3 * time.Second)
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
	r.agentAnswers("c1", "c1-a1")
	r.pbx.expect(t, "moh c1 false")
	r.pbx.expect(t, "bridge br-c1")
	r.pbx.expect(t, "add br-c1 [c1 c1-a1]")
	r.inBridge("c1", "c1", "c1-a1")
	r.waitState(t, "c1", sb.CallBridged)
	r.clock.Advance(60 * time.Second)
	if calls := r.c.LiveCalls(); len(calls) != 1 || calls[0].Agent != "1001" {
		t.Fatalf("live calls = %+v, want one bridged to 1001", calls)
	}
	r.send(sb.HangupRequested{EventHeader: hdr("ChannelHangupRequest"), Channel: "c1-a1", Cause: 16})
	r.pbx.expect(t, "hangup c1")
	r.destroyed("c1-a1", 16)
	r.destroyed("c1", 16)
	r.pbx.expect(t, "destroy br-c1")
	row := r.cdr.next(t)
	if row.Outcome != sb.OutcomeCompleted || row.HangupBy != "agent" || row.Agent != "1001" ||
		row.Caller != "+15551234567" || row.Called != "8000" || !row.Bridged.Valid || !row.Answered.Valid {
		t.Fatalf("cdr = %+v", row)
	}
	if got := row.Talk(); got != 60*time.Second {
		t.Errorf("talk = %v, want 60s", got)
	}
	if s := r.c.Stats(); s.Completed != 1 || s.Answered != 1 || s.Active != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCallerHangsUpWhileAgentRings(t *testing.T) {
	r := newRig(t, "1001")
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
	r.send(sb.HangupRequested{EventHeader: hdr("ChannelHangupRequest"), Channel: "c1", Cause: 16})
	r.pbx.expect(t, "hangup c1-a1") // the ringing phone stops
	r.destroyed("c1", 16)
	r.destroyed("c1-a1", 16)
	row := r.cdr.next(t)
	if row.Outcome != sb.OutcomeAbandoned || row.HangupBy != "caller" || row.Agent != "" || row.Bridged.Valid {
		t.Fatalf("cdr = %+v", row)
	}
	r.waitLive(t, 0)
	// The agent is free again: the next call is offered to the same phone.
	r.enter("c2", "101", "8000")
	r.pbx.expect(t, "answer c2")
	r.pbx.expect(t, "play c2 c2-greet sound:hello-world")
	r.greetingDone("c2")
	r.pbx.expect(t, "moh c2 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c2-a1 PJSIP/1001 agent,c2")
}

func TestNoAgentGivesClearOutcome(t *testing.T) {
	r := newRig(t) // no agents at all
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true")
	r.waitLive(t, 1)
	r.clock.waitTimer(t) // the router's wake-up at the 30 s wait limit
	r.clock.Advance(30 * time.Second)
	r.pbx.expect(t, "moh c1 false")
	r.pbx.expect(t, "play c1 c1-noagent sound:vm-goodbye")
	r.send(sb.PlaybackFinished{EventHeader: hdr("PlaybackFinished"), Playback: "c1-noagent", State: "done"})
	r.pbx.expect(t, "hangup c1")
	r.destroyed("c1", 16)
	row := r.cdr.next(t)
	if row.Outcome != sb.OutcomeNoAgent || row.HangupBy != "system" {
		t.Fatalf("cdr = %+v", row)
	}
}

func TestBusyAgentSkippedForNext(t *testing.T) {
	r := newRig(t, "1001", "1002")
	r.clock.Advance(time.Second)
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
	r.destroyed("c1-a1", 17) // busy
	r.pbx.expect(t, "originate c1-a2 PJSIP/1002 agent,c1")
	r.agentAnswers("c1", "c1-a2")
	r.pbx.expect(t, "moh c1 false")
	r.pbx.expect(t, "bridge br-c1")
	r.pbx.expect(t, "add br-c1 [c1 c1-a2]")
}

func TestWaitingCallerGetsFreedAgent(t *testing.T) {
	r := newRig(t, "1001")
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
	r.agentAnswers("c1", "c1-a1")
	r.pbx.expect(t, "moh c1 false")
	r.pbx.expect(t, "bridge br-c1")
	r.pbx.expect(t, "add br-c1 [c1 c1-a1]")
	r.inBridge("c1", "c1", "c1-a1")

	r.enter("c2", "200", "8000")
	r.pbx.expect(t, "answer c2")
	r.pbx.expect(t, "play c2 c2-greet sound:hello-world")
	r.greetingDone("c2")
	r.pbx.expect(t, "moh c2 true") // waits: the only agent talks

	// The caller hangs up: the agent is free at once (the router has no
	// wrap-up on the basic engine) and rings for c2 while his leg of c1
	// is hung up.
	r.send(sb.HangupRequested{EventHeader: hdr("ChannelHangupRequest"), Channel: "c1", Cause: 16})
	r.pbx.expectSet(t, "hangup c1-a1", "originate c2-a1 PJSIP/1001 agent,c2")
	r.destroyed("c1", 16)
	r.destroyed("c1-a1", 16)
	r.pbx.expect(t, "destroy br-c1")
	if row := r.cdr.next(t); row.CallID != "c1" || row.HangupBy != "caller" || row.Outcome != sb.OutcomeCompleted {
		t.Fatalf("cdr = %+v", row)
	}
}

func TestOfflineAgentNotOffered(t *testing.T) {
	r := newRig(t, "1001", "1002")
	r.send(sb.EndpointStateChanged{EventHeader: hdr("EndpointStateChange"), Endpoint: sb.EndpointState{Endpoint: "PJSIP/1001", State: "offline"}})
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1002 agent,c1")
}

func TestReconnectReconciles(t *testing.T) {
	r := newRig(t, "1001")
	// c1 was mid-greeting when the link dropped; c9 (from before a restart)
	// is talking to agent leg c9-a1 in its bridge; x-a3 is a stale agent leg.
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.pbx.ChannelsFn = func() []sb.ChannelInfo {
		return []sb.ChannelInfo{
			{ID: "c1", State: sb.ChannelUp, InApp: true},
			{ID: "c9", State: sb.ChannelUp, CallerNumber: "999", InApp: true},
			{ID: "c9-a1", Name: "PJSIP/1001-00000001", State: sb.ChannelUp, InApp: true, Args: []string{"agent", "c9"}},
			{ID: "x-a3", State: sb.ChannelUp, InApp: true},
		}
	}
	r.pbx.BridgesFn = func() []sb.BridgeInfo {
		return []sb.BridgeInfo{{ID: "br-c9", Channels: []sb.ChannelID{"c9", "c9-a1"}}}
	}
	r.send(sb.LinkUp{EventHeader: hdr("LinkUp"), Reconnect: true})
	r.pbx.expect(t, "subscribe PJSIP/1001")
	// c1's greeting end was lost with the link: its hunt goes on, but the
	// only agent is busy with adopted c9, so c1 waits; x-a3 is hung up.
	r.pbx.expectSet(t, "hangup x-a3", "moh c1 true")
	r.waitLive(t, 2)
	for _, k := range r.c.LiveCalls() {
		if k.ID == "c9" && (k.State != sb.CallBridged || k.Agent != "1001") {
			t.Fatalf("adopted call = %+v", k)
		}
	}
}

func TestReconnectLeavesRingingAgentLegAlone(t *testing.T) {
	r := newRig(t, "1001")
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
	// The application is subscribed to the ringing leg, so a listing shows
	// it; it has not answered: no bridge, no hang-up, no new offer.
	r.pbx.ChannelsFn = func() []sb.ChannelInfo {
		return []sb.ChannelInfo{{ID: "c1", State: sb.ChannelUp, InApp: true}, {ID: "c1-a1", State: sb.ChannelRinging}}
	}
	done := make(chan struct{})
	r.c.post(func() { r.c.reconciled = func() { close(done) } })
	r.send(sb.LinkUp{EventHeader: hdr("LinkUp"), Reconnect: true})
	r.pbx.expect(t, "subscribe PJSIP/1001")
	<-done
	// Commands of a call run in order: a marker queued now comes out
	// before anything the reconcile did would... unless it did something.
	r.c.post(func() {
		r.c.do(r.c.calls["c1"], func(context.Context) { r.pbx.rec("marker") })
	})
	r.pbx.expect(t, "marker")
	r.waitState(t, "c1", sb.CallRinging)
	// The agent answers after the reconnect: the normal path bridges.
	r.agentAnswers("c1", "c1-a1")
	r.pbx.expect(t, "moh c1 false")
	r.pbx.expect(t, "bridge br-c1")
	r.pbx.expect(t, "add br-c1 [c1 c1-a1]")
}

// TestEndpointEventBeatsOlderSnapshot: an endpoint event that arrives while
// the link-up snapshot is being listed is newer than the snapshot: the
// snapshot's older state does not override it.
func TestEndpointEventBeatsOlderSnapshot(t *testing.T) {
	r := newRig(t, "1001", "1002")
	gate := make(chan struct{})
	r.pbx.EndpointsFn = func() []sb.EndpointState {
		<-gate // listed before the event below, delivered after it
		return []sb.EndpointState{{Endpoint: "PJSIP/1001", State: "online"}, {Endpoint: "PJSIP/1002", State: "online"}}
	}
	done := make(chan struct{})
	r.c.post(func() { r.c.reconciled = func() { close(done) } })
	r.send(sb.LinkUp{EventHeader: hdr("LinkUp"), Reconnect: true})
	r.pbx.expectSet(t, "subscribe PJSIP/1001", "subscribe PJSIP/1002")
	r.send(sb.EndpointStateChanged{EventHeader: hdr("EndpointStateChange"), Endpoint: sb.EndpointState{Endpoint: "PJSIP/1001", State: "offline"}})
	// The event has been handled once a command posted after it has run
	// (the loop takes events and posts in no set order: ask until it has).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var offline bool
		_ = r.c.onLoop(context.Background(), func() error {
			st, _ := r.c.router.AgentStats("1001", r.c.clock.Now())
			offline = st.State == routing.StateUnavailable
			return nil
		})
		if offline {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the endpoint event was not handled")
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	<-done
	r.enter("c1", "100", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1002 agent,c1")
}

// TestOrphanCampaignCallAfterAMDIsReported: a campaign call placed before a
// restart comes back from AMD to a center that did not place it: it is hung
// up and its attempt is reported ended (the runner adopted the open attempt
// at its start and would otherwise count it in flight for ever).
func TestOrphanCampaignCallAfterAMDIsReported(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   sb.DialOutcome
	}{{"HUMAN", sb.DialAbandoned}, {"MACHINE", sb.DialMachine}} {
		t.Run(tc.status, func(t *testing.T) {
			got := make(chan outbound.Event, 4)
			r := newRigWith(t, func(o *Options) { o.Campaigns.Report = func(e outbound.Event) { got <- e } }, "1001")
			r.send(sb.ChannelEntered{EventHeader: hdr("StasisStart"),
				Channel: sb.ChannelInfo{ID: "ob-42", State: sb.ChannelUp}, Args: []string{"amd", tc.status, "x"}})
			r.pbx.expect(t, "hangup ob-42")
			var e outbound.Event
			select {
			case e = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("no report")
			}
			if e.Attempt != 42 || e.Kind != outbound.Ended || e.Outcome != tc.want {
				t.Fatalf("report = %+v, want attempt 42 ended %s", e, tc.want)
			}
		})
	}
}
