package obcall

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/blend"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/routing"
)

// The driver carries campaign calls out. The campaign runner (package
// outbound) decides what to dial and calls Dial; the driver places the
// call and reports what became of it. What a campaign call does next (AMD,
// the machine message, queued first, the connect window, the abandon, the
// outcome) is decided by its machine (Call); the driver maps the PBX's
// events to its events and has its commands carried out:
//
//	originate into the application (args obdial,<attempt>)
//	  destroyed before answer   --> Ended busy|noanswer|invalid|failed (by cause)
//	  answered: continued into Context exten amd (AMD(), then back
//	  in the application with amd,STATUS,CAUSE)
//	  MACHINE                   --> (continued to exten beep: after the greeting)
//	                                machine message (if any), hang up --> Ended machine
//	  HUMAN|NOTSURE             --> Answered; queued first in the campaign's queue
//	    an agent answers within the window --> bridged: Connected ... Ended answered
//	    no agent within the window         --> abandon message, hang up: Ended abandoned
//
// Preview dials (Dial.Agent set) ring the agent first and then the
// customer, like callbacks; the engine pauses the agent (PreviewPauseReason)
// in the router for the length of the call so that no queue call reaches
// him. Once a person is on the line, the call is the engine's (a caller
// queued first, then bridged); it hands the driver the milestones (Apply).

// Context is the dialplan context campaign calls are originated into
// (configs/asterisk/extensions.conf): exten amd runs AMD() first, exten
// direct goes straight to the application.
const Context = "switchboard-outbound"

// Stasis args of campaign calls: obdial, <attempt> when the callee
// answers; amd, STATUS, CAUSE when AMD is over; beep when a machine's
// greeting is over.
const (
	ArgDial = "obdial"
	ArgAMD  = "amd"
	ArgBeep = "beep"
)

// PreviewPauseReason is the router pause reason of an agent on a preview call.
const PreviewPauseReason = "preview"

