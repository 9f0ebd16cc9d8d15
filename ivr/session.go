package ivr

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits that keep one call's session small and finite whatever the flow or
// the caller does.
const (
	// MaxChain is how many nodes one Step may enter without waiting for the
	// caller or the PBX; beyond it the flow is looping (goto a -> goto b ->
	// goto a) and the call is hung up with End "error: loop".
	MaxChain = 1000
	// MaxVisits is how many visits Path keeps (the last ones): a caller
	// looping through a menu for an hour must not grow memory without bound.
	MaxVisits = 200
	// MaxSubflowDepth bounds nested sub-flows (a flow that calls itself).
	MaxSubflowDepth = 32

	maxTypeAhead  = 32 // keys buffered while a play or say node plays
	maxVisitKeys  = 64 // keys recorded per visit
	maxResultLen  = 512
	defaultCause  = 16 // Q.850 normal clearing
	defaultMenuTO = 5 * time.Second
	defaultDigitT = 3 * time.Second
	defaultLookTO = 3 * time.Second
	defaultXferTO = 30 * time.Second
	defaultMaxLen = 120 * time.Second
	defaultMin    = 1
	defaultMax    = 20
)

// state is what a Session waits for.
type state uint8

const (
	stNew             state = iota // before Begin
	stPlaying                      // play/say node: PlaybackDone; digits are type-ahead
	stMenuPrompt                   // menu prompt playing (barge-in)
	stMenuWait                     // menu prompt done, key timer running
	stGatherPrompt                 // gather prompt playing (barge-in)
	stGatherInput                  // gather timer running (first-digit or inter-digit)
	stLookup                       // LookupDone or the safety-net timer
	stTransfer                     // TransferDone
	stVoicemailPrompt              // voicemail prompt playing
	stRecording                    // RecordingDone
	stHangupPrompt                 // goodbye playing, then HangupCmd
	stDone                         // ended
)

var stateNames = [...]string{"new", "playing", "menu-prompt", "menu-wait", "gather-prompt", "gather-input",
	"lookup", "transfer", "voicemail-prompt", "recording", "hangup-prompt", "done"}

func (s state) String() string { return stateNames[s] }

// frame is a sub-flow's return point: the calling flow and the node after
// the subflow node.
type frame struct {
	flow *Flow
	next string
}

