package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
)

// Paging limits of ListCDR.
const (
	DefaultCDRLimit = 100
	MaxCDRLimit     = 1000
)

const cdrColumns = `id, call_id, node, caller, caller_name, called, queue, agent,
	entered_at, answered_at, bridged_at, ended_at, outcome, hangup_cause, hangup_by, ivr_path`

// closeCDRUpsert closes a call's open row or inserts it closed; a closed
// row is left alone. closeCDRQuery (InsertCDR) also returns the row's id.
const closeCDRUpsert = `INSERT INTO cdr (call_id, node, caller, caller_name, called, queue, agent,
	entered_at, answered_at, bridged_at, ended_at, outcome, hangup_cause, hangup_by, ivr_path, open)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)
	ON CONFLICT (call_id) DO UPDATE SET node = excluded.node, caller = excluded.caller,
		caller_name = excluded.caller_name, called = excluded.called, queue = excluded.queue,
		agent = excluded.agent, entered_at = excluded.entered_at, answered_at = excluded.answered_at,
		bridged_at = excluded.bridged_at, ended_at = excluded.ended_at, outcome = excluded.outcome,
		hangup_cause = excluded.hangup_cause, hangup_by = excluded.hangup_by, ivr_path = excluded.ivr_path,
		open = FALSE
	WHERE cdr.open`

const closeCDRQuery = closeCDRUpsert + `
	RETURNING id`

// openCDRQuery creates or merges a live call's open row (OpenCDR).
const openCDRQuery = `INSERT INTO cdr (call_id, node, caller, caller_name, called, queue, agent,
	entered_at, answered_at, bridged_at, ended_at, outcome, hangup_cause, hangup_by, ivr_path, open)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', NULL, TRUE)
	ON CONFLICT (call_id) DO UPDATE SET
		caller = CASE WHEN excluded.caller <> '' THEN excluded.caller ELSE cdr.caller END,
		caller_name = CASE WHEN excluded.caller_name <> '' THEN excluded.caller_name ELSE cdr.caller_name END,
		called = CASE WHEN excluded.called <> '' THEN excluded.called ELSE cdr.called END,
		queue = CASE WHEN excluded.queue <> '' THEN excluded.queue ELSE cdr.queue END,
		agent = CASE WHEN excluded.agent <> '' THEN excluded.agent ELSE cdr.agent END,
		answered_at = COALESCE(excluded.answered_at, cdr.answered_at),
		bridged_at = COALESCE(excluded.bridged_at, cdr.bridged_at)
	WHERE cdr.open`

// InsertCDR writes one call's final record and sets c.ID: it closes the
// call's open row (OpenCDR) or, if none was written, inserts it. A call is
// closed once: closing it again fails with code ECONFLICT (so a writer that
// retries after a timeout can tell that its first attempt landed). A
// record without call ID, entered or ended time, or with an unknown
// outcome, fails with EINVALID.
func (db *DB) InsertCDR(ctx context.Context, c *sb.CDR) error {
	switch {
	case c.CallID == "":
		return sb.Errorf(sb.EINVALID, "call log: call id is required")
	case c.Entered.IsZero():
		return sb.Errorf(sb.EINVALID, "call log: call %s has no entered time", c.CallID)
	case c.Ended.IsZero():
		return sb.Errorf(sb.EINVALID, "call log: call %s has no ended time", c.CallID)
	case !slices.Contains(sb.Outcomes, c.Outcome):
		return sb.Errorf(sb.EINVALID, "call log: call %s has unknown outcome %q", c.CallID, c.Outcome)
	}
	var id int64
	err := db.do(ctx, "call log: close row", func(ctx context.Context, tx *sqlx.Tx) error {
		err := db.w.stmt(tx, db.prep.closeCDR).QueryRowxContext(ctx,
			string(c.CallID), c.Node, c.Caller, c.CallerName, c.Called, string(c.Queue), string(c.Agent),
			c.Entered.UTC(), nullUTC(c.Answered), nullUTC(c.Bridged), c.Ended.UTC(),
			string(c.Outcome), c.HangupCause, c.HangupBy, c.IVRPath,
		).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows) || isUniqueViolation(err):
			return &sb.Error{Code: sb.ECONFLICT, Message: fmt.Sprintf("call %s is already in the call log", c.CallID), Err: err}
		case err != nil:
			return fmt.Errorf("call log: insert call %s: %w", c.CallID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.ID = id
	return nil
}

// OpenCDR writes what is known of a live call (write-ahead): the row is
// created open at the first write and merged at the next ones (a field
// once set is never cleared, so writes landing out of order agree); a
// closed row is left alone. The outcome of an open row is "".
func (db *DB) OpenCDR(ctx context.Context, c *sb.CDR) error {
	if c.CallID == "" || c.Entered.IsZero() {
		return sb.Errorf(sb.EINVALID, "call log: an open row needs a call id and an entered time")
	}
	return db.do(ctx, "call log: open row", func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := db.w.stmt(tx, db.prep.openCDR).ExecContext(ctx,
			string(c.CallID), c.Node, c.Caller, c.CallerName, c.Called, string(c.Queue), string(c.Agent),
			c.Entered.UTC(), nullUTC(c.Answered), nullUTC(c.Bridged), c.Entered.UTC())
		if err != nil {
			return fmt.Errorf("call log: open row of call %s: %w", c.CallID, err)
		}
		return nil
	})
}

// OpenCDRs lists the open rows of node's calls that entered before
// before: at a start, the calls a crash left without their end.
func (db *DB) OpenCDRs(ctx context.Context, node string, before time.Time) ([]sb.CDR, error) {
	var rows []sb.CDR
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(`SELECT `+cdrColumns+` FROM cdr
		WHERE open AND node = ? AND entered_at < ? ORDER BY id`), node, before.UTC()); err != nil {
		return nil, fmt.Errorf("call log: open rows: %w", err)
	}
	for i := range rows {
		normalize(&rows[i])
	}
	return rows, nil
}

