-- Queue statistics history: one row per queue per sampling interval, written
-- by the controller's sampler from the ACD router's cumulative counters
-- (cmd/switchboard/queuestats.go), and the index the returning-caller
-- look-up (storage.LastAgent) needs.
--
-- Counts are of events that happened in [interval_start, interval_start +
-- interval_seconds), whatever the call's entry time: a call that entered at
-- 09:14 and was answered at 09:16 is offered in the 09:00 row and answered
-- in the 09:15 row. Sums are kept rather than averages so that any range of
-- rows adds up: ASA = wait_seconds / answered, AHT = handle_seconds /
-- completed, service level = answered_in_sl / (answered + missed_sl).
--
--   offered          calls that entered the queue (refused joins, queue full
--                    or empty, are not offered)
--   answered         calls an agent answered
--   answered_in_sl   of those, answered within service_level_time_seconds
--   missed_sl        calls that abandoned or exited after the service-level
--                    time (the rest of the router's service-level
--                    denominator; quick abandons count nowhere)
--   sl_estimated     1 when answered_in_sl and missed_sl were inferred
--                    rather than determined exactly (see the sampler)
--   abandoned        callers who hung up waiting or ringing
--   exited           calls sent out of the queue: maximum wait, queue
--                    empty, escalation exit, failed callback
--   completed        answered calls whose talk ended
--   wait_seconds     total wait (entry to answer) of the answered calls
--   handle_seconds   total talk of the calls completed plus the wrap-up
--                    time agents ended in the interval
--   max_waiting      most callers waiting (callbacks included) seen at
--                    the sampler's peeks, a lower bound of the true peak
--   max_longest_wait_seconds  longest current wait seen at the peeks
--   service_level_target, service_level_time_seconds  the queue's goal
--                    (e.g. 0.8 within 20 s) when the row was written
--
-- interval_start is UTC. A row is normally a whole interval aligned to the
-- wall clock; the first after a start and the last before a stop are
-- partial, with interval_seconds saying how much they cover.

-- +goose Up
CREATE TABLE queue_stats (
    id                         INTEGER PRIMARY KEY,
    queue                      TEXT      NOT NULL,
    interval_start             TIMESTAMP NOT NULL,
    interval_seconds           INTEGER   NOT NULL,
    offered                    INTEGER   NOT NULL DEFAULT 0,
    answered                   INTEGER   NOT NULL DEFAULT 0,
    answered_in_sl             INTEGER   NOT NULL DEFAULT 0,
    missed_sl                  INTEGER   NOT NULL DEFAULT 0,
    sl_estimated               BOOLEAN   NOT NULL DEFAULT FALSE,
    abandoned                  INTEGER   NOT NULL DEFAULT 0,
    exited                     INTEGER   NOT NULL DEFAULT 0,
    completed                  INTEGER   NOT NULL DEFAULT 0,
    wait_seconds               REAL      NOT NULL DEFAULT 0,
    handle_seconds             REAL      NOT NULL DEFAULT 0,
    max_waiting                INTEGER   NOT NULL DEFAULT 0,
    max_longest_wait_seconds   REAL      NOT NULL DEFAULT 0,
    service_level_target       REAL      NOT NULL DEFAULT 0,
    service_level_time_seconds REAL      NOT NULL DEFAULT 0,
    CONSTRAINT queue_stats_queue_start_key UNIQUE (queue, interval_start)
);

-- The returning-caller look-up: a caller's calls by end time, newest first.
CREATE INDEX cdr_caller_ended_at ON cdr (caller, ended_at);

-- +goose Down
DROP INDEX cdr_caller_ended_at;
DROP TABLE queue_stats;
