package center_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

// leadKind is what the person at a lead's number does.
type leadKind struct {
	name  string
	n     int
	party sim.Party
	dnc   bool
	// want is the lead's final state, and its last outcome.
	want    sb.LeadState
	outcome sb.DialOutcome
}

// TestCampaign200Leads: a progressive campaign of 200 leads with every
// outcome (people who talk to an agent, busy lines, no answer, answering
// machines, unreachable numbers, people who hang up before an agent comes,
// numbers on the do-not-call list) runs through the simulated PBX to the
// end: every lead ends in the state its outcome gives, no lead is dialed
// more than its attempts allow, every conversation is in the call log.
func TestCampaign200Leads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{
			{name: "talk", n: 80, party: sim.Party{Rings: 1, Talk: 20 * time.Second}, want: sb.LeadDone, outcome: sb.DialAnswered},
			{name: "busy", n: 30, party: sim.Party{Busy: true}, want: sb.LeadFailed, outcome: sb.DialBusy},
			{name: "noanswer", n: 25, party: sim.Party{NoAnswer: true}, want: sb.LeadFailed, outcome: sb.DialNoAnswer},
			{name: "machine", n: 25, party: sim.Party{Rings: 1, Machine: true, Talk: time.Minute}, want: sb.LeadFailed, outcome: sb.DialMachine},
			{name: "unreachable", n: 15, party: sim.Party{Unreachable: true}, want: sb.LeadFailed, outcome: sb.DialFailed},
			// Hangs up while AMD listens: no one was reached (no answer).
			{name: "hangs-up", n: 15, party: sim.Party{Rings: 1, Patience: time.Second}, want: sb.LeadFailed, outcome: sb.DialNoAnswer},
			// On the do-not-call list: held back, never dialed (still new,
			// dialed only if the number leaves the list).
			{name: "dnc", n: 10, party: sim.Party{Rings: 1, Talk: 20 * time.Second}, dnc: true, want: sb.LeadNew},
		}
		// The connect window is the real 2 seconds: in virtual time an
		// offer's round trips take no time however loaded the machine, and a
		// progressive campaign dials only for a free agent, so no call may be
		// abandoned.
		a, db, runner, leads, _ := startCampaignCfg(t, kinds, 5, sim.Party{}, func(camp *sb.Campaign) {
			camp.MaxAttempts = 2
			// Machines hear a message after their greeting, then are hung up.
			camp.MachineMessage = "sound:vm-goodbye"
			for _, o := range []sb.DialOutcome{sb.DialBusy, sb.DialNoAnswer, sb.DialMachine, sb.DialFailed} {
				camp.RetryDelays[o] = 30 * time.Second
			}
		}, nil)
		camp, _ := db.Campaign(context.Background(), "e2e")
		ctx := context.Background()

		// Done: no lead is new or being dialed, and every retry left is an
		// abandoned call's 72-hour wait.
		waitUntilFor(t, "campaign worked through", 3*time.Minute, func() bool {
			counts, err := db.LeadCounts(ctx, "e2e")
			if err != nil {
				t.Fatal(err)
			}
			return counts[sb.LeadNew] == kinds[6].n && counts[sb.LeadDialing] == 0 &&
				counts[sb.LeadDone]+counts[sb.LeadFailed] == 200-kinds[6].n
		})
		for _, l := range leads {
			got, err := db.Lead(ctx, "e2e", l.number)
			if err != nil {
				t.Fatal(err)
			}
			k := l.kind
			if got.State != k.want || (k.outcome != "" && got.LastOutcome != k.outcome) {
				t.Errorf("%s lead %s: state %s outcome %s, want %s %s", k.name, l.number, got.State, got.LastOutcome, k.want, k.outcome)
			}
			atts, err := db.Attempts(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantAttempts := map[string]int{"talk": 1, "dnc": 0}[k.name]
			if _, fixed := map[string]bool{"talk": true, "dnc": true}[k.name]; !fixed {
				wantAttempts = camp.MaxAttempts
			}
			if len(atts) != wantAttempts {
				t.Errorf("%s lead %s: %d attempts, want %d", k.name, l.number, len(atts), wantAttempts)
			}
			for _, at := range atts {
				if at.State != storage.AttemptDone {
					t.Errorf("%s lead %s: attempt %d left %s", k.name, l.number, at.ID, at.State)
				}
			}
		}
		// Every conversation is in the call log with its agent.
		for _, l := range leads[:kinds[0].n] {
			got, _ := db.Lead(ctx, "e2e", l.number)
			atts, _ := db.Attempts(ctx, got.ID)
			row := a.cdr.wait(t, atts[0].ChannelID)
			if row.Outcome != sb.OutcomeCompleted || row.Agent == "" || row.Caller != l.number || row.Called != "campaign:e2e" {
				t.Fatalf("call log of %s: %+v", l.number, row)
			}
		}
		st, err := runner.Stats(ctx, "e2e")
		if err != nil {
			t.Fatal(err)
		}
		if st.Answered != kinds[0].n || st.Abandoned != 0 || st.Machines != 2*kinds[3].n || st.LinesInFlight != 0 {
			t.Errorf("stats = %+v, want answered %d, abandoned 0, machines %d, nothing in flight", st, kinds[0].n, 2*kinds[3].n)
		}
		a.noChannelsLeft(t)
	})
}

