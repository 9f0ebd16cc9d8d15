package center

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/lifecycle"
)

// Route sends calls to a flow by dialed number and calendar (ivr.FlowFor
// picks it).
type Route = ivr.Route

// FlowSource gives the flow set new calls enter on (hot reload swaps it).
type FlowSource interface {
	Current() *ivr.Set
}

// VoicemailStore keeps voicemail messages.
type VoicemailStore interface {
	InsertVoicemail(ctx context.Context, v *sb.Voicemail) error
}

// IVRNote tells an observer (the `ivr test` tool, tests) what a call's flow
// is doing.
type IVRNote struct {
	Call      sb.CallID
	Caller    string
	Flow      string
	Node      string
	WantsKeys bool // a menu or gather prompt started: the caller may press keys now
	Done      bool // the flow is over
	Path      ivr.Path
}

// IVROptions wires the IVR into the center. Zero fields disable what they
// serve: without Flows, calls go straight to the greeting and an agent.
type IVROptions struct {
	Flows           FlowSource
	Routes          []Route
	Calendars       ivr.Calendars
	Location        *time.Location // for hour, weekday, date in expressions (default UTC)
	Voicemail       VoicemailStore
	Lookup          Lookuper // runs lookup nodes (ivr/lookup over HTTP); nil: they fail
	TransferContext string   // dialplan context for transfers to an extension (Local/EXT@CTX)
	TrunkTemplate   string   // endpoint for external numbers, ${number} replaced
	Observer        func(IVRNote)
}

// Lookuper runs a flow's lookup node (the request its LookupCmd
// describes, within ctx) and returns the answer for the flow.
type Lookuper interface {
	Lookup(ctx context.Context, cmd ivr.LookupCmd) ivr.LookupDone
}

// DefaultTrunkTemplate is the endpoint of external numbers when none is
// configured.
const DefaultTrunkTemplate = "PJSIP/${number}@trunk"

// withDefaults fills in what o leaves unset.
func (o IVROptions) withDefaults() IVROptions {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.TransferContext == "" {
		o.TransferContext = "from-agents"
	}
	if o.TrunkTemplate == "" {
		o.TrunkTemplate = DefaultTrunkTemplate
	}
	return o
}

// SetRoutes replaces the routes new calls take while the center runs
// (the `ivr test` tool points every number at the flow under test): a
// setter because it changes a running center; the routes it starts with
// are Options.IVR's. It returns once calls entering from now on take
// them.
func (c *Center) SetRoutes(routes []Route) {
	routes = slices.Clone(routes)
	done := make(chan struct{})
	if c.post(func() { c.ivr.Routes = routes; close(done) }) {
		select {
		case <-done:
		case <-c.stopped:
		}
	}
}

// ivrCall is the IVR part of a call's state.
type ivrCall struct {
	sess       *ivr.Session
	set        *ivr.Set
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
}

// lateVM is a voicemail message whose recording ends after its caller left.
type lateVM struct {
	vm      sb.Voicemail
	min     time.Duration
	started time.Time
}

// startIVR puts an answered call into its flow (ivr.FlowFor picks it in
// the current flow set). It reports false when no flow routes the call.
func (c *Center) startIVR(k *call) bool {
	if c.ivr.Flows == nil {
		return false
	}
	set := c.ivr.Flows.Current()
	if set == nil {
		return false
	}
	flow := ivr.FlowFor(c.ivr.Routes, k.Called, c.ivr.Calendars, c.clock.Now())
	if flow == "" {
		return false
	}
	sess, err := ivr.NewSession(set, flow, c.ivr.Calendars, c.ivr.Location)
	if err != nil {
		c.log.Error("cannot start flow; the call goes to an agent", "call_id", k.ID, "flow", flow, "err", err)
		return false
	}
	k.ivr = &ivrCall{sess: sess, set: set, playbacks: map[sb.PlaybackID]string{},
		recordings: map[string]string{}, timers: map[string]func() bool{}, recordingVM: map[string]*lateVM{}}
	k.State = sb.CallIVR
	c.log.Info("call in flow", "call_id", k.ID, "flow", flow, "version", set.Version)
	c.feed(k, ivr.Begin{Caller: k.Caller, DNIS: k.Called})
	for _, d := range k.early {
		c.feed(k, ivr.Digit{Key: d})
	}
	k.early = nil
	return true
}

