package routing

import "time"

type timerKind uint8

const (
	tOffer timerKind = iota
	tMaxWait
	tStep
	tAnnounce
	tPrefEnd
	tRetry
	tWrapEnd
	tBackoff
	tWindow
	tRemoved // a lane's place of a timer taken out
)

type timer struct {
	at   time.Time
	seq  uint64
	gen  uint64
	c    *call
	a    int32 // the agent (wrap-up end, back-off) or queue (window)
	kind timerKind
}

// numCallTimers: the kinds below it (tOffer ... tRetry) belong to a call,
// which has at most one of each set (see call.timers).
const numCallTimers = int(tWrapEnd)

// earlier is the firing order: by time, then by when the timer was set.
func (t *timer) earlier(u *timer) bool {
	if !t.at.Equal(u.at) {
		return t.at.Before(u.at)
	}
	return t.seq < u.seq
}

// timerQueue holds the router's timers in firing order.
//
// Most timers are set a fixed delay after now: the next announcement
// AnnounceEvery from now, a ring timeout, a wrap-up. Timers of one delay
// are set in firing order (now does not go back), so each delay has a
// lane, a list in firing order where setting and firing cost O(1); a timer
// that would not come last in its lane, and every timer without a delay
// (callback windows, a caller's max wait counted from an earlier
// EnteredAt), goes to a heap. The next timer is the earliest of the
// heap's top and the lanes' heads.
//
// A call's timers are taken out when the call is answered or gone (see
// Router.dropTimers), so the queue holds the timers of waiting and
// ringing calls, not the max-wait timers of every call answered in the
// last hour. Where each call timer is, is kept in call.timers as a place:
// 0 none; else lane<<placeShift | index+1, lane 0 for the heap and l+1
// for lane l.
type timerQueue struct {
	heap  []timer
	lanes []timerLane
}

// timerLane is one delay's timers in firing order, from head on. A timer
// taken out leaves a tRemoved entry, skipped at the head and dropped when
// the lane is compacted.
type timerLane struct {
	delay   time.Duration
	buf     []timer
	head    int
	removed int // tRemoved entries at or after head
}

const (
	maxLanes   = 31 // a place keeps 5 bits for the lane
	placeShift = 26
	placeIndex = 1<<placeShift - 1
)

func (q *timerQueue) len() int {
	n := len(q.heap)
	for i := range q.lanes {
		l := &q.lanes[i]
		n += len(l.buf) - l.head - l.removed
	}
	return n
}

// place records where the timer at index i of lane l (-1: the heap) is,
// for its call.
func place(t *timer, l, i int) {
	if t.c != nil && int(t.kind) < numCallTimers {
		t.c.timers[t.kind] = uint32(l+1)<<placeShift | uint32(i+1)
	}
}

func unplace(t *timer) {
	if t.c != nil && int(t.kind) < numCallTimers {
		t.c.timers[t.kind] = 0
	}
}

// push adds a timer; delay is how long after now it was set (a hint for
// the lane: order never depends on it), 0 for none.
func (q *timerQueue) push(t timer, delay time.Duration) {
	if delay > 0 {
		li := -1
		for i := range q.lanes {
			if q.lanes[i].delay == delay {
				li = i
				break
			}
		}
		if li < 0 && len(q.lanes) < maxLanes {
			q.lanes = append(q.lanes, timerLane{delay: delay})
			li = len(q.lanes) - 1
		}
		if li >= 0 {
			l := &q.lanes[li]
			if n := len(l.buf); n == l.head || !t.earlier(&l.buf[n-1]) {
				l.buf = append(l.buf, t)
				place(&l.buf[n], li, n)
				return
			}
		}
	}
	q.heap = append(q.heap, t)
	place(&q.heap[len(q.heap)-1], -1, len(q.heap)-1)
	q.up(len(q.heap) - 1)
}

// peek returns the next timer to fire, nil when there is none.
func (q *timerQueue) peek() *timer {
	var next *timer
	if len(q.heap) > 0 {
		next = &q.heap[0]
	}
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.head < len(l.buf) && (next == nil || l.buf[l.head].earlier(next)) {
			next = &l.buf[l.head]
		}
	}
	return next
}

// pop takes out the next timer; there must be one.
func (q *timerQueue) pop() timer {
	li := -1
	var next *timer
	if len(q.heap) > 0 {
		next = &q.heap[0]
	}
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.head < len(l.buf) && (next == nil || l.buf[l.head].earlier(next)) {
			next, li = &l.buf[l.head], i
		}
	}
	if li < 0 {
		return q.removeHeap(0)
	}
	l := &q.lanes[li]
	t := l.buf[l.head]
	unplace(&t)
	l.buf[l.head] = timer{}
	l.head++
	l.skip(li)
	return t
}

// remove takes out the timer at a place.
func (q *timerQueue) remove(p uint32) {
	li, i := int(p>>placeShift)-1, int(p&placeIndex)-1
	if li < 0 {
		q.removeHeap(i)
		return
	}
	l := &q.lanes[li]
	unplace(&l.buf[i])
	l.buf[i] = timer{at: l.buf[i].at, seq: l.buf[i].seq, kind: tRemoved}
	l.removed++
	if i == l.head {
		l.skip(li)
	}
	if l.removed > 32 && l.removed > (len(l.buf)-l.head)/2 {
		l.compact(li)
	}
}

// skip moves the head of lane li past removed entries; an empty lane
// starts over at the beginning of its buffer, and one whose head is far in
// is compacted, so that a lane that never empties does not grow.
func (l *timerLane) skip(li int) {
	for l.head < len(l.buf) && l.buf[l.head].kind == tRemoved {
		l.buf[l.head] = timer{}
		l.head++
		l.removed--
	}
	switch {
	case l.head == len(l.buf):
		l.buf, l.head = l.buf[:0], 0
	case l.head > 32 && l.head > len(l.buf)/2:
		l.compact(li)
	}
}

// compact moves the lane's timers to the front of its buffer, without the
// removed ones, and records their new places.
func (l *timerLane) compact(li int) {
	n := 0
	for i := l.head; i < len(l.buf); i++ {
		if l.buf[i].kind == tRemoved {
			continue
		}
		l.buf[n] = l.buf[i]
		place(&l.buf[n], li, n)
		n++
	}
	clear(l.buf[n:])
	l.buf, l.head, l.removed = l.buf[:n], 0, 0
}

func (q *timerQueue) removeHeap(i int) timer {
	h := q.heap
	n := len(h) - 1
	if i != n {
		q.swap(i, n)
	}
	t := h[n]
	h[n] = timer{}
	q.heap = h[:n]
	if i != n {
		q.down(i)
		q.up(i)
	}
	unplace(&t)
	return t
}

func (q *timerQueue) swap(i, j int) {
	h := q.heap
	h[i], h[j] = h[j], h[i]
	place(&h[i], -1, i)
	place(&h[j], -1, j)
}

func (q *timerQueue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.heap[i].earlier(&q.heap[p]) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

func (q *timerQueue) down(i int) {
	h := q.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].earlier(&h[l]) {
			m = r
		}
		if !h[m].earlier(&h[i]) {
			return
		}
		q.swap(i, m)
		i = m
	}
}
