package center

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/campaign/blend"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/routing"
)

// Outbound campaign calls. The campaign runner (package outbound) decides
// what to dial and calls Dial; the center places the call and reports
// what became of it. What a campaign call does next (AMD, the machine
// message, queued first, the connect window, the abandon, the outcome) is
// decided by its state machine (obcall.Call); the center maps the PBX's
// events to its events and carries out its commands:
//
//	originate into the application (args obdial,<attempt>)
//	  destroyed before answer   --> Ended busy|noanswer|invalid|failed (by cause)
//	  answered: continued into OutboundContext exten amd (AMD(), then back
//	  in the application with amd,STATUS,CAUSE)
//	  MACHINE                   --> (continued to exten beep: after the greeting)
//	                                machine message (if any), hang up --> Ended machine
//	  HUMAN|NOTSURE             --> Answered; queued first in the campaign's queue
//	    an agent answers within ConnectWindow --> bridged: Connected ... Ended answered
//	    no agent within ConnectWindow         --> abandon message, hang up: Ended abandoned
//
// Preview dials (Dial.Agent set) ring the agent first and then the
// customer, like callbacks; the agent is paused ("preview") in the router
// for the length of the call so that no queue call reaches him.

// OutboundContext is the dialplan context campaign calls are originated
// into (configs/asterisk/extensions.conf): exten amd runs AMD() first,
// exten direct goes straight to the application.
const OutboundContext = "switchboard-outbound"

// Stasis args of campaign calls: obdial, <attempt> when the callee
// answers; amd, STATUS, CAUSE when AMD is over.
const (
	argOBDial = "obdial"
	argAMD    = "amd"
	argBeep   = "beep" // beep: a machine's greeting is over
)

// ConnectWindow is how long an answered campaign call may wait for an
// agent before it is abandoned (the 2-second rule).
const ConnectWindow = obcall.DefaultWindow

// OutboundPriority queues answered campaign calls ahead of every inbound
// caller: each second they wait counts against the abandon limit.
const OutboundPriority = obcall.FirstPriority

// PreviewPauseReason is the router pause reason of an agent on a preview call.
const PreviewPauseReason = "preview"

// HoldReason is the router pause reason of an agent held for a campaign
// line that is ringing: agents who also take inbound calls (blended) are
// kept from inbound callers while the lines the dialer placed for them
// may still be answered. Held agents count as ready for the pacer; when a
// person answers, the call is queued first and then a held agent is
// released, so the router gives it to that call.
const HoldReason = blend.HoldReason

// obCall is a campaign call the center placed (or adopted): its Dial,
// its state machine, and what carrying out the machine's commands needs.
type obCall struct {
	d  outbound.Dial
	m  *obcall.Call
	ch sb.ChannelInfo // the channel as it entered the application
	k  *call          // the call, once a person answered
	// stop stops the connect-window timer (obcall.StartWindow).
	stop func() bool
}

// newOB is a campaign call for d, in the machine's first state.
func (c *Center) newOB(d outbound.Dial) *obCall {
	return &obCall{d: d, m: obcall.New(obcall.Plan{
		AMD: d.AMD, MachineMessage: d.MachineMessage, AbandonMessage: d.AbandonMessage,
		Window: c.cfg.ConnectWindow, Preview: d.Agent, StoreConnect: c.obConnect != nil,
	})}
}

// obApply applies ev to the campaign call's machine and carries out its
// commands. A call the machine ends is forgotten first.
func (c *Center) obApply(ob *obCall, ev obcall.Event) {
	cmds := ob.m.Apply(ev, c.clock.Now())
	if ob.m.State() == obcall.Ended && c.ob[ob.d.Channel] == ob {
		delete(c.ob, ob.d.Channel)
	}
	for _, cmd := range cmds {
		c.obDo(ob, cmd)
	}
}

