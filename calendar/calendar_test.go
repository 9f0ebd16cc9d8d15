package calendar_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/ivr"
)

var _ ivr.Calendars = calendar.Set(nil)

// build is Build that fails the test on a problem.
func build(t *testing.T, def calendar.Def) *calendar.Calendar {
	t.Helper()
	c, errs := calendar.Build("support-hours", def)
	if len(errs) > 0 {
		t.Fatalf("Build: %v", errs)
	}
	return c
}

// at parses a wall-clock time in zone.
func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02T15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// support is the example deployment's calendar.
var support = calendar.Def{
	Timezone: "America/New_York",
	Hours:    map[string][]string{"mon-fri": {"08:00-18:00"}, "sat": {"09:00-13:00"}},
	Holidays: []calendar.Holiday{
		{Date: "*-01-01", Name: "New Year's Day"},
		{Date: "2026-12-25", Name: "Christmas Day"},
		{Date: "2026-07-03", Name: "Independence Day (observed)"},
	},
	Exceptions: []calendar.ExceptionDef{
		{Date: "2026-12-24", Name: "Christmas Eve", Hours: []string{"08:00-18:00"}},
		{Date: "2026-12-31", Name: "New Year's Eve", Hours: []string{"08:00-12:00"}},
		{Date: "2026-11-27", Name: "Inventory", Closed: true},
		{Date: "*-12-26", Name: "Boxing Day", Hours: []string{"10:00-14:00"}},
		{Date: "2027-12-26", Name: "Boxing Day 2027", Hours: []string{"11:00-12:00"}},
	},
}

func TestCheck(t *testing.T) {
	c := build(t, support)
	const ny = "America/New_York"
	tests := []struct {
		at     string
		open   bool
		reason string
		next   string // in ny, "" for zero
	}{
		{"2026-12-24T17:59", true, "open: exception Christmas Eve 08:00-18:00", "2026-12-24T18:00"},
		{"2026-12-24T18:00", false, "closed: exception Christmas Eve 08:00-18:00", "2026-12-26T10:00"},
		{"2026-12-24T07:59", false, "closed: exception Christmas Eve 08:00-18:00", "2026-12-24T08:00"},
		{"2026-12-25T12:00", false, "closed: holiday Christmas Day", "2026-12-26T10:00"},
		{"2026-12-26T10:00", true, "open: exception Boxing Day 10:00-14:00", "2026-12-26T14:00"},
		{"2027-12-26T10:30", false, "closed: exception Boxing Day 2027 11:00-12:00", "2027-12-26T11:00"},
		{"2026-12-31T11:00", true, "open: exception New Year's Eve 08:00-12:00", "2026-12-31T12:00"},
		{"2027-01-01T10:00", false, "closed: holiday New Year's Day", "2027-01-02T09:00"},
		{"2028-01-01T10:00", false, "closed: holiday New Year's Day", "2028-01-03T08:00"},
		{"2026-11-27T10:00", false, "closed: exception Inventory", "2026-11-28T09:00"},
		{"2026-12-17T08:00", true, "open: regular hours thu 08:00-18:00", "2026-12-17T18:00"},
		{"2026-12-17T18:30", false, "closed: outside hours (thu 08:00-18:00)", "2026-12-18T08:00"},
		{"2026-12-19T12:59", true, "open: regular hours sat 09:00-13:00", "2026-12-19T13:00"},
		{"2026-12-20T12:00", false, "closed: no hours on sun", "2026-12-21T08:00"},
		{"2026-07-03T09:00", false, "closed: holiday Independence Day (observed)", "2026-07-04T09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			r := c.Check(at(t, ny, tt.at))
			if r.Open != tt.open || r.Reason != tt.reason {
				t.Errorf("got %v %q, want %v %q", r.Open, r.Reason, tt.open, tt.reason)
			}
			var want time.Time
			if tt.next != "" {
				want = at(t, ny, tt.next)
			}
			if !r.NextChange.Equal(want) {
				t.Errorf("NextChange = %v, want %v", r.NextChange, want)
			}
			if r.Local.Location().String() != ny || (!r.NextChange.IsZero() && r.NextChange.Location().String() != ny) {
				t.Errorf("times not in the calendar's zone: %v %v", r.Local, r.NextChange)
			}
			if r.Open != c.IsOpen(at(t, ny, tt.at)) {
				t.Error("IsOpen disagrees with Check")
			}
		})
	}
}

// TestCheckZone: an instant given in another zone is read in the calendar's.
func TestCheckZone(t *testing.T) {
	c := build(t, support)
	r := c.Check(time.Date(2026, 12, 24, 22, 59, 0, 0, time.UTC)) // 17:59 EST
	if !r.Open || r.Local.Format("2006-01-02 15:04 MST") != "2026-12-24 17:59 EST" {
		t.Errorf("got %+v", r)
	}
	if r.Why() != "exception Christmas Eve 08:00-18:00" {
		t.Errorf("Why = %q", r.Why())
	}
}

