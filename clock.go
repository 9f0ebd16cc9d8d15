package switchboard

import "time"

// Clock tells the time and runs timers: the engine's (center) and the
// wiring's time. The real clock is used in production; the simulator's
// clock (which may run faster than the wall clock) in the demo and tests.
// Pure packages take now as an argument instead.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop cancels it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc implements Clock.
func (RealClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
