package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ControlPrefix is the root of the control API: HTTP routes with which a
// program outside Go plays the far ends of calls (callers who dial in,
// press keys and hang up; phones that go offline or change their script).
// It sits beside /ari, not under it, so that no ARI client takes it for
// part of Asterisk, and it takes the same credentials as ARI (basic auth
// or api_key). Requests and answers are JSON; an error answers
// {"message": "FIELD: what is wrong", "field": "FIELD"} when a field of
// the request is at fault.
const ControlPrefix = "/sim/v1"

// maxControlBody bounds a control request's body.
const maxControlBody = 1 << 20

// ctlReply is a control handler's answer: status and JSON body (nil = none).
type ctlReply struct {
	code int
	body any
}

// ctlRoute is one control operation: method and path under ControlPrefix.
type ctlRoute struct {
	method, path string
	h            func(*Server, *http.Request) ctlReply
}

func controlTable() []ctlRoute {
	return []ctlRoute{
		{"POST", "/calls", (*Server).ctlPlaceCall},
		{"GET", "/parties", (*Server).ctlListParties},
		{"GET", "/parties/{id}", (*Server).ctlGetParty},
		{"DELETE", "/parties/{id}", (*Server).ctlHangupParty},
		{"POST", "/parties/{id}/dtmf", (*Server).ctlPressDigits},
		{"GET", "/endpoints", (*Server).ctlListEndpoints},
		{"PUT", "/endpoints/{tech}/{resource...}", (*Server).ctlPutEndpoint},
		{"GET", "/stats", (*Server).ctlStats},
		{"GET", "/faults", (*Server).ctlGetFaults},
		{"POST", "/faults", (*Server).ctlSetFaults},
		{"DELETE", "/faults", (*Server).ctlClearFaults},
		{"POST", "/faults/release", (*Server).ctlReleaseStalled},
		{"GET", "/sessions", (*Server).ctlGetSessions},
		{"PUT", "/sessions", (*Server).ctlPutSessions},
	}
}

// ControlRoutes lists the control API's operations as "METHOD /path",
// paths relative to ControlPrefix (e.g. "DELETE /parties/{id}").
func ControlRoutes() []string {
	var out []string
	for _, rt := range controlTable() {
		out = append(out, rt.method+" "+strings.ReplaceAll(rt.path, "...}", "}"))
	}
	return out
}

// controlRoutes adds the control API to mux. Its handlers go through the
// Go API (Call, Hangup, SendDTMF, AddEndpoint, SetEndpointState, Stats),
// which takes the state lock itself.
func (s *Server) controlRoutes(mux *countingMux) {
	for _, rt := range controlTable() {
		mux.HandleFunc(rt.method+" "+ControlPrefix+rt.path, s.control(rt.h))
	}
	mux.HandleFunc(ControlPrefix+"/", s.control(func(*Server, *http.Request) ctlReply {
		return ctlFail(http.StatusNotFound, "Resource not found")
	}))
}

// control authenticates like ARI and refuses requests after Close.
func (s *Server) control(h func(*Server, *http.Request) ctlReply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			unauthorized(w)
			return
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			writeJSON(w, http.StatusServiceUnavailable, errBody("Asterisk is shutting down"))
			return
		}
		rep := h(s, r)
		writeJSON(w, rep.code, rep.body)
	}
}

func ctlFail(code int, msg string) ctlReply { return ctlReply{code, errBody(msg)} }

// fieldError is a request field at fault.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func badField(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// reply answers code with the message naming the field.
func (e *fieldError) reply(code int) ctlReply {
	return ctlReply{code, map[string]string{"message": e.Error(), "field": e.field}}
}

// ctlBody is a request's JSON object, field by field.
type ctlBody map[string]json.RawMessage

// readBody decodes the request body; an empty body is an empty object.
func readBody(r *http.Request) (ctlBody, *fieldError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		return nil, badField("body", "cannot be read: %v", err)
	}
	if len(b) > maxControlBody {
		return nil, badField("body", "longer than %d bytes", maxControlBody)
	}
	return decodeBody(b)
}

// decodeBody decodes a request body read whole.
func decodeBody(b []byte) (ctlBody, *fieldError) {
	if b = bytes.TrimSpace(b); len(b) == 0 {
		return ctlBody{}, nil
	}
	var m ctlBody
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, badField("body", "want a JSON object")
	}
	if m == nil {
		m = ctlBody{}
	}
	return m, nil
}

