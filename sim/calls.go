package sim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AMDTime is how long the simulated AMD() dialplan application listens
// before it decides.
const AMDTime = 2500 * time.Millisecond

// DefaultOriginateTimeout is the originate ring timeout when none is given.
const DefaultOriginateTimeout = 30 * time.Second

// resolve finds the party behind tech/resource. unavailable means the
// device is not reachable (CHANUNAVAIL, cause 20); allocFail means the
// technology cannot allocate such a channel at all.
func (s *Server) resolve(tech, resource string) (p Party, ep *endpoint, unavailable, allocFail bool) {
	if e, ok := s.endpoints[tech+"/"+resource]; ok {
		return e.party, e, e.state != "online", false
	}
	switch {
	case tech == "SIM":
		p, err := ParseScript(resource)
		if err != nil {
			return Party{}, nil, false, true
		}
		return p, nil, false, false
	case tech == "Local":
		return Party{}, nil, false, false
	case s.techs[tech]:
		return Party{}, nil, true, false
	}
	return Party{}, nil, false, true
}

func splitEndpoint(ep string) (tech, resource string, ok bool) {
	tech, resource, ok = strings.Cut(ep, "/")
	return tech, resource, ok && tech != "" && resource != ""
}

func (s *Server) dialEvent(c *channel, status string) {
	f := map[string]any{"peer": chanNow{c}, "dialstatus": status, "dialstring": c.resource}
	var caller *channel
	if c.dialCaller != nil && !c.dialCaller.gone {
		caller = c.dialCaller
		f["caller"] = chanNow{caller}
	}
	s.emit(s.chanApps(c, caller), "Dial", f)
}

// outbound is a channel about to be dialed.
type outbound struct {
	id, otherID    string
	tech, resource string
	kind           chanKind
	caller         callerID
	vars           map[string]string
}

// newOutbound allocates the channel (and the ;2 half of a Local) for an
// originate or create. It reports allocation failure for an unknown
// technology or an unparsable SIM script.
func (s *Server) newOutbound(o outbound) (*channel, bool) {
	p, ep, unavailable, allocFail := s.resolve(o.tech, o.resource)
	if allocFail {
		return nil, false
	}
	name := ""
	if o.tech == "Local" {
		name = "Local/" + o.resource + "-" + s.nextName()
	}
	nc := newChan{id: o.id, tech: o.tech, resource: o.resource, kind: o.kind, state: "Down", caller: o.caller, party: p, ep: ep}
	if name != "" {
		nc.nameOverride = name + ";1"
	}
	c := s.addChannel(nc)
	for k, v := range o.vars {
		c.setChanVar(k, v)
	}
	if unavailable {
		c.party.Unreachable = true
	}
	if o.tech == "Local" {
		oid := o.otherID
		if oid == "" {
			oid = c.id + ";2"
		}
		ctx, ext := "default", o.resource
		if e, cx, ok := strings.Cut(o.resource, "@"); ok {
			ext, ctx = e, cx
		}
		c2 := s.addChannel(newChan{id: oid, tech: "Local", resource: o.resource, kind: kindLocal2, state: "Ring",
			caller: o.caller, context: ctx, exten: ext, nameOverride: name + ";2"})
		c.peer, c2.peer = c2, c
	}
	return c, true
}

// subscribeOriginated subscribes app to a channel it originated or
// created, and to the ;2 half of a Local one (Asterisk lists both halves
// in the application's channel_ids although only ;1 enters Stasis). The
// subscription outlives the channel's time in the application.
func (s *Server) subscribeOriginated(c *channel, app string) {
	for _, x := range []*channel{c, c.peer} {
		if x != nil {
			x.subs[app], x.explicit[app] = true, true
		}
	}
}

