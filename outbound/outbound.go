// Package outbound runs outbound campaigns live: every tick it asks each
// running campaign's pacer how many lines to dial, claims that many leads,
// checks each again at dial time (do-not-call list, calling window, the
// 72-hour rule) and hands the calls to the call center through Placer. The
// center reports what happened to each call (Report); the runner feeds the
// campaign's statistics and abandon ledger from those reports, exactly as
// dialer/dialsim does for simulated calls, and closes each attempt in
// storage, which schedules the lead's retry.
//
// One goroutine (Run's loop) owns every campaign's pacer, statistics,
// ledger and calls in flight. Report queues events for it without blocking;
// the API methods (Stats, Preview, ...) post requests to it and wait.
//
// A placed call goes through these states, each entered on the center's
// report:
//
//	ringing  → answered   Answered: a person answered (AMD said human or was off)
//	answered → connected  Connected: an agent was bridged to the person
//	any      → ended      Ended (with the outcome), or Placer.Dial failing
//
// The abandon ledger counts a live answer when its fate is known: given to
// an agent (Connected, or Ended with outcome answered) or abandoned (Ended
// with outcome abandoned). At start the ledger is rebuilt from the
// attempts' outcomes (answered, abandoned) within the campaign's abandon
// window; a rebuilt answer is dated by its attempt's end.
package outbound

import (
	"context"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/dialer"
)

// Dial is one call the runner asks the call center to place.
type Dial struct {
	Attempt  int64 // attempt row id
	Lead     sb.Lead
	Campaign string
	// Queue is the campaign's queue: its agents take the answered calls.
	Queue string
	// Channel is ChannelFor(Attempt): the id the center originates with
	// (MarkDialing stored it before Dial was called).
	Channel  sb.ChannelID
	Endpoint string // Campaign.Endpoint(number)
	CallerID string
	RingTime time.Duration
	AMD      bool
	// MachineMessage is the media played to an answering machine before
	// hanging up; "" hangs up at once.
	MachineMessage string
	// AbandonMessage is the media played to an answered person no agent
	// takes within the connect window (2 s).
	AbandonMessage string
	// Agent is, in preview mode, the agent who chose to dial: ring the
	// agent first, then the customer.
	Agent sb.AgentID
}

// channelPrefix starts every outbound channel id.
const channelPrefix = "ob-"

// ChannelFor is the channel id an attempt is originated with: "ob-<attempt>".
func ChannelFor(attempt int64) sb.ChannelID {
	return sb.ChannelID(channelPrefix + strconv.FormatInt(attempt, 10))
}

