package supervision_test

import (
	"reflect"
	"testing"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/supervision"
)

func TestKeyMode(t *testing.T) {
	for key, want := range map[string]supervision.Mode{"1": supervision.Listen, "2": supervision.Whisper, "3": supervision.Barge} {
		if got, ok := supervision.KeyMode(key); !ok || got != want {
			t.Errorf("KeyMode(%s) = %s, %v; want %s", key, got, ok, want)
		}
	}
	for _, key := range []string{"0", "4", "*", "#", ""} {
		if _, ok := supervision.KeyMode(key); ok {
			t.Errorf("KeyMode(%q) switched a mode", key)
		}
	}
	if !supervision.Valid(supervision.Whisper) || supervision.Valid("shout") {
		t.Error("Valid")
	}
}

// TestApply walks every switch between the modes from a fresh supervisor
// and checks each plan: a listener is never left in the call's bridge, the
// monitor bridge is made once, each snoop replaced, whisper injects toward
// the agent only.
func TestApply(t *testing.T) {
	listen := &supervision.Snoop{Spy: "both", Whisper: "none"}
	whisper := &supervision.Snoop{Spy: "both", Whisper: "out"}
	steps := []struct {
		to   supervision.Mode
		plan supervision.Plan
		st   supervision.State
	}{
		{supervision.Listen, supervision.Plan{CreateBridge: true, Snoop: listen, MonitorBridge: true},
			supervision.State{Mode: supervision.Listen, Snooping: true, BridgeMade: true}},
		{supervision.Whisper, supervision.Plan{HangupSnoop: true, Snoop: whisper, MonitorBridge: true},
			supervision.State{Mode: supervision.Whisper, Snooping: true, BridgeMade: true}},
		{supervision.Barge, supervision.Plan{HangupSnoop: true, LeaveMonitor: true, JoinCall: true},
			supervision.State{Mode: supervision.Barge, BridgeMade: true, InCall: true}},
		{supervision.Listen, supervision.Plan{LeaveCall: true, Snoop: listen, MonitorBridge: true},
			supervision.State{Mode: supervision.Listen, Snooping: true, BridgeMade: true}},
		{supervision.Listen, supervision.Plan{HangupSnoop: true, Snoop: listen, MonitorBridge: true},
			supervision.State{Mode: supervision.Listen, Snooping: true, BridgeMade: true}},
	}
	var st supervision.State
	for i, s := range steps {
		next, p := supervision.Apply(st, s.to)
		if !reflect.DeepEqual(p, s.plan) || next != s.st {
			t.Errorf("step %d (%s from %+v): plan %+v state %+v; want %+v %+v", i, s.to, st, p, next, s.plan, s.st)
		}
		st = next
	}
	// Barge first: no monitor bridge to leave.
	if _, p := supervision.Apply(supervision.State{}, supervision.Barge); p.LeaveMonitor || !p.JoinCall || p.CreateBridge {
		t.Errorf("barge from the start: %+v", p)
	}
}

func TestPolicy(t *testing.T) {
	var none supervision.Policy
	if none.May("PJSIP/1009", "sales", "2001") {
		t.Error("a nil policy allowed monitoring")
	}
	p := supervision.Policy(func(ep string, q sb.QueueName, _ sb.AgentID) bool { return ep == "PJSIP/1009" && q == "sales" })
	if !p.May("PJSIP/1009", "sales", "2001") || p.May("PJSIP/1009", "support", "2001") || p.May("PJSIP/1009", "sales", "") {
		t.Error("policy not applied as written")
	}
}