// Session is one call's walk through a flow Set: the IVR interpreter. It is
// a pure state machine: Step(input, now) returns the Commands the call's
// owner carries out, and the owner feeds back what happened. It does no I/O,
// starts no goroutines and reads no clock. It is not safe for concurrent use:
// the call's owner (one goroutine) drives it.
//
// A session keeps the Set it began on, so a hot reload never changes a call
// in progress.
//
// States (what the session waits for) and transitions:
//
//	new            Begin -> enter the flow's Start node. CallerHungUp -> done.
//	               Anything else is ignored.
//	(entering)     Input-free nodes chain within one Step: branch, set, goto,
//	               subflow, return, say of an unspeakable value, play of an empty
//	               prompt. queue and a hangup without prompt end the session.
//	               More than MaxChain nodes in one Step -> HangupCmd, End
//	               "error: loop". A node with no successor returns from a
//	               sub-flow, or hangs up at the top level.
//	playing        (play, say) PlaybackDone{ID} -> Next. Digit -> buffered as
//	               type-ahead for the next menu or gather.
//	menu-prompt    (menu, PlayCmd BargeIn) Digit -> StopPlayCmd, act on the key.
//	               PlaybackDone -> StartTimerCmd, menu-wait.
//	menu-wait      Digit -> CancelTimerCmd, act on the key. TimerFired -> retry.
//	               A valid key -> Keys[key]; an invalid key or a timeout -> retry:
//	               InvalidPrompt or TimeoutPrompt then the prompt again
//	               (menu-prompt); after Retries retries -> Fail, or HangupCmd.
//	               Entering a menu with type-ahead acts on the first buffered key
//	               without playing the prompt; an invalid key drops the rest of
//	               the buffer (the caller is out of step with the menus).
//	gather-prompt  (gather, PlayCmd BargeIn) Digit -> StopPlayCmd, collect,
//	               gather-input. PlaybackDone -> StartTimerCmd(Timeout).
//	gather-input   Digit -> collect, restart the timer (InterDigitTimeout).
//	               The Terminator or the Max-th digit ends input; TimerFired
//	               ends it too (or, with no digits, is a timeout). Input of at
//	               least Min digits matching Pattern -> SetVarCmd(Into), Next;
//	               otherwise retry as a menu does -> Fail, or HangupCmd.
//	               Pattern must match the whole input. Entering a gather with
//	               type-ahead collects it first and plays no prompt.
//	lookup         (LookupCmd + StartTimerCmd as a safety net) LookupDone ->
//	               CancelTimerCmd; 2xx with JSON -> SetVarCmd per Map, Next;
//	               else Fail. TimerFired first -> Fail ("lookup failed:
//	               timeout"); the late LookupDone is ignored. With no Fail node a
//	               failed lookup goes on to Next with its variables unset.
//	transfer       (TransferCmd) TransferDone Answered -> done; not answered ->
//	               Fail, or HangupCmd.
//	voicemail-prompt PlaybackDone -> RecordCmd, recording.
//	recording      RecordingDone{Name} -> VoicemailCmd (unless it failed or is
//	               shorter than MinLength: "discarded"), then Next, or HangupCmd
//	               with End "voicemail:MAILBOX".
//	hangup-prompt  PlaybackDone -> HangupCmd, done (End "hangup").
//	done           Every input is ignored, with one exception: when the
//	               caller hung up while recording a voicemail (most callers end
//	               a message that way) the RecordingDone of that recording is
//	               still taken (see PendingRecording) and may give a
//	               VoicemailCmd; End becomes "voicemail:MAILBOX".
//
// Prompts play in the node's language, else the flow's, else (a shared
// sub-flow written without one) the calling flow's.
//
// CallerHungUp in any state -> done, End "caller-hangup"; the only commands
// then are CancelTimerCmd for a pending timer and StopPlayCmd for a playing
// prompt. Inputs whose ID, token or name is not the one awaited are stale and
// ignored. IDs and tokens are unique within the session ("play-1",
// "timer-2", "lookup-3", "transfer-4", "vm-5"); the owner adds the call's id
// where it needs a globally unique name (recordings).
//
// Defaults the loader normally fills are applied here too when a field is
// zero: timeouts (menu and gather 5s, inter-digit 3s, lookup 3s, transfer
// 30s), voicemail MaxLength 120s, gather Min 1 and Max 20, hangup cause 16,
// lookup method GET, money in USD. Retries, Beep, the terminators, voicemail
// MaxSilence (0: no silence limit) and MinLength (0: keep every message)
// are used as given: their zero values mean something.
type Session struct {
	set  *Set
	top  *Flow
	cals Calendars
	loc  *time.Location

	st       state
	flow     *Flow
	node     *Node
	nodeName string
	stack    []frame

	caller, dnis string
	vars         map[string]string
	began        time.Time
	now          time.Time
	visits       []Visit
	end          string
	steps        int
	hops         int // nodes entered in this Step
	seq          int // ids and tokens
	out          []Command

	play      string // playback in progress
	timer     string // pending timer
	token     string // awaited lookup or transfer
	rec       string // awaited recording
	target    string // transfer target, for End
	tries     int    // menu/gather retries used
	digits    string // gather input so far
	typeAhead []string

	pendingRec  string // recording still awaited after the caller hung up
	pendingNode *Node
}