// AttemptOf is the attempt of a channel id made by ChannelFor, and false for
// any other channel.
func AttemptOf(ch sb.ChannelID) (int64, bool) {
	s, ok := strings.CutPrefix(string(ch), channelPrefix)
	if !ok || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// Placer places calls: implemented by the call center.
type Placer interface {
	// Dial originates the call; it returns when the PBX accepted or
	// refused the originate. Everything after that comes back through
	// Runner.Report.
	Dial(ctx context.Context, d Dial) error
}

// EventKind is what happened to a placed call.
type EventKind int

// Event kinds, in the order a call meets them.
const (
	// Answered: a person answered (AMD said human or notsure, or no AMD):
	// the 2-second connect window starts.
	Answered EventKind = iota + 1
	// Connected: an agent was bridged to the person (Event.Agent set).
	Connected
	// Ended: the call is over (Event.Outcome set: answered, busy,
	// noanswer, machine, failed, abandoned, invalid).
	Ended
)

// String names the kind for logs.
func (k EventKind) String() string {
	switch k {
	case Answered:
		return "answered"
	case Connected:
		return "connected"
	case Ended:
		return "ended"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is what happened to a placed call, reported by the center.
type Event struct {
	Attempt int64
	Kind    EventKind
	// At is when it happened; zero means when the runner reads it.
	At      time.Time
	Outcome sb.DialOutcome // Ended
	Agent   sb.AgentID     // Connected
	// Unattended (Ended) is the dialplan's record of a call answered
	// while no Switchboard was connected (see ReadUnattended): the
	// attempt closes with its call-log row, and the record is cleared.
	Unattended *sb.Unattended
}

// AgentSource gives the agents who work a queue now (the ACD's view: ready,
// talking/reserved, wrap-up; paused and logged-out agents left out).
type AgentSource func(ctx context.Context, queue string) ([]dialer.Agent, error)

// Store is the storage the runner uses; *storage.DB implements it.
type Store interface {
	Campaigns(ctx context.Context) ([]sb.Campaign, error)
	Campaign(ctx context.Context, name string) (sb.Campaign, error)
	LeadCounts(ctx context.Context, name string) (map[sb.LeadState]int, error)
	ClaimLeads(ctx context.Context, name string, n int, now time.Time) ([]campaign.Claim, error)
	DNC(ctx context.Context, number string) (campaign.DNCListing, bool, error)
	MarkDialing(ctx context.Context, attemptID int64, channelID string) error
	MarkAnswered(ctx context.Context, attemptID int64) error
	MarkConnected(ctx context.Context, attemptID int64, agent string, at time.Time) error
	FinishAttempt(ctx context.Context, attemptID int64, outcome sb.DialOutcome, at time.Time) (sb.Lead, error)
	ReturnAttempt(ctx context.Context, attemptID int64, at time.Time) (sb.Lead, error)
	Attempt(ctx context.Context, attemptID int64) (sb.Attempt, error)
	Lead(ctx context.Context, campaignName, number string) (sb.Lead, error)
	CloseAttemptDNC(ctx context.Context, attemptID int64, at time.Time) (sb.Lead, error)
	SetDisposition(ctx context.Context, attemptID int64, disposition string, at time.Time) (sb.Lead, error)
	ReconcileDialing(ctx context.Context, liveChannels []string, unattended map[int64]sb.Unattended, node string, now time.Time) (campaign.Reconciled, error)
	CloseUnattended(ctx context.Context, attemptID int64, u sb.Unattended, node string, at time.Time) (sb.DialOutcome, error)
	OpenAttempts(ctx context.Context) ([]sb.Attempt, error)
	LiveAnswers(ctx context.Context, name string, since time.Time) ([]campaign.LiveAnswer, error)
}

// CampaignStats is a campaign's live dialing picture.
type CampaignStats struct {
	Campaign string           `json:"campaign"`
	State    sb.CampaignState `json:"state"`
	Mode     sb.CampaignMode  `json:"mode"`
	// Pacer is the pacing method in use now: progressive while a power or
	// predictive campaign is at or over its abandon cap; "" when not pacing.
	Pacer string `json:"pacer,omitempty"`
	// DialRatePerMinute is the calls placed per minute over the last 5
	// minutes (or since the runner started, if later).
	DialRatePerMinute float64 `json:"dial_rate_per_minute"`
	// LinesInFlight counts the calls placed and not ended.
	LinesInFlight int `json:"lines_in_flight"`
	// WaitingForAgent counts the answered calls not yet given an agent.
	WaitingForAgent int `json:"waiting_for_agent"`
	// AnswerRate is live answers over attempts ended in the last hour.
	AnswerRate float64 `json:"answer_rate"`
	// AbandonRateWindow is abandoned over live answers in the campaign's
	// abandon window, AbandonRateToday the same since local midnight (the
	// runner's Location).
	AbandonRateWindow float64 `json:"abandon_rate_window"`
	AbandonRateToday  float64 `json:"abandon_rate_today"`
	AbandonCap        float64 `json:"abandon_cap"`
	DailyAbandonCap   float64 `json:"daily_abandon_cap"`
	// Agents counts the agents working the campaign's queue at the last
	// sample (paused and logged-out agents left out).
	Agents int `json:"agents"`
	// AgentOccupancy is the talking share of those agents over the last
	// 15 minutes of samples.
	AgentOccupancy float64 `json:"agent_occupancy"`
	// LeadsLeft counts the leads new or due for retry.
	LeadsLeft int `json:"leads_left"`
	// ETA is LeadsLeft over the attempts ended per second in the last hour,
	// in seconds; 0 when nothing ended yet.
	ETA float64 `json:"eta,omitempty"`
	// Totals since the runner started.
	Dialed    int `json:"dialed"`
	Answered  int `json:"answered"` // live answers
	Abandoned int `json:"abandoned"`
	Machines  int `json:"machines"`
}

// PreviewLead is a lead claimed for an agent in preview mode: the agent
// reads it, then dials (PreviewDial) or skips it (PreviewSkip).
type PreviewLead struct {
	Attempt  int64  `json:"attempt"`
	Campaign string `json:"campaign"`
	Number   string `json:"number"`
	Region   string `json:"region,omitempty"`
	TimeZone string `json:"time_zone"`
	// Attempts counts the lead's earlier attempts (this one not included).
	Attempts    int               `json:"attempts"`
	LastOutcome sb.DialOutcome    `json:"last_outcome,omitempty"`
	Data        map[string]string `json:"data,omitempty"`
	// Expires is when the claim lapses and the lead goes back if the agent
	// neither dials nor skips it.
	Expires time.Time `json:"expires"`
}
