package center

import (
	"context"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/reconcile"
	"github.com/switchboard/switchboard/routing"
)

// saveCard writes the call's card on its caller channel.
func (c *Center) saveCard(k *call) {
	path := c.flows.Path(k.ID)
	if path == nil {
		path = k.adoptedPath
	}
	card := reconcile.Card{Caller: k.Caller, CallerName: k.CallerName, Called: k.Called, Queue: string(k.Queue),
		Entered: k.Entered, Answered: k.Answered, Enqueued: k.enqueuedAt, Bridged: k.Bridged, IVRPath: path}
	v, err := card.Encode()
	if err != nil {
		return
	}
	ch := sb.ChannelID(k.ID)
	c.do(k, func(ctx context.Context) {
		if err := c.pbx.SetVariable(ctx, ch, reconcile.CardVar, v); err != nil && sb.ErrorCode(err) != sb.ENOTFOUND {
			c.log.Warn("store call card", "call_id", k.ID, "err", err)
		}
	})
}

// readCards reads the cards of the callers named (reconcile.CardsToRead),
// off the owner goroutine.
func (c *Center) readCards(ctx context.Context, chans []sb.ChannelID) map[sb.ChannelID]reconcile.Card {
	cards := map[sb.ChannelID]reconcile.Card{}
	for _, ch := range chans {
		v, err := c.pbx.GetVariable(ctx, ch, reconcile.CardVar)
		if err != nil || v == "" {
			continue
		}
		card, err := reconcile.ParseCard(v)
		if err != nil {
			c.log.Warn("unreadable call card", "channel_id", ch, "err", err)
			continue
		}
		cards[ch] = card
	}
	return cards
}

// applyCard gives an adopted call what its card says.
func (c *Center) applyCard(k *call, card reconcile.Card) {
	if card.Caller != "" {
		k.Caller, k.CallerName = card.Caller, card.CallerName
	}
	if card.Called != "" {
		k.Called = card.Called
	}
	if !card.Entered.IsZero() {
		k.Entered = card.Entered
	}
	if !card.Answered.IsZero() {
		k.Answered = card.Answered
	}
	k.Queue = sb.QueueName(card.Queue)
	k.enqueuedAt = card.Enqueued
	k.adoptedPath = card.IVRPath
}

// acdAdopt hands a call adopted while talking to the router, so that its
// end writes COMPLETECALLER/COMPLETEAGENT and starts the agent's wrap-up.
// Without a queue the agent is kept out of offers until the call ends.
func (c *Center) acdAdopt(k *call) {
	if k.Queue != "" {
		m := routing.Adopt{Call: k.ID, Queue: k.Queue, Agent: k.Agent, EnteredAt: k.enqueuedAt, AnsweredAt: k.Bridged}
		acts := c.acdApply(m)
		if ignored(acts, m) == nil {
			ac := c.acdCall(k)
			ac.agent = k.Agent
			c.life(k, lifecycle.Routed{})
			return
		}
	}
	// The router never saw this call: keep the agent out of its offers
	// until the call ends.
	k.adoptedAgent = k.Agent
	c.acdApply(routing.AgentPause{Agent: k.Agent, Reason: "adopted call"})
}
