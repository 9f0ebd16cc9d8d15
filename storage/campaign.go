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

// CreateCampaign stores a new campaign. Settings that do not validate fail
// with EINVALID (the message lists every problem); a campaign of the same
// name with ECONFLICT.
func (db *DB) CreateCampaign(ctx context.Context, c sb.Campaign, now time.Time) error {
	if err := campaign.Validate(c); err != nil {
		return &sb.Error{Code: sb.EINVALID, Message: err.Error(), Err: err}
	}
	settings, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.Name, err)
	}
	return db.do(ctx, "campaign: create", func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO campaigns (name, state, settings, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`), c.Name, string(c.State), string(settings), now.UTC(), now.UTC())
		switch {
		case isUniqueViolation(err):
			return &sb.Error{Code: sb.ECONFLICT, Message: fmt.Sprintf("campaign %s already exists", c.Name), Err: err}
		case err != nil:
			return fmt.Errorf("campaign %s: create: %w", c.Name, err)
		}
		return nil
	})
}

// Campaign returns the campaign named name, or fails with ENOTFOUND.
func (db *DB) Campaign(ctx context.Context, name string) (sb.Campaign, error) {
	return getCampaign(ctx, db.read, name)
}

// Campaigns returns every campaign by name.
func (db *DB) Campaigns(ctx context.Context) ([]sb.Campaign, error) {
	var rows []campaignRow
	if err := db.read.SelectContext(ctx, &rows, `SELECT name, state, settings FROM campaigns ORDER BY name`); err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	out := make([]sb.Campaign, 0, len(rows))
	for _, r := range rows {
		c, err := r.campaign()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// SetCampaignState starts (running), pauses or stops a campaign. Stopped is
// final: leaving it fails with ECONFLICT.
func (db *DB) SetCampaignState(ctx context.Context, name string, state sb.CampaignState, now time.Time) error {
	if !slices.Contains(sb.CampaignStates, state) {
		return sb.Errorf(sb.EINVALID, "campaign %s: unknown state %q", name, state)
	}
	return db.do(ctx, "campaign: set state", func(ctx context.Context, tx *sqlx.Tx) error {
		c, err := getCampaign(ctx, tx, name)
		if err != nil {
			return err
		}
		if c.State == sb.CampaignStopped && state != sb.CampaignStopped {
			return sb.Errorf(sb.ECONFLICT, "campaign %s is stopped: create a new campaign instead", name)
		}
		c.State = state
		settings, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("campaign %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE campaigns SET state = ?, settings = ?, updated_at = ? WHERE name = ?`),
			string(state), string(settings), now.UTC(), name); err != nil {
			return fmt.Errorf("campaign %s: set state: %w", name, err)
		}
		return nil
	})
}

// campaignRow is a campaigns row.
type campaignRow struct {
	Name     string `db:"name"`
	State    string `db:"state"`
	Settings string `db:"settings"`
}

func (r campaignRow) campaign() (sb.Campaign, error) {
	var c sb.Campaign
	if err := json.Unmarshal([]byte(r.Settings), &c); err != nil {
		return c, fmt.Errorf("campaign %s: settings: %w", r.Name, err)
	}
	c.Name, c.State = r.Name, sb.CampaignState(r.State) // the columns are authoritative
	return c, nil
}

// getter is what reading a campaign needs: the read pool or a transaction.
type getter interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	Rebind(query string) string
}

func getCampaign(ctx context.Context, q getter, name string) (sb.Campaign, error) {
	var r campaignRow
	err := q.GetContext(ctx, &r, q.Rebind(`SELECT name, state, settings FROM campaigns WHERE name = ?`), name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sb.Campaign{}, sb.Errorf(sb.ENOTFOUND, "campaign %s does not exist (create it with `switchboard leads campaign create %s`)", name, name)
	case err != nil:
		return sb.Campaign{}, fmt.Errorf("campaign %s: %w", name, err)
	}
	return r.campaign()
}
