package routing

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/calendar"
)

// queueConfig is a queue as the router runs it: its configuration with
// the defaults filled in, its service level and callback windows parsed.
type queueConfig struct {
	sb.Queue
	// slShare is the share (0.8) of calls to answer within slTime (20s).
	slShare float64
	slTime  time.Duration
	// windows are the times callbacks may start (none: always).
	windows []Window
}

// newQueueConfig fills in q's defaults (the router's for RingTimeout and
// WaitForAgent first) and parses its texts; q has passed CheckQueues.
func newQueueConfig(q sb.Queue, c *Config) queueConfig {
	if q.RingTimeout <= 0 {
		q.RingTimeout = c.RingTimeout
	}
	if q.RingTimeout <= 0 {
		q.RingTimeout = 15 * time.Second
	}
	if q.WaitForAgent <= 0 {
		q.WaitForAgent = c.WaitForAgent
	}
	if q.MaxNoAnswer == 0 {
		q.MaxNoAnswer = 3
	}
	if q.Callback.Attempts <= 0 {
		q.Callback.Attempts = 3
	}
	if q.Callback.Retry <= 0 {
		q.Callback.Retry = 5 * time.Minute
	}
	if q.ExpectedAHT <= 0 {
		q.ExpectedAHT = 3 * time.Minute
	}
	qc := queueConfig{Queue: q}
	qc.slShare, qc.slTime, _ = ParseServiceLevel(q.ServiceLevel)
	if qc.slShare <= 0 {
		qc.slShare, qc.slTime = 0.8, 20*time.Second
	}
	qc.windows, _ = ParseWindows(q.Callback.Windows)
	return qc
}

// QueueProblem is one thing wrong with a queue's configuration.
type QueueProblem struct {
	// Queue is the queue's index in the list checked.
	Queue int
	// Key is the key under the queue, as in the configuration file:
	// strategy, escalation[1].after, callback.key; "" is the queue itself.
	Key string
	// Message says what is wrong.
	Message string
}

// Path is the problem's key from the configuration's root:
// queues[1].escalation[0].after.
func (p QueueProblem) Path() string {
	if p.Key == "" {
		return fmt.Sprintf("queues[%d]", p.Queue)
	}
	return fmt.Sprintf("queues[%d].%s", p.Queue, p.Key)
}

// nameRE is a queue name: letters, digits, _ . -.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// callbackKeys are the DTMF keys callback.key may be.
const callbackKeys = "0123456789*#"

// maxSteps bounds a queue's escalation.
const maxSteps = 60

