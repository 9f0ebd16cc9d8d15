package center_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

// engines are the routing engines calls must work on: the router as
// routing.engine basic builds it and the ACD router (routing.engine
// router, the default).
var engines = []struct {
	name  string
	queue sb.QueueName // the queue a call without a flow is in
}{{"basic", "default"}, {"router", "sales"}}

// startSupervised starts sim, the adapter and a center on the engine
// named, with agent 1001 (PJSIP/1001, answers after one ring) and the
// supervisor's phone PJSIP/1099 (sup); setup changes the center's options
// before it is built (may be nil).
func startSupervised(t *testing.T, engine string, sup sim.Party, setup func(*center.Options)) *e2e {
	t.Helper()
	agent := sim.Party{Rings: 1}
	var e *e2e
	if engine == "router" {
		e = startACDWith(t, 20, salesQueue(routing.LongestIdle), []acdPhone{{res: "1001", party: agent}}, nil, setup).e2e
	} else {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", agent)
		cfg := baseConfig()
		cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
		serve(t, s)
		e = attachWith(t, s, cfg, func(o *center.Options, _ *ari.Adapter) {
			if setup != nil {
				setup(o)
			}
		})
	}
	e.sim.AddEndpoint("PJSIP", "1099", sup)
	return e
}

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

// supervisorChannel waits for the supervisor's channel of call (id
// <call>-sv<n>) to be up in the simulator and returns its id.
func supervisorChannel(t *testing.T, e *e2e, call sb.CallID) string {
	t.Helper()
	var id string
	waitUntil(t, "supervisor up", func() bool {
		for _, c := range e.sim.Channels() {
			if strings.HasPrefix(c.ID, string(call)+"-sv") && c.InApp {
				id = c.ID
				return true
			}
		}
		return false
	})
	return id
}

// wantRow checks the call-log row of a completed, supervised call.
func wantRow(t *testing.T, row sb.CDR, hangupBy string) {
	t.Helper()
	if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" || row.HangupBy != hangupBy {
		t.Errorf("cdr outcome %s, agent %q, hangup_by %q; want completed, 1001, %s", row.Outcome, row.Agent, row.HangupBy, hangupBy)
	}
}

func TestSupervisorListenWhisperBarge(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := startSupervised(t, eng.name, sim.Party{Rings: 1}, nil)
				id := e.call(t, "+15553330001", sim.Party{})
				call := bridgedCall(t, e)
				ctx := context.Background()
				q, agent, err := e.c.MonitorInfo(ctx, call.ID)
				if err != nil || q != eng.queue || agent != "1001" {
					t.Errorf("MonitorInfo = %q, %q, %v; want %q, 1001", q, agent, err, eng.queue)
				}
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
				// The caller hangs up: caller, agent, supervisor and snoop all
				// go, and the call log says the caller ended it (the snoops
				// hung up on each switch say nothing about it).
				if err := e.sim.Hangup(id, 16); err != nil {
					t.Fatal(err)
				}
				wantRow(t, e.cdr.wait(t, id), "caller")
				e.noChannelsLeft(t) // supervisor, snoops, monitor and call bridges too
			})
		})
	}
}

func TestSupervisorAgentHangsUp(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := startSupervised(t, eng.name, sim.Party{Rings: 1}, nil)
				id := e.call(t, "+15553330004", sim.Party{})
				call := bridgedCall(t, e)
				if err := e.c.Monitor(context.Background(), call.ID, "PJSIP/1099", center.Listen); err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "snoop", func() bool { return len(snoops(e.sim, call.AgentChannel)) == 1 })
				if err := e.sim.Hangup(string(call.AgentChannel), 16); err != nil {
					t.Fatal(err)
				}
				wantRow(t, e.cdr.wait(t, id), "agent")
				e.noChannelsLeft(t) // supervisor, snoops, monitor and call bridges too
			})
		})
	}
}

