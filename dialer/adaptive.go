package dialer

import (
	"math"
	"time"
)

// Adaptive is an adaptive-ratio dialer in the style of VICIdial's
// ADAPT_TAPERED, the method most open-source call centers run today, kept
// as the baseline the predictive pacer must beat.
//
// It holds a dial level L (lines per active agent, starting at 1.0) and keeps
// floor(L × (ready + talking agents)) calls up (ringing, waiting or talking).
// Every Interval (15 s) L moves by Intensity × (mean ready agents − mean
// waiting calls) / agents over the interval, within [1, MaxLevel]. When the
// interval's drops spike (more than twice the cap and at least two) L is
// halved; when the day's drop rate passes the tapered limit, which starts the
// shift at twice the cap and narrows to the cap at its end, L falls to 1.
//
// States: a zero Adaptive starts at its first Decide; it then alternates
// between accumulating the interval's averages and, once Interval has passed,
// updating L.
type Adaptive struct {
	Interval  time.Duration // level update period (15 s)
	MaxLevel  float64       // cap on the dial level (3.0)
	Intensity float64       // how hard L follows the ready-agent gap (1.0)
	DropLimit float64       // the abandon cap (0.03)
	Shift     time.Duration // shift length, for the taper (8 h)

	started    bool
	shiftStart time.Time
	level      float64
	lastUpdate time.Time
	lastSeen   time.Time
	gapArea    float64 // ∫ (ready − waiting) dt over the interval
	lastDay    Counts  // day counts at the last update
}

// NewAdaptive returns an adaptive pacer with VICIdial's usual settings.
func NewAdaptive(dropLimit float64, shift time.Duration) *Adaptive {
	return &Adaptive{Interval: 15 * time.Second, MaxLevel: 3, Intensity: 1, DropLimit: dropLimit, Shift: shift}
}

// Name implements Pacer.
func (*Adaptive) Name() string { return "adaptive" }

// Level is the current dial level.
func (a *Adaptive) Level() float64 { return a.level }

// Decide implements Pacer.
func (a *Adaptive) Decide(s PacerState, now time.Time) int {
	ready, talking, _ := s.Count()
	if !a.started {
		a.started, a.shiftStart, a.level = true, now, 1
		a.lastUpdate, a.lastSeen, a.lastDay = now, now, s.Abandons.Day
	}
	if dt := now.Sub(a.lastSeen).Seconds(); dt > 0 {
		a.gapArea += dt * float64(ready-len(s.Waiting))
		a.lastSeen = now
	}
	if span := now.Sub(a.lastUpdate); span >= a.Interval && len(s.Agents) > 0 {
		a.update(s, now, span)
	}
	active := ready + talking
	target := int(math.Floor(a.level * float64(active)))
	return s.clamp(target - len(s.Ringing) - len(s.Waiting) - talking)
}

func (a *Adaptive) update(s PacerState, now time.Time, span time.Duration) {
	gap := a.gapArea / span.Seconds()
	a.level += a.Intensity * gap / float64(len(s.Agents))
	day := s.Abandons.Day
	drops := day.Abandoned - a.lastDay.Abandoned
	live := day.Live - a.lastDay.Live
	if drops >= 2 && float64(drops) > 2*a.DropLimit*float64(live) {
		a.level /= 2
	}
	limit := a.DropLimit
	if a.Shift > 0 {
		left := 1 - now.Sub(a.shiftStart).Seconds()/a.Shift.Seconds()
		limit *= 1 + max(0, left)
	}
	if day.Live > 0 && day.Rate() > limit {
		a.level = 1
	}
	a.level = max(1, min(a.level, a.MaxLevel))
	a.lastUpdate, a.gapArea, a.lastDay = now, 0, day
}
