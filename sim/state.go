package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ariDateFormat is Asterisk's timestamp format, e.g.
// "2026-11-23T12:00:00.000+0000".
const ariDateFormat = "2006-01-02T15:04:05.000-0700"

func ariTime(t time.Time) string { return t.UTC().Format(ariDateFormat) }

func itoa(i int) string { return strconv.Itoa(i) }

// chanKind tells how a channel came to be.
type chanKind int

const (
	kindInbound   chanKind = iota // Call: a caller from the trunk
	kindOriginate                 // POST /channels
	kindCreate                    // POST /channels/create (+ dial)
	kindSnoop                     // POST /channels/{id}/snoop
	kindLocal2                    // the ;2 half of a Local channel
)

type callerID struct{ name, number string }

// channel is a simulated channel.
//
// States: Down (created, not dialed) → Ringing (far end alerting) → Up
// (answered); an inbound call starts in Ring and goes Up on answer. Any
// state → destroyed (hangup).
type channel struct {
	seq            int64
	id, name       string
	tech, resource string
	kind           chanKind
	state          string
	caller         callerID
	connected      callerID
	context, exten string
	priority       int64
	appName        string
	appData        string
	created        time.Time
	vars           map[string]string
	hangupHandlers []string // CHANNEL(hangup_handler_push), oldest first
	party          Party
	ep             *endpoint

	app   string // Stasis app (when inApp)
	args  []string
	inApp bool
	subs  map[string]bool // apps that receive this channel's events
	// explicit are the apps subscribed through /applications/{app}/subscription,
	// or by originating or creating the channel (and its Local ;2 half):
	// such a subscription outlives the channel's time in the app. A channel
	// that entered from the dialplan has only the implicit subscription of
	// its Stasis() and it ends at StasisEnd.
	explicit map[string]bool
	bridge   *bridge

	// outbound dialing
	dialing     bool // Dial begun, not yet answered/failed
	answered    bool
	dialCaller  *channel
	outApp      string // originate: app to enter on answer
	outArgs     []string
	outCtx      string // originate: dialplan target when no app
	outExten    string
	failCause   int // cause for ;2 of a failed Local
	dialTimer   *Timer
	ringTimer   *Timer
	talkTimer   *Timer
	patTimer    *Timer
	dtmfTimer   *Timer
	planTimer   *Timer
	amdApp      string // the application AMD() sends the channel to
	dtmfQ       string
	talkStarted bool

	snoops  []*channel
	snoopOf *channel
	// spy and whisper are a snoop channel's directions.
	spy, whisper string
	peer         *channel // other half of a Local channel

	playQ []*playback
	recs  []*liveRec
	gone  bool
	log   *CallRecord // Options.KeepCallLog
}

func (c *channel) stopTimers() {
	for _, t := range []*Timer{c.dialTimer, c.ringTimer, c.talkTimer, c.patTimer, c.dtmfTimer, c.planTimer} {
		t.Stop()
	}
}

// bridge is a simulated mixing bridge. Bridges live until destroyed; they
// are not destroyed when they empty.
type bridge struct {
	id, name, btype string
	created         time.Time
	chans           []*channel
	subs            map[string]bool
	playQ           []*playback
	recs            []*liveRec
}

// playback is one play request; a target plays its queue in order.
// States: queued → playing ⇄ paused → done | failed.
type playback struct {
	id        string
	media     []string
	idx       int
	lang      string
	state     string
	ch        *channel
	br        *bridge
	timer     *Timer
	remaining time.Duration // left of the current media item
	segStart  time.Time     // when the current timer started (sim)
}

func (p *playback) targetURI() string {
	if p.ch != nil {
		return "channel:" + p.ch.id
	}
	return "bridge:" + p.br.id
}

// liveRec is a recording in progress.
// States: recording ⇄ paused → done | failed | canceled.
type liveRec struct {
	name, format string
	ch           *channel
	br           *bridge
	state        string
	segStart     time.Time
	acc          time.Duration
	maxTimer     *Timer
	terminateOn  string
	maxSilence   int
	maxDur       time.Duration
	muted        bool
	cause        string
	appendTo     time.Duration
}

