package outbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/storage"
)

// dialNow is Tuesday 2026-03-10 11:00 in New York: inside the default
// calling window of every test lead.
var dialNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// clock is the injected time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// fakePlacer records the dials; Err, if set, decides each one's result.
type fakePlacer struct {
	mu    sync.Mutex
	dials []Dial
	Err   func(Dial) error
}

var _ Placer = (*fakePlacer)(nil)

func (f *fakePlacer) Dial(_ context.Context, d Dial) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials = append(f.dials, d)
	if f.Err != nil {
		return f.Err(d)
	}
	return nil
}

// Dials returns the dials placed so far in attempt order, which is the
// order the runner took their leads in; the runner places them
// concurrently, so the order they reached the placer is not fixed.
func (f *fakePlacer) Dials() []Dial {
	f.mu.Lock()
	defer f.mu.Unlock()
	ds := slices.Clone(f.dials)
	slices.SortFunc(ds, func(a, b Dial) int { return cmp.Compare(a.Attempt, b.Attempt) })
	return ds
}

// fakeAgents is the ACD's view of each queue, set by the test.
type fakeAgents struct {
	mu      sync.Mutex
	byQueue map[string][]dialer.Agent
}

func (f *fakeAgents) Set(queue string, agents ...dialer.Agent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byQueue[queue] = agents
}

func (f *fakeAgents) Source(_ context.Context, queue string) ([]dialer.Agent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.byQueue[queue]), nil
}

func ready(n int) []dialer.Agent {
	out := make([]dialer.Agent, n)
	for i := range out {
		out[i] = dialer.Agent{Status: dialer.AgentReady, Since: dialNow.Add(-time.Minute)}
	}
	return out
}

// env is one runner on a real database with fakes around it.
type env struct {
	t      *testing.T
	ctx    context.Context
	db     *storage.DB
	path   string
	store  Store
	clock  *clock
	placer *fakePlacer
	agents *fakeAgents
	live   func(context.Context) ([]string, error)
	r      *Runner
	stop   func()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	db, err := storage.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, ctx: context.Background(), db: db, path: path, store: db, clock: &clock{t: dialNow},
		placer: &fakePlacer{}, agents: &fakeAgents{byQueue: map[string][]dialer.Agent{}},
		live: func(context.Context) ([]string, error) { return nil, nil }}
	return e
}

// start runs a runner in manual mode: the test drives its steps.
func (e *env) start() *Runner {
	e.t.Helper()
	r := New(Options{Store: e.store, Placer: e.placer, Agents: e.agents.Source, LiveChannels: e.live, Now: e.clock.Now})
	r.manual = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.up
	stopped := false
	e.r = r
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	}
	e.t.Cleanup(e.stop)
	return r
}

