package dialer

import "time"

// Counts are live-answered calls and how many of them were abandoned (answered
// by a person and given no agent within the connect window). The abandon rate
// regulators check is Abandoned / Live.
type Counts struct {
	Live      int
	Abandoned int
}

// Rate is Abandoned / Live, 0 when nothing was answered.
func (c Counts) Rate() float64 {
	if c.Live == 0 {
		return 0
	}
	return float64(c.Abandoned) / float64(c.Live)
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{Live: c.Live + o.Live, Abandoned: c.Abandoned + o.Abandoned}
}

// Windows are the abandon counts a campaign's cap is checked over at one
// instant: the current clock hour, the current day and the rolling window
// (30 days by default), each up to now.
type Windows struct {
	Hour    Counts
	Day     Counts
	Rolling Counts
	// HourEnd is when the current clock hour ends; the zero time means
	// unknown (a pacer then assumes a whole hour is left).
	HourEnd time.Time
}

// DefaultRollingDays is the rolling window of the abandon cap (FCC: 30 days
// per campaign).
const DefaultRollingDays = 30

// Ledger keeps a campaign's live-answered and abandoned calls in clock-hour
// buckets of its location, enough to answer for the current hour, the current
// day and the rolling window. It is a value owned by the campaign's pacing
// loop: no locks, no clock of its own.
type Ledger struct {
	loc     *time.Location
	buckets []bucket // ring indexed by hour number modulo len

	// cache: sums over every bucket of the rolling window and of the day
	// except the current hour, valid while cacheHour is the current hour.
	cacheHour    int64
	cacheValid   bool
	cacheRolling Counts
	cacheDay     Counts
}

type bucket struct {
	start int64 // unix seconds of the local hour's start; 0 = empty
	c     Counts
}

// NewLedger returns an empty ledger for clock hours and days in loc (nil
// means UTC) with a rolling window of days (<= 0 means DefaultRollingDays).
func NewLedger(loc *time.Location, days int) *Ledger {
	if loc == nil {
		loc = time.UTC
	}
	if days <= 0 {
		days = DefaultRollingDays
	}
	return &Ledger{loc: loc, buckets: make([]bucket, days*24)}
}

// hourStart is the start of the local clock hour holding t.
func (l *Ledger) hourStart(t time.Time) time.Time {
	lt := t.In(l.loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, l.loc)
}

func (l *Ledger) slot(start int64) int {
	n := int64(len(l.buckets))
	return int(((start/3600)%n + n) % n)
}

// Record counts one live-answered call whose fate was known at: abandoned or
// given to an agent. Records older than the rolling window are ignored.
func (l *Ledger) Record(at time.Time, abandoned bool) {
	start := l.hourStart(at).Unix()
	i := l.slot(start)
	b := &l.buckets[i]
	if b.start != start {
		if b.start > start { // a newer hour owns the slot: at is too old
			return
		}
		*b = bucket{start: start}
	}
	b.c.Live++
	if abandoned {
		b.c.Abandoned++
	}
	if start != l.cacheHour {
		l.cacheValid = false
	}
}

// Windows returns the counts of the hour, day and rolling window that hold
// now, and when the hour ends.
func (l *Ledger) Windows(now time.Time) Windows {
	hs := l.hourStart(now)
	start := hs.Unix()
	if !l.cacheValid || l.cacheHour != start {
		l.refresh(now, start)
	}
	var cur Counts
	if b := l.buckets[l.slot(start)]; b.start == start {
		cur = b.c
	}
	return Windows{
		Hour:    cur,
		Day:     l.cacheDay.Add(cur),
		Rolling: l.cacheRolling.Add(cur),
		HourEnd: hs.Add(time.Hour),
	}
}

func (l *Ledger) refresh(now time.Time, start int64) {
	lt := now.In(l.loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, l.loc).Unix()
	oldest := start - int64(len(l.buckets)-1)*3600
	var roll, d Counts
	for _, b := range l.buckets {
		if b.start == 0 || b.start == start || b.start < oldest || b.start > start {
			continue
		}
		roll = roll.Add(b.c)
		if b.start >= day {
			d = d.Add(b.c)
		}
	}
	l.cacheHour, l.cacheValid, l.cacheRolling, l.cacheDay = start, true, roll, d
}