func (r *liveRec) targetURI() string {
	if r.ch != nil {
		return "channel:" + r.ch.id
	}
	return "bridge:" + r.br.id
}

// storedRec is a finished recording; its file is generated on download.
type storedRec struct {
	name, format string
	duration     time.Duration
}

// ---- JSON snapshots (field names as in the ARI models) ----

// chanJSON is c as an ARI Channel, encoded now. Called with s.mu held.
func (s *Server) chanJSON(c *channel) rawJSON { return s.snapped(appendChannel(s.snap[:0], c)) }

// snapped returns a copy of b, a snapshot encoded in s.snap, and keeps b's
// array as s.snap for the next one.
func (s *Server) snapped(b []byte) rawJSON {
	s.snap = b
	return rawJSON(append(make([]byte, 0, len(b)), b...))
}

// chanNow is c's ARI Channel encoded where the event that holds it is, in
// emitAt, for an event emitted as soon as it is made (a REST answer, an
// event held back, take a chanJSON snapshot).
type chanNow struct{ c *channel }

func (v chanNow) appendJSON(b []byte) []byte   { return appendChannel(b, v.c) }
func (v chanNow) MarshalJSON() ([]byte, error) { return appendChannel(nil, v.c), nil }

// bridgeNow is chanNow for a bridge.
type bridgeNow struct{ b *bridge }

func (v bridgeNow) appendJSON(b []byte) []byte   { return appendBridge(b, v.b) }
func (v bridgeNow) MarshalJSON() ([]byte, error) { return appendBridge(nil, v.b), nil }

// appendChannel appends c as an ARI Channel (keys in json.Marshal's order).
func appendChannel(b []byte, c *channel) []byte {
	o := newObject(b)
	o.str("accountcode", "")
	o.key("caller")
	o.b = appendCallerID(o.b, c.caller)
	o.key("connected")
	o.b = appendCallerID(o.b, c.connected)
	o.time("creationtime", c.created)
	o.key("dialplan")
	dp := newObject(o.b)
	dp.str("app_data", c.appData)
	dp.str("app_name", c.appName)
	dp.str("context", c.context)
	dp.str("exten", c.exten)
	dp.int("priority", c.priority)
	o.b = dp.end()
	o.str("id", c.id)
	o.str("language", "en")
	o.str("name", c.name)
	o.key("protocol_id")
	if c.tech == "PJSIP" || c.tech == "SIP" {
		o.b = appendString(o.b, c.id+"@sim")
	} else {
		o.b = appendString(o.b, "")
	}
	o.str("state", c.state)
	return o.end()
}

func appendCallerID(b []byte, id callerID) []byte {
	o := newObject(b)
	o.str("name", id.name)
	o.str("number", id.number)
	return o.end()
}

// bridgeJSON is b as an ARI Bridge, encoded now. Called with s.mu held.
func (s *Server) bridgeJSON(b *bridge) rawJSON { return s.snapped(appendBridge(s.snap[:0], b)) }

// appendBridge appends b as an ARI Bridge.
func appendBridge(dst []byte, b *bridge) []byte {
	tech := "simple_bridge"
	if len(b.chans) > 2 {
		tech = "softmix"
	}
	if b.btype == "holding" {
		tech = "holding_bridge"
	}
	o := newObject(dst)
	o.str("bridge_class", "stasis")
	o.str("bridge_type", b.btype)
	o.key("channels")
	o.b = append(o.b, '[')
	for i, c := range b.chans {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendString(o.b, c.id)
	}
	o.b = append(o.b, ']')
	o.time("creationtime", b.created)
	o.str("creator", "Stasis")
	o.str("id", b.id)
	o.str("name", b.name)
	o.str("technology", tech)
	o.str("video_mode", "none")
	return o.end()
}

func (s *Server) playbackJSON(p *playback) map[string]any {
	m := map[string]any{
		"id":         p.id,
		"media_uri":  p.media[min(p.idx, len(p.media)-1)],
		"target_uri": p.targetURI(),
		"language":   p.lang,
		"state":      p.state,
	}
	if p.idx+1 < len(p.media) {
		m["next_media_uri"] = p.media[p.idx+1]
	}
	return m
}