// restartCampaign starts a new center and campaign runner (agent 2000 in
// queue outbound) on a's simulator and database, as after a restart.
func restartCampaign(t *testing.T, a *acdE2E, db *storage.DB) *e2e {
	t.Helper()
	rcfg := routing.Config{Agents: []routing.AgentConfig{{ID: "2000", Endpoint: "PJSIP/2000"}},
		Queues: []sb.Queue{{Name: "outbound", RingTimeout: 10 * time.Second}}}
	r, err := routing.New(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	cfg.Agents = []sb.Agent{{ID: "2000", Endpoint: "PJSIP/2000"}}
	var runner *outbound.Runner
	late := &lateCenter{}
	b := attachWith(t, a.sim, cfg, func(o *center.Options, pbx *ari.Adapter) {
		o.Router = r
		runner = outbound.New(outbound.Options{Store: db, Placer: late, Agents: late.CampaignAgents,
			Globals: pbx, Node: pbx.Node(),
			LiveChannels: func(context.Context) ([]string, error) {
				var ids []string
				for _, ch := range a.sim.Channels() {
					ids = append(ids, ch.ID)
				}
				return ids, nil
			},
			Now: a.sim.Clock().Now, Tick: 20 * time.Millisecond})
		o.Campaigns = center.Campaigns{Report: runner.Report, Adopt: runner.AdoptedDial, Connect: runner.Connect}
	})
	late.c = b.c
	runRunner(t, runner)
	return b
}

// lateCenter is the center a campaign runner places its calls through,
// given once the center is built: the runner is built first, for the
// center's options to name its hooks. The runner must not run before.
type lateCenter struct{ c *center.Center }

var _ outbound.Placer = (*lateCenter)(nil)

func (l *lateCenter) Dial(ctx context.Context, d outbound.Dial) error { return l.c.Dial(ctx, d) }

// CampaignAgents is the center's CampaignAgents (an outbound.AgentSource).
func (l *lateCenter) CampaignAgents(ctx context.Context, queue string) ([]dialer.Agent, error) {
	return l.c.CampaignAgents(ctx, queue)
}

// TestCampaignCallRingingAcrossRestart: Switchboard restarts while a
// campaign call rings and nobody answers it. The runner adopts its open
// attempt and waits for its end; the new center, which did not place it,
// reports that end from the call's own events: the attempt closes as no
// answer and the lead is not left dialing.
func TestCampaignCallRingingAcrossRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "ring", n: 1, party: sim.Party{NoAnswer: true}}}
		a, db, _, leads, stopRunner := startCampaignCfg(t, kinds, 1, sim.Party{}, nil, nil)
		a.campaignCall(t, "ringing", func(ch sim.ChannelInfo) bool { return ch.State == "Ringing" })
		stopRunner()
		a.stop()
		b := restartCampaign(t, a, db)
		ctx := context.Background()
		waitUntil(t, "attempt closed", func() bool {
			got, _ := db.Lead(ctx, "e2e", leads[0].number)
			atts, _ := db.Attempts(ctx, got.ID)
			return len(atts) == 1 && atts[0].State == storage.AttemptDone
		})
		got, _ := db.Lead(ctx, "e2e", leads[0].number)
		atts, _ := db.Attempts(ctx, got.ID)
		if atts[0].Outcome != sb.DialNoAnswer || got.State == sb.LeadDialing {
			t.Errorf("lead %s attempt %+v, want closed no answer", got.State, atts[0])
		}
		b.noChannelsLeft(t)
	})
}

