package center

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/supervision"
)

// The engine drives capabilities (supervision, ...) that live in their own
// packages: each keeps its state per call, decides with its pure machine
// and has its PBX commands carried out through the host the engine gives
// it. A capability package declares what it needs as a Host interface of
// its own; host implements them all. Every host method is called on the
// owner goroutine unless its comment says otherwise, and the capability's
// callbacks (gone, f of OnLoop...) run there too.
//
// The engine hands a capability the events of the legs it claimed
// (legOwner), in the order of the dispatch in handle.

// legOwner is a capability that adds legs of its own to calls
// (supervisors and their snoops): the engine hands it their events.
type legOwner interface {
	// Digit takes a key pressed on leg ch of call; false: not its leg.
	Digit(call sb.CallID, ch sb.ChannelID, key string) bool
	// LegGone takes the end of leg ch of call; false: not its leg.
	LegGone(call sb.CallID, ch sb.ChannelID) bool
	// CallGone: a party of the call (caller or agent) left, or the call
	// ended: what the capability added to it goes.
	CallGone(call sb.CallID)
}

// host is the engine as its capabilities see it.
type host struct{ c *Center }

// Logger is the engine's log.
func (h host) Logger() *slog.Logger { return h.c.log }

// Now is the engine's time.
func (h host) Now() time.Time { return h.c.clock.Now() }

// Claim routes the events of leg ch to call (and, for the legs a
// capability adds, to that capability).
func (h host) Claim(call sb.CallID, ch sb.ChannelID) {
	if k := h.c.calls[call]; k != nil {
		h.c.byChannel[ch] = k
	}
}

// Release forgets leg ch.
func (h host) Release(ch sb.ChannelID) { delete(h.c.byChannel, ch) }

// NewLeg names a new leg of call: <call>-<kind><n>.
func (h host) NewLeg(call sb.CallID, kind string) sb.ChannelID {
	k := h.c.calls[call]
	if k == nil {
		return ""
	}
	return sb.ChannelID(fmt.Sprintf("%s-%s%d", call, kind, k.nextLeg()))
}

// Do runs f on the call's executor, in order with its other commands,
// under the command deadline; when the call is over, detached.
func (h host) Do(call sb.CallID, f func(ctx context.Context)) {
	if k := h.c.calls[call]; k != nil && !k.life.Over() {
		h.c.do(k, f)
		return
	}
	h.c.detached(f)
}

// Detached runs f off the owner goroutine and outside any call's
// executor, under the command deadline.
func (h host) Detached(f func(ctx context.Context)) { h.c.detached(f) }

// Settle runs op (a command that decides a call's state) under ctx, off
// the owner goroutine; if the PBX neither confirms nor refuses it, it is
// retried until it does (see settle.go).
func (h host) Settle(ctx context.Context, what string, attrs []any, op func(ctx context.Context) error) error {
	return h.c.trySettle(ctx, what, attrs, op)
}

// Hangup is the operation of hanging up ch, for Settle.
func (h host) Hangup(ch sb.ChannelID) func(ctx context.Context) error { return h.c.hangupOp(ch) }

// Originate places a leg of call on its executor; gone runs on the owner
// goroutine if the PBX refused it.
func (h host) Originate(call sb.CallID, req sb.OriginateRequest, what string, gone func()) {
	k := h.c.calls[call]
	if k == nil {
		gone()
		return
	}
	h.c.originate(k, req, what, gone)
}

// OnLoop runs f on the owner goroutine (from any goroutine) and returns its
// error (see Center.onLoop).
func (h host) OnLoop(ctx context.Context, f func() error) error { return h.c.onLoop(ctx, f) }

// HangupOrphan hangs up a channel of no live call until the PBX confirms.
func (h host) HangupOrphan(ch sb.ChannelID) { h.c.hangupOrphan(ch) }

// Refuse answers a feature-code call, tells it no and hangs up.
func (h host) Refuse(ch sb.ChannelID) { h.c.refuse(ch) }

// Aux marks ch a channel in the application that is no call of its own
// (feature-code calls): never adopted as a caller.
func (h host) Aux(ch sb.ChannelID) { h.c.aux[ch] = true }

// Live reports whether call is live and neither its caller nor its agent
// has left.
func (h host) Live(call sb.CallID) bool {
	k := h.c.calls[call]
	return k != nil && !k.life.Over() && !k.life.CallerGone() && !k.life.AgentGone()
}

// Talking says who talks on call; ok is false when it is not live.
func (h host) Talking(call sb.CallID) (supervision.Talk, bool) {
	k := h.c.calls[call]
	if k == nil {
		return supervision.Talk{}, false
	}
	return talk(k), true
}

// TalkingTo finds the live call agent talks on.
func (h host) TalkingTo(agent sb.AgentID) (sb.CallID, bool) {
	for id, k := range h.c.calls {
		if talkingAgent(k) == agent {
			return id, true
		}
	}
	return "", false
}

// HangupLeg hangs up leg ch of call until the PBX confirms; a leg the PBX
// no longer knows, whose end this run never heard of, is taken as gone.
func (h host) HangupLeg(call sb.CallID, ch sb.ChannelID) {
	if k := h.c.calls[call]; k != nil {
		h.c.hangupChannel(k, ch)
		return
	}
	h.c.hangupOrphan(ch)
}

// legDigit hands a key pressed on leg ch of k to the capability that owns
// the leg; false: none does.
func (c *Center) legDigit(k *call, ch sb.ChannelID, key string) bool {
	for _, o := range c.legOwners {
		if o.Digit(k.ID, ch, key) {
			return true
		}
	}
	return false
}

// legGone hands the end of leg ch of k to the capability that owns it;
// false: none does.
func (c *Center) legGone(k *call, ch sb.ChannelID) bool {
	for _, o := range c.legOwners {
		if o.LegGone(k.ID, ch) {
			return true
		}
	}
	return false
}

// partyGone tells the capabilities that a party of k left (or k ended).
func (c *Center) partyGone(k *call) {
	for _, o := range c.legOwners {
		o.CallGone(k.ID)
	}
}
