package sim

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the simulator's time source. Simulated time runs Speed times
// faster than the wall clock: Now() = start + wall elapsed × Speed, and a
// delay d of simulated time fires after d/Speed of wall time. Every scripted
// delay (rings, talk, playback lengths, patience, dial timeouts, recording
// lengths) and every event timestamp goes through it.
//
// A virtual clock (NewVirtualClock) is not tied to the wall clock: its time
// stands still until Drive moves it to the next timer, which Drive does only
// once the whole process is quiet (see quiet.go). A run on it depends on
// its seed, not on how fast the machine is.
type Clock struct {
	speed     float64
	base      time.Time // simulated time at wallStart
	wallStart time.Time

	mu     sync.Mutex
	timers map[*Timer]struct{}
	closed bool

	// Virtual clocks only.
	virtual bool
	elapsed atomic.Int64 // simulated time since base, ns
	queue   timerHeap    // pending timers by due time, then creation
	seq     uint64
	added   chan struct{} // a timer was added (1-buffered)
	// The wall and simulated times of the first Drive, for the speed limit.
	driveWall, driveSim time.Time
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

// NewVirtualClock returns a virtual clock that starts at the current wall
// time and stands still until Drive runs. speed is the most simulated
// seconds Drive lets pass per wall second; 0 or less: no limit (as fast as
// the process goes).
func NewVirtualClock(speed float64) *Clock {
	now := time.Now()
	return &Clock{speed: max(speed, 0), base: now.UTC(), wallStart: now, timers: make(map[*Timer]struct{}),
		virtual: true, added: make(chan struct{}, 1)}
}

// Speed is the number of simulated seconds per wall second (for a virtual
// clock: the most it runs; 0 = no limit).
func (c *Clock) Speed() float64 { return c.speed }

// Virtual tells whether c is a virtual clock (NewVirtualClock).
func (c *Clock) Virtual() bool { return c.virtual }

// Now is the current simulated time (UTC).
func (c *Clock) Now() time.Time {
	if c.virtual {
		return c.base.Add(time.Duration(c.elapsed.Load()))
	}
	el := time.Since(c.wallStart)
	return c.base.Add(time.Duration(float64(el) * c.speed))
}

// Since is the simulated time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Wall converts a simulated duration to wall time.
func (c *Clock) Wall(d time.Duration) time.Duration {
	if d <= 0 || c.speed <= 0 {
		return 0
	}
	return time.Duration(float64(d) / c.speed)
}

// Timer is a pending call scheduled on a Clock.
type Timer struct {
	c       *Clock
	t       *time.Timer
	stopped bool // guarded by c.mu

	// Virtual clocks only.
	due time.Duration // since the clock's base
	seq uint64
	f   func()
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
	if c.virtual {
		c.seq++
		t.due, t.seq, t.f = time.Duration(c.elapsed.Load())+max(d, 0), c.seq, f
		heap.Push(&c.queue, t)
		select {
		case c.added <- struct{}{}:
		default:
		}
		return t
	}
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
	c.queue = nil
	for _, t := range ts {
		if t.t != nil {
			t.t.Stop()
		}
	}
}

// pending is the number of timers not yet fired or stopped.
func (c *Clock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Drive runs a virtual clock until done reports true, ctx ends or the
// clock is stopped. Each time the process is quiet it asks done (nil: never
// done), then moves the time to the earliest pending timer (the first
// created among equals) and calls its function in a goroutine of its own:
// one timer at a time, so that what one timer sets off has run before the
// next fires. With a speed limit it waits until the wall clock has caught
// up. Time stands still between calls. Drive returns nil when done, else
// ctx's error or ErrClockStopped; on a wall clock it returns at once.
func (c *Clock) Drive(ctx context.Context, done func() bool) error {
	if !c.virtual {
		return nil
	}
	q := newQuietWatch()
	c.mu.Lock()
	if c.driveWall.IsZero() {
		c.driveWall, c.driveSim = time.Now(), c.Now()
	}
	c.mu.Unlock()
	for {
		if !q.wait(ctx) {
			return ctx.Err()
		}
		if done != nil && done() {
			return nil
		}
		t, err := c.next(ctx)
		if err != nil {
			return err
		}
		if t != nil {
			go t.f()
		}
	}
}

// ErrClockStopped is Drive's error once the simulator is closed.
var ErrClockStopped = errors.New("sim: clock stopped")

// next takes the earliest pending timer and moves the time to it, once its
// wall time under the speed limit has come. It returns nil when there is
// none yet (a timer added, or a short wait passed: the caller waits for
// quiet again and asks whether it is done).
func (c *Clock) next(ctx context.Context) (*Timer, error) {
	c.mu.Lock()
	for len(c.queue) > 0 && c.queue[0].stopped {
		heap.Pop(&c.queue)
	}
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClockStopped
	}
	var t *Timer
	if len(c.queue) > 0 {
		t = c.queue[0]
	}
	wallStart, simStart := c.driveWall, c.driveSim
	c.mu.Unlock()
	wait := idleWait
	if t != nil {
		if c.speed <= 0 {
			return c.fire(t), nil
		}
		at := c.base.Add(t.due)
		d := time.Until(wallStart.Add(time.Duration(float64(at.Sub(simStart)) / c.speed)))
		if d <= 0 {
			return c.fire(t), nil
		}
		wait = min(d, idleWait)
	}
	tm := time.NewTimer(wait)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.added:
		return nil, nil
	case <-tm.C:
		return nil, nil
	}
}

// idleWait is how long Drive waits, with no timer due, before it looks
// again at whether the process is quiet and done (work started on the wall
// clock, a poll say, may have set a timer or finished).
const idleWait = 10 * time.Millisecond

// fire moves the time to t's and takes t off the queue; nil if t was
// stopped meanwhile.
func (c *Clock) fire(t *Timer) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.stopped || c.closed {
		return nil
	}
	if len(c.queue) > 0 && c.queue[0] == t {
		heap.Pop(&c.queue)
	}
	t.stopped = true
	delete(c.timers, t)
	if el := c.elapsed.Load(); int64(t.due) > el {
		c.elapsed.Store(int64(t.due))
	}
	return t
}

// timerHeap orders a virtual clock's timers by due time, then creation.
type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(*Timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
