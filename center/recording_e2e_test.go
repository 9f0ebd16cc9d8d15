package center_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/recording/files"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

type recRig struct {
	*e2e
	db    *storage.DB
	store *files.Store
	dir   string
	p     recording.Policies
	logTo io.Writer // the center's log goes here too (nil: the test's only)
	// engine is the routing engine of every center the rig starts
	// ("basic" or "router", useEngine).
	engine string
	// sweep is the recording sweep interval (0: the default).
	sweep time.Duration
}

// startRecording runs sim + adapter + center with recording policies, the
// metadata in SQLite and files fetched into a temporary folder.
func startRecording(t *testing.T, p recording.Policies, phones map[string]sim.Party) *recRig {
	t.Helper()
	return startRecordingLog(t, p, phones, nil)
}

// startRecordingLog is startRecording whose center also logs to logTo.
func startRecordingLog(t *testing.T, p recording.Policies, phones map[string]sim.Party, logTo io.Writer) *recRig {
	t.Helper()
	return startRecordingOn(t, "basic", p, phones, logTo)
}

// startRecordingOn is startRecordingLog on the routing engine named.
func startRecordingOn(t *testing.T, engine string, p recording.Policies, phones map[string]sim.Party, logTo io.Writer) *recRig {
	t.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
	cfg := baseConfig()
	for res, party := range phones {
		s.AddEndpoint("PJSIP", res, party)
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
	}
	serve(t, s)
	dir := t.TempDir()
	db, err := storage.Open(context.Background(), filepath.Join(dir, "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &recRig{db: db, dir: dir, p: p, logTo: logTo, engine: engine}
	r.e2e = r.attach(t, s, cfg)
	return r
}

// attach starts a center (the first, or the next after a restart) on the
// rig's simulator, database and recordings folder.
func (r *recRig) attach(t *testing.T, s *sim.Server, cfg center.Config) *e2e {
	t.Helper()
	return attachDB(t, s, simLink(s), r.logTo, cfg, func(o *center.Options, pbx *ari.Adapter) {
		useEngine(t, r.engine, o)
		store, err := files.Open(files.Config{Dir: filepath.Join(r.dir, "recordings"), DeleteFromPBX: true}, pbx, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.store = store
		o.Recording = center.RecordingOptions{Policies: r.p, Repo: r.db, SweepInterval: r.sweep, Fetch: func(ctx context.Context, rec *recording.Recording) error {
			f, err := store.Fetch(ctx, rec.Name)
			if err != nil {
				return err
			}
			f.Apply(rec, rec.Ended.Time)
			return nil
		}}
	}, r.db)
}

// settledOn is settled for a restarted center's run (the rows are in the
// same database).
func (r *recRig) settledOn(t *testing.T, _ *e2e, call string, n int) []recording.Recording {
	t.Helper()
	return r.settled(t, call, n)
}

// settled waits until n recordings of the call are no longer recording.
func (r *recRig) settled(t *testing.T, call string, n int) []recording.Recording {
	t.Helper()
	var rows []recording.Recording
	waitUntil(t, "recordings settled", func() bool {
		all, _, err := r.db.ListRecordings(context.Background(), recording.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		rows = rows[:0]
		done := 0
		for _, rec := range all {
			if rec.CallID == sb.CallID(call) {
				rows = append(rows, rec)
				if rec.State != recording.StateRecording {
					done++
				}
			}
		}
		return len(rows) == n && done == n
	})
	return rows
}

func TestRecordingFollowsTheBridge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways, PerLeg: true}},
			map[string]sim.Party{"1001": {Rings: 1}})
		id := r.call(t, "+15552220001", sim.Party{Talk: 20 * time.Second}) // the caller hangs up mid-recording
		if row := r.cdr.wait(t, id); row.Outcome != sb.OutcomeCompleted {
			t.Fatalf("cdr = %+v", row)
		}
		rows := r.settled(t, id, 3) // mixed, caller leg, agent leg
		legs := map[recording.Leg]bool{}
		for _, rec := range rows {
			legs[rec.Leg] = true
			if rec.State != recording.StateStored || rec.Agent != "1001" || rec.Caller != "+15552220001" || !rec.Ended.Valid {
				t.Errorf("recording %+v", rec)
			}
			if rec.Duration < 15*time.Second || rec.Duration > 25*time.Second {
				t.Errorf("%s lasts %v, want about the 20 s talk", rec.Name, rec.Duration)
			}
			if err := r.store.Verify(rec); err != nil {
				t.Errorf("%s does not verify: %v", rec.Name, err)
			}
			if _, left := r.sim.StoredRecordings()[rec.Name]; left {
				t.Errorf("%s is still on the PBX after a verified fetch", rec.Name)
			}
		}
		if len(legs) != 3 {
			t.Errorf("legs = %v", legs)
		}
		r.noChannelsLeft(t)
	})
}

