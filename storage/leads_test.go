package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/storage"
)

// dialNow is Tuesday 2026-03-10 11:00 in New York: inside the default
// calling window of every test lead (all in America/New_York).
var dialNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// testCampaign is a valid running campaign.
func testCampaign(name string) sb.Campaign {
	c := campaign.Default(name)
	c.CallerID = "+15555550100"
	c.State = sb.CampaignRunning
	return c
}

// seedLeads creates a running campaign with n leads +1212555NNNN.
// seedAndClaim seeds n leads in campaign name and claims them all.
func seedAndClaim(t testing.TB, db *storage.DB, name string, n int) []storage.Claim {
	t.Helper()
	seedLeads(t, db, name, n)
	cs, err := db.ClaimLeads(context.Background(), name, n, dialNow)
	if err != nil || len(cs) != n {
		t.Fatalf("claim %d: %v, %v", n, cs, err)
	}
	return cs
}

func seedLeads(t testing.TB, db *storage.DB, name string, n int) []string {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateCampaign(ctx, testCampaign(name), dialNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	var leads []sb.Lead
	var numbers []string
	for i := range n {
		num := fmt.Sprintf("+1212555%04d", i)
		numbers = append(numbers, num)
		leads = append(leads, sb.Lead{Campaign: name, Number: num, Region: "US", TimeZone: "America/New_York",
			Data: map[string]string{"row": fmt.Sprint(i)}})
	}
	got, err := db.UpsertLeads(ctx, leads, dialNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Imported != n || got.Merged != 0 {
		t.Fatalf("UpsertLeads = %+v, want %d imported", got, n)
	}
	return numbers
}

func TestCampaignStore(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	c := testCampaign("spring")
	c.State = sb.CampaignPaused
	c.Window = sb.CallingWindow{Start: 9 * 60, End: 20 * 60}
	if err := db.CreateCampaign(ctx, c, dialNow); err != nil {
		t.Fatal(err)
	}
	got, err := db.Campaign(ctx, "spring")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("Campaign = %+v, %v\nwant %+v", got, err, c)
	}
	if err := db.CreateCampaign(ctx, c, dialNow); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second create: %v, want conflict", err)
	}
	bad := c
	bad.Name, bad.RingTime, bad.CallerID = "autumn", time.Second, ""
	if err := db.CreateCampaign(ctx, bad, dialNow); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("invalid create: %v, want invalid", err)
	}
	if _, err := db.Campaign(ctx, "autumn"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("missing campaign: %v, want not found", err)
	}
	for _, s := range []sb.CampaignState{sb.CampaignRunning, sb.CampaignPaused, sb.CampaignStopped} {
		if err := db.SetCampaignState(ctx, "spring", s, dialNow); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Campaign(ctx, "spring"); got.State != s {
			t.Errorf("state %s, want %s", got.State, s)
		}
	}
	if err := db.SetCampaignState(ctx, "spring", sb.CampaignRunning, dialNow); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("restart a stopped campaign: %v, want conflict", err)
	}
	all, err := db.Campaigns(ctx)
	if err != nil || len(all) != 1 || all[0].Name != "spring" {
		t.Errorf("Campaigns = %v, %v", all, err)
	}
}