// startDial rings the far end of c: Dial "", Ringing, Dial RINGING, then
// answer after the party's rings, or BUSY / CHANUNAVAIL / nothing. A far
// end that answers at once goes from Down straight to Up, with no Ringing
// and no Dial RINGING (as on Asterisk 22).
func (s *Server) startDial(c *channel, timeout time.Duration, caller *channel) {
	c.dialing = true
	c.dialCaller = caller
	s.dialEvent(c, "")
	p := c.party
	c.ringTimer = s.after(0, func() {
		if c.gone {
			return
		}
		switch {
		case p.Unreachable:
			s.failDial(c, "CHANUNAVAIL", 20)
		case p.Busy:
			s.failDial(c, "BUSY", 17)
		case p.Rings == 0 && !p.NoAnswer:
			s.answerOutbound(c)
		default:
			s.setState(c, "Ringing")
			s.dialEvent(c, "RINGING")
			if p.NoAnswer {
				return
			}
			c.ringTimer = s.after(time.Duration(p.Rings)*RingCadence, func() {
				if !c.gone && !c.answered {
					s.answerOutbound(c)
				}
			})
		}
	})
	if timeout > 0 {
		c.dialTimer = s.after(timeout, func() {
			if !c.gone && !c.answered {
				// No final Dial event on no-answer (as Asterisk).
				s.hangup(c, 19, hangTimeout)
			}
		})
	}
}

func (s *Server) failDial(c *channel, status string, cause int) {
	s.dialEvent(c, status)
	c.dialing = false
	if c.peer != nil {
		// Local: ;1 goes with cause 0, ;2 carries the real cause.
		c.failCause = cause
		s.hangup(c, 0, hangFail)
		return
	}
	s.hangup(c, cause, hangFail)
}

func (s *Server) answerOutbound(c *channel) {
	c.answered = true
	c.dialing = false
	c.dialTimer.Stop()
	if c.peer != nil && !c.peer.gone {
		c.peer.answered = true
		s.setState(c.peer, "Up")
	}
	s.setState(c, "Up")
	s.dialEvent(c, "ANSWER")
	if c.kind == kindOriginate {
		if c.outApp != "" {
			if !s.registered(c.outApp) {
				// Stasis() fails; the originate hangs the channel up.
				s.stasisFailed(c)
				s.hangup(c, 16, hangFar)
				return
			}
			s.enterStasis(c, c.outApp, c.outArgs, nil)
		} else {
			s.runDialplan(c, c.outCtx, c.outExten)
		}
	}
	if !c.gone {
		s.afterAnswer(c)
	}
}

// runDialplan simulates the dialplan at context/exten:
//
//	switchboard-outbound  exten amd: AMD() then Stasis(switchboard,amd,...);
//	         exten direct: Stasis(switchboard,amd,HUMAN,off) (the shipped dialplan)
//	amd*     AMD() for AMDTime, then Stasis(exten,amd,HUMAN|MACHINE,cause);
//	         exten "s" (or empty) re-enters the channel's previous app
//	stasis   Stasis(exten) at once
//	other    the channel waits in the dialplan (Wait) until hung up
func (s *Server) runDialplan(c *channel, ctx, exten string) {
	if ctx == "" {
		ctx = c.context
	}
	if exten == "" {
		exten = c.exten
	}
	c.context, c.exten, c.priority = ctx, exten, 1
	app := exten
	if app == "s" || app == "" {
		app = c.app
		if app == "" {
			app = c.outApp
		}
	}
	switch {
	case ctx == OutboundContext && exten == "amd":
		s.runAMD(c, "switchboard")
	case ctx == OutboundContext && exten == "beep":
		// WaitForSilence: the machine's greeting ends with its beep.
		c.appName, c.appData = "WaitForSilence", "1500,1,20"
		c.planTimer = s.after(GreetingTime, func() {
			if c.gone {
				return
			}
			if !s.registered("switchboard") {
				s.stasisFailed(c)
				s.nobody(c)
				return
			}
			s.enterStasis(c, "switchboard", []string{"beep"}, nil)
		})
	case ctx == OutboundContext && exten == "direct":
		if !s.registered("switchboard") {
			s.stasisFailed(c)
			s.nobody(c)
			return
		}
		s.enterStasis(c, "switchboard", []string{"amd", "HUMAN", "off"}, nil)
	case ctx == "switchboard-test" && exten == "unattended":
		// configs/asterisk/extensions_test.conf: Stasis() of an
		// application no one registers, then switchboard-outbound,nobody.
		if s.registered("switchboard-test-nobody") {
			s.enterStasis(c, "switchboard-test-nobody", nil, nil)
			return
		}
		s.stasisFailed(c)
		s.nobody(c)
	case strings.HasPrefix(ctx, "amd"):
		s.runAMD(c, app)
	case ctx == "stasis":
		if !s.registered(app) {
			s.hangup(c, 16, hangFar)
			return
		}
		s.enterStasis(c, app, nil, nil)
	default:
		c.appName, c.appData = "Wait", ""
	}
}

