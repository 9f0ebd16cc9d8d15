package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

const recordingColumns = `id, name, call_id, leg, queue, campaign, agent, caller, started_at, ended_at,
	duration_ns, size, sha256, pauses, path, state, error, created_at, deleted_at`

// recordingRow is a recordings row as SQL reads it: pauses as JSON text.
type recordingRow struct {
	recording.Recording
	PausesJSON string `db:"pauses"`
}

func (r recordingRow) decode() (recording.Recording, error) {
	rec := r.Recording
	if err := json.Unmarshal([]byte(r.PausesJSON), &rec.Pauses); err != nil {
		return rec, fmt.Errorf("recording %d: pauses: %w", rec.ID, err)
	}
	rec.Started = rec.Started.UTC()
	rec.Created = rec.Created.UTC()
	if rec.Ended.Valid {
		rec.Ended.Time = rec.Ended.Time.UTC()
	}
	if rec.Deleted.Valid {
		rec.Deleted.Time = rec.Deleted.Time.UTC()
	}
	for i := range rec.Pauses {
		rec.Pauses[i].Start = rec.Pauses[i].Start.UTC()
		if !rec.Pauses[i].End.IsZero() {
			rec.Pauses[i].End = rec.Pauses[i].End.UTC()
		}
	}
	if rec.Pauses == nil {
		rec.Pauses = recording.Pauses{}
	}
	return rec, nil
}