// CheckQueues reports every problem of a list of queues, at most one a
// key, in queue and key order: names (required, unique), agents (among
// agents, each once), strategy, skills expressions, durations and
// lengths, service level, empty policies, escalation steps (later and
// later, doing something, naming queues of the list), callback key and
// its media, windows. It is the one check of a queue: routing.New and the
// configuration's Validate (which adds each problem's file and line) both
// run it.
func CheckQueues(queues []sb.Queue, agents []sb.AgentID) []QueueProblem {
	var out []QueueProblem
	known := make(map[sb.AgentID]bool, len(agents))
	for _, a := range agents {
		known[a] = true
	}
	names := map[sb.QueueName]int{}
	for i, q := range queues {
		if _, dup := names[q.Name]; !dup && q.Name != "" {
			names[q.Name] = i
		}
	}
	for i, q := range queues {
		bad := func(key string, format string, args ...any) {
			out = append(out, QueueProblem{Queue: i, Key: key, Message: fmt.Sprintf(format, args...)})
		}
		check := func(key string, isBad bool, format string, args ...any) {
			if isBad {
				bad(key, format, args...)
			}
		}
		switch j := names[q.Name]; {
		case q.Name == "":
			bad("name", "is required")
		case !nameRE.MatchString(string(q.Name)):
			bad("name", "must be letters, digits, _ . - (starting with a letter or digit), got %q", q.Name)
		case j != i:
			bad("name", "duplicate queue name %q (also queues[%d])", q.Name, j)
		}
		inQueue := map[sb.AgentID]int{}
		for j, id := range q.Agents {
			k := fmt.Sprintf("agents[%d]", j)
			if prev, dup := inQueue[id]; dup {
				bad(k, "agent %q is listed twice (also queues[%d].agents[%d])", id, i, prev)
			} else if !known[id] || id == "" {
				bad(k, "unknown agent %q (not in agents)", id)
			} else {
				inQueue[id] = j
			}
		}
		check("wait_for_agent", q.WaitForAgent < 0, "must not be negative, got %s (0 or none: center.wait_for_agent)", q.WaitForAgent)
		if _, err := NewStrategy(q.Strategy); err != nil {
			bad("strategy", "%v", err)
		}
		if q.Skills != "" {
			if _, _, err := compileSkills(q.Skills); err != nil {
				bad("skills", "%v", err)
			}
		}
		check("ring_timeout", q.RingTimeout < 0, "must not be negative")
		check("wrap_up", q.WrapUp < 0, "must not be negative")
		check("preferred_wait", q.PreferredWait < 0, "must not be negative")
		if _, _, err := ParseServiceLevel(q.ServiceLevel); err != nil {
			bad("service_level", "%v", err)
		}
		check("max_length", q.MaxLength < 0, "must not be negative, got %d (0: no limit)", q.MaxLength)
		for _, pol := range []struct {
			key string
			v   sb.EmptyPolicy
		}{{"join_empty", q.JoinEmpty}, {"leave_when_empty", q.LeaveWhenEmpty}} {
			switch pol.v {
			case sb.EmptyNever, sb.EmptyNoMembers, sb.EmptyNoAvailable:
			default:
				bad(pol.key, "must be %s or %s (empty: never), got %q", sb.EmptyNoMembers, sb.EmptyNoAvailable, pol.v)
			}
		}
		check("announce_every", q.AnnounceEvery < 0, "must not be negative, got %s (0: no announcements)", q.AnnounceEvery)
		check("returning_caller", q.ReturningCaller < 0, "must not be negative, got %s (0: off)", q.ReturningCaller)

		check("escalation", len(q.Escalation) > maxSteps, "at most %d steps, got %d", maxSteps, len(q.Escalation))
		var last time.Duration
		offers := -1
		for j, s := range q.Escalation {
			sk := fmt.Sprintf("escalation[%d]", j)
			switch {
			case s.After <= 0:
				bad(sk+".after", "must be a positive duration, got %s", s.After)
			case j > 0 && s.After <= last:
				bad(sk+".after", "must be later than the step before (%s), got %s", last, s.After)
			}
			last = max(last, s.After)
			if s.Skills != "" {
				if _, _, err := compileSkills(s.Skills); err != nil {
					bad(sk+".skills", "%v", err)
				}
			}
			for n, aq := range s.AddQueues {
				if _, ok := names[aq]; !ok {
					bad(fmt.Sprintf("%s.add_queues[%d]", sk, n), "unknown queue %q (not in queues)", aq)
				}
			}
			check(sk+".raise_priority", s.RaisePriority < 0, "must not be negative, got %d (it adds to the caller's priority; 0: no change)", s.RaisePriority)
			check(sk, s.Skills == "" && len(s.AddQueues) == 0 && s.RaisePriority == 0 && !s.OfferCallback && s.Exit == "",
				"does nothing: give skills, add_queues, raise_priority, offer_callback or exit")
			if s.OfferCallback && offers < 0 {
				offers = j
			}
		}

		cb := q.Callback
		switch {
		case cb.Key == "":
			if offers >= 0 {
				bad(fmt.Sprintf("escalation[%d].offer_callback", offers),
					"offers a callback, but queues[%d].callback.key is empty: set the DTMF key the caller presses", i)
			}
		case len(cb.Key) != 1 || !strings.Contains(callbackKeys, cb.Key):
			bad("callback.key", `must be one DTMF key: 0-9, "*" or "#" (quoted), got %q`, cb.Key)
		default:
			check("callback.prompt", len(cb.Prompt) == 0, "is required with key: the media that offers the callback (press %s ...)", cb.Key)
			check("callback.confirmation", len(cb.Confirmation) == 0, "is required with key: the media played before hanging up (we will call you back ...)")
		}
		for _, m := range []struct {
			key   string
			media []string
		}{{"callback.prompt", cb.Prompt}, {"callback.confirmation", cb.Confirmation}} {
			for j, uri := range m.media {
				if err := sb.ValidMediaURI(uri); err != nil {
					bad(fmt.Sprintf("%s[%d]", m.key, j), "%s", sb.ErrorMessage(err))
				}
			}
		}
		for j, w := range cb.Windows {
			if _, err := parseWindow(w); err != nil {
				bad(fmt.Sprintf("callback.windows[%d]", j), "%v", err)
			}
		}
		check("callback.attempts", cb.Attempts < 0, "must not be negative, got %d (0: 3)", cb.Attempts)
		check("callback.retry", cb.Retry < 0, "must not be negative, got %s (0: 5m)", cb.Retry)
	}
	return out
}

