package files

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// fakeRepo is a RetentionRepo over an in-memory table.
type fakeRepo struct {
	mu      sync.Mutex
	rows    []recording.Recording
	audit   []recording.Access
	markErr map[int64]error
}

var _ RetentionRepo = (*fakeRepo)(nil)

func (f *fakeRepo) ListExpirable(_ context.Context, before time.Time, after int64, limit int) ([]recording.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recording.Recording
	for _, r := range f.rows {
		end := r.Started
		if r.Ended.Valid {
			end = r.Ended.Time
		}
		if r.ID > after && (r.State == recording.StateStored || r.State == recording.StateFailed) && !end.After(before) {
			out = append(out, r)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (f *fakeRepo) MarkDeleted(_ context.Context, id int64, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.markErr[id]; err != nil {
		return err
	}
	for i := range f.rows {
		if f.rows[i].ID == id {
			f.rows[i].State, f.rows[i].Deleted = recording.StateDeleted, sb.SomeTime(at)
			return nil
		}
	}
	return sb.Errorf(sb.ENOTFOUND, "no recording %d", id)
}

func (f *fakeRepo) AuditAccess(_ context.Context, a *recording.Access) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, *a)
	return nil
}

func (f *fakeRepo) state(id int64) recording.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rows {
		if r.ID == id {
			return r.State
		}
	}
	return ""
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 7, 1, 2, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	s, err := Open(Config{Dir: t.TempDir()}, &fakeSource{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ps := recording.Policies{
		Default: recording.Policy{Mode: recording.ModeAlways, RetentionDays: 30},
		Queues:  map[sb.QueueName]recording.Policy{"legal": {Mode: recording.ModeAlways}},
	}
	ago := func(days int) sb.NullTime { return sb.SomeTime(now.Add(-time.Duration(days) * recording.Day)) }
	repo := &fakeRepo{}
	add := func(id int64, queue sb.QueueName, state recording.State, ended sb.NullTime) {
		name := "r" + string(rune('0'+id))
		r := recording.Recording{ID: id, Name: name, Queue: queue, State: state, Ended: ended, Started: now.Add(-365 * recording.Day)}
		if state == recording.StateStored {
			r.Path = name + ".wav"
			os.WriteFile(filepath.Join(s.Dir(), r.Path), []byte("audio"), 0o640)
		}
		repo.rows = append(repo.rows, r)
	}
	add(1, "sales", recording.StateStored, ago(40))    // due
	add(2, "sales", recording.StateStored, ago(10))    // young
	add(3, "legal", recording.StateStored, ago(400))   // kept forever
	add(4, "sales", recording.StateRecording, ago(99)) // being written
	add(5, "sales", recording.StateStored, ago(50))    // being downloaded
	add(6, "sales", recording.StateFailed, ago(31))    // failed, no file

	dl, err := s.OpenFile(repo.rows[4])
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Purge(ctx, repo, ps, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (PurgeReport{Deleted: 2, Busy: 1}) {
		t.Errorf("report %+v", rep)
	}
	for id, want := range map[int64]recording.State{1: recording.StateDeleted, 2: recording.StateStored, 3: recording.StateStored,
		4: recording.StateRecording, 5: recording.StateStored, 6: recording.StateDeleted} {
		if got := repo.state(id); got != want {
			t.Errorf("recording %d: %s, want %s", id, got, want)
		}
	}
	if names := dirNames(t, s.Dir()); !slices.Equal(names, []string{"r2.wav", "r3.wav", "r5.wav"}) {
		t.Errorf("folder = %v", names)
	}
	if len(repo.audit) != 2 || repo.audit[0].Who != RetentionWho || repo.audit[0].Action != recording.ActionDelete || repo.audit[0].RecordingID != 1 {
		t.Errorf("audit = %+v", repo.audit)
	}
	if !bytes.Contains(logs.Bytes(), []byte("retention: recording deleted")) || !bytes.Contains(logs.Bytes(), []byte("in use")) {
		t.Errorf("log:\n%s", logs.String())
	}

	// The download in progress still reads its file.
	b := make([]byte, 5)
	if _, err := dl.ReadAt(b, 0); err != nil || string(b) != "audio" {
		t.Errorf("download read %q, %v", b, err)
	}
	dl.Close()
	// Next run: the finished download's recording goes.
	rep, err = s.Purge(ctx, repo, ps, now)
	if err != nil || rep != (PurgeReport{Deleted: 1}) || repo.state(5) != recording.StateDeleted {
		t.Errorf("second run %+v %v, state %s", rep, err, repo.state(5))
	}
}

// TestPurgePages: recordings a longer retention keeps do not hide later
// due ones behind a full page.
func TestPurgePages(t *testing.T) {
	now := time.Date(2025, 7, 1, 2, 0, 0, 0, time.UTC)
	s := openStore(t, Config{}, &fakeSource{})
	ps := recording.Policies{
		Default: recording.Policy{Mode: recording.ModeAlways, RetentionDays: 7},
		Queues:  map[sb.QueueName]recording.Policy{"legal": {Mode: recording.ModeAlways, RetentionDays: 3650}},
	}
	repo := &fakeRepo{}
	old := sb.SomeTime(now.Add(-30 * recording.Day))
	for i := range retentionPage + 10 {
		repo.rows = append(repo.rows, recording.Recording{ID: int64(i + 1), Queue: "legal", State: recording.StateFailed, Ended: old})
	}
	repo.rows = append(repo.rows, recording.Recording{ID: retentionPage + 11, Queue: "sales", State: recording.StateFailed, Ended: old})
	rep, err := s.Purge(context.Background(), repo, ps, now)
	if err != nil || rep.Deleted != 1 || repo.state(retentionPage+11) != recording.StateDeleted {
		t.Errorf("report %+v %v", rep, err)
	}
}

func TestPurgeFailures(t *testing.T) {
	now := time.Date(2025, 7, 1, 2, 0, 0, 0, time.UTC)
	s := openStore(t, Config{}, &fakeSource{})
	ps := recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways, RetentionDays: 1}}
	old := sb.SomeTime(now.Add(-3 * recording.Day))
	boom := errors.New("disk I/O error")
	repo := &fakeRepo{
		rows: []recording.Recording{
			{ID: 1, State: recording.StateFailed, Ended: old},
			{ID: 2, State: recording.StateStored, Ended: old, Path: "../../etc/passwd.wav"},
			{ID: 3, State: recording.StateFailed, Ended: old},
			{ID: 4, State: recording.StateFailed, Ended: old},
		},
		markErr: map[int64]error{3: boom, 4: sb.Errorf(sb.ECONFLICT, "already deleted")},
	}
	rep, err := s.Purge(context.Background(), repo, ps, now)
	if rep != (PurgeReport{Deleted: 2, Failed: 2}) || !errors.Is(err, boom) || sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("report %+v, err %v", rep, err)
	}
	// Keep-forever everywhere: nothing is even listed.
	if rep, err := s.Purge(context.Background(), repo, recording.Policies{}, now); err != nil || rep != (PurgeReport{}) {
		t.Errorf("no retention: %+v %v", rep, err)
	}
}

