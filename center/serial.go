package center

import (
	"context"
	"sync"
)

// serial runs the PBX commands of one call in order, one at a time, in its
// own goroutine, so that the loop that owns call state never waits on the
// PBX. Its queue is unbounded: enqueuing never blocks the owner.
type serial struct {
	mu      sync.Mutex
	queue   []func(context.Context)
	closed  bool
	running bool
	ctx     context.Context
	wg      *sync.WaitGroup
}

func newSerial(ctx context.Context, wg *sync.WaitGroup) *serial {
	return &serial{ctx: ctx, wg: wg}
}

// do queues f. After close, f is dropped.
func (s *serial) do(f func(context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.queue = append(s.queue, f)
	if !s.running {
		s.running = true
		s.wg.Add(1)
		go s.run()
	}
}

// close lets queued work finish and refuses new work.
func (s *serial) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

func (s *serial) run() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		f := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		f(s.ctx)
	}
}
