package center

import (
	"context"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/blend"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/routing"
)

// Outbound campaign calls are carried out by package campaign/obcall's
// Driver (placing the lines, AMD, the machine message, the connect
// window, the abandon, the adoption after a restart, the agents held for
// ringing lines); the center takes a line's person in as a queued call
// (host_obcall.go) and hands the driver the call's milestones.

const (
	// OutboundContext is the dialplan context campaign calls are
	// originated into (obcall.Context).
	OutboundContext = obcall.Context
	// ConnectWindow is how long an answered campaign call may wait for an
	// agent before it is abandoned (the 2-second rule).
	ConnectWindow = obcall.DefaultWindow
	// OutboundPriority queues answered campaign calls ahead of every
	// inbound caller: each second they wait counts against the abandon
	// limit.
	OutboundPriority = obcall.FirstPriority
	// PreviewPauseReason is the router pause reason of an agent on a
	// preview call.
	PreviewPauseReason = obcall.PreviewPauseReason
	// HoldReason is the router pause reason of an agent held for a
	// campaign line that is ringing (blend.HoldReason).
	HoldReason = blend.HoldReason
)

// Campaigns are the campaign runner's hooks in the center (an
// *outbound.Runner's methods); each may be nil.
type Campaigns = obcall.Hooks

// Dial places a campaign call (outbound.Placer). It returns once the PBX
// took or refused the originate; the rest is reported.
func (c *Center) Dial(ctx context.Context, d outbound.Dial) error { return c.obd.Dial(ctx, d) }

// CampaignAgents is the router's view of the agents who work a queue, for
// a campaign's pacer (outbound.AgentSource; blend.PacerView says who
// counts as what).
func (c *Center) CampaignAgents(ctx context.Context, queue string) ([]dialer.Agent, error) {
	var out []dialer.Agent
	err := c.onLoop(ctx, func() error {
		ids, ok := c.router.QueueAgents(sb.QueueName(queue))
		if !ok {
			return sb.Errorf(sb.ENOTFOUND, "no queue %q", queue)
		}
		now := c.clock.Now()
		var waiting []sb.QueueName // the inbound callers waiting in the router
		for id := range c.acd.calls {
			if k := c.calls[id]; k != nil && k.ob == nil && k.life.Routing() == lifecycle.RouteQueued {
				waiting = append(waiting, k.Queue)
			}
		}
		stats := make([]routing.AgentStats, len(ids))
		for i, id := range ids {
			stats[i], _ = c.router.AgentStats(id, now)
		}
		out = blend.PacerView(stats, blend.Claimed(waiting, ids, c.queueAgents), now)
		return nil
	})
	return out, err
}

// queueAgents are the agents of a queue's base tier (none: no such queue).
func (c *Center) queueAgents(q sb.QueueName) []sb.AgentID {
	ids, _ := c.router.QueueAgents(q)
	return ids
}
