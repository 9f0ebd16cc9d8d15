-- Outbound campaigns: their settings, leads, the do-not-call list and one
-- row per dial attempt.
--
-- A lead is claimed for an attempt in one transaction that moves it to
-- 'dialing' and inserts its attempt row; attempts_lead_attempt_key makes a
-- second claim of the same attempt fail, so no lead is dialed twice for the
-- same attempt even if two dialers (or a dialer and its restarted self) race.

-- +goose Up
CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    name       TEXT      NOT NULL,
    state      TEXT      NOT NULL,
    settings   TEXT      NOT NULL, -- campaign.Campaign as JSON
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT campaigns_name_key UNIQUE (name)
);

CREATE TABLE leads (
    id             INTEGER PRIMARY KEY,
    campaign       TEXT      NOT NULL REFERENCES campaigns (name),
    number         TEXT      NOT NULL, -- E.164
    region         TEXT      NOT NULL DEFAULT '',
    time_zone      TEXT      NOT NULL,
    state          TEXT      NOT NULL DEFAULT 'new',
    attempts       INTEGER   NOT NULL DEFAULT 0,
    next_at        TIMESTAMP NOT NULL, -- earliest next attempt; the zero time (0001-01-01) for at once
    last_outcome   TEXT      NOT NULL DEFAULT '',
    abandoned_at   TIMESTAMP,
    reserved_agent TEXT      NOT NULL DEFAULT '',
    data           TEXT      NOT NULL DEFAULT '{}',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CONSTRAINT leads_campaign_number_key UNIQUE (campaign, number)
);
-- The hopper: due leads of a campaign in the order they fall due.
CREATE INDEX leads_campaign_state_next_at ON leads (campaign, state, next_at);

CREATE TABLE dnc (
    id       INTEGER PRIMARY KEY,
    number   TEXT      NOT NULL, -- E.164
    source   TEXT      NOT NULL, -- "internal", "disposition", or the imported list's name
    added_at TIMESTAMP NOT NULL,
    CONSTRAINT dnc_number_key UNIQUE (number)
);

CREATE TABLE attempts (
    id         INTEGER PRIMARY KEY,
    lead_id    INTEGER   NOT NULL REFERENCES leads (id),
    campaign   TEXT      NOT NULL,
    attempt_no INTEGER   NOT NULL,
    number     TEXT      NOT NULL,
    channel_id TEXT      NOT NULL DEFAULT '',
    state      TEXT      NOT NULL, -- claimed, dialing, answered, done
    outcome    TEXT      NOT NULL DEFAULT '',
    started_at TIMESTAMP NOT NULL,
    ended_at   TIMESTAMP,
    CONSTRAINT attempts_lead_attempt_key UNIQUE (lead_id, attempt_no)
);
-- Open attempts, for reconciliation after a restart.
CREATE INDEX attempts_state ON attempts (state);
CREATE INDEX attempts_campaign_started_at ON attempts (campaign, started_at);

-- +goose Down
DROP TABLE attempts;
DROP TABLE dnc;
DROP TABLE leads;
DROP TABLE campaigns;