// TestCampaignCallInAMDAcrossRestart: Switchboard restarts while a
// campaign call is in AMD in the dialplan. The next start neither adopts
// it as a caller nor forgets it: when AMD sends it back, the new center
// (which did not place it) gets its Dial from the runner, which adopted
// the open attempt, and puts the person through to an agent as the first
// run would have: one attempt, answered, one call-log row with the lead.
func TestCampaignCallInAMDAcrossRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "talk", n: 1, party: sim.Party{Rings: 1, Talk: 30 * time.Second}}}
		// AMD listens until the test ends it, after the restart.
		a, db, _, leads, stopRunner := startCampaignCfg(t, kinds, 1, sim.Party{}, nil,
			func(_ *center.Config, s *sim.Server) { s.SetAMDTime(time.Hour) })
		inAMD := a.campaignCall(t, "in AMD", func(ch sim.ChannelInfo) bool { return !ch.InApp && ch.State == "Up" })
		stopRunner()
		a.stop()
		b := restartCampaign(t, a, db)
		if n := len(b.c.LiveCalls()); n != 0 {
			t.Fatalf("%d live calls: the call in AMD was adopted as a caller", n)
		}
		if err := a.sim.CompleteAMD(inAMD); err != nil {
			t.Fatal(err)
		}
		row := b.cdr.wait(t, inAMD)
		if row.Outcome != sb.OutcomeCompleted || row.Caller != leads[0].number || row.Called != "campaign:e2e" || row.Agent != "2000" {
			t.Fatalf("call log = %+v, want completed with the lead's number and agent 2000", row)
		}
		ctx := context.Background()
		waitUntil(t, "attempt closed", func() bool {
			got, _ := db.Lead(ctx, "e2e", leads[0].number)
			atts, _ := db.Attempts(ctx, got.ID)
			return len(atts) == 1 && atts[0].State == storage.AttemptDone
		})
		got, _ := db.Lead(ctx, "e2e", leads[0].number)
		atts, _ := db.Attempts(ctx, got.ID)
		if len(atts) != 1 || atts[0].Outcome != sb.DialAnswered || got.State != sb.LeadDone {
			t.Errorf("lead %s attempts %+v, want one attempt, answered, lead done", got.State, atts)
		}
		b.noChannelsLeft(t)
	})
}

// checkUnattended checks the end of a campaign call answered while no
// Switchboard was connected: its attempt abandoned, its lead out for 72
// hours, its call-log row (abandoned, the lead calling the campaign) and
// the dialplan's record cleared.
func checkUnattended(t *testing.T, b *e2e, db *storage.DB, lead, channel string) {
	t.Helper()
	checkAbandonedWithRow(t, db, lead, channel)
	attempt, _ := outbound.AttemptOf(sb.ChannelID(channel))
	waitUntil(t, "the dialplan's record cleared", func() bool { return b.sim.Global(outbound.UnattendedVar(attempt)) == "" })
	b.noChannelsLeft(t)
}