// only reports the first field (in name order) not among allowed.
func (b ctlBody) only(allowed ...string) *fieldError {
	names := make([]string, 0, len(b))
	for k := range b {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return badField(k, "unknown field (want %s)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

// str returns the string field name and whether it is present.
func (b ctlBody) str(name string) (string, bool, *fieldError) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, badField(name, "want a string")
	}
	return v, true, nil
}

// strs returns the string-array field name.
func (b ctlBody) strs(name string) ([]string, *fieldError) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badField(name, "want an array of strings")
	}
	return v, nil
}

// ---- callers ----

// dtmfKeys are the keys a simulated party can press; ',' pauses.
const dtmfKeys = "0123456789*#ABCDabcd,"

func checkDigits(d string) error {
	if i := strings.IndexFunc(d, func(r rune) bool { return !strings.ContainsRune(dtmfKeys, r) }); i >= 0 {
		return fmt.Errorf("%q is not a key (want 0-9, *, #, A-D, or ',' to pause 1 s)", d[i:i+1])
	}
	return nil
}

// ParseCallerScript decodes the script of a caller, a party that dials in
// (POST /sim/v1/calls, `switchboard simulate --load`): the items of
// ParseScript that a caller can do, talk=DUR or talk=MIN-MAX, digits=STR,
// digitsdelay=DUR and patience=DUR. The items of a called phone (rings,
// answer-after-N, busy, noanswer, unreachable, machine), negative
// durations and digits other than 0-9 * # A-D and ',' are errors.
func ParseCallerScript(script string) (Party, error) {
	p, err := ParseScript(script)
	if err != nil {
		return Party{}, err
	}
	var bad []string
	if p.Rings != 0 {
		bad = append(bad, "rings")
	}
	for _, f := range []struct {
		set  bool
		name string
	}{{p.Busy, "busy"}, {p.NoAnswer, "noanswer"}, {p.Unreachable, "unreachable"}, {p.Machine, "machine"}} {
		if f.set {
			bad = append(bad, f.name)
		}
	}
	if len(bad) > 0 {
		return Party{}, fmt.Errorf("sim script %q: %s describes a called phone, not a caller", script, strings.Join(bad, ", "))
	}
	return p, nil
}

// callFields are the fields of POST /sim/v1/calls.
var callFields = []string{"app", "args", "dialed", "caller_id", "caller_name", "context", "trunk",
	"script", "digits", "digits_delay", "patience", "talk", "hangup_after"}

// callerItems map the party fields of POST /sim/v1/calls to script items.
var callerItems = []struct{ field, item string }{
	{"digits", "digits"}, {"digits_delay", "digitsdelay"}, {"patience", "patience"}, {"talk", "talk"},
}

// inboundFrom reads a call request: the Inbound and the hang-up delay.
func inboundFrom(b ctlBody) (Inbound, time.Duration, *fieldError) {
	var in Inbound
	if fe := b.only(callFields...); fe != nil {
		return in, 0, fe
	}
	strs := map[string]*string{"app": &in.App, "dialed": &in.To, "caller_id": &in.From, "caller_name": &in.Name,
		"context": &in.Context, "trunk": &in.Trunk}
	for _, name := range callFields {
		dst, ok := strs[name]
		if !ok {
			continue
		}
		v, _, fe := b.str(name)
		if fe != nil {
			return in, 0, fe
		}
		*dst = v
	}
	var fe *fieldError
	if in.Args, fe = b.strs("args"); fe != nil {
		return in, 0, fe
	}
	if in.Trunk != "" {
		if _, _, ok := splitEndpoint(in.Trunk); !ok {
			return in, 0, badField("trunk", "%q: want TECH/RESOURCE, e.g. PJSIP/trunk", in.Trunk)
		}
	}
	script, _, fe := b.str("script")
	if fe != nil {
		return in, 0, fe
	}
	p, err := ParseCallerScript(script)
	if err != nil {
		return in, 0, badField("script", "%v", err)
	}
	for _, it := range callerItems {
		v, has, fe := b.str(it.field)
		if fe != nil {
			return in, 0, fe
		}
		if !has {
			continue
		}
		if strings.Contains(v, ";") {
			return in, 0, badField(it.field, "%q: one value, no ';'", v)
		}
		q, err := ParseCallerScript(it.item + "=" + v)
		if err != nil {
			return in, 0, badField(it.field, "%v", err)
		}
		switch it.item {
		case "digits":
			p.Digits = q.Digits
		case "digitsdelay":
			p.DigitsDelay = q.DigitsDelay
		case "patience":
			p.Patience = q.Patience
		case "talk":
			p.takeTalk(q)
		}
	}
	in.Party = p
	var after time.Duration
	if v, has, fe := b.str("hangup_after"); fe != nil {
		return in, 0, fe
	} else if has {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return in, 0, badField("hangup_after", "%q: want a positive duration such as 90s", v)
		}
		after = d
	}
	return in, after, nil
}

