package recording

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// Pause is one interval during which a live recording was paused (a card
// number being read). End is zero while the pause lasts.
type Pause struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// Pauses are a recording's pauses, oldest first; only the last may be open.
// The methods return a new slice and never change the receiver, so a
// snapshot handed out earlier stays as it was.
type Pauses []Pause

// Paused reports whether the recording is paused now (the last pause is
// open).
func (ps Pauses) Paused() bool { return len(ps) > 0 && ps[len(ps)-1].End.IsZero() }

// Pause opens a pause at now. Pausing a paused recording fails with
// ECONFLICT, as does a time before the last pause ended (a clock going
// back would make the intervals overlap).
func (ps Pauses) Pause(now time.Time) (Pauses, error) {
	if ps.Paused() {
		return ps, sb.Errorf(sb.ECONFLICT, "recording is already paused since %s", ps[len(ps)-1].Start.Format(time.RFC3339))
	}
	if n := len(ps); n > 0 && now.Before(ps[n-1].End) {
		return ps, sb.Errorf(sb.ECONFLICT, "pause at %s is before the last pause ended", now.Format(time.RFC3339))
	}
	return append(ps[:len(ps):len(ps)], Pause{Start: now}), nil
}

// Resume closes the open pause at now. Resuming a recording that is not
// paused fails with ECONFLICT. A now before the pause began (clock step)
// closes it at its start: an empty pause rather than a negative one.
func (ps Pauses) Resume(now time.Time) (Pauses, error) {
	if !ps.Paused() {
		return ps, sb.Errorf(sb.ECONFLICT, "recording is not paused")
	}
	out := append(Pauses(nil), ps...)
	last := &out[len(out)-1]
	last.End = now
	if now.Before(last.Start) {
		last.End = last.Start
	}
	return out, nil
}

// Close ends an open pause at end, the moment the recording stopped: a
// call that hangs up while paused still has a well-formed interval.
func (ps Pauses) Close(end time.Time) Pauses {
	if !ps.Paused() {
		return ps
	}
	out, _ := ps.Resume(end)
	return out
}

// Total is the time spent paused, counting an open pause up to now.
func (ps Pauses) Total(now time.Time) time.Duration {
	var d time.Duration
	for _, p := range ps {
		end := p.End
		if end.IsZero() {
			end = now
		}
		if end.After(p.Start) {
			d += end.Sub(p.Start)
		}
	}
	return d
}
