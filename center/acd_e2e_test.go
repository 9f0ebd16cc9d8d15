package center_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

type acdPhone struct {
	res   string
	party sim.Party
	pin   string // keypad login PIN (none: no keypad login)
	tech  string // PJSIP unless set (e.g. Local, with res EXTEN@CONTEXT)
}

func (p acdPhone) endpoint() string {
	if p.tech == "" {
		return "PJSIP/" + p.res
	}
	return p.tech + "/" + p.res
}

func (p acdPhone) id() sb.AgentID {
	id, _, _ := strings.Cut(p.res, "@")
	return sb.AgentID(id)
}

// acdE2E is an e2e run with the router as the agent-selection engine and
// a queue_log file.
type acdE2E struct {
	*e2e
	qlog *queuelog.Writer
	path string
}

// startACD starts sim, the ARI adapter and a center routing through one
// queue q; agents are the phones, in order (configuration order breaks
// longest-idle ties).
func startACD(t *testing.T, speed float64, q sb.Queue, phones []acdPhone) *acdE2E {
	t.Helper()
	return startACDWith(t, speed, q, phones, nil, nil)
}

// startACDWith is startACD with the center's configuration changed by
// mod and setup run on the center before it starts (both may be nil).
func startACDWith(t *testing.T, speed float64, q sb.Queue, phones []acdPhone,
	mod func(*center.Config, *sim.Server), setup func(*center.Options)) *acdE2E {
	t.Helper()
	return startACDRouting(t, speed, q, phones, nil, mod, setup)
}

