package campaign

import "time"

// Dial attempts, as the dialer and the store share them.

// AttemptState is where one dial attempt is.
//
//	claimed  → dialing   MarkDialing, before the originate is sent
//	dialing  → answered  MarkAnswered
//	claimed, dialing, answered → done   FinishAttempt, or ReconcileDialing after a restart
type AttemptState string

// Attempt states.
const (
	AttemptClaimed  AttemptState = "claimed"
	AttemptDialing  AttemptState = "dialing"
	AttemptAnswered AttemptState = "answered"
	AttemptDone     AttemptState = "done"
)

// Attempt is one dial attempt of a lead.
type Attempt struct {
	ID        int64
	LeadID    int64
	Campaign  string
	AttemptNo int
	Number    string
	ChannelID string
	State     AttemptState
	Outcome   Outcome
	Started   time.Time
	Ended     time.Time // zero while open
	// Disposition is the agent's disposition of the call, "" if none.
	Disposition string
	// Agent is who was put through to the person, "" if no one; Connected
	// is when (zero if never).
	Agent     string
	Connected time.Time
}

// Claim is a lead claimed for an attempt: the lead (in state dialing, its
// Attempts counting this one) and the attempt's row.
type Claim struct {
	Lead    Lead
	Attempt Attempt
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
	Failed []Attempt
	// Returned are attempts claimed but never originated: closed, their
	// attempt given back and their leads due at once.
	Returned []Attempt
	// Orphans counts leads found dialing with no open attempt: made due.
	Orphans int
	// Unattended are attempts answered while no Switchboard was connected
	// (the dialplan's record): closed as abandoned or machine.
	Unattended []Attempt
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
