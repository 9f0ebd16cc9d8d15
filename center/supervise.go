package center

import (
	"context"
	"sync/atomic"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/supervision"
)

// MonitorMode is how a supervisor takes part in an agent's call (package
// supervision decides what each mode takes and carries it out).
type MonitorMode = supervision.Mode

// Monitor modes, switchable during the call.
const (
	Listen  = supervision.Listen
	Whisper = supervision.Whisper
	Barge   = supervision.Barge
)

// MonitorModes lists the modes.
var MonitorModes = supervision.Modes

// MonitorPolicy says whether the supervisor phone endpoint may monitor a
// call in queue answered by agent (the feature-code path; the API checks
// its tokens itself). Nil allows nobody.
type MonitorPolicy = supervision.Policy

// Monitor calls a supervisor's phone (endpoint) and, when it answers, lets
// the supervisor take part in call as mode says.
func (c *Center) Monitor(ctx context.Context, call sb.CallID, endpoint string, mode MonitorMode) error {
	return c.sup.Monitor(ctx, call, endpoint, mode)
}

// SetMonitorMode switches the supervisor on call between listen, whisper
// and barge.
func (c *Center) SetMonitorMode(ctx context.Context, call sb.CallID, mode MonitorMode) error {
	return c.sup.SetMode(ctx, call, mode)
}

// StopMonitor hangs up the supervisor on call.
func (c *Center) StopMonitor(ctx context.Context, call sb.CallID) error { return c.sup.Stop(ctx, call) }

// MonitorInfo says who may monitor a live call: its queue and agent.
func (c *Center) MonitorInfo(ctx context.Context, call sb.CallID) (sb.QueueName, sb.AgentID, error) {
	return c.sup.Info(ctx, call)
}

// talk says who talks on k (supervision.Talk).
func talk(k *call) supervision.Talk {
	return supervision.Talk{Queue: k.Queue, Agent: k.Agent, Talking: talkingAgent(k) != "", AgentLeg: k.agentCh, Bridge: k.Bridge, Caller: k.Caller}
}

// talkingAgent returns the agent talking on the call, "" when none: the
// call is bridged to an agent's answered leg (not to a transfer target).
func talkingAgent(k *call) sb.AgentID {
	if k.State != sb.CallBridged || k.life.Transferred() || k.agentCh == "" || !k.life.AgentUp() {
		return ""
	}
	return k.Agent
}

// onLoop runs f on the owner goroutine and returns its error. When ctx
// ends (or the center stops) before f has started, f never runs; once it
// has started, onLoop waits for it, so that what f writes for the caller
// is never read while f still writes it.
func (c *Center) onLoop(ctx context.Context, f func() error) error {
	const (
		pending int32 = iota
		started
		abandoned
	)
	var state atomic.Int32
	reply := make(chan error, 1)
	if !c.post(func() {
		if state.CompareAndSwap(pending, started) {
			reply <- f()
		}
	}) {
		return sb.Errorf(sb.EUNAVAILABLE, "the call center is not running")
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		if state.CompareAndSwap(pending, abandoned) {
			return ctx.Err()
		}
	case <-c.stopped:
		if state.CompareAndSwap(pending, abandoned) {
			return sb.Errorf(sb.EUNAVAILABLE, "the call center stopped")
		}
	}
	return <-reply // f has started: it ends soon, on the owner goroutine
}

// nextLeg numbers the legs Switchboard adds to a call.
func (k *call) nextLeg() int {
	k.legSeq++
	return k.legSeq
}

// refuse answers a feature-code call, tells it no and hangs up.
func (c *Center) refuse(ch sb.ChannelID) {
	c.detached(func(ctx context.Context) {
		_ = c.pbx.Answer(ctx, ch)
		_ = c.trySettle(ctx, "hangup", []any{"channel_id", ch}, c.hangupOp(ch))
	})
}