func TestHours(t *testing.T) {
	tests := []struct {
		name  string
		hours map[string][]string
		want  map[time.Weekday]string // spans per day; unlisted days closed
	}{
		{"range and day", map[string][]string{"mon-fri": {"08:00-18:00"}, "sat": {"9:00-13:00"}},
			map[time.Weekday]string{1: "08:00-18:00", 2: "08:00-18:00", 3: "08:00-18:00", 4: "08:00-18:00", 5: "08:00-18:00", 6: "09:00-13:00"}},
		{"overlaps merge", map[string][]string{"daily": {"08:00-12:00", "11:00-14:00", "14:00-15:00", "16:00-17:00"}, "mon": {"07:00-09:00"}},
			map[time.Weekday]string{0: "08:00-15:00,16:00-17:00", 1: "07:00-15:00,16:00-17:00", 2: "08:00-15:00,16:00-17:00",
				3: "08:00-15:00,16:00-17:00", 4: "08:00-15:00,16:00-17:00", 5: "08:00-15:00,16:00-17:00", 6: "08:00-15:00,16:00-17:00"}},
		{"crossing midnight", map[string][]string{"fri-sat": {"22:00-02:00"}},
			map[time.Weekday]string{5: "22:00-24:00", 6: "00:00-02:00,22:00-24:00", 0: "00:00-02:00"}},
		{"to midnight", map[string][]string{"sun": {"18:00-00:00"}, "weekends": {"24h"}},
			map[time.Weekday]string{0: "00:00-24:00", 6: "00:00-24:00"}},
		{"weekdays, lists, full names", map[string][]string{"weekdays": {"09:00-10:00"}, "Monday,wed": {"12:00-24:00"}},
			map[time.Weekday]string{1: "09:00-10:00,12:00-24:00", 2: "09:00-10:00", 3: "09:00-10:00,12:00-24:00", 4: "09:00-10:00", 5: "09:00-10:00"}},
		{"wrapping range", map[string][]string{"sat-mon": {"10:00-11:00"}},
			map[time.Weekday]string{6: "10:00-11:00", 0: "10:00-11:00", 1: "10:00-11:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := build(t, calendar.Def{Timezone: "UTC", Hours: tt.hours})
			for wd := range 7 {
				var got []string
				for _, s := range c.Weekly[wd] {
					got = append(got, s.String())
				}
				if g := strings.Join(got, ","); g != tt.want[time.Weekday(wd)] {
					t.Errorf("%s: got %q, want %q", time.Weekday(wd), g, tt.want[time.Weekday(wd)])
				}
			}
		})
	}
}

// TestCrossingMidnightOpen: a night shift is open across midnight without a
// change at 00:00.
func TestCrossingMidnightOpen(t *testing.T) {
	c := build(t, calendar.Def{Timezone: "Europe/Berlin", Hours: map[string][]string{"fri": {"22:00-02:00"}}})
	r := c.Check(at(t, "Europe/Berlin", "2026-06-05T23:00")) // a Friday
	if !r.Open || r.Reason != "open: regular hours fri 22:00-24:00" || !r.NextChange.Equal(at(t, "Europe/Berlin", "2026-06-06T02:00")) {
		t.Errorf("got %+v", r)
	}
	r = c.Check(at(t, "Europe/Berlin", "2026-06-06T01:00"))
	if !r.Open || r.Reason != "open: regular hours sat 00:00-02:00" {
		t.Errorf("got %+v", r)
	}
}

