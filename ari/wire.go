package ari

import (
	"time"
	"unicode/utf8"
)

// readWire is decode's fast path: it reads a frame into w in one pass,
// without reflection, and reports whether it could. It takes only frames
// whose meaning to json.Unmarshal is plain — valid JSON, each field once,
// strings without escapes, integers without fraction or exponent, object
// keys that match a field exactly or no field at all (encoding/json would
// also match "TYPE" to Type) — and gives up on anything else, which
// decode then hands to json.Unmarshal; so whenever readWire succeeds, w
// is what json.Unmarshal would have made of the frame (FuzzReadWire
// checks it). Asterisk's frames are all of the plain kind.
func readWire(data []byte, w *wireEvent) bool { return readWireInto(data, w, new(wireScratch)) }

// wireScratch holds the objects a wireEvent points to, which readWireInto
// reuses from frame to frame for the events reader: the events it
// translates keep no pointer into them.
type wireScratch struct {
	channel                       wireChannel
	caller                        wireCaller
	dialplan                      wireDialplan
	replace, bridge, peer, dialer wireRef
	playback                      wirePlayback
	recording                     wireRecording
	endpoint                      wireEndpoint
}

// use returns p, zeroed.
func use[T any](p *T) *T {
	var zero T
	*p = zero
	return p
}

// readWireInto is readWire with the objects w points to taken from sc.
func readWireInto(data []byte, w *wireEvent, sc *wireScratch) bool {
	r := wireReader{b: data, sc: sc}
	var seen uint32
	ok := r.object(func(k []byte) bool {
		f, found := eventFields[string(k)]
		if !found {
			return r.unknown(k)
		}
		if seen&(1<<f) != 0 {
			return false
		}
		seen |= 1 << f
		if r.null() {
			return true
		}
		switch f {
		case fType:
			return r.interned(&w.Type)
		case fNode:
			return r.str(&w.Node)
		case fTimestamp:
			return r.time(&w.Timestamp)
		case fChannel:
			w.Channel = use(&sc.channel)
			return r.channel(w.Channel)
		case fArgs:
			return r.strings(&w.Args)
		case fReplaceChannel:
			w.ReplaceChannel = use(&sc.replace)
			return r.ref(w.ReplaceChannel)
		case fDigit:
			return r.str(&w.Digit)
		case fDurationMs:
			return r.int(&w.DurationMs)
		case fCause:
			return r.int(&w.Cause)
		case fCauseTxt:
			return r.str(&w.CauseTxt)
		case fSoft:
			return r.bool(&w.Soft)
		case fBridge:
			w.Bridge = use(&sc.bridge)
			return r.ref(w.Bridge)
		case fPlayback:
			w.Playback = use(&sc.playback)
			return r.playback(w.Playback)
		case fRecording:
			w.Recording = use(&sc.recording)
			return r.recording(w.Recording)
		case fPeer:
			w.Peer = use(&sc.peer)
			return r.ref(w.Peer)
		case fCaller:
			w.Caller = use(&sc.dialer)
			return r.ref(w.Caller)
		case fDialstatus:
			return r.str(&w.Dialstatus)
		case fVariable:
			return r.str(&w.Variable)
		case fValue:
			return r.str(&w.Value)
		case fEndpoint:
			w.Endpoint = use(&sc.endpoint)
			return r.endpoint(w.Endpoint)
		}
		return false
	})
	if !ok {
		return false
	}
	r.space()
	return r.i == len(r.b)
}

// The fields of wireEvent, by JSON name.
const (
	fType = iota
	fNode
	fTimestamp
	fChannel
	fArgs
	fReplaceChannel
	fDigit
	fDurationMs
	fCause
	fCauseTxt
	fSoft
	fBridge
	fPlayback
	fRecording
	fPeer
	fCaller
	fDialstatus
	fVariable
	fValue
	fEndpoint
)

var eventFields = map[string]int{
	"type": fType, "asterisk_id": fNode, "timestamp": fTimestamp, "channel": fChannel, "args": fArgs,
	"replace_channel": fReplaceChannel, "digit": fDigit, "duration_ms": fDurationMs, "cause": fCause,
	"cause_txt": fCauseTxt, "soft": fSoft, "bridge": fBridge, "playback": fPlayback, "recording": fRecording,
	"peer": fPeer, "caller": fCaller, "dialstatus": fDialstatus, "variable": fVariable, "value": fValue,
	"endpoint": fEndpoint,
}

// wireReader reads JSON from b at i. Every method reports false when the
// input is not of the plain kind readWire takes.
type wireReader struct {
	b  []byte
	i  int
	sc *wireScratch
}