// checkAbandonedWithRow waits for lead's campaign call on channel to be
// closed as abandoned, its lead quarantined, with its call-log row.
func checkAbandonedWithRow(t *testing.T, db *storage.DB, lead, channel string) {
	t.Helper()
	ctx := context.Background()
	var row sb.CDR
	waitUntil(t, "the call-log row", func() bool {
		rows, _, err := db.ListCDR(ctx, sb.CDRFilter{Caller: lead})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if string(r.CallID) == channel {
				row = r
				return true
			}
		}
		return false
	})
	if row.Outcome != sb.OutcomeAbandoned || row.Caller != lead || row.Called != "campaign:e2e" || row.Queue != "outbound" || row.HangupBy != "system" {
		t.Errorf("call log = %+v, want abandoned, the lead calling campaign:e2e in queue outbound, hung up by the system", row)
	}
	waitUntil(t, "attempt closed", func() bool {
		got, _ := db.Lead(ctx, "e2e", lead)
		atts, _ := db.Attempts(ctx, got.ID)
		return len(atts) == 1 && atts[0].State == storage.AttemptDone
	})
	got, _ := db.Lead(ctx, "e2e", lead)
	atts, _ := db.Attempts(ctx, got.ID)
	if atts[0].Outcome != sb.DialAbandoned || got.AbandonedAt.IsZero() || got.State == sb.LeadDialing {
		t.Errorf("lead %+v attempt %+v, want abandoned and the lead quarantined", got, atts[0])
	}
}

// TestCampaignCallAnsweredWhileDown: a campaign call rings when
// Switchboard stops, and the customer picks up before it is back.
// Asterisk hangs the call up at once (no application to take it); the
// hangup handler records it, and the next start closes the attempt as
// abandoned with its call-log row instead of as a no answer.
func TestCampaignCallAnsweredWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "late", n: 1, party: sim.Party{NoAnswer: true}}}
		a, db, _, leads, stopRunner := startCampaignCfg(t, kinds, 1, sim.Party{}, func(c *sb.Campaign) { c.RingTime = time.Hour }, nil)
		id := a.campaignCall(t, "ringing", func(ch sim.ChannelInfo) bool { return ch.State == "Ringing" })
		stopRunner()
		a.stop()
		waitUntil(t, "the application gone", func() bool { return len(a.sim.Apps()) == 0 })
		if err := a.sim.AnswerChannel(id); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the call hung up by the PBX", func() bool { return len(a.sim.Channels()) == 0 })
		b := restartCampaign(t, a, db)
		checkUnattended(t, b, db, leads[0].number, id)
	})
}

// TestCampaignCallBackFromAMDWhileDown: Switchboard stops while a
// campaign call is in AMD; AMD says a person, Stasis() finds no
// application, and the person hears the abandon message. The call is
// still on the message when Switchboard is back: the new center follows
// it, and at its end the dialplan's record closes it as abandoned, with
// its call-log row.
func TestCampaignCallBackFromAMDWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "talk", n: 1, party: sim.Party{Rings: 1, Talk: 30 * time.Second}}}
		a, db, _, leads, stopRunner := startCampaignCfg(t, kinds, 1, sim.Party{}, nil, func(_ *center.Config, s *sim.Server) {
			s.SetAMDTime(time.Hour)
			s.SetSoundLength("vm-goodbye", time.Hour) // the campaign's abandon message
		})
		inAMD := a.campaignCall(t, "in AMD", func(ch sim.ChannelInfo) bool { return !ch.InApp && ch.State == "Up" })
		stopRunner()
		a.stop()
		waitUntil(t, "the application gone", func() bool { return len(a.sim.Apps()) == 0 })
		if err := a.sim.CompleteAMD(inAMD); err != nil {
			t.Fatal(err)
		}
		b := restartCampaign(t, a, db)
		if n := len(b.c.LiveCalls()); n != 0 {
			t.Fatalf("%d live calls: the call on the abandon message was adopted as a caller", n)
		}
		var playing string
		for _, ch := range a.sim.Channels() {
			if ch.ID == inAMD && ch.DialplanApp == "Playback" {
				playing = ch.DialplanData
			}
		}
		if playing != "vm-goodbye" {
			t.Fatalf("the person hears %q, want the abandon message vm-goodbye", playing)
		}
		if err := a.sim.Hangup(inAMD, 16); err != nil { // the person hangs up during the message
			t.Fatal(err)
		}
		checkUnattended(t, b, db, leads[0].number, inAMD)
	})
}