// TestDST: hours are wall-clock hours on the days clocks change.
func TestDST(t *testing.T) {
	tests := []struct {
		zone       string
		def        map[string][]string
		at         time.Time // UTC
		open       bool
		nextChange time.Time // UTC
	}{
		// New York springs forward on Sun 2026-03-08 (EST -5 to EDT -4).
		{"America/New_York", map[string][]string{"daily": {"08:00-18:00"}},
			time.Date(2026, 3, 8, 11, 59, 0, 0, time.UTC), false, time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)},
		{"America/New_York", map[string][]string{"daily": {"08:00-18:00"}},
			time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC), false, time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)}, // 18:00 EST to 08:00 EDT: 13 h
		// The whole of Sunday 2026-03-08 is 23 hours long.
		{"America/New_York", map[string][]string{"sun": {"24h"}},
			time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC), true, time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC)},
		// Falls back on Sun 2026-11-01: 25 hours.
		{"America/New_York", map[string][]string{"sun": {"24h"}},
			time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), true, time.Date(2026, 11, 2, 5, 0, 0, 0, time.UTC)},
		// A span over the skipped hour: 01:00-03:00 on 2026-03-08 is one real hour.
		{"America/New_York", map[string][]string{"sun": {"01:00-03:00"}},
			time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), true, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		// Berlin springs forward on Sun 2026-03-29 (CET +1 to CEST +2).
		{"Europe/Berlin", map[string][]string{"daily": {"08:00-18:00"}},
			time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), true, time.Date(2026, 3, 29, 16, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", map[string][]string{"daily": {"08:00-18:00"}},
			time.Date(2026, 3, 29, 5, 59, 0, 0, time.UTC), false, time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC)},
		// And falls back on Sun 2026-10-25: a night shift lasts 5 real hours.
		{"Europe/Berlin", map[string][]string{"sat": {"22:00-02:00"}},
			time.Date(2026, 10, 24, 20, 0, 0, 0, time.UTC), true, time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", map[string][]string{"daily": {"08:00-18:00"}},
			time.Date(2026, 10, 25, 6, 59, 0, 0, time.UTC), false, time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		c := build(t, calendar.Def{Timezone: tt.zone, Hours: tt.def})
		r := c.Check(tt.at)
		if r.Open != tt.open || !r.NextChange.Equal(tt.nextChange) {
			t.Errorf("%s %v at %v: got open %v next %v (%s), want %v next %v",
				tt.zone, tt.def, tt.at, r.Open, r.NextChange.UTC(), r.Reason, tt.open, tt.nextChange)
		}
	}
}