// campaign creates a running campaign on queue "sales" with n leads
// +1212555NNNN in New York.
func (e *env) campaign(name string, n int, change func(*sb.Campaign)) []string {
	e.t.Helper()
	c := campaign.Default(name)
	c.CallerID, c.State, c.Queue = "+15555550100", sb.CampaignRunning, "sales"
	c.AbandonMessage, c.MachineMessage = "sound:sorry", "sound:vm"
	if change != nil {
		change(&c)
	}
	if err := e.db.CreateCampaign(e.ctx, c, dialNow.Add(-time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	var leads []sb.Lead
	var numbers []string
	for i := range n {
		num := fmt.Sprintf("+1212555%04d", i)
		numbers = append(numbers, num)
		leads = append(leads, sb.Lead{Campaign: name, Number: num, Region: "US", TimeZone: "America/New_York",
			Data: map[string]string{"row": fmt.Sprint(i)}})
	}
	if _, err := e.db.UpsertLeads(e.ctx, leads, dialNow.Add(-time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	return numbers
}

// settle waits for the originates in progress and applies every report
// queued so far.
func (e *env) settle() {
	e.t.Helper()
	e.r.dials.Wait()
	if err := e.r.do(e.ctx, func() {}); err != nil {
		e.t.Fatal(err)
	}
}

// tick runs one pacing step on the loop and settles.
func (e *env) tick() {
	e.t.Helper()
	if err := e.r.do(e.ctx, func() { e.r.step(e.ctx) }); err != nil {
		e.t.Fatal(err)
	}
	e.settle()
}

// report sends the center's reports and settles.
func (e *env) report(evs ...Event) {
	e.t.Helper()
	for _, ev := range evs {
		e.r.Report(ev)
	}
	e.settle()
}

func (e *env) lead(name, number string) sb.Lead {
	e.t.Helper()
	l, err := e.db.Lead(e.ctx, name, number)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *env) stats(name string) CampaignStats {
	e.t.Helper()
	s, err := e.r.Stats(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestChannelFor(t *testing.T) {
	if got := ChannelFor(42); got != "ob-42" {
		t.Errorf("ChannelFor(42) = %q", got)
	}
	for _, c := range []struct {
		ch   sb.ChannelID
		id   int64
		want bool
	}{{"ob-42", 42, true}, {"ob-0", 0, false}, {"ob--1", 0, false}, {"ob-+1", 0, false}, {"ob-", 0, false}, {"ob-x", 0, false}, {"1712.5", 0, false}} {
		if id, ok := AttemptOf(c.ch); id != c.id || ok != c.want {
			t.Errorf("AttemptOf(%q) = %d, %v; want %d, %v", c.ch, id, ok, c.id, c.want)
		}
	}
}

func TestProgressiveDialsOnePerReadyAgent(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("spring", 10, nil)
	e.agents.Set("sales", append(ready(3), dialer.Agent{Status: dialer.AgentTalking, Since: dialNow})...)
	e.start()
	e.tick()
	dials := e.placer.Dials()
	if len(dials) != 3 {
		t.Fatalf("%d dials, want 3 (one per ready agent)", len(dials))
	}
	d := dials[0]
	want := Dial{Attempt: d.Attempt, Lead: d.Lead, Campaign: "spring", Queue: "sales", Channel: ChannelFor(d.Attempt),
		Endpoint: "PJSIP/" + d.Lead.Number + "@trunk", CallerID: "+15555550100", RingTime: 25 * time.Second, AMD: true,
		MachineMessage: "sound:vm", AbandonMessage: "sound:sorry"}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("dial = %+v\nwant %+v", d, want)
	}
	if d.Lead.Number != numbers[0] || d.Lead.Data["row"] != "0" {
		t.Errorf("first lead = %+v", d.Lead)
	}
	a, err := e.db.Attempt(e.ctx, d.Attempt)
	if err != nil || a.State != storage.AttemptDialing || a.ChannelID != "ob-"+fmt.Sprint(d.Attempt) {
		t.Errorf("attempt = %+v, %v; want dialing on its channel", a, err)
	}

	// Three lines ring for three ready agents: nothing more.
	e.clock.Add(time.Second)
	e.tick()
	if n := len(e.placer.Dials()); n != 3 {
		t.Fatalf("%d dials with three ringing, want 3", n)
	}
	// One ends unanswered: its agent gets a new line, never a lead in flight.
	e.report(Event{Attempt: dials[1].Attempt, Kind: Ended, At: e.clock.Add(time.Second), Outcome: sb.DialNoAnswer})
	e.tick()
	dials = e.placer.Dials()
	if len(dials) != 4 {
		t.Fatalf("%d dials after a no-answer, want 4", len(dials))
	}
	seen := map[string]bool{}
	for _, d := range dials {
		if seen[d.Lead.Number] {
			t.Errorf("lead %s dialed twice", d.Lead.Number)
		}
		seen[d.Lead.Number] = true
	}
	// Answered and waiting: still the agent's line.
	e.report(Event{Attempt: dials[3].Attempt, Kind: Answered, At: e.clock.Add(time.Second)})
	e.tick()
	if n := len(e.placer.Dials()); n != 4 {
		t.Errorf("%d dials with a call waiting, want 4", n)
	}
}

func TestPowerRatio(t *testing.T) {
	e := newEnv(t)
	e.campaign("blitz", 20, func(c *sb.Campaign) { c.Mode, c.Ratio, c.MaxRatio = sb.PowerDialing, 2, 2.5 })
	e.agents.Set("sales", append(ready(2), dialer.Agent{Status: dialer.AgentWrapUp, Since: dialNow})...)
	e.start()
	e.tick()
	if n := len(e.placer.Dials()); n != 4 {
		t.Fatalf("%d dials, want 4 (2 per ready agent)", n)
	}
	e.clock.Add(time.Second)
	e.tick()
	if n := len(e.placer.Dials()); n != 4 {
		t.Errorf("%d dials with four ringing, want 4", n)
	}
	if s := e.stats("blitz"); s.Pacer != "ratio-2.0" || s.LinesInFlight != 4 || s.Agents != 3 {
		t.Errorf("stats = %+v", s)
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("look", 5, func(c *sb.Campaign) { c.Mode = sb.PreviewDialing })
	e.campaign("spring", 1, nil)
	e.agents.Set("sales", ready(3)...)
	e.start()
	e.tick()
	for _, d := range e.placer.Dials() {
		if d.Campaign == "look" {
			t.Fatalf("preview campaign auto-dialed: %+v", d)
		}
	}

	p1, err := e.r.Preview(e.ctx, "look", "a1")
	if err != nil {
		t.Fatal(err)
	}
	if p1.Number != numbers[0] || p1.Attempts != 0 || p1.Data["row"] != "0" || p1.Campaign != "look" || !p1.Expires.Equal(dialNow.Add(previewHold)) {
		t.Errorf("preview = %+v", p1)
	}
	if again, err := e.r.Preview(e.ctx, "look", "a1"); err != nil || again.Attempt != p1.Attempt {
		t.Errorf("second preview for the same agent = %+v, %v; want the same lead", again, err)
	}
	p2, err := e.r.Preview(e.ctx, "look", "a2")
	if err != nil || p2.Number != numbers[1] {
		t.Fatalf("preview for a2 = %+v, %v", p2, err)
	}
	if err := e.r.PreviewDial(e.ctx, "look", p1.Attempt, "a2"); sb.ErrorCode(err) != sb.EFORBIDDEN {
		t.Errorf("dial by another agent: %v, want forbidden", err)
	}
	if err := e.r.PreviewDial(e.ctx, "look", 999, "a1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("dial of no preview: %v, want not found", err)
	}
	if err := e.r.PreviewDial(e.ctx, "other", p1.Attempt, "a1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("dial under another campaign's name: %v, want not found", err)
	}
	if err := e.r.PreviewSkip(e.ctx, "other", p1.Attempt, "a1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("skip under another campaign's name: %v, want not found", err)
	}
	if err := e.r.PreviewDial(e.ctx, "look", p1.Attempt, "a1"); err != nil {
		t.Fatal(err)
	}
	e.settle()
	var got *Dial
	for _, d := range e.placer.Dials() {
		if d.Attempt == p1.Attempt {
			got = &d
		}
	}
	if got == nil || got.Agent != "a1" || got.Lead.Number != numbers[0] || got.Channel != ChannelFor(p1.Attempt) {
		t.Fatalf("preview dial = %+v", got)
	}
	if err := e.r.PreviewDial(e.ctx, "look", p1.Attempt, "a1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("second dial: %v, want not found", err)
	}

	// Skipped: due again at once, the attempt not counted.
	if err := e.r.PreviewSkip(e.ctx, "look", p2.Attempt, "a2"); err != nil {
		t.Fatal(err)
	}
	if l := e.lead("look", numbers[1]); l.State != sb.LeadNew || l.Attempts != 0 || l.NextAt.After(e.clock.Now()) {
		t.Errorf("skipped lead = %+v, want new, due now, no attempt counted", l)
	}

	// A lead held too long goes back.
	p3, err := e.r.Preview(e.ctx, "look", "a3")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(previewHold)
	e.tick()
	if l := e.lead("look", p3.Number); l.State != sb.LeadNew || l.Attempts != 0 {
		t.Errorf("lapsed lead = %+v", l)
	}
	if err := e.r.PreviewSkip(e.ctx, "look", p3.Attempt, "a3"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("skip after lapse: %v, want not found", err)
	}

	if _, err := e.r.Preview(e.ctx, "spring", "a1"); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("preview of a progressive campaign: %v, want conflict", err)
	}
	if _, err := e.r.Preview(e.ctx, "nope", "a1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("preview of no campaign: %v, want not found", err)
	}
}

func TestPauseStopsNewDials(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("spring", 10, nil)
	e.agents.Set("sales", ready(2)...)
	e.start()
	e.tick()
	dials := e.placer.Dials()
	if len(dials) != 2 {
		t.Fatalf("%d dials, want 2", len(dials))
	}
	if err := e.db.SetCampaignState(e.ctx, "spring", sb.CampaignPaused, dialNow); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(refreshEvery)
	// A call in flight finishes and is recorded; no new call is placed.
	e.report(Event{Attempt: dials[0].Attempt, Kind: Ended, At: e.clock.Now(), Outcome: sb.DialBusy})
	e.tick()
	e.tick()
	if n := len(e.placer.Dials()); n != 2 {
		t.Errorf("%d dials while paused, want 2", n)
	}
	if l := e.lead("spring", numbers[0]); l.State != sb.LeadRetry || l.LastOutcome != sb.DialBusy {
		t.Errorf("lead of the call that ended while paused = %+v", l)
	}
	if s := e.stats("spring"); s.State != sb.CampaignPaused || s.LinesInFlight != 1 {
		t.Errorf("stats while paused = %+v", s)
	}
	if err := e.db.SetCampaignState(e.ctx, "spring", sb.CampaignRunning, dialNow); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(refreshEvery)
	e.tick()
	if n := len(e.placer.Dials()); n != 3 {
		t.Errorf("%d dials after resume, want 3", n)
	}
}

func TestOutcomesReachTheLead(t *testing.T) {
	tests := []struct {
		outcome  sb.DialOutcome
		answered bool
		want     sb.LeadState
		nextIn   time.Duration // after the end; 0 = not due
	}{
		{sb.DialAnswered, true, sb.LeadDone, 0},
		{sb.DialBusy, false, sb.LeadRetry, 10 * time.Minute},
		{sb.DialNoAnswer, false, sb.LeadRetry, 2 * time.Hour},
		{sb.DialMachine, false, sb.LeadRetry, 4 * time.Hour},
		{sb.DialAbandoned, true, sb.LeadRetry, campaign.AbandonQuarantine},
		{sb.DialInvalid, false, sb.LeadFailed, 0},
		{sb.DialFailed, false, sb.LeadRetry, 30 * time.Minute},
	}
	e := newEnv(t)
	e.campaign("spring", len(tests), func(c *sb.Campaign) { c.Mode, c.Ratio = sb.PowerDialing, 3 })
	e.campaign("last", 1, func(c *sb.Campaign) { c.MaxAttempts, c.Queue = 1, "last" })
	e.agents.Set("sales", ready(3)...)
	e.agents.Set("last", ready(1)...)
	e.start()
	e.tick()
	dials := e.placer.Dials()
	if len(dials) != len(tests)+1 {
		t.Fatalf("%d dials, want %d", len(dials), len(tests)+1)
	}
	end := e.clock.Add(20 * time.Second)
	byCampaign := map[string][]Dial{}
	for _, d := range dials {
		byCampaign[d.Campaign] = append(byCampaign[d.Campaign], d)
	}
	for i, tt := range tests {
		d := byCampaign["spring"][i]
		if tt.answered {
			e.report(Event{Attempt: d.Attempt, Kind: Answered, At: end.Add(-10 * time.Second)})
		}
		e.report(Event{Attempt: d.Attempt, Kind: Ended, At: end, Outcome: tt.outcome})
		l := e.lead("spring", d.Lead.Number)
		if l.State != tt.want || l.LastOutcome != tt.outcome || l.Attempts != 1 {
			t.Errorf("%s: lead = %+v, want %s", tt.outcome, l, tt.want)
		}
		if tt.nextIn > 0 && !l.NextAt.Equal(end.Add(tt.nextIn)) {
			t.Errorf("%s: next at %s, want %s", tt.outcome, l.NextAt, end.Add(tt.nextIn))
		}
	}
	d := byCampaign["last"][0]
	e.report(Event{Attempt: d.Attempt, Kind: Ended, At: end, Outcome: sb.DialNoAnswer})
	if l := e.lead("last", d.Lead.Number); l.State != sb.LeadFailed {
		t.Errorf("no answer on the last attempt: lead %+v, want failed", l)
	}
	if s := e.stats("spring"); s.Dialed != 7 || s.Answered != 2 || s.Abandoned != 1 || s.Machines != 1 || s.LinesInFlight != 0 {
		t.Errorf("totals = %+v", s)
	}
}

// hookStore lets a test change the world between a claim and its dial.
type hookStore struct {
	*storage.DB
	afterClaim func([]storage.Claim)
}

func (h hookStore) ClaimLeads(ctx context.Context, name string, n int, now time.Time) ([]storage.Claim, error) {
	cs, err := h.DB.ClaimLeads(ctx, name, n, now)
	if err == nil && h.afterClaim != nil {
		h.afterClaim(cs)
	}
	return cs, err
}

func TestNotDialableAtDialTime(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("spring", 3, nil)
	e.agents.Set("sales", ready(3)...)
	// The number of the first claim goes on the DNC list, the campaign's
	// schedule ends for the second, just after the claim.
	e.store = hookStore{DB: e.db, afterClaim: func(cs []storage.Claim) {
		if len(cs) == 0 {
			return
		}
		if _, err := e.db.AddDNC(e.ctx, cs[0].Lead.Number, "national", dialNow); err != nil {
			t.Error(err)
		}
	}}
	e.start()
	e.tick()
	dials := e.placer.Dials()
	if len(dials) != 2 {
		t.Fatalf("%d dials, want 2 (the DNC number left out)", len(dials))
	}
	for _, d := range dials {
		if d.Lead.Number == numbers[0] {
			t.Errorf("DNC number dialed")
		}
	}
	if l := e.lead("spring", numbers[0]); l.State != sb.LeadDNC || l.Attempts != 0 {
		t.Errorf("DNC lead = %+v, want dnc with no attempt counted", l)
	}
}

func TestWindowClosedAtDialTimeReturnsTheLead(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("spring", 1, nil)
	e.agents.Set("sales", ready(1)...)
	// The claim is made at 11:00 New York; the dial check runs after the
	// clock moved past the window's end.
	e.store = hookStore{DB: e.db, afterClaim: func(cs []storage.Claim) {
		if len(cs) > 0 {
			e.clock.Add(11 * time.Hour)
		}
	}}
	e.start()
	e.tick()
	if n := len(e.placer.Dials()); n != 0 {
		t.Fatalf("%d dials outside the window", n)
	}
	if l := e.lead("spring", numbers[0]); l.State != sb.LeadNew || l.Attempts != 0 {
		t.Errorf("lead = %+v, want new again with no attempt counted", l)
	}
}

func TestDialErrorFailsTheAttempt(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("spring", 2, nil)
	e.agents.Set("sales", ready(2)...)
	e.placer.Err = func(d Dial) error {
		if d.Lead.Number == numbers[0] {
			return errors.New("originate: 503 trunk down")
		}
		return nil
	}
	e.start()
	e.tick()
	if l := e.lead("spring", numbers[0]); l.State != sb.LeadRetry || l.LastOutcome != sb.DialFailed || l.Attempts != 1 {
		t.Errorf("lead of the refused originate = %+v", l)
	}
	if l := e.lead("spring", numbers[1]); l.State != sb.LeadDialing {
		t.Errorf("other lead = %+v", l)
	}
	if s := e.stats("spring"); s.LinesInFlight != 1 || s.Dialed != 2 {
		t.Errorf("stats = %+v", s)
	}
}

func TestLedgerRebuiltAfterRestart(t *testing.T) {
	e := newEnv(t)
	e.campaign("blitz", 20, func(c *sb.Campaign) { c.Mode, c.Ratio = sb.PowerDialing, 2 })
	e.agents.Set("sales", ready(2)...)
	e.start()
	e.tick()
	dials := e.placer.Dials()
	if len(dials) != 4 {
		t.Fatalf("%d dials, want 4", len(dials))
	}
	at := e.clock.Add(10 * time.Second)
	e.report(
		Event{Attempt: dials[0].Attempt, Kind: Answered, At: at},
		Event{Attempt: dials[0].Attempt, Kind: Connected, At: at.Add(time.Second), Agent: "a1"},
		Event{Attempt: dials[1].Attempt, Kind: Answered, At: at},
		Event{Attempt: dials[1].Attempt, Kind: Ended, At: at.Add(2 * time.Second), Outcome: sb.DialAbandoned},
		Event{Attempt: dials[0].Attempt, Kind: Ended, At: at.Add(time.Minute), Outcome: sb.DialAnswered},
	)
	e.clock.Add(time.Minute)
	e.tick()
	before := e.stats("blitz")
	if before.AbandonRateToday != 0.5 || before.AbandonRateWindow != 0.5 || before.Pacer != "progressive" {
		t.Fatalf("stats = %+v; want abandon rates 0.5 and progressive pacing over the cap", before)
	}
	// Over the cap: one line per ready agent with none ringing.
	if n := len(e.placer.Dials()); n != 4 {
		t.Errorf("%d dials over the cap, want 4 (two still ringing for two agents)", n)
	}

	e.stop()
	e.placer = &fakePlacer{}
	e.start()
	e.tick()
	after := e.stats("blitz")
	if after.AbandonRateToday != 0.5 || after.AbandonRateWindow != 0.5 || after.Pacer != "progressive" {
		t.Errorf("after restart: %+v; want the same abandon rates and progressive pacing", after)
	}
}

func TestRestartReconciles(t *testing.T) {
	e := newEnv(t)
	numbers := e.campaign("spring", 3, nil)
	e.agents.Set("sales", ready(3)...)
	e.start()
	e.tick()
	dials := e.placer.Dials()
	at := e.clock.Add(5 * time.Second)
	// Two answered calls whose end never comes (the center died): the
	// first was put through to an agent, the second is still up on the PBX
	// after the restart; the third was ringing.
	e.report(Event{Attempt: dials[0].Attempt, Kind: Answered, At: at}, Event{Attempt: dials[0].Attempt, Kind: Connected, At: at, Agent: "1001"},
		Event{Attempt: dials[1].Attempt, Kind: Answered, At: at})
	e.stop()

	e.live = func(context.Context) ([]string, error) { return []string{string(dials[1].Channel)}, nil }
	e.placer = &fakePlacer{}
	e.agents.Set("sales")
	e.start()
	e.tick()
	// The conversation took place: never dialed again.
	if l := e.lead("spring", dials[0].Lead.Number); l.State != sb.LeadDone || l.LastOutcome != sb.DialAnswered {
		t.Errorf("lead of the call an agent took = %+v, want done, answered", l)
	}
	// Ringing at the kill: no answer, not abandoned.
	if l := e.lead("spring", dials[2].Lead.Number); l.State != sb.LeadRetry || l.LastOutcome != sb.DialNoAnswer {
		t.Errorf("lead of the ringing call gone = %+v, want retry after no answer", l)
	}
	if l := e.lead("spring", dials[1].Lead.Number); l.State != sb.LeadDialing {
		t.Errorf("lead of the live call = %+v, want still dialing", l)
	}
	if s := e.stats("spring"); s.LinesInFlight != 1 {
		t.Errorf("adopted calls in flight = %d, want 1", s.LinesInFlight)
	}
	// The adopted call's end is applied.
	e.report(Event{Attempt: dials[1].Attempt, Kind: Ended, At: e.clock.Add(time.Minute), Outcome: sb.DialAnswered})
	if l := e.lead("spring", dials[1].Lead.Number); l.State != sb.LeadDone {
		t.Errorf("lead of the adopted call = %+v, want done", l)
	}
	_ = numbers
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", 10, nil)
	talking := dialer.Agent{Status: dialer.AgentTalking, Since: dialNow}
	e.agents.Set("sales", append(ready(3), talking)...)
	e.start()
	e.tick() // 3 dials; sample: 1 of 4 talking
	dials := e.placer.Dials()
	at := e.clock.Add(6 * time.Second)
	e.report(
		Event{Attempt: dials[0].Attempt, Kind: Answered, At: at},
		Event{Attempt: dials[1].Attempt, Kind: Ended, At: at, Outcome: sb.DialMachine},
		Event{Attempt: dials[2].Attempt, Kind: Answered, At: at},
		Event{Attempt: dials[2].Attempt, Kind: Connected, At: at, Agent: "a1"},
		Event{Attempt: dials[2].Attempt, Kind: Ended, At: at.Add(54 * time.Second), Outcome: sb.DialAnswered},
	)
	e.agents.Set("sales", talking, talking, talking, talking)
	e.clock.Add(54 * time.Second) // one minute after the start
	e.tick()                      // sample: 4 of 4 talking; no one ready, no dial
	s := e.stats("spring")
	want := CampaignStats{
		Campaign: "spring", State: sb.CampaignRunning, Mode: sb.ProgressiveDialing, Pacer: "progressive",
		DialRatePerMinute: 3, LinesInFlight: 1, WaitingForAgent: 1, AnswerRate: 0.5,
		AbandonCap: 0.03, DailyAbandonCap: 0.03, Agents: 4, AgentOccupancy: 5.0 / 8,
		LeadsLeft: 8, ETA: 8 / (2 / 60.0), Dialed: 3, Answered: 2, Machines: 1,
	}
	if s != want {
		t.Errorf("stats =\n%+v\nwant\n%+v", s, want)
	}
	if _, err := e.r.Stats(e.ctx, "nope"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("stats of no campaign: %v", err)
	}
}

func TestDisposition(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", 1, nil)
	e.agents.Set("sales", ready(1)...)
	e.start()
	e.tick()
	d := e.placer.Dials()[0]
	at := e.clock.Add(5 * time.Second)
	e.report(
		Event{Attempt: d.Attempt, Kind: Answered, At: at},
		Event{Attempt: d.Attempt, Kind: Connected, At: at, Agent: "a1"},
		Event{Attempt: d.Attempt, Kind: Ended, At: at.Add(time.Minute), Outcome: sb.DialAnswered},
	)
	if err := e.r.Disposition(e.ctx, "autumn", d.Attempt, "dnc", ""); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("disposition under another campaign's name: %v, want ENOTFOUND", err)
	}
	// Only the agent who took the attempt may, when the request is an
	// agent's: another's changes nothing.
	if err := e.r.Disposition(e.ctx, "spring", d.Attempt, "dnc", "a2"); sb.ErrorCode(err) != sb.EFORBIDDEN {
		t.Errorf("disposition by another agent: %v, want forbidden", err)
	}
	if l := e.lead("spring", d.Lead.Number); l.State == sb.LeadDNC {
		t.Errorf("lead = %+v after another agent's dnc, want unchanged", l)
	}
	if _, ok, err := e.db.DNC(e.ctx, d.Lead.Number); ok || err != nil {
		t.Errorf("DNC entry after another agent's dnc: %v %v, want none", ok, err)
	}
	if err := e.r.Disposition(e.ctx, "spring", d.Attempt, "dnc", "a1"); err != nil {
		t.Fatal(err)
	}
	if l := e.lead("spring", d.Lead.Number); l.State != sb.LeadDNC {
		t.Errorf("lead = %+v, want dnc", l)
	}
	if entry, ok, err := e.db.DNC(e.ctx, d.Lead.Number); !ok || err != nil || entry.Source != "agent" {
		t.Errorf("DNC entry = %+v %v %v", entry, ok, err)
	}
	if err := e.r.Disposition(e.ctx, "spring", 999, "sale", ""); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("disposition of no attempt: %v", err)
	}
}

func TestNotRunning(t *testing.T) {
	r := New(Options{})
	if _, err := r.Stats(context.Background(), "x"); sb.ErrorCode(err) != sb.EUNAVAILABLE {
		t.Errorf("Stats before Run: %v", err)
	}
	if err := r.Run(context.Background()); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("Run without options: %v", err)
	}
}

// TestRunStopsItsGoroutines runs the real ticker loop, places calls, and
// checks that every goroutine is gone after shutdown.
func TestRunStopsItsGoroutines(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", 5, nil)
	e.agents.Set("sales", ready(2)...)
	base := runtime.NumGoroutine()
	dialed := make(chan struct{}, 10)
	e.placer.Err = func(Dial) error { dialed <- struct{}{}; return nil }
	r := New(Options{Store: e.db, Placer: e.placer, Agents: e.agents.Source, LiveChannels: e.live, Now: e.clock.Now, Tick: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-dialed
	<-dialed
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after shutdown, %d before", n, base)
	}
	if _, err := r.Stats(context.Background(), "spring"); sb.ErrorCode(err) != sb.EUNAVAILABLE {
		t.Errorf("Stats after Run: %v", err)
	}
}

// TestAdoptedDialWaitsForTheLoop: the center can meet a campaign call an
// earlier run placed before the runner's loop has started (both start
// together); its Dial is waited for, not refused as "not running".
func TestAdoptedDialWaitsForTheLoop(t *testing.T) {
	e := newEnv(t)
	e.campaign("spring", 1, nil)
	e.agents.Set("sales", ready(1)...)
	e.start()
	e.tick()
	d := e.placer.Dials()[0]
	e.report(Event{Attempt: d.Attempt, Kind: Answered, At: e.clock.Add(5 * time.Second)})
	e.stop()

	e.live = func(context.Context) ([]string, error) { return []string{string(d.Channel)}, nil }
	r := New(Options{Store: e.store, Placer: &fakePlacer{}, Agents: e.agents.Source, LiveChannels: e.live, Now: e.clock.Now})
	r.manual = true
	short, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.AdoptedDial(short, d.Attempt); err == nil || errors.Is(err, errNotRunning) || !errors.Is(err, context.Canceled) {
		t.Fatalf("AdoptedDial before Run with its context done: %v, want it to have waited for the loop until the context ended", err)
	}
	got := make(chan error, 1)
	var dial Dial
	go func() {
		var err error
		dial, err = r.AdoptedDial(context.Background(), d.Attempt)
		got <- err
	}()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { stop(); <-done }()
	if err := <-got; err != nil {
		t.Fatalf("AdoptedDial once the loop runs: %v", err)
	}
	if dial.Attempt != d.Attempt || dial.Lead.Number != d.Lead.Number || dial.Campaign != "spring" {
		t.Errorf("adopted dial = %+v, want attempt %d to %s", dial, d.Attempt, d.Lead.Number)
	}
}