func (s *Server) recDuration(r *liveRec) time.Duration {
	d := r.acc
	if r.state == "recording" {
		d += s.clock.Since(r.segStart)
	}
	if r.maxDur > 0 && d > r.maxDur {
		d = r.maxDur // timer latency must not stretch a capped recording
	}
	return d
}

func (s *Server) liveRecJSON(r *liveRec, final bool) map[string]any {
	m := map[string]any{
		"name":       r.name,
		"format":     r.format,
		"target_uri": r.targetURI(),
		"state":      r.state,
	}
	if final || r.state != "queued" {
		secs := int(s.recDuration(r) / time.Second)
		m["duration"] = secs
		if r.maxSilence > 0 {
			m["talking_duration"] = secs
			m["silence_duration"] = 0
		}
	}
	if r.cause != "" {
		m["cause"] = r.cause
	}
	return m
}

func (s *Server) endpointJSON(e *endpoint) map[string]any {
	ids := append([]string{}, e.channels...)
	return map[string]any{"technology": e.tech, "resource": e.resource, "state": e.state, "channel_ids": ids}
}

// ---- event routing ----

func (s *Server) allApps(dst map[string]bool) {
	for n, a := range s.apps {
		if a.subscribeAll && a.conn != nil {
			dst[n] = true
		}
	}
}

func setList(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	if len(out) > 1 {
		sort.Strings(out)
	}
	return out
}

// chanApps are the applications that receive c's events, sorted.
func (s *Server) chanApps(cs ...*channel) []string {
	out := make([]string, 0, 4)
	for _, c := range cs {
		if c == nil {
			continue
		}
		for a := range c.subs {
			out = append(out, a)
		}
		if c.ep != nil {
			key := c.ep.key()
			for n, a := range s.apps {
				if a.endpoints[key] || a.endpoints[c.ep.tech] {
					out = append(out, n)
				}
			}
		}
	}
	return s.withAllApps(out)
}

// withAllApps adds to apps those subscribed to everything, and sorts
// them without duplicates (as setList does with a set).
func (s *Server) withAllApps(apps []string) []string {
	for n, a := range s.apps {
		if a.subscribeAll && a.conn != nil {
			apps = append(apps, n)
		}
	}
	if len(apps) > 1 {
		slices.Sort(apps)
		apps = slices.Compact(apps)
	}
	return apps
}

// bridgeApps are the applications that receive b's events: those
// subscribed to it explicitly and those of its channels (an application is
// subscribed to a bridge while a channel of its own is in it; creating a
// bridge subscribes no one, as on Asterisk 22).
func (s *Server) bridgeApps(b *bridge, extra ...*channel) []string {
	out := make([]string, 0, 4)
	for a := range b.subs {
		out = append(out, a)
	}
	for _, cs := range [2][]*channel{b.chans, extra} {
		for _, c := range cs {
			for a := range c.subs {
				out = append(out, a)
			}
		}
	}
	return s.withAllApps(out)
}

func (s *Server) endpointApps(e *endpoint) []string {
	dst := map[string]bool{}
	for n, a := range s.apps {
		if a.endpoints[e.key()] || a.endpoints[e.tech] {
			dst[n] = true
		}
	}
	s.allApps(dst)
	return setList(dst)
}

func (s *Server) chanEvent(c *channel, typ string, extra map[string]any) {
	if extra == nil {
		extra = map[string]any{}
	}
	extra["channel"] = chanNow{c}
	s.emit(s.chanApps(c), typ, extra)
}

// talkRand is the generator c's talk time is drawn from: seeded by the
// simulator's seed and c's id (with the run's start, which ids of inbound
// calls carry, left out), so that a channel talks as long however the
// channels around it were ordered. One generator shared by all, drawn as
// bridges formed, gave calls that met their agents at the same instant
// each other's talk times, in the order the process happened to run them:
// the same seed then gave another demo summary on a busy machine.
func (s *Server) talkRand(c *channel) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(strings.ReplaceAll(c.id, strconv.FormatInt(s.start.Unix(), 10)+".", "")))
	return rand.New(rand.NewPCG(s.seed, h.Sum64()))
}

