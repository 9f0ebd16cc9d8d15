package sim

import (
	"sync"
	"time"
)

// Clock is the simulator's time source. Simulated time runs Speed times
// faster than the wall clock: Now() = start + wall elapsed × Speed, and a
// delay d of simulated time fires after d/Speed of wall time. Every scripted
// delay (rings, talk, playback lengths, patience, dial timeouts, recording
// lengths) and every event timestamp goes through it.
type Clock struct {
	speed     float64
	base      time.Time // simulated time at wallStart
	wallStart time.Time

	mu     sync.Mutex
	timers map[*Timer]struct{}
	closed bool
}

// NewClock returns a clock that starts at the current wall time and runs
// speed simulated seconds per wall second (0 or less means 1).
func NewClock(speed float64) *Clock {
	if speed <= 0 {
		speed = 1
	}
	now := time.Now()
	return &Clock{speed: speed, base: now.UTC(), wallStart: now, timers: make(map[*Timer]struct{})}
}

// Speed is the number of simulated seconds per wall second.
func (c *Clock) Speed() float64 { return c.speed }

// Now is the current simulated time (UTC).
func (c *Clock) Now() time.Time {
	el := time.Since(c.wallStart)
	return c.base.Add(time.Duration(float64(el) * c.speed))
}

// Since is the simulated time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Wall converts a simulated duration to wall time.
func (c *Clock) Wall(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) / c.speed)
}

// Timer is a pending call scheduled on a Clock.
type Timer struct {
	c       *Clock
	t       *time.Timer
	stopped bool // guarded by c.mu
}

// AfterFunc calls f in its own goroutine once d of simulated time has
// passed. After the clock is stopped (Server.Close) nothing fires.
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	t := &Timer{c: c}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		t.stopped = true
		return t
	}
	c.timers[t] = struct{}{}
	t.t = time.AfterFunc(c.Wall(d), func() {
		c.mu.Lock()
		if t.stopped {
			c.mu.Unlock()
			return
		}
		t.stopped = true
		delete(c.timers, t)
		c.mu.Unlock()
		f()
	})
	return t
}

// Stop cancels the timer; it reports whether the call was still pending.
func (t *Timer) Stop() bool {
	if t == nil {
		return false
	}
	c := t.c
	c.mu.Lock()
	was := !t.stopped
	t.stopped = true
	delete(c.timers, t)
	c.mu.Unlock()
	if t.t != nil {
		t.t.Stop()
	}
	return was
}

// stopAll cancels every pending timer and refuses new ones.
func (c *Clock) stopAll() {
	c.mu.Lock()
	c.closed = true
	ts := make([]*Timer, 0, len(c.timers))
	for t := range c.timers {
		t.stopped = true
		ts = append(ts, t)
	}
	c.timers = make(map[*Timer]struct{})
	c.mu.Unlock()
	for _, t := range ts {
		t.t.Stop()
	}
}

// pending is the number of timers not yet fired or stopped.
func (c *Clock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
