package routing

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// ReturningCaller says whether a queued call's preferred agent is to be
// looked up as the agent the caller last talked to, and since when. A
// call whose flow named its agent (named: a CRM lookup's account owner)
// needs no look-up; nor does an unknown caller, or a queue with no
// returning-caller window (q.ReturningCaller 0).
func ReturningCaller(named sb.AgentID, q sb.Queue, caller string, now time.Time) (since time.Time, look bool) {
	if named != "" || q.ReturningCaller <= 0 || caller == "" {
		return time.Time{}, false
	}
	return now.Add(-q.ReturningCaller), true
}