// ctlPlaceCall places an inbound call with Call.
func (s *Server) ctlPlaceCall(r *http.Request) ctlReply {
	b, fe := readBody(r)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	in, hangAfter, fe := inboundFrom(b)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if in.App == "" {
		app, fe, code := s.controlApp()
		if fe != nil {
			return fe.reply(code)
		}
		in.App = app
	}
	id, err := s.Call(in)
	switch {
	case errors.Is(err, ErrNoApp):
		return badField("app", "no websocket has registered application %q", in.App).reply(http.StatusConflict)
	case errors.Is(err, ErrClosed):
		return ctlFail(http.StatusServiceUnavailable, "Asterisk is shutting down")
	case err != nil:
		return ctlFail(http.StatusInternalServerError, err.Error())
	}
	if hangAfter > 0 {
		s.clock.AfterFunc(hangAfter, func() {
			if err := s.Hangup(id, 16); err != nil && !errors.Is(err, ErrNotFound) {
				s.log.Warn("sim: control: hang-up after", "channel_id", id, "error", err)
			}
		})
	}
	s.log.Debug("sim: control: call placed", "channel_id", id, "app", in.App, "dialed", in.To, "caller", in.From)
	s.mu.Lock()
	defer s.mu.Unlock()
	body := map[string]any{"party_id": id, "channel_id": id}
	if c, ok := s.channels[id]; ok {
		body = s.partyJSON(c)
	}
	return ctlReply{http.StatusCreated, body}
}

// controlApp is the application of a call whose request names none:
// Options.ControlApp, else the only application with a websocket.
func (s *Server) controlApp() (string, *fieldError, int) {
	if s.opts.ControlApp != "" {
		return s.opts.ControlApp, nil, 0
	}
	switch apps := s.Apps(); len(apps) {
	case 1:
		return apps[0], nil, 0
	case 0:
		return "", badField("app", "no application has a websocket; connect one first"), http.StatusConflict
	default:
		return "", badField("app", "required: several applications are connected (%s)", strings.Join(apps, ", ")), http.StatusBadRequest
	}
}

// ---- parties ----

var kindNames = map[chanKind]string{kindInbound: "inbound", kindOriginate: "originate", kindCreate: "create",
	kindSnoop: "snoop", kindLocal2: "local"}

// partyJSON describes the far end of c; the party id is the channel id.
// Called with s.mu held.
func (s *Server) partyJSON(c *channel) map[string]any {
	dialed := c.resource // what was dialed to reach a called phone
	if c.kind == kindInbound {
		dialed = c.exten // the number the caller dialed
	}
	br := ""
	if c.bridge != nil {
		br = c.bridge.id
	}
	return map[string]any{
		"party_id":   c.id,
		"channel_id": c.id,
		"name":       c.name,
		"kind":       kindNames[c.kind],
		"state":      c.state,
		"caller":     map[string]any{"number": c.caller.number, "name": c.caller.name},
		"dialed":     dialed,
		"context":    c.context,
		"endpoint":   c.tech + "/" + c.resource,
		"app":        c.app,
		"in_app":     c.inApp,
		"bridge":     br,
		"bridged":    s.bridgedWithOther(c),
		"script":     scriptOf(c.party),
		"created":    ariTime(c.created),
	}
}

// scriptOf writes p in the script language of ParseScript, which reads it
// back to the same party; a talk time drawn by code (TalkDist set outside
// a script) shows as talk=drawn.
func scriptOf(p Party) string {
	var items []string
	add := func(ok bool, item string) {
		if ok {
			items = append(items, item)
		}
	}
	add(p.Rings > 0, "rings="+strconv.Itoa(p.Rings))
	add(p.Busy, "busy")
	add(p.NoAnswer, "noanswer")
	add(p.Unreachable, "unreachable")
	add(p.Machine, "machine")
	add(p.TalkDist != nil && p.talkRange, "talk="+p.talkMin.String()+"-"+p.talkMax.String())
	add(p.TalkDist != nil && !p.talkRange, "talk=drawn")
	add(p.TalkDist == nil && p.Talk > 0, "talk="+p.Talk.String())
	add(p.Digits != "", "digits="+p.Digits)
	add(p.DigitsDelay > 0, "digitsdelay="+p.DigitsDelay.String())
	add(p.Patience > 0, "patience="+p.Patience.String())
	return strings.Join(items, ";")
}

func (s *Server) ctlListParties(r *http.Request) ctlReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.sortedChannels()
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.partyJSON(c))
	}
	return ctlReply{http.StatusOK, out}
}

func (s *Server) ctlGetParty(r *http.Request) ctlReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[r.PathValue("id")]
	if !ok {
		return ctlFail(http.StatusNotFound, "Party not found")
	}
	return ctlReply{http.StatusOK, s.partyJSON(c)}
}