// TestCampaignCallAnsweredWhileLinkDown: the link to the PBX drops (and
// stays down: the PBX refuses the password for a while) as a campaign call
// rings, and the customer answers meanwhile. Asterisk hangs the call up
// (no application registered); its end is lost with the link. At the
// reconnect the listing no longer has the call: the dialplan's record
// closes it as abandoned, with its call-log row, not as a no answer.
func TestCampaignCallAnsweredWhileLinkDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "late", n: 1, party: sim.Party{NoAnswer: true}}}
		a, db, _, leads, _ := startCampaignCfg(t, kinds, 1, sim.Party{}, func(c *sb.Campaign) { c.RingTime = time.Hour }, nil)
		id := a.campaignCall(t, "ringing", func(ch sim.ChannelInfo) bool { return ch.State == "Ringing" })
		a.sim.SetPassword("changed")
		a.sim.DropWebSockets()
		waitUntil(t, "the application gone", func() bool { return len(a.sim.Apps()) == 0 })
		if err := a.sim.AnswerChannel(id); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the call hung up by the PBX", func() bool { return len(a.sim.Channels()) == 0 })
		a.sim.SetPassword("pw")
		checkAbandonedWithRow(t, db, leads[0].number, id)
	})
}

// localTrunk dials leads through Local channels, as a dialplan trunk
// context would.
const localTrunk = "Local/${number}@from-campaign"

// TestCampaignBusyThroughLocalTrunk: through a Local trunk leg the only
// busy signal is Dial BUSY (the channel is destroyed with cause 0, as on
// Asterisk 22): busy leads are recorded busy, not no answer, and people
// reached that way still talk to an agent.
func TestCampaignBusyThroughLocalTrunk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{
			{name: "busy", n: 3, party: sim.Party{Busy: true}, want: sb.LeadFailed, outcome: sb.DialBusy},
			{name: "noanswer", n: 2, party: sim.Party{NoAnswer: true}, want: sb.LeadFailed, outcome: sb.DialNoAnswer},
			{name: "talk", n: 2, party: sim.Party{Rings: 1, Talk: 5 * time.Second}, want: sb.LeadDone, outcome: sb.DialAnswered},
		}
		a, db, _, leads := startCampaign(t, kinds, 2, sim.Party{}, func(camp *sb.Campaign) {
			camp.Trunk = localTrunk
			camp.MaxAttempts = 1
		})
		ctx := context.Background()
		waitUntilFor(t, "leads dialed", time.Minute, func() bool {
			counts, err := db.LeadCounts(ctx, "e2e")
			if err != nil {
				t.Fatal(err)
			}
			return counts[sb.LeadDone]+counts[sb.LeadFailed] == len(leads)
		})
		for _, l := range leads {
			got, err := db.Lead(ctx, "e2e", l.number)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != l.kind.want || got.LastOutcome != l.kind.outcome {
				t.Errorf("%s lead %s: state %s outcome %s, want %s %s", l.kind.name, l.number, got.State, got.LastOutcome, l.kind.want, l.kind.outcome)
			}
		}
		a.noChannelsLeft(t)
	})
}

type leadInfo struct {
	number string
	kind   *leadKind
}

