package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
)

// AgentStateRow is one state an agent entered.
type AgentStateRow struct {
	ID     int64      `json:"id" db:"id"`
	Agent  sb.AgentID `json:"agent" db:"agent"`
	State  string     `json:"state" db:"state"`
	Reason string     `json:"reason,omitempty" db:"reason"`
	CallID sb.CallID  `json:"call_id,omitempty" db:"call_id"`
	At     time.Time  `json:"at" db:"at"`
}

// agentStateQuery appends one agent-state row (InsertAgentState).
const agentStateQuery = `INSERT INTO agent_states (agent, state, reason, call_id, at)
	VALUES (?, ?, ?, ?, ?) RETURNING id`

// InsertAgentState records that an agent entered a state.
func (db *DB) InsertAgentState(ctx context.Context, r *AgentStateRow) error {
	if r.Agent == "" || r.State == "" || r.At.IsZero() {
		return sb.Errorf(sb.EINVALID, "agent state: agent, state and time are required")
	}
	var id int64
	err := db.do(ctx, "agent state: insert", func(ctx context.Context, tx *sqlx.Tx) error {
		err := db.w.stmt(tx, db.prep.agentState).QueryRowxContext(ctx,
			string(r.Agent), r.State, r.Reason, string(r.CallID), r.At.UTC()).Scan(&id)
		if err != nil {
			return fmt.Errorf("agent state: insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.ID = id
	return nil
}

// AgentStates returns an agent's states between from and to (zero: no
// bound), oldest first, at most limit (1..1000).
func (db *DB) AgentStates(ctx context.Context, agent sb.AgentID, from, to time.Time, limit int) ([]AgentStateRow, error) {
	if limit < 1 || limit > MaxCDRLimit {
		return nil, sb.Errorf(sb.EINVALID, "limit %d is out of range 1..%d", limit, MaxCDRLimit)
	}
	q := `SELECT id, agent, state, reason, call_id, at FROM agent_states WHERE agent = ?`
	args := []any{string(agent)}
	if !from.IsZero() {
		q += ` AND at >= ?`
		args = append(args, from.UTC())
	}
	if !to.IsZero() {
		q += ` AND at < ?`
		args = append(args, to.UTC())
	}
	q += ` ORDER BY at, id LIMIT ?`
	rows := []AgentStateRow{}
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(q), append(args, limit)...); err != nil {
		return nil, fmt.Errorf("agent states: %w", err)
	}
	for i := range rows {
		rows[i].At = rows[i].At.UTC()
	}
	return rows, nil
}
