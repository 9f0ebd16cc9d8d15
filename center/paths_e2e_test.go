package center_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

// useEngine sets up the options of a center, before it is built, for the
// routing engine named: "basic" is the router as app builds it for
// routing.engine basic over the configuration's agents and queues;
// "router" routes every call through queue sales (longest idle, ringing
// an agent as long as the basic engine does) with the configuration's
// agents. Each call builds a new router, as a restarted process does.
func useEngine(t *testing.T, engine string, o *center.Options) {
	t.Helper()
	switch engine {
	case "basic":
		o.Router = center.BasicRouter(t, o.Config, basicWait, basicRetry)
	case "router":
		q := salesQueue(routing.LongestIdle)
		q.RingTimeout = o.Config.AgentRingTimeout
		var rcfg routing.Config
		for _, a := range o.Config.Agents {
			rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: a.ID, Endpoint: a.Endpoint})
		}
		rcfg.Queues = []sb.Queue{q}
		r, err := routing.New(rcfg)
		if err != nil {
			t.Fatal(err)
		}
		o.Router = r
	default:
		t.Fatalf("unknown routing engine %q", engine)
	}
}

// engineRig is a simulator with the centers started on it, first and
// after restarts, all on one routing engine.
type engineRig struct {
	engine string
	s      *sim.Server
	cfg    center.Config
	setup  func(*center.Options, *ari.Adapter) // may be nil
}

// startOn starts sim (speed 20), the adapter and a center on the engine
// named with the phones as agents; mod changes the configuration and the
// simulator before they start and setup runs on each center before it
// runs (both may be nil).
func startOn(t *testing.T, engine string, phones []acdPhone, mod func(*center.Config, *sim.Server), setup func(*center.Options, *ari.Adapter)) (*engineRig, *e2e) {
	t.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
	cfg := baseConfig()
	for _, p := range phones {
		tech, _, _ := strings.Cut(p.endpoint(), "/")
		s.AddEndpoint(tech, p.res, p.party)
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: p.id(), Endpoint: p.endpoint()})
	}
	if mod != nil {
		mod(&cfg, s)
	}
	serve(t, s)
	r := &engineRig{engine: engine, s: s, cfg: cfg, setup: setup}
	return r, r.attach(t)
}

// attach starts a center on the rig's simulator (after a restart: the
// next process).
func (r *engineRig) attach(t *testing.T) *e2e {
	t.Helper()
	return attachWith(t, r.s, r.cfg, func(o *center.Options, pbx *ari.Adapter) {
		useEngine(t, r.engine, o)
		if r.setup != nil {
			r.setup(o, pbx)
		}
	})
}

// callPath is one way a call goes through the center. run drives it on
// one engine, asserts its own outcome and returns the centers it started
// (the last is the one running at the end) for the common checks.
type callPath struct {
	name string
	run  func(t *testing.T, engine string) []*e2e
}

// TestCallPaths runs every call path on both routing engines and checks,
// after each, that the simulator has no channel and no bridge left, the
// center no live call, and that every call-log row is complete.
func TestCallPaths(t *testing.T) {
	for _, engine := range engines {
		for _, path := range callPaths {
			t.Run(engine.name+"/"+path.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					es := path.run(t, engine.name)
					last := es[len(es)-1]
					last.noChannelsLeft(t)
					agentsFree(t, last)
					for _, e := range es {
						rowsComplete(t, e)
					}
				})
			})
		}
	}
}

// agentsFree waits until the router (if any) has no agent left reserved
// for a call or on one: every call is over.
func agentsFree(t *testing.T, e *e2e) {
	t.Helper()
	busy := func() []string {
		var out []string
		for id, st := range e.c.AgentStates() {
			if st.State == routing.StateReserved || st.State == routing.StateOnCall {
				out = append(out, string(id)+" "+string(st.State))
			}
		}
		return out
	}
	waitUntil(t, "no agent reserved or on a call", func() bool { return len(busy()) == 0 },
		func() string { return strings.Join(busy(), ", ") })
}

// rowsComplete checks every call-log row a center wrote.
func rowsComplete(t *testing.T, e *e2e) {
	t.Helper()
	e.cdr.mu.Lock()
	defer e.cdr.mu.Unlock()
	for id, row := range e.cdr.got {
		if p := rowProblems(&row); len(p) > 0 && row.Outcome != sb.OutcomeEndedWhileDown {
			t.Errorf("call-log row of %s incomplete: %s (%+v)", id, strings.Join(p, ", "), row)
		}
	}
}

