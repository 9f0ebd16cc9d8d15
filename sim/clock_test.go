package sim

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestVirtualClockStandsStill: a virtual clock's time moves only under
// Drive, and then from timer to timer, in due order, the first set first
// among equals, exactly to each timer's time.
func TestVirtualClockStandsStill(t *testing.T) {
	c := NewVirtualClock(0)
	t0 := c.Now()
	var mu sync.Mutex
	var got []string
	var at []time.Duration
	note := func(s string) func() {
		return func() {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, s)
			at = append(at, c.Since(t0))
		}
	}
	c.AfterFunc(3*time.Second, note("c"))
	c.AfterFunc(time.Second, note("a"))
	c.AfterFunc(2*time.Second, note("b1"))
	c.AfterFunc(2*time.Second, note("b2"))
	stopped := c.AfterFunc(1500*time.Millisecond, note("stopped"))
	stopped.Stop()
	if !c.Now().Equal(t0) {
		t.Fatalf("time moved without Drive: %v", c.Since(t0))
	}
	done := func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 }
	if err := c.Drive(context.Background(), done); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b1", "b2", "c"}
	wantAt := []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second}
	if !slices.Equal(got, want) || !slices.Equal(at, wantAt) {
		t.Errorf("fired %v at %v; want %v at %v", got, at, want, wantAt)
	}
	if d := c.Since(t0); d != 3*time.Second {
		t.Errorf("time after the last timer: %v; want 3s", d)
	}
	if c.pending() != 0 {
		t.Errorf("%d timers pending", c.pending())
	}
}

// TestVirtualClockWaitsForQuiet: what a timer sets off runs to its end
// before the next timer fires, even when it hands work to other goroutines
// that compute for a while: the clock moves only once the process is
// quiet.
func TestVirtualClockWaitsForQuiet(t *testing.T) {
	c := NewVirtualClock(0)
	var mu sync.Mutex
	var log []string
	add := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	work := make(chan int)
	go func() { // a long-lived worker, like an engine's owner goroutine
		for n := range work {
			x := 0
			for i := range n { // CPU work, no waiting
				x += i % 7
			}
			_ = x
			add("worked")
		}
	}()
	defer close(work)
	for i := range 20 {
		c.AfterFunc(time.Duration(i)*time.Millisecond, func() {
			add("fired")
			go func() { work <- 2_000_000 }() // two hand-offs away from the timer
		})
	}
	done := func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 40 }
	if err := c.Drive(context.Background(), done); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(log); i += 2 {
		if log[i] != "fired" || log[i+1] != "worked" {
			t.Fatalf("a timer fired before the work of the one before it was done: %v", log)
		}
	}
}

// TestVirtualClockDriveEnds: Drive returns with ctx's error when ctx ends
// and ErrClockStopped once the clock is stopped, moving no time after.
func TestVirtualClockDriveEnds(t *testing.T) {
	c := NewVirtualClock(0)
	ctx, cancel := context.WithCancel(context.Background())
	c.AfterFunc(time.Second, cancel)
	c.AfterFunc(time.Hour, func() { t.Error("fired after ctx ended") })
	if err := c.Drive(ctx, nil); err != context.Canceled {
		t.Errorf("Drive = %v; want context.Canceled", err)
	}
	c.stopAll()
	if err := c.Drive(context.Background(), nil); err != ErrClockStopped {
		t.Errorf("Drive on a stopped clock = %v; want ErrClockStopped", err)
	}
	if c.AfterFunc(time.Second, func() {}).Stop() {
		t.Error("a timer set on a stopped clock is pending")
	}
}
