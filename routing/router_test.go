package routing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func agents(ids ...string) []routing.AgentConfig {
	var out []routing.AgentConfig
	for _, id := range ids {
		out = append(out, routing.AgentConfig{ID: sb.AgentID(id), Endpoint: "PJSIP/" + id, Skills: map[string]int{"sales": 5}})
	}
	return out
}

// harness drives a router and keeps the actions.
type harness struct {
	t   *testing.T
	r   *routing.Router
	all []routing.Action
}

func newHarness(t *testing.T, cfg routing.Config) *harness {
	t.Helper()
	r, err := routing.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, r: r}
}

func (h *harness) apply(m routing.Msg, now time.Time) []routing.Action {
	out := h.r.Apply(m, now)
	h.all = append(h.all, out...)
	for _, a := range out {
		if ig, ok := a.(routing.Ignored); ok {
			h.t.Logf("ignored %T: %s", ig.Msg, ig.Why)
		}
	}
	return out
}

func (h *harness) login(now time.Time, ids ...string) {
	for _, id := range ids {
		h.apply(routing.AgentLogin{Agent: sb.AgentID(id)}, now)
	}
}

func offers(acts []routing.Action) []routing.Offer {
	var out []routing.Offer
	for _, a := range acts {
		if o, ok := a.(routing.Offer); ok {
			out = append(out, o)
		}
	}
	return out
}

func find[T routing.Action](acts []routing.Action) (T, bool) {
	for _, a := range acts {
		if x, ok := a.(T); ok {
			return x, true
		}
	}
	var zero T
	return zero, false
}

func logEvents(acts []routing.Action) []string {
	var out []string
	for _, a := range acts {
		if l, ok := a.(routing.QueueLog); ok {
			out = append(out, l.Event+"("+strings.Join(l.Data, "|")+")")
		}
	}
	return out
}