func TestRecordingPolicies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{
			Default: recording.Policy{Mode: recording.ModeNever},
			Queues:  map[sb.QueueName]recording.Policy{"vip": {Mode: recording.ModeAlways}},
		}, map[string]sim.Party{"1001": {Rings: 1, Talk: 5 * time.Second}})
		id := r.call(t, "+15552220002", sim.Party{})
		r.cdr.wait(t, id)
		r.noChannelsLeft(t)
		if all, total, _ := r.db.ListRecordings(context.Background(), recording.Filter{Limit: 10}); total != 0 {
			t.Fatalf("policy never recorded %+v", all)
		}
		for _, pct := range []float64{0, 100} {
			p := recording.Policy{Mode: recording.ModeSampled, Percent: pct}
			if got, want := recording.Decide(p, "any-call"), pct == 100; got != want {
				t.Errorf("sampled %v%%: decide %v", pct, got)
			}
		}
	})
}

func TestRecordingFailureDoesNotEndTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}},
			map[string]sim.Party{"1001": {Rings: 1}})
		id := r.call(t, "+15552220003", sim.Party{})
		var name string
		waitUntil(t, "recording started", func() bool {
			for n := range r.sim.LiveRecordingNames() {
				name = n
				return true
			}
			return false
		})
		if err := r.sim.FailRecording(name); err != nil {
			t.Fatal(err)
		}
		rows := r.settled(t, id, 1)
		if rows[0].State != recording.StateFailed || rows[0].Error == "" {
			t.Fatalf("recording = %+v", rows[0])
		}
		if calls := r.c.LiveCalls(); len(calls) != 1 || calls[0].State != sb.CallBridged {
			t.Fatalf("the call did not go on: %+v", calls)
		}
		if err := r.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		if row := r.cdr.wait(t, id); row.Outcome != sb.OutcomeCompleted {
			t.Fatalf("cdr = %+v", row)
		}
	})
}

func TestRecordingPauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}},
			map[string]sim.Party{"1001": {Rings: 1}})
		id := r.call(t, "+15552220004", sim.Party{})
		waitUntil(t, "recording started", func() bool { return len(r.sim.LiveRecordingNames()) == 1 })
		ctx := context.Background()
		if err := r.c.Resume(ctx, sb.CallID(id)); sb.ErrorCode(err) != sb.ECONFLICT {
			t.Errorf("resume while not paused: %v, want conflict", err)
		}
		if err := r.c.Pause(ctx, sb.CallID(id)); err != nil {
			t.Fatal(err)
		}
		if err := r.c.Pause(ctx, sb.CallID(id)); sb.ErrorCode(err) != sb.ECONFLICT {
			t.Errorf("second pause: %v, want conflict", err)
		}
		if err := r.c.Resume(ctx, sb.CallID(id)); err != nil {
			t.Fatal(err)
		}
		if err := r.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		rows := r.settled(t, id, 1)
		if len(rows[0].Pauses) != 1 || rows[0].Pauses[0].End.IsZero() || rows[0].State != recording.StateStored {
			t.Fatalf("recording = %+v", rows[0])
		}
		if err := r.c.Pause(ctx, "no-such-call"); sb.ErrorCode(err) != sb.ENOTFOUND {
			t.Errorf("pause of an unknown call: %v", err)
		}
	})
}

// TestRecordingOnDemandByAgentKeys: with the on-demand policy nothing is
// recorded until the agent presses *3; *1 and *2 pause and resume, *4
// stops; the file is stored with its pause.
func TestRecordingOnDemandByAgentKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeOnDemand}},
			map[string]sim.Party{"1001": {Rings: 1}})
		id := r.call(t, "+15552220005", sim.Party{})
		call := bridgedCall(t, r.e2e)
		if n := len(r.sim.LiveRecordingNames()); n != 0 {
			t.Fatalf("on-demand recorded at once: %d", n)
		}
		press := func(keys string) {
			t.Helper()
			if err := r.sim.SendDTMF(string(call.AgentChannel), keys); err != nil {
				t.Fatal(err)
			}
		}
		press("*3")
		waitUntil(t, "recording started", func() bool { return len(r.sim.LiveRecordingNames()) == 1 })
		press("*1")
		waitUntil(t, "paused", func() bool {
			for _, st := range r.sim.LiveRecordingNames() {
				return st == "paused"
			}
			return false
		})
		press("*2")
		waitUntil(t, "resumed", func() bool {
			for _, st := range r.sim.LiveRecordingNames() {
				return st == "recording"
			}
			return false
		})
		press("*4")
		rows := r.settled(t, id, 1)
		if rows[0].State != recording.StateStored || len(rows[0].Pauses) != 1 {
			t.Fatalf("recording = %+v", rows[0])
		}
		if calls := r.c.LiveCalls(); len(calls) != 1 {
			t.Fatal("stopping the recording ended the call")
		}
		if err := r.c.StopRecording(context.Background(), call.ID); sb.ErrorCode(err) != sb.ECONFLICT {
			t.Errorf("stop when not recording: %v", err)
		}
		if err := r.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		r.cdr.wait(t, id)
	})
}