// feed gives the call's flow an input and carries out what it asks.
func (c *Center) feed(k *call, in ivr.Input) {
	v := k.ivr
	if v == nil || v.sess.Done() {
		return
	}
	cmds := v.sess.Step(in, c.clock.Now())
	c.ivrSteps.Add(1)
	flow, node := v.sess.Node()
	k.IVRNode = flow + "/" + node
	for _, cmd := range cmds {
		c.runIVR(k, cmd)
	}
	if v.sess.Done() {
		c.ivrOver(k)
	}
}

// ivrOver runs once when the flow ends: stop its timers, keep its path.
func (c *Center) ivrOver(k *call) {
	v := k.ivr
	for tok, stop := range v.timers {
		stop()
		delete(v.timers, tok)
	}
	k.IVRVars = v.sess.Vars()
	if c.ivr.Observer != nil {
		flow, node := v.sess.Node()
		c.ivr.Observer(IVRNote{Call: k.ID, Caller: k.Caller, Flow: flow, Node: node, Done: true, Path: v.sess.Path()})
	}
}

func (c *Center) runIVR(k *call, cmd ivr.Command) {
	v := k.ivr
	ch := sb.ChannelID(k.ID)
	switch cmd := cmd.(type) {
	case ivr.PlayCmd:
		pb := sb.PlaybackID(fmt.Sprintf("%s-ivr%d", k.ID, v.nextID))
		v.nextID++
		v.playbacks[pb] = cmd.ID
		c.ivrPlaybacks[pb] = k
		setLang := cmd.Language != "" && cmd.Language != v.lang
		if setLang {
			v.lang = cmd.Language
		}
		lang, media, id := cmd.Language, cmd.Media, cmd.ID
		c.do(k, func(ctx context.Context) {
			if setLang {
				_ = c.pbx.SetVariable(ctx, ch, "CHANNEL(language)", lang)
			}
			if err := c.pbx.Play(ctx, ch, pb, media...); err != nil {
				c.log.Warn("prompt failed", "call_id", k.ID, "err", err)
				c.post(func() {
					delete(c.ivrPlaybacks, pb)
					c.feed(k, ivr.PlaybackDone{ID: id, Failed: true})
				})
			}
		})
		if cmd.BargeIn && c.ivr.Observer != nil {
			flow, node := v.sess.Node()
			c.ivr.Observer(IVRNote{Call: k.ID, Caller: k.Caller, Flow: flow, Node: node, WantsKeys: true})
		}
	case ivr.StopPlayCmd:
		for pb, id := range v.playbacks {
			if id == cmd.ID {
				c.do(k, func(ctx context.Context) {
					if err := c.pbx.StopPlayback(ctx, pb); err != nil && sb.ErrorCode(err) != sb.ENOTFOUND {
						c.log.Debug("stop prompt", "call_id", k.ID, "err", err)
					}
				})
			}
		}
	case ivr.StartTimerCmd:
		tok := cmd.Token
		if stop := v.timers[tok]; stop != nil {
			stop()
		}
		v.timers[tok] = c.after(cmd.After, func() {
			if k.ivr == v && v.timers[tok] != nil {
				delete(v.timers, tok)
				c.feed(k, ivr.TimerFired{Token: tok})
			}
		})
	case ivr.CancelTimerCmd:
		if stop := v.timers[cmd.Token]; stop != nil {
			stop()
			delete(v.timers, cmd.Token)
		}
	case ivr.LookupCmd:
		c.lookup(k, cmd)
	case ivr.RecordCmd:
		name := recordingName(k.ID, cmd.Name)
		v.recordings[name] = cmd.Name
		c.ivrRecordings[name] = k
		if flow, node := v.sess.Node(); v.set.Flows[flow] != nil {
			if n := v.set.Flows[flow].Nodes[node]; n != nil && n.Voicemail != nil {
				v.recordingVM[name] = &lateVM{min: n.Voicemail.MinLength, started: c.clock.Now(),
					vm: sb.Voicemail{CallID: k.ID, Mailbox: n.Voicemail.Mailbox, Recording: name, Caller: k.Caller}}
			}
		}
		req := sb.RecordRequest{Name: name, Format: "wav", MaxDuration: cmd.MaxDuration, MaxSilence: cmd.MaxSilence,
			Beep: cmd.Beep, IfExists: "overwrite", TerminateOn: terminateOn(cmd.TerminateOn)}
		flowName := cmd.Name
		c.do(k, func(ctx context.Context) {
			if err := c.pbx.RecordChannel(ctx, ch, req); err != nil {
				c.post(func() {
					delete(c.ivrRecordings, name)
					c.feed(k, ivr.RecordingDone{Name: flowName, Err: err.Error()})
				})
			}
		})
	case ivr.VoicemailCmd:
		v.voicemail = true
		delete(v.recordingVM, recordingName(k.ID, cmd.Recording))
		vm := &sb.Voicemail{CallID: k.ID, Mailbox: cmd.Mailbox, Recording: recordingName(k.ID, cmd.Recording),
			Duration: cmd.Duration, Caller: cmd.Caller, Vars: cmd.Vars, Created: c.clock.Now()}
		c.storeVoicemail(vm)
	case ivr.SetVarCmd:
		name, value := "SB_"+strings.ToUpper(cmd.Name), cmd.Value
		c.do(k, func(ctx context.Context) {
			if err := c.pbx.SetVariable(ctx, ch, name, value); err != nil {
				c.log.Debug("mirror variable", "call_id", k.ID, "var", name, "err", err)
			}
		})
	case ivr.QueueCmd:
		k.Queue = sb.QueueName(cmd.Queue)
		k.priority = cmd.Priority
		k.skills = cmd.Skills
		c.life(k, lifecycle.Queue{})
		k.State = sb.CallPrompting
		c.log.Info("flow queued call", "call_id", k.ID, "queue", cmd.Queue)
		c.acdHunt(k)
	case ivr.TransferCmd:
		c.transfer(k, cmd)
	case ivr.HangupCmd:
		c.life(k, lifecycle.FlowHangup{Voicemail: v.voicemail})
	}
}

