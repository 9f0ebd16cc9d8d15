-- Who took an outbound attempt and when: set when an agent is put through
-- (the runner's Connected report). An attempt whose call ended while
-- Switchboard was down is closed by what it reached: an agent (answered,
-- never retried) or only a person (abandoned).

-- +goose Up
ALTER TABLE attempts ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN connected_at TIMESTAMP;

-- +goose Down
ALTER TABLE attempts DROP COLUMN connected_at;
ALTER TABLE attempts DROP COLUMN agent;