// startACDRouting is startACDWith with the router's configuration changed
// by rmod (may be nil).
func startACDRouting(t *testing.T, speed float64, q sb.Queue, phones []acdPhone,
	rmod func(*routing.Config), mod func(*center.Config, *sim.Server), setup func(*center.Options)) *acdE2E {
	t.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: speed, Seed: 1})
	cfg := baseConfig()
	if mod != nil {
		mod(&cfg, s)
	}
	var rcfg routing.Config
	for _, p := range phones {
		tech, _, _ := strings.Cut(p.endpoint(), "/")
		s.AddEndpoint(tech, p.res, p.party)
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: p.id(), Endpoint: p.endpoint()})
		ac := routing.AgentConfig{ID: p.id(), Endpoint: p.endpoint()}
		if p.pin != "" {
			ac.PINHash = routing.HashPIN(p.pin, []byte("0123456789abcdef"))
		}
		rcfg.Agents = append(rcfg.Agents, ac)
	}
	rcfg.Queues = []sb.Queue{q}
	if rmod != nil {
		rmod(&rcfg)
	}
	r, err := routing.New(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	path := filepath.Join(t.TempDir(), "queue_log")
	w, err := queuelog.Open(path, queuelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	e := attachWith(t, s, cfg, func(o *center.Options, _ *ari.Adapter) {
		o.Router, o.QueueLog = r, w
		if setup != nil {
			setup(o)
		}
	})
	return &acdE2E{e2e: e, qlog: w, path: path}
}

// events returns the queue_log events written so far.
func (a *acdE2E) events(t *testing.T) []queuelog.Event {
	t.Helper()
	if err := a.qlog.Flush(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(a.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []queuelog.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev, err := queuelog.Parse(sc.Text())
		if err != nil {
			t.Fatalf("queue_log line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// waitLog waits for a queue_log event of a call (any call when call is "").
func (a *acdE2E) waitLog(t *testing.T, call, agent, event string) queuelog.Event {
	t.Helper()
	var got queuelog.Event
	waitUntil(t, "queue_log "+event+" "+call+" "+agent, func() bool {
		for _, ev := range a.events(t) {
			if ev.Event == event && (call == "" || ev.CallID == call) && (agent == "" || ev.Agent == agent) {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

func (a *acdE2E) waitState(t *testing.T, agent sb.AgentID, want routing.State) routing.AgentState {
	t.Helper()
	var st routing.AgentState
	waitUntil(t, string(agent)+" "+string(want), func() bool {
		st = a.c.AgentStates()[agent]
		return st.State == want
	})
	return st
}

func salesQueue(strategy string) sb.Queue {
	return sb.Queue{Name: "sales", Strategy: strategy, RingTimeout: 10 * time.Second, MaxNoAnswer: 2}
}

// TestACDLongestIdleWrapUp: the call goes to the longest-idle agent, is
// bridged and logged; the agent wraps up, then is available; the next
// call goes to the other agent, idle longer.
func TestACDLongestIdleWrapUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		q.WrapUp = 30 * time.Second
		a := startACD(t, 20, q, []acdPhone{
			{res: "1001", party: sim.Party{Rings: 1}},
			{res: "1002", party: sim.Party{Rings: 1, Talk: 5 * time.Second}},
		})
		a.waitState(t, "1001", routing.StateAvailable)
		a.waitState(t, "1002", routing.StateAvailable)

		id := a.call(t, "+15551240001", sim.Party{Talk: 10 * time.Second})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" || row.Queue != "sales" || row.HangupBy != "caller" {
			t.Fatalf("cdr = %+v", row)
		}
		if st := a.waitState(t, "1001", routing.StateWrapUp); st.Call != sb.CallID(id) {
			t.Errorf("wrap-up state = %+v, want call %s", st, id)
		}
		a.waitState(t, "1001", routing.StateAvailable)
		a.noChannelsLeft(t)

		id2 := a.call(t, "+15551240002", sim.Party{})
		row2 := a.cdr.wait(t, id2)
		if row2.Outcome != sb.OutcomeCompleted || row2.Agent != "1002" || row2.HangupBy != "agent" {
			t.Fatalf("second call cdr = %+v, want agent 1002 (longest idle)", row2)
		}
		a.noChannelsLeft(t)

		a.waitLog(t, id, "", queuelog.EventEnterQueue)
		if ev := a.waitLog(t, id, "1001", queuelog.EventConnect); ev.Queue != "sales" {
			t.Errorf("CONNECT = %+v", ev)
		}
		a.waitLog(t, id, "1001", queuelog.EventCompleteCaller)
		a.waitLog(t, id2, "1002", queuelog.EventCompleteAgent)
	})
}

// TestACDNoAnswerNextAgentAutoPause: the first agent lets the phone ring
// out: the caller goes to the next agent, and after MaxNoAnswer misses the
// first agent is paused "no answer".
func TestACDNoAnswerNextAgentAutoPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		q.MaxNoAnswer = 1
		a := startACD(t, 50, q, []acdPhone{
			{res: "1001", party: sim.Party{NoAnswer: true}},
			{res: "1002", party: sim.Party{Rings: 1, Talk: 5 * time.Second}},
		})
		a.waitState(t, "1002", routing.StateAvailable)
		id := a.call(t, "+15551240003", sim.Party{})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1002" {
			t.Fatalf("cdr = %+v", row)
		}
		if st := a.waitState(t, "1001", routing.StatePaused); st.Reason != routing.ReasonNoAnswer {
			t.Errorf("1001 = %+v, want paused %q", st, routing.ReasonNoAnswer)
		}
		a.noChannelsLeft(t)
		a.waitLog(t, id, "1001", queuelog.EventRingNoAnswer)
		a.waitLog(t, "", "1001", queuelog.EventPause)
		a.waitLog(t, id, "1002", queuelog.EventConnect)

		// Ready again: the API path answers; a second Ready is refused.
		if err := a.c.AgentReady(t.Context(), "1001"); err != nil {
			t.Fatal(err)
		}
		a.waitState(t, "1001", routing.StateAvailable)
		if err := a.c.AgentLogin(t.Context(), "1001"); err == nil {
			t.Error("second login of 1001 accepted, want the router's refusal")
		}
		if err := a.c.AgentPause(t.Context(), "1001", "lunch"); err != nil {
			t.Fatal(err)
		}
		if st := a.waitState(t, "1001", routing.StatePaused); st.Reason != "lunch" {
			t.Errorf("1001 = %+v", st)
		}
		if err := a.c.AgentLogout(t.Context(), "1001"); err != nil {
			t.Fatal(err)
		}
		a.waitState(t, "1001", routing.StateLoggedOut)
	})
}

// TestACDCallerAbandonsWhileAgentRings: the caller hangs up while the
// agent's phone rings: the leg is hung up, the router hears Abandon.
func TestACDCallerAbandonsWhileAgentRings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		q.RingTimeout = 60 * time.Second
		a := startACD(t, 20, q, []acdPhone{{res: "1001", party: sim.Party{NoAnswer: true}}})
		a.waitState(t, "1001", routing.StateAvailable)
		id := a.call(t, "+15551240004", sim.Party{})
		a.waitState(t, "1001", routing.StateReserved)
		if err := a.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeAbandoned || row.HangupBy != "caller" || row.Bridged.Valid {
			t.Fatalf("cdr = %+v", row)
		}
		a.noChannelsLeft(t)
		a.waitLog(t, id, "", queuelog.EventAbandon)
		a.waitState(t, "1001", routing.StateAvailable)
	})
}