// keepLateVoicemails runs when the caller hangs up: a message being
// recorded that is already long enough is kept, and stored when its
// recording finishes.
func (c *Center) keepLateVoicemails(k *call) {
	if k.ivr == nil {
		return
	}
	now := c.clock.Now()
	for name, l := range k.ivr.recordingVM {
		delete(k.ivr.recordingVM, name)
		if now.Sub(l.started) < l.min {
			continue
		}
		l.vm.Vars = k.ivr.sess.Vars()
		c.lateVMs[name] = l
		c.life(k, lifecycle.VoicemailKept{})
	}
}

// lateRecording stores a message whose caller hung up while recording. It
// reports whether the recording was such a message.
func (c *Center) lateRecording(name string, d time.Duration, failed bool) bool {
	l := c.lateVMs[name]
	if l == nil {
		return false
	}
	delete(c.lateVMs, name)
	if failed {
		c.log.Warn("voicemail recording failed after the caller hung up", "call_id", l.vm.CallID, "recording", name)
		return true
	}
	l.vm.Duration, l.vm.Created = d, c.clock.Now()
	c.storeVoicemail(&l.vm)
	return true
}

// recordingName is the PBX recording name of a flow recording: unique per
// call, safe as a file name.
func recordingName(call sb.CallID, name string) string {
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

// lookup runs a flow's lookup node off the owner goroutine, bounded by
// the node's timeout (3 s when it sets none), and feeds the answer back.
func (c *Center) lookup(k *call, cmd ivr.LookupCmd) {
	lk, parent := c.ivr.Lookup, c.runCtx
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		timeout := cmd.Timeout
		if timeout <= 0 {
			timeout = 3 * time.Second
		}
		ctx, cancel := context.WithTimeout(parent, timeout)
		defer cancel()
		done := ivr.LookupDone{Token: cmd.Token, Err: "lookups are not configured"}
		if lk != nil {
			done = lk.Lookup(ctx, cmd)
		}
		if done.Err != "" {
			c.log.Warn("flow lookup failed", "call_id", k.ID, "err", done.Err)
		}
		c.post(func() { c.feed(k, done) })
	}()
}

