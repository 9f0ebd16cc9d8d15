package center

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// memRecordings keeps recordings' rows in memory, as storage.DB does
// (with its list of the rows still marked recording).
type memRecordings struct {
	mu   sync.Mutex
	rows []recording.Recording
}

var (
	_ RecordingRepo        = (*memRecordings)(nil)
	_ recording.OpenLister = (*memRecordings)(nil)
)

func (m *memRecordings) InsertRecording(_ context.Context, r *recording.Recording) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.ID = int64(len(m.rows) + 1)
	m.rows = append(m.rows, *r)
	return nil
}

func (m *memRecordings) UpdateRecording(_ context.Context, r *recording.Recording) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.ID < 1 || int(r.ID) > len(m.rows) {
		return sb.Errorf(sb.ENOTFOUND, "no recording %d", r.ID)
	}
	m.rows[r.ID-1] = *r
	return nil
}

func (m *memRecordings) OpenRecordings(context.Context) ([]recording.Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var open []recording.Recording
	for _, r := range m.rows {
		if r.State == recording.StateRecording {
			open = append(open, r)
		}
	}
	return open, nil
}

func (m *memRecordings) all() []recording.Recording {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]recording.Recording(nil), m.rows...)
}

// sync returns once the owner has run everything posted before it.
func (r *rig) sync() {
	done := make(chan struct{})
	r.c.post(func() { close(done) })
	<-done
}

// TestRecordingStartLostWithPBXCrash: the PBX took the record command
// and crashed before its RecordingStarted reached Switchboard (Asterisk
// answers the command with the recording queued and starts it after).
// It restarts with no channels and no recordings: at the link-up the call
// ends and so does its recording, marked failed with the reason, instead
// of staying marked recording.
func TestRecordingStartLostWithPBXCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		repo := &memRecordings{}
		r := newRigWith(t, func(o *Options) {
			o.Recording = RecordingOptions{
				Policies: recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}},
				Repo:     repo,
				Fetch: func(_ context.Context, rec *recording.Recording) error {
					return sb.Errorf(sb.ENOTFOUND, "recording %s not found", rec.Name)
				},
			}
		}, "1001")
		r.enter("c1", "+15551234567", "8000")
		r.pbx.expect(t, "answer c1")
		r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
		r.greetingDone("c1")
		r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
		r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
		r.agentAnswers("c1", "c1-a1")
		r.pbx.expect(t, "moh c1 false")
		r.pbx.expect(t, "bridge br-c1")
		r.pbx.expect(t, "add br-c1 [c1 c1-a1]")
		r.inBridge("c1", "c1", "c1-a1")
		r.waitState(t, "c1", sb.CallBridged)
		name := recording.NameFor("c1", recording.LegMixed, 1)
		r.pbx.expect(t, "record br-c1 "+name)
		// The call's commands run in order: once a marker after the record
		// command has run, so has everything that command posted.
		r.c.post(func() { r.c.do(r.c.calls["c1"], func(context.Context) { r.pbx.rec("marker") }) })
		r.pbx.expect(t, "marker")
		r.sync()

		// The PBX crashed and came back empty; no RecordingStarted came.
		r.pbx.RecordingLiveFn = func(string) bool { return false }
		r.send(sb.LinkDown{EventHeader: hdr("LinkDown"), Err: "connection reset"})
		r.send(sb.LinkUp{EventHeader: hdr("LinkUp"), Reconnect: true})
		if row := r.cdr.next(t); row.CallID != "c1" || row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" {
			t.Fatalf("call-log row = %+v", row)
		}
		var rows []recording.Recording
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if rows = repo.all(); len(rows) == 1 && rows[0].State != recording.StateRecording {
				break
			}
		}
		if len(rows) != 1 {
			t.Fatalf("recording rows = %+v, want one", rows)
		}
		rec := rows[0]
		if rec.Name != name || rec.State != recording.StateFailed || rec.Error == "" || !rec.Ended.Valid {
			t.Fatalf("recording = %+v, want %s failed with a reason", rec, name)
		}
		if n := r.c.OpenRecordings(); n != 0 {
			t.Errorf("open recordings = %d, want 0", n)
		}
	})
}

