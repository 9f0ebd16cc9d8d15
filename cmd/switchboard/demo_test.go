package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/demo"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/storage"
)

// TestDemoCampaign: a short demo run with a 20-lead progressive campaign
// beside the inbound callers dials leads through the simulated PBX; every
// attempt ends with an outcome, every live answer is either given to an
// agent or abandoned, the abandon rate stays under the 3% cap, the
// inbound counts leave the campaign's calls out, and nothing is left on
// the PBX.
func TestDemoCampaign(t *testing.T) {
	const leads = 20
	t.Setenv(config.EnvName("demo.campaign_leads"), "20")
	t.Setenv(config.EnvName("demo.campaign_mode"), "progressive")
	db := filepath.Join(t.TempDir(), "demo.db")
	// The demo's clock is virtual: the 2-second connect window is two
	// simulated seconds at any speed, however slow the machine.
	p := start(t, "demo", "--duration", "6m", "--seed", "7", "--speed", "0", "--json",
		"--listen", "127.0.0.1:0", "--db", db)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
	var sum demo.Summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, p.stdout)
	}
	if sum.CampaignLeads != leads || sum.CampaignDialed == 0 || sum.CampaignLeadsLeft > leads {
		t.Errorf("campaign: %d leads, %d dialed, %d left; want %d leads, some dialed", sum.CampaignLeads, sum.CampaignDialed, sum.CampaignLeadsLeft, leads)
	}
	if sum.CampaignConnected+sum.CampaignAbandoned != sum.CampaignAnswered {
		t.Errorf("live answers %d: %d to an agent, %d abandoned; want every one either", sum.CampaignAnswered, sum.CampaignConnected, sum.CampaignAbandoned)
	}
	if sum.ChannelsLeft != 0 || sum.EventsLost != 0 || sum.EventsReceived != sum.EventsSent {
		t.Errorf("channels left %d, events sent %d received %d lost %d", sum.ChannelsLeft, sum.EventsSent, sum.EventsReceived, sum.EventsLost)
	}
	if sum.CallsOffered != sum.CallsGenerated || int64(sum.CDRRows) != sum.CallsOffered {
		t.Errorf("inbound: generated %d, offered %d, call-log rows %d: the campaign's calls must not be counted", sum.CallsGenerated, sum.CallsOffered, sum.CDRRows)
	}

	store, err := storage.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	cdr := map[sb.CallID]sb.CDR{}
	rows, _, err := store.ListCDR(ctx, sb.CDRFilter{Called: "campaign:" + demo.CampaignName, Limit: storage.MaxCDRLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		cdr[r.CallID] = r
	}
	attempts, dialedLeads := 0, 0
	var skew time.Duration // the runner's dial time against the center's answer time
	for _, l := range demo.Leads(config.DemoSettings{Seed: 7, CampaignLeads: leads, TalkMean: time.Minute}) {
		lead, err := store.Lead(ctx, demo.CampaignName, l.Number)
		if err != nil {
			t.Fatal(err)
		}
		atts, err := store.Attempts(ctx, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) > 0 {
			dialedLeads++
			if lead.LastOutcome == "" || lead.State == sb.LeadDialing || lead.State == sb.LeadNew {
				t.Errorf("lead %s dialed %d times: state %s, last outcome %q", l.Number, len(atts), lead.State, lead.LastOutcome)
			}
		}
		for _, a := range atts {
			attempts++
			if a.State != storage.AttemptDone || a.Outcome == "" {
				t.Errorf("lead %s attempt %d: state %s outcome %q; want done with an outcome", l.Number, a.ID, a.State, a.Outcome)
			}
			if r, ok := cdr[sb.CallID(outbound.ChannelFor(a.ID))]; ok {
				skew = max(skew, r.Entered.Sub(a.Started).Abs())
			}
		}
	}
	if dialedLeads == 0 || attempts != sum.CampaignDialed {
		t.Errorf("%d leads dialed in %d attempts; the runner counted %d dials", dialedLeads, attempts, sum.CampaignDialed)
	}
	// A call is answered within its ring time plus AMD of being dialed.
	// Further apart, the runner paces on another clock than the center's
	// and the simulator's: its pacing decisions mean nothing then.
	if skew > time.Minute {
		t.Fatalf("the campaign runner does not run on the demo's simulated clock (dial and answer %v apart)", skew)
	}
	if sum.CampaignAnswered == 0 || sum.CampaignAbandonRate >= 0.03 {
		t.Errorf("campaign: %d live answers, %d abandoned (%.3f); want some, under 3%%", sum.CampaignAnswered, sum.CampaignAbandoned, sum.CampaignAbandonRate)
	}
}

// TestDemoSameSeedSameSummary: the demo runs on the simulator's virtual
// clock, which moves only while the process is quiet, so two runs with the
// same seed and flags print the same summary, campaign figures included,
// whatever else the machine is doing; another seed gives another run.
func TestDemoSameSeedSameSummary(t *testing.T) {
	run := func(seed string) string {
		t.Helper()
		db := filepath.Join(t.TempDir(), "demo.db")
		p := start(t, "demo", "--duration", "15m", "--seed", seed, "--speed", "0", "--json",
			"--listen", "127.0.0.1:0", "--db", db)
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
		}
		return p.stdout.String()
	}
	first, second := run("7"), run("7")
	if first != second {
		t.Errorf("seed 7 twice, two summaries:\n%s\n%s", first, second)
	}
	var sum demo.Summary
	if err := json.Unmarshal([]byte(first), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, first)
	}
	if sum.CampaignDialed == 0 || sum.CampaignAnswered == 0 || sum.CallsAnswered == 0 {
		t.Errorf("campaign dialed %d, answered %d; inbound answered %d: want all in the compared summary",
			sum.CampaignDialed, sum.CampaignAnswered, sum.CallsAnswered)
	}
	if other := run("8"); other == first {
		t.Errorf("seeds 7 and 8 gave the same summary: %s", first)
	}
}