func (r *wireReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (r *wireReader) next() byte {
	r.space()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

func (r *wireReader) literal(s string) bool {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

// null reads a null if one comes next.
func (r *wireReader) null() bool { return r.next() == 'n' && r.literal("null") }

// object reads an object, calling field with each key to read its value.
func (r *wireReader) object(field func(key []byte) bool) bool {
	if r.next() != '{' {
		return false
	}
	r.i++
	if r.next() == '}' {
		r.i++
		return true
	}
	for {
		k, ok := r.raw()
		if !ok || r.next() != ':' {
			return false
		}
		r.i++
		if !field(k) {
			return false
		}
		switch r.next() {
		case ',':
			r.i++
		case '}':
			r.i++
			return true
		default:
			return false
		}
	}
}

// raw reads a string with no escapes and returns its bytes (valid UTF-8).
func (r *wireReader) raw() ([]byte, bool) {
	if r.next() != '"' {
		return nil, false
	}
	start := r.i + 1
	ascii := true
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			s := r.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			r.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (r *wireReader) str(dst *string) bool {
	s, ok := r.raw()
	if ok {
		*dst = string(s)
	}
	return ok
}

// interned is str for a field of few values (event types, channel
// states, languages): a known value costs no allocation.
func (r *wireReader) interned(dst *string) bool {
	b, ok := r.raw()
	if !ok {
		return false
	}
	if s, found := internedStrings[string(b)]; found {
		*dst = s
	} else {
		*dst = string(b)
	}
	return true
}

// internedStrings are the ARI event types (knownType), channel states and
// a few languages.
var internedStrings = func() map[string]string {
	m := map[string]string{}
	for t := range knownType {
		m[t] = t
	}
	for _, s := range []string{"Down", "Rsrvd", "OffHook", "Dialing", "Ring", "Ringing", "Up", "Busy",
		"Dialing Offhook", "Pre-ring", "Unknown", "en", "en_US", "en_GB", "fr", "de", "es"} {
		m[s] = s
	}
	return m
}()

func (r *wireReader) bool(dst *bool) bool {
	switch r.next() {
	case 't':
		*dst = true
		return r.literal("true")
	case 'f':
		*dst = false
		return r.literal("false")
	}
	return false
}

// int reads an integer of at most 18 digits (no fraction, no exponent).
func (r *wireReader) int(dst *int) bool {
	r.space()
	j, neg := r.i, false
	if j < len(r.b) && r.b[j] == '-' {
		neg = true
		j++
	}
	start, n := j, 0
	for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
		n = n*10 + int(r.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || (digits > 1 && r.b[start] == '0') {
		return false
	}
	if j < len(r.b) {
		switch r.b[j] {
		case '.', 'e', 'E':
			return false
		}
	}
	if neg {
		n = -n
	}
	*dst = n
	r.i = j
	return true
}

func (r *wireReader) time(dst *wireTime) bool {
	s, ok := r.raw()
	if !ok {
		return false
	}
	t, ok := parseARITime(s)
	if !ok {
		var err error
		if t, err = time.Parse(ariTimeFormat, string(s)); err != nil {
			return false // json.Unmarshal reports it
		}
	}
	*dst = wireTime(t)
	return true
}

// parseARITime is time.Parse(ariTimeFormat, s) for the plain case
// (2025-03-04T10:15:02.101+0000: every field in range, a zone offset
// within ±14:59), reporting false for anything else, which the caller
// then gives time.Parse. Like time.Parse, it gives the time the Local
// location when Local has that offset then, else a fixed zone of it.
func parseARITime(s []byte) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05.000-0700") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || (s[23] != '+' && s[23] != '-') {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, ms := num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	oh, om := num(24, 2), num(26, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || ms < 0 || oh < 0 || oh > 14 || om < 0 || om > 59 {
		return time.Time{}, false
	}
	if day > 28 && time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() != day {
		return time.Time{}, false // past the month's end
	}
	offset := (oh*60 + om) * 60
	if s[23] == '-' {
		offset = -offset
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, time.UTC).Add(-time.Duration(offset) * time.Second)
	if _, off := t.In(time.Local).Zone(); off == offset {
		return t.In(time.Local), true
	}
	return t.In(time.FixedZone("", offset)), true
}

func (r *wireReader) strings(dst *[]string) bool {
	if r.next() != '[' {
		return false
	}
	r.i++
	out := []string{}
	if r.next() == ']' {
		r.i++
		*dst = out
		return true
	}
	for {
		var s string
		if !r.str(&s) {
			return false
		}
		out = append(out, s)
		switch r.next() {
		case ',':
			r.i++
		case ']':
			r.i++
			*dst = out
			return true
		default:
			return false
		}
	}
}

// unknown skips the value of a key that names no field. A key that
// encoding/json could still match to a field without regard to case (an
// upper-case letter, a non-ASCII rune) is not taken.
func (r *wireReader) unknown(k []byte) bool {
	for _, c := range k {
		if (c >= 'A' && c <= 'Z') || c >= utf8.RuneSelf {
			return false
		}
	}
	return r.skip(0)
}

// skip reads any JSON value, strictly, to a bounded depth.
func (r *wireReader) skip(depth int) bool {
	if depth > 32 {
		return false
	}
	switch c := r.next(); {
	case c == '"':
		_, ok := r.raw()
		return ok
	case c == '{':
		return r.object(func([]byte) bool { return r.skip(depth + 1) })
	case c == '[':
		r.i++
		if r.next() == ']' {
			r.i++
			return true
		}
		for {
			if !r.skip(depth + 1) {
				return false
			}
			switch r.next() {
			case ',':
				r.i++
			case ']':
				r.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	}
	return false
}

// number reads a JSON number (the whole grammar).
func (r *wireReader) number() bool {
	j := r.i
	digits := func() int {
		k := j
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(r.b) && r.b[j] == '-' {
		j++
	}
	if j < len(r.b) && r.b[j] == '0' {
		j++
	} else if digits() == 0 {
		return false
	}
	if j < len(r.b) && r.b[j] == '.' {
		j++
		if digits() == 0 {
			return false
		}
	}
	if j < len(r.b) && (r.b[j] == 'e' || r.b[j] == 'E') {
		j++
		if j < len(r.b) && (r.b[j] == '+' || r.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return false
		}
	}
	r.i = j
	return true
}

// each reads an object of known fields, each at most once: field reads
// the value of key k and returns the index of k's field, or -1 for a key
// that names no field (its value skipped by unknown).
func (r *wireReader) each(field func(k []byte) (int, bool)) bool {
	var seen uint32
	return r.object(func(k []byte) bool {
		f, ok := field(k)
		if !ok {
			return false
		}
		if f < 0 {
			return true
		}
		if seen&(1<<f) != 0 {
			return false
		}
		seen |= 1 << f
		return true
	})
}

// strField reads a string field; a null leaves dst as it is, as
// json.Unmarshal does.
func (r *wireReader) strField(dst *string) bool {
	if r.null() {
		return true
	}
	return r.str(dst)
}

func (r *wireReader) ref(dst *wireRef) bool {
	return r.each(func(k []byte) (int, bool) {
		if string(k) == "id" {
			return 0, r.strField(&dst.ID)
		}
		return -1, r.unknown(k)
	})
}

func (r *wireReader) channel(dst *wireChannel) bool {
	return r.each(func(k []byte) (int, bool) {
		switch string(k) {
		case "id":
			return 0, r.strField(&dst.ID)
		case "name":
			return 1, r.strField(&dst.Name)
		case "state":
			return 2, r.null() || r.interned(&dst.State)
		case "language":
			return 3, r.null() || r.interned(&dst.Language)
		case "caller":
			if r.null() {
				return 4, true
			}
			dst.Caller = use(&r.sc.caller)
			c := dst.Caller
			return 4, r.each(func(k []byte) (int, bool) {
				switch string(k) {
				case "name":
					return 0, r.strField(&c.Name)
				case "number":
					return 1, r.strField(&c.Number)
				}
				return -1, r.unknown(k)
			})
		case "dialplan":
			if r.null() {
				return 5, true
			}
			dst.Dialplan = use(&r.sc.dialplan)
			d := dst.Dialplan
			return 5, r.each(func(k []byte) (int, bool) {
				switch string(k) {
				case "context":
					return 0, r.strField(&d.Context)
				case "exten":
					return 1, r.strField(&d.Exten)
				}
				return -1, r.unknown(k)
			})
		case "creationtime":
			if r.null() {
				return 6, true
			}
			return 6, r.time(&dst.Creationtime)
		}
		return -1, r.unknown(k)
	})
}

func (r *wireReader) playback(dst *wirePlayback) bool {
	return r.each(func(k []byte) (int, bool) {
		switch string(k) {
		case "id":
			return 0, r.strField(&dst.ID)
		case "target_uri":
			return 1, r.strField(&dst.TargetURI)
		case "state":
			return 2, r.strField(&dst.State)
		}
		return -1, r.unknown(k)
	})
}

func (r *wireReader) recording(dst *wireRecording) bool {
	return r.each(func(k []byte) (int, bool) {
		switch string(k) {
		case "name":
			return 0, r.strField(&dst.Name)
		case "target_uri":
			return 1, r.strField(&dst.TargetURI)
		case "duration":
			return 2, r.null() || r.int(&dst.Duration)
		case "cause":
			return 3, r.strField(&dst.Cause)
		}
		return -1, r.unknown(k)
	})
}

func (r *wireReader) endpoint(dst *wireEndpoint) bool {
	return r.each(func(k []byte) (int, bool) {
		switch string(k) {
		case "technology":
			return 0, r.strField(&dst.Technology)
		case "resource":
			return 1, r.strField(&dst.Resource)
		case "state":
			return 2, r.strField(&dst.State)
		}
		return -1, r.unknown(k)
	})
}
