package recording

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// Day is a retention day: 24 hours, whatever the wall clock does across a
// daylight-saving change.
const Day = 24 * time.Hour

// RetentionDays returns how many days a recording of queue or campaign is
// kept under ps (0 = forever), with the precedence of [Policies.For].
func (ps Policies) RetentionDays(queue sb.QueueName, campaign string) int {
	return ps.For(queue, campaign).RetentionDays
}

// ShortestRetention is the smallest non-zero retention of any policy, 0
// when every policy keeps recordings forever: a store lists candidates
// older than that and lets [Expired] decide each.
func (ps Policies) ShortestRetention() int {
	least := 0
	consider := func(p Policy) {
		if p.RetentionDays > 0 && (least == 0 || p.RetentionDays < least) {
			least = p.RetentionDays
		}
	}
	consider(ps.Default)
	for _, p := range ps.Queues {
		consider(p)
	}
	for _, p := range ps.Campaigns {
		consider(p)
	}
	return least
}

// Expired chooses what retention deletes now. A recording is due when it is
// stored or failed and ended (or, with no end, started) at least its
// queue's or campaign's retention days before now. A recording still being
// written is never due, whatever its age; a deleted one is already gone.
//
// inUse says whether a recording is being downloaded; due recordings in use
// are returned apart, as busy, so the caller can log the skip and try again
// on its next run. inUse may be nil.
func Expired(recs []Recording, ps Policies, inUse func(id int64) bool, now time.Time) (due, busy []Recording) {
	for _, r := range recs {
		if r.State != StateStored && r.State != StateFailed {
			continue
		}
		days := ps.RetentionDays(r.Queue, r.Campaign)
		if days <= 0 {
			continue
		}
		end := r.Started
		if r.Ended.Valid {
			end = r.Ended.Time
		}
		if end.IsZero() || now.Sub(end) < time.Duration(days)*Day {
			continue
		}
		if inUse != nil && inUse(r.ID) {
			busy = append(busy, r)
			continue
		}
		due = append(due, r)
	}
	return due, busy
}