// Hooks are the campaign runner's hooks (an *outbound.Runner's methods);
// each may be nil.
type Hooks struct {
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

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine (OnLoop, Post and the command functions
// handed to Do and Detached excepted).
type Host interface {
	Logger() *slog.Logger
	Now() time.Time
	Do(call sb.CallID, f func(ctx context.Context))
	Detached(f func(ctx context.Context))
	OnLoop(ctx context.Context, f func() error) error
	HangupOrphan(ch sb.ChannelID)
	// Post runs f on the owner goroutine (from any goroutine); it never
	// blocks.
	Post(f func()) bool
	// After runs f on the owner goroutine d from now, unless stopped.
	After(d time.Duration, f func()) (stop func() bool)
	// Draining reports whether the engine takes no new calls.
	Draining() bool
	// Reconciling reports whether a listing of the PBX's channels is
	// being taken; NoteGone tells it channel ch ended meanwhile.
	Reconciling() bool
	NoteGone(ch sb.ChannelID)
	// Known reports whether ch is a leg of a live call.
	Known(ch sb.ChannelID) bool
	// Enqueue takes the person of line l (its channel ch, the call
	// sb.CallID(ch.ID)) in as a call queued with priority.
	Enqueue(l *Line, ch sb.ChannelInfo, priority int)
	// Abandon ends the person no agent took on call: media plays and it
	// is hung up (unless its end was decided otherwise).
	Abandon(call sb.CallID, media []string)
	// DialPreview pauses the preview agent of l, and places the
	// agent-first call (sb.CallID(l.Dial().Channel)) that rings him.
	DialPreview(l *Line) error
	// AgentReady makes agent ready in the router; Hold pauses him
	// (blend.HoldReason) for a ringing line, or says why not.
	AgentReady(agent sb.AgentID)
	Hold(agent sb.AgentID) error
	// Routing reports whether the router's actions are being carried out
	// (a rebalance then waits for RouterSettled).
	Routing() bool
	// QueueAgents are the agents of a queue's base tier; AgentStates the
	// router's view of each agent (the engine's live map).
	QueueAgents(q sb.QueueName) []sb.AgentID
	AgentStates() map[sb.AgentID]routing.AgentState
}

// PBX is what the driver commands of the PBX.
type PBX interface {
	sb.Calls
	sb.Media
	sb.Variables
	sb.Subscriber
}

// Driver carries the campaign calls of the engine: each line's machine,
// the adoption of lines an earlier run placed, and the agents held for
// the lines ringing. Its methods other than Dial run on the engine's owner
// goroutine.
type Driver struct {
	h      Host
	pbx    PBX
	hooks  Hooks
	window time.Duration
	lines  map[sb.ChannelID]*Line // campaign calls, by channel
	// pending are campaign calls from before a restart being adopted.
	pending map[sb.ChannelID]*pend
	// ringing are campaign calls from before a restart found ringing (or
	// in AMD) at the reconcile: their end is reported to the runner,
	// which adopted their attempts and waits for it.
	ringing map[sb.ChannelID]*pend
	// goneEarly are campaign calls of an earlier run whose end came while
	// the listing was on its way (goneWhileListing): reported.
	goneEarly map[sb.ChannelID]bool
	// held are the agents held (paused blend.HoldReason) for the campaign
	// lines ringing in each queue; dirty asks for a rebalance.
	held      blend.Holds
	dirty     bool
	balancing bool
}

// Line is a campaign call the driver placed (or adopted): its Dial, its
// machine, and what carrying out the machine's commands needs. The engine
// keeps it with the call once a person is on the line.
type Line struct {
	d  outbound.Dial
	m  *Call
	ch sb.ChannelInfo // the channel as it entered the application
	// call is the engine's call, once a person answered ("" before).
	call sb.CallID
	// stop stops the connect-window timer (StartWindow).
	stop func() bool
}

// Dial is what the runner dialed.
func (l *Line) Dial() outbound.Dial { return l.d }

// NewDriver builds the driver; window is the connect window (zero:
// DefaultWindow).
func NewDriver(h Host, pbx PBX, hooks Hooks, window time.Duration) *Driver {
	return &Driver{h: h, pbx: pbx, hooks: hooks, window: window,
		lines: map[sb.ChannelID]*Line{}, pending: map[sb.ChannelID]*pend{}, ringing: map[sb.ChannelID]*pend{},
		goneEarly: map[sb.ChannelID]bool{}, held: blend.Holds{}}
}

// newLine is a campaign call for d, in the machine's first state.
func (d *Driver) newLine(dl outbound.Dial) *Line {
	return &Line{d: dl, m: New(Plan{
		AMD: dl.AMD, MachineMessage: dl.MachineMessage, AbandonMessage: dl.AbandonMessage,
		Window: d.window, Preview: dl.Agent, StoreConnect: d.hooks.Connect != nil,
	})}
}

// Apply applies ev to the line's machine and carries out its commands. A
// line the machine ends is forgotten first.
func (d *Driver) Apply(l *Line, ev Event) {
	cmds := l.m.Apply(ev, d.h.Now())
	if l.m.State() == Ended && d.lines[l.d.Channel] == l {
		delete(d.lines, l.d.Channel)
	}
	for _, cmd := range cmds {
		d.do(l, cmd)
	}
}

// do carries out one command of a line's machine.
func (d *Driver) do(l *Line, cmd Command) {
	ch, dl := l.d.Channel, l.d
	log := d.h.Logger()
	switch cmd := cmd.(type) {
	case ContinueAMD:
		d.line(ch, "campaign call: AMD context refused; hanging up", func(ctx context.Context) error {
			// Subscribed, the hang-up of a callee who leaves during AMD
			// still comes as an event.
			if err := d.pbx.SubscribeChannel(ctx, ch); err != nil {
				log.Warn("campaign call: subscribe", "channel_id", ch, "err", err)
			}
			return d.pbx.Continue(ctx, ch, Context, "amd", 1)
		})
	case ContinueBeep:
		log.Info("campaign call: answering machine", "channel_id", ch, "campaign", dl.Campaign)
		d.line(ch, "campaign call: beep context refused; hanging up", func(ctx context.Context) error {
			return d.pbx.Continue(ctx, ch, Context, "beep", 1)
		})
	case PlayMachineMessage:
		d.line(ch, "machine message", func(ctx context.Context) error {
			return d.pbx.Play(ctx, ch, machinePlayback(ch), cmd.Media...)
		})
	case HangUp:
		d.h.HangupOrphan(ch)
	case Enqueue:
		l.call = sb.CallID(l.ch.ID)
		d.h.Enqueue(l, l.ch, cmd.Priority)
	case StartWindow:
		l.stop = d.h.After(cmd.After, func() { d.Apply(l, WindowFired{}) })
	case StopWindow:
		if l.stop != nil {
			l.stop()
		}
	case Abandon:
		if l.call != "" {
			d.h.Abandon(l.call, cmd.Media)
		}
	case StoreConnect:
		// Stored before the bridge (on the call's executor, ahead of the
		// bridge's commands): the person will talk to this agent.
		if call, connect := l.call, d.hooks.Connect; call != "" && connect != nil {
			attempt := dl.Attempt
			d.h.Do(call, func(ctx context.Context) {
				if err := connect(ctx, attempt, cmd.Agent, cmd.At); err != nil {
					log.Warn("campaign call: storing who takes it failed; bridging all the same", "call_id", call, "attempt", attempt, "err", err)
				}
			})
		}
	case ReadUnattended:
		d.readUnattended(ch, dl.Attempt, func(rec *sb.Unattended) { d.Apply(l, RecordRead{Record: rec}) })
	case ReadyAgent:
		d.h.AgentReady(cmd.Agent)
	case Rebalance:
		if !d.h.Routing() {
			d.rebalance() // the line's held agent goes back, or is held
		} else {
			d.dirty = true
		}
	case ReportAnswered:
		d.report(outbound.Event{Attempt: dl.Attempt, Kind: outbound.Answered, At: cmd.At})
	case ReportConnected:
		d.report(outbound.Event{Attempt: dl.Attempt, Kind: outbound.Connected, At: cmd.At, Agent: cmd.Agent})
	case ReportEnded:
		log.Info("campaign call ended", "channel_id", ch, "campaign", dl.Campaign, "outcome", cmd.Outcome)
		d.report(outbound.Event{Attempt: dl.Attempt, Kind: outbound.Ended, At: cmd.At, Outcome: cmd.Outcome, Unattended: cmd.Unattended})
	default:
		log.Error("campaign call: a command the center does not know", "channel_id", ch, "command", fmt.Sprintf("%T", cmd))
	}
}

// line runs op for a campaign line before a person is on it (no call's
// executor yet); a refusal is logged as msg and the line hung up.
func (d *Driver) line(ch sb.ChannelID, msg string, op func(ctx context.Context) error) {
	d.h.Detached(func(ctx context.Context) {
		if err := op(ctx); err != nil {
			d.h.Logger().Warn(msg, "channel_id", ch, "err", err)
			d.h.HangupOrphan(ch)
		}
	})
}

func (d *Driver) report(e outbound.Event) {
	if d.hooks.Report != nil {
		d.hooks.Report(e)
	}
}

// Dial places a campaign call (outbound.Placer). It returns once the PBX
// took or refused the originate; the rest is reported. It may be called
// from any goroutine.
func (d *Driver) Dial(ctx context.Context, dl outbound.Dial) error {
	if dl.Channel == "" || dl.Endpoint == "" {
		return sb.Errorf(sb.EINVALID, "dial: channel and endpoint are required")
	}
	l := d.newLine(dl)
	err := d.h.OnLoop(ctx, func() error {
		if d.h.Draining() {
			return sb.Errorf(sb.EUNAVAILABLE, "the call center is draining")
		}
		if dl.Agent != "" {
			return d.dialPreview(l)
		}
		if d.lines[dl.Channel] != nil {
			return sb.Errorf(sb.ECONFLICT, "channel %s is already dialing", dl.Channel)
		}
		d.lines[dl.Channel] = l
		d.rebalance()
		return nil
	})
	if err != nil || dl.Agent != "" {
		return err // a preview dial rings the agent first: placed
	}
	// Originated into the application, so that busy and no-answer come
	// as events; on answer the channel is continued into the AMD context,
	// which sends it back with the result.
	vars := LineVars(dl.Campaign, dl.Attempt)
	// Records the call if it is answered while no Switchboard is
	// connected (the dialplan's exten unattended); SB_ABANDON is what a
	// person then hears after AMD (exten nobody).
	vars[outbound.HangupHandlerVar] = outbound.HangupHandler
	vars["SB_ABANDON"] = DialplanSounds(dl.AbandonMessage)
	req := sb.OriginateRequest{
		ID: dl.Channel, Endpoint: dl.Endpoint, CallerID: dl.CallerID, Timeout: dl.RingTime,
		AppArgs: []string{ArgDial, strconv.FormatInt(dl.Attempt, 10)}, Variables: vars,
	}
	if _, err := d.pbx.Originate(ctx, req); err != nil {
		d.h.Post(func() {
			if d.lines[dl.Channel] == l {
				d.Apply(l, OriginateFailed{})
			}
		})
		return err
	}
	d.h.Post(func() { d.Apply(l, Placed{}) })
	return nil
}

// dialPreview places a preview dial: the agent who chose the lead is
// paused in the router, his phone rings, then the customer is dialed.
func (d *Driver) dialPreview(l *Line) error {
	l.call = sb.CallID(l.d.Channel)
	if err := d.h.DialPreview(l); err != nil {
		return err
	}
	d.lines[l.d.Channel] = l
	return nil
}

// Event handles the events of campaign calls before a person is on the
// line; it returns false for the events the engine handles.
func (d *Driver) Event(e sb.Event) bool {
	if pf, ok := e.(sb.PlaybackFinished); ok {
		// The machine message is over: hang up.
		ch, ok := strings.CutSuffix(string(pf.Playback), machineSuffix)
		l := d.lines[sb.ChannelID(ch)]
		if !ok || l == nil {
			return false
		}
		d.Apply(l, MessagePlayed{})
		return true
	}
	if d.pendingEvent(e) || d.ringingEvent(e) {
		return true
	}
	l := d.lines[sb.ChannelOf(e)]
	if l == nil {
		if de, ok := e.(sb.ChannelDestroyed); ok && d.h.Reconciling() {
			return d.goneWhileListing(de)
		}
		return false
	}
	if l.call != "" {
		return false
	}
	switch e := e.(type) {
	case sb.DialResult:
		d.Apply(l, Dialed{Result: e})
	case sb.HangupRequested:
		d.Apply(l, HangupAsked{Request: e})
	case sb.ChannelDestroyed:
		d.Apply(l, Destroyed{Cause: e.Cause})
	}
	return true
}

// machineSuffix ends the playback id of a machine message.
const machineSuffix = "-machine"

func machinePlayback(ch sb.ChannelID) sb.PlaybackID { return sb.PlaybackID(string(ch) + machineSuffix) }

// LeaveMessage: a machine's greeting is over (the dialplan sent the call
// back at its beep, Stasis args beep): the machine message is left; its
// end hangs up.
func (d *Driver) LeaveMessage(ch sb.ChannelID) {
	l := d.lines[ch]
	if l == nil {
		d.h.HangupOrphan(ch)
		return
	}
	d.Apply(l, Beep{})
}

// Entered: a campaign call entered the application, at the answer (args
// obdial, <attempt>: AMD runs in the dialplan and the channel comes back
// with its result or, without AMD, a person is assumed) or back from AMD
// (args amd, STATUS, CAUSE).
func (d *Driver) Entered(ch sb.ChannelInfo, args []string) {
	l := d.lines[ch.ID]
	if l == nil {
		if d.adoptOrphan(ch, args) {
			return // placed before a restart: carried on once its Dial is known
		}
		// Placed before a restart and no Dial to carry it on with: it is
		// hung up; a person reached and not put through is an abandoned
		// call.
		d.unadopted(ch.ID, args)
		return
	}
	l.ch = ch
	if fromAMD(args) {
		d.Apply(l, AMDResult{Status: args[1]})
	} else {
		d.Apply(l, Entered{})
	}
}

// fromAMD reports whether Stasis args are a call's back from AMD (amd,
// STATUS, CAUSE).
func fromAMD(args []string) bool { return len(args) >= 2 && args[0] == ArgAMD }

// amdStatus is AMD's verdict in the Stasis args of a call back from AMD,
// "" for any other args.
func amdStatus(args []string) string {
	if fromAMD(args) {
		return args[1]
	}
	return ""
}

// AgentChanged: the router's state of an agent changed: the holds are
// counted again once the router's actions are carried out.
func (d *Driver) AgentChanged() {
	if len(d.lines) > 0 || len(d.held) > 0 {
		d.dirty = true // an agent to hold, or a hold ended
	}
}

// RouterSettled: the router's actions are carried out; a rebalance asked
// for meanwhile runs now.
func (d *Driver) RouterSettled() {
	if d.dirty {
		d.rebalance()
	}
}

// rebalance holds as many available agents of each campaign queue as it
// has lines ringing (or in AMD), and releases the others (blend.Holds.Next
// picks each move).
func (d *Driver) rebalance() {
	d.dirty = false
	if d.balancing {
		return
	}
	d.balancing = true
	defer func() { d.balancing = false }()
	want := map[sb.QueueName]int{}
	for _, l := range d.lines {
		if l.m.WantsAgent() {
			want[sb.QueueName(l.d.Queue)]++
		}
	}
	states := d.h.AgentStates()
	d.held.Prune(states)
	refused := map[sb.AgentID]bool{}
	for {
		mv, ok := d.held.Next(want, d.h.QueueAgents, states, refused)
		if !ok {
			return
		}
		if !mv.Hold {
			d.held.Done(mv)
			d.h.AgentReady(mv.Agent)
			continue
		}
		if d.h.Hold(mv.Agent) == nil {
			d.held.Done(mv)
		} else {
			refused[mv.Agent] = true
		}
	}
}
