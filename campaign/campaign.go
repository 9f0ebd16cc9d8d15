// Package campaign holds the outbound dialer's lead rules on the root
// package's Campaign, Lead and Attempt: a campaign's defaults and their
// validation (Validate), whether a lead may be dialed now and why
// (Eligible), when it is tried again after an outcome (Next), and reading
// lead and do-not-call lists from CSV.
//
// The package is pure: it does no I/O of its own (readers are handed in),
// starts no goroutines and takes the time as an argument, so every rule is
// tested with fixed instants.
package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // lead zones must not depend on the host's zoneinfo

	sb "github.com/switchboard/switchboard"
)

// MinRingTime is the shortest ring time allowed before a call is given up:
// shorter rings turn people who walk to the phone into abandoned calls
// (Ofcom and the FTC both count from 15 seconds).
const MinRingTime = 15 * time.Second

// AbandonQuarantine is how long a number whose call was abandoned is left
// alone unless an agent is reserved for the call back.
const AbandonQuarantine = 72 * time.Hour

// MaxAbandonCap is the highest abandon cap a campaign may set.
const MaxAbandonCap = 0.05

// ParseTimeOfDay reads "HH:MM" (24:00 allowed as the end of the day).
func ParseTimeOfDay(s string) (sb.TimeOfDay, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return sb.TimeOfDay(hh*60 + mm), nil
}

// DefaultWindow is 08:00-21:00, the US federal limit (TCPA).
var DefaultWindow = sb.CallingWindow{Start: 8 * 60, End: 21 * 60}

// ParseWindow reads "HH:MM-HH:MM".
func ParseWindow(s string) (sb.CallingWindow, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return sb.CallingWindow{}, fmt.Errorf("calling window %q: want HH:MM-HH:MM", s)
	}
	start, err := ParseTimeOfDay(a)
	if err != nil {
		return sb.CallingWindow{}, fmt.Errorf("calling window %q: %w", s, err)
	}
	end, err := ParseTimeOfDay(b)
	if err != nil {
		return sb.CallingWindow{}, fmt.Errorf("calling window %q: %w", s, err)
	}
	return sb.CallingWindow{Start: start, End: end}, nil
}

// callingDay reports whether d is a calling day of s.
func callingDay(s sb.Schedule, d time.Weekday) bool {
	return len(s.Days) == 0 || slices.Contains(s.Days, d)
}