// OutboundContext is the shipped dialplan's context for campaign calls
// (configs/asterisk/extensions.conf): exten amd runs AMD() and then
// Stasis(switchboard,amd,STATUS,CAUSE); exten beep waits for the end of a
// machine's greeting (WaitForSilence, GreetingTime here) and enters
// Stasis(switchboard,beep); exten direct enters
// Stasis(switchboard,amd,HUMAN,off) at once.
const OutboundContext = "switchboard-outbound"

// GreetingTime is how long the rest of a machine's greeting lasts after AMD
// (exten beep's WaitForSilence).
const GreetingTime = 3 * time.Second

// runAMD is AMD() for Options.AMDTime, then Stasis(app,amd,STATUS,CAUSE).
func (s *Server) runAMD(c *channel, app string) {
	c.appName, c.appData, c.amdApp = "AMD", "", app
	d := s.opts.AMDTime
	if d <= 0 {
		d = AMDTime
	}
	c.planTimer = s.after(d, func() { s.amdDone(c, app) })
}

// amdDone is the end of AMD(): the result goes to the channel's
// variables and the channel enters Stasis(app,amd,STATUS,CAUSE).
func (s *Server) amdDone(c *channel, app string) {
	if c.gone {
		return
	}
	status, cause := "HUMAN", "HUMAN-500-500"
	if c.party.Machine {
		status, cause = "MACHINE", "LONGGREETING-2000-1500"
	}
	c.vars["AMDSTATUS"], c.vars["AMDCAUSE"] = status, cause
	if r := c.log; r != nil {
		r.AMD, r.AMDDone = status, s.clock.Now()
	}
	if !s.registered(app) {
		s.stasisFailed(c)
		if app == "switchboard" && c.context == OutboundContext {
			s.nobody(c)
			return
		}
		s.hangup(c, 16, hangFar)
		return
	}
	s.enterStasis(c, app, []string{"amd", status, cause}, nil)
}

// SetAMDTime changes how long AMD() listens (Options.AMDTime) for the
// calls that start AMD from now on.
func (s *Server) SetAMDTime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.AMDTime = d
}

// CompleteAMD ends the AMD() a channel is in now, as if it had decided:
// the channel goes on to Stasis(app,amd,STATUS,CAUSE).
func (s *Server) CompleteAMD(channelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("sim: channel %s: %w", channelID, ErrNotFound)
	}
	if c.appName != "AMD" || !c.planTimer.Stop() {
		return fmt.Errorf("sim: channel %s is not in AMD()", channelID)
	}
	s.amdDone(c, c.amdApp)
	return nil
}

// ---- inbound calls (Go API) ----