// campaignEngine is the startCampaign setup of the campaign paths on the
// engine named: "basic" replaces the campaign router by the basic
// engine's over the same agents and queue outbound.
func campaignEngine(t *testing.T, engine string) func(*center.Options, *storage.DB) {
	return func(o *center.Options, _ *storage.DB) {
		if engine == "basic" {
			o.Config.Queues = append(o.Config.Queues, sb.Queue{Name: "outbound"})
			useEngine(t, engine, o)
		}
	}
}

// agent1001 is the one agent of most paths: answers after one ring.
var agent1001 = []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}}

// wantCompleted checks a row of a call that talked to agent 1001.
func wantCompleted(t *testing.T, row sb.CDR, hangupBy string) {
	t.Helper()
	if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" || row.HangupBy != hangupBy {
		t.Errorf("row outcome %s agent %q hangup_by %q, want completed, 1001, %s", row.Outcome, row.Agent, row.HangupBy, hangupBy)
	}
}

// wantAbandoned checks a row of a caller who hung up before an agent.
func wantAbandoned(t *testing.T, row sb.CDR) {
	t.Helper()
	if row.Outcome != sb.OutcomeAbandoned || row.HangupBy != "caller" || row.Agent != "" || row.Bridged.Valid {
		t.Errorf("row = %+v, want abandoned by the caller, no agent, never bridged", row)
	}
}

var callPaths = []callPath{
	{name: "ivr-to-agent", run: pathIVRToAgent},
	{name: "caller-hangs-up-first", run: func(t *testing.T, engine string) []*e2e {
		_, e := startOn(t, engine, agent1001, nil, nil)
		id := e.call(t, "+15557000001", sim.Party{Talk: 10 * time.Second})
		row := e.cdr.wait(t, id)
		wantCompleted(t, row, "caller")
		if talk := row.Talk(); talk < 8*time.Second || talk > 15*time.Second {
			t.Errorf("talk %v, want about the caller's 10 s", talk)
		}
		return []*e2e{e}
	}},
	{name: "agent-hangs-up-first", run: func(t *testing.T, engine string) []*e2e {
		_, e := startOn(t, engine, []acdPhone{{res: "1001", party: sim.Party{Rings: 1, Talk: 5 * time.Second}}}, nil, nil)
		id := e.call(t, "+15557000002", sim.Party{})
		wantCompleted(t, e.cdr.wait(t, id), "agent")
		return []*e2e{e}
	}},
	{name: "abandon-in-queue", run: func(t *testing.T, engine string) []*e2e {
		// The only agent is talking: the second caller waits and gives up.
		_, e := startOn(t, engine, agent1001, nil, nil)
		busy := e.call(t, "+15557000003", sim.Party{})
		bridgedCall(t, e)
		id := e.call(t, "+15557000004", sim.Party{Patience: 10 * time.Second})
		wantAbandoned(t, e.cdr.wait(t, id))
		if err := e.sim.Hangup(busy, 16); err != nil {
			t.Fatal(err)
		}
		wantCompleted(t, e.cdr.wait(t, busy), "caller")
		return []*e2e{e}
	}},
	{name: "abandon-while-agent-rings", run: func(t *testing.T, engine string) []*e2e {
		_, e := startOn(t, engine, []acdPhone{{res: "1001", party: sim.Party{NoAnswer: true}}}, nil, nil)
		id := e.call(t, "+15557000005", sim.Party{})
		waitUntil(t, "agent ringing", func() bool {
			calls := e.c.LiveCalls()
			return len(calls) == 1 && calls[0].State == sb.CallRinging
		})
		if err := e.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		wantAbandoned(t, e.cdr.wait(t, id))
		return []*e2e{e}
	}},
	{name: "callback", run: pathCallback},
	{name: "preview", run: pathPreview},
	{name: "campaign-human", run: func(t *testing.T, engine string) []*e2e {
		return pathCampaign(t, engine, leadKind{name: "talk", n: 1, party: sim.Party{Rings: 1, Talk: 5 * time.Second},
			want: sb.LeadDone, outcome: sb.DialAnswered}, sim.Party{}, 1, sb.OutcomeCompleted)
	}},
	{name: "campaign-machine", run: func(t *testing.T, engine string) []*e2e {
		return pathCampaign(t, engine, leadKind{name: "machine", n: 1, party: sim.Party{Rings: 1, Machine: true, Talk: time.Minute},
			want: sb.LeadFailed, outcome: sb.DialMachine}, sim.Party{}, 1, "")
	}},
	{name: "campaign-busy", run: func(t *testing.T, engine string) []*e2e {
		return pathCampaign(t, engine, leadKind{name: "busy", n: 1, party: sim.Party{Busy: true},
			want: sb.LeadFailed, outcome: sb.DialBusy}, sim.Party{}, 1, "")
	}},
	{name: "campaign-abandon", run: func(t *testing.T, engine string) []*e2e {
		// The agent does not answer: the person who answered hears the
		// abandon message once the connect window is over, and the lead
		// waits out the abandon quarantine (an attempt is left).
		return pathCampaign(t, engine, leadKind{name: "talk", n: 1, party: sim.Party{Rings: 1, Talk: 30 * time.Second},
			want: sb.LeadRetry, outcome: sb.DialAbandoned}, sim.Party{NoAnswer: true}, 2, sb.OutcomeAbandoned)
	}},
	{name: "supervisor-listen-whisper-barge", run: pathSupervise},
	{name: "recording", run: pathRecording},
	{name: "local-agent-blip-and-restart", run: pathLocalBlipRestart},
}

