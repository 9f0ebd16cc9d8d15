package reconcile

import (
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Subscriptions are the agents' phones to follow: each endpoint once, and
// only those with a state the PBX follows (PJSIP, SIP, IAX2, DAHDI
// phones...). A Local endpoint (Local/EXT@CONTEXT, a dialplan extension)
// has none: Asterisk refuses to subscribe to it (422), and an agent
// reached through one is always taken as online.
func Subscriptions(agents []sb.Agent) []sb.Agent {
	seen := map[string]bool{}
	var out []sb.Agent
	for _, a := range agents {
		if seen[a.Endpoint] {
			continue
		}
		seen[a.Endpoint] = true
		if HasState(a.Endpoint) {
			out = append(out, a)
		}
	}
	return out
}

// HasState reports whether an endpoint has a state the PBX follows.
func HasState(endpoint string) bool {
	tech, _, _ := strings.Cut(endpoint, "/")
	return !strings.EqualFold(tech, "Local")
}

// OpenBefore is the bound for the call-log rows an earlier run left open
// (entered before it): rows entered up to start, the start instant
// included, since a call of the earlier run can enter at that very
// instant. A call of this run is live in the listing and left alone.
func OpenBefore(start time.Time) time.Time { return start.Add(time.Nanosecond) }

// EndedWhileDown closes the open rows whose call the listing no longer
// shows: they ended while Switchboard was down. A row still listed is
// adopted, and its end closes it. A closed row keeps what was written as
// the call went; it ends now (never before it entered), hung up by
// "unknown".
func EndedWhileDown(rows []sb.CDR, l Listing, now time.Time) []sb.CDR {
	listed := make(map[sb.ChannelID]bool, len(l.Channels))
	for _, ch := range l.Channels {
		listed[ch.ID] = true
	}
	var closed []sb.CDR
	for _, row := range rows {
		if listed[sb.ChannelID(row.CallID)] {
			continue
		}
		row.Outcome, row.Ended, row.HangupBy = sb.OutcomeEndedWhileDown, now, "unknown"
		if row.Ended.Before(row.Entered) {
			row.Ended = row.Entered
		}
		closed = append(closed, row)
	}
	return closed
}
