// Package reconcile decides what the engine does with the PBX's listing
// of channels and bridges after a link-up: the PBX replays nothing that
// happened while the link was down, and after a restart of Switchboard
// the calls still in the application are taken over again.
//
// Make takes the listing, what the engine knows (its live calls and the
// channels it follows), the ends the event stream reported since the
// listing was asked for, and now; it returns the Plan, commands in the
// order the engine carries them out. The engine applies each to the call
// it names; a command for a call that is over by then is moot.
//
// A live call the engine knows (Call), as of the listing:
//
//	entered after the listing    left alone: its events tell everything
//	agent-first, still placing   a leg the PBX no longer has is hung up
//	                             and gone (HangUp, LegGone{First})
//	agent leg not listed         gone (LegGone); hung up first if it was
//	                             still ringing, and the caller offered again
//	agent leg listed up, taken   the agent answered while the link was
//	  as ringing                 down (AgentAnswered)
//	caller not listed            gone (LegGone)
//	still greeting               its greeting's end was lost (GreetingOver,
//	                             last, once everything else is applied)
//
// A campaign call this run placed that the PBX took (Placed), not listed
// and not reported ended: its end was lost with the link (CampaignLost).
//
// A listed channel the engine does not know, callers talking in a bridge
// first:
//
//	followed campaign call or   left alone: its events carry it
//	  one being adopted
//	not in the application      the ;2 half of a Local leg, a campaign
//	                            call in AMD or ringing: left alone, but a
//	                            campaign call of an earlier run is followed
//	                            (FollowRinging), or ended unheard at once
//	                            (EndedUnheard) if it ended since the listing
//	a transfer, supervisor or   a leg of a call that is over: hung up
//	  snoop leg, a Snoop/       (HangUpOrphan)
//	an agent leg                kept when it talks in its caller's bridge
//	                            with a live caller (adopted with it); hung
//	                            up otherwise (HangUpOrphan)
//	a call's recording leg      left alone while its call is live
//	a caller                    adopted (Adopt): with its agent when both
//	                            talk in the caller's br-<call> bridge, with
//	                            its call card; Gone when it ended since the
//	                            listing; one in no bridge is adopted after
//	                            Grace unless its StasisStart comes first
//	                            (AdoptLater)
//
// A br-<call> bridge whose call is over (it ended while the link was down,
// or a crash came between the hang-up and the delete) is destroyed
// (DestroyBridge): Asterisk keeps a bridge until it is deleted.
//
// The rest of a link-up is decided here too: which agent phones to follow
// (Subscriptions), which call cards to read (CardsToRead, Card), which
// call-log rows an earlier run left open are closed as ended while down
// (EndedWhileDown). Which recordings the PBX is asked about is package
// recording's (ToAsk).
package reconcile

