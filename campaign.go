package switchboard

import (
	"fmt"
	"strings"
	"time"
)

// Outbound campaigns: the campaign's settings, its leads and their dial
// attempts. The rules on them (validation, whether a lead may be dialed now,
// when it is tried again, reading leads from CSV) are package campaign's.

// CampaignMode is how a campaign paces its dialing.
type CampaignMode string

// Dialing modes.
const (
	PreviewDialing     CampaignMode = "preview"     // the agent sees the lead and dials or skips
	ProgressiveDialing CampaignMode = "progressive" // one call per ready agent
	PowerDialing       CampaignMode = "power"       // a fixed number of calls (Ratio) per ready agent
	PredictiveDialing  CampaignMode = "predictive"  // lines in flight set from measured rates under the abandon cap
)

// CampaignModes lists the dialing modes.
var CampaignModes = []CampaignMode{PreviewDialing, ProgressiveDialing, PowerDialing, PredictiveDialing}

// CampaignState is whether a campaign dials. A campaign is created paused;
// start moves it to running, pause back to paused (calls in flight finish),
// stop to stopped (final: a stopped campaign is not resumed, a new one is
// made).
type CampaignState string

// Campaign states.
const (
	CampaignRunning CampaignState = "running"
	CampaignPaused  CampaignState = "paused"
	CampaignStopped CampaignState = "stopped"
)

// CampaignStates lists the campaign states.
var CampaignStates = []CampaignState{CampaignRunning, CampaignPaused, CampaignStopped}

// TimeOfDay is a wall-clock time in minutes after midnight (0..1440).
type TimeOfDay int

// String formats the time as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// CallingWindow is the part of each calling day, in the lead's local time,
// when the lead may be called: from Start (included) to End (excluded).
// Overnight windows are refused by campaign.Validate: no jurisdiction
// allows them.
type CallingWindow struct {
	Start TimeOfDay `json:"start"`
	End   TimeOfDay `json:"end"`
}

// String formats the window as HH:MM-HH:MM.
func (w CallingWindow) String() string { return w.Start.String() + "-" + w.End.String() }

