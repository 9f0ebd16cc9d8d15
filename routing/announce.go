package routing

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
