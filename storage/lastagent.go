package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
)

// LastAgent returns the agent who took the caller's most recent call that
// ended at or after since with outcome completed, in queue (any queue when
// queue is ""), for preferred-agent routing of a returning caller. ok is
// false when there is none, or when the caller is unknown (""): an
// anonymous number must not tie strangers to one agent. A completed row
// without an agent (which the call log should not hold) is skipped.
//
// Served by the index cdr_caller_ended_at (caller, ended_at).
func (db *DB) LastAgent(ctx context.Context, caller string, queue string, since time.Time) (agent string, ok bool, err error) {
	if caller == "" {
		return "", false, nil
	}
	q := `SELECT agent FROM cdr WHERE caller = ? AND ended_at >= ? AND outcome = ? AND agent <> ''`
	args := []any{caller, since.UTC(), string(sb.OutcomeCompleted)}
	if queue != "" {
		q += ` AND queue = ?`
		args = append(args, queue)
	}
	q += ` ORDER BY ended_at DESC, id DESC LIMIT 1`
	err = db.read.GetContext(ctx, &agent, db.read.Rebind(q), args...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("last agent of %s: %w", caller, err)
	}
	return agent, true, nil
}