// pausesJSON is the column value of a recording's pauses, in UTC.
func pausesJSON(ps recording.Pauses) (string, error) {
	out := make(recording.Pauses, len(ps))
	for i, p := range ps {
		out[i] = recording.Pause{Start: p.Start.UTC(), End: p.End}
		if !p.End.IsZero() {
			out[i].End = p.End.UTC()
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("pauses: %w", err)
	}
	return string(b), nil
}

// InsertRecording writes a new recording's row and sets r.ID (and
// r.Created, when zero, to now). A recording starts in state recording
// unless r.State says otherwise (a voicemail stored at once). The name must
// be a safe recording name (see [recording.CheckName]) and is unique: a
// second row for it fails with ECONFLICT. A row without call id or start
// time fails with EINVALID.
func (db *DB) InsertRecording(ctx context.Context, r *recording.Recording) error {
	if r.State == "" {
		r.State = recording.StateRecording
	}
	switch {
	case r.CallID == "":
		return sb.Errorf(sb.EINVALID, "recording %s: call id is required", r.Name)
	case r.Started.IsZero():
		return sb.Errorf(sb.EINVALID, "recording %s has no start time", r.Name)
	case r.State == recording.StateDeleted || !r.State.Valid():
		return sb.Errorf(sb.EINVALID, "recording %s: a new recording cannot be in state %q", r.Name, r.State)
	}
	if err := recording.CheckName(r.Name); err != nil {
		return err
	}
	if r.Path != "" {
		if err := recording.CheckPath(r.Path); err != nil {
			return err
		}
	}
	pauses, err := pausesJSON(r.Pauses)
	if err != nil {
		return fmt.Errorf("recording %s: %w", r.Name, err)
	}
	if r.Created.IsZero() {
		r.Created = time.Now().UTC()
	}
	var id int64
	err = db.do(ctx, "recording: insert", func(ctx context.Context, tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, tx.Rebind(`INSERT INTO recordings
			(name, call_id, leg, queue, campaign, agent, caller, started_at, ended_at, duration_ns, size,
			 sha256, pauses, path, state, error, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			r.Name, string(r.CallID), string(r.Leg), string(r.Queue), r.Campaign, string(r.Agent), r.Caller,
			r.Started.UTC(), nullUTC(r.Ended), int64(r.Duration), r.Size, r.SHA256, pauses, r.Path,
			string(r.State), r.Error, r.Created.UTC(),
		).Scan(&id)
		switch {
		case isUniqueViolation(err):
			return &sb.Error{Code: sb.ECONFLICT, Message: fmt.Sprintf("recording %s already exists", r.Name), Err: err}
		case err != nil:
			return fmt.Errorf("recording %s: insert: %w", r.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.ID = id
	return nil
}

// UpdateRecording writes what changes while a recording is written and when
// it ends (agent, end time, duration, size, checksum, pauses, path, state,
// error) to row r.ID, provided the row's state may move to r.State (see
// [recording.State]); the check and the write are one statement, so two
// writers cannot both move a row out of the same state. A row that does not
// exist fails with ENOTFOUND; a forbidden transition (a stored recording
// going back to recording, anything leaving deleted) with ECONFLICT. A
// stored recording needs its path, size and checksum (EINVALID otherwise);
// deleting goes through [DB.MarkDeleted].
func (db *DB) UpdateRecording(ctx context.Context, r *recording.Recording) error {
	switch {
	case !r.State.Valid():
		return sb.Errorf(sb.EINVALID, "recording %d: unknown state %q", r.ID, r.State)
	case r.State == recording.StateDeleted:
		return sb.Errorf(sb.EINVALID, "recording %d: delete it with MarkDeleted", r.ID)
	case r.State == recording.StateStored && (r.Path == "" || r.SHA256 == "" || r.Size <= 0):
		return sb.Errorf(sb.EINVALID, "recording %d: a stored recording needs its path, size and checksum", r.ID)
	}
	if r.Path != "" {
		if err := recording.CheckPath(r.Path); err != nil {
			return err
		}
	}
	pauses, err := pausesJSON(r.Pauses)
	if err != nil {
		return fmt.Errorf("recording %d: %w", r.ID, err)
	}
	from := recording.From(r.State)
	q := `UPDATE recordings SET agent = ?, ended_at = ?, duration_ns = ?, size = ?, sha256 = ?,
		pauses = ?, path = ?, state = ?, error = ?
		WHERE id = ? AND state IN (?` + strings.Repeat(", ?", len(from)-1) + `)`
	args := []any{string(r.Agent), nullUTC(r.Ended), int64(r.Duration), r.Size, r.SHA256,
		pauses, r.Path, string(r.State), r.Error, r.ID}
	for _, s := range from {
		args = append(args, string(s))
	}
	return db.transition(ctx, r.ID, r.State, q, args)
}

// MarkDeleted records that a recording's file was deleted at at. Only a
// stored or failed recording can be deleted: one still being written fails
// with ECONFLICT, as does one already deleted; an unknown id fails with
// ENOTFOUND.
func (db *DB) MarkDeleted(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		return sb.Errorf(sb.EINVALID, "recording %d: deletion time is required", id)
	}
	q := `UPDATE recordings SET state = ?, deleted_at = ? WHERE id = ? AND state IN (?, ?)`
	from := recording.From(recording.StateDeleted)
	return db.transition(ctx, id, recording.StateDeleted, q,
		[]any{string(recording.StateDeleted), at.UTC(), id, string(from[0]), string(from[1])})
}

// transition runs a conditional state update and, when it changed nothing,
// tells a missing row from a forbidden transition.
func (db *DB) transition(ctx context.Context, id int64, to recording.State, q string, args []any) error {
	return db.do(ctx, "recording: update", func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		if err != nil {
			return fmt.Errorf("recording %d: update: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("recording %d: update: %w", id, err)
		} else if n == 0 {
			var state string
			err := tx.GetContext(ctx, &state, tx.Rebind(`SELECT state FROM recordings WHERE id = ?`), id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return sb.Errorf(sb.ENOTFOUND, "no recording %d", id)
			case err != nil:
				return fmt.Errorf("recording %d: update: %w", id, err)
			}
			return sb.Errorf(sb.ECONFLICT, "recording %d is %s and cannot become %s", id, state, to)
		}
		return nil
	})
}

// GetRecording returns one recording; ENOTFOUND when there is none.
func (db *DB) GetRecording(ctx context.Context, id int64) (recording.Recording, error) {
	return db.getRecording(ctx, "id", id)
}

// GetRecordingByName returns the recording the PBX knows by name (as its
// RecordingFinished and RecordingFailed events name it); ENOTFOUND when
// there is none.
func (db *DB) GetRecordingByName(ctx context.Context, name string) (recording.Recording, error) {
	return db.getRecording(ctx, "name", name)
}

func (db *DB) getRecording(ctx context.Context, col string, key any) (recording.Recording, error) {
	var row recordingRow
	err := db.read.GetContext(ctx, &row, db.read.Rebind("SELECT "+recordingColumns+" FROM recordings WHERE "+col+" = ?"), key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return recording.Recording{}, sb.Errorf(sb.ENOTFOUND, "no recording %v", key)
	case err != nil:
		return recording.Recording{}, fmt.Errorf("recording %v: %w", key, err)
	}
	return row.decode()
}

// ListRecordings returns the recordings that match f, newest first (by
// start time), one page of them, and the number of matching rows without
// paging. f.Limit 0 means DefaultCDRLimit; a limit outside 1..MaxCDRLimit,
// a negative offset or To before From fail with EINVALID. Deleted
// recordings are listed too (their state says so).
func (db *DB) ListRecordings(ctx context.Context, f recording.Filter) (rows []recording.Recording, total int, err error) {
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
	var where []string
	var args []any
	cond := func(c string, v any) {
		where = append(where, c)
		args = append(args, v)
	}
	if !f.From.IsZero() {
		cond("started_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		cond("started_at < ?", f.To.UTC())
	}
	if f.Agent != "" {
		cond("agent = ?", string(f.Agent))
	}
	if f.Queue != "" {
		cond("queue = ?", string(f.Queue))
	}
	if f.Caller != "" {
		cond("caller = ?", f.Caller)
	}
	if f.Queues != nil {
		where, args = inQueues(where, args, f.Queues)
	}
	var raw []recordingRow
	total, err = page(ctx, db, "recordings", "recordings", recordingColumns, "started_at DESC, id DESC", where, args, limit, f.Offset, &raw)
	if err != nil {
		return nil, 0, err
	}
	rows = []recording.Recording{}
	for _, r := range raw {
		rec, err := r.decode()
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, rec)
	}
	return rows, total, nil
}

// OpenRecordings lists the recordings still marked recording, oldest
// first: at a start or a PBX reconnect they are matched to the PBX's live
// and stored recordings again.
func (db *DB) OpenRecordings(ctx context.Context) ([]recording.Recording, error) {
	var raw []recordingRow
	if err := db.read.SelectContext(ctx, &raw, `SELECT `+recordingColumns+` FROM recordings WHERE state = 'recording' ORDER BY id`); err != nil {
		return nil, fmt.Errorf("open recordings: %w", err)
	}
	out := make([]recording.Recording, 0, len(raw))
	for _, r := range raw {
		rec, err := r.decode()
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// ListExpirable returns up to limit stored or failed recordings with an id
// above afterID that ended (or, with no end, started) at or before before,
// in id order: the candidates a retention run hands to [recording.Expired],
// which applies each queue's and campaign's own retention. Pass the last id
// of a page as afterID for the next: recordings a longer retention keeps
// then never hide the ones after them. Recordings still being written are
// never listed.
func (db *DB) ListExpirable(ctx context.Context, before time.Time, afterID int64, limit int) ([]recording.Recording, error) {
	if limit <= 0 || limit > MaxCDRLimit {
		return nil, sb.Errorf(sb.EINVALID, "limit %d is out of range 1..%d", limit, MaxCDRLimit)
	}
	q := db.read.Rebind("SELECT " + recordingColumns + ` FROM recordings
		WHERE state IN (?, ?) AND COALESCE(ended_at, started_at) <= ? AND id > ?
		ORDER BY id LIMIT ?`)
	var raw []recordingRow
	if err := db.read.SelectContext(ctx, &raw, q, string(recording.StateStored), string(recording.StateFailed), before.UTC(), afterID, limit); err != nil {
		return nil, fmt.Errorf("recordings: list expirable: %w", err)
	}
	out := make([]recording.Recording, 0, len(raw))
	for _, r := range raw {
		rec, err := r.decode()
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// AuditAccess records one access to recordings and sets a.ID. Who, a known
// action and the time are required (EINVALID); a.RecordingID 0 (a listing)
// is stored as NULL, and an id no recording has fails with ENOTFOUND.
func (db *DB) AuditAccess(ctx context.Context, a *recording.Access) error {
	switch {
	case a.Who == "":
		return sb.Errorf(sb.EINVALID, "recording audit: who is required")
	case !slices.Contains(recording.Actions, a.Action):
		return sb.Errorf(sb.EINVALID, "recording audit: unknown action %q", a.Action)
	case a.At.IsZero():
		return sb.Errorf(sb.EINVALID, "recording audit: time is required")
	}
	var rid any
	if a.RecordingID != 0 {
		rid = a.RecordingID
	}
	var id int64
	err := db.do(ctx, "recording audit: insert", func(ctx context.Context, tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, tx.Rebind(`INSERT INTO recording_access
			(recording_id, who, role, action, at, remote, byte_range, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			rid, a.Who, a.Role, string(a.Action), a.At.UTC(), a.Remote, a.Range, a.Detail).Scan(&id)
		var se sqlite3.Error
		switch {
		case errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey:
			return &sb.Error{Code: sb.ENOTFOUND, Message: fmt.Sprintf("no recording %d", a.RecordingID), Err: err}
		case err != nil:
			return fmt.Errorf("recording audit: insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.ID = id
	return nil
}

// ListAudit returns audit rows matching f, newest first. f.Limit 0 means
// DefaultCDRLimit; outside 1..MaxCDRLimit fails with EINVALID.
func (db *DB) ListAudit(ctx context.Context, f recording.AuditFilter) ([]recording.Access, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultCDRLimit
	case limit < 0 || limit > MaxCDRLimit:
		return nil, sb.Errorf(sb.EINVALID, "limit %d is out of range 1..%d", f.Limit, MaxCDRLimit)
	}
	q := `SELECT id, COALESCE(recording_id, 0) AS recording_id, who, role, action, at, remote, byte_range, detail
		FROM recording_access`
	var where []string
	var args []any
	if f.RecordingID != 0 {
		where = append(where, "recording_id = ?")
		args = append(args, f.RecordingID)
	}
	if f.Who != "" {
		where = append(where, "who = ?")
		args = append(args, f.Who)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	out := []recording.Access{}
	if err := db.read.SelectContext(ctx, &out, db.read.Rebind(q), append(args, limit)...); err != nil {
		return nil, fmt.Errorf("recording audit: list: %w", err)
	}
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, nil
}