func TestUpsertLeadsMerges(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seedLeads(t, db, "spring", 2)
	got, err := db.UpsertLeads(ctx, []sb.Lead{
		{Campaign: "spring", Number: "+12125550000", TimeZone: "America/Chicago", Data: map[string]string{"row": "again", "plan": "gold"}},
		{Campaign: "spring", Number: "+12125559999", TimeZone: "America/New_York"},
		{Campaign: "spring", Number: "+12125559999", TimeZone: "America/New_York", Data: map[string]string{"note": "dup in batch"}},
	}, dialNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.ImportCounts{Imported: 1, Merged: 2}); got != want {
		t.Errorf("UpsertLeads = %+v, want %+v", got, want)
	}
	l, err := db.Lead(ctx, "spring", "+12125550000")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"row": "again", "plan": "gold"}; !reflect.DeepEqual(l.Data, want) || l.TimeZone != "America/New_York" {
		t.Errorf("merged lead = %+v, want data %v and the first zone", l, want)
	}
	if l, _ := db.Lead(ctx, "spring", "+12125559999"); l.Data["note"] != "dup in batch" {
		t.Errorf("lead merged within the batch = %+v", l)
	}
	if _, err := db.UpsertLeads(ctx, []sb.Lead{{Campaign: "nope", Number: "+12125550000", TimeZone: "UTC"}}, dialNow); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("unknown campaign: %v, want not found", err)
	}
	counts, err := db.LeadCounts(ctx, "spring")
	if err != nil || counts[sb.LeadNew] != 3 {
		t.Errorf("LeadCounts = %v, %v", counts, err)
	}
}