// ParseDays reads weekdays: "mon-fri", "mon,wed,sat", "mon-sat", "daily".
func ParseDays(s string) ([]time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "daily" || s == "" {
		return nil, nil
	}
	names := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	day := func(n string) (int, error) {
		i := slices.Index(names, strings.TrimSpace(n))
		if i < 0 {
			return 0, fmt.Errorf("days %q: unknown day %q (want sun..sat)", s, n)
		}
		return i, nil
	}
	var out []time.Weekday
	for part := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, err := day(a)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = day(b); err != nil {
				return nil, err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			if !slices.Contains(out, time.Weekday(d)) {
				out = append(out, time.Weekday(d))
			}
			if d == to {
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// RetryOutcomes are the outcomes after which a lead is tried again, each
// after its own delay.
var RetryOutcomes = []sb.DialOutcome{sb.DialBusy, sb.DialNoAnswer, sb.DialMachine, sb.DialFailed, sb.DialAbandoned}

// Default returns a campaign with the default settings: progressive,
// paused, 08:00-21:00 Monday to Saturday in the lead's time, 5 attempts,
// 3% abandon cap over 30 days and per day, AMD on, 25 s ring time.
func Default(name string) sb.Campaign {
	return sb.Campaign{
		Name:     name,
		Mode:     sb.ProgressiveDialing,
		State:    sb.CampaignPaused,
		Ratio:    1,
		MaxRatio: 3,
		Trunk:    "PJSIP/${number}@trunk",
		// Sunday calls are banned or restricted in several US states:
		// a campaign that wants them says so.
		Schedule:    sb.Schedule{Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}},
		Window:      DefaultWindow,
		MaxAttempts: 5,
		RetryDelays: map[sb.DialOutcome]time.Duration{
			sb.DialBusy:      10 * time.Minute,
			sb.DialNoAnswer:  2 * time.Hour,
			sb.DialMachine:   4 * time.Hour,
			sb.DialFailed:    30 * time.Minute,
			sb.DialAbandoned: AbandonQuarantine,
		},
		AbandonCap:      0.03,
		AbandonWindow:   30 * 24 * time.Hour,
		DailyAbandonCap: 0.03,
		AMD:             true,
		RingTime:        25 * time.Second,
	}
}

// Problem is one thing wrong with a campaign's settings.
type Problem struct {
	Field   string // the setting, as named in JSON
	Message string
}

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Campaign string
	Problems []Problem
}

// Error implements error: one problem per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %q is not valid:", e.Campaign)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Field, p.Message)
	}
	return b.String()
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate reports every problem of campaign c's settings at once in a
// *ValidationError, or nil.
func Validate(c sb.Campaign) error {
	var ps []Problem
	check := func(bad bool, field, format string, args ...any) {
		if bad {
			ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
		}
	}
	check(!nameRE.MatchString(c.Name), "name", "%q: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", c.Name)
	check(!slices.Contains(sb.CampaignModes, c.Mode), "mode", "%q: want one of preview, progressive, power, predictive", c.Mode)
	check(!slices.Contains(sb.CampaignStates, c.State), "state", "%q: want one of running, paused, stopped", c.State)
	check(c.MaxRatio < 1 || c.MaxRatio > 10, "max_ratio", "%g: want 1 to 10 calls per ready agent", c.MaxRatio)
	check(c.Mode == sb.PowerDialing && (c.Ratio < 1 || c.Ratio > c.MaxRatio), "ratio", "%g: power mode wants 1 to max_ratio (%g) calls per ready agent", c.Ratio, c.MaxRatio)
	check(!strings.Contains(c.Trunk, "${number}"), "trunk", "%q: the endpoint template must contain ${number}", c.Trunk)
	check(strings.TrimSpace(c.CallerID) == "", "caller_id", "is required: outbound calls must present a number that can be called back")
	check(c.Window.Start < 0 || c.Window.End > 24*60 || c.Window.Start >= c.Window.End, "window", "%s: want a start before the end within one day", c.Window)
	for _, d := range c.Schedule.Days {
		check(d < time.Sunday || d > time.Saturday, "schedule.days", "%d is not a weekday", d)
	}
	check(!c.Schedule.From.IsZero() && !c.Schedule.Until.IsZero() && !c.Schedule.Until.After(c.Schedule.From),
		"schedule.until", "%s is not after from (%s)", c.Schedule.Until.Format(time.RFC3339), c.Schedule.From.Format(time.RFC3339))
	check(c.MaxAttempts < 1 || c.MaxAttempts > 100, "max_attempts", "%d: want 1 to 100", c.MaxAttempts)
	for _, o := range RetryOutcomes {
		d, ok := c.RetryDelays[o]
		check(!ok, "retry_delays."+string(o), "is missing")
		check(ok && d <= 0, "retry_delays."+string(o), "%s: want a positive delay", d)
	}
	for o := range c.RetryDelays {
		check(!slices.Contains(RetryOutcomes, o), "retry_delays."+string(o), "is not a retryable outcome (want busy, noanswer, machine, failed, abandoned)")
	}
	check(c.AbandonCap <= 0 || c.AbandonCap > MaxAbandonCap, "abandon_cap", "%g: want more than 0 and at most %g", c.AbandonCap, MaxAbandonCap)
	check(c.DailyAbandonCap <= 0 || c.DailyAbandonCap > MaxAbandonCap, "daily_abandon_cap", "%g: want more than 0 and at most %g", c.DailyAbandonCap, MaxAbandonCap)
	check(c.AbandonWindow < 24*time.Hour, "abandon_window", "%s: want at least a day", c.AbandonWindow)
	check((c.Mode == sb.PowerDialing || c.Mode == sb.PredictiveDialing) && strings.TrimSpace(c.AbandonMessage) == "",
		"abandon_message", "is required in %s mode: an answered call no agent takes must hear who called", c.Mode)
	check(strings.TrimSpace(c.MachineMessage) != "" && !c.AMD, "machine_message",
		"is set but amd is off: without answering-machine detection no machine is ever heard")
	check(c.RingTime < MinRingTime, "ring_time", "%s: want at least %s", c.RingTime, MinRingTime)
	for _, m := range []struct{ field, media string }{{"abandon_message", c.AbandonMessage}, {"machine_message", c.MachineMessage}} {
		if strings.TrimSpace(m.media) == "" {
			continue
		}
		// Played as one playback of its comma-separated media URIs.
		for _, uri := range strings.Split(m.media, ",") {
			err := sb.ValidMediaURI(uri)
			check(err != nil, m.field, "%s", sb.ErrorMessage(err))
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Campaign: c.Name, Problems: ps}
}
