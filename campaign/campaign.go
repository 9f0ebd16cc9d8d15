// Package campaign holds the outbound dialer's lead rules: a campaign's
// settings and their validation, the lead and its states, whether a lead may
// be dialed now and why (Eligible), when it is tried again after an outcome
// (Next), and reading lead and do-not-call lists from CSV.
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

// Mode is how a campaign paces its dialing.
type Mode string

// Dialing modes.
const (
	ModePreview     Mode = "preview"     // the agent sees the lead and dials or skips
	ModeProgressive Mode = "progressive" // one call per ready agent
	ModePower       Mode = "power"       // a fixed number of calls (Ratio) per ready agent
	ModePredictive  Mode = "predictive"  // lines in flight set from measured rates under the abandon cap
)

// Modes lists the dialing modes.
var Modes = []Mode{ModePreview, ModeProgressive, ModePower, ModePredictive}

// State is whether a campaign dials. A campaign is created paused; start
// moves it to running, pause back to paused (calls in flight finish), stop to
// stopped (final: a stopped campaign is not resumed, a new one is made).
type State string

// Campaign states.
const (
	StateRunning State = "running"
	StatePaused  State = "paused"
	StateStopped State = "stopped"
)

// States lists the campaign states.
var States = []State{StateRunning, StatePaused, StateStopped}

// MinRingTime is the shortest ring time allowed before a call is given up:
// shorter rings turn people who walk to the phone into abandoned calls
// (Ofcom and the FTC both count from 15 seconds).
const MinRingTime = 15 * time.Second

// AbandonQuarantine is how long a number whose call was abandoned is left
// alone unless an agent is reserved for the call back.
const AbandonQuarantine = 72 * time.Hour

// MaxAbandonCap is the highest abandon cap a campaign may set.
const MaxAbandonCap = 0.05

// TimeOfDay is a wall-clock time in minutes after midnight (0..1440).
type TimeOfDay int

// ParseTimeOfDay reads "HH:MM" (24:00 allowed as the end of the day).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return TimeOfDay(hh*60 + mm), nil
}

// String formats the time as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// Window is the part of each calling day, in the lead's local time, when
// the lead may be called: from Start (included) to End (excluded).
// Overnight windows are refused by Validate: no jurisdiction allows them.
type Window struct {
	Start TimeOfDay `json:"start"`
	End   TimeOfDay `json:"end"`
}

// DefaultWindow is 08:00-21:00, the US federal limit (TCPA).
var DefaultWindow = Window{Start: 8 * 60, End: 21 * 60}

// ParseWindow reads "HH:MM-HH:MM".
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("calling window %q: want HH:MM-HH:MM", s)
	}
	start, err := ParseTimeOfDay(a)
	if err != nil {
		return Window{}, fmt.Errorf("calling window %q: %w", s, err)
	}
	end, err := ParseTimeOfDay(b)
	if err != nil {
		return Window{}, fmt.Errorf("calling window %q: %w", s, err)
	}
	return Window{Start: start, End: end}, nil
}

// String formats the window as HH:MM-HH:MM.
func (w Window) String() string { return w.Start.String() + "-" + w.End.String() }

// Schedule is when a campaign dials, on top of the calling window: the
// weekdays (in the lead's local time) and an optional first and last instant.
type Schedule struct {
	// Days are the calling days; empty means every day.
	Days []time.Weekday `json:"days,omitempty"`
	// From and Until bound the campaign; zero means unbounded.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// calls reports whether d is a calling day.
func (s Schedule) calls(d time.Weekday) bool {
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

// Campaign is one outbound campaign's settings. The zero value is not
// usable: start from Default.
type Campaign struct {
	Name  string `json:"name"`
	Mode  Mode   `json:"mode"`
	State State  `json:"state"`
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
	Window      Window `json:"window"`
	MaxAttempts int    `json:"max_attempts"`
	// RetryDelays is the wait after each retryable outcome.
	RetryDelays map[Outcome]time.Duration `json:"retry_delays"`
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

// RetryOutcomes are the outcomes after which a lead is tried again, each
// after its own delay.
var RetryOutcomes = []Outcome{OutcomeBusy, OutcomeNoAnswer, OutcomeMachine, OutcomeFailed, OutcomeAbandoned}

// Default returns a campaign with the default settings: progressive,
// paused, 08:00-21:00 Monday to Saturday in the lead's time, 5 attempts,
// 3% abandon cap over 30 days and per day, AMD on, 25 s ring time.
func Default(name string) Campaign {
	return Campaign{
		Name:     name,
		Mode:     ModeProgressive,
		State:    StatePaused,
		Ratio:    1,
		MaxRatio: 3,
		Trunk:    "PJSIP/${number}@trunk",
		// Sunday calls are banned or restricted in several US states:
		// a campaign that wants them says so.
		Schedule:    Schedule{Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}},
		Window:      DefaultWindow,
		MaxAttempts: 5,
		RetryDelays: map[Outcome]time.Duration{
			OutcomeBusy:      10 * time.Minute,
			OutcomeNoAnswer:  2 * time.Hour,
			OutcomeMachine:   4 * time.Hour,
			OutcomeFailed:    30 * time.Minute,
			OutcomeAbandoned: AbandonQuarantine,
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

// Validate reports every problem of the settings at once in a
// *ValidationError, or nil.
func (c Campaign) Validate() error {
	var ps []Problem
	check := func(bad bool, field, format string, args ...any) {
		if bad {
			ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
		}
	}
	check(!nameRE.MatchString(c.Name), "name", "%q: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", c.Name)
	check(!slices.Contains(Modes, c.Mode), "mode", "%q: want one of preview, progressive, power, predictive", c.Mode)
	check(!slices.Contains(States, c.State), "state", "%q: want one of running, paused, stopped", c.State)
	check(c.MaxRatio < 1 || c.MaxRatio > 10, "max_ratio", "%g: want 1 to 10 calls per ready agent", c.MaxRatio)
	check(c.Mode == ModePower && (c.Ratio < 1 || c.Ratio > c.MaxRatio), "ratio", "%g: power mode wants 1 to max_ratio (%g) calls per ready agent", c.Ratio, c.MaxRatio)
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
	check((c.Mode == ModePower || c.Mode == ModePredictive) && strings.TrimSpace(c.AbandonMessage) == "",
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

// Endpoint is the dial string for a number: the trunk template with
// ${number} replaced.
func (c Campaign) Endpoint(number string) string {
	return strings.ReplaceAll(c.Trunk, "${number}", number)
}