// TestACDRingAll rings both phones; the first to answer takes the call and
// the other leg is hung up.
func TestACDRingAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := startACD(t, 20, salesQueue(routing.RingAll), []acdPhone{
			{res: "1001", party: sim.Party{Rings: 4}},
			{res: "1002", party: sim.Party{Rings: 1}},
		})
		a.waitState(t, "1001", routing.StateAvailable)
		a.waitState(t, "1002", routing.StateAvailable)
		id := a.call(t, "+15551240005", sim.Party{Talk: 5 * time.Second})
		waitUntil(t, "both phones ringing", func() bool {
			st := a.c.AgentStates()
			return st["1001"].State == routing.StateReserved && st["1002"].State == routing.StateReserved
		})
		var legs []string
		waitUntil(t, "two agent legs", func() bool {
			for _, ch := range a.sim.Channels() {
				if ch.ID != id && !slices.Contains(legs, ch.ID) {
					legs = append(legs, ch.ID)
				}
			}
			return len(legs) >= 2
		})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1002" {
			t.Fatalf("cdr = %+v", row)
		}
		a.noChannelsLeft(t)
		a.waitLog(t, id, "1002", queuelog.EventConnect)
		a.waitLog(t, id, "1001", queuelog.EventRingCanceled)
	})
}

// TestACDBusyAgentThenNext: a busy phone fails the offer (cause 17) and
// the caller goes to the next agent; the busy agent backs off.
func TestACDBusyAgentThenNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := startACD(t, 50, salesQueue(routing.Linear), []acdPhone{
			{res: "1001", party: sim.Party{Busy: true}},
			{res: "1002", party: sim.Party{Rings: 1, Talk: 5 * time.Second}},
		})
		a.waitState(t, "1002", routing.StateAvailable)
		id := a.call(t, "+15551240006", sim.Party{})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1002" {
			t.Fatalf("cdr = %+v", row)
		}
		a.noChannelsLeft(t)
		a.waitLog(t, id, "1001", queuelog.EventRingNoAnswer)
	})
}

// TestACDBusyLocalAgentBacksOff: a Local agent leg signals busy only by
// Dial BUSY (the channel is then destroyed with cause 0, as on Asterisk
// 22): the offer fails as busy, so the agent backs off instead of counting
// a no-answer, and the caller goes to the next agent.
func TestACDBusyLocalAgentBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := startACDRouting(t, 50, salesQueue(routing.Linear), []acdPhone{
			{res: "1001@agents", tech: "Local", party: sim.Party{Busy: true}},
			{res: "1002", party: sim.Party{Rings: 1, Talk: 5 * time.Second}},
		}, func(rc *routing.Config) { rc.BusyBackoff = time.Hour }, nil, nil)
		a.waitState(t, "1002", routing.StateAvailable)
		id := a.call(t, "+15551240016", sim.Party{})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1002" {
			t.Fatalf("cdr = %+v", row)
		}
		st := a.waitState(t, "1001", routing.StateUnavailable)
		if st.Reason != "busy" {
			t.Errorf("1001 unavailable for %q, want busy", st.Reason)
		}
		a.noChannelsLeft(t)
	})
}

