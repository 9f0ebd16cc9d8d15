package center

import (
	"context"
	"encoding/json"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/routing"
)

// cardVar is the caller channel's variable that carries the call's card.
const cardVar = "SB_CARD"

// callCard is what a call keeps on its caller channel once it is bridged
// to an agent, so that a controller adopting it after a restart (Asterisk
// keeps channel variables as long as the channel) writes the same
// call-log row and queue_log lines the first controller would have: the
// dialed number, the queue, when the caller entered, was answered, queued
// and bridged, and the IVR path.
type callCard struct {
	Caller     string     `json:"caller,omitempty"`
	CallerName string     `json:"caller_name,omitempty"`
	Called     string     `json:"called,omitempty"`
	Queue      string     `json:"queue,omitempty"`
	Entered    time.Time  `json:"entered"`
	Answered   time.Time  `json:"answered,omitzero"`
	Enqueued   time.Time  `json:"enqueued,omitzero"`
	Bridged    time.Time  `json:"bridged,omitzero"`
	IVRPath    sb.RawJSON `json:"ivr_path,omitempty"`
}

// saveCard writes the call's card on its caller channel.
func (c *Center) saveCard(k *call) {
	path := ivrPath(k)
	if path == nil {
		path = k.adoptedPath
	}
	card := callCard{Caller: k.Caller, CallerName: k.CallerName, Called: k.Called, Queue: string(k.Queue),
		Entered: k.Entered, Answered: k.Answered, Enqueued: k.enqueuedAt, Bridged: k.Bridged, IVRPath: path}
	b, err := json.Marshal(card)
	if err != nil {
		return
	}
	ch := sb.ChannelID(k.ID)
	c.do(k, func(ctx context.Context) {
		if err := c.pbx.SetVariable(ctx, ch, cardVar, string(b)); err != nil && sb.ErrorCode(err) != sb.ENOTFOUND {
			c.log.Warn("store call card", "call_id", k.ID, "err", err)
		}
	})
}

// readCards reads the cards of the callers a snapshot shows talking in
// their bridge that the owner does not know (off the owner goroutine).
// A channel without a card (a call from a version that wrote none, or
// bridged just as the controller stopped) is adopted without one.
func (c *Center) readCards(ctx context.Context, known map[sb.ChannelID]bool, chans []sb.ChannelInfo, bridges []sb.BridgeInfo) map[sb.ChannelID]callCard {
	inOwn := map[sb.ChannelID]bool{}
	for _, b := range bridges {
		for _, ch := range b.Channels {
			if b.ID == sb.BridgeID("br-"+string(ch)) {
				inOwn[ch] = true
			}
		}
	}
	cards := map[sb.ChannelID]callCard{}
	for _, ch := range chans {
		if !ch.InApp || known[ch.ID] || !inOwn[ch.ID] {
			continue
		}
		v, err := c.pbx.GetVariable(ctx, ch.ID, cardVar)
		if err != nil || v == "" {
			continue
		}
		var card callCard
		if err := json.Unmarshal([]byte(v), &card); err != nil {
			c.log.Warn("unreadable call card", "channel_id", ch.ID, "err", err)
			continue
		}
		cards[ch.ID] = card
	}
	return cards
}

// applyCard gives an adopted call what its card says.
func (c *Center) applyCard(k *call, card callCard) {
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
