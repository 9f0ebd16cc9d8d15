package app

import (
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/routing"
)

// t0 is a Monday, 08:00 UTC (ivr.timezone, the router's zone, is UTC).
var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// routerFor builds the router of a configuration with the given agents
// (ids a1, a2, ... with these skills) and queues.
func routerFor(t *testing.T, skills []map[string]int, queues ...sb.Queue) *routing.Router {
	t.Helper()
	cfg := config.Default()
	cfg.Routing.Engine = "router"
	for i, s := range skills {
		id := "a" + string(rune('1'+i))
		cfg.Agents = append(cfg.Agents, config.Agent{ID: id, Endpoint: "PJSIP/" + id, Skills: s})
	}
	cfg.Queues = queues
	r, err := BuildRouter(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// find returns the first action of type T.
func find[T routing.Action](acts []routing.Action) (T, bool) {
	for _, a := range acts {
		if v, ok := a.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func TestBuildRouterServiceLevel(t *testing.T) {
	r := routerFor(t, nil, sb.Queue{Name: "q", ServiceLevel: "90/30s"}, sb.Queue{Name: "d"})
	for _, tt := range []struct {
		queue  sb.QueueName
		target float64
		within time.Duration
	}{{"q", 0.9, 30 * time.Second}, {"d", 0.8, 20 * time.Second}} {
		st, ok := r.QueueStats(tt.queue, t0)
		if !ok || st.ServiceLevelTarget != tt.target || st.ServiceLevelTime != tt.within {
			t.Errorf("%s: service level target %v/%v, want %v/%v", tt.queue, st.ServiceLevelTarget, st.ServiceLevelTime, tt.target, tt.within)
		}
	}

	cfg := config.Default()
	cfg.Queues = []sb.Queue{{Name: "q", ServiceLevel: "80"}}
	if _, err := BuildRouter(&cfg); err == nil {
		t.Error("bad service_level: no error")
	}
	cfg.Queues = []sb.Queue{{Name: "q", Callback: sb.QueueCallback{Windows: []string{"noon"}}}}
	if _, err := BuildRouter(&cfg); err == nil {
		t.Error("bad callback window: no error")
	}
}

func TestBuildRouterExits(t *testing.T) {
	r := routerFor(t, []map[string]int{nil},
		sb.Queue{Name: "full", Agents: []sb.AgentID{"a1"}, MaxLength: 1, MaxLengthTarget: "full-flow", MusicClass: "jazz"},
		sb.Queue{Name: "empty", Agents: []sb.AgentID{"a1"}, JoinEmpty: "no-members", EmptyTarget: "empty-flow"},
		sb.Queue{Name: "wait", Agents: []sb.AgentID{"a1"}, WaitForAgent: 10 * time.Second, MaxWaitTarget: "hangup"},
	)
	acts := r.Apply(routing.Enqueue{Call: "c1", Queue: "full"}, t0)
	if q, ok := find[routing.Queued](acts); !ok || q.MusicClass != "jazz" {
		t.Errorf("c1: %+v, want Queued with music class jazz", acts)
	}
	acts = r.Apply(routing.Enqueue{Call: "c2", Queue: "full"}, t0)
	if x, ok := find[routing.Exit](acts); !ok || x.Reason != routing.ExitFull || x.Target != "full-flow" {
		t.Errorf("c2 over max_length: %+v", acts)
	}
	acts = r.Apply(routing.Enqueue{Call: "c3", Queue: "empty"}, t0)
	if x, ok := find[routing.Exit](acts); !ok || x.Reason != routing.ExitJoinEmpty || x.Target != "empty-flow" {
		t.Errorf("c3 into a queue without agents: %+v", acts)
	}
	r.Apply(routing.Enqueue{Call: "c4", Queue: "wait"}, t0)
	acts = r.Apply(routing.Tick{}, t0.Add(10*time.Second))
	if x, ok := find[routing.Exit](acts); !ok || x.Call != "c4" || x.Reason != routing.ExitMaxWait || x.Target != "hangup" {
		t.Errorf("c4 after wait_for_agent: %+v", acts)
	}
}

func TestBuildRouterLeaveWhenEmpty(t *testing.T) {
	r := routerFor(t, []map[string]int{nil},
		sb.Queue{Name: "q", Agents: []sb.AgentID{"a1"}, LeaveWhenEmpty: "no-members", EmptyTarget: "vm"})
	r.Apply(routing.AgentLogin{Agent: "a1", Paused: true, Reason: "lunch"}, t0)
	r.Apply(routing.Enqueue{Call: "c1", Queue: "q"}, t0)
	acts := r.Apply(routing.AgentLogout{Agent: "a1"}, t0.Add(time.Second))
	if x, ok := find[routing.Exit](acts); !ok || x.Reason != routing.ExitEmpty || x.Target != "vm" {
		t.Errorf("last agent gone: %+v", acts)
	}
}

func TestBuildRouterAnnouncements(t *testing.T) {
	r := routerFor(t, nil, sb.Queue{Name: "q", AnnounceEvery: 30 * time.Second, AnnouncePosition: true})
	r.Apply(routing.Enqueue{Call: "c1", Queue: "q"}, t0)
	if acts := r.Apply(routing.Tick{}, t0.Add(29*time.Second)); len(acts) != 0 {
		t.Errorf("before announce_every: %+v", acts)
	}
	acts := r.Apply(routing.Tick{}, t0.Add(30*time.Second))
	if a, ok := find[routing.Announce](acts); !ok || a.Position != 1 || !a.SayPosition || a.SayWait {
		t.Errorf("announcement: %+v", acts)
	}
}

func TestBuildRouterEscalation(t *testing.T) {
	// a1 has support 2, below the queue's 5; a2 answers queue r only.
	r := routerFor(t, []map[string]int{{"support": 2}, nil},
		sb.Queue{Name: "q", Agents: []sb.AgentID{"a1"}, Skills: "skills.support >= 5", WaitForAgent: time.Hour,
			Escalation: []sb.EscalationStep{
				{After: 10 * time.Second, Skills: "skills.support >= 2"},
				{After: 20 * time.Second, AddQueues: []sb.QueueName{"r"}},
				{After: 30 * time.Second, OfferCallback: true},
				{After: 40 * time.Second, Exit: "vm"},
			},
			Callback: sb.QueueCallback{Key: "1", Prompt: []string{"sound:a"}, Confirmation: []string{"sound:b"}}},
		sb.Queue{Name: "r", Agents: []sb.AgentID{"a2"}})
	r.Apply(routing.AgentLogin{Agent: "a1"}, t0)
	if acts := r.Apply(routing.Enqueue{Call: "c1", Queue: "q"}, t0); len(acts) == 0 {
		t.Fatal("not queued")
	} else if _, offered := find[routing.Offer](acts); offered {
		t.Fatalf("offered to an agent below the queue's skills: %+v", acts)
	}
	acts := r.Apply(routing.Tick{}, t0.Add(10*time.Second))
	if o, ok := find[routing.Offer](acts); !ok || o.Agents[0] != "a1" {
		t.Fatalf("relaxed skills: %+v", acts)
	}
	r.Apply(routing.OfferFailed{Call: "c1", Agent: "a1", Why: routing.FailUnreachable}, t0.Add(11*time.Second))

	// a1 is skipped (unreachable for a minute); a2 of queue r takes it once
	// r is added.
	r.Apply(routing.AgentLogin{Agent: "a2"}, t0.Add(12*time.Second))
	if acts := r.Apply(routing.Tick{}, t0.Add(19*time.Second)); len(acts) != 0 {
		t.Fatalf("before add_queues: %+v", acts)
	}
	acts = r.Apply(routing.Tick{}, t0.Add(20*time.Second))
	if o, ok := find[routing.Offer](acts); !ok || o.Agents[0] != "a2" {
		t.Fatalf("added queue: %+v", acts)
	}
	r.Apply(routing.OfferFailed{Call: "c1", Agent: "a2", Why: routing.FailUnreachable}, t0.Add(21*time.Second))
	acts = r.Apply(routing.Tick{}, t0.Add(30*time.Second))
	if _, ok := find[routing.OfferCallback](acts); !ok {
		t.Fatalf("offer_callback: %+v", acts)
	}
	acts = r.Apply(routing.Tick{}, t0.Add(40*time.Second))
	if x, ok := find[routing.Exit](acts); !ok || x.Reason != routing.ExitEscalation || x.Target != "vm" {
		t.Fatalf("exit step: %+v", acts)
	}
}

func TestBuildRouterCallbacks(t *testing.T) {
	r := routerFor(t, []map[string]int{nil}, sb.Queue{Name: "q", Callback: sb.QueueCallback{
		Key: "1", Prompt: []string{"sound:a"}, Confirmation: []string{"sound:b"},
		Windows: []string{"mon 09:00-17:00"}, Attempts: 2, Retry: 2 * time.Minute}})
	r.Apply(routing.Enqueue{Call: "c1", Queue: "q"}, t0)
	r.Apply(routing.CallbackRequest{Call: "c1", Number: "+15550100"}, t0.Add(30*time.Second))
	// The agent is free at 08:00:30, but the window opens at 09:00.
	if acts := r.Apply(routing.AgentLogin{Agent: "a1"}, t0.Add(30*time.Second)); hasStart(acts) {
		t.Fatalf("callback started outside its window: %+v", acts)
	}
	at := t0.Add(time.Hour)
	if acts := r.Apply(routing.Tick{}, at); !hasStart(acts) {
		t.Fatalf("no callback when the window opened: %+v", acts)
	}
	r.Apply(routing.CallbackResult{Call: "c1", Agent: "a1", Outcome: routing.CallbackCustomerFailed}, at.Add(time.Minute))
	if acts := r.Apply(routing.Tick{}, at.Add(2*time.Minute)); hasStart(acts) {
		t.Fatalf("retried before callback.retry: %+v", acts)
	}
	if acts := r.Apply(routing.Tick{}, at.Add(3*time.Minute)); !hasStart(acts) {
		t.Fatalf("not retried after callback.retry: %+v", acts)
	}
	acts := r.Apply(routing.CallbackResult{Call: "c1", Agent: "a1", Outcome: routing.CallbackCustomerFailed}, at.Add(4*time.Minute))
	if x, ok := find[routing.Exit](acts); !ok || x.Reason != routing.ExitCallbackFailed {
		t.Fatalf("after callback.attempts: %+v", acts)
	}
}

func hasStart(acts []routing.Action) bool {
	_, ok := find[routing.StartCallback](acts)
	return ok
}

// TestBuildRouterAgentOptions: an agent's own wrap-up, weight and
// attributes reach the router from the YAML.
func TestBuildRouterAgentOptions(t *testing.T) {
	yaml := `
asterisk: {username: sb, password: pw}
agents:
  - {id: "1001", endpoint: PJSIP/1001, wrap_up: 20s, weight: 3, attributes: {site: paris}}
  - {id: "1002", endpoint: PJSIP/1002}
queues:
  - {name: paris, skills: 'attributes.site == "paris"'}
`
	cfg, err := config.LoadBytes("agents.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := BuildRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := r.Agent("1001")
	if !ok || a.WrapUp == nil || *a.WrapUp != 20*time.Second || a.Weight != 3 || a.Attributes["site"] != "paris" {
		t.Fatalf("agent 1001 = %+v", a)
	}
	if b, _ := r.Agent("1002"); b.WrapUp != nil {
		t.Fatalf("agent 1002 wrap-up = %v, want the queue's", *b.WrapUp)
	}
	if agents, _ := r.QueueAgents("paris"); len(agents) != 1 || agents[0] != "1001" {
		t.Fatalf("queue paris agents = %v, want [1001] (attributes.site)", agents)
	}
}

// TestBuildRouterRaisePriority: an escalation step's raise_priority, from
// the YAML, puts a caller who waited in queue q ahead of an older caller
// of queue r for their shared agent.
func TestBuildRouterRaisePriority(t *testing.T) {
	yaml := `
asterisk: {username: sb, password: pw}
agents:
  - {id: "1001", endpoint: PJSIP/1001}
queues:
  - name: q
    escalation:
      - {after: 30s, raise_priority: 2}
  - name: r
`
	cfg, err := config.LoadBytes("raise.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := BuildRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Apply(routing.Enqueue{Call: "older", Queue: "r", Priority: 1}, t0)
	r.Apply(routing.Enqueue{Call: "raised", Queue: "q"}, t0.Add(time.Second))
	r.Apply(routing.Tick{}, t0.Add(31*time.Second))
	acts := r.Apply(routing.AgentLogin{Agent: "1001"}, t0.Add(32*time.Second))
	if o, ok := find[routing.Offer](acts); !ok || o.Call != "raised" {
		t.Fatalf("offer %+v, want the raised caller (0+2 over 1)", acts)
	}
}

// TestBuildRouterBasic: routing.engine basic builds the router with each
// queue's agents as its members, longest-idle whatever the strategy and
// skills, every offer ringing center.agent_ring_timeout, the caller
// waiting the queue's wait_for_agent, a phone that failed an offer
// skipped for center.retry_interval, no wrap-up.
func TestBuildRouterBasic(t *testing.T) {
	cfg := config.Default()
	cfg.Routing.Engine = "basic"
	cfg.Center.AgentRingTimeout, cfg.Center.RetryInterval = 25*time.Second, 4*time.Second
	for _, id := range []string{"a1", "a2", "a3"} {
		cfg.Agents = append(cfg.Agents, config.Agent{ID: id, Endpoint: "PJSIP/" + id})
	}
	cfg.Queues = []sb.Queue{{Name: "q", Agents: []sb.AgentID{"a2", "a3"}, Strategy: routing.Linear, Skills: "skills.x > 1",
		RingTimeout: 5 * time.Second, WrapUp: time.Minute, WaitForAgent: 45 * time.Second}}
	r, err := BuildRouter(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []sb.AgentID{"a1", "a2", "a3"} {
		r.Apply(routing.AgentLogin{Agent: id}, t0)
	}
	acts := r.Apply(routing.Enqueue{Call: "c1", Queue: "q", EnteredAt: t0}, t0)
	o, ok := find[routing.Offer](acts)
	if !ok || o.Agents[0] != "a2" || o.Timeout != 25*time.Second {
		t.Fatalf("c1: %+v, want an offer to a2 (a1 is no member, the skills are not asked) ringing 25s", acts)
	}
	r.Apply(routing.OfferAnswered{Call: "c1", Agent: "a2", Channel: "c1-a1"}, t0.Add(time.Second))
	r.Apply(routing.CallEnded{Call: "c1", Agent: "a2"}, t0.Add(10*time.Second))
	if st, _ := r.AgentStats("a2", t0.Add(10*time.Second)); st.State != routing.StateAvailable {
		t.Errorf("a2 after the call: %s, want available (no wrap-up)", st.State)
	}
	acts = r.Apply(routing.Enqueue{Call: "c2", Queue: "q", EnteredAt: t0.Add(20 * time.Second)}, t0.Add(20*time.Second))
	if o, ok := find[routing.Offer](acts); !ok || o.Agents[0] != "a3" {
		t.Fatalf("c2: %+v, want an offer to a3, idle longest", acts)
	}
	acts = r.Apply(routing.OfferFailed{Call: "c2", Agent: "a3", Why: routing.FailNoAnswer}, t0.Add(45*time.Second))
	if o, ok := find[routing.Offer](acts); !ok || o.Agents[0] != "a2" {
		t.Fatalf("c2 after a3's no answer: %+v, want a2", acts)
	}
	r.Apply(routing.OfferFailed{Call: "c2", Agent: "a2", Why: routing.FailBusy}, t0.Add(46*time.Second))
	if st, _ := r.AgentStats("a3", t0.Add(46*time.Second)); st.State != routing.StateUnavailable {
		t.Errorf("a3 just after a missed offer: %s, want unavailable for retry_interval", st.State)
	}
	acts = r.Apply(routing.Tick{}, t0.Add(49*time.Second))
	if o, ok := find[routing.Offer](acts); !ok || o.Agents[0] != "a3" {
		t.Fatalf("c2 once a3's 4s are over: %+v, want a3 again", acts)
	}
	r.Apply(routing.OfferAnswered{Call: "c2", Agent: "a3", Channel: "c2-a3"}, t0.Add(50*time.Second))
	// Nobody free: c3 waits wait_for_agent, then hears the no-agent prompt.
	r.Apply(routing.AgentLogout{Agent: "a2"}, t0.Add(60*time.Second))
	r.Apply(routing.Enqueue{Call: "c3", Queue: "q", EnteredAt: t0.Add(60 * time.Second)}, t0.Add(60*time.Second))
	x, ok := find[routing.Exit](r.Apply(routing.Tick{}, t0.Add(105*time.Second)))
	if !ok || x.Call != "c3" || x.Target != "" {
		t.Errorf("c3 after wait_for_agent: %+v (%v), want the no-agent prompt", x, ok)
	}
}
