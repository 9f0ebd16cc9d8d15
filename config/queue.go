package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/routing"
)

// TargetHangup is the exit target that hangs the caller up at once. The
// other targets are an IVR flow's name, or empty: the no-agent prompt
// (center.no_agent_prompt), then hang up.
const TargetHangup = "hangup"

// callbackKeys are the DTMF keys callback.key may be.
const callbackKeys = "0123456789*#"

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
func ParseWindows(specs []string) ([]routing.Window, error) {
	var out []routing.Window
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
func parseWindow(s string) ([]routing.Window, error) {
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
		return []routing.Window{{Days: days, From: from, To: to}}, nil
	}
	// Past midnight: the evening on days, the early hours on the day after.
	var next []time.Weekday
	for _, d := range days {
		next = append(next, (d+1)%7)
	}
	out := []routing.Window{{Days: days, From: from, To: 24 * time.Hour}}
	if to > 0 {
		out = append(out, routing.Window{Days: next, From: 0, To: to})
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

// numberRE is a caller number once spaces are removed.
var numberRE = regexp.MustCompile(`^\+?[0-9]+$`)

// NormalizeNumber returns a caller number as VIP lists match it: with its
// spaces (and tabs) removed.
func NormalizeNumber(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// maxNumberLen bounds a VIP number (spaces removed): no caller ID is
// longer (E.164 numbers have at most 15 digits; prefixes add a few).
const maxNumberLen = 32

// checkNumber returns what is wrong with a VIP number, or "".
func checkNumber(s string) string {
	switch n := NormalizeNumber(s); {
	case n == "":
		return "is empty"
	case len(n) > maxNumberLen:
		return fmt.Sprintf("must be a caller number of at most %d digits, got %d characters", maxNumberLen, len(n))
	case !numberRE.MatchString(n):
		return fmt.Sprintf("must be a caller number: digits with an optional leading +, got %q", s)
	}
	return ""
}

// maxVIPLine bounds a line of a VIP list file: a number and a comment.
const maxVIPLine = 64 << 10

// readVIP reads a VIP list file: one caller number a line, '#' starting a
// comment, blank lines ignored. Lines end with LF, CR LF or a lone CR.
// It returns the numbers normalised (NormalizeNumber) and a problem at
// path:line for each line that is not a number; err (naming path:line) if
// the file cannot be read or has a line longer than maxVIPLine.
func readVIP(r io.Reader, path string) (numbers []string, problems []Problem, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxVIPLine)
	sc.Split(scanLines)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if msg := checkNumber(text); msg != "" {
			problems = append(problems, Problem{File: path, Line: line, Message: "number " + msg})
			continue
		}
		numbers = append(numbers, NormalizeNumber(text))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d KiB", maxVIPLine>>10)
		}
		return nil, nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return numbers, problems, nil
}

// scanLines is bufio.ScanLines with a lone CR (old Mac files) ending a
// line too, so lines are numbered as an editor shows them.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		switch {
		case i+1 < len(data) && data[i+1] == '\n':
			return i + 2, data[:i], nil
		case i+1 < len(data) || atEOF:
			return i + 1, data[:i], nil
		}
		return 0, nil, nil // a CR at the end of the buffer: is an LF next?
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// VIPPath returns a VIP list's file resolved against the configuration
// file's folder (the working directory for LoadBytes and Demo).
func (c *Config) VIPPath(l VIPList) string {
	if l.File == "" || filepath.IsAbs(l.File) || c.Path == "" {
		return l.File
	}
	return filepath.Join(filepath.Dir(c.Path), l.File)
}

// LoadVIP reads the VIP lists, their files included, into caller number
// (spaces removed) -> the highest priority of the lists that hold it. Bad
// numbers are returned together in a *ValidationError, each with its file
// and line ("vip.txt:7: ..."); a file that cannot be read is an error
// naming it.
func (c *Config) LoadVIP() (map[string]int, error) {
	out := map[string]int{}
	add := func(number string, prio int) {
		n := NormalizeNumber(number)
		if old, ok := out[n]; !ok || prio > old {
			out[n] = prio
		}
	}
	var list []Problem
	for i, l := range c.Routing.VIP {
		for j, n := range l.Numbers {
			if msg := checkNumber(n); msg != "" {
				list = append(list, Problem{Key: fmt.Sprintf("routing.vip[%d].numbers[%d]", i, j), Message: msg})
				continue
			}
			add(n, l.Priority)
		}
		if l.File == "" {
			continue
		}
		path := c.VIPPath(l)
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("routing.vip[%d].file: %w", i, err)
		}
		numbers, problems, err := readVIP(f, path)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("routing.vip[%d].file: %w", i, err)
		}
		list = append(list, problems...)
		for _, n := range numbers {
			add(n, l.Priority)
		}
	}
	if len(list) > 0 {
		return nil, &ValidationError{Problems: list}
	}
	return out, nil
}

