package campaign

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// What the dialer and the store share about dial attempts, besides
// switchboard.Attempt.

// Claim is a lead claimed for an attempt: the lead (in state dialing, its
// Attempts counting this one) and the attempt's row.
type Claim struct {
	Lead    sb.Lead
	Attempt sb.Attempt
}

// DNCListing is a number on the do-not-call list (storage's DNCEntry).
type DNCListing struct {
	Number  string    `db:"number"`
	Source  string    `db:"source"`
	AddedAt time.Time `db:"added_at"`
}

// Reconciled says what ReconcileDialing did.
type Reconciled struct {
	// Live counts open attempts whose channel is still up: left alone.
	Live int
	// Failed are attempts that reached the PBX and whose channel is gone:
	// closed as failed, their leads scheduled by the failed-outcome rules.
	Failed []sb.Attempt
	// Returned are attempts claimed but never originated: closed, their
	// attempt given back and their leads due at once.
	Returned []sb.Attempt
	// Orphans counts leads found dialing with no open attempt: made due.
	Orphans int
	// Unattended are attempts answered while no Switchboard was connected
	// (the dialplan's record): closed as abandoned or machine.
	Unattended []sb.Attempt
}

// LiveAnswer is one attempt a person answered, as the abandon ledger counts
// it: when it ended and whether it was abandoned.
type LiveAnswer struct {
	At        time.Time
	Abandoned bool
}

// DispositionDNC is the disposition of a called person who asked not to be
// called again: the number goes on the do-not-call list and the lead is
// closed as dnc.
const DispositionDNC = "dnc"

// MaxDispositionLen is the longest disposition accepted.
const MaxDispositionLen = 64
