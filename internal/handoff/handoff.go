// Package handoff is the one queue Switchboard uses where a producer hands
// work to a single consumer goroutine without waiting for it: the ARI
// event stream (reader to deliverer) and the campaign runner's reports
// (the center to the runner's loop).
//
// Push never blocks. Up to a limit items are held; past it Push refuses
// the item with ErrFull and counts it in Lost, so an overflow is an error
// the producer logs and a number a metric shows, never a silent drop.
// Force pushes past the limit, for the rare items whose loss would break
// more than it saves (a link event that makes the consumer reconcile).
package handoff

import (
	"errors"
	"sync"
	"sync/atomic"
)

// ErrFull is Push's answer when the queue holds its limit.
var ErrFull = errors.New("handoff: queue full")

// Queue is a FIFO from any number of producers to one consumer.
type Queue[T any] struct {
	limit int64

	mu    sync.Mutex
	items []T // pending, oldest first

	ready chan struct{} // capacity 1: "items may be pending"

	depth atomic.Int64  // pending + taken but not yet Done
	high  atomic.Int64  // the highest depth seen
	lost  atomic.Uint64 // items refused because the queue was full
}

// New returns a queue that holds up to limit items (limit <= 0: no limit).
func New[T any](limit int) *Queue[T] {
	l := int64(limit)
	if l <= 0 {
		l = 1<<63 - 1
	}
	return &Queue[T]{limit: l, ready: make(chan struct{}, 1)}
}

// Push appends v, or refuses it with ErrFull (counted in Lost) when the
// queue holds its limit.
func (q *Queue[T]) Push(v T) error {
	if q.depth.Load() >= q.limit {
		q.lost.Add(1)
		return ErrFull
	}
	q.add(v)
	return nil
}

// Force appends v whatever the queue holds.
func (q *Queue[T]) Force(v T) { q.add(v) }

func (q *Queue[T]) add(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	d := q.depth.Add(1)
	for {
		h := q.high.Load()
		if d <= h || q.high.CompareAndSwap(h, d) {
			break
		}
	}
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Ready receives when items may be pending: the consumer waits on it when
// Take returns nothing.
func (q *Queue[T]) Ready() <-chan struct{} { return q.ready }

// Take hands every pending item to the consumer, oldest first, and keeps
// buf (emptied) as the next backing array, so that steady traffic
// allocates nothing. The items count in Depth until Done.
func (q *Queue[T]) Take(buf []T) []T {
	q.mu.Lock()
	out := q.items
	q.items = buf[:0]
	q.mu.Unlock()
	return out
}

// Done records that n taken items were handled (or given up at shutdown).
func (q *Queue[T]) Done(n int) { q.depth.Add(-int64(n)) }

// Depth counts the items pending or taken and not yet done.
func (q *Queue[T]) Depth() int64 { return q.depth.Load() }

// High is the highest Depth seen.
func (q *Queue[T]) High() int64 { return q.high.Load() }

// Lost counts the items Push refused.
func (q *Queue[T]) Lost() uint64 { return q.lost.Load() }

// Limit is the most items Push accepts.
func (q *Queue[T]) Limit() int64 { return q.limit }
