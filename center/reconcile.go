package center

import (
	"context"
	"strings"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/reconcile"
)

// onLinkUp subscribes to the agents' phones and reconciles the live calls
// with what the PBX has now: the PBX replays nothing that happened while the
// link was down, and after a restart of Switchboard the calls still in the
// application are adopted again.
func (c *Center) onLinkUp(e sb.LinkUp) {
	c.log.Info("PBX link up", "reconnect", e.Reconnect)
	c.reconciling++
	snap := c.seq
	known := make(map[sb.ChannelID]bool, len(c.byChannel))
	for ch := range c.byChannel {
		known[ch] = true
	}
	// Campaign calls the PBX took before the listing is asked for: the
	// listing shows each one unless it ended.
	// Only after a reconnect: at the first link-up of a run no event was
	// lost, and an end since the listing is on its way in the stream.
	var placed map[sb.ChannelID]*obcall.Line
	if e.Reconnect {
		placed = c.obd.Placed()
	}
	recs := c.rec.Known()
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.CommandTimeout)
		defer cancel()
		for _, a := range reconcile.Subscriptions(c.cfg.Agents) {
			if err := c.pbx.SubscribeEndpoint(ctx, a.Endpoint); err != nil {
				c.log.Warn("subscribe to agent phone", "agent_id", a.ID, "endpoint", a.Endpoint, "err", err)
			}
		}
		eps, err := c.pbx.Endpoints(ctx)
		if err != nil {
			c.log.Warn("list endpoints", "err", err)
		}
		chans, err := c.pbx.Channels(ctx)
		if err == nil {
			var bridges []sb.BridgeInfo
			if bridges, err = c.pbx.Bridges(ctx); err == nil {
				l := reconcile.Listing{Channels: chans, Bridges: bridges}
				cards := c.readCards(ctx, reconcile.CardsToRead(l, known))
				probe := c.rec.Probe(ctx, recs)
				if !e.Reconnect {
					// The first link-up of this run: rows a crash left open
					// whose call the PBX no longer has ended while down.
					c.closeEndedWhileDown(ctx, l)
				}
				c.post(func() {
					for _, st := range eps {
						// An endpoint event since the snapshot is newer
						// than the snapshot's state.
						if c.endpointSeen[strings.ToLower(st.Endpoint)] <= snap {
							c.onEndpoint(st)
						}
					}
					c.reconcile(snap, l, cards, placed)
					c.rec.Recover(probe)
					c.doneReconciling()
					// Stored callback requests go back in their queues
					// once the PBX is there to place them (the first
					// link-up).
					c.first.Restore()
					if c.reconciled != nil {
						c.reconciled()
					}
				})
				return
			}
		}
		c.log.Error("list channels and bridges to reconcile", "err", err)
		c.post(c.doneReconciling)
	}()
}

func (c *Center) doneReconciling() {
	c.reconciling--
	if c.reconciling == 0 {
		clear(c.goneAt)
		clear(c.goneCause)
		c.obd.ListingDone()
		c.rec.ForgetEnded()
	}
}

// reconcile applies a snapshot of the PBX's channels and bridges, listed
// after seq snap, to call state: reconcile.Make decides, this carries its
// plan out. What changed after snap (calls that entered, agent legs
// originated, legs that ended) is already known from events and left
// alone.
func (c *Center) reconcile(snap uint64, l reconcile.Listing, cards map[sb.ChannelID]reconcile.Card, placed map[sb.ChannelID]*obcall.Line) {
	in := reconcile.Input{Listing: l, Cards: cards, Agents: c.cfg.Agents, Attempt: outbound.AttemptOf,
		Known:     make(map[sb.ChannelID]bool, len(c.byChannel)+len(c.aux)),
		Campaigns: map[sb.ChannelID]reconcile.Campaign{},
		Gone:      map[sb.ChannelID]int{},
	}
	for ch, at := range c.goneAt {
		if at > snap {
			in.Gone[ch] = c.goneCause[ch]
		}
	}
	for ch := range c.byChannel {
		in.Known[ch] = true
	}
	for ch := range c.aux {
		in.Known[ch] = true
	}
	c.obd.Campaigns(in.Campaigns)
	for id := range placed {
		in.Placed = append(in.Placed, id)
	}
	for _, k := range c.calls {
		in.Calls = append(in.Calls, c.reconcileView(k, snap))
	}
	for _, cmd := range reconcile.Make(in, c.clock.Now()) {
		c.carryOut(cmd, snap, placed)
	}
}

// reconcileView is what reconcile.Make needs of a live call.
func (c *Center) reconcileView(k *call, snap uint64) reconcile.Call {
	v := reconcile.Call{ID: k.ID, Fresh: k.seq > snap, AgentLeg: k.agentCh, AgentLegFresh: k.offerSeq > snap,
		AgentUp: k.life.AgentUp(), AgentGone: k.life.AgentGone(), CallerGone: k.life.CallerGone(), Over: k.life.Over(),
		Greeting: k.State == sb.CallPrompting && !k.life.Greeted()}
	if pending, placed, at := c.first.Placing(k.ID); pending {
		v.AgentFirst = true
		v.CustomerPlaced = placed && at <= snap
	}
	return v
}