// TestACDMaxWaitExit: no agent in time: the router's Exit plays the
// no-agent prompt and hangs up.
func TestACDMaxWaitExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		q.WaitForAgent = 10 * time.Second
		a := startACD(t, 50, q, nil)
		id := a.call(t, "+15551240007", sim.Party{})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeNoAgent || row.HangupBy != "system" || row.Queue != "sales" {
			t.Fatalf("cdr = %+v", row)
		}
		if w := row.Wait(); w < 10*time.Second {
			t.Errorf("caller waited %v, want at least the 10s max wait", w)
		}
		a.noChannelsLeft(t)
		a.waitLog(t, id, "", queuelog.EventExitWithTimeout)
	})
}

// TestACDEndpointState: an unregistered phone makes its agent
// unavailable until it registers again.
func TestACDEndpointState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := startACD(t, 50, salesQueue(""), []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}})
		a.waitState(t, "1001", routing.StateAvailable)
		a.endpoint(t, "1001", "offline", routing.StateUnavailable)
		a.endpoint(t, "1001", "online", routing.StateAvailable)
	})
}

// endpoint sets a phone's state until the agent's state follows. The
// center subscribes to the phones and applies a listing of their states
// after LinkUp; that listing may be older than an event of the same
// moment, so the change is made again if it was overridden.
func (a *acdE2E) endpoint(t *testing.T, res, state string, want routing.State) {
	t.Helper()
	for range 20 {
		if err := a.sim.SetEndpointState("PJSIP", res, "unknown"); err != nil {
			t.Fatal(err)
		}
		if err := a.sim.SetEndpointState("PJSIP", res, state); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(500 * time.Millisecond)
		for time.Now().Before(deadline) {
			if a.c.AgentStates()[sb.AgentID(res)].State == want {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	t.Fatalf("agent %s: endpoint %s: state %v, want %v", res, state, a.c.AgentStates()[sb.AgentID(res)], want)
}

// TestACDAnnouncementsWhileWaiting: a caller waiting for the only agent
// hears periodic announcements between stretches of music and is still
// served when the agent frees up.
func TestACDAnnouncementsWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue("longest-idle")
		q.AnnounceEvery, q.AnnouncePosition, q.AnnounceWait = 10*time.Second, true, true
		a := startACD(t, 20, q, []acdPhone{{res: "1001", party: sim.Party{Rings: 1, Talk: 40 * time.Second}}})
		first := a.call(t, "+15558880001", sim.Party{})
		bridgedCall(t, a.e2e)
		second := a.call(t, "+15558880002", sim.Party{})
		for _, id := range []string{first, second} {
			if row := a.cdr.wait(t, id); row.Outcome != sb.OutcomeCompleted {
				t.Fatalf("cdr = %+v", row)
			}
		}
		a.noChannelsLeft(t)
	})
}