func pathIVRToAgent(t *testing.T, engine string) []*e2e {
	fl := &staticFlows{}
	set := loadFlows(t, menuFlow, nil)
	set.Version = 1
	fl.cur.Store(set)
	var kp *keypad
	_, e := startOn(t, engine, []acdPhone{{res: "1001", party: sim.Party{Rings: 1, Talk: 5 * time.Second}}},
		func(cfg *center.Config, s *sim.Server) {
			cfg.Queues = []sb.Queue{{Name: "sales"}, {Name: "support"}}
			kp = &keypad{sim: s, groups: map[string][]string{}}
		},
		func(o *center.Options, _ *ari.Adapter) {
			o.IVR = center.IVROptions{Flows: fl, Routes: []center.Route{{DNIS: "*", Flow: "main"}}, Observer: kp.observe}
		})
	const caller = "+15557000010"
	kp.set(caller, "1") // 1 in the menu: sales
	id := e.call(t, caller, sim.Party{})
	row := e.cdr.wait(t, id)
	wantCompleted(t, row, "agent")
	if row.Queue != "sales" {
		t.Errorf("row queue %q, want sales", row.Queue)
	}
	if p := path(t, row); nodes(p) != "welcome,menu,sales" || p.End != "queue:sales" {
		t.Errorf("ivr path %s end %s, want welcome,menu,sales to queue:sales", nodes(p), p.End)
	}
	return []*e2e{e}
}

// pathCallback: B waits behind A's call, presses 1 and hangs up; when the
// agent is free the callback is placed agent first, then B's number.
func pathCallback(t *testing.T, engine string) []*e2e {
	const numberB = "+15557000021"
	_, e := startOn(t, engine, agent1001, func(cfg *center.Config, s *sim.Server) {
		callbackConfig(cfg)
		s.AddEndpoint("PJSIP", numberB+"@trunk", sim.Party{Rings: 1, Talk: 5 * time.Second})
	}, nil)
	idA := e.call(t, "+15557000020", sim.Party{Talk: 20 * time.Second})
	bridgedCall(t, e)
	idB := e.call(t, numberB, sim.Party{Digits: "1", DigitsDelay: 5 * time.Second})
	if row := e.cdr.wait(t, idB); row.Outcome != sb.OutcomeCallback || row.HangupBy != "system" || row.Agent != "" {
		t.Errorf("B's row = %+v, want outcome callback, hung up by the system", row)
	}
	wantCompleted(t, e.cdr.wait(t, idA), "caller")
	cb := e.cdr.wait(t, idB+"-cb1")
	wantCompleted(t, cb, "caller") // B, called back, ends the call
	if cb.Caller != numberB || cb.Called != "callback:"+idB {
		t.Errorf("callback row caller %q called %q, want %s and callback:%s", cb.Caller, cb.Called, numberB, idB)
	}
	return []*e2e{e}
}

