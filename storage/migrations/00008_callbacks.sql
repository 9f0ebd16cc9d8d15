-- +goose Up
-- Callback requests: a caller waiting in a queue asked to be called back.
-- A pending request (state 'pending') is put back in its queue, at the
-- place entered_at gives it, when Switchboard starts; state becomes
-- 'connected' when agent and customer talk, or says why it was given up.
CREATE TABLE callbacks (
    call_id    TEXT      NOT NULL PRIMARY KEY, -- the call that asked
    queue      TEXT      NOT NULL,
    number     TEXT      NOT NULL,             -- the number called back
    priority   INTEGER   NOT NULL DEFAULT 0,
    entered_at TIMESTAMP NOT NULL,             -- when the call joined the queue
    state      TEXT      NOT NULL DEFAULT 'pending',
    closed_at  TIMESTAMP
);
CREATE INDEX callbacks_pending ON callbacks (state, entered_at);

-- +goose Down
DROP TABLE callbacks;