import (
	"regexp"
	"sort"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Grace is how long a caller found in a listing, but not yet seen in an
// event, waits to be adopted: its StasisStart may be in the event stream
// behind the listing, and then it is taken in the normal way.
const Grace = 2 * time.Second

// ArgAgent is the first Stasis argument of an agent leg Switchboard
// originates (agent, <call id>).
const ArgAgent = "agent"

// Listing is what the PBX has now.
type Listing struct {
	Channels []sb.ChannelInfo
	Bridges  []sb.BridgeInfo
}

// Call is a live call the engine knows, as of the listing.
type Call struct {
	ID sb.CallID
	// Fresh: the call entered after the listing was asked for.
	Fresh bool
	// AgentLeg is the channel of its agent's leg ("" when none);
	// AgentLegFresh when that leg was originated after the listing.
	AgentLeg      sb.ChannelID
	AgentLegFresh bool
	AgentUp       bool // the agent answered
	AgentGone     bool
	CallerGone    bool
	Over          bool
	// Greeting: the caller is still hearing the greeting.
	Greeting bool
	// AgentFirst: an agent-first call (callback, preview) still placing
	// its legs; CustomerPlaced when its customer leg was originated
	// before the listing.
	AgentFirst     bool
	CustomerPlaced bool
}

// Campaign is how the engine follows a campaign call's channel.
type Campaign int

// The ways a campaign call's channel is followed.
const (
	CampaignNone      Campaign = iota
	CampaignAdopting           // an earlier run's call being adopted from its events
	CampaignFollowed           // a call this run follows
	CampaignRinging            // an earlier run's call followed ringing
	CampaignGoneEarly          // an earlier run's call whose end came first
)

// Input is what Make decides on.
type Input struct {
	Listing Listing
	// Calls are the live calls the engine knows.
	Calls []Call
	// Known are the channels the engine has a call or a role for.
	Known map[sb.ChannelID]bool
	// Campaigns are the campaign channels the engine follows.
	Campaigns map[sb.ChannelID]Campaign
	// Placed are campaign calls this run placed that the PBX had taken
	// before the link went down (only after a reconnect).
	Placed []sb.ChannelID
	// Gone are the channels the event stream reported ended since the
	// listing was asked for, with the hang-up cause when one was given.
	Gone map[sb.ChannelID]int
	// Cards are the call cards read off unknown callers (CardsToRead).
	Cards map[sb.ChannelID]Card
	// Agents, to tell whose phone an adopted agent leg is on.
	Agents []sb.Agent
	// Attempt tells the campaign attempt a channel was dialed for.
	Attempt func(sb.ChannelID) (int64, bool)
}

// A Command is one step of a Plan.
type Command interface{ command() }

// HangUp hangs up a leg of a known call.
type HangUp struct {
	Call    sb.CallID
	Channel sb.ChannelID
}

// LegGone applies the end of a known call's leg; First for an
// agent-first call still placing.
type LegGone struct {
	Call    sb.CallID
	Channel sb.ChannelID
	First   bool
}

// AgentAnswered: the call's agent answered while the link was down.
type AgentAnswered struct{ Call sb.CallID }

// GreetingOver: the call's greeting ended while the link was down.
type GreetingOver struct{ Call sb.CallID }

// CampaignLost: a campaign call's end was lost with the link.
type CampaignLost struct{ Channel sb.ChannelID }

// FollowRinging follows an earlier run's campaign call found outside the
// application (ringing, or in AMD) until its end.
type FollowRinging struct{ Channel sb.ChannelID }

// EndedUnheard: an earlier run's campaign call found outside the
// application ended since the listing, with Cause.
type EndedUnheard struct {
	Channel sb.ChannelID
	Cause   int
}

// HangUpOrphan hangs up a channel that belongs to no live call.
type HangUpOrphan struct{ Channel sb.ChannelID }

// Adopt takes over a caller found in the application.
type Adopt struct {
	Channel sb.ChannelInfo
	// Card is what its call card says (zero without one).
	Card Card
	// Gone: it hung up since the listing, with Cause; it is taken up and
	// ended at once, so its call is logged and its agent let go.
	Gone  bool
	Cause int
	// Bridge is its own br-<call> bridge when it is in it.
	Bridge sb.BridgeID
	// AgentLeg and Agent: the agent it talks to in Bridge, if any.
	AgentLeg sb.ChannelID
	Agent    sb.AgentID
	// Bridged is when caller and agent were bridged: the card's, or now.
	Bridged time.Time
	// Attempt is the campaign attempt it was dialed for (0 for an
	// inbound call): closed as answered when it ends if it was talking,
	// else its connect window is long gone and it is hung up abandoned.
	Attempt int64
	// Answer: an inbound caller not answered yet, to answer and route.
	Answer bool
}

// Talking reports whether the caller was talking to an agent.
func (a Adopt) Talking() bool { return a.Bridge != "" && a.AgentLeg != "" }

// AdoptLater carries out Adopt (a caller in no bridge) after Grace unless
// its StasisStart (or a campaign call's events) come first.
type AdoptLater struct{ Adopt Adopt }

// DestroyBridge deletes a call bridge whose call is over.
type DestroyBridge struct{ Bridge sb.BridgeID }

func (HangUp) command()        {}
func (LegGone) command()       {}
func (AgentAnswered) command() {}
func (GreetingOver) command()  {}
func (CampaignLost) command()  {}
func (FollowRinging) command() {}
func (EndedUnheard) command()  {}
func (HangUpOrphan) command()  {}
func (Adopt) command()         {}
func (AdoptLater) command()    {}
func (DestroyBridge) command() {}

// Plan is what a link-up's reconcile does, in order.
type Plan []Command

// ownedLeg matches the ids of legs Switchboard adds to a call other than
// the agent's: transfer targets, supervisors and their snoops.
var ownedLeg = regexp.MustCompile(`-(t|sv|sn)[0-9]+$`)

// BridgeOf is the bridge br-<call> of a call.
func BridgeOf(call sb.CallID) sb.BridgeID { return sb.BridgeID("br-" + string(call)) }

// Make decides what the listing means for the calls the engine knows and
// for the channels and bridges it does not.
func Make(in Input, now time.Time) Plan {
	p := planner{in: in, live: map[sb.ChannelID]sb.ChannelInfo{}, ended: map[sb.ChannelID]bool{},
		bridgeOf: map[sb.ChannelID]sb.BridgeID{}, calls: map[sb.CallID]bool{}, claimed: map[sb.ChannelID]bool{}}
	for _, ch := range in.Listing.Channels {
		if _, gone := in.Gone[ch.ID]; gone {
			p.ended[ch.ID] = true
			continue
		}
		p.live[ch.ID] = ch
	}
	for _, b := range in.Listing.Bridges {
		for _, ch := range b.Channels {
			p.bridgeOf[ch] = b.ID
		}
	}
	for _, k := range in.Calls {
		p.calls[k.ID] = true
	}
	var stalled []sb.CallID
	for _, k := range in.Calls {
		if !k.Fresh && p.known(k) {
			stalled = append(stalled, k.ID)
		}
	}
	p.placed()
	p.unknown(now)
	p.leftBridges()
	for _, id := range stalled {
		p.out = append(p.out, GreetingOver{Call: id})
	}
	return p.out
}

type planner struct {
	in       Input
	out      Plan
	live     map[sb.ChannelID]sb.ChannelInfo // listed and not ended since
	ended    map[sb.ChannelID]bool           // listed, but ended since the listing
	bridgeOf map[sb.ChannelID]sb.BridgeID
	calls    map[sb.CallID]bool    // live calls, adopted ones included
	claimed  map[sb.ChannelID]bool // channels adopted in this plan
}

func (p *planner) isLive(ch sb.ChannelID) bool {
	_, ok := p.live[ch]
	return ok
}

// known plans a known call's legs that vanished while the link was down;
// it reports whether the call is stalled in its greeting.
func (p *planner) known(k Call) (stalled bool) {
	caller := sb.ChannelID(k.ID)
	if k.AgentFirst {
		if !p.isLive(k.AgentLeg) && !k.AgentGone {
			p.out = append(p.out, HangUp{k.ID, k.AgentLeg}, LegGone{k.ID, k.AgentLeg, true})
		}
		if k.CustomerPlaced && !k.CallerGone && !k.Over && !p.isLive(caller) {
			p.out = append(p.out, HangUp{k.ID, caller}, LegGone{k.ID, caller, true})
		}
		return false
	}
	if k.AgentLeg != "" && !k.AgentGone && !k.AgentLegFresh {
		leg, ok := p.live[k.AgentLeg]
		switch {
		case !ok:
			if !k.AgentUp {
				// Its end was lost with the link: make sure it is gone
				// (the caller is offered again).
				p.out = append(p.out, HangUp{k.ID, k.AgentLeg})
			}
			p.out = append(p.out, LegGone{Call: k.ID, Channel: k.AgentLeg})
		case !k.AgentUp && leg.State == sb.ChannelUp:
			p.out = append(p.out, AgentAnswered{k.ID})
		}
		// A leg still ringing goes on; its answer or end will come.
	}
	if !p.isLive(caller) {
		p.out = append(p.out, LegGone{Call: k.ID, Channel: caller})
		return false
	}
	return k.Greeting
}

// placed: campaign calls gone from the listing before a person came, whose
// end was lost with the link. One answered while the link was down was
// hung up by the PBX unheard; the dialplan's record tells (a no answer
// otherwise).
func (p *planner) placed() {
	for _, id := range p.in.Placed {
		if _, gone := p.in.Gone[id]; gone {
			continue // its end is in the event stream
		}
		if _, listed := p.live[id]; listed {
			continue
		}
		p.out = append(p.out, CampaignLost{id})
	}
}

// unknown plans the listed channels the engine does not know: callers are
// adopted (those already talking to an agent first, so their agents are
// not offered other calls), orphaned legs hung up.
func (p *planner) unknown(now time.Time) {
	chans := append([]sb.ChannelInfo(nil), p.in.Listing.Channels...)
	sort.SliceStable(chans, func(i, j int) bool {
		_, bi := p.bridgeOf[chans[i].ID]
		_, bj := p.bridgeOf[chans[j].ID]
		return bi && !bj
	})
	for _, ch := range chans {
		if p.in.Known[ch.ID] || p.claimed[ch.ID] {
			continue
		}
		camp := p.in.Campaigns[ch.ID]
		if camp == CampaignAdopting || camp == CampaignFollowed && ch.InApp {
			continue // a campaign call being adopted, or one this run follows: its events carry it
		}
		if !ch.InApp {
			// The listing also shows what the application is only
			// subscribed to: the ;2 half of a Local leg it originated
			// (Asterisk lists both halves), a campaign call running AMD
			// in the dialplan, a leg still ringing. None is a caller, and
			// each one's own events (or its ;1 half's) tell its fate.
			if _, ok := p.attempt(ch.ID); ok && camp == CampaignNone {
				if p.ended[ch.ID] {
					p.out = append(p.out, EndedUnheard{ch.ID, p.in.Gone[ch.ID]})
				} else {
					p.out = append(p.out, FollowRinging{ch.ID})
				}
			}
			continue
		}
		id := string(ch.ID)
		if ownedLeg.MatchString(id) {
			p.out = append(p.out, HangUpOrphan{ch.ID}) // a transfer, supervisor or snoop leg of a call that is over
			continue
		}
		if caller, ok := AgentLegOf(ch); ok {
			cid := sb.ChannelID(caller)
			if p.isLive(cid) || p.calls[sb.CallID(caller)] {
				if p.bridgeOf[ch.ID] == BridgeOf(sb.CallID(caller)) && p.bridgeOf[cid] == p.bridgeOf[ch.ID] {
					continue // adopted with its caller
				}
			}
			// An agent leg whose call is over or was never bridged: the
			// caller (if still here) is offered again.
			p.out = append(p.out, HangUpOrphan{ch.ID})
			continue
		}
		if p.recorder(id) {
			continue // records one leg of a live call
		}
		if strings.HasPrefix(ch.Name, "Snoop/") {
			p.out = append(p.out, HangUpOrphan{ch.ID})
			continue
		}
		if _, talking := p.bridgeOf[ch.ID]; talking || p.ended[ch.ID] {
			a := p.adopt(ch, now)
			// A caller gone with no agent ends at once: its call is over.
			p.calls[sb.CallID(ch.ID)] = !a.Gone || a.Talking()
			p.out = append(p.out, a)
			continue
		}
		// A caller the listing shows but whose StasisStart may still be
		// on its way: adopt it only if that event does not come first.
		p.out = append(p.out, AdoptLater{p.adopt(ch, now)})
	}
}

// recorder reports whether id is the recording leg (<call>-rs<n>) of a
// live call.
func (p *planner) recorder(id string) bool {
	i := strings.LastIndex(id, "-rs")
	return i > 0 && p.calls[sb.CallID(id[:i])]
}

func (p *planner) attempt(ch sb.ChannelID) (int64, bool) {
	if p.in.Attempt == nil {
		return 0, false
	}
	return p.in.Attempt(ch)
}

// adopt plans the take-over of caller ch, with the agent it talks to in
// its own bridge.
func (p *planner) adopt(ch sb.ChannelInfo, now time.Time) Adopt {
	a := Adopt{Channel: ch, Card: p.in.Cards[ch.ID]}
	if p.ended[ch.ID] {
		a.Gone, a.Cause = true, p.in.Gone[ch.ID]
	}
	p.claimed[ch.ID] = true
	if b, ok := p.bridgeOf[ch.ID]; ok && b == BridgeOf(sb.CallID(ch.ID)) {
		a.Bridge = b
		a.AgentLeg = p.agentIn(b, ch.ID)
	}
	a.Attempt, _ = p.attempt(ch.ID)
	if a.Talking() {
		p.claimed[a.AgentLeg] = true
		a.Agent = AgentOn(p.in.Agents, p.live[a.AgentLeg])
		a.Bridged = a.Card.Bridged
		if a.Bridged.IsZero() {
			a.Bridged = now
		}
	} else {
		a.Answer = !a.Gone && a.Attempt == 0 && ch.State != sb.ChannelUp
	}
	return a
}

// agentIn is the live leg talking to caller in bridge b: its agent leg
// by id or args, else another live channel.
func (p *planner) agentIn(b sb.BridgeID, caller sb.ChannelID) sb.ChannelID {
	var other sb.ChannelID
	for _, br := range p.in.Listing.Bridges {
		if br.ID != b {
			continue
		}
		for _, ch := range br.Channels {
			info, ok := p.live[ch]
			if ch == caller || !ok {
				continue
			}
			if c, ok := AgentLegOf(info); ok && sb.ChannelID(c) == caller {
				return ch
			}
			if other == "" {
				other = ch
			}
		}
	}
	return other
}

// leftBridges plans the delete of call bridges whose call is over (it
// ended while the link was down, or a crash came between the hang-up and
// the delete): Asterisk keeps a bridge until it is deleted, with the
// agent's leg (hung up as an orphan) and a recording in it.
func (p *planner) leftBridges() {
	for _, b := range p.in.Listing.Bridges {
		id, ours := strings.CutPrefix(string(b.ID), "br-")
		if !ours || p.calls[sb.CallID(id)] {
			continue
		}
		p.out = append(p.out, DestroyBridge{b.ID})
	}
}

// AgentLegOf tells whether ch is an agent leg Switchboard originated, and
// for which call: by its Stasis args (agent, <call id>), or by its id
// (<call id>-a<n>) for a listing without args.
func AgentLegOf(ch sb.ChannelInfo) (string, bool) {
	if len(ch.Args) >= 2 && ch.Args[0] == ArgAgent {
		return ch.Args[1], true
	}
	id := string(ch.ID)
	if i := strings.LastIndex(id, "-a"); i > 0 {
		return id[:i], true
	}
	return "", false
}

// AgentOn finds the agent whose phone a channel is on, by the channel
// name's Technology/Resource prefix (PJSIP/1001-00000004); "" when none.
func AgentOn(agents []sb.Agent, ch sb.ChannelInfo) sb.AgentID {
	for _, a := range agents {
		if strings.HasPrefix(strings.ToLower(ch.Name), strings.ToLower(a.Endpoint)+"-") {
			return a.ID
		}
	}
	return ""
}
