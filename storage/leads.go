package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
)

// The attempt types are the domain's (package campaign); these names keep
// storage's callers reading as before.
type (
	AttemptState = sb.AttemptState
	Attempt      = sb.Attempt
	Claim        = campaign.Claim
	DNCEntry     = campaign.DNCListing
	Reconciled   = campaign.Reconciled
	LiveAnswer   = campaign.LiveAnswer
)

// Attempt states and dispositions (package campaign).
const (
	AttemptClaimed    = sb.AttemptClaimed
	AttemptDialing    = sb.AttemptDialing
	AttemptAnswered   = sb.AttemptAnswered
	AttemptDone       = sb.AttemptDone
	DispositionDNC    = campaign.DispositionDNC
	MaxDispositionLen = campaign.MaxDispositionLen
)

// ImportCounts counts what UpsertLeads did.
type ImportCounts struct {
	Imported int // new leads
	Merged   int // leads already in the campaign (or earlier in the batch): data merged
}

// UpsertLeads adds leads to their campaign in one transaction. A lead whose
// number the campaign already has is merged: its data gets the new non-empty
// values; its zone, state and attempts are kept. New leads are due at once
// (their NextAt, if set, is kept) and come before due retries in ClaimLeads.
// A campaign that does not exist fails with ENOTFOUND.
func (db *DB) UpsertLeads(ctx context.Context, leads []sb.Lead, now time.Time) (ImportCounts, error) {
	var n ImportCounts
	err := db.do(ctx, "leads: upsert", func(ctx context.Context, tx *sqlx.Tx) error {
		var err error
		n, err = upsertLeads(ctx, tx, leads, now)
		return err
	})
	if err != nil {
		return ImportCounts{}, err
	}
	return n, nil
}