// startCampaign starts sim, the center with the router (agents agents
// with party agent, in queue "outbound") and the campaign runner, creates
// campaign e2e (progressive unless mod changes it; any time, any day) with
// the leads of kinds and starts it.
func startCampaign(t *testing.T, kinds []leadKind, agents int, agent sim.Party, mod func(*sb.Campaign), setup ...func(*center.Options, *storage.DB)) (*acdE2E, *storage.DB, *outbound.Runner, []leadInfo) {
	t.Helper()
	a, db, runner, leads, _ := startCampaignStop(t, kinds, agents, agent, mod, setup...)
	return a, db, runner, leads
}

// startCampaignStop is startCampaign that also returns what stops the
// runner (and waits for it).
func startCampaignStop(t *testing.T, kinds []leadKind, agents int, agent sim.Party, mod func(*sb.Campaign), setup ...func(*center.Options, *storage.DB)) (*acdE2E, *storage.DB, *outbound.Runner, []leadInfo, func()) {
	t.Helper()
	return startCampaignCfg(t, kinds, agents, agent, mod, nil, setup...)
}

// startCampaignCfg is startCampaignStop with the center's configuration
// and the simulator changed by cmod (may be nil) before they start.
func startCampaignCfg(t *testing.T, kinds []leadKind, agents int, agent sim.Party, mod func(*sb.Campaign), cmod func(*center.Config, *sim.Server), setup ...func(*center.Options, *storage.DB)) (*acdE2E, *storage.DB, *outbound.Runner, []leadInfo, func()) {
	t.Helper()
	var phones []acdPhone
	for i := range agents {
		phones = append(phones, acdPhone{res: fmt.Sprintf("20%02d", i), party: agent})
	}
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	q := sb.Queue{Name: "outbound", RingTimeout: 10 * time.Second, MaxNoAnswer: -1}
	var leads []leadInfo
	var sims *sim.Server
	var runner *outbound.Runner
	late := &lateCenter{}
	a := startACDWith(t, 50, q, phones, func(cfg *center.Config, s *sim.Server) {
		if cmod != nil {
			cmod(cfg, s)
		}
		sims = s
		for ki := range kinds {
			k := &kinds[ki]
			for i := range k.n {
				number := fmt.Sprintf("+1555%03d%04d", ki+200, i)
				leads = append(leads, leadInfo{number: number, kind: k})
				s.AddEndpoint("PJSIP", number+"@trunk", k.party)
				// The same far end through a Local trunk leg
				// (camp.Trunk = localTrunk).
				s.AddEndpoint("Local", number+"@from-campaign", k.party)
			}
		}
	}, func(o *center.Options) {
		runner = outbound.New(outbound.Options{
			Store: db, Placer: late, Agents: late.CampaignAgents,
			LiveChannels: func(context.Context) ([]string, error) {
				var ids []string
				for _, ch := range sims.Channels() {
					ids = append(ids, ch.ID)
				}
				return ids, nil
			},
			Now: sims.Clock().Now, Tick: 20 * time.Millisecond,
		})
		o.Campaigns = center.Campaigns{Report: runner.Report}
		for _, f := range setup {
			f(o, db)
		}
	})
	late.c = a.c
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	now := sims.Clock().Now()
	camp := campaign.Default("e2e")
	camp.Queue = "outbound"
	camp.Window = sb.CallingWindow{Start: 0, End: 24 * 60}
	camp.Schedule.Days = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	camp.RingTime = 15 * time.Second
	camp.AbandonMessage = "sound:vm-goodbye"
	camp.CallerID = `"Example" <+15550199>`
	if mod != nil {
		mod(&camp)
	}
	if err := db.CreateCampaign(ctx, camp, now); err != nil {
		t.Fatal(err)
	}
	var batch []sb.Lead
	for _, l := range leads {
		batch = append(batch, sb.Lead{Campaign: "e2e", Number: l.number, Region: "US", TimeZone: "America/New_York"})
		if l.kind.dnc {
			if _, err := db.AddDNC(ctx, l.number, "test", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.UpsertLeads(ctx, batch, now); err != nil {
		t.Fatal(err)
	}
	for _, p := range phones {
		a.waitState(t, sb.AgentID(p.res), routing.StateAvailable)
	}
	if err := db.SetCampaignState(ctx, "e2e", sb.CampaignRunning, now); err != nil {
		t.Fatal(err)
	}
	return a, db, runner, leads, runRunner(t, runner)
}

// runRunner runs the campaign runner until the returned stop (or the
// test's end).
func runRunner(t *testing.T, runner *outbound.Runner) func() {
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestCampaignAbandonsAfterTwoSeconds: a power campaign dials three lines
// for its one agent; the people no agent takes within 2 seconds hear the
// campaign's message and are hung up, counted abandoned, and their numbers
// are not called again for 72 hours.
func TestCampaignAbandonsAfterTwoSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "talk", n: 3, party: sim.Party{Rings: 1, Talk: 30 * time.Second}}}
		a, db, _, leads := startCampaign(t, kinds, 1, sim.Party{}, func(c *sb.Campaign) {
			c.Mode, c.Ratio, c.AMD = sb.PowerDialing, 3, false
		})
		ctx := context.Background()
		var answered, abandoned int
		waitUntilFor(t, "the three calls over", time.Minute, func() bool {
			counts, err := db.LeadCounts(ctx, "e2e")
			if err != nil {
				t.Fatal(err)
			}
			return counts[sb.LeadDone]+counts[sb.LeadRetry] == 3
		})
		for _, l := range leads {
			got, _ := db.Lead(ctx, "e2e", l.number)
			atts, _ := db.Attempts(ctx, got.ID)
			row := a.cdr.wait(t, atts[0].ChannelID)
			switch got.LastOutcome {
			case sb.DialAnswered:
				answered++
				if row.Outcome != sb.OutcomeCompleted {
					t.Errorf("answered lead %s: call log %+v", l.number, row)
				}
			case sb.DialAbandoned:
				abandoned++
				if row.Outcome != sb.OutcomeAbandoned || row.Agent != "" || row.HangupBy != "system" {
					t.Errorf("abandoned lead %s: call log %+v", l.number, row)
				}
				if got.State != sb.LeadRetry || got.NextAt.Sub(got.AbandonedAt) < campaign.AbandonQuarantine {
					t.Errorf("abandoned lead %s: state %s, next %v after abandon at %v: want 72 h quiet", l.number, got.State, got.NextAt, got.AbandonedAt)
				}
				// In virtual time the abandon is exact: the connect window
				// runs out, the message plays, the line is hung up.
				want := center.ConnectWindow + sim.DefaultSounds()["vm-goodbye"]
				if held := row.Ended.Sub(row.Answered.Time); held < want || held > want+100*time.Millisecond {
					t.Errorf("abandoned lead %s hung up %v after answer, want %v (the connect window, then the message)", l.number, held, want)
				}
			default:
				t.Errorf("lead %s: outcome %s", l.number, got.LastOutcome)
			}
		}
		if answered != 1 || abandoned != 2 {
			t.Fatalf("answered %d, abandoned %d; want 1 and 2 (one agent, three lines)", answered, abandoned)
		}
		a.noChannelsLeft(t)
	})
}

