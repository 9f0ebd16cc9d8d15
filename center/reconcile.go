package center

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/agentfirst"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/outbound"
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
	placed := map[sb.ChannelID]*obCall{}
	for id, ob := range c.ob {
		if e.Reconnect && ob.m.Listed() {
			placed[id] = ob
		}
	}
	var recs []string
	for name, lr := range c.recordings {
		if lr.Known() {
			recs = append(recs, name)
		}
	}
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.CommandTimeout)
		defer cancel()
		seen := map[string]bool{}
		for _, a := range c.cfg.Agents {
			if seen[a.Endpoint] {
				continue
			}
			seen[a.Endpoint] = true
			if !hasState(a.Endpoint) {
				continue // Asterisk answers 422: nothing to follow
			}
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
				cards := c.readCards(ctx, known, chans, bridges)
				probe := c.probeRecordings(ctx, recs, nil)
				if !e.Reconnect {
					// The first link-up of this run: rows a crash left open
					// whose call the PBX no longer has ended while down.
					live := make(map[sb.ChannelID]bool, len(chans))
					for _, ch := range chans {
						live[ch.ID] = true
					}
					c.closeEndedWhileDown(ctx, live)
				}
				c.post(func() {
					for _, st := range eps {
						// An endpoint event since the snapshot is newer
						// than the snapshot's state.
						if c.endpointSeen[strings.ToLower(st.Endpoint)] <= snap {
							c.onEndpoint(st)
						}
					}
					c.reconcile(snap, chans, bridges, cards, placed)
					c.recoverRecordings(probe)
					c.doneReconciling()
					if !c.acd.restored {
						// Stored callback requests go back in their
						// queues once the PBX is there to place them.
						c.acd.restored = true
						c.restoreCallbacks()
					}
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

// hasState reports whether an endpoint has a state the PBX follows
// (PJSIP, SIP, IAX2, DAHDI phones...). Local endpoints (Local/EXT@CONTEXT,
// a dialplan extension) have none: Asterisk refuses to subscribe to them,
// and an agent reached through one is always taken as online.
func hasState(endpoint string) bool {
	tech, _, _ := strings.Cut(endpoint, "/")
	return !strings.EqualFold(tech, "Local")
}

func (c *Center) doneReconciling() {
	c.reconciling--
	if c.reconciling == 0 {
		clear(c.goneAt)
		clear(c.goneCause)
		clear(c.obGoneEarly)
		c.forgetEnded()
	}
}

// adoptGrace is how long a caller found in a snapshot, but not yet seen in
// an event, waits to be adopted: its StasisStart may be in the event
// stream behind the snapshot, and then it is taken in the normal way.
const adoptGrace = 2 * time.Second

// ownedLeg matches the ids of legs Switchboard adds to a call other than
// the agent's: transfer targets, supervisors and their snoops.
var ownedLeg = regexp.MustCompile(`-(t|sv|sn)[0-9]+$`)

// reconcile applies a snapshot of the PBX's channels and bridges, listed
// after seq snap, to call state. What changed after snap (calls that entered,
// agent legs originated, legs that ended) is already known from events and
// left alone.
func (c *Center) reconcile(snap uint64, chans []sb.ChannelInfo, bridges []sb.BridgeInfo, cards map[sb.ChannelID]callCard, placed map[sb.ChannelID]*obCall) {
	live := map[sb.ChannelID]sb.ChannelInfo{}
	ended := map[sb.ChannelID]bool{} // listed, but ended since the snapshot
	for _, ch := range chans {
		if c.goneAt[ch.ID] > snap {
			ended[ch.ID] = true
			continue
		}
		live[ch.ID] = ch
	}
	bridgeOf := map[sb.ChannelID]sb.BridgeID{}
	for _, b := range bridges {
		for _, ch := range b.Channels {
			bridgeOf[ch] = b.ID
		}
	}
	// Calls we know: legs that vanished while we were away are gone.
	var stalled []*call
	for _, k := range c.calls {
		if k.seq > snap {
			continue // entered after the snapshot
		}
		if k.first != nil && k.first.m.Pending() {
			c.reconcileFirst(k, snap, live)
			continue
		}
		if k.agentCh != "" && !k.life.AgentGone() && k.offerSeq <= snap {
			leg, ok := live[k.agentCh]
			switch {
			case !ok:
				if !k.life.AgentUp() {
					// Its end was lost with the link: make sure it is
					// gone and offer again.
					c.hangupChannel(k, k.agentCh)
				}
				c.channelGone(k, k.agentCh)
			case !k.life.AgentUp() && leg.State == sb.ChannelUp:
				// The agent answered while the link was down.
				c.life(k, lifecycle.AgentAnswered{})
			}
			// A leg still ringing goes on; its answer or end will come.
		}
		if _, ok := live[sb.ChannelID(k.ID)]; !ok {
			c.channelGone(k, sb.ChannelID(k.ID))
			continue
		}
		if k.State == sb.CallPrompting && !k.life.Greeted() {
			stalled = append(stalled, k)
		}
	}
	// Campaign calls this run placed whose end was lost with the link:
	// gone from the listing before a person came. One answered while the
	// link was down was hung up by the PBX unheard; the dialplan's record
	// tells (a no answer otherwise).
	for id, ob := range placed {
		if c.ob[id] != ob || !ob.m.Listed() || c.goneAt[id] > snap {
			continue
		}
		if _, ok := live[id]; ok {
			continue
		}
		if _, listed := ended[id]; listed {
			continue // its end is in the event stream
		}
		c.obApply(ob, obcall.Lost{})
	}
	// Channels we do not know: adopt callers (those already talking to an
	// agent first, so their agents are not offered other calls), hang up
	// orphaned agent legs.
	sort.SliceStable(chans, func(i, j int) bool {
		_, bi := bridgeOf[chans[i].ID]
		_, bj := bridgeOf[chans[j].ID]
		return bi && !bj
	})
	for _, ch := range chans {
		if _, known := c.byChannel[ch.ID]; known || c.aux[ch.ID] {
			continue
		}
		if c.obPending[ch.ID] != nil || (c.ob[ch.ID] != nil && ch.InApp) {
			continue // a campaign call being adopted, or one this run follows: its events carry it
		}
		if !ch.InApp {
			// The listing also shows what the application is only
			// subscribed to: the ;2 half of a Local leg it originated
			// (Asterisk lists both halves), a campaign call running AMD
			// in the dialplan, a leg still ringing. None is a caller, and
			// each one's own events (or its ;1 half's) tell its fate.
			c.followRinging(ch, ended[ch.ID])
			continue
		}
		id := string(ch.ID)
		if ownedLeg.MatchString(id) {
			c.hangupOrphan(ch.ID) // a transfer, supervisor or snoop leg of a call that is over
			continue
		}
		if caller, ok := agentLegOf(ch); ok {
			if _, callerLive := live[sb.ChannelID(caller)]; callerLive || c.calls[sb.CallID(caller)] != nil {
				if bridgeOf[ch.ID] == sb.BridgeID("br-"+caller) && bridgeOf[sb.ChannelID(caller)] == bridgeOf[ch.ID] {
					continue // adopted with its caller
				}
			}
			// An agent leg whose call is over or was never bridged: the
			// caller (if still here) is offered again.
			c.hangupOrphan(ch.ID)
			continue
		}
		if i := strings.LastIndex(id, "-rs"); i > 0 && c.calls[sb.CallID(id[:i])] != nil {
			continue // records one leg of a live call
		}
		if strings.HasPrefix(ch.Name, "Snoop/") {
			c.hangupOrphan(ch.ID)
			continue
		}
		if ended[ch.ID] {
			// A caller of an earlier run that hung up between the listing
			// and now: taken up and ended at once, so its call is logged
			// and its agent's leg and recording are let go.
			k := c.adopt(ch, bridgeOf, live, cards[ch.ID], true)
			c.noteHangup(k, ch.ID, c.goneCause[ch.ID])
			c.channelGone(k, ch.ID)
			continue
		}
		if _, talking := bridgeOf[ch.ID]; talking {
			c.adopt(ch, bridgeOf, live, cards[ch.ID], false)
			continue
		}
		// A caller the snapshot shows but whose StasisStart may still be
		// on its way: adopt it only if that event does not come first.
		c.pendingAdopt[ch.ID] = ch
		pid := ch.ID
		c.clock.AfterFunc(adoptGrace, func() {
			c.post(func() {
				if pending, ok := c.pendingAdopt[pid]; ok {
					delete(c.pendingAdopt, pid)
					if !c.aux[pid] && c.byChannel[pid] == nil && c.obPending[pid] == nil && c.ob[pid] == nil {
						c.adopt(pending, nil, nil, callCard{}, false)
					}
				}
			})
		})
	}
	// Call bridges whose call is over (it ended while the link was down,
	// or a crash came between the hang-up and the delete): Asterisk keeps
	// a bridge until it is deleted, with the agent's leg (hung up above
	// as an orphan) and a recording in it.
	for _, b := range bridges {
		id, ours := strings.CutPrefix(string(b.ID), "br-")
		if !ours || c.calls[sb.CallID(id)] != nil {
			continue
		}
		bid := b.ID
		c.settle(nil, "destroy a bridge left behind", []any{"bridge_id", bid}, func(ctx context.Context) error {
			return c.pbx.DestroyBridge(ctx, bid)
		}, nil)
	}
	// Greetings whose end was lost with the link: go on to the agent.
	for _, k := range stalled {
		c.greetingOver(k)
	}
}

// followRinging takes note of a campaign call an earlier run placed that
// the listing shows outside the application (ringing, or in AMD): its end
// is reported to the runner (obRingingEvent), or at once when it ended
// since the listing.
func (c *Center) followRinging(ch sb.ChannelInfo, ended bool) {
	if _, ok := outbound.AttemptOf(ch.ID); !ok || c.ob[ch.ID] != nil || c.obPending[ch.ID] != nil || c.obRinging[ch.ID] != nil || c.obGoneEarly[ch.ID] {
		return
	}
	if ended {
		c.obEndedUnheard(ch.ID, campaign.OutcomeOfCause(c.goneCause[ch.ID]))
		return
	}
	c.obRinging[ch.ID] = &obPend{}
}

// agentLegOf tells whether ch is an agent leg Switchboard originated, and
// for which call: by its Stasis args (agent, <call id>), or by its id
// (<call id>-a<n>) for a listing without args.
func agentLegOf(ch sb.ChannelInfo) (string, bool) {
	if len(ch.Args) >= 2 && ch.Args[0] == argAgent {
		return ch.Args[1], true
	}
	id := string(ch.ID)
	if i := strings.LastIndex(id, "-a"); i > 0 {
		return id[:i], true
	}
	return "", false
}

// adopt takes over a caller channel found in the application; one that is
// gone already (it hung up since the listing) is only taken up, so that
// the caller's end can be applied to it.
func (c *Center) adopt(ch sb.ChannelInfo, bridgeOf map[sb.ChannelID]sb.BridgeID, live map[sb.ChannelID]sb.ChannelInfo, card callCard, gone bool) *call {
	k := c.newCall(ch, ch.Created)
	c.log.Info("adopted call", "call_id", k.ID, "card", !card.Entered.IsZero())
	if ch.State == sb.ChannelUp {
		k.Answered = ch.Created
	}
	if !card.Entered.IsZero() {
		c.applyCard(k, card)
	}
	c.journal(k)
	adopted := lifecycle.Adopted{Gone: gone}
	if b, ok := bridgeOf[ch.ID]; ok && b == sb.BridgeID("br-"+string(ch.ID)) {
		// Caller and agent were talking: keep them talking.
		for other, ob := range bridgeOf {
			if ob == b && other != ch.ID {
				if _, ok := live[other]; ok {
					k.agentCh, k.AgentChannel = other, other
					c.byChannel[other] = k
					k.Agent = c.agentForChannel(live[other])
				}
			}
		}
		adopted.Bridge, k.Bridge = true, b
		if k.agentCh != "" {
			adopted.Agent = true
			c.life(k, adopted)
			k.inBridge[ch.ID], k.inBridge[k.agentCh] = true, true
			k.State = sb.CallBridged
			k.Bridged = card.Bridged
			if k.Bridged.IsZero() {
				k.Bridged = c.clock.Now()
			}
			c.answered.Add(1)
			if k.Agent != "" {
				c.acdAdopt(k)
			}
			if attempt, ok := outbound.AttemptOf(ch.ID); ok {
				// A campaign call talking across the restart: its
				// attempt closes as answered when it ends, never dialed
				// again. Its agent is reported (and stored) now: the
				// crash may have come before the first run stored it,
				// and another crash before this call ends must not take
				// the conversation for an abandoned call.
				ob := c.newOB(outbound.Dial{Attempt: attempt, Channel: ch.ID})
				ob.k, k.ob = k, ob
				c.ob[ch.ID] = ob
				c.obApply(ob, obcall.AdoptedTalking{Agent: k.Agent})
			}
			return k
		}
	}
	c.life(k, adopted)
	if attempt, ok := outbound.AttemptOf(ch.ID); ok {
		// A campaign call not yet with an agent when Switchboard
		// stopped: its connect window is long gone. It is hung up and
		// its attempt closed as abandoned.
		ob := c.newOB(outbound.Dial{Attempt: attempt, Channel: ch.ID})
		ob.k, k.ob = k, ob
		c.ob[ch.ID] = ob
		c.obApply(ob, obcall.AdoptedWaiting{})
		c.life(k, lifecycle.Decide{Outcome: sb.OutcomeAbandoned, By: lifecycle.BySystem})
		if !gone {
			c.life(k, lifecycle.HangUpCaller{})
		}
		return k
	}
	if gone {
		return k
	}
	if ch.State != sb.ChannelUp {
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

// agentForChannel finds the agent whose phone a channel is on, by the
// channel name's Technology/Resource prefix (PJSIP/1001-00000004); ""
// when none.
func (c *Center) agentForChannel(ch sb.ChannelInfo) sb.AgentID {
	for _, a := range c.cfg.Agents {
		if strings.HasPrefix(strings.ToLower(ch.Name), strings.ToLower(a.Endpoint)+"-") {
			return a.ID
		}
	}
	return ""
}

// reconcileFirst: the legs of an agent-first call that vanished while the
// link was down are gone.
func (c *Center) reconcileFirst(k *call, snap uint64, live map[sb.ChannelID]sb.ChannelInfo) {
	if _, ok := live[k.agentCh]; !ok && !k.life.AgentGone() {
		c.hangupChannel(k, k.agentCh)
		c.firstGone(k, k.agentCh, 0)
	}
	if _, cust := k.first.m.Legs(); cust != agentfirst.LegNone && k.first.custSeq <= snap && !k.life.CallerGone() && !k.life.Over() {
		if _, ok := live[sb.ChannelID(k.ID)]; !ok {
			c.hangupChannel(k, sb.ChannelID(k.ID))
			c.firstGone(k, sb.ChannelID(k.ID), 0)
		}
	}
}