func upsertLeads(ctx context.Context, tx *sqlx.Tx, leads []sb.Lead, now time.Time) (ImportCounts, error) {
	var n ImportCounts
	known := map[string]bool{}
	for _, l := range leads {
		if !known[l.Campaign] {
			if _, err := getCampaign(ctx, tx, l.Campaign); err != nil {
				return ImportCounts{}, err
			}
			known[l.Campaign] = true
		}
		var old struct {
			ID   int64  `db:"id"`
			Data string `db:"data"`
		}
		err := tx.GetContext(ctx, &old, tx.Rebind(`SELECT id, data FROM leads WHERE campaign = ? AND number = ?`), l.Campaign, l.Number)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			data, err := encodeData(l.Data)
			if err != nil {
				return ImportCounts{}, err
			}
			state := l.State
			if state == "" {
				state = sb.LeadNew
			}
			next := l.NextAt // zero: due at once, and first in the hopper
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO leads (campaign, number, region, time_zone, state, attempts,
				next_at, reserved_agent, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				l.Campaign, l.Number, l.Region, l.TimeZone, string(state), l.Attempts, next.UTC(), l.ReservedAgent, data,
				now.UTC(), now.UTC()); err != nil {
				return ImportCounts{}, fmt.Errorf("lead %s: insert: %w", l.Number, err)
			}
			n.Imported++
		case err != nil:
			return ImportCounts{}, fmt.Errorf("lead %s: %w", l.Number, err)
		default:
			var prev map[string]string
			if err := json.Unmarshal([]byte(old.Data), &prev); err != nil {
				return ImportCounts{}, fmt.Errorf("lead %s: data: %w", l.Number, err)
			}
			data, err := encodeData(campaign.MergeData(prev, l.Data))
			if err != nil {
				return ImportCounts{}, err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE leads SET data = ?, updated_at = ? WHERE id = ?`),
				data, now.UTC(), old.ID); err != nil {
				return ImportCounts{}, fmt.Errorf("lead %s: merge: %w", l.Number, err)
			}
			n.Merged++
		}
	}
	return n, nil
}

func encodeData(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("lead data: %w", err)
	}
	return string(b), nil
}

// leadColumns are the columns leadRow reads.
const leadColumns = `id, campaign, number, region, time_zone, state, attempts, next_at, last_outcome,
	abandoned_at, reserved_agent, data`

// leadRow is a leads row.
type leadRow struct {
	ID            int64        `db:"id"`
	Campaign      string       `db:"campaign"`
	Number        string       `db:"number"`
	Region        string       `db:"region"`
	TimeZone      string       `db:"time_zone"`
	State         string       `db:"state"`
	Attempts      int          `db:"attempts"`
	NextAt        time.Time    `db:"next_at"`
	LastOutcome   string       `db:"last_outcome"`
	AbandonedAt   sql.NullTime `db:"abandoned_at"`
	ReservedAgent string       `db:"reserved_agent"`
	Data          string       `db:"data"`
}

func (r leadRow) lead() (sb.Lead, error) {
	l := sb.Lead{
		ID: r.ID, Campaign: r.Campaign, Number: r.Number, Region: r.Region, TimeZone: r.TimeZone,
		State: sb.LeadState(r.State), Attempts: r.Attempts, NextAt: r.NextAt.UTC(),
		LastOutcome: sb.DialOutcome(r.LastOutcome), ReservedAgent: r.ReservedAgent,
	}
	if r.AbandonedAt.Valid {
		l.AbandonedAt = r.AbandonedAt.Time.UTC()
	}
	if err := json.Unmarshal([]byte(r.Data), &l.Data); err != nil {
		return l, fmt.Errorf("lead %d: data: %w", r.ID, err)
	}
	if len(l.Data) == 0 {
		l.Data = nil
	}
	return l, nil
}

// Lead returns the lead of a campaign with the E.164 number, or fails with
// ENOTFOUND.
func (db *DB) Lead(ctx context.Context, campaignName, number string) (sb.Lead, error) {
	var r leadRow
	err := db.read.GetContext(ctx, &r, db.read.Rebind(`SELECT `+leadColumns+` FROM leads WHERE campaign = ? AND number = ?`), campaignName, number)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sb.Lead{}, sb.Errorf(sb.ENOTFOUND, "campaign %s has no lead %s", campaignName, number)
	case err != nil:
		return sb.Lead{}, fmt.Errorf("lead %s: %w", number, err)
	}
	return r.lead()
}

// LeadCounts returns the number of leads of a campaign in each state.
func (db *DB) LeadCounts(ctx context.Context, campaignName string) (map[sb.LeadState]int, error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(`SELECT state, COUNT(*) AS n FROM leads WHERE campaign = ? GROUP BY state`), campaignName); err != nil {
		return nil, fmt.Errorf("campaign %s: lead counts: %w", campaignName, err)
	}
	out := map[sb.LeadState]int{}
	for _, r := range rows {
		out[sb.LeadState(r.State)] = r.N
	}
	return out, nil
}

// AddDNC puts an E.164 number on the do-not-call list and reports whether
// it was not there already (an existing entry keeps its source and time).
func (db *DB) AddDNC(ctx context.Context, number, source string, now time.Time) (added bool, err error) {
	n, err := db.ImportDNC(ctx, []string{number}, source, now)
	return n == 1, err
}

// ImportDNC puts E.164 numbers on the do-not-call list in one transaction
// and returns how many were new.
func (db *DB) ImportDNC(ctx context.Context, numbers []string, source string, now time.Time) (added int, err error) {
	for _, num := range numbers {
		if num == "" {
			return 0, sb.Errorf(sb.EINVALID, "dnc: empty number")
		}
	}
	err = db.do(ctx, "dnc: import", func(ctx context.Context, tx *sqlx.Tx) error {
		added = 0
		for _, num := range numbers {
			added1, err := addDNC(ctx, tx, num, source, now)
			if err != nil {
				return err
			}
			if added1 {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

func addDNC(ctx context.Context, tx *sqlx.Tx, number, source string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO dnc (number, source, added_at) VALUES (?, ?, ?)
		ON CONFLICT (number) DO NOTHING`), number, source, now.UTC())
	if err != nil {
		return false, fmt.Errorf("dnc %s: %w", number, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DNC returns the do-not-call entry of an E.164 number, if it has one.
func (db *DB) DNC(ctx context.Context, number string) (DNCEntry, bool, error) {
	var e DNCEntry
	err := db.read.GetContext(ctx, &e, db.read.Rebind(`SELECT number, source, added_at FROM dnc WHERE number = ?`), number)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return DNCEntry{}, false, nil
	case err != nil:
		return DNCEntry{}, false, fmt.Errorf("dnc %s: %w", number, err)
	}
	e.AddedAt = e.AddedAt.UTC()
	return e, true, nil
}

// claimPage is how many due leads ClaimLeads reads at a time while it looks
// for ones inside their calling window.
const claimPage = 256

// ClaimLeads claims up to n leads of a running campaign that are eligible
// at now (campaign.Eligible: calling window in each lead's zone, attempts
// left, retry delay over, no recent abandon) and not on the do-not-call list
// at this moment, oldest due first. In one transaction each lead moves to
// dialing and gets an attempt row in state claimed; the unique
// (lead, attempt number) key makes a second claim of the same attempt
// impossible. A campaign that is not running yields no claims.
//
// The dialer then calls MarkDialing with the channel ID it will originate
// with, before it originates: an attempt still claimed after a crash is
// known never to have reached the PBX (see ReconcileDialing).
func (db *DB) ClaimLeads(ctx context.Context, campaignName string, n int, now time.Time) ([]Claim, error) {
	if n <= 0 {
		return nil, nil
	}
	var claims []Claim
	err := db.do(ctx, "claim leads", func(ctx context.Context, tx *sqlx.Tx) error {
		var err error
		claims, err = claimLeads(ctx, tx, campaignName, n, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return claims, nil
}

func claimLeads(ctx context.Context, tx *sqlx.Tx, campaignName string, n int, now time.Time) ([]Claim, error) {
	c, err := getCampaign(ctx, tx, campaignName)
	if err != nil {
		return nil, err
	}
	if c.State != sb.CampaignRunning {
		return nil, nil
	}

	var picked []sb.Lead
	var afterAt time.Time
	var afterID int64 = -1
	for len(picked) < n {
		var rows []leadRow
		q := `SELECT ` + leadColumns + ` FROM leads
			WHERE campaign = ? AND state IN ('new', 'retry') AND next_at <= ? AND attempts < ?
			AND NOT EXISTS (SELECT 1 FROM dnc WHERE dnc.number = leads.number)`
		args := []any{campaignName, now.UTC(), c.MaxAttempts}
		if afterID >= 0 {
			q += ` AND (next_at > ? OR (next_at = ? AND id > ?))`
			args = append(args, afterAt.UTC(), afterAt.UTC(), afterID)
		}
		q += ` ORDER BY next_at, id LIMIT ?`
		args = append(args, claimPage)
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
			return nil, fmt.Errorf("claim %s: %w", campaignName, err)
		}
		for _, r := range rows {
			l, err := r.lead()
			if err != nil {
				return nil, err
			}
			if ok, _ := campaign.Eligible(l, c, false, now); ok {
				picked = append(picked, l)
				if len(picked) == n {
					break
				}
			}
		}
		if len(rows) < claimPage {
			break
		}
		afterAt, afterID = rows[len(rows)-1].NextAt, rows[len(rows)-1].ID
	}

	claims := make([]Claim, 0, len(picked))
	for _, l := range picked {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE leads SET state = 'dialing', attempts = attempts + 1, updated_at = ?
			WHERE id = ? AND state IN ('new', 'retry')`), now.UTC(), l.ID)
		if err != nil {
			return nil, fmt.Errorf("claim lead %s: %w", l.Number, err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return nil, fmt.Errorf("claim lead %s: the lead changed under the claim (%d rows, %v)", l.Number, k, err)
		}
		l.State, l.Attempts = sb.LeadDialing, l.Attempts+1
		a := Attempt{LeadID: l.ID, Campaign: l.Campaign, Number: l.Number, State: AttemptClaimed, Started: now.UTC()}
		if err := tx.GetContext(ctx, &a.AttemptNo, tx.Rebind(`SELECT COALESCE(MAX(attempt_no), 0) + 1 FROM attempts WHERE lead_id = ?`), l.ID); err != nil {
			return nil, fmt.Errorf("claim lead %s: %w", l.Number, err)
		}
		err = tx.GetContext(ctx, &a.ID, tx.Rebind(`INSERT INTO attempts (lead_id, campaign, attempt_no, number, state, started_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), l.ID, l.Campaign, a.AttemptNo, l.Number, string(a.State), a.Started)
		switch {
		case isUniqueViolation(err):
			return nil, &sb.Error{Code: sb.ECONFLICT, Message: fmt.Sprintf("lead %s attempt %d is already claimed", l.Number, a.AttemptNo), Err: err}
		case err != nil:
			return nil, fmt.Errorf("claim lead %s: %w", l.Number, err)
		}
		claims = append(claims, Claim{Lead: l, Attempt: a})
	}
	return claims, nil
}

// MarkDialing records the channel an attempt is originated on. Call it
// before the originate: ReconcileDialing keeps attempts whose channel is
// still up and closes the others. Fails with ECONFLICT unless the attempt
// is claimed.
func (db *DB) MarkDialing(ctx context.Context, attemptID int64, channelID string) error {
	if channelID == "" {
		return sb.Errorf(sb.EINVALID, "attempt %d: empty channel id", attemptID)
	}
	return db.moveAttempt(ctx, attemptID, AttemptClaimed, AttemptDialing, `channel_id = ?`, channelID)
}

// MarkAnswered records that an attempt's call was answered. Fails with
// ECONFLICT unless the attempt is dialing.
func (db *DB) MarkAnswered(ctx context.Context, attemptID int64) error {
	return db.moveAttempt(ctx, attemptID, AttemptDialing, AttemptAnswered, ``)
}

// MarkConnected records that an agent was put through to the person of an
// open attempt (answered, or dialing when the answer's report was lost: it
// is answered then). Fails with ECONFLICT when the attempt is closed.
func (db *DB) MarkConnected(ctx context.Context, attemptID int64, agent string, at time.Time) error {
	return db.do(ctx, "attempt: connected", func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE attempts SET state = 'answered', agent = ?, connected_at = ?
			WHERE id = ? AND state IN ('dialing', 'answered')`), agent, at.UTC(), attemptID)
		if err != nil {
			return fmt.Errorf("attempt %d: connected: %w", attemptID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return sb.Errorf(sb.ECONFLICT, "attempt %d is not open (or does not exist)", attemptID)
		}
		return nil
	})
}

func (db *DB) moveAttempt(ctx context.Context, id int64, from, to AttemptState, set string, args ...any) error {
	q := `UPDATE attempts SET state = ?`
	if set != "" {
		q += `, ` + set
	}
	q += ` WHERE id = ? AND state = ?`
	all := append(append([]any{string(to)}, args...), id, string(from))
	return db.do(ctx, "attempt: move", func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(q), all...)
		if err != nil {
			return fmt.Errorf("attempt %d: %s: %w", id, to, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return sb.Errorf(sb.ECONFLICT, "attempt %d is not %s (or does not exist)", id, from)
		}
		return nil
	})
}

// attemptRow is an attempts row.
type attemptRow struct {
	ID          int64        `db:"id"`
	LeadID      int64        `db:"lead_id"`
	Campaign    string       `db:"campaign"`
	AttemptNo   int          `db:"attempt_no"`
	Number      string       `db:"number"`
	ChannelID   string       `db:"channel_id"`
	State       string       `db:"state"`
	Outcome     string       `db:"outcome"`
	Started     time.Time    `db:"started_at"`
	Ended       sql.NullTime `db:"ended_at"`
	Disposition string       `db:"disposition"`
	Agent       string       `db:"agent"`
	Connected   sql.NullTime `db:"connected_at"`
}

const attemptColumns = `id, lead_id, campaign, attempt_no, number, channel_id, state, outcome, started_at, ended_at, disposition, agent, connected_at`

func (r attemptRow) attempt() Attempt {
	a := Attempt{ID: r.ID, LeadID: r.LeadID, Campaign: r.Campaign, AttemptNo: r.AttemptNo, Number: r.Number,
		ChannelID: r.ChannelID, State: AttemptState(r.State), Outcome: sb.DialOutcome(r.Outcome), Started: r.Started.UTC(),
		Disposition: r.Disposition}
	if r.Ended.Valid {
		a.Ended = r.Ended.Time.UTC()
	}
	a.Agent = r.Agent
	if r.Connected.Valid {
		a.Connected = r.Connected.Time.UTC()
	}
	return a
}

// Attempts returns a lead's attempts in order.
func (db *DB) Attempts(ctx context.Context, leadID int64) ([]Attempt, error) {
	var rows []attemptRow
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(`SELECT `+attemptColumns+` FROM attempts WHERE lead_id = ? ORDER BY attempt_no`), leadID); err != nil {
		return nil, fmt.Errorf("lead %d: attempts: %w", leadID, err)
	}
	out := make([]Attempt, len(rows))
	for i, r := range rows {
		out[i] = r.attempt()
	}
	return out, nil
}

// FinishAttempt writes how an attempt ended and moves its lead on
// (campaign.Next: done, retry at the outcome's delay, failed, dnc). A
// do-not-call outcome also puts the number on the do-not-call list
// (source "disposition"). Finishing an attempt twice fails with ECONFLICT;
// an unknown attempt with ENOTFOUND. It returns the lead as it now is.
func (db *DB) FinishAttempt(ctx context.Context, attemptID int64, outcome sb.DialOutcome, at time.Time) (sb.Lead, error) {
	if !slices.Contains(sb.DialOutcomes, outcome) {
		return sb.Lead{}, sb.Errorf(sb.EINVALID, "attempt %d: unknown outcome %q", attemptID, outcome)
	}
	return db.finishTx(ctx, attemptID, outcome, at, finishPlaced)
}

// finishMode is how finish treats the lead of the attempt it closes.
type finishMode int

const (
	// finishPlaced applies the outcome's rules (campaign.Next); a "dnc"
	// disposition set during the call closes the lead as dnc.
	finishPlaced finishMode = iota
	// finishReturn is for an attempt that never reached the PBX: the
	// attempt is given back to the lead, which is due at once.
	finishReturn
	// finishDNC is for an attempt that never reached the PBX because the
	// number is on the do-not-call list: not counted, the lead closed as dnc.
	finishDNC
)

// finish closes an open attempt inside tx. The unplaced modes
// (finishReturn, finishDNC) fail with ECONFLICT unless the attempt is only
// claimed: an attempt that may have rung is counted.
func finish(ctx context.Context, tx *sqlx.Tx, attemptID int64, outcome sb.DialOutcome, at time.Time, mode finishMode) (sb.Lead, error) {
	refund := mode != finishPlaced
	var ar attemptRow
	err := tx.GetContext(ctx, &ar, tx.Rebind(`SELECT `+attemptColumns+` FROM attempts WHERE id = ?`), attemptID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sb.Lead{}, sb.Errorf(sb.ENOTFOUND, "no attempt %d", attemptID)
	case err != nil:
		return sb.Lead{}, fmt.Errorf("attempt %d: %w", attemptID, err)
	case AttemptState(ar.State) == AttemptDone:
		return sb.Lead{}, sb.Errorf(sb.ECONFLICT, "attempt %d is already finished (%s)", attemptID, ar.Outcome)
	case refund && AttemptState(ar.State) != AttemptClaimed:
		return sb.Lead{}, sb.Errorf(sb.ECONFLICT, "attempt %d is %s: it may have rung, so it cannot be given back", attemptID, ar.State)
	}
	var lr leadRow
	if err := tx.GetContext(ctx, &lr, tx.Rebind(`SELECT `+leadColumns+` FROM leads WHERE id = ?`), ar.LeadID); err != nil {
		return sb.Lead{}, fmt.Errorf("attempt %d: lead %d: %w", attemptID, ar.LeadID, err)
	}
	l, err := lr.lead()
	if err != nil {
		return sb.Lead{}, err
	}
	c, err := getCampaign(ctx, tx, ar.Campaign)
	if err != nil {
		return sb.Lead{}, err
	}
	switch {
	case refund:
		l.State, l.Attempts, l.NextAt = sb.LeadRetry, max(0, l.Attempts-1), at
		if l.Attempts == 0 {
			l.State = sb.LeadNew
		}
		if mode == finishDNC {
			l.State, l.LastOutcome = sb.LeadDNC, sb.DialDNC
		}
	default:
		if l, err = campaign.Next(c, l, outcome, at); err != nil {
			return sb.Lead{}, err
		}
		if ar.Disposition == DispositionDNC {
			l.State = sb.LeadDNC
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE attempts SET state = ?, outcome = ?, ended_at = ? WHERE id = ?`),
		string(AttemptDone), string(outcome), at.UTC(), attemptID); err != nil {
		return sb.Lead{}, fmt.Errorf("attempt %d: %w", attemptID, err)
	}
	next := l.NextAt
	if next.IsZero() {
		next = at
	}
	var abandoned sql.NullTime
	if !l.AbandonedAt.IsZero() {
		abandoned = sql.NullTime{Time: l.AbandonedAt.UTC(), Valid: true}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE leads SET state = ?, attempts = ?, next_at = ?, last_outcome = ?,
		abandoned_at = ?, updated_at = ? WHERE id = ?`),
		string(l.State), l.Attempts, next.UTC(), string(l.LastOutcome), abandoned, at.UTC(), l.ID); err != nil {
		return sb.Lead{}, fmt.Errorf("attempt %d: lead %s: %w", attemptID, l.Number, err)
	}
	if outcome == sb.DialDNC && !refund {
		if _, err := addDNC(ctx, tx, l.Number, "disposition", at); err != nil {
			return sb.Lead{}, err
		}
	}
	l.NextAt = next.UTC()
	return l, nil
}

// CloseUnattended closes an attempt whose call the dialplan recorded as
// answered while no Switchboard was connected: outcome abandoned (the
// campaign's abandoned rules apply: the lead sits out its delay) or
// machine, and for a person the call-log row (outcome abandoned, hung up
// by the system, as node's call) in the same transaction. An attempt that
// reached an agent stays answered. Fails with ECONFLICT when the attempt
// is already closed, ENOTFOUND when unknown.
func (db *DB) CloseUnattended(ctx context.Context, attemptID int64, u sb.Unattended, node string, at time.Time) (sb.DialOutcome, error) {
	var o sb.DialOutcome
	err := db.do(ctx, "attempt: close unattended", func(ctx context.Context, tx *sqlx.Tx) error {
		var ar attemptRow
		err := tx.GetContext(ctx, &ar, tx.Rebind(`SELECT `+attemptColumns+` FROM attempts WHERE id = ?`), attemptID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return sb.Errorf(sb.ENOTFOUND, "no attempt %d", attemptID)
		case err != nil:
			return fmt.Errorf("attempt %d: %w", attemptID, err)
		case AttemptState(ar.State) == AttemptDone:
			return sb.Errorf(sb.ECONFLICT, "attempt %d is already finished (%s)", attemptID, ar.Outcome)
		}
		o, err = closeUnattended(ctx, tx, ar.attempt(), u, node, at)
		return err
	})
	return o, err
}

func closeUnattended(ctx context.Context, tx *sqlx.Tx, a Attempt, u sb.Unattended, node string, at time.Time) (sb.DialOutcome, error) {
	o := sb.DialAbandoned
	switch {
	case !a.Connected.IsZero():
		o = sb.DialAnswered
	case u.Machine:
		o = sb.DialMachine
	}
	if _, err := finish(ctx, tx, a.ID, o, at, finishPlaced); err != nil {
		return "", err
	}
	if o != sb.DialAbandoned {
		return o, nil
	}
	ended := u.At
	if ended.IsZero() {
		ended = at
	}
	var queue string
	if c, err := getCampaign(ctx, tx, a.Campaign); err == nil {
		queue = c.Queue
	}
	// The row a live call would have had (center: a person answered a
	// campaign call): the lead's number calling the campaign. Its answer
	// time is not recorded; it was hung up at once or after the message.
	_, err := tx.ExecContext(ctx, tx.Rebind(closeCDRUpsert),
		a.ChannelID, node, a.Number, "", "campaign:"+a.Campaign, queue, "",
		ended.UTC(), ended.UTC(), nil, ended.UTC(), string(sb.OutcomeAbandoned), 0, "system", "")
	if err != nil {
		return "", fmt.Errorf("attempt %d: call-log row: %w", a.ID, err)
	}
	return o, nil
}

// ReconcileDialing brings the attempts left open by a crash or a restart
// in line with the PBX: liveChannels are the channel IDs the PBX has now.
// An open attempt whose channel is not live is closed by what it reached
// (reconciledOutcome), or given back to the lead (due at now) if it was
// only claimed. unattended are the attempts whose call the PBX's dialplan
// recorded as answered while no Switchboard was connected: they close as
// abandoned (machine for an answering machine) with their call-log row,
// written as node's (see CloseUnattended). Afterwards no lead is left in
// dialing without a live call, and none is dialed twice for the same
// attempt.
func (db *DB) ReconcileDialing(ctx context.Context, liveChannels []string, unattended map[int64]sb.Unattended, node string, now time.Time) (Reconciled, error) {
	live := make(map[string]bool, len(liveChannels))
	for _, ch := range liveChannels {
		live[ch] = true
	}
	var out Reconciled
	err := db.do(ctx, "reconcile", func(ctx context.Context, tx *sqlx.Tx) error {
		var err error
		out, err = reconcileDialing(ctx, tx, live, unattended, node, now)
		return err
	})
	if err != nil {
		return Reconciled{}, err
	}
	return out, nil
}

func reconcileDialing(ctx context.Context, tx *sqlx.Tx, live map[string]bool, unattended map[int64]sb.Unattended, node string, now time.Time) (Reconciled, error) {
	var out Reconciled
	var rows []attemptRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+attemptColumns+` FROM attempts
		WHERE state IN ('claimed', 'dialing', 'answered') ORDER BY id`); err != nil {
		return out, fmt.Errorf("reconcile: %w", err)
	}
	for _, r := range rows {
		a := r.attempt()
		if a.ChannelID != "" && live[a.ChannelID] {
			out.Live++
			continue
		}
		if u, ok := unattended[a.ID]; ok && a.State != AttemptClaimed && a.Connected.IsZero() {
			o, err := closeUnattended(ctx, tx, a, u, node, now)
			if err != nil {
				return Reconciled{}, fmt.Errorf("reconcile: %w", err)
			}
			a.State, a.Outcome, a.Ended = AttemptDone, o, now.UTC()
			out.Unattended = append(out.Unattended, a)
			continue
		}
		refund := a.State == AttemptClaimed
		mode := finishPlaced
		if refund {
			mode = finishReturn
		}
		o := reconciledOutcome(a)
		if _, err := finish(ctx, tx, a.ID, o, now, mode); err != nil {
			return Reconciled{}, fmt.Errorf("reconcile: %w", err)
		}
		a.State, a.Outcome, a.Ended = AttemptDone, o, now.UTC()
		if refund {
			out.Returned = append(out.Returned, a)
		} else {
			out.Failed = append(out.Failed, a)
		}
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE leads SET state = 'retry', next_at = ?, updated_at = ?
		WHERE state = 'dialing' AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = leads.id
			AND a.state IN ('claimed', 'dialing', 'answered'))`), now.UTC(), now.UTC())
	if err != nil {
		return Reconciled{}, fmt.Errorf("reconcile: orphans: %w", err)
	}
	orphans, _ := res.RowsAffected()
	out.Orphans = int(orphans)
	return out, nil
}

// reconciledOutcome is how an open attempt whose call is gone ended, by
// what it had reached: an agent (answered: the conversation took place, it
// is never dialed again), a person no agent took (abandoned), ringing only
// (no answer: a call still ringing at a restart is not counted abandoned),
// or nothing yet (claimed: given back, failed is only a placeholder).
func reconciledOutcome(a Attempt) sb.DialOutcome {
	switch {
	case !a.Connected.IsZero():
		return sb.DialAnswered
	case a.State == AttemptAnswered:
		return sb.DialAbandoned
	case a.State == AttemptDialing:
		return sb.DialNoAnswer
	}
	return sb.DialFailed
}

// ReturnAttempt closes an attempt that was claimed and never originated (a
// preview the agent skipped, a lead found not dialable at dial time): the
// attempt is not counted and the lead is due again at once (ClaimLeads
// still applies every rule). The attempt row is kept, done with no outcome.
// Fails with ECONFLICT unless the attempt is claimed, ENOTFOUND if unknown.
func (db *DB) ReturnAttempt(ctx context.Context, attemptID int64, at time.Time) (sb.Lead, error) {
	return db.finishTx(ctx, attemptID, "", at, finishReturn)
}

// CloseAttemptDNC closes an attempt that was claimed and never originated
// because its number is on the do-not-call list: the attempt is not
// counted and the lead is closed as dnc. Fails with ECONFLICT unless the
// attempt is claimed.
func (db *DB) CloseAttemptDNC(ctx context.Context, attemptID int64, at time.Time) (sb.Lead, error) {
	return db.finishTx(ctx, attemptID, sb.DialDNC, at, finishDNC)
}

func (db *DB) finishTx(ctx context.Context, attemptID int64, outcome sb.DialOutcome, at time.Time, mode finishMode) (sb.Lead, error) {
	var l sb.Lead
	err := db.do(ctx, "attempt: finish", func(ctx context.Context, tx *sqlx.Tx) error {
		var err error
		l, err = finish(ctx, tx, attemptID, outcome, at, mode)
		return err
	})
	if err != nil {
		return sb.Lead{}, err
	}
	return l, nil
}

// SetDisposition records the agent's disposition of a placed attempt (a
// later one replaces it) and returns the lead as it now is. DispositionDNC
// puts the number on the do-not-call list (source "agent") and closes the
// lead as dnc: at once if the attempt is over, when it ends otherwise (see
// FinishAttempt). A lead already claimed for a newer attempt keeps its
// state; the list keeps it from being dialed again. Fails with EINVALID for
// an empty or over-long disposition, ENOTFOUND for an unknown attempt and
// ECONFLICT for one never placed.
func (db *DB) SetDisposition(ctx context.Context, attemptID int64, disposition string, at time.Time) (sb.Lead, error) {
	if disposition == "" || len(disposition) > MaxDispositionLen {
		return sb.Lead{}, sb.Errorf(sb.EINVALID, "attempt %d: disposition must be 1 to %d characters", attemptID, MaxDispositionLen)
	}
	var lr leadRow
	err := db.do(ctx, "attempt: disposition", func(ctx context.Context, tx *sqlx.Tx) error {
		var err error
		lr, err = setDisposition(ctx, tx, attemptID, disposition, at)
		return err
	})
	if err != nil {
		return sb.Lead{}, err
	}
	return lr.lead()
}

func setDisposition(ctx context.Context, tx *sqlx.Tx, attemptID int64, disposition string, at time.Time) (leadRow, error) {
	var ar attemptRow
	err := tx.GetContext(ctx, &ar, tx.Rebind(`SELECT `+attemptColumns+` FROM attempts WHERE id = ?`), attemptID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return leadRow{}, sb.Errorf(sb.ENOTFOUND, "no attempt %d", attemptID)
	case err != nil:
		return leadRow{}, fmt.Errorf("attempt %d: %w", attemptID, err)
	case AttemptState(ar.State) == AttemptClaimed, AttemptState(ar.State) == AttemptDone && ar.ChannelID == "":
		return leadRow{}, sb.Errorf(sb.ECONFLICT, "attempt %d was never placed", attemptID)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE attempts SET disposition = ? WHERE id = ?`), disposition, attemptID); err != nil {
		return leadRow{}, fmt.Errorf("attempt %d: disposition: %w", attemptID, err)
	}
	if disposition == DispositionDNC {
		if _, err := addDNC(ctx, tx, ar.Number, "agent", at); err != nil {
			return leadRow{}, err
		}
		if AttemptState(ar.State) == AttemptDone {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE leads SET state = 'dnc', last_outcome = 'dnc', updated_at = ?
				WHERE id = ? AND state <> 'dialing'`), at.UTC(), ar.LeadID); err != nil {
				return leadRow{}, fmt.Errorf("attempt %d: lead: %w", attemptID, err)
			}
		}
	}
	var lr leadRow
	if err := tx.GetContext(ctx, &lr, tx.Rebind(`SELECT `+leadColumns+` FROM leads WHERE id = ?`), ar.LeadID); err != nil {
		return leadRow{}, fmt.Errorf("attempt %d: lead %d: %w", attemptID, ar.LeadID, err)
	}
	return lr, nil
}