// TestACDRestartKeepsAdoptedAgentBusy: after a restart the router has not
// seen the call an agent is on: that agent gets no second call until the
// adopted call ends.
func TestACDRestartKeepsAdoptedAgentBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		phones := []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}, {res: "1002", party: sim.Party{Rings: 1}}}
		a := startACD(t, 20, salesQueue("linear"), phones) // linear: 1001 first whenever free
		first := a.call(t, "+15559990001", sim.Party{})
		if call := bridgedCall(t, a.e2e); call.Agent != "1001" {
			t.Fatalf("first call went to %s", call.Agent)
		}
		a.waitCard(t, first)
		a.stop() // Switchboard restarts; the call stays up in the PBX
		adoptedAt := a.sim.Clock().Now()

		var rcfg routing.Config
		cfg := baseConfig()
		for _, p := range phones {
			cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(p.res), Endpoint: "PJSIP/" + p.res})
			rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: sb.AgentID(p.res), Endpoint: "PJSIP/" + p.res})
		}
		rcfg.Queues = []sb.Queue{salesQueue("linear")}
		r, err := routing.New(rcfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "queue_log")
		w, err := queuelog.Open(path, queuelog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		be := attachWith(t, a.sim, cfg, func(o *center.Options, _ *ari.Adapter) { o.Router, o.QueueLog = r, w })
		b := &acdE2E{e2e: be, qlog: w, path: path}
		waitUntil(t, "adopted", func() bool { return len(b.c.LiveCalls()) == 1 })
		// The call's card tells the router which queue it was in: the agent
		// is on that call, not offered others.
		waitUntil(t, "1001 on the adopted call", func() bool { return b.c.AgentStates()["1001"].State == routing.StateOnCall })
		if k := b.c.LiveCalls()[0]; k.Queue != "sales" || k.Called != "8000" || !k.Bridged.Before(k.Entered.Add(time.Hour)) {
			t.Fatalf("adopted call = %+v", k)
		}
		second := b.call(t, "+15559990002", sim.Party{})
		waitUntil(t, "second call bridged", func() bool {
			for _, k := range b.c.LiveCalls() {
				if k.ID == sb.CallID(second) && k.State == sb.CallBridged {
					if k.Agent != "1002" {
						t.Fatalf("the second call went to %s, busy with the adopted call", k.Agent)
					}
					return true
				}
			}
			return false
		})
		if err := a.sim.Hangup(first, 16); err != nil {
			t.Fatal(err)
		}
		row := b.cdr.wait(t, first)
		if row.Queue != "sales" || row.Called != "8000" || row.Agent != "1001" || row.Outcome != sb.OutcomeCompleted || row.HangupBy != "caller" {
			t.Fatalf("call log of the adopted call = %+v", row)
		}
		if !row.Bridged.Valid || row.Bridged.Time.After(adoptedAt) {
			t.Errorf("bridged %v, want the time before the restart (%v)", row.Bridged, adoptedAt)
		}
		b.waitLog(t, first, "1001", queuelog.EventCompleteCaller)
		waitUntil(t, "1001 back", func() bool { return b.c.AgentStates()["1001"].State == routing.StateAvailable })
	})
}

// TestACDPreferredAgentFromFlow: a flow that names the caller's account
// owner (preferred_agent) has the call offered to that agent first.
func TestACDPreferredAgentFromFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const flows = `
flows:
  main:
    start: who
    nodes:
      who:
        branch:
          - when: 'caller == "+15550000999"'
            next: owner
          - else: q
      owner: {set: {preferred_agent: '"1002"'}, next: q}
      q: {queue: sales}
`
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		cfg := baseConfig()
		var rcfg routing.Config
		for _, res := range []string{"1001", "1002"} {
			s.AddEndpoint("PJSIP", res, sim.Party{Rings: 1, Talk: 3 * time.Second})
			cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
			rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
		}
		q := salesQueue("linear") // 1001 first whenever free
		q.PreferredWait = 30 * time.Second
		rcfg.Queues = []sb.Queue{q}
		r, err := routing.New(rcfg)
		if err != nil {
			t.Fatal(err)
		}
		serve(t, s)
		set, err := ivr.LoadBytes("flows.yaml", []byte(flows), ivr.LoadOptions{Queues: []string{"sales"}, Passed: []string{"preferred_agent"}})
		if err != nil {
			t.Fatal(err)
		}
		fl := &staticFlows{}
		fl.cur.Store(set)
		e := attachWith(t, s, cfg, func(o *center.Options, _ *ari.Adapter) {
			o.Router = r
			o.IVR = center.IVROptions{Flows: fl, Routes: []center.Route{{DNIS: "*", Flow: "main"}}}
		})
		owned := e.call(t, "+15550000999", sim.Party{})
		if row := e.cdr.wait(t, owned); row.Agent != "1002" {
			t.Fatalf("the owner's customer went to %s, want 1002", row.Agent)
		}
		other := e.call(t, "+15550000111", sim.Party{})
		if row := e.cdr.wait(t, other); row.Agent != "1001" {
			t.Fatalf("another caller went to %s, want 1001 (linear)", row.Agent)
		}
		e.noChannelsLeft(t)
	})
}