// Inbound describes a call arriving from the trunk.
type Inbound struct {
	// App is the Stasis application the call enters; a websocket must have
	// registered it (as Stasis(app) in the dialplan would require).
	App string
	// Args are the StasisStart args.
	Args []string
	// From is the caller number (caller.number), Name the caller name.
	From, Name string
	// To is the dialed number (dialplan.exten).
	To string
	// Context is the dialplan context the call arrives in; default
	// "from-trunk".
	Context string
	// Party scripts the caller: digits, patience (abandon), talk time.
	Party Party
	// Trunk is the channel name prefix; default "PJSIP/trunk" gives
	// channel names like "PJSIP/trunk-0000000a".
	Trunk string
}

// Call makes a call arrive: a channel in state Ring enters in.App with
// StasisStart. The caller's Digits and Patience start at once.
func (s *Server) Call(in Inbound) (channelID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if !s.registered(in.App) {
		return "", fmt.Errorf("sim: call into %q: %w", in.App, ErrNoApp)
	}
	trunk := in.Trunk
	if trunk == "" {
		trunk = "PJSIP/trunk"
	}
	tech, res, ok := splitEndpoint(trunk)
	if !ok {
		return "", fmt.Errorf("sim: trunk %q: want TECH/RESOURCE", trunk)
	}
	ctx := in.Context
	if ctx == "" {
		ctx = "from-trunk"
	}
	c := s.addChannel(newChan{tech: tech, resource: res, kind: kindInbound, state: "Ring",
		caller: callerID{name: in.Name, number: in.From}, context: ctx, exten: in.To, party: in.Party,
		ep: s.endpoints[trunk]})
	c.answered = true // the far end is already "up" from the caller's side
	s.enterStasis(c, in.App, in.Args, nil)
	s.afterAnswer(c)
	return c.id, nil
}

// SendDTMF makes the far end of a channel press digits (',' = 1 s pause):
// one ChannelDtmfReceived per digit.
func (s *Server) SendDTMF(channelID, digits string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("sim: channel %s: %w", channelID, ErrNotFound)
	}
	s.queueDTMF(c, digits, 0)
	return nil
}

// Hangup makes the far end of a channel hang up with cause (16 = normal
// clearing): ChannelHangupRequest, ChannelLeftBridge, StasisEnd,
// ChannelDestroyed.
func (s *Server) Hangup(channelID string, cause int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("sim: channel %s: %w", channelID, ErrNotFound)
	}
	s.hangup(c, cause, hangFar)
	return nil
}

// ChannelInfo describes a live channel.
type ChannelInfo struct {
	ID, Name, State string
	// Bridge is the id of the bridge the channel is in, if any.
	Bridge string
	// App is the Stasis application; InApp tells whether it is in it now.
	App   string
	InApp bool
	// DialplanApp and DialplanData are the dialplan application it runs
	// (channel.dialplan.app_name, app_data), e.g. Playback and its files.
	DialplanApp, DialplanData string
	// Snooped, Spy and Whisper describe a snoop channel: the channel it
	// hears and its directions (none, both, in, out).
	Snooped, Spy, Whisper string
}

// Channels lists the live channels in creation order.
func (s *Server) Channels() []ChannelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.sortedChannels()
	out := make([]ChannelInfo, 0, len(cs))
	for _, c := range cs {
		ci := ChannelInfo{ID: c.id, Name: c.name, State: c.state, App: c.app, InApp: c.inApp,
			DialplanApp: c.appName, DialplanData: c.appData}
		if c.bridge != nil {
			ci.Bridge = c.bridge.id
		}
		if c.snoopOf != nil {
			ci.Snooped, ci.Spy, ci.Whisper = c.snoopOf.id, c.spy, c.whisper
		}
		out = append(out, ci)
	}
	return out
}

// Bridges lists the ids of existing bridges, sorted.
func (s *Server) Bridges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.bridges))
	for id := range s.bridges {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// StoredRecordings lists stored recording names with their durations.
func (s *Server) StoredRecordings() map[string]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Duration, len(s.stored))
	for n, r := range s.stored {
		out[n] = r.duration
	}
	return out
}

