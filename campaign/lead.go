package campaign

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

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

// Outcome is how one dial attempt ended.
type Outcome string

// Attempt outcomes.
const (
	OutcomeAnswered  Outcome = "answered"  // a person answered and reached an agent
	OutcomeBusy      Outcome = "busy"      // busy or congestion at the far end
	OutcomeNoAnswer  Outcome = "noanswer"  // rang for the campaign's ring time
	OutcomeMachine   Outcome = "machine"   // AMD heard an answering machine
	OutcomeFailed    Outcome = "failed"    // the call could not be placed (trunk, network, crash)
	OutcomeAbandoned Outcome = "abandoned" // a person answered and no agent was free in time
	OutcomeInvalid   Outcome = "invalid"   // the number does not exist (unallocated)
	OutcomeDNC       Outcome = "dnc"       // the person asked not to be called again
)

// Outcomes lists the attempt outcomes.
var Outcomes = []Outcome{OutcomeAnswered, OutcomeBusy, OutcomeNoAnswer, OutcomeMachine, OutcomeFailed, OutcomeAbandoned, OutcomeInvalid, OutcomeDNC}

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
	LastOutcome Outcome
	// AbandonedAt is the time of the lead's last abandoned call, zero if none.
	AbandonedAt time.Time
	// ReservedAgent is an agent held for this lead's call back: it lifts
	// the 72-hour quiet period after an abandoned call.
	ReservedAgent string
	// Data is the import's extra columns, shown to the agent.
	Data map[string]string
}

// timeFormat is how times are shown in explanations.
const timeFormat = "2006-01-02 15:04 MST"

// Eligible says whether lead l of campaign c may be dialed at now, and
// why: every reason that holds it back, or the facts that allow it. dnc
// tells whether the number is on a do-not-call list now (checked at dial
// time, not import time).
func Eligible(l Lead, c Campaign, dnc bool, now time.Time) (ok bool, why string) {
	switch l.State {
	case LeadDone:
		return false, fmt.Sprintf("not dialed: the lead is done (last outcome %s)", orNone(l.LastOutcome))
	case LeadDNC:
		return false, "not dialed: the lead is marked do-not-call"
	case LeadFailed:
		return false, fmt.Sprintf("not dialed: the lead failed after %d attempt(s) (last outcome %s)", l.Attempts, orNone(l.LastOutcome))
	case LeadDialing:
		return false, fmt.Sprintf("being dialed now (attempt %d)", l.Attempts)
	case LeadNew, LeadRetry:
	default:
		return false, fmt.Sprintf("not dialed: unknown lead state %q", l.State)
	}

	loc, zoneErr := loadZone(l.TimeZone)
	show := func(t time.Time) string {
		if zoneErr == nil {
			t = t.In(loc)
		} else {
			t = t.UTC()
		}
		return t.Format(timeFormat)
	}

	var no []string
	if c.State != StateRunning {
		no = append(no, fmt.Sprintf("campaign %s is %s", c.Name, c.State))
	}
	if s := c.Schedule; !s.From.IsZero() && now.Before(s.From) {
		no = append(no, fmt.Sprintf("campaign %s starts at %s", c.Name, show(s.From)))
	}
	if s := c.Schedule; !s.Until.IsZero() && !now.Before(s.Until) {
		no = append(no, fmt.Sprintf("campaign %s ended at %s", c.Name, show(s.Until)))
	}
	if dnc {
		no = append(no, fmt.Sprintf("%s is on the do-not-call list", l.Number))
	}
	if l.Attempts >= c.MaxAttempts {
		no = append(no, fmt.Sprintf("all %d attempts are used", c.MaxAttempts))
	}
	if !l.AbandonedAt.IsZero() && l.ReservedAgent == "" {
		if until := l.AbandonedAt.Add(AbandonQuarantine); now.Before(until) {
			no = append(no, fmt.Sprintf("a call to it was abandoned at %s: not called again before %s unless an agent is reserved",
				show(l.AbandonedAt), show(until)))
		}
	}
	if now.Before(l.NextAt) {
		wait := l.NextAt.Sub(now).Round(time.Second)
		if l.LastOutcome != "" {
			no = append(no, fmt.Sprintf("retry delay after %s has not elapsed: due at %s (in %s)", l.LastOutcome, show(l.NextAt), wait))
		} else {
			no = append(no, fmt.Sprintf("not due before %s (in %s)", show(l.NextAt), wait))
		}
	}
	var local time.Time
	if zoneErr != nil {
		no = append(no, fmt.Sprintf("the calling window cannot be checked: %v", zoneErr))
	} else {
		local = now.In(loc)
		switch {
		case !c.Schedule.calls(local.Weekday()):
			no = append(no, fmt.Sprintf("%s is not a calling day in %s (local time %s)%s",
				local.Weekday(), loc, local.Format("Mon 15:04"), opens(c, loc, now)))
		case !c.Window.contains(local):
			no = append(no, fmt.Sprintf("outside the calling window %s in %s (local time %s)%s",
				c.Window, loc, local.Format("Mon 15:04"), opens(c, loc, now)))
		}
	}
	if len(no) > 0 {
		return false, "not dialed: " + strings.Join(no, "; ")
	}
	why = fmt.Sprintf("dialable now: attempt %d of %d, local time %s in %s within %s",
		l.Attempts+1, c.MaxAttempts, local.Format("Mon 15:04"), loc, c.Window)
	if !l.AbandonedAt.IsZero() && now.Before(l.AbandonedAt.Add(AbandonQuarantine)) {
		why += fmt.Sprintf(" (abandoned at %s, agent %s reserved)", show(l.AbandonedAt), l.ReservedAgent)
	}
	return true, why
}

