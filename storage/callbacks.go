package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
)

// SaveCallback stores a pending callback request; saving the same call
// again replaces it.
func (db *DB) SaveCallback(ctx context.Context, cb sb.PendingCallback) error {
	if cb.Call == "" || cb.Queue == "" || cb.Number == "" || cb.EnteredAt.IsZero() {
		return sb.Errorf(sb.EINVALID, "callback: call, queue, number and time are required")
	}
	return db.do(ctx, "callback: save", func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO callbacks (call_id, queue, number, priority, entered_at, state)
			VALUES (?, ?, ?, ?, ?, 'pending')
			ON CONFLICT (call_id) DO UPDATE SET queue = excluded.queue, number = excluded.number,
				priority = excluded.priority, entered_at = excluded.entered_at, state = 'pending', closed_at = NULL`),
			string(cb.Call), string(cb.Queue), cb.Number, cb.Priority, cb.EnteredAt.UTC())
		if err != nil {
			return fmt.Errorf("callback %s: save: %w", cb.Call, err)
		}
		return nil
	})
}

// CallbackDone closes a request: state is "connected" or why it was given
// up. Closing an unknown request is ENOTFOUND.
func (db *DB) CallbackDone(ctx context.Context, call sb.CallID, state string, at time.Time) error {
	if state == "" || state == "pending" {
		return sb.Errorf(sb.EINVALID, "callback %s: closing state %q", call, state)
	}
	return db.do(ctx, "callback: close", func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE callbacks SET state = ?, closed_at = ?
			WHERE call_id = ?`), state, at.UTC(), string(call))
		if err != nil {
			return fmt.Errorf("callback %s: close: %w", call, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sb.Errorf(sb.ENOTFOUND, "callback %s: no such request", call)
		}
		return nil
	})
}

// PendingCallbacks returns the requests not yet connected or given up,
// oldest first.
func (db *DB) PendingCallbacks(ctx context.Context) ([]sb.PendingCallback, error) {
	var out []sb.PendingCallback
	err := db.read.SelectContext(ctx, &out, `SELECT call_id, queue, number, priority, entered_at
		FROM callbacks WHERE state = 'pending' ORDER BY entered_at, call_id`)
	if err != nil {
		return nil, fmt.Errorf("pending callbacks: %w", err)
	}
	for i := range out {
		out[i].EnteredAt = out[i].EnteredAt.UTC()
	}
	return out, nil
}
