package outbound

import (
	"context"
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
)

// AdoptedDial returns the Dial of an open attempt an earlier run placed
// (the runner adopted it at start), so that a campaign call that answers,
// or comes back from AMD, after a restart is carried on as this run would
// have: queued to the campaign's agents within the connect window, its
// machine or abandon message played. ENOTFOUND when the attempt is not
// one this runner adopted and still waits for.
func (r *Runner) AdoptedDial(ctx context.Context, attempt int64) (Dial, error) {
	var d Dial
	var err error
	// The center may meet such a call before the runner's loop has
	// started (both start together): wait for it rather than hang up.
	select {
	case <-r.up:
	case <-r.down:
		return Dial{}, errNotRunning
	case <-ctx.Done():
		return Dial{}, fmt.Errorf("adopted attempt %d: the outbound dialer did not start: %w", attempt, ctx.Err())
	}
	doErr := r.do(ctx, func() {
		if err = r.ready(ctx); err != nil {
			return
		}
		k := r.calls[attempt]
		if k == nil || !k.adopted {
			err = sb.Errorf(sb.ENOTFOUND, "attempt %d is not an open attempt of an earlier run", attempt)
			return
		}
		a, e := r.o.Store.Attempt(ctx, attempt)
		if e != nil {
			err = fmt.Errorf("adopted attempt %d: %w", attempt, e)
			return
		}
		c, e := r.o.Store.Campaign(ctx, k.campaign)
		if e != nil {
			err = fmt.Errorf("adopted attempt %d: campaign %s: %w", attempt, k.campaign, e)
			return
		}
		l, e := r.o.Store.Lead(ctx, k.campaign, a.Number)
		if e != nil {
			err = fmt.Errorf("adopted attempt %d: lead %s: %w", attempt, a.Number, e)
			return
		}
		d = Dial{
			Attempt: attempt, Lead: l, Campaign: c.Name, Queue: c.Queue, Channel: sb.ChannelID(a.ChannelID),
			Endpoint: c.Endpoint(l.Number), CallerID: c.CallerID, RingTime: c.RingTime, AMD: c.AMD,
			MachineMessage: c.MachineMessage, AbandonMessage: c.AbandonMessage, Agent: k.agent,
		}
	})
	if doErr != nil {
		return Dial{}, doErr
	}
	return d, err
}

// Connect records that agent takes the person of attempt's call, at at,
// and returns once it is stored: the center calls it before it bridges
// the two, so that a crash from then on closes the attempt as answered
// (never dialed again) rather than abandoned. It is the Connected report,
// applied at once.
func (r *Runner) Connect(ctx context.Context, attempt int64, agent sb.AgentID, at time.Time) error {
	return r.do(ctx, func() {
		r.handle(ctx, item{ev: Event{Attempt: attempt, Kind: Connected, At: at, Agent: agent}})
	})
}
