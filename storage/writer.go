package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// maxBatch bounds how many writes one group commit carries: a caller
// queued behind a long batch waits for it, and a batch that fails as a
// whole is replayed one write at a time.
const maxBatch = 256

// prepared are the statements every call's writes run, and the savepoint
// statements of a batch, prepared once at Open on the write pool's one
// connection (a transaction reuses a statement prepared on its
// connection): preparing the call-log upsert took more time than running
// it.
type prepared struct {
	savepoint, release, rollbackTo *sqlx.Stmt
	openCDR, closeCDR, agentState  *sqlx.Stmt
}

func prepare(ctx context.Context, db *sqlx.DB) (*prepared, error) {
	p := &prepared{}
	for _, s := range []struct {
		dst **sqlx.Stmt
		q   string
	}{
		{&p.savepoint, `SAVEPOINT op`}, {&p.release, `RELEASE op`}, {&p.rollbackTo, `ROLLBACK TO op`},
		{&p.openCDR, openCDRQuery}, {&p.closeCDR, closeCDRQuery}, {&p.agentState, agentStateQuery},
	} {
		stmt, err := db.PreparexContext(ctx, db.Rebind(s.q))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("prepare %.40q: %w", s.q, err)
		}
		*s.dst = stmt
	}
	return p, nil
}

func (p *prepared) close() error {
	var errs []error
	for _, s := range []*sqlx.Stmt{p.savepoint, p.release, p.rollbackTo, p.openCDR, p.closeCDR, p.agentState} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// writeFunc is one write: its statements, run in tx. It may run twice (a
// batch that failed as a whole is replayed write by write), so it sets its
// results from scratch and only through variables its method reads after
// [DB.do] returns.
type writeFunc func(ctx context.Context, tx *sqlx.Tx) error

// States of a writeOp. queued → started (the writer took it) or
// queued → abandoned (its caller's context ended first); one CAS decides.
const (
	opQueued int32 = iota
	opStarted
	opAbandoned
)

// writeOp is one caller's write waiting for its commit.
type writeOp struct {
	ctx   context.Context
	fn    writeFunc
	state atomic.Int32
	done  chan error // buffered: the writer never waits for the caller
}

// writer is the one goroutine that writes (group commit). Callers queue
// their writes and wait; the writer takes everything queued (up to
// maxBatch) and commits it in one BEGIN IMMEDIATE … COMMIT, each write in
// its own SAVEPOINT: a write that fails is rolled back alone and its error
// goes to its caller, the others commit. Writes that arrive while a batch
// commits form the next one, so under load one commit (and one WAL frame
// set) serves many callers, and alone a write costs one transaction as
// before. Every caller returns once its write is committed or has failed.
//
// The writer owns the write pool's connection while a batch runs; between
// batches it holds nothing (for :memory: the readers share it).
type writer struct {
	db   *sqlx.DB
	prep *prepared
	name string // the file, for messages

	mu     sync.Mutex
	wake   *sync.Cond // signalled when queue grows or closed is set
	queue  []*writeOp
	closed bool
	// hook, when set (tests), is called under mu with "queued" and the
	// queue's length after a write is queued, and "closing" at Close.
	hook func(event string, queued int)

	// commits counts the transactions committed (tests).
	commits atomic.Int64

	exited chan struct{}

	// Owned by the writer goroutine (fns run on it): the transaction
	// running and its handles on the prepared statements.
	tx   *sqlx.Tx
	inTx map[*sqlx.Stmt]*sqlx.Stmt
}

// errClosed is what a write after Close fails with.
var errClosed = errors.New("database is closed")

func startWriter(db *sqlx.DB, prep *prepared, name string) *writer {
	w := &writer{db: db, prep: prep, name: name, exited: make(chan struct{})}
	w.wake = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

// do runs fn as one write of a group commit and returns once it is
// committed (nil) or failed (its error). A context that ends before the
// write starts skips it with the context's error; once started, a write
// runs to its end (an interrupted statement would roll back the whole
// batch), so the caller waits for its outcome. what names the write in
// errors that are not fn's own (context, begin, commit).
func (db *DB) do(ctx context.Context, what string, fn writeFunc) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: not written: %w", what, err)
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := db.w.enqueue(op); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	var err error
	select {
	case err = <-op.done:
	case <-ctx.Done():
		if op.state.CompareAndSwap(opQueued, opAbandoned) {
			return fmt.Errorf("%s: not written: %w", what, ctx.Err())
		}
		err = <-op.done // started: wait for its outcome
	}
	var we *writerError
	if errors.As(err, &we) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return err
}

// writerError is a failure that is not the write's own (its context, the
// transaction's begin or commit): do names the write in it.
type writerError struct{ err error }

func (e *writerError) Error() string { return e.err.Error() }
func (e *writerError) Unwrap() error { return e.err }

func (w *writer) enqueue(op *writeOp) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("storage %s: %w", w.name, errClosed)
	}
	w.queue = append(w.queue, op)
	if w.hook != nil {
		w.hook("queued", len(w.queue))
	}
	w.wake.Signal()
	return nil
}

