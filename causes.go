package switchboard

import "strings"

// Why a leg ends, as a PBX tells it (Asterisk 22, ../shared/ARI-NOTES.md):
// a busy Local channel is destroyed with cause 0 and only its final Dial
// status says busy; our own hang-up and an expired dial timeout are soft
// requests with cause 32 (the soft-hang-up flag, not a Q.850 cause); the
// first request of a call through a Local trunk leg can carry 0.

// SoftHangupFlag is the cause of a soft ChannelHangupRequest.
const SoftHangupFlag = 32

// RequestCause is the Q.850 cause a hang-up request carries, or 0 when it
// carries none (soft, or cause 0).
func RequestCause(e HangupRequested) int {
	if e.Soft || e.Cause == SoftHangupFlag {
		return 0
	}
	return e.Cause
}

// DialCause is the Q.850 cause a final Dial status stands for, 0 for none.
func DialCause(status string) int {
	switch strings.ToUpper(status) {
	case "BUSY":
		return 17
	case "NOANSWER":
		return 19
	case "CHANUNAVAIL":
		return 20
	case "CONGESTION":
		return 34
	}
	return 0
}

// LegCause follows why a leg Switchboard originated ends: the causes its
// final Dial status and its hang-up request carry, for At when it is
// destroyed. The zero value is ready.
type LegCause struct {
	dial, requested int
}

// Note takes a DialResult or a HangupRequested of the leg into account
// (a later non-zero cause replaces an earlier one); it reports whether e
// was one of them.
func (l *LegCause) Note(e Event) bool {
	switch e := e.(type) {
	case DialResult:
		if c := DialCause(e.Status); c != 0 {
			l.dial = c
		}
		return true
	case HangupRequested:
		if c := RequestCause(e); c != 0 {
			l.requested = c
		}
		return true
	}
	return false
}

// At is why the leg ended, given the cause it was destroyed with: the
// final Dial status first, then the destroyed cause, then the request's.
func (l LegCause) At(destroyed int) int {
	switch {
	case l.dial != 0:
		return l.dial
	case destroyed != 0:
		return destroyed
	}
	return l.requested
}