// obDo carries out one command of a campaign call's machine.
func (c *Center) obDo(ob *obCall, cmd obcall.Command) {
	ch, d := ob.d.Channel, ob.d
	switch cmd := cmd.(type) {
	case obcall.ContinueAMD:
		c.obLine(ch, "campaign call: AMD context refused; hanging up", func(ctx context.Context) error {
			// Subscribed, the hang-up of a callee who leaves during AMD
			// still comes as an event.
			if err := c.pbx.SubscribeChannel(ctx, ch); err != nil {
				c.log.Warn("campaign call: subscribe", "channel_id", ch, "err", err)
			}
			return c.pbx.Continue(ctx, ch, OutboundContext, "amd", 1)
		})
	case obcall.ContinueBeep:
		c.log.Info("campaign call: answering machine", "channel_id", ch, "campaign", d.Campaign)
		c.obLine(ch, "campaign call: beep context refused; hanging up", func(ctx context.Context) error {
			return c.pbx.Continue(ctx, ch, OutboundContext, "beep", 1)
		})
	case obcall.PlayMachineMessage:
		c.obLine(ch, "machine message", func(ctx context.Context) error {
			return c.pbx.Play(ctx, ch, machinePlayback(ch), cmd.Media...)
		})
	case obcall.HangUp:
		c.hangupOrphan(ch)
	case obcall.Enqueue:
		c.obEnqueue(ob, cmd.Priority)
	case obcall.StartWindow:
		ob.stop = c.after(cmd.After, func() { c.obApply(ob, obcall.WindowFired{}) })
	case obcall.StopWindow:
		if ob.stop != nil {
			ob.stop()
		}
	case obcall.Abandon:
		c.obAbandonPerson(ob.k, cmd.Media)
	case obcall.StoreConnect:
		// Stored before the bridge (on the call's executor, ahead of the
		// bridge's commands): the person will talk to this agent.
		if k := ob.k; k != nil && c.obConnect != nil {
			attempt := d.Attempt
			c.do(k, func(ctx context.Context) {
				if err := c.obConnect(ctx, attempt, cmd.Agent, cmd.At); err != nil {
					c.log.Warn("campaign call: storing who takes it failed; bridging all the same", "call_id", k.ID, "attempt", attempt, "err", err)
				}
			})
		}
	case obcall.ReadUnattended:
		c.readUnattended(ch, d.Attempt, func(rec *sb.Unattended) { c.obApply(ob, obcall.RecordRead{Record: rec}) })
	case obcall.ReadyAgent:
		c.acdApply(routing.AgentReady{Agent: cmd.Agent})
	case obcall.Rebalance:
		if !c.acd.applying {
			c.obRebalance() // the line's held agent goes back, or is held
		} else {
			c.obDirty = true
		}
	case obcall.ReportAnswered:
		c.obReportEvent(outbound.Event{Attempt: d.Attempt, Kind: outbound.Answered, At: cmd.At})
	case obcall.ReportConnected:
		c.obReportEvent(outbound.Event{Attempt: d.Attempt, Kind: outbound.Connected, At: cmd.At, Agent: cmd.Agent})
	case obcall.ReportEnded:
		c.log.Info("campaign call ended", "channel_id", ch, "campaign", d.Campaign, "outcome", cmd.Outcome)
		c.obReportEvent(outbound.Event{Attempt: d.Attempt, Kind: outbound.Ended, At: cmd.At, Outcome: cmd.Outcome, Unattended: cmd.Unattended})
	default:
		c.log.Error("campaign call: a command the center does not know", "channel_id", ch, "command", fmt.Sprintf("%T", cmd))
	}
}

// obLine runs op for a campaign line before a person is on it (no call's
// executor yet); a refusal is logged as msg and the line hung up.
func (c *Center) obLine(ch sb.ChannelID, msg string, op func(ctx context.Context) error) {
	c.detached(func(ctx context.Context) {
		if err := op(ctx); err != nil {
			c.log.Warn(msg, "channel_id", ch, "err", err)
			c.hangupOrphan(ch)
		}
	})
}

func (c *Center) obReportEvent(e outbound.Event) {
	if c.obReport != nil {
		c.obReport(e)
	}
}