// ---- ids ----

func (s *Server) newChannelID() string {
	s.idSeq++
	return fmt.Sprintf("%d.%d", s.start.Unix(), s.idSeq)
}

func (s *Server) newUUID() string {
	s.idSeq++
	r := s.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(r>>32), uint16(r>>16), uint16(r)&0xfff, s.idSeq&0xfff, s.idSeq)
}

func (s *Server) nextName() string {
	s.nameSeq++
	return fmt.Sprintf("%08x", s.nameSeq)
}

// after runs f under the server lock once d of simulated time passed,
// unless the timer was stopped (under the lock) or the server closed.
func (s *Server) after(d time.Duration, f func()) *Timer {
	var t *Timer
	t = s.clock.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		f()
	})
	return t
}

// ---- channels ----

type newChan struct {
	id, tech, resource string
	kind               chanKind
	state              string
	caller             callerID
	context, exten     string
	party              Party
	ep                 *endpoint
	nameOverride       string
}

func (s *Server) addChannel(n newChan) *channel {
	id := n.id
	if id == "" {
		id = s.newChannelID()
	}
	name := n.nameOverride
	if name == "" {
		name = n.tech + "/" + n.resource + "-" + s.nextName()
	}
	ctx, ext := n.context, n.exten
	if ctx == "" {
		ctx = "default"
	}
	if ext == "" {
		ext = "s"
	}
	c := &channel{
		seq: s.stats.ChannelsCreated, id: id, name: name, tech: n.tech, resource: n.resource, kind: n.kind,
		state: n.state, caller: n.caller, context: ctx, exten: ext, priority: 1,
		created: s.clock.Now(), vars: map[string]string{}, party: n.party, ep: n.ep,
		subs: map[string]bool{}, explicit: map[string]bool{},
	}
	s.channels[id] = c
	s.logChannel(c)
	s.stats.ChannelsCreated++
	if n.ep != nil {
		n.ep.channels = append(n.ep.channels, id)
	}
	return c
}

// enterStasis puts c into app (StasisStart).
func (s *Server) enterStasis(c *channel, app string, args []string, replace *channel) {
	c.app, c.args, c.inApp = app, args, true
	c.subs[app] = true
	c.appName = "Stasis"
	c.appData = strings.Join(append([]string{app}, args...), ",")
	if args == nil {
		args = []string{}
	}
	f := map[string]any{"args": args}
	if replace != nil {
		f["replace_channel"] = chanNow{replace}
	}
	s.chanEvent(c, "StasisStart", f)
}

// startPatience starts the abandon timer of c's party.
func (s *Server) startPatience(c *channel) {
	if c.party.Patience <= 0 || s.bridgedWithOther(c) {
		return
	}
	c.patTimer = s.after(c.party.Patience, func() {
		if !c.gone && !s.bridgedWithOther(c) {
			s.hangup(c, 16, hangFar)
		}
	})
}

// leaveStasis sends StasisEnd and drops the app's subscription if drop.
func (s *Server) leaveStasis(c *channel, drop bool) {
	if !c.inApp {
		return
	}
	s.chanEvent(c, "StasisEnd", nil)
	c.inApp = false
	if drop && !c.explicit[c.app] {
		delete(c.subs, c.app)
	}
}

func (s *Server) setState(c *channel, state string) {
	if c.state == state {
		return
	}
	c.state = state
	if r := c.log; r != nil && state == "Up" && r.Answered.IsZero() {
		r.Answered = s.clock.Now()
	}
	s.chanEvent(c, "ChannelStateChange", nil)
}

// hangup kinds.
type hangHow int

const (
	hangFar     hangHow = iota // far end hung up (or script)
	hangARI                    // DELETE /channels/{id}
	hangFail                   // call failed before answer: no HangupRequest
	hangTimeout                // dial?timeout=N expired: soft HangupRequest 32, then cause 19
	hangSnooped                // the snooped channel went: the snoop gets StasisEnd only
)

// softHangup is the cause a ChannelHangupRequest carries for a soft
// hang-up (ours, or a dial timeout): Asterisk's AST_SOFTHANGUP_EXPLICIT
// flag, 32, not a Q.850 cause.
const softHangup = 32

