package campaign

import (
	"fmt"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// timeFormat is how times are shown in explanations.
const timeFormat = "2006-01-02 15:04 MST"

// Eligible says whether lead l of campaign c may be dialed at now, and
// why: every reason that holds it back, or the facts that allow it. dnc
// tells whether the number is on a do-not-call list now (checked at dial
// time, not import time).
func Eligible(l sb.Lead, c sb.Campaign, dnc bool, now time.Time) (ok bool, why string) {
	switch l.State {
	case sb.LeadDone:
		return false, fmt.Sprintf("not dialed: the lead is done (last outcome %s)", orNone(l.LastOutcome))
	case sb.LeadDNC:
		return false, "not dialed: the lead is marked do-not-call"
	case sb.LeadFailed:
		return false, fmt.Sprintf("not dialed: the lead failed after %d attempt(s) (last outcome %s)", l.Attempts, orNone(l.LastOutcome))
	case sb.LeadDialing:
		return false, fmt.Sprintf("being dialed now (attempt %d)", l.Attempts)
	case sb.LeadNew, sb.LeadRetry:
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
	if c.State != sb.CampaignRunning {
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
		case !callingDay(c.Schedule, local.Weekday()):
			no = append(no, fmt.Sprintf("%s is not a calling day in %s (local time %s)%s",
				local.Weekday(), loc, local.Format("Mon 15:04"), opens(c, loc, now)))
		case !inWindow(c.Window, local):
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

func orNone(o sb.DialOutcome) string {
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

// inWindow reports whether local's wall-clock time is inside window w.
func inWindow(w sb.CallingWindow, local time.Time) bool {
	m := sb.TimeOfDay(local.Hour()*60 + local.Minute())
	return m >= w.Start && m < w.End
}

// opens describes when the next calling window opens, as a suffix.
func opens(c sb.Campaign, loc *time.Location, now time.Time) string {
	t, ok := NextWindow(c, loc, now)
	if !ok {
		return ""
	}
	return "; the window opens at " + t.In(loc).Format(timeFormat)
}

// NextWindow returns the first instant at or after now when the calling
// window is open in loc on a calling day, and false if there is none within
// a week (no calling days).
func NextWindow(c sb.Campaign, loc *time.Location, now time.Time) (time.Time, bool) {
	local := now.In(loc)
	y, m, d := local.Date()
	for i := range 8 {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc)
		if !callingDay(c.Schedule, day.Weekday()) {
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
func Next(c sb.Campaign, l sb.Lead, o sb.DialOutcome, at time.Time) (sb.Lead, error) {
	if !slices.Contains(sb.DialOutcomes, o) {
		return l, fmt.Errorf("lead %s: unknown outcome %q", l.Number, o)
	}
	l.LastOutcome = o
	l.NextAt = time.Time{}
	if o == sb.DialAbandoned {
		l.AbandonedAt = at
	}
	switch o {
	case sb.DialAnswered:
		l.State = sb.LeadDone
		return l, nil
	case sb.DialDNC:
		l.State = sb.LeadDNC
		return l, nil
	case sb.DialInvalid:
		l.State = sb.LeadFailed
		return l, nil
	}
	if l.Attempts >= c.MaxAttempts {
		l.State = sb.LeadFailed
		return l, nil
	}
	delay, ok := c.RetryDelays[o]
	if !ok || delay <= 0 {
		return l, fmt.Errorf("campaign %s: no retry delay for outcome %s", c.Name, o)
	}
	l.State = sb.LeadRetry
	l.NextAt = at.Add(delay)
	return l, nil
}

// OutcomeOfCause is how a campaign call that never reached a person went,
// by the Q.850 cause its leg ended with (see switchboard.LegCause).
func OutcomeOfCause(cause int) sb.DialOutcome {
	switch cause {
	case 17, 21: // user busy, call rejected
		return sb.DialBusy
	case 18, 19, 16, 0: // no user responding, no answer, hung up while ringing
		return sb.DialNoAnswer
	case 1, 22, 28: // unallocated, number changed, invalid format
		return sb.DialInvalid
	}
	return sb.DialFailed
}
