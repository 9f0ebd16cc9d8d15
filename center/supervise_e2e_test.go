package center_test

import (
	"context"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/sim"
)

// snoops returns the live snoop channels on ch.
func snoops(s *sim.Server, ch sb.ChannelID) []sim.ChannelInfo {
	var out []sim.ChannelInfo
	for _, c := range s.Channels() {
		if c.Snooped == string(ch) {
			out = append(out, c)
		}
	}
	return out
}

func bridgedCall(t *testing.T, e *e2e) sb.Call {
	t.Helper()
	var call sb.Call
	waitUntil(t, "bridged", func() bool {
		for _, k := range e.c.LiveCalls() {
			if k.State == sb.CallBridged {
				call = k
				return true
			}
		}
		return false
	})
	return call
}

func TestSupervisorListenWhisperBarge(t *testing.T) {
	e := startE2E(t, 20, baseConfig(), map[string]sim.Party{"1001": {Rings: 1}})
	e.sim.AddEndpoint("PJSIP", "1099", sim.Party{Rings: 1}) // the supervisor's phone
	id := e.call(t, "+15553330001", sim.Party{})
	call := bridgedCall(t, e)
	ctx := context.Background()
	if err := e.c.Monitor(ctx, call.ID, "PJSIP/1099", center.Listen); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Monitor(ctx, call.ID, "PJSIP/1099", center.Listen); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second supervisor: %v, want conflict", err)
	}
	want := func(mode, spy, whisper string) {
		t.Helper()
		waitUntil(t, mode, func() bool {
			sn := snoops(e.sim, call.AgentChannel)
			return len(sn) == 1 && sn[0].Spy == spy && sn[0].Whisper == whisper
		})
	}
	want("listen", "both", "none")
	if err := e.c.SetMonitorMode(ctx, call.ID, center.Whisper); err != nil {
		t.Fatal(err)
	}
	want("whisper", "both", "out")
	if err := e.c.SetMonitorMode(ctx, call.ID, center.Barge); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "barge: supervisor in the call's bridge, no snoop", func() bool {
		in := 0
		for _, c := range e.sim.Channels() {
			if c.Bridge == string(call.Bridge) {
				in++
			}
		}
		return in == 3 && len(snoops(e.sim, call.AgentChannel)) == 0
	})
	if err := e.c.SetMonitorMode(ctx, call.ID, center.Listen); err != nil {
		t.Fatal(err)
	}
	want("back to listen", "both", "none")
	if err := e.c.SetMonitorMode(ctx, call.ID, "shout"); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("unknown mode: %v", err)
	}
	// The caller hangs up: caller, agent, supervisor and snoop all go.
	if err := e.sim.Hangup(id, 16); err != nil {
		t.Fatal(err)
	}
	e.cdr.wait(t, id)
	e.noChannelsLeft(t)
	waitUntil(t, "no bridge left", func() bool { return len(e.sim.Bridges()) == 0 })
}

func TestSupervisorHangsUpFirst(t *testing.T) {
	e := startE2E(t, 20, baseConfig(), map[string]sim.Party{"1001": {Rings: 1}})
	e.sim.AddEndpoint("PJSIP", "1099", sim.Party{Rings: 1, Talk: 3 * time.Second}) // leaves after 3 s
	id := e.call(t, "+15553330002", sim.Party{})
	call := bridgedCall(t, e)
	if err := e.c.Monitor(context.Background(), call.ID, "PJSIP/1099", center.Whisper); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "snoop", func() bool { return len(snoops(e.sim, call.AgentChannel)) == 1 })
	waitUntil(t, "supervisor gone with its snoop", func() bool {
		return len(snoops(e.sim, call.AgentChannel)) == 0 && len(e.sim.Channels()) == 2
	})
	if calls := e.c.LiveCalls(); len(calls) != 1 || calls[0].State != sb.CallBridged {
		t.Fatalf("the call did not go on: %+v", calls)
	}
	if err := e.sim.Hangup(id, 16); err != nil {
		t.Fatal(err)
	}
	e.cdr.wait(t, id)
	e.noChannelsLeft(t)
}

func TestSupervisorByFeatureCode(t *testing.T) {
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
	cfg := baseConfig()
	cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
	cfg.Queues = []center.QueueConfig{{Name: "sales"}}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := attachWith(t, s, cfg, func(c *center.Center, _ *ari.Adapter) {
		c.SetMonitorPolicy(func(endpoint string, _ sb.QueueName, agent sb.AgentID) bool {
			return endpoint == "PJSIP/1099" && agent == "1001"
		})
	})
	id := e.call(t, "+15553330003", sim.Party{})
	call := bridgedCall(t, e)
	// A stranger's phone is refused and hung up.
	stranger, err := s.Call(sim.Inbound{App: "switchboard", Args: []string{"monitor", "1001"}, From: "1050", Trunk: "PJSIP/1050"})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "stranger refused", func() bool {
		for _, c := range s.Channels() {
			if c.ID == stranger {
				return false
			}
		}
		return true
	})
	// The supervisor's desk phone dials the code: it listens, 2 whispers.
	sup, err := s.Call(sim.Inbound{App: "switchboard", Args: []string{"monitor", "1001"}, From: "1099", Trunk: "PJSIP/1099"})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "listening", func() bool {
		sn := snoops(s, call.AgentChannel)
		return len(sn) == 1 && sn[0].Whisper == "none"
	})
	if err := s.SendDTMF(sup, "2"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "whispering", func() bool {
		sn := snoops(s, call.AgentChannel)
		return len(sn) == 1 && sn[0].Whisper == "out"
	})
	if err := s.Hangup(id, 16); err != nil {
		t.Fatal(err)
	}
	e.cdr.wait(t, id)
	e.noChannelsLeft(t)
}