// Campaigns are the campaign runner's hooks in the center (an
// *outbound.Runner's methods); each may be nil.
type Campaigns struct {
	// Report gets the reports of campaign calls (Runner.Report).
	Report func(outbound.Event)
	// Adopt looks up the Dial of a campaign call an earlier run placed
	// (Runner.AdoptedDial): one that answers, or comes back from AMD,
	// after a restart is then carried on instead of hung up.
	Adopt func(ctx context.Context, attempt int64) (outbound.Dial, error)
	// Connect stores who takes a campaign call before its person and
	// agent are bridged (Runner.Connect), so that a crash from then on can
	// never close the attempt as abandoned and dial again a lead who
	// talked.
	Connect func(ctx context.Context, attempt int64, agent sb.AgentID, at time.Time) error
}

// obPend is a campaign call from before a restart whose Dial is being
// looked up; it notes a hang-up that comes meanwhile.
type obPend struct {
	gone      bool
	causes    sb.LegCause
	destroyed int
}

// obAdoptOrphan looks up the Dial of a campaign call an earlier run placed
// and, once known, carries the call on where it is (answered: AMD or a
// person; back from AMD: its result). It reports false when there is
// nothing to look up (no adopter, or not a campaign channel).
func (c *Center) obAdoptOrphan(ch sb.ChannelInfo, args []string) bool {
	attempt, ok := outbound.AttemptOf(ch.ID)
	if !ok || c.obAdopter == nil {
		return false
	}
	if c.obPending[ch.ID] != nil {
		return true
	}
	p := &obPend{}
	c.obPending[ch.ID] = p
	c.detached(func(ctx context.Context) {
		d, err := c.obAdopter(ctx, attempt)
		c.post(func() {
			delete(c.obPending, ch.ID)
			if err != nil || c.draining {
				c.log.Warn("campaign call from before a restart not adopted; hanging up", "channel_id", ch.ID, "err", err)
				c.obUnadopted(ch.ID, args)
				return
			}
			ob := c.newOB(d)
			c.ob[ch.ID] = ob
			c.obApply(ob, obcall.Resumed{Causes: p.causes, Gone: p.gone, Destroyed: p.destroyed})
			if ob.m.State() == obcall.Ended {
				c.log.Info("campaign call from before a restart ended before a person came", "channel_id", ch.ID)
				return
			}
			c.log.Info("campaign call from before a restart adopted", "channel_id", ch.ID, "campaign", d.Campaign, "attempt", attempt)
			c.obEntered(ch, args)
		})
	})
	return true
}

// obUnadopted hangs up a campaign call an earlier run placed that nothing
// carries on (its Dial unknown) and reports its end: a person reached and
// not put through is abandoned (obcall.UnadoptedOutcome).
func (c *Center) obUnadopted(ch sb.ChannelID, args []string) {
	c.obOrphanEnded(ch, obcall.UnadoptedOutcome(amdStatus(args)), nil)
	c.hangupOrphan(ch)
}

// fromAMD reports whether Stasis args are a call's back from AMD (amd,
// STATUS, CAUSE).
func fromAMD(args []string) bool { return len(args) >= 2 && args[0] == argAMD }

// amdStatus is AMD's verdict in the Stasis args of a call back from AMD,
// "" for any other args.
func amdStatus(args []string) string {
	if fromAMD(args) {
		return args[1]
	}
	return ""
}

// obPendingEvent notes the hang-up of a campaign call whose adoption is
// being looked up; it reports whether e was such a call's.
func (c *Center) obPendingEvent(e sb.Event) bool {
	p := c.obPending[sb.ChannelOf(e)]
	if p == nil {
		return false
	}
	switch e := e.(type) {
	case sb.DialResult, sb.HangupRequested:
		p.causes.Note(e)
		p.gone = true
	case sb.ChannelDestroyed:
		p.gone, p.destroyed = true, e.Cause
	}
	return true
}