// TestRecordingAlwaysAgentKeysRefused: under an always policy the agent's
// *4 (stop) and *1 (pause) are refused: the recording goes on, unpaused,
// and is stored whole when the call ends.
func TestRecordingAlwaysAgentKeysRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedLog
		r := startRecordingLog(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}},
			map[string]sim.Party{"1001": {Rings: 1}}, &log)
		id := r.call(t, "+15552220007", sim.Party{})
		call := bridgedCall(t, r.e2e)
		waitUntil(t, "recording started", func() bool { return len(r.sim.LiveRecordingNames()) == 1 })
		for i, keys := range []string{"*4", "*1"} {
			if err := r.sim.SendDTMF(string(call.AgentChannel), keys); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, keys+" refused", func() bool {
				return strings.Count(log.String(), "does not let the agent stop or pause it") == i+1
			}, log.String)
			for name, st := range r.sim.LiveRecordingNames() {
				if st != "recording" {
					t.Fatalf("after %s recording %s is %s, want recording", keys, name, st)
				}
			}
		}
		if err := r.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		rows := r.settled(t, id, 1)
		if rows[0].State != recording.StateStored || len(rows[0].Pauses) != 0 {
			t.Fatalf("recording = %+v, want stored without pauses", rows[0])
		}
	})
}

// lockedLog is a log sink safe for the center's goroutines and the test.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRecordingNeverCannotBeStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeNever}},
			map[string]sim.Party{"1001": {Rings: 1}})
		r.call(t, "+15552220006", sim.Party{})
		call := bridgedCall(t, r.e2e)
		if err := r.c.StartRecording(context.Background(), call.ID); sb.ErrorCode(err) != sb.EFORBIDDEN {
			t.Fatalf("start under never: %v, want forbidden", err)
		}
	})
}

// TestRecordingsSurviveARestart: a recorded call talks across a restart of
// Switchboard and ends after it: its recording is taken up again and
// stored. Another ends while Switchboard is down (its bridge stays
// recording with the agent's leg alone in it): the next start stops the recording, stores it and
// deletes the bridge. No row is left recording, no bridge recording.
func TestRecordingsSurviveARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}}
		r := startRecording(t, p, map[string]sim.Party{"1001": {Rings: 1}, "1002": {Rings: 1}})
		across := r.call(t, "+15551230030", sim.Party{})
		down := r.call(t, "+15551230031", sim.Party{})
		waitUntil(t, "both recording", func() bool {
			return len(r.sim.LiveRecordingNames()) == 2
		})
		r.waitCard(t, across)
		r.stop()
		if err := r.sim.Hangup(down, 16); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the call that ended is gone", func() bool {
			for _, ch := range r.sim.Channels() {
				if ch.ID == down {
					return false
				}
			}
			return true
		})
		b := r.attach(t, r.sim, r.cfg)
		if err := r.sim.Hangup(across, 16); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{across, down} {
			for _, rec := range r.settledOn(t, b, id, 1) {
				if rec.State != recording.StateStored || rec.SHA256 == "" {
					t.Errorf("%s: recording %+v, want stored and verified", id, rec)
				}
			}
		}
		b.noChannelsLeft(t)
		if live := r.sim.LiveRecordingNames(); len(live) != 0 {
			t.Errorf("recordings still live in the PBX: %v", live)
		}
	})
}

// TestRecordingStartsOnAnAdoptedCallThatHadNone: a call adopted talking
// after a restart with no recording of its own (the crash came between
// its bridge and the recording's start; here the first run's policy
// recorded nothing) is recorded from the adoption on, as its policy says.
func TestRecordingStartsOnAnAdoptedCallThatHadNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeNever}}, map[string]sim.Party{"1001": {Rings: 1}})
		id := r.call(t, "+15551230032", sim.Party{})
		r.waitCard(t, id)
		if live := r.sim.LiveRecordingNames(); len(live) != 0 {
			t.Fatalf("recording under never: %v", live)
		}
		r.stop()
		r.p = recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}}
		b := r.attach(t, r.sim, r.cfg)
		waitUntil(t, "the adopted call recorded", func() bool { return len(r.sim.LiveRecordingNames()) == 1 })
		if err := r.sim.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.settledOn(t, b, id, 1) {
			if rec.State != recording.StateStored {
				t.Errorf("recording %+v, want stored", rec)
			}
		}
		b.noChannelsLeft(t)
	})
}