// close lets the writer commit what is queued, stops it and waits.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	if w.hook != nil {
		w.hook("closing", len(w.queue))
	}
	w.wake.Signal()
	w.mu.Unlock()
	<-w.exited
}

func (w *writer) loop() {
	defer close(w.exited)
	var batch []*writeOp
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closed {
			w.wake.Wait()
		}
		if len(w.queue) == 0 { // closed and flushed
			w.mu.Unlock()
			return
		}
		n := min(len(w.queue), maxBatch)
		batch = append(batch[:0], w.queue[:n]...)
		rest := copy(w.queue, w.queue[n:])
		clear(w.queue[rest:])
		w.queue = w.queue[:rest]
		w.mu.Unlock()

		w.commit(batch)
		clear(batch)
	}
}

// commit starts the batch's writes whose callers still wait and commits
// them.
func (w *writer) commit(batch []*writeOp) {
	ops := batch[:0]
	for _, op := range batch {
		if !op.state.CompareAndSwap(opQueued, opStarted) {
			continue // its caller gave up and was told so
		}
		if err := op.ctx.Err(); err != nil {
			op.done <- &writerError{fmt.Errorf("not written: %w", err)}
			continue
		}
		ops = append(ops, op)
	}
	w.run(ops)
}

// run commits ops in one transaction and answers every caller. When the
// transaction fails as a whole (begin, a savepoint the database dropped, a
// commit), none of it is written: each write is then run again in a
// transaction of its own, so each caller gets its own write's outcome.
func (w *writer) run(ops []*writeOp) {
	if len(ops) == 0 {
		return
	}
	errs, err := w.transaction(ops)
	switch {
	case err == nil:
		for i, op := range ops {
			op.done <- errs[i]
		}
	case len(ops) == 1:
		ops[0].done <- &writerError{err}
	default:
		for i := range ops {
			w.run(ops[i : i+1])
		}
	}
}

// transaction runs ops in one transaction, each in a savepoint (a batch of
// one needs none), and commits. errs are the writes' own errors (a failed
// write is rolled back alone); err is the transaction's.
func (w *writer) transaction(ops []*writeOp) (errs []error, err error) {
	tx, err := w.db.BeginTxx(context.Background(), nil)
	if err != nil {
		return nil, fmt.Errorf("storage %s: begin: %w", w.name, err)
	}
	w.tx = tx
	defer func() {
		tx.Rollback() // after Commit: a no-op
		w.tx = nil
		clear(w.inTx)
	}()
	errs = make([]error, len(ops))
	if len(ops) == 1 {
		if errs[0] = ops[0].run(tx); errs[0] != nil {
			return errs, nil // rolled back by the defer
		}
	} else {
		for i, op := range ops {
			if _, err := w.stmt(tx, w.prep.savepoint).Exec(); err != nil {
				return nil, fmt.Errorf("storage %s: savepoint: %w", w.name, err)
			}
			if errs[i] = op.run(tx); errs[i] != nil {
				// Fails when the error ended the transaction (SQLite rolls
				// it all back on a full disk or an I/O error).
				if _, err := w.stmt(tx, w.prep.rollbackTo).Exec(); err != nil {
					return nil, fmt.Errorf("storage %s: roll back a failed write (%v): %w", w.name, errs[i], err)
				}
			}
			if _, err := w.stmt(tx, w.prep.release).Exec(); err != nil {
				return nil, fmt.Errorf("storage %s: release savepoint: %w", w.name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("storage %s: commit: %w", w.name, err)
	}
	w.commits.Add(1)
	return errs, nil
}

// stmt is prepared statement s in tx, the writer's running transaction:
// one handle per statement and transaction (each handle costs a few
// allocations and is only released when the transaction ends).
func (w *writer) stmt(tx *sqlx.Tx, s *sqlx.Stmt) *sqlx.Stmt {
	if tx != w.tx {
		return tx.Stmtx(s) // not the writer's: cannot happen, but stay correct
	}
	if h, ok := w.inTx[s]; ok {
		return h
	}
	if w.inTx == nil {
		w.inTx = make(map[*sqlx.Stmt]*sqlx.Stmt, 8)
	}
	h := tx.Stmtx(s)
	w.inTx[s] = h
	return h
}

// run runs the write's statements. Its caller's cancellation does not
// reach them: it would interrupt the connection, and SQLite rolls back the
// whole transaction of an interrupted write.
func (op *writeOp) run(tx *sqlx.Tx) error {
	ctx := op.ctx
	if ctx.Done() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	return op.fn(ctx, tx)
}