// readUnattended reads the dialplan's record of a campaign call gone
// before any person was put through, when that end may hide an answer
// nobody took: Asterisk hangs up a call answered while the application is
// not registered (a restart, a dropped link), and the dialplan's hangup
// handler records it (outbound.ReadUnattended). then gets the record (nil:
// none, or it could not be read) on the owner goroutine.
func (c *Center) readUnattended(ch sb.ChannelID, attempt int64, then func(rec *sb.Unattended)) {
	c.detached(func(ctx context.Context) {
		u, found, err := outbound.ReadUnattended(ctx, c.pbx, attempt)
		if err != nil {
			c.log.Warn("campaign call: reading the dialplan's record failed; its attempt closes by its cause", "channel_id", ch, "err", err)
		}
		c.post(func() {
			var rec *sb.Unattended
			if found {
				rec = &u
				c.log.Info("campaign call answered while no Switchboard took it", "channel_id", ch)
			}
			then(rec)
		})
	})
}

// obEndedUnheard reports the end of a campaign call an earlier run placed
// that ended before any person was put through: with the dialplan's record
// it is abandoned (or a machine) with its call-log row; without one it
// ends with outcome o.
func (c *Center) obEndedUnheard(ch sb.ChannelID, o sb.DialOutcome) {
	attempt, ok := outbound.AttemptOf(ch)
	if !ok {
		return
	}
	c.readUnattended(ch, attempt, func(rec *sb.Unattended) {
		c.obOrphanEnded(ch, obcall.UnattendedOutcome(rec, o), rec)
	})
}

// Dial places a campaign call (outbound.Placer). It returns once the PBX
// took or refused the originate; the rest is reported.
func (c *Center) Dial(ctx context.Context, d outbound.Dial) error {
	if d.Channel == "" || d.Endpoint == "" {
		return sb.Errorf(sb.EINVALID, "dial: channel and endpoint are required")
	}
	ob := c.newOB(d)
	err := c.onLoop(ctx, func() error {
		if c.draining {
			return sb.Errorf(sb.EUNAVAILABLE, "the call center is draining")
		}
		if d.Agent != "" {
			return c.dialPreview(ob)
		}
		if c.ob[d.Channel] != nil {
			return sb.Errorf(sb.ECONFLICT, "channel %s is already dialing", d.Channel)
		}
		c.ob[d.Channel] = ob
		c.obRebalance()
		return nil
	})
	if err != nil || d.Agent != "" {
		return err // a preview dial rings the agent first: placed
	}
	// Originated into the application, so that busy and no-answer come
	// as events; on answer the channel is continued into the AMD context,
	// which sends it back with the result.
	vars := obcall.LineVars(d.Campaign, d.Attempt)
	// Records the call if it is answered while no Switchboard is
	// connected (the dialplan's exten unattended); SB_ABANDON is what a
	// person then hears after AMD (exten nobody).
	vars[outbound.HangupHandlerVar] = outbound.HangupHandler
	vars["SB_ABANDON"] = obcall.DialplanSounds(d.AbandonMessage)
	req := sb.OriginateRequest{
		ID: d.Channel, Endpoint: d.Endpoint, CallerID: d.CallerID, Timeout: d.RingTime,
		AppArgs: []string{argOBDial, strconv.FormatInt(d.Attempt, 10)}, Variables: vars,
	}
	if _, err := c.pbx.Originate(ctx, req); err != nil {
		c.post(func() {
			if c.ob[d.Channel] == ob {
				c.obApply(ob, obcall.OriginateFailed{})
			}
		})
		return err
	}
	c.post(func() { c.obApply(ob, obcall.Placed{}) })
	return nil
}

// obEvent handles the events of campaign calls before a person is on
// the line; it returns false for the events the skeleton handles.
func (c *Center) obEvent(e sb.Event) bool {
	if pf, ok := e.(sb.PlaybackFinished); ok {
		// The machine message is over: hang up.
		ch, ok := strings.CutSuffix(string(pf.Playback), machineSuffix)
		ob := c.ob[sb.ChannelID(ch)]
		if !ok || ob == nil {
			return false
		}
		c.obApply(ob, obcall.MessagePlayed{})
		return true
	}
	if c.obPendingEvent(e) || c.obRingingEvent(e) {
		return true
	}
	ob := c.ob[sb.ChannelOf(e)]
	if ob == nil {
		if d, ok := e.(sb.ChannelDestroyed); ok && c.reconciling > 0 {
			return c.obGoneWhileListing(d)
		}
		return false
	}
	if ob.k != nil {
		return false
	}
	switch e := e.(type) {
	case sb.DialResult:
		c.obApply(ob, obcall.Dialed{Result: e})
	case sb.HangupRequested:
		c.obApply(ob, obcall.HangupAsked{Request: e})
	case sb.ChannelDestroyed:
		c.obApply(ob, obcall.Destroyed{Cause: e.Cause})
	}
	return true
}

