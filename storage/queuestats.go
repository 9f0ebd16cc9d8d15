package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
)

// QueueInterval is one queue's figures over one sampling interval
// [Start, Start+Seconds). Counts are of events in the interval (a call that
// entered in one interval and was answered in the next is offered in the
// first and answered in the second); sums rather than averages are kept so
// that rows add up over any range:
//
//	ASA           = WaitSeconds / Answered
//	AHT           = HandleSeconds / Completed
//	service level = AnsweredInSL / (Answered + MissedSL)
//
// the last being the ACD router's own definition (routing.QueueStats): a
// caller who abandons or exits before the service-level time counts neither
// for nor against it. The schema comment in migrations/00006_queue_stats.sql
// says what each column counts.
type QueueInterval struct {
	Start   time.Time    `json:"start" db:"interval_start"`
	Seconds int          `json:"seconds" db:"interval_seconds"`
	Queue   sb.QueueName `json:"queue" db:"queue"`
	// Offered is how many calls entered the queue.
	Offered  int `json:"offered" db:"offered"`
	Answered int `json:"answered" db:"answered"`
	// AnsweredInSL is how many were answered within ServiceLevelTime.
	AnsweredInSL int `json:"answered_in_sl" db:"answered_in_sl"`
	// MissedSL is how many abandoned or exited after ServiceLevelTime.
	MissedSL int `json:"missed_sl" db:"missed_sl"`
	// SLEstimated is true when AnsweredInSL and MissedSL were inferred
	// from the router's service-level ratio rather than determined exactly.
	// The sampler now writes false, as the router exposes the counts; rows
	// written by earlier versions may say true. Kept for compatibility.
	SLEstimated bool `json:"sl_estimated" db:"sl_estimated"`
	Abandoned   int  `json:"abandoned" db:"abandoned"`
	// Exited counts calls sent out of the queue (maximum wait, empty,
	// escalation exit, failed callback).
	Exited    int `json:"exited" db:"exited"`
	Completed int `json:"completed" db:"completed"`
	// WaitSeconds is the total wait of the calls answered.
	WaitSeconds float64 `json:"wait_seconds" db:"wait_seconds"`
	// HandleSeconds is the total handle time (talk + wrap-up) of the
	// calls completed.
	HandleSeconds float64 `json:"handle_seconds" db:"handle_seconds"`
	// MaxWaiting and MaxLongestWaitSeconds are the peaks the sampler saw;
	// it looks more often than once an interval, but a peak between two
	// looks is missed.
	MaxWaiting            int     `json:"max_waiting" db:"max_waiting"`
	MaxLongestWaitSeconds float64 `json:"max_longest_wait_seconds" db:"max_longest_wait_seconds"`
	// ServiceLevelTarget and ServiceLevelTimeSeconds are the queue's goal
	// (e.g. 0.8 within 20 s) when the row was written.
	ServiceLevelTarget      float64 `json:"service_level_target" db:"service_level_target"`
	ServiceLevelTimeSeconds float64 `json:"service_level_time_seconds" db:"service_level_time_seconds"`
}

const queueIntervalColumns = `queue, interval_start, interval_seconds, offered, answered, answered_in_sl, missed_sl,
	sl_estimated, abandoned, exited, completed, wait_seconds, handle_seconds, max_waiting, max_longest_wait_seconds,
	service_level_target, service_level_time_seconds`

// InsertQueueIntervals writes rows as one write: all or none.
//
// A row for a (queue, start) already stored replaces it (an upsert) rather
// than failing with ECONFLICT, so a sampler that retries a write whose
// outcome it could not see (a timeout at commit) converges on one row with
// its figures instead of losing the batch. A row without queue or start,
// with a negative length or a negative count fails with EINVALID.
func (db *DB) InsertQueueIntervals(ctx context.Context, rows []QueueInterval) error {
	for _, r := range rows {
		if err := r.validate(); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return db.do(ctx, "queue stats", func(ctx context.Context, tx *sqlx.Tx) error {
		return insertQueueIntervals(ctx, tx, rows)
	})
}

func insertQueueIntervals(ctx context.Context, tx *sqlx.Tx, rows []QueueInterval) error {
	stmt, err := tx.PreparexContext(ctx, tx.Rebind(`INSERT INTO queue_stats (`+queueIntervalColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (queue, interval_start) DO UPDATE SET
			interval_seconds = excluded.interval_seconds, offered = excluded.offered,
			answered = excluded.answered, answered_in_sl = excluded.answered_in_sl,
			missed_sl = excluded.missed_sl, sl_estimated = excluded.sl_estimated,
			abandoned = excluded.abandoned, exited = excluded.exited, completed = excluded.completed,
			wait_seconds = excluded.wait_seconds, handle_seconds = excluded.handle_seconds,
			max_waiting = excluded.max_waiting, max_longest_wait_seconds = excluded.max_longest_wait_seconds,
			service_level_target = excluded.service_level_target,
			service_level_time_seconds = excluded.service_level_time_seconds`))
	if err != nil {
		return fmt.Errorf("queue stats: prepare: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, string(r.Queue), r.Start.UTC(), r.Seconds, r.Offered, r.Answered,
			r.AnsweredInSL, r.MissedSL, r.SLEstimated, r.Abandoned, r.Exited, r.Completed, r.WaitSeconds,
			r.HandleSeconds, r.MaxWaiting, r.MaxLongestWaitSeconds, r.ServiceLevelTarget, r.ServiceLevelTimeSeconds,
		); err != nil {
			return fmt.Errorf("queue stats: insert %s at %s: %w", r.Queue, r.Start.UTC().Format(time.RFC3339), err)
		}
	}
	return nil
}

func (r QueueInterval) validate() error {
	switch {
	case r.Queue == "":
		return sb.Errorf(sb.EINVALID, "queue stats: queue is required")
	case r.Start.IsZero():
		return sb.Errorf(sb.EINVALID, "queue stats: %s: interval start is required", r.Queue)
	}
	for _, n := range []int{r.Seconds, r.Offered, r.Answered, r.AnsweredInSL, r.MissedSL, r.Abandoned, r.Exited,
		r.Completed, r.MaxWaiting} {
		if n < 0 {
			return sb.Errorf(sb.EINVALID, "queue stats: %s at %s: negative count", r.Queue, r.Start.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// QueueHistory returns a queue's intervals that start in [from, to), oldest
// first. A zero from or to does not bound; to before from fails with
// EINVALID.
func (db *DB) QueueHistory(ctx context.Context, queue string, from, to time.Time) ([]QueueInterval, error) {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, sb.Errorf(sb.EINVALID, "queue stats: time range ends before it starts")
	}
	q := `SELECT ` + queueIntervalColumns + ` FROM queue_stats WHERE queue = ?`
	args := []any{queue}
	if !from.IsZero() {
		q += ` AND interval_start >= ?`
		args = append(args, from.UTC())
	}
	if !to.IsZero() {
		q += ` AND interval_start < ?`
		args = append(args, to.UTC())
	}
	q += ` ORDER BY interval_start`
	rows := []QueueInterval{}
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("queue stats: history of %s: %w", queue, err)
	}
	for i := range rows {
		rows[i].Start = rows[i].Start.UTC()
	}
	return rows, nil
}
