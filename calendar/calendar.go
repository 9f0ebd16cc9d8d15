// Package calendar answers whether a call center is open: business hours per
// weekday, holidays and exceptions (special hours on a date), each calendar
// in its own time zone. IVR flows ask it through calendar("NAME") and routes
// choose a closed flow by it.
//
// The package is pure: no I/O, no goroutines, and the instant asked about is
// always an argument. Hours are wall-clock times in the calendar's zone, so
// 08:00 stays 08:00 across a daylight-saving change (a day may then be 23 or
// 25 hours long). The time zone database is embedded (time/tzdata), so
// calendars work on hosts without one.
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"

	_ "time/tzdata" // zones must not depend on the host's zoneinfo
)

// Span is a stretch of open hours within one day, as offsets from local
// midnight: From is inclusive, To exclusive, 0 <= From < To <= 24h. Offsets
// are wall-clock times (08:00 is 8*time.Hour), not elapsed time.
type Span struct{ From, To time.Duration }

// String formats the span as "08:00-18:00" (a span to midnight ends "24:00").
func (s Span) String() string { return clock(s.From) + "-" + clock(s.To) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// Calendar is one set of business hours. Build makes one from its
// configuration form; a Calendar built in code must keep each day's spans
// sorted and non-overlapping.
//
// For a date, the first of these that applies decides: an exception for the
// date, an exception for every year ("*-12-24"), a holiday on the date or
// every year ("*-12-25", closed all day), the weekly hours of its weekday.
type Calendar struct {
	// Name is the calendar's name, used in reasons and by Set.
	Name string
	// Location is the zone hours are read in; nil means UTC.
	Location *time.Location
	// Weekly holds the regular hours of each day, indexed by time.Weekday.
	// A day with no spans is closed.
	Weekly [7][]Span
	// Holidays maps a date ("2026-12-25") or a date every year
	// ("*-12-25") to the holiday's name. A holiday is closed all day.
	Holidays map[string]string
	// Exceptions maps a date ("2026-12-24") or a date every year
	// ("*-12-24") to special hours that replace the day's regular hours
	// and any holiday.
	Exceptions map[string]Exception
}

// Exception replaces the hours of one date.
type Exception struct {
	// Name says why, e.g. "Christmas Eve"; it appears in reasons.
	Name string
	// Closed closes the whole date.
	Closed bool
	// Hours are the open hours on the date when not Closed; none is closed.
	Hours []Span
}

// Result is a calendar's answer for one instant.
type Result struct {
	// Open reports whether the calendar is open at the instant.
	Open bool
	// Reason says why, for people and logs: "open: regular hours thu
	// 08:00-18:00", "closed: holiday Christmas Day", "closed: exception
	// Christmas Eve 08:00-12:00", "closed: outside hours (thu 08:00-18:00)",
	// "closed: no hours on sun".
	Reason string
	// Local is the instant in the calendar's zone.
	Local time.Time
	// NextChange is when Open flips next, in the calendar's zone; zero
	// when it does not within 366 days (always open or always closed).
	NextChange time.Time
}

// Why returns Reason without its "open: " or "closed: " prefix.
func (r Result) Why() string {
	if _, rest, ok := strings.Cut(r.Reason, ": "); ok {
		return rest
	}
	return r.Reason
}

// searchDays bounds the search for NextChange.
const searchDays = 366

// dayKind is what decides a date's hours.
type dayKind int

const (
	regular dayKind = iota
	holiday
	exception
)

// day is the plan for one local date.
type day struct {
	y       int
	m       time.Month
	d       int
	weekday time.Weekday
	kind    dayKind
	name    string // of the holiday or exception
	closed  bool   // exception closed all day, or holiday
	spans   []Span
}

func (c *Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// dayOf returns the plan of the local date y-m-d.
func (c *Calendar) dayOf(y int, m time.Month, d int) day {
	wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
	p := day{y: y, m: m, d: d, weekday: wd}
	date := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	every := "*" + date[4:]
	for _, k := range []string{date, every} {
		if e, ok := c.Exceptions[k]; ok {
			p.kind, p.name = exception, e.Name
			p.closed = e.Closed || len(e.Hours) == 0
			if !e.Closed {
				p.spans = e.Hours
			}
			return p
		}
	}
	for _, k := range []string{date, every} {
		if name, ok := c.Holidays[k]; ok {
			if name == "" {
				name = date
			}
			p.kind, p.name, p.closed = holiday, name, true
			return p
		}
	}
	p.spans = c.Weekly[wd]
	return p
}

// at returns the instant of a wall-clock offset on a local date.
func (c *Calendar) at(p day, off time.Duration) time.Time {
	return time.Date(p.y, p.m, p.d, int(off/time.Hour), int(off%time.Hour/time.Minute), int(off%time.Minute/time.Second), 0, c.loc())
}

// openAt evaluates t: the day's plan, and the span t falls in (-1 if none).
func (c *Calendar) openAt(t time.Time) (day, int) {
	y, m, d := t.In(c.loc()).Date()
	p := c.dayOf(y, m, d)
	if p.closed {
		return p, -1
	}
	for i, s := range p.spans {
		if !t.Before(c.at(p, s.From)) && t.Before(c.at(p, s.To)) {
			return p, i
		}
	}
	return p, -1
}

// IsOpen reports whether the calendar is open at t.
func (c *Calendar) IsOpen(t time.Time) bool {
	_, i := c.openAt(t)
	return i >= 0
}

// Check evaluates the calendar at t: open or closed, why, and when that
// changes next.
func (c *Calendar) Check(t time.Time) Result {
	p, i := c.openAt(t)
	r := Result{Open: i >= 0, Local: t.In(c.loc())}
	r.Reason = reason(p, i)
	r.NextChange = c.nextChange(t, r.Open)
	return r
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func reason(p day, i int) string {
	wd := dayNames[p.weekday]
	switch {
	case i >= 0 && p.kind == exception:
		return fmt.Sprintf("open: exception %s %s", p.name, p.spans[i])
	case i >= 0:
		return fmt.Sprintf("open: regular hours %s %s", wd, p.spans[i])
	case p.kind == holiday:
		return "closed: holiday " + p.name
	case p.kind == exception && p.closed:
		return "closed: exception " + p.name
	case p.kind == exception:
		return fmt.Sprintf("closed: exception %s %s", p.name, spanList(p.spans))
	case len(p.spans) == 0:
		return "closed: no hours on " + wd
	}
	return fmt.Sprintf("closed: outside hours (%s %s)", wd, spanList(p.spans))
}

func spanList(spans []Span) string {
	s := make([]string, len(spans))
	for i, sp := range spans {
		s[i] = sp.String()
	}
	return strings.Join(s, ", ")
}

// nextChange returns the first instant after t at which the calendar is not
// open (if open) or is. Openness only changes at a span's start or end or at
// a local midnight, so those instants are the candidates, day by day.
func (c *Calendar) nextChange(t time.Time, open bool) time.Time {
	y, m, d := t.In(c.loc()).Date()
	var cands []time.Time
	for n := 0; n <= searchDays; n++ {
		// Normalise the civil date (d+n may overflow the month) away from
		// any zone transition.
		p := c.dayOf(time.Date(y, m, d+n, 12, 0, 0, 0, time.UTC).Date())
		cands = append(cands[:0], c.at(p, 0))
		if !p.closed {
			for _, s := range p.spans {
				cands = append(cands, c.at(p, s.From), c.at(p, s.To))
			}
		}
		slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
		for _, x := range cands {
			if x.After(t) && c.IsOpen(x) != open {
				return x.In(c.loc())
			}
		}
	}
	return time.Time{}
}

// Set is the configured calendars by name. Names are matched exactly, then
// in lower case (the configuration's keys are case-insensitive and arrive
// lower-cased).
type Set map[string]*Calendar

// Get returns the calendar with this name.
func (s Set) Get(name string) (*Calendar, bool) {
	if c, ok := s[name]; ok && c != nil {
		return c, true
	}
	c, ok := s[strings.ToLower(name)]
	return c, ok && c != nil
}

// Known reports whether a calendar with this name exists.
func (s Set) Known(name string) bool {
	_, ok := s.Get(name)
	return ok
}

// IsOpen reports whether the named calendar is open at t; an unknown
// calendar is closed.
func (s Set) IsOpen(name string, t time.Time) bool {
	c, ok := s.Get(name)
	return ok && c.IsOpen(t)
}

// Names returns the calendars' names, sorted.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Summary describes the weekly hours for people, Monday first, days with
// the same hours grouped: "mon-fri 08:00-18:00; sat 09:00-13:00", or
// "closed every day".
func (c *Calendar) Summary() string {
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var parts []string
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && slices.Equal(c.Weekly[order[j]], c.Weekly[order[i]]) {
			j++
		}
		if spans := c.Weekly[order[i]]; len(spans) > 0 {
			days := dayNames[order[i]]
			if j-i > 1 {
				days += "-" + dayNames[order[j-1]]
			}
			parts = append(parts, days+" "+spanList(spans))
		}
		i = j
	}
	if len(parts) == 0 {
		return "closed every day"
	}
	return strings.Join(parts, "; ")
}
