package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Def is a calendar as configured (the config package decodes it from
// calendars.NAME). Build turns it into a Calendar.
type Def struct {
	// Timezone is the IANA zone hours are read in, e.g. America/New_York.
	Timezone string `mapstructure:"timezone" yaml:"timezone"`
	// Hours maps days to open hours. Days: mon..sun, a range (mon-fri,
	// fri-mon), daily, weekdays, weekends, or a comma list of these. Hours:
	// "08:00-18:00", "24h"; a span that ends before it starts crosses
	// midnight ("22:00-02:00" is 22:00-24:00 and 00:00-02:00 the next day).
	// Spans of the same day that overlap or touch merge. Days not named are
	// closed.
	Hours map[string][]string `mapstructure:"hours" yaml:"hours,omitempty"`
	// Holidays close whole dates.
	Holidays []Holiday `mapstructure:"holidays" yaml:"holidays,omitempty"`
	// Exceptions replace the hours of dates.
	Exceptions []ExceptionDef `mapstructure:"exceptions" yaml:"exceptions,omitempty"`
}

// Holiday closes one date, or the same date every year.
type Holiday struct {
	// Date is "2026-12-25", or "*-12-25" for every year.
	Date string `mapstructure:"date" yaml:"date"`
	// Name appears in reasons, e.g. "Christmas Day".
	Name string `mapstructure:"name" yaml:"name"`
}

// ExceptionDef gives one date, or the same date every year, special hours.
type ExceptionDef struct {
	// Date is "2026-12-24", or "*-12-24" for every year. A dated exception
	// beats an every-year one for the same day.
	Date string `mapstructure:"date" yaml:"date"`
	// Name appears in reasons, e.g. "Christmas Eve".
	Name string `mapstructure:"name" yaml:"name"`
	// Closed closes the whole date; it excludes Hours.
	Closed bool `mapstructure:"closed" yaml:"closed,omitempty"`
	// Hours are the date's open hours ("08:00-12:00", "24h"), within the
	// day: they cannot cross midnight.
	Hours []string `mapstructure:"hours" yaml:"hours,omitempty"`
}

// FieldError is one problem in a Def, at a key path relative to the
// calendar: "timezone", "hours.mon-fri", "hours.mon-fri[0]",
// "holidays[2].date", "exceptions[0].hours[1]".
type FieldError struct {
	Key     string
	Message string
}

// Error returns "key: message".
func (e FieldError) Error() string { return e.Key + ": " + e.Message }

// Build makes the calendar name from its configuration form, or returns
// every problem found (and a nil Calendar).
func Build(name string, def Def) (*Calendar, []FieldError) {
	var errs []FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, FieldError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	c := &Calendar{Name: name, Holidays: map[string]string{}, Exceptions: map[string]Exception{}}

	switch tz := strings.TrimSpace(def.Timezone); tz {
	case "":
		bad("timezone", "is required: an IANA time zone such as America/New_York or UTC")
	case "Local":
		bad("timezone", "name the zone (e.g. Europe/Berlin): Local would depend on the server")
	default:
		loc, err := time.LoadLocation(tz)
		if err != nil {
			bad("timezone", "unknown time zone %q (an IANA name such as America/New_York or UTC)", tz)
		} else {
			c.Location = loc
		}
	}

	keys := make([]string, 0, len(def.Hours))
	for k := range def.Hours {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var weekly [7][]Span
	for _, k := range keys {
		key := "hours." + k
		days, msg := parseDays(k)
		if msg != "" {
			bad(key, "%s", msg)
			continue
		}
		for i, v := range def.Hours[k] {
			s, msg := parseSpan(v)
			if msg != "" {
				bad(fmt.Sprintf("%s[%d]", key, i), "%s", msg)
				continue
			}
			for _, wd := range days {
				if s.To > s.From {
					weekly[wd] = append(weekly[wd], s)
					continue
				}
				// Crosses midnight: the rest belongs to the next day.
				weekly[wd] = append(weekly[wd], Span{s.From, 24 * time.Hour})
				if s.To > 0 {
					next := (wd + 1) % 7
					weekly[next] = append(weekly[next], Span{0, s.To})
				}
			}
		}
	}
	for wd := range weekly {
		c.Weekly[wd] = merge(weekly[wd])
	}

	for i, h := range def.Holidays {
		key := fmt.Sprintf("holidays[%d]", i)
		date, msg := parseDate(h.Date)
		if msg != "" {
			bad(key+".date", "%s", msg)
			continue
		}
		if _, dup := c.Holidays[date]; dup {
			bad(key+".date", "duplicate holiday date %s", date)
			continue
		}
		c.Holidays[date] = strings.TrimSpace(h.Name)
	}

	seen := map[string]int{}
	for i, e := range def.Exceptions {
		key := fmt.Sprintf("exceptions[%d]", i)
		date, msg := parseDate(e.Date)
		if msg != "" {
			bad(key+".date", "%s", msg)
		} else if j, dup := seen[date]; dup {
			bad(key+".date", "duplicate exception date %s (also exceptions[%d])", date, j)
			date = ""
		} else {
			seen[date] = i
		}
		x := Exception{Name: strings.TrimSpace(e.Name), Closed: e.Closed}
		if x.Name == "" {
			x.Name = strings.TrimSpace(e.Date)
		}
		switch {
		case e.Closed && len(e.Hours) > 0:
			bad(key+".hours", "an exception is either closed: true or has hours, not both")
		case !e.Closed && len(e.Hours) == 0:
			bad(key+".hours", "give the date's hours, or closed: true")
		}
		ok := true
		for j, v := range e.Hours {
			s, msg := parseSpan(v)
			if msg == "" && s.To <= s.From && s.To != 0 {
				msg = fmt.Sprintf("end before start in %q: exception hours cannot cross midnight (end at 24:00 and add an exception for the next day)", v)
			}
			if msg != "" {
				bad(fmt.Sprintf("%s.hours[%d]", key, j), "%s", msg)
				ok = false
				continue
			}
			if s.To == 0 {
				s.To = 24 * time.Hour // "18:00-00:00" ends at midnight
			}
			x.Hours = append(x.Hours, s)
		}
		x.Hours = merge(x.Hours)
		if date != "" && ok {
			c.Exceptions[date] = x
		}
	}

	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// merge sorts spans and joins those that overlap or touch.
func merge(spans []Span) []Span {
	if len(spans) == 0 {
		return nil
	}
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int { return int(a.From - b.From) })
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.From <= last.To {
			last.To = max(last.To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

var dayIndex = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// parseDays reads an hours key: "mon", "mon-fri", "fri-mon", "daily",
// "weekdays", "weekends", or a comma list of these.
func parseDays(key string) ([]time.Weekday, string) {
	var days []time.Weekday
	add := func(from, to time.Weekday) {
		for d := from; ; d = (d + 1) % 7 {
			if !slices.Contains(days, d) {
				days = append(days, d)
			}
			if d == to {
				return
			}
		}
	}
	for part := range strings.SplitSeq(strings.ToLower(key), ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "daily":
			add(time.Sunday, time.Saturday)
			continue
		case "weekdays":
			add(time.Monday, time.Friday)
			continue
		case "weekends":
			add(time.Saturday, time.Sunday)
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		from, ok1 := dayIndex[strings.TrimSpace(a)]
		to, ok2 := dayIndex[strings.TrimSpace(b)]
		if !isRange {
			to, ok2 = from, ok1
		}
		if !ok1 || !ok2 {
			return nil, fmt.Sprintf("unknown day %q: use mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, daily, weekdays or weekends", part)
		}
		add(from, to)
	}
	return days, ""
}

// parseSpan reads "08:00-18:00" or "24h". To is 0 for a span ending at
// midnight written "…-00:00"; a span with To <= From crosses midnight.
func parseSpan(v string) (Span, string) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "24h") {
		return Span{0, 24 * time.Hour}, ""
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return Span{}, fmt.Sprintf("invalid hours %q: want HH:MM-HH:MM such as 08:00-18:00, or 24h", v)
	}
	from, okFrom := ParseClock(a)
	to, okTo := ParseClock(b)
	switch {
	case !okFrom || from == 24*time.Hour:
		return Span{}, fmt.Sprintf("invalid start time %q in %q: want HH:MM from 00:00 to 23:59", strings.TrimSpace(a), v)
	case !okTo:
		return Span{}, fmt.Sprintf("invalid end time %q in %q: want HH:MM from 00:00 to 24:00", strings.TrimSpace(b), v)
	case from == to:
		return Span{}, fmt.Sprintf("empty hours %q: start and end are the same (use 24h for all day)", v)
	}
	return Span{from, to}, ""
}

// parseClock reads "8:00", "08:00" or "24:00".
func ParseClock(s string) (time.Duration, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, true
}

// parseDate reads "2026-12-25" or "*-12-25" and returns it normalised.
func parseDate(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "is required: a date such as 2026-12-25, or *-12-25 for every year"
	case strings.HasPrefix(s, "*-"):
		// 2000 is a leap year: *-02-29 is allowed (it happens in leap years).
		if _, err := time.Parse("2006-01-02", "2000"+s[1:]); err != nil {
			return "", fmt.Sprintf("invalid date %q: want *-MM-DD such as *-12-25", s)
		}
		return s, ""
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", fmt.Sprintf("invalid date %q: want YYYY-MM-DD such as 2026-12-25, or *-12-25 for every year", s)
	}
	return s, ""
}
