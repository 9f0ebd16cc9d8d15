package ari

import (
	"sync"
	"sync/atomic"

	sb "github.com/switchboard/switchboard"
)

// queue is the FIFO between its producers (the WebSocket reader, and the
// playback watchdog with the PlaybackFinished events it makes up) and the
// deliverer (one consumer). push never blocks: the reader must keep up with
// Asterisk whatever the consumer of Events() does. Up to limit events are
// held; past that push refuses the event and counts it lost, so overflow is
// a number in Stats and an error in the log, never a silent drop.
type queue struct {
	limit int64

	mu    sync.Mutex
	items []sb.Event // pending events, oldest first

	notify chan struct{} // capacity 1: "items may be non-empty"

	depth atomic.Int64  // pending + taken but not yet delivered
	high  atomic.Int64  // highest depth seen
	lost  atomic.Uint64 // events refused because the queue was full
}

func newQueue(limit int) *queue {
	return &queue{limit: int64(limit), notify: make(chan struct{}, 1)}
}

// push appends e, or refuses it (false) when limit events are waiting and
// force is false. Link events are forced: they are rare, and LinkUp is what
// makes the consumer reconcile, which repairs what a loss broke.
func (q *queue) push(e sb.Event, force bool) bool {
	d := q.depth.Load()
	if d >= q.limit && !force {
		q.lost.Add(1)
		return false
	}
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	d = q.depth.Add(1)
	for {
		h := q.high.Load()
		if d <= h || q.high.CompareAndSwap(h, d) {
			break
		}
	}
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

// take hands every pending event to the consumer, oldest first, and keeps
// buf (emptied) as the next backing array so that steady traffic allocates
// nothing.
func (q *queue) take(buf []sb.Event) []sb.Event {
	q.mu.Lock()
	out := q.items
	q.items = buf[:0]
	q.mu.Unlock()
	return out
}

// delivered records that n taken events reached the consumer (or were
// abandoned at shutdown).
func (q *queue) delivered(n int) { q.depth.Add(-int64(n)) }

// maxRecycle is the largest batch array the deliverer keeps for reuse; a
// larger one (after a burst) is left to the garbage collector.
const maxRecycle = 1 << 14
