package center

import (
	"context"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/recording"
)

// The host methods only call recording needs (recording.Host).

var _ recording.Host = host{}

// RecordingCall reads a live call for the recording driver.
func (h host) RecordingCall(call sb.CallID) (recording.Call, bool) {
	k := h.c.calls[call]
	if k == nil {
		return recording.Call{}, false
	}
	return recording.Call{Queue: k.Queue, Campaign: campaignOf(k), Agent: k.Agent, Caller: k.Caller,
		Bridge: k.Bridge, AgentLeg: k.agentCh, Talking: k.State == sb.CallBridged && !k.life.Transferred(),
		Over: k.life.Over()}, true
}

// campaignOf is the campaign a call was dialed for ("" for inbound calls).
func campaignOf(k *call) string {
	if k.ob == nil {
		return ""
	}
	return k.ob.Dial().Campaign
}

// Background runs f off the owner goroutine under the command deadline,
// within Run's context; Run waits for it.
func (h host) Background(f func(ctx context.Context)) {
	c := h.c
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.CommandTimeout)
		defer cancel()
		f(ctx)
	}()
}

// SettleOn settles op on call's executor, or detached when call is not
// live (see Center.settle).
func (h host) SettleOn(call sb.CallID, what string, attrs []any, op func(ctx context.Context) error, done func(err error)) {
	h.c.settle(h.c.calls[call], what, attrs, op, done)
}

// Post runs f on the owner goroutine.
func (h host) Post(f func()) bool { return h.c.post(f) }

// After runs f on the owner goroutine once d has passed.
func (h host) After(d time.Duration, f func()) func() bool { return h.c.after(d, f) }

// NewExec is an executor for a recording's writes; Run waits for it.
func (h host) NewExec() recording.Exec {
	return writeExec{newSerial(context.Background(), &h.c.writeWG)}
}

// writeExec is a serial as a recording.Exec.
type writeExec struct{ s *serial }

func (w writeExec) Do(f func(ctx context.Context)) { w.s.do(f) }
func (w writeExec) Close()                         { w.s.close() }

// Reconciling reports whether a PBX listing is being reconciled.
func (h host) Reconciling() bool { return h.c.reconciling > 0 }

// RecordingsRecovered tells every live call the recordings were matched
// to the PBX.
func (h host) RecordingsRecovered() {
	for _, k := range h.c.calls {
		h.c.life(k, lifecycle.RecordingsRecovered{})
	}
}
