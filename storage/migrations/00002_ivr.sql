-- IVR: each call's path through its flow, and voicemail messages.

-- +goose Up
ALTER TABLE cdr ADD COLUMN ivr_path TEXT;

CREATE TABLE voicemails (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT      NOT NULL,
    mailbox     TEXT      NOT NULL,
    recording   TEXT      NOT NULL,
    duration_ns BIGINT    NOT NULL DEFAULT 0,
    caller      TEXT      NOT NULL DEFAULT '',
    vars        TEXT      NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL,
    CONSTRAINT voicemails_recording_key UNIQUE (recording)
);
CREATE INDEX voicemails_mailbox_created_at ON voicemails (mailbox, created_at);

-- +goose Down
DROP TABLE voicemails;
ALTER TABLE cdr DROP COLUMN ivr_path;
