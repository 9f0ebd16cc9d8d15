package center

import (
	"context"
	"sync"
	"time"

	sb "github.com/switchboard/switchboard"
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

// try runs op on k's executor, in order with the call's other commands.
// A failure is logged as msg with the call id and args and, with onErr
// set, handed to onErr on the owner goroutine.
func (c *Center) try(k *call, msg string, op func(ctx context.Context) error, onErr func(error), args ...any) {
	c.do(k, func(ctx context.Context) {
		if err := op(ctx); err != nil {
			c.log.Warn(msg, append(append([]any{"call_id", k.ID}, args...), "err", err)...)
			if onErr != nil {
				c.post(func() { onErr(err) })
			}
		}
	})
}

// originate places a leg of k (an agent's, a supervisor's, a transfer's,
// a customer's) on k's executor; a refused originate is logged as msg and
// gone then runs on the owner goroutine: the leg never rang.
func (c *Center) originate(k *call, req sb.OriginateRequest, msg string, gone func(), args ...any) {
	c.try(k, msg, func(ctx context.Context) error {
		_, err := c.pbx.Originate(ctx, req)
		return err
	}, func(error) { gone() }, args...)
}

// moh starts (on, class the music class) or stops the caller's music on
// k's executor. A failure is only logged: the caller waits all the same.
func (c *Center) moh(k *call, class string, on bool) {
	c.do(k, func(ctx context.Context) {
		if err := c.pbx.MusicOnHold(ctx, sb.ChannelID(k.ID), class, on); err != nil {
			c.log.Debug("music on hold", "call_id", k.ID, "on", on, "err", err)
		}
	})
}

// after runs f on the owner goroutine once d has passed on the center's
// clock (the timers of the router, flows, recordings, windows); stop
// cancels it.
func (c *Center) after(d time.Duration, f func()) (stop func() bool) {
	return c.clock.AfterFunc(d, func() { c.post(f) })
}