// source indexes the file Load read, to place problems found after
// loading; nil (no places) when there is none or it no longer parses.
func (c *Config) source() *Source {
	if c.Path == "" {
		return nil
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return nil
	}
	src, err := NewSource(c.Path, data)
	if err != nil {
		return nil
	}
	return src
}

// CheckTargets checks the queues' exit targets (max_wait_target,
// max_length_target, empty_target, escalation[].exit) against the IVR
// flows, which the ivr package loads apart from the configuration: each
// must be empty, "hangup" or one of flowNames. Problems come back in a
// *ValidationError at the keys' lines in the file Load read (without lines
// for a Config from LoadBytes or code).
func (c *Config) CheckTargets(flowNames []string) error {
	var targets []struct{ key, value string }
	add := func(key, value string) {
		if value != "" && value != TargetHangup && !slices.Contains(flowNames, value) {
			targets = append(targets, struct{ key, value string }{key, value})
		}
	}
	for i, q := range c.Queues {
		k := fmt.Sprintf("queues[%d]", i)
		add(k+".max_wait_target", q.MaxWaitTarget)
		add(k+".max_length_target", q.MaxLengthTarget)
		add(k+".empty_target", q.EmptyTarget)
		for j, s := range q.Escalation {
			add(fmt.Sprintf("%s.escalation[%d].exit", k, j), s.Exit)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	p := newProblems(c.source())
	flows := slices.Clone(flowNames)
	slices.Sort(flows)
	for _, t := range targets {
		p.add(t.key, "no flow named %q: a target is empty (no-agent prompt, then hang up), %q, or an IVR flow (flows: %s)",
			t.value, TargetHangup, listOrNone(flows))
	}
	return p.err()
}

// validateQueueOptions checks the router's queue options and the VIP lists.
func (c *Config) validateQueueOptions(p *problems) {
	check := func(key string, bad bool, format string, args ...any) {
		if bad && !p.has(key) {
			p.add(key, format, args...)
		}
	}
	queueNames := map[string]bool{}
	for _, q := range c.Queues {
		queueNames[q.Name] = true
	}
	for i, q := range c.Queues {
		key := fmt.Sprintf("queues[%d]", i)
		if q.Skills != "" {
			if msg := checkSkills(q.Skills); msg != "" {
				check(key+".skills", true, "%s", msg)
			}
		}
		if _, _, err := ParseServiceLevel(q.ServiceLevel); err != nil {
			check(key+".service_level", true, "%v", err)
		}
		check(key+".max_length", q.MaxLength < 0, "must not be negative, got %d (0: no limit)", q.MaxLength)
		for _, pol := range []struct{ name, v string }{{"join_empty", q.JoinEmpty}, {"leave_when_empty", q.LeaveWhenEmpty}} {
			switch routing.EmptyPolicy(pol.v) {
			case routing.EmptyNever, routing.EmptyNoMembers, routing.EmptyNoAvailable:
			default:
				check(key+"."+pol.name, true, "must be %s or %s (empty: never), got %q", routing.EmptyNoMembers, routing.EmptyNoAvailable, pol.v)
			}
		}
		check(key+".announce_every", q.AnnounceEvery < 0, "must not be negative, got %s (0: no announcements)", q.AnnounceEvery)
		check(key+".returning_caller", q.ReturningCaller < 0, "must not be negative, got %s (0: off)", q.ReturningCaller)

		var last time.Duration
		offers := -1
		for j, s := range q.Escalation {
			sk := fmt.Sprintf("%s.escalation[%d]", key, j)
			switch {
			case s.After <= 0:
				check(sk+".after", true, "must be a positive duration, got %s", s.After)
			case j > 0 && s.After <= last:
				check(sk+".after", true, "must be later than the step before (%s), got %s", last, s.After)
			}
			last = max(last, s.After)
			if s.Skills != "" {
				if msg := checkSkills(s.Skills); msg != "" {
					check(sk+".skills", true, "%s", msg)
				}
			}
			for n, aq := range s.AddQueues {
				check(fmt.Sprintf("%s.add_queues[%d]", sk, n), !queueNames[aq], "unknown queue %q (not in queues)", aq)
			}
			check(sk+".raise_priority", s.RaisePriority < 0, "must not be negative, got %d (it adds to the caller's priority; 0: no change)", s.RaisePriority)
			// A raise_priority that did not decode is reported already.
			check(sk, s.Skills == "" && len(s.AddQueues) == 0 && s.RaisePriority == 0 && !s.OfferCallback && s.Exit == "" &&
				!p.has(sk+".raise_priority"),
				"does nothing: give skills, add_queues, raise_priority, offer_callback or exit")
			if s.OfferCallback && offers < 0 {
				offers = j
			}
		}
		check(key+".escalation", len(q.Escalation) > 60, "at most 60 steps, got %d", len(q.Escalation))

		cb := q.Callback
		ck := key + ".callback"
		switch {
		case cb.Key == "":
			if offers >= 0 {
				check(fmt.Sprintf("%s.escalation[%d].offer_callback", key, offers), true,
					"offers a callback, but %s.key is empty: set the DTMF key the caller presses", ck)
			}
		case len(cb.Key) != 1 || !strings.Contains(callbackKeys, cb.Key):
			check(ck+".key", true, `must be one DTMF key: 0-9, "*" or "#" (quoted), got %q`, cb.Key)
		default:
			check(ck+".prompt", len(cb.Prompt) == 0, "is required with key: the media that offers the callback (press %s ...)", cb.Key)
			check(ck+".confirmation", len(cb.Confirmation) == 0, "is required with key: the media played before hanging up (we will call you back ...)")
		}
		checkMedia(p, ck+".prompt", cb.Prompt)
		checkMedia(p, ck+".confirmation", cb.Confirmation)
		for j, w := range cb.Windows {
			if _, err := parseWindow(w); err != nil {
				check(fmt.Sprintf("%s.windows[%d]", ck, j), true, "%v", err)
			}
		}
		check(ck+".attempts", cb.Attempts < 0, "must not be negative, got %d (0: 3)", cb.Attempts)
		check(ck+".retry", cb.Retry < 0, "must not be negative, got %s (0: 5m)", cb.Retry)
	}

	names := map[string]int{}
	for i, l := range c.Routing.VIP {
		key := fmt.Sprintf("routing.vip[%d]", i)
		name := strings.TrimSpace(l.Name)
		if j, dup := names[name]; dup && name != "" {
			check(key+".name", true, "duplicate VIP list %q (also routing.vip[%d])", name, j)
		} else if name != "" {
			names[name] = i
		}
		check(key+".name", name == "", "is required")
		check(key, len(l.Numbers) == 0 && l.File == "", "has no numbers and no file")
		for j, n := range l.Numbers {
			nk := fmt.Sprintf("%s.numbers[%d]", key, j)
			if msg := checkNumber(n); msg != "" {
				check(nk, true, "%s", msg)
			} else if raw, scalar := p.src.raw(nk); scalar && raw != "" && NormalizeNumber(raw) != NormalizeNumber(n) {
				// YAML reads +15550100 and 0044... as numbers: the + or the
				// leading zeros would be lost.
				check(nk, true, "quote it: YAML reads %s as the number %s", raw, n)
			}
		}
	}
}

// checkSkills returns what is wrong with a skill expression, or "". The
// router compiles it: a router of one queue is built to check it.
func checkSkills(expr string) string {
	const probe = "skills"
	_, err := routing.New(routing.Config{Queues: []routing.QueueConfig{{Name: sb.QueueName(probe), Skills: expr}}})
	if err == nil {
		return ""
	}
	// The router reports `routing config: queue "skills": bad skills
	// expression ...`; the key already says where.
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, fmt.Sprintf("queue %q: ", probe)); ok {
		msg = rest
	}
	return msg
}
