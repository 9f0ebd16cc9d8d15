package center

import (
	"context"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// The router's driver (routing.Driver, c.acd) rings the agents the router
// picks and carries out its other actions; it asks the engine through
// its host (host_routing.go) for what touches a call. Below are the
// center's methods the API and the app call.

// QueueLogger receives the router's queue_log lines (a *queuelog.Writer).
type QueueLogger = routing.QueueLogger

// PreferredAgentVar is the flow variable naming the agent a queued call is
// offered to first (for the queue's preferred wait).
const PreferredAgentVar = routing.PreferredAgentVar

// LastAgentFunc finds the agent a caller last talked to in a queue (""
// any queue) since a time: the returning-caller preference.
type LastAgentFunc = routing.LastAgentFunc

// ExitHangup is the exit target that hangs the caller up at once (no
// prompt); routing.Exit.To says where each target goes.
const ExitHangup = routing.ExitHangup

// AgentStates returns the last state the router reported for each agent.
func (c *Center) AgentStates() map[sb.AgentID]routing.AgentState { return c.acd.AgentStates() }

// AgentLogin logs an agent in.
func (c *Center) AgentLogin(ctx context.Context, id sb.AgentID) error {
	return c.acd.Command(ctx, routing.AgentLogin{Agent: id})
}

// AgentLogout logs an agent out.
func (c *Center) AgentLogout(ctx context.Context, id sb.AgentID) error {
	return c.acd.Command(ctx, routing.AgentLogout{Agent: id})
}

// AgentPause pauses an agent with a reason code.
func (c *Center) AgentPause(ctx context.Context, id sb.AgentID, reason string) error {
	return c.acd.Command(ctx, routing.AgentPause{Agent: id, Reason: reason})
}

// AgentReady unpauses an agent and ends a wrap-up early.
func (c *Center) AgentReady(ctx context.Context, id sb.AgentID) error {
	return c.acd.Command(ctx, routing.AgentReady{Agent: id})
}

// RoutingSnapshot copies the router's agents and queues with their live
// statistics.
func (c *Center) RoutingSnapshot(ctx context.Context) (routing.Snapshot, error) {
	return c.acd.Snapshot(ctx)
}