// ListCDR returns the call-log rows that match f, newest first (by entered
// time), one page of them, and the number of matching rows without paging.
// f.Limit 0 means DefaultCDRLimit; a limit outside 1..MaxCDRLimit, a
// negative offset, To before From or an unknown outcome fail with EINVALID.
// Caller, Called, Agent and Queue match exactly; Queues, when not nil, is
// the set of queues a row's must be one of.
func (db *DB) ListCDR(ctx context.Context, f sb.CDRFilter) (rows []sb.CDR, total int, err error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultCDRLimit
	case limit < 0 || limit > MaxCDRLimit:
		return nil, 0, sb.Errorf(sb.EINVALID, "limit %d is out of range 1..%d", f.Limit, MaxCDRLimit)
	}
	if f.Offset < 0 {
		return nil, 0, sb.Errorf(sb.EINVALID, "offset %d is negative", f.Offset)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, 0, sb.Errorf(sb.EINVALID, "time range ends before it starts")
	}
	if f.Outcome != "" && !slices.Contains(sb.Outcomes, f.Outcome) {
		return nil, 0, sb.Errorf(sb.EINVALID, "unknown outcome %q", f.Outcome)
	}

	var where []string
	var args []any
	cond := func(c string, v any) {
		where = append(where, c)
		args = append(args, v)
	}
	if !f.From.IsZero() {
		cond("entered_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		cond("entered_at < ?", f.To.UTC())
	}
	if f.Caller != "" {
		cond("caller = ?", f.Caller)
	}
	if f.Called != "" {
		cond("called = ?", f.Called)
	}
	if f.Agent != "" {
		cond("agent = ?", string(f.Agent))
	}
	if f.Queue != "" {
		cond("queue = ?", string(f.Queue))
	}
	if f.Outcome != "" {
		cond("outcome = ?", string(f.Outcome))
	}
	if f.Queues != nil {
		where, args = inQueues(where, args, f.Queues)
	}
	where = append(where, "NOT open") // live calls are in /calls, not yet in the log
	rows = []sb.CDR{}
	total, err = page(ctx, db, "call log", "cdr", cdrColumns, "entered_at DESC, id DESC", where, args, limit, f.Offset, &rows)
	if err != nil {
		return nil, 0, err
	}
	for i := range rows {
		normalize(&rows[i])
	}
	return rows, total, nil
}

// inQueues adds the condition "queue is one of qs" (false for none).
func inQueues(where []string, args []any, qs []sb.QueueName) ([]string, []any) {
	if len(qs) == 0 {
		return append(where, "1 = 0"), args
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(qs)), ", ")
	for _, q := range qs {
		args = append(args, string(q))
	}
	return append(where, "queue IN ("+marks+")"), args
}

// page reads one page of table matching the where conditions (ANDed)
// into dst, and the number of matching rows, in one read transaction so
// that both see the same snapshot.
func page[T any](ctx context.Context, db *DB, what, table, columns, order string, where []string, args []any,
	limit, offset int, dst *[]T) (total int, err error) {
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	tx, err := db.read.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: list: %w", what, err)
	}
	defer tx.Rollback()
	if err := tx.GetContext(ctx, &total, tx.Rebind("SELECT COUNT(*) FROM "+table+w), args...); err != nil {
		return 0, fmt.Errorf("%s: count: %w", what, err)
	}
	if total > offset {
		q := tx.Rebind("SELECT " + columns + " FROM " + table + w + " ORDER BY " + order + " LIMIT ? OFFSET ?")
		if err := tx.SelectContext(ctx, dst, q, append(args, limit, offset)...); err != nil {
			return 0, fmt.Errorf("%s: list: %w", what, err)
		}
	}
	return total, nil
}

// CountCDR returns the number of rows in the call log.
func (db *DB) CountCDR(ctx context.Context) (int, error) {
	var n int
	if err := db.read.GetContext(ctx, &n, "SELECT COUNT(*) FROM cdr"); err != nil {
		return 0, fmt.Errorf("call log: count: %w", err)
	}
	return n, nil
}

// nullUTC is the database value of an optional time: NULL or the time in UTC.
func nullUTC(t sb.NullTime) any {
	if !t.Valid {
		return nil
	}
	return t.Time.UTC()
}

// normalize puts the times read back into UTC: the driver parses them with
// a fixed zone that is equal in value but not in location.
func normalize(c *sb.CDR) {
	c.Entered = c.Entered.UTC()
	c.Ended = c.Ended.UTC()
	if c.Answered.Valid {
		c.Answered.Time = c.Answered.Time.UTC()
	}
	if c.Bridged.Valid {
		c.Bridged.Time = c.Bridged.Time.UTC()
	}
}