// Schedule is when a campaign dials, on top of the calling window: the
// weekdays (in the lead's local time) and an optional first and last instant.
type Schedule struct {
	// Days are the calling days; empty means every day.
	Days []time.Weekday `json:"days,omitempty"`
	// From and Until bound the campaign; zero means unbounded.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Campaign is one outbound campaign's settings. The zero value is not
// usable: start from campaign.Default, check with campaign.Validate.
type Campaign struct {
	Name  string        `json:"name"`
	Mode  CampaignMode  `json:"mode"`
	State CampaignState `json:"state"`
	// Queue names the queue whose agents work the campaign.
	Queue string `json:"queue,omitempty"`
	// Ratio is power mode's fixed number of calls per ready agent.
	Ratio float64 `json:"ratio"`
	// MaxRatio caps the calls per ready agent in every mode.
	MaxRatio float64 `json:"max_ratio"`
	// Trunk is the endpoint template; ${number} is replaced by the lead's
	// number in E.164.
	Trunk    string   `json:"trunk"`
	CallerID string   `json:"caller_id"`
	Schedule Schedule `json:"schedule"`
	// Window is the calling window in each lead's local time.
	Window      CallingWindow `json:"window"`
	MaxAttempts int           `json:"max_attempts"`
	// RetryDelays is the wait after each retryable outcome.
	RetryDelays map[DialOutcome]time.Duration `json:"retry_delays"`
	// AbandonCap is the highest abandon rate (abandoned / answered by a
	// person) over AbandonWindow; DailyAbandonCap the same over each day.
	AbandonCap      float64       `json:"abandon_cap"`
	AbandonWindow   time.Duration `json:"abandon_window"`
	DailyAbandonCap float64       `json:"daily_abandon_cap"`
	// AbandonMessage is the recording played to an answered call no agent
	// takes (who called, a number to call back). Required for power and
	// predictive dialing, which abandon calls by design.
	AbandonMessage string `json:"abandon_message,omitempty"`
	// MachineMessage is the recording left on an answering machine AMD
	// detected, before hanging up; empty hangs up on machines at once. It
	// needs AMD: without it no machine is ever detected.
	MachineMessage string `json:"machine_message,omitempty"`
	// AMD runs answering-machine detection before the call reaches Stasis.
	AMD bool `json:"amd"`
	// RingTime is how long a call rings before it is given up (no answer).
	RingTime time.Duration `json:"ring_time"`
}

// Endpoint is the dial string for a number: the trunk template with
// ${number} replaced.
func (c Campaign) Endpoint(number string) string {
	return strings.ReplaceAll(c.Trunk, "${number}", number)
}

// LeadState is where a lead is in its campaign.
//
//	new     → dialing          claimed for an attempt
//	retry   → dialing          claimed again once its retry delay is over
//	dialing → done             answered by a person (or an agent's disposition)
//	dialing → retry            busy, no answer, machine, failed, abandoned with attempts left
//	dialing → failed           attempts used up, or the number does not exist
//	dialing → dnc              the called person asked not to be called
//
// done, failed and dnc are final.
type LeadState string

// Lead states.
const (
	LeadNew     LeadState = "new"
	LeadDialing LeadState = "dialing"
	LeadRetry   LeadState = "retry"
	LeadDone    LeadState = "done"
	LeadDNC     LeadState = "dnc"
	LeadFailed  LeadState = "failed"
)

// DialOutcome is how one dial attempt of a lead ended (not to be confused
// with Outcome, how an inbound or bridged call ended).
type DialOutcome string

// Dial attempt outcomes.
const (
	DialAnswered  DialOutcome = "answered"  // a person answered and reached an agent
	DialBusy      DialOutcome = "busy"      // busy or congestion at the far end
	DialNoAnswer  DialOutcome = "noanswer"  // rang for the campaign's ring time
	DialMachine   DialOutcome = "machine"   // AMD heard an answering machine
	DialFailed    DialOutcome = "failed"    // the call could not be placed (trunk, network, crash)
	DialAbandoned DialOutcome = "abandoned" // a person answered and no agent was free in time
	DialInvalid   DialOutcome = "invalid"   // the number does not exist (unallocated)
	DialDNC       DialOutcome = "dnc"       // the person asked not to be called again
)

// DialOutcomes lists the dial attempt outcomes.
var DialOutcomes = []DialOutcome{DialAnswered, DialBusy, DialNoAnswer, DialMachine, DialFailed, DialAbandoned, DialInvalid, DialDNC}

// Lead is one number to call in a campaign.
type Lead struct {
	ID       int64
	Campaign string
	// Number is the number in E.164 (+15555550123).
	Number string
	// Region is the number's ISO 3166 region (US, GB).
	Region string
	// TimeZone is the IANA zone the calling window is applied in.
	TimeZone string
	State    LeadState
	// Attempts counts the attempts claimed so far.
	Attempts int
	// NextAt is the earliest time of the next attempt; zero means at once.
	NextAt      time.Time
	LastOutcome DialOutcome
	// AbandonedAt is the time of the lead's last abandoned call, zero if none.
	AbandonedAt time.Time
	// ReservedAgent is an agent held for this lead's call back: it lifts
	// the 72-hour quiet period after an abandoned call.
	ReservedAgent string
	// Data is the import's extra columns, shown to the agent.
	Data map[string]string
}

// AttemptState is where one dial attempt is (the store's MarkDialing,
// MarkAnswered, FinishAttempt and ReconcileDialing move it).
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

// Attempt is one dial attempt of a lead, as the dialer and the store share
// it.
type Attempt struct {
	ID        int64
	LeadID    int64
	Campaign  string
	AttemptNo int
	Number    string
	ChannelID string
	State     AttemptState
	Outcome   DialOutcome
	Started   time.Time
	Ended     time.Time // zero while open
	// Disposition is the agent's disposition of the call, "" if none.
	Disposition string
	// Agent is who was put through to the person, "" if no one; Connected
	// is when (zero if never).
	Agent     string
	Connected time.Time
}
