package outbound

import (
	"context"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Campaign calls answered while no Switchboard was connected. Asterisk
// hangs up a call originated into an application that is not registered
// when it is answered ("Stasis app doesn't exist"), and a Stasis() of the
// campaign dialplan (after AMD) fails the same way; the application never
// hears of either. So every campaign call carries a hangup handler
// (HangupHandler, pushed at originate) that records such a call in a
// global variable, UnattendedVar(attempt) = "<epoch>,<AMD status>"; the
// next start reads it for each open attempt whose call is gone, closes the
// attempt as abandoned (or machine) with its call-log row, and clears it
// (configs/asterisk/extensions.conf, exten unattended).

// HangupHandler is the value of CHANNEL(hangup_handler_push) on campaign
// calls: the dialplan's exten unattended in context switchboard-outbound.
const HangupHandler = "switchboard-outbound,unattended,1"

// HangupHandlerVar is the channel function that pushes it.
const HangupHandlerVar = "CHANNEL(hangup_handler_push)"

// UnattendedVar is the global variable the hangup handler sets for attempt.
func UnattendedVar(attempt int64) string {
	return "SB_UNATTENDED_" + strconv.FormatInt(attempt, 10)
}

// Globals reads and sets the PBX's global variables (sb.PBX has them).
type Globals interface {
	GlobalVariable(ctx context.Context, name string) (string, error)
	SetGlobalVariable(ctx context.Context, name, value string) error
}

// ReadUnattended reports what the dialplan recorded of attempt's call, if
// anything.
func ReadUnattended(ctx context.Context, g Globals, attempt int64) (sb.Unattended, bool, error) {
	v, err := g.GlobalVariable(ctx, UnattendedVar(attempt))
	if err != nil || v == "" {
		return sb.Unattended{}, false, err
	}
	return ParseUnattended(v), true, nil
}

// ParseUnattended reads the value "<epoch>,<AMD status>"; an unreadable
// time is left zero (the reader's now is used).
func ParseUnattended(v string) sb.Unattended {
	epoch, status, _ := strings.Cut(v, ",")
	var u sb.Unattended
	if n, err := strconv.ParseInt(strings.TrimSpace(epoch), 10, 64); err == nil && n > 0 {
		u.At = time.Unix(n, 0).UTC()
	}
	u.Machine = strings.EqualFold(strings.TrimSpace(status), "MACHINE")
	return u
}

// ForgetUnattended clears attempt's record once the attempt is closed.
func ForgetUnattended(ctx context.Context, g Globals, attempt int64) error {
	return g.SetGlobalVariable(ctx, UnattendedVar(attempt), "")
}