// obGoneWhileListing reports the end of a campaign call an earlier run
// placed that ends while the PBX's channels are being listed after a
// start: the runner may have found it live and adopted its attempt, and
// the listing may come too late to show it, so nobody else would report
// it. It reports whether d was such a call's.
func (c *Center) obGoneWhileListing(d sb.ChannelDestroyed) bool {
	id := d.Channel.ID
	if _, ok := outbound.AttemptOf(id); !ok || c.byChannel[id] != nil || c.obPending[id] != nil || c.obRinging[id] != nil {
		return false
	}
	c.noteGone(id)
	c.obGoneEarly[id] = true
	c.obEndedUnheard(id, campaign.OutcomeOfCause(d.Cause))
	return true
}

// obRingingEvent follows a campaign call from before a restart that the
// reconcile found ringing or in AMD: a dial result or hang-up request
// notes its cause, its end is reported to the runner with the outcome the
// cause says; once it enters the application (answered, or back from
// AMD) it is no longer followed here: obEntered adopts it.
// It reports whether e was such a call's.
func (c *Center) obRingingEvent(e sb.Event) bool {
	id := sb.ChannelOf(e)
	p := c.obRinging[id]
	if p == nil {
		return false
	}
	if c.ob[id] != nil || c.obPending[id] != nil {
		delete(c.obRinging, id) // carried on by the adoption
		return false
	}
	switch e := e.(type) {
	case sb.DialResult, sb.HangupRequested:
		p.causes.Note(e)
	case sb.ChannelDestroyed:
		delete(c.obRinging, id)
		c.obEndedUnheard(id, campaign.OutcomeOfCause(p.causes.At(e.Cause)))
	}
	return true
}

// obOrphanEnded reports the end of a campaign call no Dial of this run
// placed (it was placed before a restart), with the dialplan's record u of
// a call answered while no Switchboard was connected (nil: none): the
// runner adopted its open attempt when it started and waits for this
// report to close it.
func (c *Center) obOrphanEnded(ch sb.ChannelID, o sb.DialOutcome, u *sb.Unattended) {
	attempt, ok := outbound.AttemptOf(ch)
	if !ok || c.obReport == nil {
		return
	}
	c.log.Info("campaign call from before a restart ended", "channel_id", ch, "outcome", o)
	c.obReport(outbound.Event{Attempt: attempt, Kind: outbound.Ended, At: c.clock.Now(), Outcome: o, Unattended: u})
}

// machineSuffix ends the playback id of a machine message.
const machineSuffix = "-machine"

func machinePlayback(ch sb.ChannelID) sb.PlaybackID { return sb.PlaybackID(string(ch) + machineSuffix) }

// obLeaveMessage: a machine's greeting is over (the dialplan sent the
// call back at its beep): the machine message is left; its end hangs up.
func (c *Center) obLeaveMessage(ch sb.ChannelID) {
	ob := c.ob[ch]
	if ob == nil {
		c.hangupOrphan(ch)
		return
	}
	c.obApply(ob, obcall.Beep{})
}

// obEntered: a campaign call entered the application, at the answer
// (args obdial, <attempt>: AMD runs in the dialplan and the channel comes
// back with its result or, without AMD, a person is assumed) or back from
// AMD (args amd, STATUS, CAUSE).
func (c *Center) obEntered(ch sb.ChannelInfo, args []string) {
	ob := c.ob[ch.ID]
	if ob == nil {
		if c.obAdoptOrphan(ch, args) {
			return // placed before a restart: carried on once its Dial is known
		}
		// Placed before a restart and no Dial to carry it on with: it is
		// hung up; a person reached and not put through is an abandoned
		// call.
		c.obUnadopted(ch.ID, args)
		return
	}
	ob.ch = ch
	if fromAMD(args) {
		c.obApply(ob, obcall.AMDResult{Status: args[1]})
	} else {
		c.obApply(ob, obcall.Entered{})
	}
}

