package sim

import (
	"context"
	"runtime"
	"runtime/metrics"
	"time"
)

// quietWatch tells when the process is quiet: no goroutine runnable, none
// running but the one asking, none in a system call or in C beyond the
// baseline (the signal-handling goroutine waits in one for ever). A
// virtual clock moves only then, so what a timer sets off (a PBX event,
// the engine's answer, its database write) has run before the next timer
// fires, however loaded the machine is.
//
// Only in-process waits are seen: the simulator must be served over an
// in-memory Pipe, not TCP, or bytes in flight in the kernel would look
// quiet.
type quietWatch struct {
	samples []metrics.Sample
	base    uint64    // goroutines outside Go when quiet
	high    time.Time // since when every sample has been above base
}

const (
	quietRunnable = iota
	quietRunning
	quietNotInGo
)

// quietConfirm is how many quiet samples in a row make the process quiet;
// each is taken after yielding, so a goroutine just woken gets to run. A
// sample counts a processor looking for work as running, so the counts
// err towards busy; only a wake-up from outside the process's goroutines
// (a wall-clock timer, bytes arriving over TCP) goes unseen.
const quietConfirm = 3

// quietRaise is how long the goroutines outside Go may stay above the
// baseline before it is raised: a goroutine parked in a system call for
// good (a blocking read of a terminal, say) must not stop the clock for
// ever. It is long: on a machine starved of CPU (a race-detector build
// among other test processes) a database write in C can take over a
// second of wall time, and a baseline raised under it would let the clock
// move on while the write is still to come.
const quietRaise = 30 * time.Second

func newQuietWatch() *quietWatch {
	q := &quietWatch{samples: []metrics.Sample{
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines/running:goroutines"},
		{Name: "/sched/goroutines/not-in-go:goroutines"},
	}}
	q.read()
	q.base = q.samples[quietNotInGo].Value.Uint64()
	return q
}

func (q *quietWatch) read() (runnable, running, notInGo uint64) {
	metrics.Read(q.samples)
	return q.samples[quietRunnable].Value.Uint64(), q.samples[quietRunning].Value.Uint64(),
		q.samples[quietNotInGo].Value.Uint64()
}

// quiet takes one sample.
func (q *quietWatch) quiet(now time.Time) bool {
	runnable, running, out := q.read()
	switch {
	case out < q.base:
		q.base, q.high = out, time.Time{}
	case out > q.base:
		if q.high.IsZero() {
			q.high = now
		} else if now.Sub(q.high) >= quietRaise {
			q.base, q.high = out, time.Time{}
		}
	default:
		q.high = time.Time{}
	}
	return runnable == 0 && running <= 1 && out <= q.base
}

// wait returns once the process is quiet (true) or ctx ends (false).
func (q *quietWatch) wait(ctx context.Context) bool {
	n := 0
	pause := time.Duration(0)
	for n < quietConfirm {
		if ctx.Err() != nil {
			return false
		}
		runtime.Gosched()
		if pause > 0 {
			time.Sleep(pause)
		}
		if q.quiet(time.Now()) {
			n++
			pause = 0 // the counts are exact but for the instant: yield and look again
			continue
		}
		n = 0
		// Busy: back off a little, up to 1 ms, to leave the CPU to the work.
		pause = min(max(2*pause, 50*time.Microsecond), time.Millisecond)
	}
	return true
}