func TestSupervisorHangsUpFirst(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := startSupervised(t, eng.name, sim.Party{Rings: 1, Talk: 3 * time.Second}, nil) // leaves after 3 s
				id := e.call(t, "+15553330002", sim.Party{})
				call := bridgedCall(t, e)
				if err := e.c.Monitor(context.Background(), call.ID, "PJSIP/1099", center.Whisper); err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "snoop", func() bool { return len(snoops(e.sim, call.AgentChannel)) == 1 })
				waitUntil(t, "supervisor gone with its snoop and the monitor bridge", func() bool {
					return len(snoops(e.sim, call.AgentChannel)) == 0 && len(e.sim.Channels()) == 2 && len(e.sim.Bridges()) == 1
				})
				if calls := e.c.LiveCalls(); len(calls) != 1 || calls[0].State != sb.CallBridged {
					t.Fatalf("the call did not go on: %+v", calls)
				}
				if err := e.sim.Hangup(id, 16); err != nil {
					t.Fatal(err)
				}
				wantRow(t, e.cdr.wait(t, id), "caller")
				e.noChannelsLeft(t) // supervisor, snoops, monitor and call bridges too
			})
		})
	}
}

// TestSupervisorBargesAndHangsUp: a supervisor who barges and hangs up
// leaves the call to caller and agent; it does not end the call as the
// agent.
func TestSupervisorBargesAndHangsUp(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := startSupervised(t, eng.name, sim.Party{Rings: 1}, nil)
				id := e.call(t, "+15553330005", sim.Party{})
				call := bridgedCall(t, e)
				if err := e.c.Monitor(context.Background(), call.ID, "PJSIP/1099", center.Barge); err != nil {
					t.Fatal(err)
				}
				sup := supervisorChannel(t, e, call.ID)
				waitUntil(t, "supervisor in the call's bridge", func() bool {
					for _, c := range e.sim.Channels() {
						if c.ID == sup {
							return c.Bridge == string(call.Bridge)
						}
					}
					return false
				})
				if err := e.sim.Hangup(sup, 16); err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "supervisor gone, caller and agent still talking", func() bool {
					return len(e.sim.Channels()) == 2
				})
				if calls := e.c.LiveCalls(); len(calls) != 1 || calls[0].State != sb.CallBridged {
					t.Fatalf("the call did not go on: %+v", calls)
				}
				if err := e.sim.Hangup(id, 16); err != nil {
					t.Fatal(err)
				}
				wantRow(t, e.cdr.wait(t, id), "caller")
				e.noChannelsLeft(t) // supervisor, snoops, monitor and call bridges too
			})
		})
	}
}

// policyLog records what the feature-code policy was asked.
type policyLog struct {
	mu     sync.Mutex
	queues []sb.QueueName
}

func TestSupervisorByFeatureCode(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var asked policyLog
				e := startSupervised(t, eng.name, sim.Party{}, func(o *center.Options) {
					// Only the supervisor's desk phone, only for the call's
					// queue and agent.
					o.MonitorPolicy = func(endpoint string, queue sb.QueueName, agent sb.AgentID) bool {
						asked.mu.Lock()
						asked.queues = append(asked.queues, queue)
						asked.mu.Unlock()
						return endpoint == "PJSIP/1099" && queue == eng.queue && agent == "1001"
					}
				})
				s := e.sim
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
				// The code for an agent on no call is refused too.
				idle, err := s.Call(sim.Inbound{App: "switchboard", Args: []string{"monitor", "1002"}, From: "1099", Trunk: "PJSIP/1099"})
				if err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "code for an idle agent refused", func() bool {
					for _, c := range s.Channels() {
						if c.ID == idle {
							return false
						}
					}
					return true
				})
				// The supervisor's desk phone dials the code: it listens, 2
				// whispers.
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
				asked.mu.Lock()
				got := asked.queues
				asked.mu.Unlock()
				if len(got) != 2 || got[0] != eng.queue || got[1] != eng.queue {
					t.Errorf("policy asked about queues %q, want the call's queue %q twice", got, eng.queue)
				}
				if err := s.Hangup(id, 16); err != nil {
					t.Fatal(err)
				}
				wantRow(t, e.cdr.wait(t, id), "caller")
				e.noChannelsLeft(t) // supervisor, snoops, monitor and call bridges too
			})
		})
	}
}