func (c *Center) storeVoicemail(vm *sb.Voicemail) {
	if c.ivr.Voicemail == nil {
		return
	}
	store := c.ivr.Voicemail
	c.log.Info("voicemail", "call_id", vm.CallID, "mailbox", vm.Mailbox, "recording", vm.Recording)
	c.persist(func(ctx context.Context) error { return store.InsertVoicemail(ctx, vm) }, func(err error) {
		c.log.Error("voicemail not stored", "call_id", vm.CallID, "recording", vm.Recording, "err", err)
	})
}

// transfer originates the flow's transfer target; when it answers it is
// bridged to the caller like an agent leg.
func (c *Center) transfer(k *call, cmd ivr.TransferCmd) {
	endpoint := cmd.Endpoint
	switch {
	case cmd.Extension != "":
		endpoint = fmt.Sprintf("Local/%s@%s", cmd.Extension, c.ivr.TransferContext)
	case cmd.Number != "":
		endpoint = c.trunkEndpoint(cmd.Number)
	}
	k.attempts++
	c.seq++
	k.offerSeq = c.seq
	k.agentCh = sb.ChannelID(fmt.Sprintf("%s-t%d", k.ID, k.attempts))
	c.life(k, lifecycle.AgentDialed{Transfer: true})
	k.ivr.transfer = cmd.Token
	k.State = sb.CallTransfer
	k.AgentChannel = k.agentCh
	c.byChannel[k.agentCh] = k
	timeout := cmd.Timeout
	if timeout <= 0 {
		timeout = c.cfg.AgentRingTimeout
	}
	req := sb.OriginateRequest{ID: k.agentCh, Endpoint: endpoint, CallerID: fmt.Sprintf("%q <%s>", k.CallerName, k.Caller),
		Timeout: timeout, AppArgs: []string{argTransfer, string(k.ID)}, Originator: sb.ChannelID(k.ID)}
	ch := k.agentCh
	c.log.Info("flow transfers call", "call_id", k.ID, "endpoint", endpoint)
	c.originate(k, req, "transfer originate failed", func() {
		if k.agentCh == ch && !k.life.AgentGone() {
			c.channelGone(k, ch)
		}
	})
}

// ivrPath is the JSON of the call's path for its call-log row.
func ivrPath(k *call) sb.RawJSON {
	if k.ivr == nil {
		return nil
	}
	b, err := json.Marshal(ivrPathOf(k))
	if err != nil {
		return nil
	}
	return b
}

// ivrPathOf is the call's path through its flows: a call that left a
// queue for another flow keeps the first flow's visits, then the next's
// (At still counted from the first flow's start).
func ivrPathOf(k *call) ivr.Path {
	p := k.ivr.sess.Path()
	if k.prevPath == nil {
		return p
	}
	prev := *k.prevPath
	prev.Visits = slices.Clone(prev.Visits)
	for _, v := range p.Visits {
		v.At += k.pathOffset
		prev.Visits = append(prev.Visits, v)
	}
	prev.Vars, prev.End = p.Vars, p.End
	return prev
}