// TestRecordingFinishedNeverSent: the PBX sends no RecordingFinished at all
// (a loaded Asterisk). Each recording of a call that is over is looked up
// after its wait, found finished, fetched, verified and stored.
func TestRecordingFinishedNeverSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways, PerLeg: true}},
			map[string]sim.Party{"1001": {Rings: 1}})
		if err := r.sim.SetFaults(sim.Faults{RecordingFinished: sim.RecordingFaults{Drop: 1}}); err != nil {
			t.Fatal(err)
		}
		id := r.call(t, "+15552220041", sim.Party{Talk: 10 * time.Second})
		r.cdr.wait(t, id)
		for _, rec := range r.settled(t, id, 3) {
			if rec.State != recording.StateStored {
				t.Errorf("recording %s: %s %q", rec.Name, rec.State, rec.Error)
			}
			if err := r.store.Verify(rec); err != nil {
				t.Errorf("%s does not verify: %v", rec.Name, err)
			}
		}
		if n := r.sim.Stats().Faults["recording_finished.drop"]; n != 3 {
			t.Errorf("%d RecordingFinished dropped, want 3", n)
		}
		r.noChannelsLeft(t)
	})
}

// TestDrainWaitsForRecordings: a drain (SIGTERM) waits for the
// recordings of calls that are over, not only for the calls: a recording
// whose RecordingFinished never comes is looked up after its wait, fetched
// and stored before Drain returns, so a stop right after the last call
// leaves no row marked recording.
func TestDrainWaitsForRecordings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRecording(t, recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways, PerLeg: true}},
			map[string]sim.Party{"1001": {Rings: 1}})
		if err := r.sim.SetFaults(sim.Faults{RecordingFinished: sim.RecordingFaults{Drop: 1}}); err != nil {
			t.Fatal(err)
		}
		id := r.call(t, "+15552220042", sim.Party{Talk: 10 * time.Second})
		r.cdr.wait(t, id)
		if n := r.c.OpenRecordings(); n == 0 {
			t.Fatal("no recording open once the call is over: the test tests nothing")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := r.c.Drain(ctx); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if n := r.c.OpenRecordings(); n != 0 {
			t.Errorf("Drain returned with %d recordings open", n)
		}
		all, _, err := r.db.ListRecordings(context.Background(), recording.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range all {
			if rec.State != recording.StateStored {
				t.Errorf("recording %s is %s once Drain returned", rec.Name, rec.State)
			}
		}
		if len(all) != 3 {
			t.Errorf("%d recordings; want 3 (the bridge and each leg)", len(all))
		}
	})
}

// TestRecordingSweep: a row marked recording that no call of this run
// holds, written after the link-up (as when a recording's end could not be
// written), is checked against the PBX by the sweep: the PBX has no such
// recording and no file, so it is marked failed with the reason.
func TestRecordingSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
		cfg := baseConfig()
		cfg.Agents = append(cfg.Agents, sb.Agent{ID: "1001", Endpoint: "PJSIP/1001"})
		serve(t, s)
		dir := t.TempDir()
		db, err := storage.Open(context.Background(), filepath.Join(dir, "sb.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		r := &recRig{db: db, dir: dir, p: recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}},
			engine: "basic", sweep: 20 * time.Second}
		r.e2e = r.attach(t, s, cfg)
		waitUntil(t, "link-up reconciled", func() bool { return r.pbx.Ready() })
		// A call of this run, recorded, so the sweep also meets a row it must
		// leave to its call.
		id := r.call(t, "+15552220042", sim.Party{Talk: 5 * time.Second})
		now := s.Clock().Now()
		stray := recording.Recording{Name: "stray-rec", CallID: "gone.1", Started: now, State: recording.StateRecording, Created: now}
		if err := db.InsertRecording(context.Background(), &stray); err != nil {
			t.Fatal(err)
		}
		r.cdr.wait(t, id)
		for _, rec := range r.settled(t, id, 1) {
			if rec.State != recording.StateStored {
				t.Errorf("the call's recording %s: %s %q", rec.Name, rec.State, rec.Error)
			}
		}
		r.settled(t, "gone.1", 1)
		got, err := db.GetRecording(context.Background(), stray.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != recording.StateFailed || !strings.Contains(got.Error, "fetch") {
			t.Errorf("stray row: %s %q, want failed by its fetch", got.State, got.Error)
		}
	})
}