// ParseServiceLevel reads a service-level target "SHARE/TIME" such as
// "80/20s" (80% of calls answered within 20s): 0 < SHARE <= 100, TIME a
// positive duration. It returns the share as a fraction (0.8). Empty gives
// zeros: the router's default.
func ParseServiceLevel(s string) (share float64, within time.Duration, err error) {
	if s == "" {
		return 0, 0, nil
	}
	pct, dur, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf(`want SHARE/TIME, e.g. "80/20s" (80%% answered within 20s), got %q`, s)
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(pct), "%"), 64)
	if err != nil || !(n > 0 && n <= 100) {
		return 0, 0, fmt.Errorf("share must be a percentage in (0, 100], got %q", pct)
	}
	d, err := time.ParseDuration(strings.TrimSpace(dur))
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("time must be a positive duration such as 20s, got %q", dur)
	}
	return n / 100, d, nil
}

// ParseWindows reads callback windows: "mon-fri 09:00-17:00",
// "sat 10:00-14:00", "mon,wed,fri 08:00-12:00", or hours alone for every
// day ("09:00-18:00"). Days are mon..sun, ranges (mon-fri, fri-mon), comma
// lists of these, daily, weekdays or weekends; hours are HH:MM, the end at
// 24:00 at the latest. A window ending before it starts ("22:00-02:00")
// runs past midnight into the next day. An error names the window by its
// index: "windows[1]: ...".
func ParseWindows(specs []string) ([]Window, error) {
	var out []Window
	var errs []error
	for i, s := range specs {
		ws, err := parseWindow(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("windows[%d]: %w", i, err))
			continue
		}
		out = append(out, ws...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseWindow reads one window; one that runs past midnight comes back as
// two.
func parseWindow(s string) ([]Window, error) {
	f := strings.Fields(s)
	var days []time.Weekday
	var span string
	switch len(f) {
	case 1:
		span = f[0]
	case 2:
		var err error
		if days, err = parseDays(f[0]); err != nil {
			return nil, err
		}
		span = f[1]
	default:
		return nil, fmt.Errorf(`want "DAYS HH:MM-HH:MM" or "HH:MM-HH:MM" (every day), e.g. "mon-fri 09:00-17:00", got %q`, s)
	}
	a, b, ok := strings.Cut(span, "-")
	from, okFrom := calendar.ParseClock(a)
	to, okTo := calendar.ParseClock(b)
	if !ok || !okFrom || !okTo || from == 24*time.Hour {
		return nil, fmt.Errorf("hours must be HH:MM-HH:MM (00:00 to 24:00), got %q", span)
	}
	switch {
	case from == to:
		return nil, fmt.Errorf("window %q is empty", span)
	case from < to:
		return []Window{{Days: days, From: from, To: to}}, nil
	}
	// Past midnight: the evening on days, the early hours on the day after.
	var next []time.Weekday
	for _, d := range days {
		next = append(next, (d+1)%7)
	}
	out := []Window{{Days: days, From: from, To: 24 * time.Hour}}
	if to > 0 {
		out = append(out, Window{Days: next, From: 0, To: to})
	}
	return out, nil
}

// parseDays reads "mon", "mon-fri", "fri-mon", "mon,wed,fri", "daily",
// "weekdays" or "weekends"; every day comes back as nil.
func parseDays(s string) ([]time.Weekday, error) {
	var set [7]bool
	for part := range strings.SplitSeq(strings.ToLower(s), ",") {
		switch part {
		case "daily":
			return nil, nil
		case "weekdays":
			for d := time.Monday; d <= time.Friday; d++ {
				set[d] = true
			}
			continue
		case "weekends":
			set[time.Saturday], set[time.Sunday] = true, true
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		first, ok1 := weekdays[a]
		last, ok2 := weekdays[b]
		if !isRange {
			last, ok2 = first, ok1
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("unknown days %q: use mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, a comma list, daily, weekdays or weekends", part)
		}
		for d := first; ; d = (d + 1) % 7 {
			set[d] = true
			if d == last {
				break
			}
		}
	}
	var days []time.Weekday
	for d, on := range set {
		if on {
			days = append(days, time.Weekday(d))
		}
	}
	if len(days) == 7 {
		return nil, nil
	}
	return days, nil
}