var causeText = map[int]string{
	0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
	18: "No user responding", 19: "User alerting, no answer", 20: "Subscriber absent",
	21: "Call Rejected", 26: "Answered elsewhere", 27: "Destination out of order",
	28: "Invalid number format (incomplete number)", 31: "Normal, unspecified",
	34: "Circuit/channel congestion", 38: "Network out of order", 58: "Bearer capability not available",
	127: "Interworking, unspecified",
}

func causeTxt(c int) string {
	if t, ok := causeText[c]; ok {
		return t
	}
	return "Unknown"
}

// dialplanEntered tells whether c came into the application from the
// dialplan (or as a snoop) rather than by being originated or created by
// it: such a channel's only subscription is the implicit one of Stasis(),
// which ends at StasisEnd.
func (c *channel) dialplanEntered() bool {
	return c.kind == kindInbound || c.kind == kindSnoop
}

// hangup destroys c with Asterisk's event order: ChannelHangupRequest,
// PlaybackFinished/RecordingFinished, ChannelLeftBridge, StasisEnd,
// ChannelDestroyed; snoops on c and the other half of a Local go too.
//
// As on Asterisk 22: our DELETE and an expired dial timeout give a soft
// ChannelHangupRequest with cause 32; a channel that entered from the
// dialplan loses its subscription at StasisEnd, so ChannelDestroyed only
// reaches applications subscribed explicitly, with cause 0; a snoop whose
// target went gets StasisEnd only.
func (s *Server) hangup(c *channel, cause int, how hangHow) {
	if c.gone {
		return
	}
	c.gone = true
	if r := c.log; r != nil {
		r.Ended, r.Cause = s.clock.Now(), cause
	}
	c.stopTimers()
	if how == hangARI && c.dialing && !c.answered {
		s.dialEvent(c, "CANCEL")
	}
	switch {
	case how == hangSnooped || how == hangFail:
	case how == hangARI || how == hangTimeout:
		if c.inApp || c.answered || how == hangARI {
			s.chanEvent(c, "ChannelHangupRequest", map[string]any{"cause": softHangup, "soft": true})
		}
	case c.kind == kindInbound && c.tech == "Local":
		// A call through a Local trunk leg: the first request carries
		// no cause yet; the meaningful one follows.
		s.chanEvent(c, "ChannelHangupRequest", map[string]any{"cause": 0})
		s.chanEvent(c, "ChannelHangupRequest", map[string]any{"cause": cause})
	case c.inApp || c.answered:
		s.chanEvent(c, "ChannelHangupRequest", map[string]any{"cause": cause})
	}
	for len(c.playQ) > 0 {
		s.finishPlayback(c.playQ[0], "done")
	}
	for len(c.recs) > 0 {
		s.finishRecording(c.recs[0], "done", "")
	}
	if c.bridge != nil {
		s.removeFromBridge(c)
	}
	s.leaveStasis(c, c.dialplanEntered())
	destroyCause := cause
	if c.dialplanEntered() {
		destroyCause = 0
	}
	s.runHangupHandlers(c)
	s.chanEvent(c, "ChannelDestroyed", map[string]any{"cause": destroyCause, "cause_txt": causeTxt(destroyCause)})
	delete(s.channels, c.id)
	if c.ep != nil {
		for i, id := range c.ep.channels {
			if id == c.id {
				c.ep.channels = append(c.ep.channels[:i], c.ep.channels[i+1:]...)
				break
			}
		}
	}
	if t := c.snoopOf; t != nil {
		for i, sn := range t.snoops {
			if sn == c {
				t.snoops = append(t.snoops[:i], t.snoops[i+1:]...)
				break
			}
		}
	}
	for _, sn := range append([]*channel{}, c.snoops...) {
		s.hangup(sn, 16, hangSnooped)
	}
	if p := c.peer; p != nil && !p.gone {
		pc := 16
		if c.failCause != 0 {
			pc = c.failCause
		}
		s.hangup(p, pc, hangFar)
	}
	s.channelEnded(c)
}