// bridgedAndRecorded brings call c1 to agent 1001 and returns the name of
// its recording, started on the PBX.
func (r *rig) bridgedAndRecorded(t *testing.T) string {
	t.Helper()
	r.enter("c1", "+15551234567", "8000")
	r.pbx.expect(t, "answer c1")
	r.pbx.expect(t, "play c1 c1-greet sound:hello-world")
	r.greetingDone("c1")
	r.pbx.expect(t, "moh c1 true") // queued: music while the phone rings
	r.pbx.expect(t, "originate c1-a1 PJSIP/1001 agent,c1")
	r.agentAnswers("c1", "c1-a1")
	r.pbx.expect(t, "moh c1 false")
	r.pbx.expect(t, "bridge br-c1")
	r.pbx.expect(t, "add br-c1 [c1 c1-a1]")
	r.inBridge("c1", "c1", "c1-a1")
	r.waitState(t, "c1", sb.CallBridged)
	name := recording.NameFor("c1", recording.LegMixed, 1)
	r.pbx.expect(t, "record br-c1 "+name)
	r.send(sb.RecordingStarted{EventHeader: hdr("RecordingStarted"), Name: name})
	r.sync()
	return name
}

// reconnect sends a link-up and waits until its snapshot is applied.
func (r *rig) reconnect(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	r.c.post(func() { r.c.reconciled = func() { close(done) } })
	r.send(sb.LinkUp{EventHeader: hdr("LinkUp"), Reconnect: true})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the link-up snapshot was not applied")
	}
}

// fetchCounter is a Fetch that counts its calls and, while hold is open,
// waits for it to close.
type fetchCounter struct {
	mu    sync.Mutex
	calls int
	hold  chan struct{}
}

func (f *fetchCounter) fetch(ctx context.Context, rec *recording.Recording) error {
	f.mu.Lock()
	f.calls++
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	rec.Path, rec.Size = rec.Name+".wav", 44
	return nil
}

func (f *fetchCounter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// waitEnded waits until the only recording row is no longer recording.
func waitEnded(t *testing.T, repo *memRecordings) recording.Recording {
	t.Helper()
	var rows []recording.Recording
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if rows = repo.all(); len(rows) == 1 && rows[0].State != recording.StateRecording {
			return rows[0]
		}
	}
	t.Fatalf("recording rows = %+v, want one ended", rows)
	return recording.Recording{}
}

// TestRecordingEndedWhileDownIsEndedOnce: a link-up finds that the PBX
// no longer makes a recording this run started, and the database still
// lists its row as recording. It is ended once (one fetch, one final
// write), not once as this run's and again as an earlier run's row.
func TestRecordingEndedWhileDownIsEndedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		repo, f := &memRecordings{}, &fetchCounter{}
		r := newRigWith(t, func(o *Options) {
			o.Recording = RecordingOptions{Policies: recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}}, Repo: repo, Fetch: f.fetch}
		}, "1001")
		name := r.bridgedAndRecorded(t)
		// The call and its recording ended while the link was down.
		r.pbx.RecordingLiveFn = func(string) bool { return false }
		r.reconnect(t)
		if rec := waitEnded(t, repo); rec.Name != name || rec.State != recording.StateStored {
			t.Fatalf("recording = %+v, want %s stored", rec, name)
		}
		waitNoOpenRecordings(t, r.c)
		if n := f.count(); n != 1 {
			t.Errorf("the recording was fetched %d times, want once", n)
		}
	})
}

// TestRecordingBeingFetchedAtLinkUpIsNotTakenUp: a recording finished
// and is being fetched when the link comes back; its row still says
// recording. The link-up leaves it to the fetch under way instead of
// taking it up as an earlier run's (a second fetch of the same file,
// which the first may have deleted from the PBX).
func TestRecordingBeingFetchedAtLinkUpIsNotTakenUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		repo, f := &memRecordings{}, &fetchCounter{hold: make(chan struct{})}
		r := newRigWith(t, func(o *Options) {
			o.Recording = RecordingOptions{Policies: recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways}}, Repo: repo, Fetch: f.fetch}
		}, "1001")
		name := r.bridgedAndRecorded(t)
		r.send(sb.RecordingFinished{EventHeader: hdr("RecordingFinished"), Name: name, Duration: 30 * time.Second})
		for deadline := time.Now().Add(5 * time.Second); f.count() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the finished recording was not fetched")
			}
		}
		r.pbx.RecordingLiveFn = func(string) bool { return false }
		r.reconnect(t)
		close(f.hold)
		if rec := waitEnded(t, repo); rec.Name != name || rec.State != recording.StateStored {
			t.Fatalf("recording = %+v, want %s stored", rec, name)
		}
		waitNoOpenRecordings(t, r.c)
		if n := f.count(); n != 1 {
			t.Errorf("the recording was fetched %d times, want once", n)
		}
	})
}

// waitNoOpenRecordings waits until no recording is being made or fetched.
func waitNoOpenRecordings(t *testing.T, c *Center) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.OpenRecordings() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("open recordings = %d, want 0", c.OpenRecordings())
		}
	}
}
