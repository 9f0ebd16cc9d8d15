package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// These tests hold the writer inside a write of their own, queue writes
// behind it (the hook says when they are queued) and release it, so that
// what forms one batch is known, not left to timing.

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func openFile(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// hold makes the writer run a write that waits for release; it returns
// once that write runs, with the write's outcome to come on done.
func hold(t *testing.T, db *DB) (release func(), done <-chan error) {
	t.Helper()
	running, free := make(chan struct{}), make(chan struct{})
	out := make(chan error, 1)
	go func() {
		out <- db.do(context.Background(), "hold", func(context.Context, *sqlx.Tx) error {
			close(running)
			<-free
			return nil
		})
	}()
	<-running
	return sync.OnceFunc(func() { close(free) }), out
}

// watch reports the writer's hook events: the queue's length after each
// write queued, -1 when Close begins.
func watch(db *DB) <-chan int {
	ch := make(chan int, 1024)
	db.w.mu.Lock()
	db.w.hook = func(event string, n int) {
		if event == "closing" {
			n = -1
		}
		ch <- n
	}
	db.w.mu.Unlock()
	return ch
}

// waitQueued waits until n writes are queued.
func waitQueued(t *testing.T, events <-chan int, n int) {
	t.Helper()
	for got := range events {
		if got == n {
			return
		}
	}
}

func state(agent string, i int) *AgentStateRow {
	return &AgentStateRow{Agent: sb.AgentID(agent), State: "available", At: t0.Add(time.Duration(i) * time.Second)}
}

func countStates(t *testing.T, db *DB, agent string) int {
	t.Helper()
	rows, err := db.AgentStates(context.Background(), sb.AgentID(agent), time.Time{}, time.Time{}, MaxCDRLimit)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// TestGroupCommitOneTransaction: writes queued while a transaction runs
// are committed together in the next one, and each caller gets its row.
func TestGroupCommitOneTransaction(t *testing.T) {
	db, _ := openFile(t)
	ctx := context.Background()
	events := watch(db)
	release, held := hold(t, db)
	const n = 40
	rows := make([]*AgentStateRow, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		rows[i] = state("1001", i)
		wg.Go(func() { errs[i] = db.InsertAgentState(ctx, rows[i]) })
	}
	waitQueued(t, events, n)
	release()
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for i := range n {
		if errs[i] != nil || rows[i].ID == 0 || ids[rows[i].ID] {
			t.Errorf("write %d: id %d, %v", i, rows[i].ID, errs[i])
		}
		ids[rows[i].ID] = true
	}
	if got := db.w.commits.Load(); got != 2 {
		t.Errorf("%d transactions committed, want 2 (the held write, then the %d queued behind it)", got, n)
	}
	if got := countStates(t, db, "1001"); got != n {
		t.Errorf("%d rows read back, want %d", got, n)
	}
}

var errBoom = errors.New("boom")

// TestGroupCommitFailingWriteAlone: in one batch, writes that fail (a
// write's own error after it wrote a row, a foreign key, a call closed
// twice) are rolled back alone with their own errors; the others commit.
func TestGroupCommitFailingWriteAlone(t *testing.T) {
	db, _ := openFile(t)
	ctx := context.Background()
	closed := &sb.CDR{CallID: "c1", Entered: t0, Ended: t0.Add(time.Minute), Outcome: sb.OutcomeCompleted}
	if err := db.InsertCDR(ctx, closed); err != nil {
		t.Fatal(err)
	}
	events := watch(db)
	release, held := hold(t, db)

	const good = 10
	var wg sync.WaitGroup
	goodErrs := make([]error, good)
	for i := range good {
		wg.Go(func() { goodErrs[i] = db.InsertAgentState(ctx, state("1001", i)) })
	}
	var ownErr, fkErr, againErr error
	wg.Go(func() {
		ownErr = db.do(ctx, "test: half a write", func(ctx context.Context, tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO agent_states (agent, state, reason, call_id, at)
				VALUES ('ghost', 'available', '', '', ?)`, t0); err != nil {
				return err
			}
			return errBoom
		})
	})
	wg.Go(func() {
		fkErr = db.AuditAccess(ctx, &recording.Access{Who: "admin", Action: recording.Actions[0], At: t0, RecordingID: 999})
	})
	wg.Go(func() {
		again := *closed
		againErr = db.InsertCDR(ctx, &again)
	})
	waitQueued(t, events, good+3)
	release()
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}

	for i, err := range goodErrs {
		if err != nil {
			t.Errorf("good write %d: %v", i, err)
		}
	}
	if !errors.Is(ownErr, errBoom) {
		t.Errorf("failing write: %v, want its own error", ownErr)
	}
	if sb.ErrorCode(fkErr) != sb.ENOTFOUND {
		t.Errorf("audit of an unknown recording: %v, want ENOTFOUND", fkErr)
	}
	if sb.ErrorCode(againErr) != sb.ECONFLICT {
		t.Errorf("closing a closed call: %v, want ECONFLICT", againErr)
	}
	if got := db.w.commits.Load(); got != 3 {
		t.Errorf("%d transactions committed, want 3 (the close, the held write, one batch)", got)
	}
	if got := countStates(t, db, "1001"); got != good {
		t.Errorf("%d good rows, want %d", got, good)
	}
	if got := countStates(t, db, "ghost"); got != 0 {
		t.Errorf("the failed write left %d rows, want 0", got)
	}
	audit, err := db.ListAudit(ctx, recording.AuditFilter{})
	if err != nil || len(audit) != 0 {
		t.Errorf("audit rows = %v, %v; want none", audit, err)
	}
}

// TestGroupCommitTransactionLost: a write that ends the whole transaction
// (as SQLite does on a full disk or an I/O error) fails alone; the batch's
// other writes are run again one by one and committed.
func TestGroupCommitTransactionLost(t *testing.T) {
	db, _ := openFile(t)
	ctx := context.Background()
	events := watch(db)
	release, held := hold(t, db)
	const good = 5
	var wg sync.WaitGroup
	goodErrs := make([]error, good)
	for i := range good {
		wg.Go(func() { goodErrs[i] = db.InsertAgentState(ctx, state("1001", i)) })
	}
	var badErr error
	wg.Go(func() {
		badErr = db.do(ctx, "test: rollback", func(ctx context.Context, tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return errBoom
		})
	})
	waitQueued(t, events, good+1)
	release()
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range goodErrs {
		if err != nil {
			t.Errorf("good write %d: %v", i, err)
		}
	}
	if !errors.Is(badErr, errBoom) {
		t.Errorf("write that ended the transaction: %v, want its own error", badErr)
	}
	if got := countStates(t, db, "1001"); got != good {
		t.Errorf("%d rows, want %d", got, good)
	}
	if got := db.w.commits.Load(); got != 1+good {
		t.Errorf("%d transactions committed, want %d (the held write, then each good write alone)", got, 1+good)
	}
}

// TestGroupCommitCommitFails: a batch whose COMMIT fails (a deferred
// foreign key) is run again write by write; only the guilty write fails,
// with the commit's error named by its write.
func TestGroupCommitCommitFails(t *testing.T) {
	db, _ := openFile(t)
	ctx := context.Background()
	events := watch(db)
	release, held := hold(t, db)
	const good = 5
	var wg sync.WaitGroup
	goodErrs := make([]error, good)
	for i := range good {
		wg.Go(func() { goodErrs[i] = db.InsertAgentState(ctx, state("1001", i)) })
	}
	var badErr error
	wg.Go(func() {
		badErr = db.do(ctx, "test: deferred key", func(ctx context.Context, tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO recording_access (recording_id, who, role, action, at, remote, byte_range, detail)
				VALUES (999, 'x', '', 'list', ?, '', '', '')`, t0)
			return err
		})
	})
	waitQueued(t, events, good+1)
	release()
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range goodErrs {
		if err != nil {
			t.Errorf("good write %d: %v", i, err)
		}
	}
	if badErr == nil {
		t.Fatal("the write whose commit fails succeeded")
	}
	t.Log(badErr)
	if got := countStates(t, db, "1001"); got != good {
		t.Errorf("%d rows, want %d", got, good)
	}
	audit, err := db.ListAudit(ctx, recording.AuditFilter{})
	if err != nil || len(audit) != 0 {
		t.Errorf("audit rows = %v, %v; want none", audit, err)
	}
}

// TestCanceledWhileQueued: a caller whose context ends while its write
// waits returns at once with the context's error, and the write is
// skipped.
func TestCanceledWhileQueued(t *testing.T) {
	db, _ := openFile(t)
	events := watch(db)
	release, held := hold(t, db)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- db.InsertAgentState(ctx, state("late", 0)) }()
	waitQueued(t, events, 1)
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) { // the writer is still held
		t.Errorf("canceled write: %v, want context.Canceled", err)
	}
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := db.InsertAgentState(context.Background(), state("next", 0)); err != nil {
		t.Fatal(err)
	}
	if got := countStates(t, db, "late"); got != 0 {
		t.Errorf("the canceled write left %d rows", got)
	}
}