// TestCampaignPreviewDial: in preview mode nothing is dialed until the
// agent takes a lead and dials it: the agent's phone rings first, then the
// customer's; they talk, the lead is done, the agent is free again.
func TestCampaignPreviewDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kinds := []leadKind{{name: "talk", n: 2, party: sim.Party{Rings: 1, Talk: 10 * time.Second}}}
		a, db, runner, _ := startCampaign(t, kinds, 1, sim.Party{Rings: 1}, func(c *sb.Campaign) {
			c.Mode = sb.PreviewDialing
		}, func(o *center.Options, db *storage.DB) {
			// The campaign's own policy records its calls; inbound ones are not.
			// (No recordings folder here: the file is not fetched.)
			o.Recording = center.RecordingOptions{Repo: db, Policies: recording.Policies{
				Default:   recording.Policy{Mode: recording.ModeNever},
				Campaigns: map[string]recording.Policy{"e2e": {Mode: recording.ModeAlways}},
			}, Fetch: func(context.Context, *recording.Recording) error {
				return errors.New("no recordings folder in this test")
			}}
		})
		ctx := context.Background()
		var lead outbound.PreviewLead
		waitUntil(t, "a lead to preview", func() bool {
			var err error
			lead, err = runner.Preview(ctx, "e2e", "2000")
			return err == nil
		})
		if counts, _ := db.LeadCounts(ctx, "e2e"); counts[sb.LeadNew] != 1 {
			t.Fatalf("lead counts %v: the preview campaign dialed on its own", counts)
		}
		if err := runner.PreviewDial(ctx, "e2e", lead.Attempt, "2000"); err != nil {
			t.Fatal(err)
		}
		row := a.cdr.wait(t, string(outbound.ChannelFor(lead.Attempt)))
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "2000" || row.Caller != lead.Number {
			t.Fatalf("preview call log = %+v", row)
		}
		waitUntil(t, "lead done", func() bool {
			got, _ := db.Lead(ctx, "e2e", lead.Number)
			return got.State == sb.LeadDone
		})
		a.waitState(t, "2000", routing.StateAvailable)
		waitUntil(t, "the campaign's call recorded", func() bool {
			recs, _, err := db.ListRecordings(ctx, recording.Filter{Limit: 10})
			return err == nil && len(recs) == 1 && recs[0].Campaign == "e2e" && recs[0].CallID == row.CallID && recs[0].State != recording.StateRecording
		})
		a.noChannelsLeft(t)
	})
}