// Attempt returns one attempt, or fails with ENOTFOUND.
func (db *DB) Attempt(ctx context.Context, attemptID int64) (Attempt, error) {
	var r attemptRow
	err := db.read.GetContext(ctx, &r, db.read.Rebind(`SELECT `+attemptColumns+` FROM attempts WHERE id = ?`), attemptID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Attempt{}, sb.Errorf(sb.ENOTFOUND, "no attempt %d", attemptID)
	case err != nil:
		return Attempt{}, fmt.Errorf("attempt %d: %w", attemptID, err)
	}
	return r.attempt(), nil
}

// OpenAttempts returns every attempt not yet done (claimed, dialing,
// answered), oldest first: after ReconcileDialing, the calls still up.
func (db *DB) OpenAttempts(ctx context.Context) ([]Attempt, error) {
	var rows []attemptRow
	if err := db.read.SelectContext(ctx, &rows, `SELECT `+attemptColumns+` FROM attempts
		WHERE state IN ('claimed', 'dialing', 'answered') ORDER BY id`); err != nil {
		return nil, fmt.Errorf("open attempts: %w", err)
	}
	out := make([]Attempt, len(rows))
	for i, r := range rows {
		out[i] = r.attempt()
	}
	return out, nil
}

// LiveAnswers returns a campaign's attempts that ended at or after since
// with a person answering (outcome answered or abandoned), oldest first:
// what a restarted dialer rebuilds its abandon ledger from.
func (db *DB) LiveAnswers(ctx context.Context, campaignName string, since time.Time) ([]LiveAnswer, error) {
	var rows []struct {
		Outcome string    `db:"outcome"`
		Ended   time.Time `db:"ended_at"`
	}
	if err := db.read.SelectContext(ctx, &rows, db.read.Rebind(`SELECT outcome, ended_at FROM attempts
		WHERE campaign = ? AND state = 'done' AND outcome IN ('answered', 'abandoned') AND ended_at >= ?
		ORDER BY ended_at, id`), campaignName, since.UTC()); err != nil {
		return nil, fmt.Errorf("campaign %s: live answers: %w", campaignName, err)
	}
	out := make([]LiveAnswer, len(rows))
	for i, r := range rows {
		out[i] = LiveAnswer{At: r.Ended.UTC(), Abandoned: r.Outcome == string(sb.DialAbandoned)}
	}
	return out, nil
}