func orNone(o Outcome) string {
	if o == "" {
		return "none"
	}
	return string(o)
}

// loadZone loads a lead's zone; an empty or unknown zone is an error, never
// a silent fallback to UTC or the host's zone.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return nil, fmt.Errorf("the lead has no time zone")
	}
	if name == "Local" {
		return nil, fmt.Errorf("time zone %q is the host's, not the lead's", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// contains reports whether local's wall-clock time is inside the window.
func (w Window) contains(local time.Time) bool {
	m := TimeOfDay(local.Hour()*60 + local.Minute())
	return m >= w.Start && m < w.End
}

// opens describes when the next calling window opens, as a suffix.
func opens(c Campaign, loc *time.Location, now time.Time) string {
	t, ok := NextWindow(c, loc, now)
	if !ok {
		return ""
	}
	return "; the window opens at " + t.In(loc).Format(timeFormat)
}

// NextWindow returns the first instant at or after now when the calling
// window is open in loc on a calling day, and false if there is none within
// a week (no calling days).
func NextWindow(c Campaign, loc *time.Location, now time.Time) (time.Time, bool) {
	local := now.In(loc)
	y, m, d := local.Date()
	for i := range 8 {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc)
		if !c.Schedule.calls(day.Weekday()) {
			continue
		}
		start := time.Date(y, m, d+i, int(c.Window.Start)/60, int(c.Window.Start)%60, 0, 0, loc)
		end := time.Date(y, m, d+i, int(c.Window.End)/60, int(c.Window.End)%60, 0, 0, loc)
		if !now.Before(end) {
			continue
		}
		if now.After(start) {
			return now, true
		}
		return start, true
	}
	return time.Time{}, false
}

// Next returns lead l after an attempt ended at at with outcome o: its new
// state, when it may be tried again and its last outcome. l.Attempts
// already counts the attempt that ended. A person reached is done; a
// do-not-call request is final; a number that does not exist fails; every
// other outcome is retried after the campaign's delay for it while attempts
// are left, and fails when they are used up.
func Next(c Campaign, l Lead, o Outcome, at time.Time) (Lead, error) {
	if !slices.Contains(Outcomes, o) {
		return l, fmt.Errorf("lead %s: unknown outcome %q", l.Number, o)
	}
	l.LastOutcome = o
	l.NextAt = time.Time{}
	if o == OutcomeAbandoned {
		l.AbandonedAt = at
	}
	switch o {
	case OutcomeAnswered:
		l.State = LeadDone
		return l, nil
	case OutcomeDNC:
		l.State = LeadDNC
		return l, nil
	case OutcomeInvalid:
		l.State = LeadFailed
		return l, nil
	}
	if l.Attempts >= c.MaxAttempts {
		l.State = LeadFailed
		return l, nil
	}
	delay, ok := c.RetryDelays[o]
	if !ok || delay <= 0 {
		return l, fmt.Errorf("campaign %s: no retry delay for outcome %s", c.Name, o)
	}
	l.State = LeadRetry
	l.NextAt = at.Add(delay)
	return l, nil
}

// OutcomeOfCause is how a campaign call that never reached a person went,
// by the Q.850 cause its leg ended with (see switchboard.LegCause).
func OutcomeOfCause(cause int) Outcome {
	switch cause {
	case 17, 21: // user busy, call rejected
		return OutcomeBusy
	case 18, 19, 16, 0: // no user responding, no answer, hung up while ringing
		return OutcomeNoAnswer
	case 1, 22, 28: // unallocated, number changed, invalid format
		return OutcomeInvalid
	}
	return OutcomeFailed
}