// carryOut executes one command of a reconcile plan. One for a call that
// is over by now is moot; a campaign call lost is applied only while this
// run still follows it placed.
func (c *Center) carryOut(cmd reconcile.Command, snap uint64, placed map[sb.ChannelID]*obcall.Line) {
	callOf := func(id sb.CallID) *call {
		if k := c.calls[id]; k != nil && !k.life.Over() {
			return k
		}
		return nil
	}
	switch m := cmd.(type) {
	case reconcile.HangUp:
		if k := callOf(m.Call); k != nil {
			c.hangupChannel(k, m.Channel)
		}
	case reconcile.LegGone:
		if k := callOf(m.Call); k != nil && m.First {
			c.first.Gone(k.ID, m.Channel, 0)
		} else if k != nil {
			c.channelGone(k, m.Channel)
		}
	case reconcile.AgentAnswered:
		if k := callOf(m.Call); k != nil {
			c.life(k, lifecycle.AgentAnswered{})
		}
	case reconcile.GreetingOver:
		if k := callOf(m.Call); k != nil {
			c.greetingOver(k)
		}
	case reconcile.CampaignLost:
		if l := placed[m.Channel]; l != nil && c.goneAt[m.Channel] <= snap {
			c.obd.Lost(l)
		}
	case reconcile.FollowRinging:
		c.obd.FollowRinging(m.Channel)
	case reconcile.EndedUnheard:
		c.obd.EndedUnheard(m.Channel, m.Cause)
	case reconcile.HangUpOrphan:
		c.hangupOrphan(m.Channel)
	case reconcile.Adopt:
		k := c.adopt(m)
		if m.Gone {
			// A caller of an earlier run that hung up between the
			// listing and now: taken up and ended at once, so its call
			// is logged and its agent's leg and recording are let go.
			c.noteHangup(k, m.Channel.ID, m.Cause)
			c.channelGone(k, m.Channel.ID)
		}
	case reconcile.AdoptLater:
		c.pendingAdopt[m.Adopt.Channel.ID] = m.Adopt.Channel
		pid, a := m.Adopt.Channel.ID, m.Adopt
		c.after(reconcile.Grace, func() {
			if _, ok := c.pendingAdopt[pid]; ok {
				delete(c.pendingAdopt, pid)
				if !c.aux[pid] && c.byChannel[pid] == nil && !c.obd.Follows(pid) {
					c.adopt(a)
				}
			}
		})
	case reconcile.DestroyBridge:
		bid := m.Bridge
		c.settle(nil, "destroy a bridge left behind", []any{"bridge_id", bid}, func(ctx context.Context) error {
			return c.pbx.DestroyBridge(ctx, bid)
		}, nil)
	}
}

// adopt takes over a caller channel found in the application as the plan
// says; one that is gone already (it hung up since the listing) is only
// taken up, so that the caller's end can be applied to it.
func (c *Center) adopt(a reconcile.Adopt) *call {
	ch := a.Channel
	k := c.newCall(ch, ch.Created)
	c.log.Info("adopted call", "call_id", k.ID, "card", a.Card.Known())
	if ch.State == sb.ChannelUp {
		k.Answered = ch.Created
	}
	if a.Card.Known() {
		c.applyCard(k, a.Card)
	}
	c.journal(k)
	adopted := lifecycle.Adopted{Gone: a.Gone, Bridge: a.Bridge != ""}
	k.Bridge = a.Bridge
	if a.Talking() {
		// Caller and agent were talking: keep them talking.
		k.agentCh, k.AgentChannel = a.AgentLeg, a.AgentLeg
		c.byChannel[a.AgentLeg] = k
		k.Agent = a.Agent
		adopted.Agent = true
		c.life(k, adopted)
		k.inBridge[ch.ID], k.inBridge[k.agentCh] = true, true
		k.State = sb.CallBridged
		k.Bridged = a.Bridged
		c.answered.Add(1)
		if k.Agent != "" {
			c.acdAdopt(k)
		}
		if a.Attempt != 0 {
			// A campaign call talking across the restart: its attempt
			// closes as answered when it ends, never dialed again. Its
			// agent is reported (and stored) now: the crash may have
			// come before the first run stored it, and another crash
			// before this call ends must not take the conversation for
			// an abandoned call.
			k.ob = c.obd.Adopt(ch.ID, a.Attempt)
			c.obd.Apply(k.ob, obcall.AdoptedTalking{Agent: k.Agent})
		}
		return k
	}
	c.life(k, adopted)
	if a.Attempt != 0 {
		// A campaign call not yet with an agent when Switchboard
		// stopped: its connect window is long gone. It is hung up and
		// its attempt closed as abandoned.
		k.ob = c.obd.Adopt(ch.ID, a.Attempt)
		c.obd.Apply(k.ob, obcall.AdoptedWaiting{})
		c.life(k, lifecycle.Decide{Outcome: sb.OutcomeAbandoned, By: lifecycle.BySystem})
		if !a.Gone {
			c.life(k, lifecycle.HangUpCaller{})
		}
		return k
	}
	if a.Gone {
		return k
	}
	if a.Answer {
		c.do(k, func(ctx context.Context) {
			if err := c.pbx.Answer(ctx, ch.ID); err != nil {
				c.post(func() { c.fail(k, err) })
			}
		})
		k.Answered = c.clock.Now()
	}
	c.acdHunt(k)
	return k
}