// LiveRecordingNames lists the recordings being made, with their state
// (recording, paused).
func (s *Server) LiveRecordingNames() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.liveRecs))
	for n, r := range s.liveRecs {
		out[n] = r.state
	}
	return out
}

// FailRecording makes a live recording fail (RecordingFailed, cause
// "sim failure"), as when the disk fills up.
func (s *Server) FailRecording(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.liveRecs[name]
	if !ok {
		return fmt.Errorf("sim: recording %s: %w", name, ErrNotFound)
	}
	s.finishRecording(r, "failed", "sim failure")
	return nil
}

// ---- playbacks ----

// mediaLen is the simulated length of one media URI; negative = until
// stopped (tone:); ok false = the media cannot be played.
func (s *Server) mediaLen(uri string) (time.Duration, bool) {
	scheme, rest, _ := strings.Cut(uri, ":")
	switch scheme {
	case "sound":
		d, ok := s.sounds[rest]
		return d, ok
	case "recording":
		r, ok := s.stored[rest]
		if !ok {
			return 0, false
		}
		return r.duration, true
	case "digits", "characters":
		if rest == "" {
			return 0, false
		}
		return time.Duration(len(rest)) * 600 * time.Millisecond, true
	case "number":
		if _, err := strconv.ParseInt(rest, 10, 64); err != nil {
			return 0, false
		}
		return time.Duration(len(strings.TrimPrefix(rest, "-"))) * 700 * time.Millisecond, true
	case "tone":
		return -1, rest != ""
	}
	return 0, false
}

func (s *Server) playbackApps(p *playback) []string {
	if p.ch != nil {
		return s.chanApps(p.ch)
	}
	return s.bridgeMediaApps(p.br)
}

// bridgeMediaApps receive the events of a bridge's playbacks and
// recordings: Asterisk plays and records a bridge through a channel of
// the application that asked, so they arrive even when no channel of its
// own is in the bridge. ARI does not say which application asked; the
// simulator tells every registered one.
func (s *Server) bridgeMediaApps(b *bridge) []string {
	dst := map[string]bool{}
	for _, a := range s.bridgeApps(b) {
		dst[a] = true
	}
	for _, a := range s.sortedApps() {
		dst[a] = true
	}
	return setList(dst)
}

// mediaSchemes are the media URI schemes Asterisk can play.
var mediaSchemes = map[string]bool{"sound": true, "recording": true, "number": true, "digits": true, "characters": true, "tone": true}

func (s *Server) playQueue(p *playback) *[]*playback {
	if p.ch != nil {
		return &p.ch.playQ
	}
	return &p.br.playQ
}

// queuePlayback adds p to its target's queue; the head starts playing.
func (s *Server) queuePlayback(p *playback) {
	q := s.playQueue(p)
	*q = append(*q, p)
	s.playbacks[p.id] = p
	if len(*q) == 1 {
		s.scheduleStart(p)
	}
}

func (s *Server) scheduleStart(p *playback) {
	p.timer = s.after(0, func() {
		if p.state != "queued" {
			return
		}
		p.state = "playing"
		s.emit(s.playbackApps(p), "PlaybackStarted", map[string]any{"playback": s.playbackJSON(p)})
		s.playItem(p)
	})
}

func (s *Server) playItem(p *playback) {
	if scheme, _, _ := strings.Cut(p.media[p.idx], ":"); !mediaSchemes[scheme] {
		// Asterisk 22 logs the scheme as unsupported and drops the
		// playback: no PlaybackFinished ever, GET /playbacks/{id} is 404.
		s.dropPlayback(p)
		return
	}
	d, ok := s.mediaLen(p.media[p.idx])
	if !ok {
		s.finishPlayback(p, "failed")
		return
	}
	p.remaining = d
	p.segStart = s.clock.Now()
	if d < 0 {
		return
	}
	s.armPlayback(p)
}