// obEnqueue takes a campaign call's person in as a call queued first in
// the campaign's queue (obcall.Enqueue).
func (c *Center) obEnqueue(ob *obCall, priority int) {
	d := ob.d
	now := c.clock.Now()
	k := c.newCall(ob.ch, now)
	k.Caller, k.Called = d.Lead.Number, "campaign:"+d.Campaign
	k.Answered = now
	k.Queue = sb.QueueName(d.Queue)
	k.priority = priority
	c.life(k, lifecycle.Queue{})
	k.ob = ob
	ob.k = k
	c.journal(k)
	c.log.Info("campaign call: a person answered", "call_id", k.ID, "campaign", d.Campaign)
	c.acdCall(k)
	c.life(k, lifecycle.Enqueued{})
	k.State = sb.CallPrompting
	c.acdEnqueue(k, "")
}

// obAbandonPerson ends a person no agent took (obcall.Abandon): the
// campaign's message plays and the call is hung up. A call whose end was
// decided otherwise (a failure) ends that way.
func (c *Center) obAbandonPerson(k *call, media []string) {
	if k == nil || k.life.Over() || k.life.Decided() {
		return
	}
	c.log.Info("campaign call abandoned: no agent within the connect window", "call_id", k.ID, "campaign", k.ob.d.Campaign)
	c.life(k, lifecycle.Decide{Outcome: sb.OutcomeAbandoned, By: lifecycle.BySystem})
	if c.acd.calls[k.ID] != nil {
		c.life(k, lifecycle.GiveUpQueue{})
	}
	c.life(k, lifecycle.SayAndHangUp{What: "noagent", Media: media})
}

// dialPreview places a preview dial: the agent who chose the lead is
// paused in the router, his phone rings, then the customer is dialed.
func (c *Center) dialPreview(ob *obCall) error {
	d := ob.d
	cfg, ok := c.router.Agent(d.Agent)
	if !ok || cfg.Endpoint == "" {
		return sb.Errorf(sb.ENOTFOUND, "agent %s has no phone", d.Agent)
	}
	m := routing.AgentPause{Agent: d.Agent, Reason: PreviewPauseReason}
	if err := ignored(c.acdApply(m), m); err != nil {
		return err
	}
	k := c.newFirstCall(sb.Call{ID: sb.CallID(d.Channel), Caller: d.Lead.Number, Called: "campaign:" + d.Campaign,
		Queue: sb.QueueName(d.Queue), Agent: d.Agent}, &agentFirst{number: d.Lead.Number, endpoint: d.Endpoint, ob: ob})
	k.ob, ob.k = ob, k
	c.ob[d.Channel] = ob
	c.firstRingAgent(k, cfg.Endpoint, fmt.Sprintf("%q <%s>", "Preview "+d.Campaign, d.Lead.Number))
	return nil
}

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

// obRebalance holds as many available agents of each campaign queue as it
// has lines ringing (or in AMD), and releases the others (blend.Holds.Next
// picks each move).
func (c *Center) obRebalance() {
	c.obDirty = false
	if c.obBalancing {
		return
	}
	c.obBalancing = true
	defer func() { c.obBalancing = false }()
	want := map[sb.QueueName]int{}
	for _, ob := range c.ob {
		if ob.m.WantsAgent() {
			want[sb.QueueName(ob.d.Queue)]++
		}
	}
	held := blend.Holds(c.obHeld) // the same map
	held.Prune(c.acd.states)
	refused := map[sb.AgentID]bool{}
	for {
		mv, ok := held.Next(want, c.queueAgents, c.acd.states, refused)
		if !ok {
			return
		}
		if !mv.Hold {
			held.Done(mv)
			c.acdApply(routing.AgentReady{Agent: mv.Agent})
			continue
		}
		m := routing.AgentPause{Agent: mv.Agent, Reason: HoldReason}
		if ignored(c.acdApply(m), m) == nil {
			held.Done(mv)
		} else {
			refused[mv.Agent] = true
		}
	}
}
