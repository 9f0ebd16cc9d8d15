package ivr

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// The engine side of the IVR: Driver keeps each call's Session, carries out
// the commands Step returns through the engine's Host, and feeds back what
// the PBX reports (prompts played, keys, recordings, transfers, timers).

// FlowSource gives the flow set new calls enter on (hot reload swaps it).
type FlowSource interface {
	Current() *Set
}

// VoicemailStore keeps voicemail messages.
type VoicemailStore interface {
	InsertVoicemail(ctx context.Context, v *sb.Voicemail) error
}

// Lookuper runs a flow's lookup node (the request its LookupCmd describes,
// within ctx) and returns the answer for the flow.
type Lookuper interface {
	Lookup(ctx context.Context, cmd LookupCmd) LookupDone
}

// Note tells an observer (the `ivr test` tool, tests) what a call's flow
// is doing.
type Note struct {
	Call      sb.CallID
	Caller    string
	Flow      string
	Node      string
	WantsKeys bool // a menu or gather prompt started: the caller may press keys now
	Done      bool // the flow is over
	Path      Path
}

// DriverOptions are what the driver runs flows with. Zero fields disable
// what they serve: without Flows no call runs a flow.
type DriverOptions struct {
	Flows     FlowSource
	Routes    []Route
	Calendars Calendars
	Location  *time.Location // for hour, weekday, date in expressions (default UTC)
	Voicemail VoicemailStore
	Lookup    Lookuper // runs lookup nodes; nil: they fail
	Observer  func(Note)
}

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine (Post and the functions handed to Do and
// Spawn excepted).
type Host interface {
	Logger() *slog.Logger
	Now() time.Time
	// After runs f on the owner goroutine once d has passed.
	After(d time.Duration, f func()) (stop func() bool)
	Do(call sb.CallID, f func(ctx context.Context))
	Post(f func()) bool
	// Spawn runs f off the owner goroutine with the engine's run context
	// (Run waits for it).
	Spawn(f func(ctx context.Context))
	// Persist writes to the database off the owner goroutine, retrying
	// briefly; failed runs if it never lands.
	Persist(write func(ctx context.Context) error, failed func(error))
	// Stepped: the call's flow took an input and is at node (flow/node).
	Stepped(call sb.CallID, node string)
	// FlowOver: the call's flow ended with these variables.
	FlowOver(call sb.CallID, vars map[string]string)
	// FlowQueue: the flow queues the call.
	FlowQueue(call sb.CallID, cmd QueueCmd)
	// FlowTransfer: the flow transfers the call (TransferDone follows).
	FlowTransfer(call sb.CallID, cmd TransferCmd)
	// FlowHangup: the flow hangs up (voicemail: it left a message).
	FlowHangup(call sb.CallID, voicemail bool)
	// VoicemailKept: a message being recorded when the caller hung up is
	// kept.
	VoicemailKept(call sb.CallID)
}

// PBX is what the driver commands of the PBX.
type PBX interface {
	sb.Media
	SetVariable(ctx context.Context, ch sb.ChannelID, name, value string) error
	RecordChannel(ctx context.Context, ch sb.ChannelID, req sb.RecordRequest) error
}

// Driver runs the calls' flows. Its methods run on the engine's owner
// goroutine.
type Driver struct {
	h     Host
	pbx   PBX
	o     DriverOptions
	calls map[sb.CallID]*flowCall
	plays map[sb.PlaybackID]sb.CallID // prompts of flows, by PBX playback id
	recs  map[string]sb.CallID        // flow recordings, by PBX name
	late  map[string]*lateVM          // messages whose caller left while recording
}

// flowCall is a call's part in the IVR.
type flowCall struct {
	sess       *Session
	set        *Set
	caller     string
	playbacks  map[sb.PlaybackID]string // PBX playback id -> flow playback id
	recordings map[string]string        // PBX recording name -> flow recording name
	timers     map[string]func() bool
	lang       string
	transfer   string // token of the transfer being tried
	voicemail  bool   // a message was left
	nextID     int
	// messages being recorded, by PBX recording name: if the caller hangs
	// up while recording (the usual way to end a message) it is kept.
	recordingVM map[string]*lateVM
	// prevPath is the flow path before a queue exit sent the call to
	// another flow; pathOffset the seconds from the first flow's start to
	// the second's.
	prevPath   *Path
	pathOffset float64
}

// lateVM is a voicemail message whose recording ends after its caller left.
type lateVM struct {
	vm      sb.Voicemail
	min     time.Duration
	started time.Time
}

// NewDriver builds the driver.
func NewDriver(h Host, pbx PBX, o DriverOptions) *Driver {
	if o.Location == nil {
		o.Location = time.UTC
	}
	return &Driver{h: h, pbx: pbx, o: o, calls: map[sb.CallID]*flowCall{}, plays: map[sb.PlaybackID]sb.CallID{},
		recs: map[string]sb.CallID{}, late: map[string]*lateVM{}}
}

// SetRoutes replaces the routes new calls take.
func (d *Driver) SetRoutes(routes []Route) { d.o.Routes = routes }

// Has reports whether call runs (or ran) a flow.
func (d *Driver) Has(call sb.CallID) bool { return d.calls[call] != nil }

// Vars are the flow variables of call (nil: it runs no flow).
func (d *Driver) Vars(call sb.CallID) map[string]string {
	if v := d.calls[call]; v != nil {
		return v.sess.Vars()
	}
	return nil
}

// Start puts an answered call into its flow (FlowFor picks it in the
// current flow set): entering runs, then the flow begins and gets the keys
// pressed before (early). It reports false when no flow routes the call.
func (d *Driver) Start(call sb.CallID, caller, dnis string, early []string, entering func()) bool {
	if d.o.Flows == nil {
		return false
	}
	set := d.o.Flows.Current()
	if set == nil {
		return false
	}
	flow := FlowFor(d.o.Routes, dnis, d.o.Calendars, d.h.Now())
	if flow == "" {
		return false
	}
	sess, err := NewSession(set, flow, d.o.Calendars, d.o.Location)
	if err != nil {
		d.h.Logger().Error("cannot start flow; the call goes to an agent", "call_id", call, "flow", flow, "err", err)
		return false
	}
	d.calls[call] = newFlowCall(sess, set, caller)
	entering()
	d.h.Logger().Info("call in flow", "call_id", call, "flow", flow, "version", set.Version)
	d.Feed(call, Begin{Caller: caller, DNIS: dnis})
	for _, k := range early {
		d.Feed(call, Digit{Key: k})
	}
	return true
}

func newFlowCall(sess *Session, set *Set, caller string) *flowCall {
	return &flowCall{sess: sess, set: set, caller: caller, playbacks: map[sb.PlaybackID]string{},
		recordings: map[string]string{}, timers: map[string]func() bool{}, recordingVM: map[string]*lateVM{}}
}

// ExitTo sends a caller who left a queue into flow, with the variables its
// first flow set; the path goes on from where the first flow ended
// (answered is when the call was answered: the first flow's start);
// entering runs before the flow begins. An error says flow is no flow; the
// call is then left as it was.
func (d *Driver) ExitTo(call sb.CallID, flow, caller, dnis string, answered time.Time, entering func()) error {
	old := d.calls[call]
	var set *Set
	vars := map[string]string{}
	if old != nil {
		set, vars = old.set, old.sess.Vars()
	} else if d.o.Flows != nil {
		set = d.o.Flows.Current()
	}
	sess, err := NewSession(set, flow, d.o.Calendars, d.o.Location)
	if err != nil {
		return err
	}
	v := newFlowCall(sess, set, caller)
	if old != nil {
		p := old.path()
		v.prevPath = &p
		for tok, stop := range old.timers {
			stop()
			delete(old.timers, tok)
		}
	}
	v.pathOffset = d.h.Now().Sub(answered).Seconds()
	d.calls[call] = v
	entering()
	d.h.Logger().Info("call in flow", "call_id", call, "flow", flow, "version", set.Version, "after", "queue exit")
	d.Feed(call, Begin{Caller: caller, DNIS: dnis, Vars: vars})
	return nil
}

// Feed gives the call's flow an input and carries out what it asks.
func (d *Driver) Feed(call sb.CallID, in Input) {
	v := d.calls[call]
	if v == nil || v.sess.Done() {
		return
	}
	cmds := v.sess.Step(in, d.h.Now())
	flow, node := v.sess.Node()
	d.h.Stepped(call, flow+"/"+node)
	for _, cmd := range cmds {
		d.run(call, v, cmd)
	}
	if v.sess.Done() {
		d.over(call, v)
	}
}

// over runs once when the flow ends: stop its timers, keep its variables.
func (d *Driver) over(call sb.CallID, v *flowCall) {
	for tok, stop := range v.timers {
		stop()
		delete(v.timers, tok)
	}
	d.h.FlowOver(call, v.sess.Vars())
	if d.o.Observer != nil {
		flow, node := v.sess.Node()
		d.o.Observer(Note{Call: call, Caller: v.caller, Flow: flow, Node: node, Done: true, Path: v.sess.Path()})
	}
}

func (d *Driver) run(call sb.CallID, v *flowCall, cmd Command) {
	ch := sb.ChannelID(call)
	log := d.h.Logger()
	switch cmd := cmd.(type) {
	case PlayCmd:
		pb := sb.PlaybackID(fmt.Sprintf("%s-ivr%d", call, v.nextID))
		v.nextID++
		v.playbacks[pb] = cmd.ID
		d.plays[pb] = call
		setLang := cmd.Language != "" && cmd.Language != v.lang
		if setLang {
			v.lang = cmd.Language
		}
		lang, media, id := cmd.Language, cmd.Media, cmd.ID
		d.h.Do(call, func(ctx context.Context) {
			if setLang {
				_ = d.pbx.SetVariable(ctx, ch, "CHANNEL(language)", lang)
			}
			if err := d.pbx.Play(ctx, ch, pb, media...); err != nil {
				log.Warn("prompt failed", "call_id", call, "err", err)
				d.h.Post(func() {
					delete(d.plays, pb)
					d.Feed(call, PlaybackDone{ID: id, Failed: true})
				})
			}
		})
		if cmd.BargeIn && d.o.Observer != nil {
			flow, node := v.sess.Node()
			d.o.Observer(Note{Call: call, Caller: v.caller, Flow: flow, Node: node, WantsKeys: true})
		}
	case StopPlayCmd:
		for pb, id := range v.playbacks {
			if id == cmd.ID {
				d.h.Do(call, func(ctx context.Context) {
					if err := d.pbx.StopPlayback(ctx, pb); err != nil && sb.ErrorCode(err) != sb.ENOTFOUND {
						log.Debug("stop prompt", "call_id", call, "err", err)
					}
				})
			}
		}
	case StartTimerCmd:
		tok := cmd.Token
		if stop := v.timers[tok]; stop != nil {
			stop()
		}
		v.timers[tok] = d.h.After(cmd.After, func() {
			if d.calls[call] == v && v.timers[tok] != nil {
				delete(v.timers, tok)
				d.Feed(call, TimerFired{Token: tok})
			}
		})
	case CancelTimerCmd:
		if stop := v.timers[cmd.Token]; stop != nil {
			stop()
			delete(v.timers, cmd.Token)
		}
	case LookupCmd:
		d.lookup(call, cmd)
	case RecordCmd:
		d.record(call, v, cmd)
	case VoicemailCmd:
		v.voicemail = true
		delete(v.recordingVM, RecordingName(call, cmd.Recording))
		vm := &sb.Voicemail{CallID: call, Mailbox: cmd.Mailbox, Recording: RecordingName(call, cmd.Recording),
			Duration: cmd.Duration, Caller: cmd.Caller, Vars: cmd.Vars, Created: d.h.Now()}
		d.storeVoicemail(vm)
	case SetVarCmd:
		name, value := "SB_"+strings.ToUpper(cmd.Name), cmd.Value
		d.h.Do(call, func(ctx context.Context) {
			if err := d.pbx.SetVariable(ctx, ch, name, value); err != nil {
				log.Debug("mirror variable", "call_id", call, "var", name, "err", err)
			}
		})
	case QueueCmd:
		d.h.FlowQueue(call, cmd)
	case TransferCmd:
		v.transfer = cmd.Token
		d.h.FlowTransfer(call, cmd)
	case HangupCmd:
		d.h.FlowHangup(call, v.voicemail)
	}
}

// record starts a flow recording (a voicemail node's message among them).
func (d *Driver) record(call sb.CallID, v *flowCall, cmd RecordCmd) {
	name := RecordingName(call, cmd.Name)
	v.recordings[name] = cmd.Name
	d.recs[name] = call
	if flow, node := v.sess.Node(); v.set.Flows[flow] != nil {
		if n := v.set.Flows[flow].Nodes[node]; n != nil && n.Voicemail != nil {
			v.recordingVM[name] = &lateVM{min: n.Voicemail.MinLength, started: d.h.Now(),
				vm: sb.Voicemail{CallID: call, Mailbox: n.Voicemail.Mailbox, Recording: name, Caller: v.caller}}
		}
	}
	req := sb.RecordRequest{Name: name, Format: "wav", MaxDuration: cmd.MaxDuration, MaxSilence: cmd.MaxSilence,
		Beep: cmd.Beep, IfExists: "overwrite", TerminateOn: terminateOn(cmd.TerminateOn)}
	flowName := cmd.Name
	d.h.Do(call, func(ctx context.Context) {
		if err := d.pbx.RecordChannel(ctx, sb.ChannelID(call), req); err != nil {
			d.h.Post(func() {
				delete(d.recs, name)
				d.Feed(call, RecordingDone{Name: flowName, Err: err.Error()})
			})
		}
	})
}

// Played hands a finished prompt back to its flow. It reports whether pb
// was a flow's prompt.
func (d *Driver) Played(pb sb.PlaybackID, failed bool) bool {
	call, ok := d.plays[pb]
	if !ok {
		return false
	}
	delete(d.plays, pb)
	v := d.calls[call]
	if v == nil {
		return true
	}
	id := v.playbacks[pb]
	delete(v.playbacks, pb)
	d.Feed(call, PlaybackDone{ID: id, Failed: failed})
	return true
}

// Recorded hands a finished (or failed: cause) flow recording back to its
// flow, or stores the message of a caller who hung up while recording. It
// reports whether name was a flow's recording.
func (d *Driver) Recorded(name string, dur time.Duration, failed bool, cause string) bool {
	if d.lateRecording(name, dur, failed) {
		return true
	}
	call, ok := d.recs[name]
	if !ok {
		return false
	}
	delete(d.recs, name)
	v := d.calls[call]
	if v == nil {
		return true
	}
	done := RecordingDone{Name: v.recordings[name], Duration: dur}
	if failed {
		done = RecordingDone{Name: v.recordings[name], Err: "recording failed: " + cause}
	}
	delete(v.recordings, name)
	d.Feed(call, done)
	return true
}

// CallerLeft runs when the caller hangs up: a message being recorded that
// is already long enough is kept (and stored when its recording
// finishes), then the flow is told.
func (d *Driver) CallerLeft(call sb.CallID) {
	v := d.calls[call]
	if v == nil {
		return
	}
	now := d.h.Now()
	for name, l := range v.recordingVM {
		delete(v.recordingVM, name)
		if now.Sub(l.started) < l.min {
			continue
		}
		l.vm.Vars = v.sess.Vars()
		d.late[name] = l
		d.h.VoicemailKept(call)
	}
	d.Feed(call, CallerHungUp{})
}

// TransferDone tells the flow how its transfer went.
func (d *Driver) TransferDone(call sb.CallID, answered bool) {
	v := d.calls[call]
	if v == nil {
		return
	}
	tok := v.transfer
	v.transfer = ""
	d.Feed(call, TransferDone{Token: tok, Answered: answered})
}

// Ended forgets a call that is over: its prompts, recordings and timers.
func (d *Driver) Ended(call sb.CallID) {
	v := d.calls[call]
	if v == nil {
		return
	}
	delete(d.calls, call)
	for pb := range v.playbacks {
		delete(d.plays, pb)
	}
	for name := range v.recordings {
		delete(d.recs, name)
	}
	for _, stop := range v.timers {
		stop()
	}
}

// lateRecording stores a message whose caller hung up while recording. It
// reports whether the recording was such a message.
func (d *Driver) lateRecording(name string, dur time.Duration, failed bool) bool {
	l := d.late[name]
	if l == nil {
		return false
	}
	delete(d.late, name)
	if failed {
		d.h.Logger().Warn("voicemail recording failed after the caller hung up", "call_id", l.vm.CallID, "recording", name)
		return true
	}
	l.vm.Duration, l.vm.Created = dur, d.h.Now()
	d.storeVoicemail(&l.vm)
	return true
}

// RecordingName is the PBX recording name of a flow recording: unique per
// call, safe as a file name.
func RecordingName(call sb.CallID, name string) string {
	r := strings.NewReplacer("/", "_", ".", "_", ";", "_", " ", "_")
	return r.Replace(string(call) + "-" + name)
}

func terminateOn(key string) string {
	switch key {
	case "":
		return "none"
	case "*", "#":
		return key
	default:
		return "any"
	}
}

// lookup runs a flow's lookup node off the owner goroutine, bounded by the
// node's timeout (3 s when it sets none), and feeds the answer back.
func (d *Driver) lookup(call sb.CallID, cmd LookupCmd) {
	lk, log := d.o.Lookup, d.h.Logger()
	d.h.Spawn(func(parent context.Context) {
		timeout := cmd.Timeout
		if timeout <= 0 {
			timeout = 3 * time.Second
		}
		ctx, cancel := context.WithTimeout(parent, timeout)
		defer cancel()
		done := LookupDone{Token: cmd.Token, Err: "lookups are not configured"}
		if lk != nil {
			done = lk.Lookup(ctx, cmd)
		}
		if done.Err != "" {
			log.Warn("flow lookup failed", "call_id", call, "err", done.Err)
		}
		d.h.Post(func() { d.Feed(call, done) })
	})
}

func (d *Driver) storeVoicemail(vm *sb.Voicemail) {
	if d.o.Voicemail == nil {
		return
	}
	store := d.o.Voicemail
	log := d.h.Logger()
	log.Info("voicemail", "call_id", vm.CallID, "mailbox", vm.Mailbox, "recording", vm.Recording)
	d.h.Persist(func(ctx context.Context) error { return store.InsertVoicemail(ctx, vm) }, func(err error) {
		log.Error("voicemail not stored", "call_id", vm.CallID, "recording", vm.Recording, "err", err)
	})
}

// Path is the JSON of the call's path through its flows, for its call-log
// row (nil: it ran no flow).
func (d *Driver) Path(call sb.CallID) sb.RawJSON {
	v := d.calls[call]
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v.path())
	if err != nil {
		return nil
	}
	return b
}

// path is the call's path through its flows: a call that left a queue for
// another flow keeps the first flow's visits, then the next's (At still
// counted from the first flow's start).
func (v *flowCall) path() Path {
	p := v.sess.Path()
	if v.prevPath == nil {
		return p
	}
	prev := *v.prevPath
	prev.Visits = slices.Clone(prev.Visits)
	for _, vis := range p.Visits {
		vis.At += v.pathOffset
		prev.Visits = append(prev.Visits, vis)
	}
	prev.Vars, prev.End = p.Vars, p.End
	return prev
}