func mustOffer(t *testing.T, acts []routing.Action, call string, agents ...string) {
	t.Helper()
	o := offers(acts)
	if len(o) != 1 || string(o[0].Call) != call || fmt.Sprint(o[0].Agents) != fmt.Sprint(agents) {
		t.Fatalf("want one offer of %s to %v, got %+v", call, agents, o)
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  routing.Config
		want []string
	}{
		{"unknown strategy", routing.Config{Queues: []sb.Queue{{Name: "q", Strategy: "fastest"}}},
			[]string{`queue "q"`, `unknown strategy "fastest"`, "longest-idle", "best-skill"}},
		{"bad expression", routing.Config{Queues: []sb.Queue{{Name: "billing", Skills: "skills.billing >= "}}},
			[]string{`queue "billing"`, "bad skills expression"}},
		{"not boolean", routing.Config{Queues: []sb.Queue{{Name: "b", Skills: "skills.billing"}}},
			[]string{`queue "b"`, "bad skills expression"}},
		{"unknown field", routing.Config{Queues: []sb.Queue{{Name: "b", Skills: "skil.x > 1"}}},
			[]string{`queue "b"`}},
		{"bad step", routing.Config{Queues: []sb.Queue{{Name: "b", Escalation: []sb.EscalationStep{
			{After: 30 * time.Second, Skills: "skills.x >"}, {After: 10 * time.Second, AddQueues: []sb.QueueName{"nope"}}}}}},
			[]string{`queue "b": escalation[0]`, `escalation[1].after: must be later than the step before (30s), got 10s`, `unknown queue "nope"`}},
		{"duplicates", routing.Config{Agents: agents("a", "a"), Queues: []sb.Queue{{Name: "q"}, {Name: "q"}}},
			[]string{`agent "a": defined twice`, `queue "q": name: duplicate queue name "q"`}},
		{"policy", routing.Config{Queues: []sb.Queue{{Name: "q", JoinEmpty: "sometimes"}}},
			[]string{`queue "q": join_empty: must be no-members or no-available (empty: never), got "sometimes"`}},
		{"member", routing.Config{Queues: []sb.Queue{{Name: "q", Agents: []sb.AgentID{"ghost"}}}},
			[]string{`queue "q": agents[0]: unknown agent "ghost"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := routing.New(tt.cfg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := routing.New(routing.Config{Agents: agents("a"), Queues: []sb.Queue{
		{Name: "ok", Skills: `skills.sales >= 5 && "es" in languages || attributes.site == "mad" || skills["language.es"] > 3`}}}); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

func TestSkillExpressionSelectsAgents(t *testing.T) {
	cfg := routing.Config{
		Agents: []routing.AgentConfig{
			{ID: "es5", Skills: map[string]int{"billing": 5}, Languages: []string{"es"}},
			{ID: "es3", Skills: map[string]int{"billing": 3}, Languages: []string{"es"}},
			{ID: "en9", Skills: map[string]int{"billing": 9}, Languages: []string{"en"}},
		},
		Queues: []sb.Queue{{Name: "billing-es", Skills: `skills.billing >= 5 && "es" in languages`, Strategy: routing.RingAll}},
	}
	h := newHarness(t, cfg)
	h.login(at(0), "es5", "es3", "en9")
	acts := h.apply(routing.Enqueue{Call: "c1", Queue: "billing-es"}, at(1))
	mustOffer(t, acts, "c1", "es5")
}

func TestCallLifecycleAndQueueLog(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "sales", WrapUp: 10 * time.Second}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	acts := h.apply(routing.Enqueue{Call: "c1", Queue: "sales", Caller: "5551234"}, at(10))
	mustOffer(t, acts, "c1", "a1")
	if s, _ := find[routing.AgentState](acts); s.State != routing.StateReserved || s.Call != "c1" {
		t.Errorf("agent state %+v", s)
	}
	h.apply(routing.OfferAnswered{Call: "c1", Agent: "a1", Channel: "c1-a1"}, at(14))
	if st, _ := h.r.AgentStats("a1", at(15)); st.State != routing.StateOnCall {
		t.Errorf("state %v, want on-call", st.State)
	}
	acts = h.apply(routing.CallEnded{Call: "c1", Agent: "a1"}, at(74))
	if s, _ := find[routing.AgentState](acts); s.State != routing.StateWrapUp {
		t.Errorf("after call: %+v", s)
	}
	if w := h.r.NextWake(); !w.Equal(at(84)) {
		t.Errorf("next wake %v, want wrap-up end %v", w, at(84))
	}
	acts = h.apply(routing.Tick{}, at(84))
	if s, _ := find[routing.AgentState](acts); s.State != routing.StateAvailable {
		t.Errorf("after wrap-up: %+v", s)
	}
	got := strings.Join(logEvents(h.all), " ")
	want := "AGENTLOGIN(PJSIP/a1) ADDMEMBER() ENTERQUEUE(|5551234) CONNECT(4|c1-a1|4) COMPLETECALLER(4|60|1)"
	if got != want {
		t.Errorf("queue log\n got %s\nwant %s", got, want)
	}
	qs, _ := h.r.QueueStats("sales", at(100))
	if qs.Answered != 1 || qs.ASA != 4*time.Second || qs.AHT != 70*time.Second || qs.ServiceLevel != 1 {
		t.Errorf("queue stats %+v", qs)
	}
	as, _ := h.r.AgentStats("a1", at(100))
	if as.Calls != 1 || as.TalkTime != 60*time.Second {
		t.Errorf("agent stats %+v", as)
	}
	// staffed 100s: available 10+16, reserved 4, on call 60, wrap 10 → occupancy 70/100
	if as.Occupancy < 0.69 || as.Occupancy > 0.71 {
		t.Errorf("occupancy %v, want 0.7", as.Occupancy)
	}
}

func TestNoAnswerAutoPause(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1", "a2"), Queues: []sb.Queue{{Name: "q", Strategy: routing.Linear, RingTimeout: 10 * time.Second}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	now := 1
	mustOffer(t, h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(now)), "c1", "a1")
	for i := 1; i <= 3; i++ {
		now += 10
		acts := h.apply(routing.OfferFailed{Call: "c1", Agent: "a1", Why: routing.FailNoAnswer}, at(now))
		if i < 3 {
			mustOffer(t, acts, "c1", "a1") // the only agent is tried again
			continue
		}
		if len(offers(acts)) != 0 {
			t.Fatalf("offered after auto-pause: %+v", acts)
		}
		s, _ := find[routing.AgentState](acts)
		if s.State != routing.StatePaused || s.Reason != routing.ReasonNoAnswer {
			t.Fatalf("third miss: %+v", s)
		}
		if ev := logEvents(acts); !strings.Contains(strings.Join(ev, " "), "PAUSE(no answer)") {
			t.Errorf("no PAUSE line: %v", ev)
		}
	}
	// Another agent logs in and takes the caller; ring timeout at the router.
	mustOffer(t, h.apply(routing.AgentLogin{Agent: "a2"}, at(now+1)), "c1", "a2")
	acts := h.apply(routing.Tick{}, at(now+1+12))
	if c, ok := find[routing.CancelOffer](acts); !ok || c.Reason != routing.CancelTimeout {
		t.Errorf("router ring timeout: %+v", acts)
	}
	mustOffer(t, acts, "c1", "a2") // the only free agent, again
	h.apply(routing.OfferAnswered{Call: "c1", Agent: "a2"}, at(now+14))
	// Ready clears the pause and the count.
	h.apply(routing.AgentReady{Agent: "a1"}, at(now+20))
	if st, _ := h.r.AgentStats("a1", at(now+20)); st.State != routing.StateAvailable || st.NoAnswers != 0 {
		t.Errorf("after ready %+v", st)
	}
	mustOffer(t, h.apply(routing.Enqueue{Call: "c2", Queue: "q"}, at(now+21)), "c2", "a1")
}

func TestBusyAndUnreachableSkipped(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1", "a2"), BusyBackoff: 30 * time.Second, Queues: []sb.Queue{{Name: "q", Strategy: routing.Linear}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1", "a2")
	h.apply(routing.EndpointReachable{Agent: "a1", Reachable: false}, at(1))
	mustOffer(t, h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(2)), "c1", "a2")
	acts := h.apply(routing.OfferFailed{Call: "c1", Agent: "a2", Why: routing.FailBusy}, at(3))
	if len(offers(acts)) != 0 {
		t.Fatalf("offered to busy/unreachable: %+v", offers(acts))
	}
	if st, _ := h.r.AgentStats("a2", at(4)); st.State != routing.StateUnavailable || st.Reason != "busy" {
		t.Errorf("busy agent %+v", st)
	}
	mustOffer(t, h.apply(routing.EndpointReachable{Agent: "a1", Reachable: true}, at(5)), "c1", "a1")
}

func TestRingAllFirstAnswerWins(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1", "a2", "a3"), Queues: []sb.Queue{{Name: "q", Strategy: routing.RingAll}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1", "a2", "a3")
	mustOffer(t, h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(1)), "c1", "a1", "a2", "a3")
	acts := h.apply(routing.OfferFailed{Call: "c1", Agent: "a3", Why: routing.FailBusy}, at(2))
	if len(offers(acts)) != 0 {
		t.Errorf("re-offered while others ring: %+v", acts)
	}
	acts = h.apply(routing.OfferAnswered{Call: "c1", Agent: "a2"}, at(3))
	c, ok := find[routing.CancelOffer](acts)
	if !ok || c.Agent != "a1" || c.Reason != routing.CancelAnsweredElsewhere {
		t.Errorf("cancel %+v", acts)
	}
	if ev := strings.Join(logEvents(acts), " "); ev != "RINGCANCELED(2000) CONNECT(2||2)" {
		t.Errorf("log %s", ev)
	}
	// A late answer from a1 is ignored.
	if _, ok := find[routing.Ignored](h.apply(routing.OfferAnswered{Call: "c1", Agent: "a1"}, at(4))); !ok {
		t.Error("late answer not ignored")
	}
}

func TestAbandonWhileRinging(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "q"}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(1))
	acts := h.apply(routing.Abandon{Call: "c1"}, at(6))
	if c, ok := find[routing.CancelOffer](acts); !ok || c.Reason != routing.CancelCallerLeft {
		t.Errorf("no cancel: %+v", acts)
	}
	if ev := strings.Join(logEvents(acts), " "); ev != "RINGCANCELED(5000) ABANDON(1|1|5)" {
		t.Errorf("log %s", ev)
	}
	if st, _ := h.r.AgentStats("a1", at(7)); st.State != routing.StateAvailable {
		t.Errorf("agent %v", st.State)
	}
	if qs, _ := h.r.QueueStats("q", at(7)); qs.Abandoned != 1 || qs.Waiting != 0 || qs.Ringing != 0 {
		t.Errorf("stats %+v", qs)
	}
}

func TestPriorityAndFIFO(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "q"}}}
	h := newHarness(t, cfg)
	h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(1))
	h.apply(routing.Enqueue{Call: "c2", Queue: "q"}, at(2))
	h.apply(routing.Enqueue{Call: "vip", Queue: "q", Priority: 5}, at(3))
	h.apply(routing.Enqueue{Call: "moved", Queue: "q", EnteredAt: at(0)}, at(4)) // from another queue, older
	var order []string
	h.login(at(5), "a1")
	for i := 0; i < 4; i++ {
		var o routing.Offer
		for j := len(h.all) - 1; j >= 0; j-- {
			if x, ok := h.all[j].(routing.Offer); ok {
				o = x
				break
			}
		}
		order = append(order, string(o.Call))
		h.apply(routing.OfferAnswered{Call: o.Call, Agent: "a1"}, at(10+i*10))
		h.apply(routing.CallEnded{Call: o.Call, Agent: "a1"}, at(15+i*10))
	}
	if got := strings.Join(order, " "); got != "vip moved c1 c2" {
		t.Errorf("order %s", got)
	}
}

func TestEscalationSteps(t *testing.T) {
	cfg := routing.Config{
		BusyBackoff: time.Hour,
		Agents: []routing.AgentConfig{
			{ID: "expert", Skills: map[string]int{"billing": 8}},
			{ID: "junior", Skills: map[string]int{"billing": 3}},
			{ID: "sales", Skills: map[string]int{"sales": 5}},
		},
		Queues: []sb.Queue{
			{Name: "billing", Skills: "skills.billing >= 5", Escalation: []sb.EscalationStep{
				{After: 30 * time.Second, Skills: "skills.billing >= 3"},
				{After: 90 * time.Second, AddQueues: []sb.QueueName{"sales"}},
				{After: 180 * time.Second, OfferCallback: true},
				{After: 300 * time.Second, Exit: "voicemail"},
			}, Callback: sb.QueueCallback{Key: "1", Prompt: []string{"sound:press-1"}, Confirmation: []string{"sound:we-call-back"}}},
			{Name: "sales", Skills: "skills.sales >= 1"},
		},
	}
	h := newHarness(t, cfg)
	h.login(at(0), "junior", "sales")
	h.apply(routing.AgentPause{Agent: "sales", Reason: "lunch"}, at(0))
	if acts := h.apply(routing.Enqueue{Call: "c1", Queue: "billing"}, at(0)); len(offers(acts)) != 0 {
		t.Fatal("junior offered before escalation")
	}
	if w := h.r.NextWake(); !w.Equal(at(30)) {
		t.Fatalf("next wake %v", w)
	}
	mustOffer(t, h.apply(routing.Tick{}, at(30)), "c1", "junior")
	h.apply(routing.OfferFailed{Call: "c1", Agent: "junior", Why: routing.FailBusy}, at(35))
	h.apply(routing.AgentReady{Agent: "sales"}, at(40))
	mustOffer(t, h.apply(routing.Tick{}, at(90)), "c1", "sales")
	acts := h.apply(routing.OfferFailed{Call: "c1", Agent: "sales", Why: routing.FailUnreachable}, at(95))
	if len(offers(acts)) != 0 {
		t.Fatal("offered")
	}
	if _, ok := find[routing.OfferCallback](h.apply(routing.Tick{}, at(180))); !ok {
		t.Error("no callback offer at 180s")
	}
	acts = h.apply(routing.Tick{}, at(300))
	if e, ok := find[routing.Exit](acts); !ok || e.Reason != routing.ExitEscalation || e.Target != "voicemail" {
		t.Errorf("exit %+v", acts)
	}
}

func TestMaxWaitMaxLenJoinLeaveEmpty(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{
		{Name: "q", WaitForAgent: 60 * time.Second, MaxWaitTarget: "overflow", MaxLength: 2, MaxLengthTarget: "busy-msg"},
		{Name: "strict", JoinEmpty: sb.EmptyNoMembers, LeaveWhenEmpty: sb.EmptyNoAvailable, EmptyTarget: "closed"},
	}}
	h := newHarness(t, cfg)
	h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(0))
	h.apply(routing.Enqueue{Call: "c2", Queue: "q"}, at(1))
	acts := h.apply(routing.Enqueue{Call: "c3", Queue: "q"}, at(2))
	if e, _ := find[routing.Exit](acts); e.Reason != routing.ExitFull || e.Target != "busy-msg" {
		t.Errorf("full: %+v", acts)
	}
	acts = h.apply(routing.Tick{}, at(60))
	if e, _ := find[routing.Exit](acts); e.Call != "c1" || e.Reason != routing.ExitMaxWait || e.Target != "overflow" {
		t.Errorf("max wait: %+v", acts)
	}
	if ev := strings.Join(logEvents(acts), " "); ev != "EXITWITHTIMEOUT(1|1|60)" {
		t.Errorf("log %s", ev)
	}
	acts = h.apply(routing.Enqueue{Call: "s1", Queue: "strict"}, at(61))
	if e, _ := find[routing.Exit](acts[len(acts)-1:]); e.Reason != routing.ExitJoinEmpty || e.Target != "closed" {
		t.Errorf("join empty: %+v", acts)
	}
	h.login(at(62), "a1") // c2 left at 61
	mustOffer(t, h.apply(routing.Enqueue{Call: "c9", Queue: "q"}, at(62)), "c9", "a1")
	h.apply(routing.OfferAnswered{Call: "c9", Agent: "a1"}, at(63))
	h.apply(routing.Enqueue{Call: "s2", Queue: "strict"}, at(64))
	acts = h.apply(routing.AgentPause{Agent: "a1", Reason: "break"}, at(65))
	if e, _ := find[routing.Exit](acts); e.Call != "s2" || e.Reason != routing.ExitEmpty {
		t.Errorf("leave when empty: %+v", acts)
	}
}

func TestPreferredAgent(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1", "owner"), BusyBackoff: time.Minute, Queues: []sb.Queue{{Name: "q", PreferredWait: 20 * time.Second}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1", "owner")
	h.apply(routing.AgentPause{Agent: "owner", Reason: "meeting"}, at(0))
	if acts := h.apply(routing.Enqueue{Call: "c1", Queue: "q", Preferred: "owner"}, at(1)); len(offers(acts)) != 0 {
		t.Fatal("offered to another agent during the preferred window")
	}
	mustOffer(t, h.apply(routing.AgentReady{Agent: "owner"}, at(5)), "c1", "owner")
	h.apply(routing.OfferFailed{Call: "c1", Agent: "owner", Why: routing.FailBusy}, at(8))
	// The owner let the caller down: the strategy takes over at once.
	var got []routing.Offer
	for _, a := range h.all {
		if o, ok := a.(routing.Offer); ok {
			got = append(got, o)
		}
	}
	if len(got) != 2 || got[1].Agents[0] != "a1" {
		t.Errorf("offers %+v", got)
	}
	// Window expiry.
	h.apply(routing.Enqueue{Call: "c2", Queue: "q", Preferred: "owner"}, at(9)) // a1 ringing c1, owner busy
	h.apply(routing.OfferAnswered{Call: "c1", Agent: "a1"}, at(10))
	h.apply(routing.CallEnded{Call: "c1", Agent: "a1"}, at(12))
	for _, a := range h.all[len(h.all)-3:] {
		if o, ok := a.(routing.Offer); ok {
			t.Errorf("c2 offered to %v inside the window", o.Agents)
		}
	}
	mustOffer(t, h.apply(routing.Tick{}, at(29)), "c2", "a1")
}

func TestCallbackKeepsPlace(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "q", WrapUp: 0,
		Callback: sb.QueueCallback{Windows: []string{"09:00-17:00"}}}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	h.apply(routing.AgentPause{Agent: "a1", Reason: "x"}, at(0))
	h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(1))
	h.apply(routing.Enqueue{Call: "c2", Queue: "q"}, at(2))
	h.apply(routing.CallbackRequest{Call: "c1", Number: "5550001"}, at(3))
	if qs, _ := h.r.QueueStats("q", at(4)); qs.Waiting != 2 || qs.Callbacks != 1 {
		t.Errorf("stats %+v", qs)
	}
	acts := h.apply(routing.AgentReady{Agent: "a1"}, at(5))
	sc, ok := find[routing.StartCallback](acts)
	if !ok || sc.Call != "c1" || sc.Number != "5550001" || sc.Agent != "a1" {
		t.Fatalf("callback first: %+v", acts)
	}
	h.apply(routing.CallbackResult{Call: "c1", Agent: "a1", Outcome: routing.CallbackConnected}, at(20))
	acts = h.apply(routing.CallEnded{Call: "c1", Agent: "a1"}, at(80))
	mustOffer(t, acts, "c2", "a1")
}

// TestEnqueueRestoredCallback: a callback request put back after a
// restart (Enqueue with CallbackNumber) is a callback from the start: an
// available agent gets StartCallback, never an Offer, and the request keeps
// the place its EnteredAt gives it.
func TestEnqueueRestoredCallback(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "q"}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	h.apply(routing.AgentPause{Agent: "a1", Reason: "x"}, at(1))
	h.apply(routing.Enqueue{Call: "c2", Queue: "q"}, at(10))
	h.apply(routing.Enqueue{Call: "old", Queue: "q", EnteredAt: at(0), CallbackNumber: "5550009"}, at(14))
	if qs, _ := h.r.QueueStats("q", at(15)); qs.Waiting != 2 || qs.Callbacks != 1 {
		t.Fatalf("stats %+v, want 2 waiting, 1 callback", qs)
	}
	acts := h.apply(routing.AgentReady{Agent: "a1"}, at(16))
	if _, offered := find[routing.Offer](acts); offered {
		t.Fatalf("an offer when the callback (entered first) is due: %+v", acts)
	}
	if sc, ok := find[routing.StartCallback](acts); !ok || sc.Call != "old" || sc.Number != "5550009" {
		t.Fatalf("want the restored callback started first: %+v", acts)
	}
}

func TestCallbackWindowAndRetry(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "q",
		Callback: sb.QueueCallback{Windows: []string{"11:00-12:00"}, Attempts: 2, Retry: time.Minute}}}}
	h := newHarness(t, cfg)
	h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(0))
	h.apply(routing.CallbackRequest{Call: "c1", Number: "1"}, at(1))
	if acts := h.apply(routing.AgentLogin{Agent: "a1"}, at(2)); len(acts) > 0 {
		if _, ok := find[routing.StartCallback](acts); ok {
			t.Fatal("callback outside its window")
		}
	}
	if w := h.r.NextWake(); !w.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next wake %v, want window at 11:00", w)
	}
	if _, ok := find[routing.StartCallback](h.apply(routing.Tick{}, t0.Add(time.Hour))); !ok {
		t.Fatal("no callback when the window opened")
	}
	h.apply(routing.CallbackResult{Call: "c1", Agent: "a1", Outcome: routing.CallbackCustomerFailed}, t0.Add(time.Hour+30*time.Second))
	if _, ok := find[routing.StartCallback](h.apply(routing.Tick{}, t0.Add(time.Hour+90*time.Second))); !ok {
		t.Fatal("no retry")
	}
	acts := h.apply(routing.CallbackResult{Call: "c1", Agent: "a1", Outcome: routing.CallbackCustomerFailed}, t0.Add(time.Hour+100*time.Second))
	if e, ok := find[routing.Exit](acts); !ok || e.Reason != routing.ExitCallbackFailed {
		t.Errorf("exit after attempts: %+v", acts)
	}
}

func TestAnnouncementsAndEstimatedWait(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1", "a2"), Queues: []sb.Queue{{Name: "q", AnnounceEvery: 30 * time.Second,
		AnnouncePosition: true, AnnounceWait: true, ExpectedAHT: 120 * time.Second}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1", "a2")
	h.apply(routing.Enqueue{Call: "x1", Queue: "q"}, at(0))
	h.apply(routing.Enqueue{Call: "x2", Queue: "q"}, at(0))
	h.apply(routing.OfferAnswered{Call: "x1", Agent: "a1"}, at(1))
	h.apply(routing.OfferAnswered{Call: "x2", Agent: "a2"}, at(1))
	acts := h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(2))
	q, _ := find[routing.Queued](acts)
	h.apply(routing.Enqueue{Call: "c2", Queue: "q"}, at(3))
	// position 1, 2 agents staffed, none free: 1 x 120s / 2.
	if q.Position != 1 || q.EstimatedWait != 60*time.Second {
		t.Errorf("queued %+v", q)
	}
	acts = h.apply(routing.Tick{}, at(33))
	var ann []routing.Announce
	for _, a := range acts {
		if x, ok := a.(routing.Announce); ok {
			ann = append(ann, x)
		}
	}
	if len(ann) != 2 || ann[1].Call != "c2" || ann[1].Position != 2 || ann[1].EstimatedWait != 120*time.Second || !ann[1].SayWait {
		t.Errorf("announcements %+v", ann)
	}
}

func TestLogoutWhileRingingKeepsCallerPlace(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1", "a2"), Queues: []sb.Queue{{Name: "q", Strategy: routing.Linear}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(1))
	acts := h.apply(routing.AgentLogout{Agent: "a1"}, at(2))
	if c, _ := find[routing.CancelOffer](acts); c.Reason != routing.CancelAgentLoggedOut {
		t.Errorf("%+v", acts)
	}
	if ev := strings.Join(logEvents(acts), " "); ev != "RINGCANCELED(1000) REMOVEMEMBER() AGENTLOGOFF(PJSIP/a1|2)" {
		t.Errorf("log %s", ev)
	}
	mustOffer(t, h.apply(routing.AgentLogin{Agent: "a2"}, at(3)), "c1", "a2")
}

func TestPIN(t *testing.T) {
	h := routing.HashPIN("4321", []byte("0123456789abcdef"))
	if !routing.VerifyPIN(h, "4321") || routing.VerifyPIN(h, "1234") || routing.VerifyPIN("junk", "4321") {
		t.Error("VerifyPIN")
	}
	if _, err := routing.New(routing.Config{Agents: []routing.AgentConfig{{ID: "a", PINHash: "md5$x"}}}); err == nil {
		t.Error("bad hash accepted")
	}
}

// TestAdoptTalkingCall: a call found talking after a restart keeps its
// agent busy (no offer reaches the agent) and, when it ends, writes
// COMPLETECALLER with the hold and talk times it had, then wrap-up.
func TestAdoptTalkingCall(t *testing.T) {
	cfg := routing.Config{Agents: agents("a1"), Queues: []sb.Queue{{Name: "sales", WrapUp: 10 * time.Second}}}
	h := newHarness(t, cfg)
	h.login(at(0), "a1")
	h.apply(routing.Adopt{Call: "c1", Queue: "sales", Agent: "a1", EnteredAt: at(-30), AnsweredAt: at(-20)}, at(1))
	if st, _ := h.r.AgentStats("a1", at(2)); st.State != routing.StateOnCall {
		t.Fatalf("state %v, want on-call", st.State)
	}
	if acts := h.apply(routing.Enqueue{Call: "c2", Queue: "sales"}, at(3)); len(offers(acts)) != 0 {
		t.Fatalf("the adopted call's agent was offered c2: %+v", offers(acts))
	}
	// A second adoption of the agent or of the call is ignored.
	if _, ok := find[routing.Ignored](h.apply(routing.Adopt{Call: "c3", Queue: "sales", Agent: "a1"}, at(4))); !ok {
		t.Error("adopting a busy agent was not ignored")
	}
	acts := h.apply(routing.CallEnded{Call: "c1", Agent: "a1"}, at(40))
	if s, _ := find[routing.AgentState](acts); s.State != routing.StateWrapUp {
		t.Errorf("after the call: %+v", s)
	}
	got := strings.Join(logEvents(h.all), " ")
	if !strings.Contains(got, "COMPLETECALLER(10|60|1)") || strings.Count(got, "CONNECT(") != 0 {
		t.Errorf("queue log %s: want COMPLETECALLER(10|60|1) and no CONNECT", got)
	}
}

// TestCallerRequirementsMatch: a caller's own skills (an IVR queue node's
// skills:) are read as language, level or attribute, and only an agent
// meeting them all is offered the call.
func TestCallerRequirementsMatch(t *testing.T) {
	cfg := routing.Config{
		Agents: []routing.AgentConfig{
			{ID: "b", Languages: []string{"fr"}, Skills: map[string]int{"billing": 3}, Attributes: map[string]string{"site": "lyon"}},
			{ID: "a", Languages: []string{"en", "ES"}, Skills: map[string]int{"billing": 7}, Attributes: map[string]string{"site": "paris"}},
		},
		Queues: []sb.Queue{{Name: "q", Strategy: routing.Linear}}, // b first whenever free
	}
	tests := []struct {
		name   string
		skills map[string]string
		want   string // "" waits
	}{
		{"none", nil, "b"},
		{"language", map[string]string{"language": "es"}, "a"},
		{"language of the first", map[string]string{"language": "fr"}, "b"},
		{"language nobody speaks", map[string]string{"language": "de"}, ""},
		{"level met by both", map[string]string{"billing": "3"}, "b"},
		{"level", map[string]string{"billing": "5"}, "a"},
		{"level nobody has", map[string]string{"billing": "8"}, ""},
		{"skill nobody has", map[string]string{"support": "1"}, ""},
		{"attribute", map[string]string{"site": "paris"}, "a"},
		{"attribute nobody has", map[string]string{"team": "gold"}, ""},
		{"all of them", map[string]string{"language": "en", "billing": "6", "site": "paris"}, "a"},
		{"not all of them", map[string]string{"language": "es", "site": "lyon"}, ""},
		{"empty values ask nothing", map[string]string{"language": "", "billing": " "}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, cfg)
			h.login(at(0), "b", "a")
			acts := h.apply(routing.Enqueue{Call: "c1", Queue: "q", Skills: tt.skills}, at(1))
			if tt.want == "" {
				if o := offers(acts); len(o) != 0 {
					t.Fatalf("offered %+v, want the caller to wait", o)
				}
				return
			}
			mustOffer(t, acts, "c1", tt.want)
		})
	}
}

// TestCallerRequirementWaitsForHisAgent: a caller asking for Spanish goes
// to the Spanish speaker although the other agent has been idle longer;
// while she is busy the next such caller waits beside the free English
// speaker, callers behind him who ask nothing are served, and he is the
// Spanish speaker's next call.
func TestCallerRequirementWaitsForHisAgent(t *testing.T) {
	cfg := routing.Config{
		Agents: []routing.AgentConfig{
			{ID: "en", Languages: []string{"en"}},
			{ID: "es", Languages: []string{"es"}},
		},
		Queues: []sb.Queue{{Name: "sales"}}, // longest-idle
	}
	h := newHarness(t, cfg)
	h.login(at(0), "en")
	h.login(at(1), "es")
	es := map[string]string{"language": "es"}
	mustOffer(t, h.apply(routing.Enqueue{Call: "c1", Queue: "sales", Skills: es}, at(2)), "c1", "es")
	h.apply(routing.OfferAnswered{Call: "c1", Agent: "es"}, at(3))
	if acts := h.apply(routing.Enqueue{Call: "c2", Queue: "sales", Skills: es}, at(4)); len(offers(acts)) != 0 {
		t.Fatalf("c2 offered %+v while the Spanish speaker is busy", offers(acts))
	}
	// Ring timeouts, ticks and the preferred agent do not change it.
	if acts := h.apply(routing.Enqueue{Call: "c3", Queue: "sales", Skills: es, Preferred: "en"}, at(5)); len(offers(acts)) != 0 {
		t.Fatalf("c3 offered %+v to a preferred agent who does not speak Spanish", offers(acts))
	}
	if acts := h.apply(routing.Tick{}, at(60)); len(offers(acts)) != 0 {
		t.Fatalf("offered %+v", offers(acts))
	}
	mustOffer(t, h.apply(routing.Enqueue{Call: "c4", Queue: "sales"}, at(61)), "c4", "en")
	mustOffer(t, h.apply(routing.CallEnded{Call: "c1", Agent: "es"}, at(70)), "c2", "es")
	if st, _ := h.r.QueueStats("sales", at(70)); st.Waiting != 1 || st.Ringing != 2 {
		t.Errorf("stats %+v, want c3 waiting, c2 and c4 ringing", st)
	}
}

// TestEscalationRaisesPriority: a step's RaisePriority adds to a waiting
// caller's priority when it applies, so he is served before callers of
// lower priority who have waited longer, in his queue and in the agent's
// other queues; steps add up.
func TestEscalationRaisesPriority(t *testing.T) {
	cfg := routing.Config{
		Agents: agents("a1"),
		Queues: []sb.Queue{
			{Name: "slow"},
			{Name: "urgent", Escalation: []sb.EscalationStep{{After: 20 * time.Second, RaisePriority: 1}}},
			{Name: "q", Escalation: []sb.EscalationStep{
				{After: 30 * time.Second, RaisePriority: 2}, {After: 60 * time.Second, RaisePriority: 2}}},
		},
	}
	busy := func(h *harness, now time.Time) {
		t.Helper()
		h.login(now, "a1")
		mustOffer(t, h.apply(routing.Enqueue{Call: "x", Queue: "slow"}, now), "x", "a1")
		h.apply(routing.OfferAnswered{Call: "x", Agent: "a1"}, now)
	}

	t.Run("across queues", func(t *testing.T) {
		h := newHarness(t, cfg)
		busy(h, at(0))
		h.apply(routing.Enqueue{Call: "older", Queue: "slow"}, at(2))
		h.apply(routing.Enqueue{Call: "raised", Queue: "urgent"}, at(10))
		if w := h.r.NextWake(); !w.Equal(at(30)) {
			t.Fatalf("next wake %v, want the step at %v", w, at(30))
		}
		h.apply(routing.Tick{}, at(30))
		mustOffer(t, h.apply(routing.CallEnded{Call: "x", Agent: "a1"}, at(40)), "raised", "a1")
	})

	t.Run("steps add up", func(t *testing.T) {
		h := newHarness(t, cfg)
		busy(h, at(0))
		h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(0))
		h.apply(routing.Enqueue{Call: "vip", Queue: "q", Priority: 3}, at(40))
		h.apply(routing.Tick{}, at(61)) // c1: 0+2+2 = 4; vip still 3 (his first step is at 70)
		mustOffer(t, h.apply(routing.CallEnded{Call: "x", Agent: "a1"}, at(65)), "c1", "a1")
	})

	t.Run("one step is not enough", func(t *testing.T) {
		h := newHarness(t, cfg)
		busy(h, at(0))
		h.apply(routing.Enqueue{Call: "c1", Queue: "q"}, at(0))
		h.apply(routing.Enqueue{Call: "vip", Queue: "q", Priority: 3}, at(20))
		h.apply(routing.Tick{}, at(31)) // c1: 2 < 3
		mustOffer(t, h.apply(routing.CallEnded{Call: "x", Agent: "a1"}, at(35)), "vip", "a1")
	})

	t.Run("a ringing caller keeps it", func(t *testing.T) {
		one := cfg
		one.Agents = agents("a1", "a2")
		h := newHarness(t, one)
		h.login(at(0), "a1")
		mustOffer(t, h.apply(routing.Enqueue{Call: "x", Queue: "slow"}, at(0)), "x", "a1")
		h.apply(routing.OfferAnswered{Call: "x", Agent: "a1"}, at(0))
		h.login(at(1), "a2")
		mustOffer(t, h.apply(routing.Enqueue{Call: "c1", Queue: "urgent"}, at(1)), "c1", "a2")
		h.apply(routing.AgentPause{Agent: "a2", Reason: "break"}, at(2)) // after this ring
		h.apply(routing.Enqueue{Call: "older", Queue: "slow", EnteredAt: at(-60)}, at(3))
		h.apply(routing.Tick{}, at(21)) // c1's step, while it rings a2
		h.apply(routing.OfferFailed{Call: "c1", Agent: "a2", Why: routing.FailNoAnswer}, at(22))
		mustOffer(t, h.apply(routing.CallEnded{Call: "x", Agent: "a1"}, at(30)), "c1", "a1")
	})
}

func TestEscalationRaisePriorityValidation(t *testing.T) {
	_, err := routing.New(routing.Config{Queues: []sb.Queue{{Name: "q", Escalation: []sb.EscalationStep{
		{After: time.Second, RaisePriority: -1}, {After: 2 * time.Second}, {After: 3 * time.Second, RaisePriority: 1}}}}})
	if err == nil || !strings.Contains(err.Error(), `queue "q": escalation[0].raise_priority: must not be negative, got -1`) ||
		!strings.Contains(err.Error(), `escalation[1]: does nothing`) || strings.Contains(err.Error(), "escalation[2]") {
		t.Fatalf("err = %v", err)
	}
}

// TestBasic: the router as routing.engine basic builds it serves a queue's
// members longest-idle whatever the skills, rings each offer for the ring
// time given, skips an agent whose phone failed an offer for the retry
// interval (never pausing him), has no wrap-up, and sends a caller nobody
// took to the no-agent prompt at the queue's MaxWait.
func TestBasic(t *testing.T) {
	wrap := time.Minute
	ags := agents("a1", "a2", "a3")
	ags[0].WrapUp = &wrap
	q := sb.Queue{Name: "q", Agents: []sb.AgentID{"a1", "a2"}, Skills: "skills.sales > 9",
		Strategy: routing.Linear, WrapUp: wrap, WaitForAgent: 90 * time.Second, AnnounceEvery: time.Second}
	h := newHarness(t, routing.Basic(ags, []sb.Queue{q}, 20*time.Second, 5*time.Second))
	h.login(at(0), "a1", "a2", "a3")
	h.apply(routing.AgentReady{Agent: "a2"}, at(0))
	acts := h.apply(routing.Enqueue{Call: "c1", Queue: "q", EnteredAt: at(10), Skills: map[string]string{"sales": "9"}}, at(10))
	mustOffer(t, acts, "c1", "a1") // a3 is no member; neither the queue's nor the caller's skills are asked
	if o := offers(acts)[0]; o.Timeout != 20*time.Second {
		t.Errorf("offer rings %v, want 20s", o.Timeout)
	}
	mustOffer(t, h.apply(routing.OfferFailed{Call: "c1", Agent: "a1", Why: routing.FailNoAnswer}, at(30)), "c1", "a2")
	if st, _ := h.r.AgentStats("a1", at(31)); st.State != routing.StateUnavailable || st.Reason != "no answer" {
		t.Errorf("a1 after a missed offer: %+v, want unavailable (no answer)", st)
	}
	if acts := h.apply(routing.OfferFailed{Call: "c1", Agent: "a2", Why: routing.FailBusy}, at(31)); len(offers(acts)) != 0 {
		t.Fatalf("offered while both phones are skipped: %+v", offers(acts))
	}
	// a1's 5 seconds are over at 35: the caller is offered again.
	mustOffer(t, h.apply(routing.Tick{}, at(35)), "c1", "a1")
	h.apply(routing.OfferAnswered{Call: "c1", Agent: "a1", Channel: "c1-a3"}, at(36))
	h.apply(routing.CallEnded{Call: "c1", Agent: "a1"}, at(60))
	if st, _ := h.r.AgentStats("a1", at(60)); st.State != routing.StateAvailable {
		t.Errorf("a1 after the call: %+v, want available (no wrap-up)", st)
	}
	// Missed offers never pause an agent.
	h.apply(routing.AgentLogout{Agent: "a2"}, at(99))
	for i := range 5 {
		now := 100 + 30*i
		call := fmt.Sprintf("m%d", i)
		mustOffer(t, h.apply(routing.Enqueue{Call: sb.CallID(call), Queue: "q", EnteredAt: at(now)}, at(now)), call, "a1")
		h.apply(routing.OfferFailed{Call: sb.CallID(call), Agent: "a1", Why: routing.FailNoAnswer}, at(now+1))
		h.apply(routing.Abandon{Call: sb.CallID(call)}, at(now+2))
	}
	h.apply(routing.Tick{}, at(300))
	if st, _ := h.r.AgentStats("a1", at(300)); st.State != routing.StateAvailable {
		t.Errorf("a1 after 5 missed offers: %+v, want available", st)
	}
	// Nobody free: the caller waits (no announcements) until MaxWait.
	h.apply(routing.AgentLogout{Agent: "a1"}, at(300))
	acts = h.apply(routing.Enqueue{Call: "c2", Queue: "q", EnteredAt: at(300)}, at(300))
	acts = append(acts, h.apply(routing.Tick{}, at(330))...)
	if _, ok := find[routing.Announce](acts); ok {
		t.Errorf("announced: %+v", acts)
	}
	x, ok := find[routing.Exit](h.apply(routing.Tick{}, at(390)))
	if !ok || x.Call != "c2" || x.Target != "" {
		t.Errorf("at WaitForAgent: exit %+v (%v), want c2 to the no-agent prompt", x, ok)
	}
}