func (s *Server) bridgedWithOther(c *channel) bool {
	return c.bridge != nil && len(c.bridge.chans) > 1
}

// ---- bridges ----

func (s *Server) addToBridge(b *bridge, c *channel) {
	if c.bridge == b {
		return
	}
	if c.bridge != nil {
		s.removeFromBridge(c)
	}
	c.bridge = b
	b.chans = append(b.chans, c)
	s.emit(s.bridgeApps(b), "ChannelEnteredBridge", map[string]any{"bridge": bridgeNow{b}, "channel": chanNow{c}})
	if len(b.chans) > 1 {
		for _, m := range b.chans {
			s.startTalk(m)
			if m != c {
				s.logMeeting(m, c)
				s.logMeeting(c, m)
			}
		}
	}
}

// startTalk starts c's talk timer the first time it shares a bridge.
func (s *Server) startTalk(c *channel) {
	c.patTimer.Stop()
	if c.talkStarted {
		return
	}
	c.talkStarted = true
	d := c.party.talkTime(s.talkRand(c))
	if d <= 0 {
		return
	}
	c.talkTimer = s.after(d, func() {
		if !c.gone {
			s.hangup(c, 16, hangFar)
		}
	})
}

func (s *Server) removeFromBridge(c *channel) {
	b := c.bridge
	if b == nil {
		return
	}
	for i, m := range b.chans {
		if m == c {
			b.chans = append(b.chans[:i], b.chans[i+1:]...)
			break
		}
	}
	c.bridge = nil
	s.emit(s.bridgeApps(b, c), "ChannelLeftBridge", map[string]any{"bridge": bridgeNow{b}, "channel": chanNow{c}})
}

func (s *Server) destroyBridge(b *bridge) {
	for len(b.playQ) > 0 {
		s.finishPlayback(b.playQ[0], "done")
	}
	for len(b.recs) > 0 {
		s.finishRecording(b.recs[0], "done", "")
	}
	apps := s.bridgeApps(b)
	for len(b.chans) > 0 {
		s.removeFromBridge(b.chans[0])
	}
	delete(s.bridges, b.id)
	// Only applications still subscribed get it: none for a bridge no
	// application channel was in when it was deleted.
	s.emit(apps, "BridgeDestroyed", map[string]any{"bridge": bridgeNow{b}})
}

// ---- DTMF ----

// queueDTMF makes the far end of c press digits (',' = pause).
func (s *Server) queueDTMF(c *channel, digits string, delay time.Duration) {
	busy := c.dtmfQ != ""
	c.dtmfQ += digits
	if !busy {
		s.scheduleDTMF(c, delay)
	}
}

func (s *Server) scheduleDTMF(c *channel, d time.Duration) {
	c.dtmfTimer = s.after(d, func() {
		if c.gone || c.dtmfQ == "" {
			return
		}
		r := c.dtmfQ[0]
		c.dtmfQ = c.dtmfQ[1:]
		if r == ',' {
			if c.dtmfQ != "" {
				s.scheduleDTMF(c, DigitPause)
			}
			return
		}
		s.dtmfReceived(c, string(r))
		if c.dtmfQ != "" && !c.gone {
			if c.dtmfQ[0] == ',' {
				c.dtmfQ = c.dtmfQ[1:]
				s.scheduleDTMF(c, DigitPause)
			} else {
				s.scheduleDTMF(c, DigitGap)
			}
		}
	})
}

func (s *Server) dtmfReceived(c *channel, digit string) {
	s.chanEvent(c, "ChannelDtmfReceived", map[string]any{"digit": digit, "duration_ms": DigitDuration})
	for _, r := range append([]*liveRec{}, c.recs...) {
		if r.terminateOn == "any" || (r.terminateOn != "" && r.terminateOn != "none" && strings.Contains(r.terminateOn, digit)) {
			s.finishRecording(r, "done", "")
		}
	}
}

// afterAnswer starts the party's post-answer script (digits, patience).
func (s *Server) afterAnswer(c *channel) {
	if c.party.Digits != "" {
		s.queueDTMF(c, c.party.Digits, c.party.DigitsDelay)
	}
	s.startPatience(c)
}