// TestCampaignCallSurvivesRestart: Switchboard stops while a campaign call
// is talking; the new process adopts the call, the lead is not dialed
// again, and when the call ends its attempt is closed as answered.
func TestCampaignCallSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Three simulated minutes of talk (3.6 s of wall time) leave the
		// restart room to adopt the call, even under the race detector.
		kinds := []leadKind{{name: "talk", n: 1, party: sim.Party{Rings: 1, Talk: 3 * time.Minute}}}
		a, db, _, leads, stopRunner := startCampaignStop(t, kinds, 1, sim.Party{}, nil)
		waitUntil(t, "campaign call talking", func() bool {
			for _, k := range a.c.LiveCalls() {
				if k.State == sb.CallBridged {
					return true
				}
			}
			return false
		})
		for _, k := range a.c.LiveCalls() {
			a.waitCard(t, string(k.ID))
		}
		stopRunner()
		a.stop()
		b := restartCampaign(t, a, db)
		ctx := context.Background()
		waitUntil(t, "lead done", func() bool {
			got, _ := db.Lead(ctx, "e2e", leads[0].number)
			return got.State == sb.LeadDone
		})
		got, _ := db.Lead(ctx, "e2e", leads[0].number)
		atts, _ := db.Attempts(ctx, got.ID)
		if len(atts) != 1 || atts[0].Outcome != sb.DialAnswered {
			t.Fatalf("attempts = %+v, want one, answered", atts)
		}
		if row := b.cdr.wait(t, atts[0].ChannelID); row.Outcome != sb.OutcomeCompleted || row.Called != "campaign:e2e" ||
			row.Caller != leads[0].number || row.Queue != "outbound" {
			t.Fatalf("call log after the restart = %+v, want the lead's number, campaign:e2e, queue outbound", row)
		}
		b.noChannelsLeft(t)
	})
}

// campaignCall waits for a campaign channel (ob-<attempt>) the simulator
// shows in the state match tells, and returns its id.
func (a *acdE2E) campaignCall(t *testing.T, what string, match func(sim.ChannelInfo) bool) string {
	t.Helper()
	var id string
	waitUntil(t, "campaign call "+what, func() bool {
		for _, ch := range a.sim.Channels() {
			if strings.HasPrefix(ch.ID, "ob-") && match(ch) {
				id = ch.ID
				return true
			}
		}
		return false
	})
	return id
}