// TestCanceledAfterStart: once a write runs, its caller's cancellation
// does not stop it (nor the batch): the caller waits and learns it was
// committed.
func TestCanceledAfterStart(t *testing.T) {
	db, _ := openFile(t)
	ctx, cancel := context.WithCancel(context.Background())
	running, canceled := make(chan struct{}), make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- db.do(ctx, "test", func(ctx context.Context, tx *sqlx.Tx) error {
			close(running)
			<-canceled
			_, err := tx.ExecContext(ctx, `INSERT INTO agent_states (agent, state, reason, call_id, at)
				VALUES ('1001', 'available', '', '', ?)`, t0)
			return err
		})
	}()
	<-running
	cancel()
	close(canceled)
	if err := <-res; err != nil {
		t.Fatalf("write canceled after it started: %v, want committed", err)
	}
	if got := countStates(t, db, "1001"); got != 1 {
		t.Errorf("%d rows, want 1", got)
	}
}

// TestCloseFlushes: Close commits the writes queued before it, answers
// their callers, then returns; a write after Close fails.
func TestCloseFlushes(t *testing.T) {
	db, path := openFile(t)
	ctx := context.Background()
	events := watch(db)
	release, held := hold(t, db)
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = db.OpenCDR(ctx, &sb.CDR{CallID: sb.CallID(fmt.Sprint("q", i)), Entered: t0}) })
	}
	waitQueued(t, events, n)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	waitQueued(t, events, -1) // Close has begun
	if err := db.InsertAgentState(ctx, state("1001", 0)); !errors.Is(err, errClosed) {
		t.Errorf("write after Close: %v, want %v", err, errClosed)
	}
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d queued before Close: %v", i, err)
		}
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	open, err := db2.OpenCDRs(ctx, "", t0.Add(time.Hour))
	if err != nil || len(open) != n {
		t.Errorf("after reopening: %d open rows, %v; want %d", len(open), err, n)
	}
}

// TestDurabilitySettings: WAL with synchronous=NORMAL on the writer.
func TestDurabilitySettings(t *testing.T) {
	db, _ := openFile(t)
	ctx := context.Background()
	var mode string
	var sync int
	if err := db.write.GetContext(ctx, &mode, `PRAGMA journal_mode`); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := db.write.GetContext(ctx, &sync, `PRAGMA synchronous`); err != nil || sync != 1 {
		t.Errorf("synchronous = %d, %v; want 1 (NORMAL)", sync, err)
	}
}
