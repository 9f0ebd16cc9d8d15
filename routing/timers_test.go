package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

// checkTimers verifies the timer queue: lanes in firing order, the heap
// ordered, and every call timer's place pointing at it.
func (q *timerQueue) check() error {
	for i := 1; i < len(q.heap); i++ {
		if q.heap[i].earlier(&q.heap[(i-1)/2]) {
			return fmt.Errorf("heap out of order at %d", i)
		}
	}
	at := func(t *timer, l, i int) error {
		if t.c == nil || int(t.kind) >= numCallTimers {
			return nil
		}
		if want := uint32(l+1)<<placeShift | uint32(i+1); t.c.timers[t.kind] != want {
			return fmt.Errorf("timer kind %d of call %s at lane %d index %d: place %x, want %x", t.kind, t.c.id, l, i, t.c.timers[t.kind], want)
		}
		return nil
	}
	for i := range q.heap {
		if err := at(&q.heap[i], -1, i); err != nil {
			return err
		}
	}
	for li := range q.lanes {
		l := &q.lanes[li]
		removed := 0
		for i := l.head; i < len(l.buf); i++ {
			t := &l.buf[i]
			if i > l.head && t.earlier(&l.buf[i-1]) {
				return fmt.Errorf("lane %d out of order at %d", li, i)
			}
			if t.kind == tRemoved {
				if i == l.head {
					return fmt.Errorf("lane %d: removed entry at the head", li)
				}
				removed++
				continue
			}
			if err := at(t, li, i); err != nil {
				return err
			}
		}
		if removed != l.removed {
			return fmt.Errorf("lane %d: %d removed entries, counted %d", li, removed, l.removed)
		}
	}
	return nil
}

// The timer queue fires timers in the order of a plain sorted list,
// whatever lanes they went to, with timers taken out by place along the way.
func TestTimerQueueOrder(t *testing.T) {
	for seed := range uint64(16) {
		rng := rand.New(rand.NewPCG(seed, 5))
		r := &Router{}
		// Odd seeds: few calls, more delays than lanes. Even seeds: many
		// calls on few delays, so that lanes grow long and are compacted.
		ncalls, ndelays, fire := 20, 75, 3
		if seed%2 == 0 {
			ncalls, ndelays, fire = 600, 5, 1
		}
		calls := make([]*call, ncalls)
		for i := range calls {
			calls[i] = &call{id: sb.CallID(fmt.Sprint("c", i))}
		}
		var ref []timer // what is set, taken out when fired or replaced
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		delays := []time.Duration{0, time.Second, 7 * time.Second, 45 * time.Second, time.Hour}
		for i := 0; i < 70; i++ { // more delays than lanes
			delays = append(delays, time.Duration(100+i)*time.Millisecond)
		}
		delays = delays[:ndelays]
		removeRef := func(c *call, k timerKind) {
			ref = slices.DeleteFunc(ref, func(x timer) bool { return x.c == c && x.kind == k })
		}
		for step := range 3000 {
			switch x := rng.IntN(7 + fire); {
			case x < 5:
				d := delays[rng.IntN(len(delays))]
				at := now.Add(d)
				if rng.IntN(8) == 0 { // earlier than its lane's last, or at an odd time
					at = now.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond)
				}
				tm := timer{at: at, kind: timerKind(rng.IntN(int(tWindow) + 1)), a: int32(step)}
				if int(tm.kind) < numCallTimers {
					tm.c = calls[rng.IntN(len(calls))]
					removeRef(tm.c, tm.kind) // addTimerIn replaces the call's timer of that kind
				}
				r.addTimerIn(tm, d)
				tm.seq = r.seq
				ref = append(ref, tm)
			case x < 7:
				c := calls[rng.IntN(len(calls))]
				r.dropTimers(c)
				ref = slices.DeleteFunc(ref, func(x timer) bool { return x.c == c && int(x.kind) < numCallTimers })
			default:
				now = now.Add(time.Duration(rng.IntN(20000)) * time.Millisecond)
				slices.SortFunc(ref, func(a, b timer) int {
					if a.earlier(&b) {
						return -1
					}
					return 1
				})
				for {
					next := r.timers.peek()
					if (next == nil) != (len(ref) == 0) {
						t.Fatalf("seed %d step %d: peek %v with %d timers set", seed, step, next, len(ref))
					}
					if next == nil || next.at.After(now) {
						break
					}
					got := r.timers.pop()
					if got.seq != ref[0].seq {
						t.Fatalf("seed %d step %d: fired timer %d, want %d", seed, step, got.seq, ref[0].seq)
					}
					if got.c != nil && got.c.timers[got.kind] != 0 {
						t.Fatalf("seed %d step %d: fired timer keeps its place", seed, step)
					}
					ref = ref[1:]
				}
			}
			if err := r.timers.check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if n := r.timers.len(); n != len(ref) {
				t.Fatalf("seed %d step %d: %d timers, want %d", seed, step, n, len(ref))
			}
		}
		if want := min(maxLanes, ndelays-1); len(r.timers.lanes) != want {
			t.Fatalf("seed %d: %d lanes used, want %d", seed, len(r.timers.lanes), want)
		}
	}
}
