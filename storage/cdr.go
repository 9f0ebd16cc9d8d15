package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	sb "github.com/switchboard/switchboard"
)

// Paging limits of ListCDR.
const (
	DefaultCDRLimit = 100
	MaxCDRLimit     = 1000
)

const cdrColumns = `id, call_id, node, caller, caller_name, called, queue, agent,
	entered_at, answered_at, bridged_at, ended_at, outcome, hangup_cause, hangup_by, ivr_path`

// InsertCDR writes one call's record and sets c.ID. A call is written once:
// a second row for the same call ID fails with code ECONFLICT (so a writer
// that retries after a timeout can tell that its first attempt landed). A
// record without call ID, entered or ended time, or with an unknown outcome,
// fails with EINVALID.
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
	q := db.write.Rebind(`INSERT INTO cdr (call_id, node, caller, caller_name, called, queue, agent,
		entered_at, answered_at, bridged_at, ended_at, outcome, hangup_cause, hangup_by, ivr_path)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	var id int64
	err := db.write.QueryRowxContext(ctx, q,
		string(c.CallID), c.Node, c.Caller, c.CallerName, c.Called, string(c.Queue), string(c.Agent),
		c.Entered.UTC(), nullUTC(c.Answered), nullUTC(c.Bridged), c.Ended.UTC(),
		string(c.Outcome), c.HangupCause, c.HangupBy, c.IVRPath,
	).Scan(&id)
	switch {
	case isUniqueViolation(err):
		return &sb.Error{Code: sb.ECONFLICT, Message: fmt.Sprintf("call %s is already in the call log", c.CallID), Err: err}
	case err != nil:
		return fmt.Errorf("call log: insert call %s: %w", c.CallID, err)
	}
	c.ID = id
	return nil
}

// ListCDR returns the call-log rows that match f, newest first (by entered
// time), one page of them, and the number of matching rows without paging.
// f.Limit 0 means DefaultCDRLimit; a limit outside 1..MaxCDRLimit, a
// negative offset, To before From or an unknown outcome fail with EINVALID.
// Caller, Called, Agent and Queue match exactly.
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