// pathCampaign runs a progressive campaign (attempts per lead) of one
// lead of kind k with one agent (2000, party agent) and checks the lead's state, its one attempt
// and the call's row (rowOutcome; "" when no person was reached, so no
// call was logged).
func pathCampaign(t *testing.T, engine string, k leadKind, agent sim.Party, attempts int, rowOutcome sb.Outcome) []*e2e {
	a, db, _, leads := startCampaign(t, []leadKind{k}, 1, agent, func(c *sb.Campaign) {
		c.MaxAttempts = attempts
		c.MachineMessage = "sound:vm-goodbye"
	}, campaignEngine(t, engine))
	ctx := context.Background()
	var atts []storage.Attempt
	waitUntil(t, "attempt closed", func() bool {
		got, err := db.Lead(ctx, "e2e", leads[0].number)
		if err != nil {
			t.Fatal(err)
		}
		atts, err = db.Attempts(ctx, got.ID)
		return err == nil && len(atts) == 1 && atts[0].State == storage.AttemptDone && got.State != sb.LeadDialing
	})
	got, _ := db.Lead(ctx, "e2e", leads[0].number)
	if got.State != k.want || got.LastOutcome != k.outcome || atts[0].Outcome != k.outcome {
		t.Errorf("lead %s outcome %s, attempt %s; want %s %s", got.State, got.LastOutcome, atts[0].Outcome, k.want, k.outcome)
	}
	if rowOutcome == "" {
		a.noChannelsLeft(t)
		if n := a.cdr.count(); n != 0 {
			t.Errorf("%d call-log rows for a call no person answered, want none", n)
		}
		return []*e2e{a.e2e}
	}
	row := a.cdr.wait(t, atts[0].ChannelID)
	if row.Outcome != rowOutcome || row.Caller != leads[0].number || row.Called != "campaign:e2e" {
		t.Errorf("row = %+v, want %s from the lead to campaign:e2e", row, rowOutcome)
	}
	switch rowOutcome {
	case sb.OutcomeCompleted:
		if row.Agent != "2000" || atts[0].Agent != "2000" {
			t.Errorf("agent in row %q, in attempt %q; want 2000", row.Agent, atts[0].Agent)
		}
	case sb.OutcomeAbandoned:
		if row.Agent != "" || row.HangupBy != "system" {
			t.Errorf("abandoned row agent %q hangup_by %q, want none and system", row.Agent, row.HangupBy)
		}
		if held := row.Ended.Sub(row.Answered.Time); held < center.ConnectWindow {
			t.Errorf("hung up %v after the answer, before the connect window", held)
		}
		if got.NextAt.Sub(got.AbandonedAt) < campaign.AbandonQuarantine {
			t.Errorf("abandoned lead next dialed %v after the abandon, want the 72 h quarantine", got.NextAt.Sub(got.AbandonedAt))
		}
	}
	return []*e2e{a.e2e}
}

// pathPreview: nothing is dialed until the agent takes the lead; the
// agent's phone rings first, then the customer's.
func pathPreview(t *testing.T, engine string) []*e2e {
	kinds := []leadKind{{name: "talk", n: 1, party: sim.Party{Rings: 1, Talk: 5 * time.Second}}}
	a, db, runner, _ := startCampaign(t, kinds, 1, sim.Party{Rings: 1}, func(c *sb.Campaign) { c.Mode = sb.PreviewDialing },
		campaignEngine(t, engine))
	ctx := context.Background()
	var lead outbound.PreviewLead
	waitUntil(t, "a lead to preview", func() bool {
		var err error
		lead, err = runner.Preview(ctx, "e2e", "2000")
		return err == nil
	})
	if err := runner.PreviewDial(ctx, "e2e", lead.Attempt, "2000"); err != nil {
		t.Fatal(err)
	}
	row := a.cdr.wait(t, string(outbound.ChannelFor(lead.Attempt)))
	if row.Outcome != sb.OutcomeCompleted || row.Agent != "2000" || row.Caller != lead.Number || row.HangupBy != "caller" {
		t.Errorf("preview row = %+v, want completed with 2000, hung up by the customer", row)
	}
	waitUntil(t, "lead done", func() bool {
		got, _ := db.Lead(ctx, "e2e", lead.Number)
		return got.State == sb.LeadDone
	})
	return []*e2e{a.e2e}
}

