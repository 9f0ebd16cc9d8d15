-- Write-ahead call log: a call's row is written (open) when the call
-- enters and updated as it goes; the end closes it. A row still open at a
-- start whose call the PBX no longer has is closed as ended_while_down.

-- +goose Up
ALTER TABLE cdr ADD COLUMN open BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX cdr_open ON cdr (open, node);

-- +goose Down
DROP INDEX cdr_open;
ALTER TABLE cdr DROP COLUMN open;
