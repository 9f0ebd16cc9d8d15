package routing

// What the router's owner (the center) reads from its actions: what an
// announcement says, why an offer failed, whether a message was refused.

import (
	"fmt"
	"math"
)

// Media is what a waiting caller hears at an announcement (Asterisk core
// sounds, as app_queue says them): their position, then the estimated
// wait in whole minutes, rounded up. A wait with no estimate yet says
// nothing.
func (a Announce) Media() []string {
	var media []string
	if a.SayPosition {
		if a.Position <= 1 {
			media = append(media, "sound:queue-youarenext")
		} else {
			media = append(media, "sound:queue-thereare", fmt.Sprintf("number:%d", a.Position-1), "sound:queue-callswaiting")
		}
	}
	if a.SayWait && a.EstimatedWait > 0 {
		minutes := int(math.Ceil(a.EstimatedWait.Minutes()))
		media = append(media, "sound:queue-holdtime", fmt.Sprintf("number:%d", minutes), "sound:queue-minutes")
	}
	return media
}

// FailReasonOf is why an offer failed, given the Q.850 cause its agent
// leg ended with: busy (17) and rejected (21) are the agent's; a phone
// that cannot be reached (1, 3, 20, 27, 34, 38) is unreachable; anything
// else rang out unanswered.
func FailReasonOf(cause int) FailReason {
	switch cause {
	case 17:
		return FailBusy
	case 21:
		return FailRejected
	case 20, 1, 3, 27, 34, 38:
		return FailUnreachable
	}
	return FailNoAnswer
}

// Refused says why the router refused m, if it did, among acts, the
// actions Apply returned for m. The router only refuses the message it was
// given, so an Ignored of m's type among acts is about m (m's type need
// not be comparable: Enqueue holds a map).
func Refused(acts []Action, m Msg) (why string, refused bool) {
	for _, a := range acts {
		if ig, ok := a.(Ignored); ok && fmt.Sprintf("%T", ig.Msg) == fmt.Sprintf("%T", m) {
			return ig.Why, true
		}
	}
	return "", false
}