func pathSupervise(t *testing.T, engine string) []*e2e {
	e := startSupervised(t, engine, sim.Party{Rings: 1}, nil)
	id := e.call(t, "+15557000030", sim.Party{})
	call := bridgedCall(t, e)
	ctx := context.Background()
	want := func(mode, whisper string) {
		t.Helper()
		waitUntil(t, mode, func() bool {
			sn := snoops(e.sim, call.AgentChannel)
			return len(sn) == 1 && sn[0].Spy == "both" && sn[0].Whisper == whisper
		})
	}
	if err := e.c.Monitor(ctx, call.ID, "PJSIP/1099", center.Listen); err != nil {
		t.Fatal(err)
	}
	want("listen", "none")
	if err := e.c.SetMonitorMode(ctx, call.ID, center.Whisper); err != nil {
		t.Fatal(err)
	}
	want("whisper", "out")
	if err := e.c.SetMonitorMode(ctx, call.ID, center.Barge); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "barge: three in the call's bridge, no snoop", func() bool {
		in := 0
		for _, c := range e.sim.Channels() {
			if c.Bridge == string(call.Bridge) {
				in++
			}
		}
		return in == 3 && len(snoops(e.sim, call.AgentChannel)) == 0
	})
	if err := e.sim.Hangup(id, 16); err != nil {
		t.Fatal(err)
	}
	wantCompleted(t, e.cdr.wait(t, id), "caller")
	return []*e2e{e}
}

func pathRecording(t *testing.T, engine string) []*e2e {
	r := startRecordingOn(t, engine, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}},
		map[string]sim.Party{"1001": {Rings: 1}}, nil)
	id := r.call(t, "+15557000040", sim.Party{Talk: 10 * time.Second})
	wantCompleted(t, r.cdr.wait(t, id), "caller")
	recs := r.settled(t, id, 1)
	if rec := recs[0]; rec.State != recording.StateStored || rec.Agent != "1001" || rec.Caller != "+15557000040" {
		t.Errorf("recording = %+v, want stored with agent 1001 and the caller", rec)
	} else if err := r.store.Verify(rec); err != nil {
		t.Errorf("%s does not verify: %v", rec.Name, err)
	}
	return []*e2e{r.e2e}
}

// pathLocalBlipRestart: an agent on a Local channel talks to a caller; the
// ARI link blips, then Switchboard restarts. Asterisk lists both halves of
// the agent leg (the ;2 half is not in Stasis): neither is taken for an
// orphan agent leg or a new caller, the call keeps talking and ends as the
// caller hangs up.
func pathLocalBlipRestart(t *testing.T, engine string) []*e2e {
	rig, e := startOn(t, engine, []acdPhone{{res: "1001@agents", tech: "Local"}}, nil, nil)
	s := rig.s
	id := e.call(t, "+15557000050", sim.Party{})
	bridgedCall(t, e)
	check := func(e *e2e, what string) {
		t.Helper()
		calls := e.c.LiveCalls()
		if len(calls) != 1 || calls[0].ID != sb.CallID(id) || calls[0].State != sb.CallBridged || calls[0].Agent != "1001" {
			t.Fatalf("%s: live calls %+v", what, calls)
		}
		if n := len(s.Channels()); n != 3 {
			t.Fatalf("%s: %d channels, want the caller and both halves of the agent leg", what, n)
		}
	}
	check(e, "talking")

	// A blip of the link: the reconcile leaves the call alone.
	done := make(chan struct{}, 2)
	e.c.OnReconciled(func() { done <- struct{}{} })
	before := e.pbx.Stats().Reconnects
	s.DropWebSockets()
	waitUntil(t, "reconnected", func() bool { return e.pbx.Stats().Reconnects > before })
	<-done
	check(e, "after the blip")

	// A restart: the next controller adopts the call as it is.
	e.stop()
	e2 := rig.attach(t)
	bridgedCall(t, e2)
	check(e2, "after the restart")
	if err := s.Hangup(id, 16); err != nil {
		t.Fatal(err)
	}
	row := e2.cdr.wait(t, id)
	wantCompleted(t, row, "caller")
	if row.HangupCause != 16 {
		t.Errorf("hangup cause %d, want 16", row.HangupCause)
	}
	if n := e.cdr.count() + e2.cdr.count(); n != 1 {
		t.Errorf("%d call-log rows, want 1 (a ;2 half adopted as a caller?)", n)
	}
	return []*e2e{e, e2}
}