// TestClaimExclusive runs 10 claimers on two handles of one file (as two
// dialer processes would) until the campaign is exhausted: every lead is
// claimed exactly once.
func TestClaimExclusive(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	numbers := seedLeads(t, db, "spring", 150)
	db2, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()

	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for g := range 10 {
		h := db
		if g%2 == 1 {
			h = db2
		}
		wg.Go(func() {
			for {
				cs, err := h.ClaimLeads(ctx, "spring", 3, dialNow)
				if err != nil {
					errs <- err
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					claimed[c.Lead.Number]++
					if c.Attempt.AttemptNo != 1 || c.Lead.State != sb.LeadDialing || c.Lead.Attempts != 1 {
						errs <- fmt.Errorf("claim %+v", c)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claimed) != len(numbers) {
		t.Errorf("%d leads claimed, want %d", len(claimed), len(numbers))
	}
	for num, n := range claimed {
		if n != 1 {
			t.Errorf("lead %s claimed %d times", num, n)
		}
	}
}

func TestClaimRules(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seedLeads(t, db, "spring", 3)
	// Put one number on the DNC list after the import: it is not claimed.
	if added, err := db.AddDNC(ctx, "+12125550001", "internal", dialNow); err != nil || !added {
		t.Fatalf("AddDNC = %v, %v", added, err)
	}
	if added, err := db.AddDNC(ctx, "+12125550001", "national", dialNow); err != nil || added {
		t.Fatalf("AddDNC again = %v, %v", added, err)
	}
	if e, ok, err := db.DNC(ctx, "+12125550001"); err != nil || !ok || e.Source != "internal" || !e.AddedAt.Equal(dialNow) {
		t.Errorf("DNC = %+v, %v, %v", e, ok, err)
	}
	// Outside the window (06:00 in New York): nothing.
	if cs, err := db.ClaimLeads(ctx, "spring", 10, dialNow.Add(-5*time.Hour)); err != nil || len(cs) != 0 {
		t.Errorf("claim at 06:00 local = %v, %v", cs, err)
	}
	// Paused: nothing.
	if err := db.SetCampaignState(ctx, "spring", sb.CampaignPaused, dialNow); err != nil {
		t.Fatal(err)
	}
	if cs, err := db.ClaimLeads(ctx, "spring", 10, dialNow); err != nil || len(cs) != 0 {
		t.Errorf("claim while paused = %v, %v", cs, err)
	}
	if err := db.SetCampaignState(ctx, "spring", sb.CampaignRunning, dialNow); err != nil {
		t.Fatal(err)
	}
	cs, err := db.ClaimLeads(ctx, "spring", 10, dialNow)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Lead.Number)
	}
	if want := []string{"+12125550000", "+12125550002"}; !reflect.DeepEqual(got, want) {
		t.Errorf("claimed %v, want %v (not the DNC number)", got, want)
	}
	if l, _ := db.Lead(ctx, "spring", "+12125550001"); l.State != sb.LeadNew {
		t.Errorf("DNC lead state %s, want new", l.State)
	}
}

func TestRetryScheduling(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	cs := seedAndClaim(t, db, "spring", 3)
	busy, dnc, abandoned := cs[0], cs[1], cs[2]
	for _, c := range cs {
		if err := db.MarkDialing(ctx, c.Attempt.ID, fmt.Sprintf("ch-%d", c.Attempt.ID)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.MarkDialing(ctx, busy.Attempt.ID, "again"); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("MarkDialing twice: %v, want conflict", err)
	}
	end := dialNow.Add(30 * time.Second)
	l, err := db.FinishAttempt(ctx, busy.Attempt.ID, sb.DialBusy, end)
	if err != nil {
		t.Fatal(err)
	}
	if l.State != sb.LeadRetry || !l.NextAt.Equal(end.Add(10*time.Minute)) || l.LastOutcome != sb.DialBusy {
		t.Errorf("after busy: %+v", l)
	}
	if _, err := db.FinishAttempt(ctx, busy.Attempt.ID, sb.DialAnswered, end); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("finish twice: %v, want conflict", err)
	}
	if _, err := db.FinishAttempt(ctx, 9999, sb.DialAnswered, end); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("finish unknown: %v, want not found", err)
	}
	if l, err := db.FinishAttempt(ctx, dnc.Attempt.ID, sb.DialDNC, end); err != nil || l.State != sb.LeadDNC {
		t.Errorf("after dnc: %+v, %v", l, err)
	}
	if e, ok, _ := db.DNC(ctx, dnc.Lead.Number); !ok || e.Source != "disposition" {
		t.Errorf("dnc disposition entry = %+v, %v", e, ok)
	}
	if err := db.MarkAnswered(ctx, abandoned.Attempt.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := db.FinishAttempt(ctx, abandoned.Attempt.ID, sb.DialAbandoned, end); err != nil || !l.AbandonedAt.Equal(end) {
		t.Errorf("after abandoned: %+v, %v", l, err)
	}

	// Five minutes on: the busy lead's delay is not over.
	if cs, _ := db.ClaimLeads(ctx, "spring", 10, end.Add(5*time.Minute)); len(cs) != 0 {
		t.Errorf("claimed %d leads before their retry delay", len(cs))
	}
	cs, err = db.ClaimLeads(ctx, "spring", 10, end.Add(10*time.Minute))
	if err != nil || len(cs) != 1 || cs[0].Lead.Number != busy.Lead.Number || cs[0].Attempt.AttemptNo != 2 || cs[0].Lead.Attempts != 2 {
		t.Fatalf("claim after the busy delay = %+v, %v", cs, err)
	}
	// 72 hours after the abandon (and within a Friday window): claimable.
	if cs, _ := db.ClaimLeads(ctx, "spring", 10, end.Add(71*time.Hour)); len(cs) != 0 {
		t.Errorf("abandoned lead claimed within 72 h: %+v", cs)
	}
	if cs, _ := db.ClaimLeads(ctx, "spring", 10, end.Add(72*time.Hour)); len(cs) != 1 || cs[0].Lead.Number != abandoned.Lead.Number {
		t.Errorf("abandoned lead after 72 h: %+v", cs)
	}
	as, err := db.Attempts(ctx, busy.Lead.ID)
	if err != nil || len(as) != 2 || as[0].Outcome != sb.DialBusy || as[0].ChannelID == "" || as[1].State != storage.AttemptClaimed {
		t.Errorf("attempts = %+v, %v", as, err)
	}
}

// TestMaxAttempts: a lead that used its attempts fails, and is not claimed.
func TestMaxAttempts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	c := testCampaign("short")
	c.MaxAttempts = 2
	if err := db.CreateCampaign(ctx, c, dialNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertLeads(ctx, []sb.Lead{{Campaign: "short", Number: "+12125550000", TimeZone: "America/New_York"}}, dialNow); err != nil {
		t.Fatal(err)
	}
	at := dialNow
	for i := range 2 {
		cs, err := db.ClaimLeads(ctx, "short", 1, at)
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim %d = %v, %v", i, cs, err)
		}
		l, err := db.FinishAttempt(ctx, cs[0].Attempt.ID, sb.DialNoAnswer, at)
		if err != nil {
			t.Fatal(err)
		}
		want := sb.LeadRetry
		if i == 1 {
			want = sb.LeadFailed
		}
		if l.State != want {
			t.Errorf("after attempt %d: %s, want %s", i+1, l.State, want)
		}
		at = at.Add(2 * time.Hour)
	}
	if cs, _ := db.ClaimLeads(ctx, "short", 1, at.Add(24*time.Hour)); len(cs) != 0 {
		t.Errorf("failed lead claimed: %+v", cs)
	}
}

// crashEnv names the database of the child process of TestKillDuringCampaign.
const crashEnv = "SWITCHBOARD_TEST_CLAIM_AND_DIE"

// TestClaimAndDie is the dialer that dies, run as a child process by
// TestKillDuringCampaign (skipped otherwise): it claims leads, marks some
// dialing and kills itself with SIGKILL.
func TestClaimAndDie(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestKillDuringCampaign")
	}
	claimAndDie(path)
}

func claimAndDie(path string) {
	ctx := context.Background()
	db, err := storage.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	cs, err := db.ClaimLeads(ctx, "spring", 6, dialNow)
	if err != nil || len(cs) != 6 {
		fmt.Fprintln(os.Stderr, "claim:", cs, err)
		os.Exit(3)
	}
	// Four are originated (channel recorded first), two never were; of the
	// four, chan-2 reached a person and chan-3 an agent.
	for i, c := range cs[:4] {
		if err := db.MarkDialing(ctx, c.Attempt.ID, fmt.Sprintf("chan-%d", i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	for _, c := range cs[2:4] {
		if err := db.MarkAnswered(ctx, c.Attempt.ID); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	if err := db.MarkConnected(ctx, cs[3].Attempt.ID, "1001", dialNow); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestKillDuringCampaign kills a dialer process with SIGKILL in the
// middle of its attempts, restarts on the same database and reconciles
// with the PBX's live channels: no lead is stuck in dialing, none is
// dialed twice for the same attempt, and the call still up is left alone.
func TestKillDuringCampaign(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	db, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	numbers := seedLeads(t, db, "spring", 8)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestClaimAndDie$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v\n%s", err, out)
	}

	db, err = storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	restart := dialNow.Add(time.Minute)
	// chan-0 is still up on the PBX; chan-1 (dialing), chan-2 (a person
	// answered) and chan-3 (put through to an agent) are gone; two
	// attempts were claimed, never originated.
	rec, err := db.ReconcileDialing(ctx, []string{"chan-0", "chan-unrelated"}, nil, "", restart)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Live != 1 || len(rec.Failed) != 3 || len(rec.Returned) != 2 || rec.Orphans != 0 {
		t.Errorf("Reconciled = live %d, closed %d, returned %d, orphans %d; want 1, 3, 2, 0", rec.Live, len(rec.Failed), len(rec.Returned), rec.Orphans)
	}
	// Each is closed by what it reached: ringing → no answer, a person →
	// abandoned, an agent → answered (done, never dialed again).
	want := map[string]sb.DialOutcome{"chan-1": sb.DialNoAnswer, "chan-2": sb.DialAbandoned, "chan-3": sb.DialAnswered}
	for _, a := range rec.Failed {
		if a.Outcome != want[a.ChannelID] {
			t.Errorf("%s closed %s, want %s", a.ChannelID, a.Outcome, want[a.ChannelID])
		}
	}
	camp, err := db.Campaign(ctx, "spring")
	if err != nil {
		t.Fatal(err)
	}
	states := map[sb.LeadState]int{}
	for _, num := range numbers {
		l, err := db.Lead(ctx, "spring", num)
		if err != nil {
			t.Fatal(err)
		}
		states[l.State]++
		if l.State == sb.LeadRetry && !l.NextAt.Equal(restart.Add(camp.RetryDelays[l.LastOutcome])) {
			t.Errorf("%s: %s attempt retried at %v, want after its delay %v", num, l.LastOutcome, l.NextAt, camp.RetryDelays[l.LastOutcome])
		}
	}
	// 1 still dialing (live), 2 retry (no answer, abandoned), 1 done (the
	// conversation), 2+2 new (never claimed, or given back).
	if want := map[sb.LeadState]int{sb.LeadDialing: 1, sb.LeadRetry: 2, sb.LeadDone: 1, sb.LeadNew: 4}; !reflect.DeepEqual(states, want) {
		t.Errorf("lead states after reconcile = %v, want %v", states, want)
	}
	// Reconciling again changes nothing.
	if again, err := db.ReconcileDialing(ctx, []string{"chan-0"}, nil, "", restart); err != nil || again.Live != 1 || len(again.Failed)+len(again.Returned) != 0 {
		t.Errorf("second reconcile = %+v, %v", again, err)
	}

	// The dialer resumes: it claims every dialable lead, never the live one.
	cs, err := db.ClaimLeads(ctx, "spring", 100, restart)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 4 {
		t.Errorf("claimed %d after the restart, want 4", len(cs))
	}
	for _, c := range cs {
		as, _ := db.Attempts(ctx, c.Lead.ID)
		var open int
		nos := map[int]bool{}
		for _, a := range as {
			if nos[a.AttemptNo] {
				t.Errorf("lead %s: attempt %d twice", c.Lead.Number, a.AttemptNo)
			}
			nos[a.AttemptNo] = true
			if a.State != storage.AttemptDone {
				open++
			}
		}
		if open != 1 {
			t.Errorf("lead %s has %d open attempts: %+v", c.Lead.Number, open, as)
		}
		if c.Lead.Attempts != 1 {
			t.Errorf("lead %s: attempts %d after a given-back claim, want 1", c.Lead.Number, c.Lead.Attempts)
		}
	}
	if slices.ContainsFunc(cs, func(c storage.Claim) bool { return c.Attempt.AttemptNo > 2 }) {
		t.Errorf("attempt numbers skipped: %+v", cs)
	}
}

// TestReturnAndCloseUnplaced: an attempt claimed and never originated goes
// back (not counted, due at once) or, for a do-not-call number, closes the
// lead as dnc; an attempt that may have rung cannot be given back.
func TestReturnAndCloseUnplaced(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	cs := seedAndClaim(t, db, "spring", 3)
	later := dialNow.Add(time.Minute)

	l, err := db.ReturnAttempt(ctx, cs[0].Attempt.ID, later)
	if err != nil {
		t.Fatal(err)
	}
	if l.State != sb.LeadNew || l.Attempts != 0 || !l.NextAt.Equal(later) {
		t.Errorf("returned lead = %+v, want new, 0 attempts, due %s", l, later)
	}
	if _, err := db.ReturnAttempt(ctx, cs[0].Attempt.ID, later); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second return: %v, want conflict", err)
	}

	l, err = db.CloseAttemptDNC(ctx, cs[1].Attempt.ID, later)
	if err != nil {
		t.Fatal(err)
	}
	if l.State != sb.LeadDNC || l.Attempts != 0 || l.LastOutcome != sb.DialDNC {
		t.Errorf("dnc lead = %+v", l)
	}

	if err := db.MarkDialing(ctx, cs[2].Attempt.ID, "ob-x"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReturnAttempt(ctx, cs[2].Attempt.ID, later); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("return of a dialed attempt: %v, want conflict", err)
	}
	if _, err := db.ReturnAttempt(ctx, 999, later); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("return of no attempt: %v, want not found", err)
	}
	open, err := db.OpenAttempts(ctx)
	if err != nil || len(open) != 1 || open[0].ID != cs[2].Attempt.ID || open[0].State != storage.AttemptDialing {
		t.Errorf("OpenAttempts = %+v, %v", open, err)
	}
	// The returned lead is claimed again at once, as attempt 1 of a new row.
	again, err := db.ClaimLeads(ctx, "spring", 3, later)
	if err != nil || len(again) != 1 || again[0].Lead.Number != cs[0].Lead.Number || again[0].Lead.Attempts != 1 {
		t.Errorf("claim after return = %+v, %v", again, err)
	}
}

func TestDisposition(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	cs := seedAndClaim(t, db, "spring", 3)
	for _, c := range cs[:2] {
		if err := db.MarkDialing(ctx, c.Attempt.ID, fmt.Sprint("ob-", c.Attempt.ID)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkAnswered(ctx, c.Attempt.ID); err != nil {
			t.Fatal(err)
		}
	}
	end := dialNow.Add(3 * time.Minute)

	// After the call: the lead, done, becomes dnc at once.
	if _, err := db.FinishAttempt(ctx, cs[0].Attempt.ID, sb.DialAnswered, end); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetDisposition(ctx, cs[0].Attempt.ID, "sale", end); err != nil {
		t.Fatal(err)
	}
	l, err := db.SetDisposition(ctx, cs[0].Attempt.ID, storage.DispositionDNC, end.Add(time.Second))
	if err != nil || l.State != sb.LeadDNC {
		t.Errorf("dnc after the call: %+v, %v", l, err)
	}
	if e, ok, err := db.DNC(ctx, cs[0].Lead.Number); err != nil || !ok || e.Source != "agent" {
		t.Errorf("DNC entry = %+v, %v, %v; want source agent", e, ok, err)
	}
	a, err := db.Attempt(ctx, cs[0].Attempt.ID)
	if err != nil || a.Disposition != storage.DispositionDNC || a.Outcome != sb.DialAnswered {
		t.Errorf("attempt = %+v, %v", a, err)
	}

	// During the call: the lead closes as dnc when the attempt ends, and the
	// attempt keeps its outcome (it counts as a live answer).
	if l, err := db.SetDisposition(ctx, cs[1].Attempt.ID, storage.DispositionDNC, end); err != nil || l.State != sb.LeadDialing {
		t.Errorf("dnc during the call: %+v, %v", l, err)
	}
	if l, err := db.FinishAttempt(ctx, cs[1].Attempt.ID, sb.DialAnswered, end); err != nil || l.State != sb.LeadDNC {
		t.Errorf("finish after dnc: %+v, %v", l, err)
	}

	for _, c := range []struct {
		id   int64
		disp string
		code string
	}{
		{cs[2].Attempt.ID, "sale", sb.ECONFLICT}, // only claimed
		{999, "sale", sb.ENOTFOUND},
		{cs[0].Attempt.ID, "", sb.EINVALID},
		{cs[0].Attempt.ID, string(make([]byte, storage.MaxDispositionLen+1)), sb.EINVALID},
	} {
		if _, err := db.SetDisposition(ctx, c.id, c.disp, end); sb.ErrorCode(err) != c.code {
			t.Errorf("SetDisposition(%d, %q) = %v, want %s", c.id, c.disp, err, c.code)
		}
	}

	live, err := db.LiveAnswers(ctx, "spring", dialNow)
	if err != nil || len(live) != 2 || live[0].Abandoned || !live[0].At.Equal(end) {
		t.Errorf("LiveAnswers = %+v, %v", live, err)
	}
}

func TestLiveAnswers(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	cs := seedAndClaim(t, db, "spring", 4)
	outcomes := []sb.DialOutcome{sb.DialAnswered, sb.DialAbandoned, sb.DialBusy, sb.DialAbandoned}
	for i, c := range cs {
		if err := db.MarkDialing(ctx, c.Attempt.ID, fmt.Sprint("ob-", c.Attempt.ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FinishAttempt(ctx, c.Attempt.ID, outcomes[i], dialNow.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.LiveAnswers(ctx, "spring", dialNow.Add(time.Minute))
	want := []storage.LiveAnswer{{At: dialNow.Add(time.Hour), Abandoned: true}, {At: dialNow.Add(3 * time.Hour), Abandoned: true}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LiveAnswers = %+v, %v; want %+v", got, err, want)
	}
	if got, err := db.LiveAnswers(ctx, "autumn", dialNow); err != nil || len(got) != 0 {
		t.Errorf("other campaign: %+v, %v", got, err)
	}
}

// TestReconcileUnattended: attempts whose call the dialplan recorded as
// answered while no Switchboard was connected close as abandoned (the
// lead quarantined, a call-log row in the campaign's queue) or machine
// (no row), in the reconcile or later with CloseUnattended, once only; an
// attempt put through to an agent stays answered.
func TestReconcileUnattended(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seedLeads(t, db, "spring", 4)
	cs, err := db.ClaimLeads(ctx, "spring", 4, dialNow)
	if err != nil || len(cs) != 4 {
		t.Fatalf("claim: %d, %v", len(cs), err)
	}
	for i, c := range cs {
		if err := db.MarkDialing(ctx, c.Attempt.ID, fmt.Sprintf("ob-%d", c.Attempt.ID)); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := db.MarkConnected(ctx, c.Attempt.ID, "2000", dialNow.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	hungUp := dialNow.Add(20 * time.Second)
	restart := dialNow.Add(time.Minute)
	un := map[int64]sb.Unattended{
		cs[0].Attempt.ID: {At: hungUp},                // a person
		cs[1].Attempt.ID: {At: hungUp, Machine: true}, // a machine
		cs[2].Attempt.ID: {At: hungUp},                // talked to an agent first
	}
	rec, err := db.ReconcileDialing(ctx, []string{fmt.Sprintf("ob-%d", cs[3].Attempt.ID)}, un, "pbx-1", restart)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]sb.DialOutcome{}
	for _, a := range append(rec.Unattended, rec.Failed...) {
		got[a.ID] = a.Outcome
	}
	want := map[int64]sb.DialOutcome{cs[0].Attempt.ID: sb.DialAbandoned, cs[1].Attempt.ID: sb.DialMachine,
		cs[2].Attempt.ID: sb.DialAnswered}
	if !reflect.DeepEqual(got, want) || rec.Live != 1 || len(rec.Unattended) != 2 {
		t.Errorf("reconciled %v (live %d, unattended %d), want %v, live 1, unattended 2", got, rec.Live, len(rec.Unattended), want)
	}
	l, err := db.Lead(ctx, "spring", cs[0].Lead.Number)
	if err != nil {
		t.Fatal(err)
	}
	if !l.AbandonedAt.Equal(restart) {
		t.Errorf("abandoned lead %+v: want AbandonedAt %v (72-hour quiet period)", l, restart)
	}
	rows, _, err := db.ListCDR(ctx, sb.CDRFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("call log = %+v, want one row (the person)", rows)
	}
	r := rows[0]
	if string(r.CallID) != cs[0].Attempt.ChannelID && string(r.CallID) != fmt.Sprintf("ob-%d", cs[0].Attempt.ID) ||
		r.Outcome != sb.OutcomeAbandoned || r.Node != "pbx-1" || r.Caller != cs[0].Lead.Number ||
		r.Called != "campaign:spring" || r.Queue != sb.QueueName(testCampaign("spring").Queue) || !r.Ended.Equal(hungUp) || r.HangupBy != "system" {
		t.Errorf("row %+v", r)
	}
	// The live call ends later, recorded the same way: closed once.
	live := cs[3].Attempt.ID
	if o, err := db.CloseUnattended(ctx, live, sb.Unattended{At: restart}, "pbx-1", restart); err != nil || o != sb.DialAbandoned {
		t.Fatalf("CloseUnattended = %s, %v", o, err)
	}
	if _, err := db.CloseUnattended(ctx, live, sb.Unattended{At: restart}, "pbx-1", restart); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second CloseUnattended: %v, want ECONFLICT", err)
	}
	if n, _ := db.CountCDR(ctx); n != 2 {
		t.Errorf("%d call-log rows, want 2", n)
	}
}
