package center

import (
	"context"
	"math/rand/v2"
	"time"

	sb "github.com/switchboard/switchboard"
)

// The commands that decide a call's state (hanging up either leg,
// removing a channel from a bridge, destroying a call's bridge, stopping a
// recording) must not be lost to a loaded PBX: a hang-up that fails with
// 500 or times out leaves the agent's phone up and the call shown live.
// So each is retried with back-off until the PBX confirms it or says the
// object is gone (404 is success: what the command wanted is true), for as
// long as Run runs. An answer that says the command can never work (400,
// 409, 422) ends the retries with a warning.

const (
	settleFirstRetry = 100 * time.Millisecond
	settleMaxRetry   = 5 * time.Second
)

// settled reports whether err means the command's effect holds.
func settled(err error) bool { return err == nil || sb.ErrorCode(err) == sb.ENOTFOUND }

// retryable reports whether the PBX did not decide: unreachable, timed
// out, overloaded or failing inside.
func retryable(err error) bool {
	switch sb.ErrorCode(err) {
	case sb.EUNAVAILABLE, sb.EINTERNAL:
		return true
	}
	return false
}

// settle runs op on k's executor (in order with the call's other commands)
// or, when k is nil or over, at once off the owner; and if the PBX neither
// confirms nor refuses it, again with back-off, off the executor, until it
// does. done, when not nil, runs on the owner goroutine with the final
// error (nil or ENOTFOUND when settled).
func (c *Center) settle(k *call, what string, attrs []any, op func(ctx context.Context) error, done func(err error)) {
	first := func(ctx context.Context) {
		err := op(ctx)
		if !settled(err) && retryable(err) {
			c.settleRetry(what, attrs, op, done, err)
			return
		}
		c.settleDone(what, attrs, err, 0, done)
	}
	if k != nil && !k.life.Over() {
		c.do(k, first)
		return
	}
	c.detached(first)
}

// settleRetry retries op with jittered exponential back-off until it
// settles, is refused, or Run ends; in its own goroutine (Run waits).
func (c *Center) settleRetry(what string, attrs []any, op func(ctx context.Context) error, done func(error), err error) {
	c.settleRetries.Add(1)
	c.log.Warn(what+" failed, retrying", with(attrs, "err", err)...)
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		wait := settleFirstRetry
		for try := 1; ; try++ {
			t := time.NewTimer(wait/2 + rand.N(wait/2+1))
			select {
			case <-c.runCtx.Done():
				t.Stop()
				c.log.Warn(what+" not confirmed by the PBX before stopping", with(attrs, "tries", try, "err", err)...)
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.CommandTimeout)
			err = op(ctx)
			cancel()
			if settled(err) || !retryable(err) {
				c.settleDone(what, attrs, err, try, done)
				return
			}
			wait = min(2*wait, settleMaxRetry)
		}
	}()
}

func (c *Center) settleDone(what string, attrs []any, err error, retries int, done func(error)) {
	switch {
	case !settled(err):
		c.log.Warn(what+" refused by the PBX", with(attrs, "err", err)...)
	case retries > 0:
		c.log.Info(what+" confirmed after retries", with(attrs, "retries", retries)...)
	}
	if done != nil {
		c.post(func() { done(err) })
	}
}

// SettleRetries is how many state-deciding commands needed a retry.
func (c *Center) SettleRetries() int64 { return c.settleRetries.Load() }

// with is attrs and kv in a new slice (attrs is shared by the retries).
func with(attrs []any, kv ...any) []any {
	return append(append(make([]any, 0, len(attrs)+len(kv)), attrs...), kv...)
}

// trySettle runs op once under ctx (inside a sequence of commands already
// off the owner) and, if the PBX did not decide, hands it to the retries.
func (c *Center) trySettle(ctx context.Context, what string, attrs []any, op func(ctx context.Context) error) error {
	err := op(ctx)
	switch {
	case settled(err):
	case retryable(err):
		c.settleRetry(what, attrs, op, nil, err)
	default:
		c.log.Warn(what+" refused by the PBX", with(attrs, "err", err)...)
	}
	return err
}

// hangupOp is the operation of hanging up ch.
func (c *Center) hangupOp(ch sb.ChannelID) func(ctx context.Context) error {
	return func(ctx context.Context) error { return c.pbx.Hangup(ctx, ch, "normal") }
}
