-- Call recordings: one row per recorded file, and the audit of every access.
--
-- A recording's row is written when the recording starts (state recording)
-- and updated when it is stored or fails; retention marks it deleted and
-- keeps the row, so the metadata and its audit trail outlive the file.

-- +goose Up
CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY,
    name        TEXT      NOT NULL,
    call_id     TEXT      NOT NULL,
    leg         TEXT      NOT NULL DEFAULT '',
    queue       TEXT      NOT NULL DEFAULT '',
    campaign    TEXT      NOT NULL DEFAULT '',
    agent       TEXT      NOT NULL DEFAULT '',
    caller      TEXT      NOT NULL DEFAULT '',
    started_at  TIMESTAMP NOT NULL,
    ended_at    TIMESTAMP,
    duration_ns BIGINT    NOT NULL DEFAULT 0,
    size        BIGINT    NOT NULL DEFAULT 0,
    sha256      TEXT      NOT NULL DEFAULT '',
    pauses      TEXT      NOT NULL DEFAULT '[]',
    path        TEXT      NOT NULL DEFAULT '',
    state       TEXT      NOT NULL,
    error       TEXT      NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP,
    CONSTRAINT recordings_name_key UNIQUE (name)
);

-- The listing filters by equality plus the start-time range, newest first;
-- retention scans finished recordings by state and end time.
CREATE INDEX recordings_started_at ON recordings (started_at);
CREATE INDEX recordings_agent_started_at ON recordings (agent, started_at);
CREATE INDEX recordings_queue_started_at ON recordings (queue, started_at);
CREATE INDEX recordings_caller_started_at ON recordings (caller, started_at);
CREATE INDEX recordings_call_id ON recordings (call_id);
CREATE INDEX recordings_state_ended_at ON recordings (state, ended_at);

-- recording_id is NULL for a listing, which touches no single recording.
-- byte_range is the Range header of a download ("range" is a keyword in
-- both SQLite and PostgreSQL).
CREATE TABLE recording_access (
    id           INTEGER PRIMARY KEY,
    recording_id INTEGER REFERENCES recordings (id),
    who          TEXT      NOT NULL,
    role         TEXT      NOT NULL DEFAULT '',
    action       TEXT      NOT NULL,
    at           TIMESTAMP NOT NULL,
    remote       TEXT      NOT NULL DEFAULT '',
    byte_range   TEXT      NOT NULL DEFAULT '',
    detail       TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX recording_access_recording_id_at ON recording_access (recording_id, at);
CREATE INDEX recording_access_who_at ON recording_access (who, at);

-- +goose Down
DROP TABLE recording_access;
DROP TABLE recordings;