func TestNextChangeNever(t *testing.T) {
	for _, def := range []calendar.Def{
		{Timezone: "UTC", Hours: map[string][]string{"daily": {"24h"}}},
		{Timezone: "UTC"},
		{Timezone: "UTC", Hours: map[string][]string{"daily": {"00:00-12:00", "12:00-24:00"}}},
	} {
		c := build(t, def)
		r := c.Check(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if !r.NextChange.IsZero() {
			t.Errorf("%v: NextChange = %v, want zero", def.Hours, r.NextChange)
		}
	}
	// Open all the time but for one holiday more than a year away: not found.
	c := build(t, calendar.Def{Timezone: "UTC", Hours: map[string][]string{"daily": {"24h"}},
		Holidays: []calendar.Holiday{{Date: "2028-01-01"}}})
	if r := c.Check(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); !r.Open || !r.NextChange.IsZero() {
		t.Errorf("got %+v", r)
	}
	if r := c.Check(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)); !r.NextChange.Equal(time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", r)
	}
	if r := c.Check(time.Date(2028, 1, 1, 5, 0, 0, 0, time.UTC)); r.Open || r.Reason != "closed: holiday 2028-01-01" {
		t.Errorf("unnamed holiday: got %+v", r)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		def  calendar.Def
		want []string
	}{
		{"no zone", calendar.Def{}, []string{"timezone: is required"}},
		{"unknown zone", calendar.Def{Timezone: "Mars/Olympus"}, []string{`timezone: unknown time zone "Mars/Olympus"`}},
		{"local zone", calendar.Def{Timezone: "Local"}, []string{"timezone: name the zone"}},
		{"bad day", calendar.Def{Timezone: "UTC", Hours: map[string][]string{"mon-fry": {"08:00-18:00"}, "holiday": {"24h"}}}, []string{
			`hours.holiday: unknown day "holiday"`,
			`hours.mon-fry: unknown day "mon-fry"`,
		}},
		{"bad times", calendar.Def{Timezone: "UTC", Hours: map[string][]string{"mon": {"8-18", "08:00-25:00", "24:00-08:00", "08:60-09:00", "10:00-10:00", "ok"}}}, []string{
			`hours.mon[0]: invalid start time "8"`,
			`hours.mon[1]: invalid end time "25:00"`,
			`hours.mon[2]: invalid start time "24:00"`,
			`hours.mon[3]: invalid start time "08:60"`,
			`hours.mon[4]: empty hours "10:00-10:00"`,
			`hours.mon[5]: invalid hours "ok"`,
		}},
		{"bad dates", calendar.Def{Timezone: "UTC", Holidays: []calendar.Holiday{
			{Date: "2026-13-01"}, {Date: "*-02-30"}, {Date: ""}, {Date: "*-02-29"}, {Date: "2026-12-25"}, {Date: "2026-12-25"}, {Date: "25/12/2026"},
		}}, []string{
			`holidays[0].date: invalid date "2026-13-01"`,
			`holidays[1].date: invalid date "*-02-30"`,
			`holidays[2].date: is required`,
			`holidays[5].date: duplicate holiday date 2026-12-25`,
			`holidays[6].date: invalid date "25/12/2026"`,
		}},
		{"exceptions", calendar.Def{Timezone: "UTC", Exceptions: []calendar.ExceptionDef{
			{Date: "2026-12-24", Hours: []string{"08:00-12:00"}},
			{Date: "2026-12-24", Closed: true},
			{Date: "2026-12-31", Closed: true, Hours: []string{"08:00-12:00"}},
			{Date: "2027-01-02"},
			{Date: "2027-01-03", Hours: []string{"18:00-02:00", "18:00-00:00"}},
			{Date: "2027-02-31", Closed: true},
		}}, []string{
			`exceptions[1].date: duplicate exception date 2026-12-24 (also exceptions[0])`,
			`exceptions[2].hours: an exception is either closed: true or has hours, not both`,
			`exceptions[3].hours: give the date's hours, or closed: true`,
			`exceptions[4].hours[0]: end before start in "18:00-02:00"`,
			`exceptions[5].date: invalid date "2027-02-31"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := calendar.Build("x", tt.def)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			ok := len(got) == len(tt.want) && c == nil
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("got (calendar %v)\n  %s\nwant prefixes\n  %s", c != nil, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestSet(t *testing.T) {
	c := build(t, support)
	s := calendar.Set{"support-hours": c, "nights": build(t, calendar.Def{Timezone: "UTC", Hours: map[string][]string{"daily": {"22:00-06:00"}}})}
	open := at(t, "America/New_York", "2026-12-17T10:00")
	switch {
	case !s.Known("support-hours"), !s.Known("Support-Hours"), s.Known("sales"):
		t.Error("Known")
	case !s.IsOpen("support-hours", open), s.IsOpen("nights", open), s.IsOpen("sales", open):
		t.Error("IsOpen")
	case !slices.Equal(s.Names(), []string{"nights", "support-hours"}):
		t.Errorf("Names = %v", s.Names())
	}
	if calendar.Set(nil).Known("x") || calendar.Set(nil).IsOpen("x", open) {
		t.Error("nil Set")
	}
}

// TestCalendarInCode: a Calendar literal with a nil Location reads UTC.
func TestCalendarInCode(t *testing.T) {
	c := &calendar.Calendar{Name: "x", Weekly: [7][]calendar.Span{time.Monday: {{From: 9 * time.Hour, To: 17 * time.Hour}}}}
	r := c.Check(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	if !r.Open || r.Reason != "open: regular hours mon 09:00-17:00" || !r.NextChange.Equal(time.Date(2026, 6, 1, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", r)
	}
}

func FuzzBuild(f *testing.F) {
	f.Add("UTC", "mon-fri", "08:00-18:00", "*-12-25", "2026-12-24", "08:00-12:00", int64(0))
	f.Add("America/New_York", "fri-mon", "22:00-02:00", "2026-01-01", "*-12-24", "24h", int64(1767225600))
	f.Fuzz(func(t *testing.T, zone, days, hours, hol, exDate, exHours string, unix int64) {
		c, errs := calendar.Build("f", calendar.Def{Timezone: zone, Hours: map[string][]string{days: {hours}},
			Holidays: []calendar.Holiday{{Date: hol}}, Exceptions: []calendar.ExceptionDef{{Date: exDate, Hours: []string{exHours}}}})
		if (c == nil) == (len(errs) == 0) {
			t.Fatalf("calendar %v with errors %v", c != nil, errs)
		}
		if c == nil {
			return
		}
		at := time.Unix(unix%(1<<34), 0)
		r := c.Check(at)
		if r.Reason == "" || r.Open != c.IsOpen(at) {
			t.Fatalf("bad result %+v", r)
		}
		if !r.NextChange.IsZero() && (!r.NextChange.After(at) || c.IsOpen(r.NextChange) == r.Open) {
			t.Fatalf("NextChange %v does not flip from %+v", r.NextChange, r)
		}
	})
}

func TestSummary(t *testing.T) {
	for _, tt := range []struct {
		hours map[string][]string
		want  string
	}{
		{map[string][]string{"mon-fri": {"08:00-18:00"}, "sat": {"09:00-13:00"}}, "mon-fri 08:00-18:00; sat 09:00-13:00"},
		{map[string][]string{"daily": {"24h"}}, "mon-sun 00:00-24:00"},
		{map[string][]string{"mon,wed": {"08:00-12:00", "13:00-17:00"}}, "mon 08:00-12:00, 13:00-17:00; wed 08:00-12:00, 13:00-17:00"},
		{nil, "closed every day"},
	} {
		if got := build(t, calendar.Def{Timezone: "UTC", Hours: tt.hours}).Summary(); got != tt.want {
			t.Errorf("Summary(%v) = %q, want %q", tt.hours, got, tt.want)
		}
	}
}