func (s *Server) armPlayback(p *playback) {
	p.segStart = s.clock.Now()
	p.timer = s.after(p.remaining, func() {
		if p.state != "playing" {
			return
		}
		p.idx++
		if p.idx < len(p.media) {
			s.emit(s.playbackApps(p), "PlaybackContinuing", map[string]any{"playback": s.playbackJSON(p)})
			s.playItem(p)
			return
		}
		p.idx--
		s.finishPlayback(p, "done")
	})
}

// finishPlayback ends p (PlaybackFinished) and starts the next queued one.
func (s *Server) finishPlayback(p *playback, state string) {
	if p.state == "done" || p.state == "failed" {
		return
	}
	p.timer.Stop()
	p.state = state
	s.emit(s.playbackApps(p), "PlaybackFinished", map[string]any{"playback": s.playbackJSON(p)})
	s.unqueuePlayback(p)
}

// dropPlayback ends p silently, as Asterisk does with media it cannot
// play, and starts the next queued one.
func (s *Server) dropPlayback(p *playback) {
	p.timer.Stop()
	p.state = "failed"
	s.unqueuePlayback(p)
}

func (s *Server) unqueuePlayback(p *playback) {
	delete(s.playbacks, p.id)
	q := s.playQueue(p)
	head := len(*q) > 0 && (*q)[0] == p
	for i, x := range *q {
		if x == p {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			break
		}
	}
	if head && len(*q) > 0 {
		s.scheduleStart((*q)[0])
	}
}

// ---- recordings ----

func (s *Server) startRecording(r *liveRec, maxDur time.Duration) {
	r.maxDur = maxDur
	s.liveRecs[r.name] = r
	if r.ch != nil {
		r.ch.recs = append(r.ch.recs, r)
	} else {
		r.br.recs = append(r.br.recs, r)
	}
	r.maxTimer = s.after(0, func() {
		if r.state != "queued" {
			return
		}
		r.state = "recording"
		r.segStart = s.clock.Now()
		s.emit(s.recApps(r), "RecordingStarted", map[string]any{"recording": s.liveRecJSON(r, false)})
		if maxDur > 0 {
			r.maxTimer = s.after(maxDur, func() {
				if r.state == "recording" || r.state == "paused" {
					s.finishRecording(r, "done", "")
				}
			})
		}
	})
}

func (s *Server) recApps(r *liveRec) []string {
	if r.ch != nil {
		return s.chanApps(r.ch)
	}
	return s.bridgeMediaApps(r.br)
}

// finishRecording ends r: done (stored), canceled (discarded) or failed.
func (s *Server) finishRecording(r *liveRec, state, cause string) {
	if _, ok := s.liveRecs[r.name]; !ok || s.liveRecs[r.name] != r {
		return
	}
	r.maxTimer.Stop()
	if r.state == "recording" {
		r.acc += s.clock.Since(r.segStart)
	}
	if r.maxDur > 0 && r.acc > r.maxDur {
		r.acc = r.maxDur
	}
	r.state = state
	r.cause = cause
	apps, fields := s.recApps(r), map[string]any{"recording": s.liveRecJSON(r, true)}
	delete(s.liveRecs, r.name)
	rm := func(q *[]*liveRec) {
		for i, x := range *q {
			if x == r {
				*q = append((*q)[:i:i], (*q)[i+1:]...)
				return
			}
		}
	}
	if r.ch != nil {
		rm(&r.ch.recs)
	} else {
		rm(&r.br.recs)
	}
	if state == "done" {
		s.stored[r.name] = &storedRec{name: r.name, format: r.format, duration: r.appendTo + r.acc}
	}
	// The event goes last: the recording has ended (live 404, file
	// stored) whether it is sent now, late or never (Faults).
	if state == "failed" {
		s.emit(apps, "RecordingFailed", fields)
	} else {
		s.emitRecordingFinished(r, apps, fields)
	}
}
