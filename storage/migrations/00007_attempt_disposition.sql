-- The agent's disposition of an outbound attempt (sale, callback, dnc, ...),
-- set after the call through the API.

-- +goose Up
ALTER TABLE attempts ADD COLUMN disposition TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attempts DROP COLUMN disposition;