// NewSession starts a session for one call in flow of set. cals answers
// calendar("name") in expressions (nil: every calendar is closed); loc is the
// time zone expressions and say nodes use (nil: UTC). Step must then be
// given Begin.
func NewSession(set *Set, flow string, cals Calendars, loc *time.Location) (*Session, error) {
	if set == nil {
		return nil, fmt.Errorf("ivr session: no flow set")
	}
	f := set.Flows[flow]
	if f == nil {
		return nil, fmt.Errorf("ivr session: unknown flow %q", flow)
	}
	if f.Nodes[f.Start] == nil {
		return nil, fmt.Errorf("ivr session: flow %q: start node %q does not exist", flow, f.Start)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Session{set: set, top: f, flow: f, cals: cals, loc: loc}, nil
}

// Done reports whether the session has ended: handed to a queue, transfer
// connected, hung up (by the flow or the caller), or a fatal flow error.
func (s *Session) Done() bool { return s.st == stDone }

// Steps is how many inputs the session has taken (stale ones included,
// those after Done excluded): the unit of the IVR benchmark.
func (s *Session) Steps() int { return s.steps }

// Node is where the session is: the current flow (a sub-flow while one runs)
// and node. Both are "" before Begin.
func (s *Session) Node() (flow, node string) {
	if s.node == nil {
		return "", ""
	}
	return s.flow.Name, s.nodeName
}

// Vars returns a copy of the flow variables.
func (s *Session) Vars() map[string]string {
	out := make(map[string]string, len(s.vars))
	maps.Copy(out, s.vars)
	return out
}

// Path returns a copy of the call's path so far: the last MaxVisits visits,
// the variables, and End once the session is done. Flow is the flow the call
// entered, Version the Set's.
func (s *Session) Path() Path {
	vis := s.visits
	if len(vis) > MaxVisits {
		vis = vis[len(vis)-MaxVisits:]
	}
	p := Path{Flow: s.top.Name, Version: s.set.Version, End: s.end, Visits: make([]Visit, len(vis))}
	for i, v := range vis {
		v.Prompts = slices.Clone(v.Prompts)
		p.Visits[i] = v
	}
	if len(s.vars) > 0 {
		p.Vars = s.Vars()
	}
	return p
}

// PendingRecording names the voicemail recording the caller hung up during,
// "" if none. The owner should still feed that recording's RecordingDone
// (it may give the VoicemailCmd that stores the message) before it stores
// the Path.
func (s *Session) PendingRecording() string { return s.pendingRec }

// Step feeds one input and returns what the owner must do, in order. The
// first input must be Begin. now is the wall-clock time of the input.
func (s *Session) Step(in Input, now time.Time) []Command {
	in = deref(in)
	if s.st == stDone {
		if rd, ok := in.(RecordingDone); ok && s.pendingRec != "" && rd.Name == s.pendingRec {
			s.now = now
			s.lateRecording(rd)
			return s.flush()
		}
		return nil
	}
	s.steps++
	s.now = now
	s.hops = 0
	if s.st == stNew {
		switch in := in.(type) {
		case Begin:
			s.begin(in)
		case CallerHungUp:
			s.finish("caller-hangup")
		}
		return s.flush()
	}
	switch in := in.(type) {
	case CallerHungUp:
		s.callerHungUp()
	case PlaybackDone:
		s.playbackDone(in)
	case Digit:
		s.digit(in.Key)
	case TimerFired:
		s.timerFired(in.Token)
	case LookupDone:
		s.lookupDone(in)
	case TransferDone:
		s.transferDone(in)
	case RecordingDone:
		s.recordingDone(in)
	}
	return s.flush()
}

// deref accepts inputs given by pointer too (*Digit implements Input).
func deref(in Input) Input {
	switch p := in.(type) {
	case *Begin:
		return *p
	case *PlaybackDone:
		return *p
	case *Digit:
		return *p
	case *TimerFired:
		return *p
	case *LookupDone:
		return *p
	case *RecordingDone:
		return *p
	case *TransferDone:
		return *p
	case *CallerHungUp:
		return *p
	}
	return in
}

func (s *Session) flush() []Command {
	out := s.out
	s.out = nil
	return out
}

func (s *Session) emit(c Command) { s.out = append(s.out, c) }

func (s *Session) newID(prefix string) string {
	s.seq++
	return prefix + strconv.Itoa(s.seq)
}

func (s *Session) facts() Facts {
	return Facts{Caller: s.caller, DNIS: s.dnis, Now: s.now.In(s.loc), Calendars: s.cals, Vars: s.vars}
}

func (s *Session) begin(b Begin) {
	s.caller, s.dnis = b.Caller, b.DNIS
	s.vars = make(map[string]string, len(b.Vars)+len(s.set.Declared))
	maps.Copy(s.vars, b.Vars)
	s.began = s.now
	s.advance(s.top.Start)
}

// advance enters next and keeps going through input-free nodes until one
// waits or the session ends. "" means the previous node had no successor:
// return from the sub-flow, or hang up at the top level.
func (s *Session) advance(next string) {
	for {
		for next == "" {
			if len(s.stack) == 0 {
				s.hangup(defaultCause, "hangup")
				return
			}
			fr := s.stack[len(s.stack)-1]
			s.stack = s.stack[:len(s.stack)-1]
			s.flow, next = fr.flow, fr.next
		}
		s.hops++
		if s.hops > MaxChain {
			s.fatal("loop")
			return
		}
		n := s.flow.Nodes[next]
		if n == nil {
			s.fatal(fmt.Sprintf("unknown node %q in flow %q", next, s.flow.Name))
			return
		}
		s.enter(next, n)
		var cont bool
		if next, cont = s.exec(n); !cont {
			return
		}
	}
}

// then continues the flow when an action says so (cont); otherwise the
// session waits or has ended.
func (s *Session) then(next string, cont bool) {
	if cont {
		s.advance(next)
	}
}

func (s *Session) enter(name string, n *Node) {
	if len(s.visits) >= 2*MaxVisits { // keep the last MaxVisits, amortised
		s.visits = append(s.visits[:0], s.visits[len(s.visits)-MaxVisits+1:]...)
	}
	at := math.Round(s.now.Sub(s.began).Seconds()*1000) / 1000
	s.visits = append(s.visits, Visit{Flow: s.flow.Name, Node: name, Type: n.Type, At: at})
	s.node, s.nodeName = n, name
	s.tries, s.digits = 0, ""
}

func (s *Session) visit() *Visit {
	if len(s.visits) == 0 {
		return nil
	}
	return &s.visits[len(s.visits)-1]
}

// result adds an outcome to the current visit ("invalid 7, timeout, retries
// exhausted").
func (s *Session) result(r string) {
	v := s.visit()
	if v == nil || len(v.Result) >= maxResultLen {
		return
	}
	if v.Result != "" {
		r = v.Result + ", " + r
	}
	if len(r) > maxResultLen {
		r = r[:maxResultLen]
	}
	v.Result = r
}

func (s *Session) addKey(k string) {
	if v := s.visit(); v != nil && len(v.Keys)+len(k) <= maxVisitKeys {
		v.Keys += k
	}
}

func (s *Session) finish(end string) {
	s.end = end
	s.st = stDone
	s.typeAhead = nil
	s.stack = nil
}

func (s *Session) hangup(cause int, end string) {
	if cause == 0 {
		cause = defaultCause
	}
	s.emit(HangupCmd{Cause: cause})
	s.finish(end)
}

// fatal ends the call on a flow error the validator should have caught (or
// a loop): the caller hears a hang-up rather than silence.
func (s *Session) fatal(why string) {
	s.result("error: " + why)
	s.hangup(defaultCause, "error: "+why)
}

func (s *Session) setVar(name, value string) {
	s.vars[name] = value
	s.emit(SetVarCmd{Name: name, Value: value})
}

func (s *Session) expand(prompts ...Prompt) []string {
	var n int
	for _, p := range prompts {
		n += len(p)
	}
	if n == 0 {
		return nil
	}
	f := s.facts()
	out := make([]string, 0, n)
	for _, p := range prompts {
		for _, m := range p {
			out = append(out, Expand(m, f))
		}
	}
	return out
}

// lang is the prompt language: the node's, else the flow's, else (for a
// shared sub-flow written without one) that of the flow that called it.
func (s *Session) lang(override string) string {
	if override != "" {
		return override
	}
	if s.flow.Language != "" {
		return s.flow.Language
	}
	for i := len(s.stack) - 1; i >= 0; i-- {
		if l := s.stack[i].flow.Language; l != "" {
			return l
		}
	}
	return ""
}

func (s *Session) startPlay(media []string, lang string, bargeIn bool) {
	s.play = s.newID("play-")
	s.emit(PlayCmd{ID: s.play, Media: media, Language: lang, BargeIn: bargeIn})
	if v := s.visit(); v != nil {
		v.Prompts = append(v.Prompts, media...)
	}
}

func (s *Session) stopPlay() {
	if s.play != "" {
		s.emit(StopPlayCmd{ID: s.play})
		s.play = ""
	}
}

func (s *Session) startTimer(d time.Duration) {
	s.timer = s.newID("timer-")
	s.emit(StartTimerCmd{Token: s.timer, After: d})
}

func (s *Session) cancelTimer() {
	if s.timer != "" {
		s.emit(CancelTimerCmd{Token: s.timer})
		s.timer = ""
	}
}

func orDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func orInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// exec runs a node just entered. cont reports that the flow goes on at next
// now; otherwise the session waits for an input or has ended.
func (s *Session) exec(n *Node) (next string, cont bool) {
	switch n.Type {
	case NodePlay:
		if n.Play == nil {
			return s.missing(n)
		}
		media := s.expand(n.Play.Media)
		if len(media) == 0 {
			return n.Next, true
		}
		s.startPlay(media, s.lang(n.Play.Language), false)
		s.st = stPlaying
		return "", false
	case NodeSay:
		if n.Say == nil {
			return s.missing(n)
		}
		lang := s.lang(n.Say.Language)
		media, err := SayMedia(n.Say.Kind, Expand(n.Say.Value, s.facts()), n.Say.Currency, lang, s.loc)
		if err != nil {
			s.result("unspeakable")
			return n.Next, true
		}
		s.startPlay(media, lang, false)
		s.st = stPlaying
		return "", false
	case NodeMenu:
		if n.Menu == nil {
			return s.missing(n)
		}
		if k, ok := s.popTypeAhead(); ok {
			return s.menuKey(n.Menu, k, true)
		}
		return s.menuPrompt(n.Menu, nil)
	case NodeGather:
		if n.Gather == nil {
			return s.missing(n)
		}
		return s.gatherStart(n.Gather)
	case NodeBranch:
		if n.Branch == nil {
			return s.missing(n)
		}
		return s.branch(n.Branch)
	case NodeSet:
		s.assign(n.Set)
		return n.Next, true
	case NodeLookup:
		if n.Lookup == nil {
			return s.missing(n)
		}
		s.lookup(n.Lookup)
		return "", false
	case NodeQueue:
		if n.Queue == nil {
			return s.missing(n)
		}
		q := n.Queue
		var skills map[string]string
		if len(q.Skills) > 0 {
			f := s.facts()
			skills = make(map[string]string, len(q.Skills))
			for k, v := range q.Skills {
				skills[k] = Expand(v, f)
			}
		}
		s.emit(QueueCmd{Queue: q.Name, Priority: q.Priority, Skills: skills})
		s.finish("queue:" + q.Name)
		return "", false
	case NodeTransfer:
		if n.Transfer == nil {
			return s.missing(n)
		}
		s.transfer(n.Transfer)
		return "", false
	case NodeVoicemail:
		if n.Voicemail == nil {
			return s.missing(n)
		}
		if media := s.expand(n.Voicemail.Prompt); len(media) > 0 {
			s.startPlay(media, s.lang(""), false)
			s.st = stVoicemailPrompt
			return "", false
		}
		s.record(n.Voicemail)
		return "", false
	case NodeHangup:
		var h Hangup
		if n.Hangup != nil {
			h = *n.Hangup
		}
		if media := s.expand(h.Prompt); len(media) > 0 {
			s.startPlay(media, s.lang(""), false)
			s.st = stHangupPrompt
			return "", false
		}
		s.hangup(h.Cause, "hangup")
		return "", false
	case NodeGoto:
		return n.Goto, true
	case NodeSubflow:
		sub := s.set.Flows[n.Subflow]
		if sub == nil {
			s.fatal(fmt.Sprintf("unknown flow %q", n.Subflow))
			return "", false
		}
		if len(s.stack) >= MaxSubflowDepth {
			s.fatal("sub-flows nested too deep")
			return "", false
		}
		s.stack = append(s.stack, frame{flow: s.flow, next: n.Next})
		s.flow = sub
		return sub.Start, true
	case NodeReturn:
		return "", true // advance pops the return point, or hangs up at the top
	}
	s.fatal(fmt.Sprintf("unknown node type %q", n.Type))
	return "", false
}

func (s *Session) missing(n *Node) (string, bool) {
	s.fatal(fmt.Sprintf("%s node %q has no %s settings", n.Type, s.nodeName, n.Type))
	return "", false
}

// failTo goes to a fail node, or hangs up when there is none.
func (s *Session) failTo(node string) (string, bool) {
	if node == "" {
		s.hangup(defaultCause, "hangup")
		return "", false
	}
	return node, true
}

// --- play, say and type-ahead

func (s *Session) popTypeAhead() (string, bool) {
	if len(s.typeAhead) == 0 {
		return "", false
	}
	k := s.typeAhead[0]
	s.typeAhead = s.typeAhead[1:]
	return k, true
}

func (s *Session) playbackDone(in PlaybackDone) {
	if s.play == "" || in.ID != s.play {
		return
	}
	s.play = ""
	if in.Failed {
		s.result("playback failed")
	}
	switch s.st {
	case stPlaying:
		s.advance(s.node.Next)
	case stMenuPrompt:
		s.startTimer(orDur(s.node.Menu.Timeout, defaultMenuTO))
		s.st = stMenuWait
	case stGatherPrompt:
		s.startTimer(orDur(s.node.Gather.Timeout, defaultMenuTO))
		s.st = stGatherInput
	case stVoicemailPrompt:
		s.record(s.node.Voicemail)
	case stHangupPrompt:
		cause := 0
		if s.node.Hangup != nil {
			cause = s.node.Hangup.Cause
		}
		s.hangup(cause, "hangup")
	}
}

func (s *Session) digit(key string) {
	if key == "" {
		return
	}
	s.addKey(key)
	switch s.st {
	case stPlaying:
		if len(s.typeAhead) < maxTypeAhead {
			s.typeAhead = append(s.typeAhead, key)
		}
	case stMenuPrompt:
		s.stopPlay()
		s.then(s.menuKey(s.node.Menu, key, false))
	case stMenuWait:
		s.cancelTimer()
		s.then(s.menuKey(s.node.Menu, key, false))
	case stGatherPrompt:
		s.stopPlay()
		s.then(s.gatherKey(s.node.Gather, key))
	case stGatherInput:
		s.cancelTimer()
		s.then(s.gatherKey(s.node.Gather, key))
	}
}

func (s *Session) timerFired(token string) {
	if s.timer == "" || token != s.timer {
		return
	}
	s.timer = ""
	switch s.st {
	case stMenuWait:
		m := s.node.Menu
		s.then(s.retry("timeout", m.Retries, m.Fail, func() (string, bool) { return s.menuPrompt(m, m.TimeoutPrompt) }))
	case stGatherInput:
		g := s.node.Gather
		if s.digits != "" {
			s.then(s.gatherFinish(g))
			return
		}
		s.then(s.retry("timeout", g.Retries, g.Fail, func() (string, bool) { return s.gatherPrompt(g, g.TimeoutPrompt) }))
	case stLookup:
		s.token = ""
		s.result("lookup failed: timeout")
		s.then(s.lookupFailed())
	}
}

// retry counts a failed try of a menu or gather: again (prompt) while tries
// are left, then the fail node or a hang-up.
func (s *Session) retry(why string, retries int, fail string, again func() (string, bool)) (string, bool) {
	s.result(why)
	s.tries++
	if s.tries > max(retries, 0) {
		s.result("retries exhausted")
		return s.failTo(fail)
	}
	return again()
}

// --- menu

func (s *Session) menuPrompt(m *Menu, before Prompt) (string, bool) {
	media := s.expand(before, m.Prompt)
	if len(media) == 0 {
		s.startTimer(orDur(m.Timeout, defaultMenuTO))
		s.st = stMenuWait
		return "", false
	}
	s.startPlay(media, s.lang(""), true)
	s.st = stMenuPrompt
	return "", false
}

func (s *Session) menuKey(m *Menu, key string, typedAhead bool) (string, bool) {
	if next, ok := m.Keys[key]; ok {
		r := "key " + key
		if typedAhead {
			r += " (type-ahead)"
		}
		s.result(r)
		return next, true
	}
	// The caller is out of step with the menus: drop what else they typed
	// so the invalid prompt and the menu are heard.
	s.typeAhead = nil
	return s.retry("invalid "+key, m.Retries, m.Fail, func() (string, bool) { return s.menuPrompt(m, m.InvalidPrompt) })
}

// --- gather

func (s *Session) gatherStart(g *Gather) (string, bool) {
	if len(s.typeAhead) == 0 {
		return s.gatherPrompt(g, nil)
	}
	for {
		k, ok := s.popTypeAhead()
		if !ok {
			break
		}
		if s.gatherAdd(g, k) {
			return s.gatherFinish(g)
		}
	}
	s.startTimer(orDur(g.InterDigitTimeout, defaultDigitT))
	s.st = stGatherInput
	return "", false
}

func (s *Session) gatherPrompt(g *Gather, before Prompt) (string, bool) {
	s.digits = ""
	media := s.expand(before, g.Prompt)
	if len(media) == 0 {
		s.startTimer(orDur(g.Timeout, defaultMenuTO))
		s.st = stGatherInput
		return "", false
	}
	s.startPlay(media, s.lang(""), true)
	s.st = stGatherPrompt
	return "", false
}

// gatherAdd takes one key and reports whether input has ended.
func (s *Session) gatherAdd(g *Gather, key string) bool {
	if g.Terminator != "" && key == g.Terminator {
		return true
	}
	s.digits += key
	return len(s.digits) >= orInt(g.Max, defaultMax)
}

func (s *Session) gatherKey(g *Gather, key string) (string, bool) {
	if s.gatherAdd(g, key) {
		return s.gatherFinish(g)
	}
	s.startTimer(orDur(g.InterDigitTimeout, defaultDigitT))
	s.st = stGatherInput
	return "", false
}

func (s *Session) gatherFinish(g *Gather) (string, bool) {
	d := s.digits
	s.digits = ""
	ok := len(d) >= orInt(g.Min, defaultMin)
	if ok && g.Pattern != "" {
		re, err := compilePattern(g.Pattern)
		if err != nil {
			s.fatal("bad pattern: " + err.Error())
			return "", false
		}
		ok = re.MatchString(d)
	}
	if !ok {
		why := "invalid"
		if d != "" {
			why += " " + d
		}
		return s.retry(why, g.Retries, g.Fail, func() (string, bool) { return s.gatherPrompt(g, g.InvalidPrompt) })
	}
	if g.Into != "" {
		s.setVar(g.Into, d)
		s.result("stored " + g.Into)
	} else {
		s.result("input ok")
	}
	return s.node.Next, true
}

// --- branch and set

func (s *Session) branch(b *Branch) (string, bool) {
	f := s.facts()
	for i, c := range b.Cases {
		if c.Program == nil {
			s.result(fmt.Sprintf("case %d error: not compiled", i+1))
			continue
		}
		ok, err := RunCond(c.Program, f, s.set.Declared)
		if err != nil {
			s.result(fmt.Sprintf("case %d error: %s", i+1, firstLine(err.Error())))
			continue
		}
		if ok {
			s.result(fmt.Sprintf("case %d", i+1))
			return c.Next, true
		}
	}
	if b.Else == "" {
		s.result("no case holds")
		s.hangup(defaultCause, "hangup")
		return "", false
	}
	s.result("else")
	return b.Else, true
}

func (s *Session) assign(as []Assign) {
	var set []string
	for _, a := range as {
		if a.Program == nil {
			s.result(a.Var + " error: not compiled")
			continue
		}
		v, err := RunExpr(a.Program, s.facts(), s.set.Declared)
		if err != nil {
			s.result(a.Var + " error: " + firstLine(err.Error()))
			continue
		}
		s.setVar(a.Var, v)
		set = append(set, a.Var)
	}
	if len(set) > 0 {
		s.result("set " + strings.Join(set, ", "))
	}
}

// --- lookup

func (s *Session) lookup(l *Lookup) {
	f := s.facts()
	method := strings.ToUpper(l.Method)
	if method == "" {
		method = "GET"
	}
	var headers map[string]string
	if len(l.Headers) > 0 {
		headers = make(map[string]string, len(l.Headers))
		for k, v := range l.Headers {
			headers[k] = Expand(v, f)
		}
	}
	timeout := orDur(l.Timeout, defaultLookTO)
	s.token = s.newID("lookup-")
	s.emit(LookupCmd{Token: s.token, Method: method, URL: Expand(l.URL, f), Headers: headers,
		Body: Expand(l.Body, f), Timeout: timeout})
	// The owner may be slow to answer (a stuck HTTP client, a full queue):
	// the caller must not wait longer than the flow says.
	s.startTimer(timeout)
	s.st = stLookup
}

func (s *Session) lookupDone(in LookupDone) {
	if s.st != stLookup || s.token == "" || in.Token != s.token {
		return
	}
	s.token = ""
	s.cancelTimer()
	l := s.node.Lookup
	switch {
	case in.Err != "":
		s.result("lookup failed: " + in.Err)
		s.then(s.lookupFailed())
		return
	case in.Status < 200 || in.Status > 299:
		s.result("lookup failed: status " + strconv.Itoa(in.Status))
		s.then(s.lookupFailed())
		return
	}
	if len(l.Map) > 0 {
		doc, err := parseJSON(in.Body)
		if err != nil {
			s.result("lookup failed: bad JSON")
			s.then(s.lookupFailed())
			return
		}
		for _, v := range slices.Sorted(maps.Keys(l.Map)) {
			s.setVar(v, jsonPath(doc, l.Map[v]))
		}
	}
	s.result("lookup ok")
	s.advance(s.node.Next)
}

func (s *Session) lookupFailed() (string, bool) {
	if f := s.node.Lookup.Fail; f != "" {
		return f, true
	}
	return s.node.Next, true
}

// --- transfer

func (s *Session) transfer(t *Transfer) {
	f := s.facts()
	cmd := TransferCmd{Endpoint: Expand(t.Endpoint, f), Extension: Expand(t.Extension, f),
		Number: Expand(t.Number, f), Timeout: orDur(t.Timeout, defaultXferTO)}
	switch {
	case cmd.Endpoint != "":
		s.target = cmd.Endpoint
	case cmd.Extension != "":
		s.target = cmd.Extension
	default:
		s.target = cmd.Number
	}
	s.token = s.newID("transfer-")
	cmd.Token = s.token
	s.emit(cmd)
	s.st = stTransfer
}

func (s *Session) transferDone(in TransferDone) {
	if s.st != stTransfer || s.token == "" || in.Token != s.token {
		return
	}
	s.token = ""
	if in.Answered {
		s.result("answered")
		s.finish("transfer:" + s.target)
		return
	}
	s.result("no answer")
	s.then(s.failTo(s.node.Transfer.Fail))
}

// --- voicemail

func (s *Session) record(v *Voicemail) {
	s.rec = s.newID("vm-")
	s.emit(RecordCmd{Name: s.rec, MaxDuration: orDur(v.MaxLength, defaultMaxLen),
		MaxSilence: max(v.MaxSilence, 0), Beep: v.Beep, TerminateOn: v.Terminator})
	s.st = stRecording
}

func (s *Session) recordingDone(in RecordingDone) {
	if s.st != stRecording || s.rec == "" || in.Name != s.rec {
		return
	}
	s.rec = ""
	v := s.node.Voicemail
	kept := s.keepMessage(v, in)
	next := v.Next
	if next == "" {
		next = s.node.Next
	}
	if next == "" && len(s.stack) == 0 {
		if kept {
			s.hangup(defaultCause, "voicemail:"+s.mailbox(v))
		} else {
			s.hangup(defaultCause, "hangup")
		}
		return
	}
	s.advance(next)
}

// lateRecording takes the RecordingDone of a message the caller ended by
// hanging up.
func (s *Session) lateRecording(in RecordingDone) {
	v := s.pendingNode.Voicemail
	s.pendingRec, s.pendingNode = "", nil
	if s.keepMessage(v, in) {
		s.end = "voicemail:" + s.mailbox(v)
	}
}

func (s *Session) mailbox(v *Voicemail) string { return Expand(v.Mailbox, s.facts()) }

// keepMessage stores a finished recording (VoicemailCmd) unless it failed or
// is too short to be a message (a caller who hung up at the beep).
func (s *Session) keepMessage(v *Voicemail, in RecordingDone) bool {
	switch {
	case in.Err != "":
		s.result("discarded: " + in.Err)
		return false
	case in.Duration < v.MinLength:
		s.result("discarded: too short " + in.Duration.Round(100*time.Millisecond).String())
		return false
	}
	s.emit(VoicemailCmd{Mailbox: s.mailbox(v), Recording: in.Name, Duration: in.Duration,
		Caller: s.caller, Vars: s.Vars()})
	s.result("recorded " + strconv.Itoa(int(in.Duration.Round(time.Second)/time.Second)) + "s")
	return true
}

// --- caller hang-up

func (s *Session) callerHungUp() {
	s.cancelTimer()
	s.stopPlay()
	if s.st == stRecording && s.rec != "" {
		s.pendingRec, s.pendingNode = s.rec, s.node
	}
	s.result("caller hung up")
	s.finish("caller-hangup")
}
