package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
)

// InsertVoicemail stores a voicemail message's metadata and sets v.ID. A
// recording is stored once: a second row for it fails with ECONFLICT.
func (db *DB) InsertVoicemail(ctx context.Context, v *sb.Voicemail) error {
	switch {
	case v.Mailbox == "" || v.Recording == "":
		return sb.Errorf(sb.EINVALID, "voicemail: mailbox and recording are required")
	case v.Created.IsZero():
		return sb.Errorf(sb.EINVALID, "voicemail: %s has no time", v.Recording)
	}
	vars := []byte("{}")
	if len(v.Vars) > 0 {
		var err error
		if vars, err = json.Marshal(v.Vars); err != nil {
			return fmt.Errorf("voicemail: %w", err)
		}
	}
	var id int64
	err := db.do(ctx, "voicemail: insert", func(ctx context.Context, tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, tx.Rebind(`INSERT INTO voicemails
			(call_id, mailbox, recording, duration_ns, caller, vars, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			string(v.CallID), v.Mailbox, v.Recording, int64(v.Duration), v.Caller, string(vars), v.Created.UTC()).Scan(&id)
		switch {
		case isUniqueViolation(err):
			return &sb.Error{Code: sb.ECONFLICT, Message: fmt.Sprintf("voicemail %s is already stored", v.Recording), Err: err}
		case err != nil:
			return fmt.Errorf("voicemail: insert %s: %w", v.Recording, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.ID = id
	return nil
}

// ListVoicemails returns the messages of the given mailboxes (nil = every
// mailbox; an empty, non-nil list = none), newest first, at most limit
// (1..1000).
func (db *DB) ListVoicemails(ctx context.Context, mailboxes []string, limit int) ([]sb.Voicemail, error) {
	if limit <= 0 || limit > MaxCDRLimit {
		return nil, sb.Errorf(sb.EINVALID, "limit %d is out of range 1..%d", limit, MaxCDRLimit)
	}
	type row struct {
		sb.Voicemail
		VarsJSON string `db:"vars"`
	}
	q := `SELECT id, call_id, mailbox, recording, duration_ns, caller, vars, created_at FROM voicemails`
	args := []any{}
	switch {
	case mailboxes == nil:
	case len(mailboxes) == 0:
		return []sb.Voicemail{}, nil
	default:
		q += ` WHERE mailbox IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(mailboxes)), ", ") + `)`
		for _, m := range mailboxes {
			args = append(args, m)
		}
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	var rows []row
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(q), append(args, limit)...); err != nil {
		return nil, fmt.Errorf("voicemail: list: %w", err)
	}
	out := make([]sb.Voicemail, 0, len(rows))
	for _, r := range rows {
		v := r.Voicemail
		v.Created = v.Created.UTC()
		if err := json.Unmarshal([]byte(r.VarsJSON), &v.Vars); err != nil {
			return nil, fmt.Errorf("voicemail %d: vars: %w", v.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}
