-- Agent state history: every state an agent entered, from the ACD router.

-- +goose Up
CREATE TABLE agent_states (
    id       INTEGER PRIMARY KEY,
    agent    TEXT      NOT NULL,
    state    TEXT      NOT NULL,
    reason   TEXT      NOT NULL DEFAULT '',
    call_id  TEXT      NOT NULL DEFAULT '',
    at       TIMESTAMP NOT NULL
);
CREATE INDEX agent_states_agent_at ON agent_states (agent, at);

-- +goose Down
DROP TABLE agent_states;