// ctlHangupParty makes the far end hang up (Hangup), cause 16 unless
// ?cause= says otherwise.
func (s *Server) ctlHangupParty(r *http.Request) ctlReply {
	cause := 16
	if v := r.URL.Query().Get("cause"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 127 {
			return badField("cause", "%q: want a Q.850 cause 0..127 (16 normal clearing, 17 busy)", v).reply(http.StatusBadRequest)
		}
		cause = n
	}
	id := r.PathValue("id")
	if err := s.Hangup(id, cause); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ctlFail(http.StatusNotFound, "Party not found")
		}
		return ctlFail(http.StatusInternalServerError, err.Error())
	}
	return ctlReply{http.StatusNoContent, nil}
}

// ctlPressDigits makes the far end press keys (SendDTMF).
func (s *Server) ctlPressDigits(r *http.Request) ctlReply {
	b, fe := readBody(r)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if fe := b.only("digits"); fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	d, _, fe := b.str("digits")
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if d == "" {
		return badField("digits", "required").reply(http.StatusBadRequest)
	}
	if err := checkDigits(d); err != nil {
		return badField("digits", "%v", err).reply(http.StatusBadRequest)
	}
	if err := s.SendDTMF(r.PathValue("id"), d); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ctlFail(http.StatusNotFound, "Party not found")
		}
		return ctlFail(http.StatusInternalServerError, err.Error())
	}
	return ctlReply{http.StatusNoContent, nil}
}

// ---- endpoints ----

// endpointCtlJSON is an endpoint as ARI shows it, with its script.
// Called with s.mu held.
func (s *Server) endpointCtlJSON(e *endpoint) map[string]any {
	m := s.endpointJSON(e)
	m["script"] = scriptOf(e.party)
	return m
}

func (s *Server) ctlListEndpoints(r *http.Request) ctlReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.endpoints))
	for k := range s.endpoints {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.endpointCtlJSON(s.endpoints[k]))
	}
	return ctlReply{http.StatusOK, out}
}

// ctlPutEndpoint registers or changes an endpoint: its script
// (AddEndpoint) and its reachability (SetEndpointState). An endpoint not
// registered yet is registered with the script given, or one that answers
// at once.
func (s *Server) ctlPutEndpoint(r *http.Request) ctlReply {
	tech, res := r.PathValue("tech"), r.PathValue("resource")
	b, fe := readBody(r)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if fe := b.only("state", "script"); fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	state, hasState, fe := b.str("state")
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	switch {
	case !hasState:
	case state == "online", state == "offline", state == "unknown":
	default:
		return badField("state", "%q: want online, offline or unknown", state).reply(http.StatusBadRequest)
	}
	script, hasScript, fe := b.str("script")
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if !hasState && !hasScript {
		return badField("state", "give state, script or both").reply(http.StatusBadRequest)
	}
	p, err := ParseScript(script)
	if err != nil {
		return badField("script", "%v", err).reply(http.StatusBadRequest)
	}
	key := tech + "/" + res
	s.mu.Lock()
	_, known := s.endpoints[key]
	s.mu.Unlock()
	if hasScript || !known {
		s.AddEndpoint(tech, res, p)
	}
	if hasState {
		if err := s.SetEndpointState(tech, res, state); err != nil {
			return ctlFail(http.StatusInternalServerError, err.Error())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[key]
	if !ok {
		return ctlFail(http.StatusNotFound, "Endpoint not found")
	}
	return ctlReply{http.StatusOK, s.endpointCtlJSON(e)}
}

// ---- stats ----

func (s *Server) ctlStats(r *http.Request) ctlReply {
	st := s.Stats()
	return ctlReply{http.StatusOK, map[string]any{
		"events_sent":         st.EventsSent,
		"events_dropped":      st.EventsDropped,
		"events_unrouted":     st.EventsUnrouted,
		"channels_created":    st.ChannelsCreated,
		"channels_active":     st.ChannelsActive,
		"bridges_active":      st.BridgesActive,
		"connections_dropped": st.ConnectionsDropped,
		"sent_by_app":         st.SentByApp,
		"events_by_type":      st.EventsByType,
		"requests":            st.Requests,
		"faults":              st.Faults,
		"stalled":             st.Stalled,
		"recordings_held":     st.RecordingsHeld,
		"sessions":            st.Sessions,
		"sessions_refused":    st.SessionsRefused,
		"apps":                nonNil(s.Apps()),
		"sim_time":            ariTime(s.clock.Now()),
		"speed":               s.clock.Speed(),
	}}
}

func nonNil(x []string) []string {
	if x == nil {
		return []string{}
	}
	return x
}