// TestDownloadVersusDeletion: a recording is read or deleted, never both.
func TestDownloadVersusDeletion(t *testing.T) {
	u := NewInUse()
	release, ok := u.Acquire(1)
	if !ok || u.beginDelete(1) {
		t.Fatal("deleted while read")
	}
	release()
	if !u.beginDelete(1) {
		t.Fatal("not deletable once released")
	}
	if _, ok := u.Acquire(1); ok {
		t.Fatal("read while being deleted")
	}
	if u.beginDelete(1) {
		t.Fatal("two deleters")
	}
	u.endDelete(1)
	if _, ok := u.Acquire(1); !ok || u.Busy(2) {
		t.Fatal("registry state wrong after delete")
	}

	// Racing readers and a deleter: never both at once.
	u = NewInUse()
	var wg sync.WaitGroup
	var mu sync.Mutex
	readers, deleting := 0, false
	for i := range 50 {
		wg.Go(func() {
			if i%5 == 0 {
				if u.beginDelete(9) {
					mu.Lock()
					if readers > 0 {
						t.Error("deleting while read")
					}
					deleting = true
					mu.Unlock()
					mu.Lock()
					deleting = false
					mu.Unlock()
					u.endDelete(9)
				}
				return
			}
			if rel, ok := u.Acquire(9); ok {
				mu.Lock()
				if deleting {
					t.Error("read while deleting")
				}
				readers++
				mu.Unlock()
				mu.Lock()
				readers--
				mu.Unlock()
				rel()
			}
		})
	}
	wg.Wait()
}
