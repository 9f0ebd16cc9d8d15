package sim

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func routeTable() []route {
	return []route{
		{"GET", "/asterisk/info", (*Server).getInfo},
		{"GET", "/asterisk/ping", (*Server).ping},
		{"GET", "/asterisk/variable", (*Server).getGlobal},
		{"POST", "/asterisk/variable", (*Server).setGlobal},

		{"GET", "/applications", (*Server).listApps},
		{"GET", "/applications/{applicationName}", (*Server).getApp},
		{"POST", "/applications/{applicationName}/subscription", (*Server).subscribe},
		{"DELETE", "/applications/{applicationName}/subscription", (*Server).unsubscribe},

		{"GET", "/channels", (*Server).listChannels},
		{"POST", "/channels", (*Server).originate},
		{"POST", "/channels/create", (*Server).createChannel},
		{"GET", "/channels/{channelId}", (*Server).getChannel},
		{"POST", "/channels/{channelId}", (*Server).originate},
		{"DELETE", "/channels/{channelId}", (*Server).hangupChannel},
		{"POST", "/channels/{channelId}/continue", (*Server).continueChannel},
		{"POST", "/channels/{channelId}/move", (*Server).moveChannel},
		{"POST", "/channels/{channelId}/redirect", (*Server).redirectChannel},
		{"POST", "/channels/{channelId}/answer", (*Server).answer},
		{"POST", "/channels/{channelId}/ring", (*Server).inAppNoop},
		{"DELETE", "/channels/{channelId}/ring", (*Server).inAppNoop},
		{"POST", "/channels/{channelId}/progress", (*Server).inAppNoop},
		{"POST", "/channels/{channelId}/dtmf", (*Server).sendDTMF},
		{"POST", "/channels/{channelId}/mute", (*Server).mute},
		{"DELETE", "/channels/{channelId}/mute", (*Server).mute},
		{"POST", "/channels/{channelId}/hold", (*Server).hold},
		{"DELETE", "/channels/{channelId}/hold", (*Server).hold},
		{"POST", "/channels/{channelId}/moh", (*Server).inAppNoop},
		{"DELETE", "/channels/{channelId}/moh", (*Server).inAppNoop},
		{"POST", "/channels/{channelId}/silence", (*Server).inAppNoop},
		{"DELETE", "/channels/{channelId}/silence", (*Server).inAppNoop},
		{"POST", "/channels/{channelId}/play", (*Server).playChannel},
		{"POST", "/channels/{channelId}/play/{playbackId}", (*Server).playChannel},
		{"POST", "/channels/{channelId}/record", (*Server).recordChannel},
		{"GET", "/channels/{channelId}/variable", (*Server).getVar},
		{"POST", "/channels/{channelId}/variable", (*Server).setVar},
		{"POST", "/channels/{channelId}/snoop", (*Server).snoop},
		{"POST", "/channels/{channelId}/snoop/{snoopId}", (*Server).snoop},
		{"POST", "/channels/{channelId}/dial", (*Server).dial},

		{"GET", "/bridges", (*Server).listBridges},
		{"POST", "/bridges", (*Server).createBridge},
		{"POST", "/bridges/{bridgeId}", (*Server).createBridge},
		{"GET", "/bridges/{bridgeId}", (*Server).getBridge},
		{"DELETE", "/bridges/{bridgeId}", (*Server).deleteBridge},
		{"POST", "/bridges/{bridgeId}/addChannel", (*Server).addChannelToBridge},
		{"POST", "/bridges/{bridgeId}/removeChannel", (*Server).removeChannelFromBridge},
		{"POST", "/bridges/{bridgeId}/moh", (*Server).bridgeNoop},
		{"DELETE", "/bridges/{bridgeId}/moh", (*Server).bridgeNoop},
		{"POST", "/bridges/{bridgeId}/play", (*Server).playBridge},
		{"POST", "/bridges/{bridgeId}/play/{playbackId}", (*Server).playBridge},
		{"POST", "/bridges/{bridgeId}/record", (*Server).recordBridge},

		{"GET", "/playbacks/{playbackId}", (*Server).getPlayback},
		{"DELETE", "/playbacks/{playbackId}", (*Server).stopPlayback},
		{"POST", "/playbacks/{playbackId}/control", (*Server).controlPlayback},

		{"GET", "/recordings/live/{recordingName}", (*Server).getLiveRec},
		{"DELETE", "/recordings/live/{recordingName}", (*Server).cancelLiveRec},
		{"POST", "/recordings/live/{recordingName}/stop", (*Server).stopLiveRec},
		{"POST", "/recordings/live/{recordingName}/pause", (*Server).pauseLiveRec},
		{"DELETE", "/recordings/live/{recordingName}/pause", (*Server).pauseLiveRec},
		{"POST", "/recordings/live/{recordingName}/mute", (*Server).muteLiveRec},
		{"DELETE", "/recordings/live/{recordingName}/mute", (*Server).muteLiveRec},
		{"GET", "/recordings/stored", (*Server).listStored},
		{"GET", "/recordings/stored/{recordingName}", (*Server).getStored},
		{"DELETE", "/recordings/stored/{recordingName}", (*Server).deleteStored},
		{"POST", "/recordings/stored/{recordingName}/copy", (*Server).copyStored},

		{"GET", "/endpoints", (*Server).listEndpoints},
		{"GET", "/endpoints/{tech}", (*Server).listEndpointsByTech},
		{"GET", "/endpoints/{tech}/{resource}", (*Server).getEndpoint},

		{"GET", "/sounds", (*Server).listSounds},
		{"GET", "/sounds/{soundId}", (*Server).getSound},

		{"GET", "/deviceStates", (*Server).listDeviceStates},
	}
}

// ---- asterisk ----

func (s *Server) getInfo(r *request) reply {
	start := ariTime(s.start)
	return ok(map[string]any{
		"build":  map[string]any{"os": "Linux", "kernel": "6.0.0", "options": "sim", "machine": "x86_64", "date": "2025-01-01 00:00:00 UTC", "user": "sim"},
		"system": map[string]any{"version": "20.0.0-sim", "entity_id": s.opts.EntityID},
		"config": map[string]any{"name": "switchboard-sim", "default_language": "en", "setid": map[string]any{"user": "asterisk", "group": "asterisk"}},
		"status": map[string]any{"startup_time": start, "last_reload_time": start},
	})
}

func (s *Server) ping(r *request) reply {
	return ok(map[string]any{"asterisk_id": s.opts.EntityID, "ping": "pong", "timestamp": ariTime(s.clock.Now())})
}

func (s *Server) getGlobal(r *request) reply {
	name := r.str("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	return ok(map[string]any{"value": s.globals[name]})
}

func (s *Server) setGlobal(r *request) reply {
	name := r.str("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	if v := r.str("value"); v != "" {
		s.globals[name] = v
	} else {
		delete(s.globals, name) // an empty value unsets it, as pbx_builtin_setvar_helper does
	}
	return noContent()
}

// ---- applications ----

func (s *Server) appJSON(a *application) map[string]any {
	var chans, brs, eps []string
	for id, c := range s.channels {
		if c.subs[a.name] {
			chans = append(chans, id)
		}
	}
	for id, b := range s.bridges {
		if s.bridgeHasApp(b, a.name) {
			brs = append(brs, id)
		}
	}
	if len(a.endpointIDs) != len(a.endpoints) {
		a.endpointIDs = slices.Sorted(maps.Keys(a.endpoints))
	}
	eps = a.endpointIDs
	sort.Strings(chans)
	sort.Strings(brs)
	nz := func(x []string) []string {
		if x == nil {
			return []string{}
		}
		return x
	}
	return map[string]any{"name": a.name, "channel_ids": nz(chans), "bridge_ids": nz(brs), "endpoint_ids": nz(eps),
		"device_names": []string{}, "events_allowed": []any{}, "events_disallowed": []any{}}
}

// bridgeHasApp reports whether app is among bridgeApps(b), without
// building the list.
func (s *Server) bridgeHasApp(b *bridge, app string) bool {
	if _, ok := b.subs[app]; ok {
		return true
	}
	for _, c := range b.chans {
		if _, ok := c.subs[app]; ok {
			return true
		}
	}
	a := s.apps[app]
	return a != nil && a.subscribeAll && a.conn != nil
}

func (s *Server) listApps(r *request) reply {
	out := []any{}
	for _, n := range s.sortedApps() {
		out = append(out, s.appJSON(s.apps[n]))
	}
	return ok(out)
}

func (s *Server) sortedApps() []string {
	var names []string
	for n, a := range s.apps {
		if a.conn != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (s *Server) getApp(r *request) reply {
	name := r.path("applicationName")
	if !s.registered(name) {
		return fail(404, "Application not found")
	}
	return ok(s.appJSON(s.apps[name]))
}

func (s *Server) subscription(r *request, add bool) reply {
	name := r.path("applicationName")
	srcs := r.list("eventSource")
	if len(srcs) == 0 {
		return fail(400, "Missing parameter eventSource")
	}
	if !s.registered(name) {
		return fail(404, "Application not found")
	}
	a := s.apps[name]
	for _, src := range srcs {
		scheme, id, _ := strings.Cut(src, ":")
		switch scheme {
		case "channel":
			c, found := s.channels[id]
			if !found {
				return fail(422, "Event source does not exist")
			}
			if !add && !c.subs[name] {
				return fail(409, "Application not subscribed to event source")
			}
			if add {
				c.subs[name], c.explicit[name] = true, true
			} else {
				delete(c.explicit, name)
				if !(c.inApp && c.app == name) {
					delete(c.subs, name)
				}
			}
		case "bridge":
			b, found := s.bridges[id]
			if !found {
				return fail(422, "Event source does not exist")
			}
			if !add && !b.subs[name] {
				return fail(409, "Application not subscribed to event source")
			}
			if add {
				b.subs[name] = true
			} else {
				delete(b.subs, name)
			}
		case "endpoint":
			if id == "" {
				return fail(400, "Invalid event source")
			}
			tech, res, hasRes := strings.Cut(id, "/")
			if tech == "Local" {
				// Local endpoints have no state to follow (Asterisk 22).
				return fail(422, "Event source does not exist")
			}
			if hasRes {
				if _, found := s.endpoints[tech+"/"+res]; !found {
					return fail(422, "Event source does not exist")
				}
			} else if !s.techs[tech] {
				return fail(422, "Event source does not exist")
			}
			if !add && !a.endpoints[id] {
				return fail(409, "Application not subscribed to event source")
			}
			if add && !a.endpoints[id] {
				a.endpoints[id] = true
				if i, _ := slices.BinarySearch(a.endpointIDs, id); len(a.endpointIDs) == len(a.endpoints)-1 {
					a.endpointIDs = slices.Insert(slices.Clip(a.endpointIDs), i, id)
				}
			} else if !add {
				delete(a.endpoints, id)
				a.endpointIDs = nil
			}
		case "deviceState":
			return fail(422, "Event source does not exist")
		default:
			return fail(400, "Invalid event source URI scheme")
		}
	}
	return ok(s.appJSON(a))
}

func (s *Server) subscribe(r *request) reply   { return s.subscription(r, true) }
func (s *Server) unsubscribe(r *request) reply { return s.subscription(r, false) }

// ---- channels ----

// sortedChannels lists the live channels in creation order (under s.mu).
func (s *Server) sortedChannels() []*channel {
	cs := make([]*channel, 0, len(s.channels))
	for _, c := range s.channels {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].seq < cs[j].seq })
	return cs
}

func (s *Server) listChannels(r *request) reply {
	cs := s.sortedChannels()
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.chanJSON(c))
	}
	return ok(out)
}

func (s *Server) chanOr404(r *request) (*channel, *reply) {
	c, found := s.channels[r.path("channelId")]
	if !found {
		rep := fail(404, "Channel not found")
		return nil, &rep
	}
	return c, nil
}

// inAppChan finds the path channel and checks it is in a Stasis app.
func (s *Server) inAppChan(r *request) (*channel, *reply) {
	c, rep := s.chanOr404(r)
	if rep != nil {
		return nil, rep
	}
	if !c.inApp {
		x := fail(409, "Channel not in Stasis application")
		return nil, &x
	}
	return c, nil
}

func (s *Server) getChannel(r *request) reply {
	c, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	return ok(s.chanJSON(c))
}

func parseCallerID(v string) callerID {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "<"); i >= 0 && strings.HasSuffix(v, ">") {
		return callerID{name: strings.Trim(strings.TrimSpace(v[:i]), `"`), number: v[i+1 : len(v)-1]}
	}
	return callerID{number: v}
}

func allocFailed() reply {
	return reply{http.StatusInternalServerError, map[string]string{"error": "Allocation failed"}}
}

func (s *Server) originate(r *request) reply {
	id := r.path("channelId")
	if id == "" {
		id = r.str("channelId")
	}
	ep := r.str("endpoint")
	if ep == "" {
		return fail(400, "Endpoint must be specified")
	}
	tech, res, okEP := splitEndpoint(ep)
	if !okEP {
		return fail(400, "Invalid endpoint specified")
	}
	app := r.str("app")
	if app == "" && r.str("extension") == "" {
		return fail(400, "Application or extension must be specified")
	}
	if id != "" {
		if _, exists := s.channels[id]; exists {
			return fail(409, "Channel with given unique ID already exists")
		}
	}
	timeout, okT := r.intParam("timeout", int(DefaultOriginateTimeout/time.Second))
	if !okT {
		return fail(400, "Invalid timeout")
	}
	c, allocated := s.newOutbound(outbound{id: id, otherID: r.str("otherChannelId"), tech: tech, resource: res,
		kind: kindOriginate, caller: parseCallerID(r.str("callerId")), vars: r.variables()})
	if !allocated {
		return allocFailed()
	}
	c.outApp = app
	c.outArgs = splitComma(r.str("appArgs"))
	c.outCtx, c.outExten = r.str("context"), r.str("extension")
	if app != "" {
		s.subscribeOriginated(c, app)
	}
	body := s.chanJSON(c)
	// An application that is not registered is only missed at the answer:
	// Asterisk dials, and when the far end answers its Stasis() fails and
	// the channel is hung up ("Stasis app doesn't exist"; answerOutbound).
	if orig := s.channels[r.str("originator")]; orig != nil {
		c.dialCaller = orig
	}
	var d time.Duration
	if timeout > 0 {
		d = time.Duration(timeout) * time.Second
	}
	s.startDial(c, d, c.dialCaller)
	return ok(body)
}

func (s *Server) createChannel(r *request) reply {
	ep := r.str("endpoint")
	app := r.str("app")
	if ep == "" || app == "" {
		return fail(400, "Endpoint and app must be specified")
	}
	tech, res, okEP := splitEndpoint(ep)
	if !okEP {
		return fail(400, "Invalid endpoint specified")
	}
	id := r.str("channelId")
	if id != "" {
		if _, exists := s.channels[id]; exists {
			return fail(409, "Channel with given unique ID already exists")
		}
	}
	c, allocated := s.newOutbound(outbound{id: id, otherID: r.str("otherChannelId"), tech: tech, resource: res,
		kind: kindCreate, vars: r.variables()})
	if !allocated {
		return allocFailed()
	}
	s.subscribeOriginated(c, app)
	if !s.registered(app) {
		c.ringTimer = s.after(0, func() { s.hangup(c, 16, hangFail) })
		return ok(s.chanJSON(c))
	}
	body := s.chanJSON(c)
	s.enterStasis(c, app, splitComma(r.str("appArgs")), nil)
	return ok(body)
}

func (s *Server) dial(r *request) reply {
	c, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	if c.kind != kindCreate || c.dialing || c.answered || c.state != "Down" {
		return fail(409, "Channel cannot be dialed")
	}
	var caller *channel
	if cid := r.str("caller"); cid != "" {
		caller = s.channels[cid]
		if caller == nil {
			return fail(404, "Caller channel not found")
		}
	}
	timeout, okT := r.intParam("timeout", 0)
	if !okT {
		return fail(400, "Invalid timeout")
	}
	s.startDial(c, time.Duration(timeout)*time.Second, caller)
	return noContent()
}

var hangupReasons = map[string]int{
	"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 18, "rejected": 21,
	"unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28, "codec_mismatch": 58,
	"interworking": 127, "failure": 38, "answered_elsewhere": 26,
}

func (s *Server) hangupChannel(r *request) reply {
	c, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	cause := 16
	reason, code := r.str("reason"), r.str("reason_code")
	switch {
	case reason != "" && code != "":
		return fail(400, "The reason and reason_code can't both be specified")
	case code != "":
		n, err := strconv.Atoi(code)
		if err != nil || n < 0 {
			return fail(400, "Invalid reason_code for hangup specified")
		}
		cause = n
	case reason != "":
		n, found := hangupReasons[reason]
		if !found {
			return fail(400, "Invalid reason for hangup specified")
		}
		cause = n
	}
	s.hangup(c, cause, hangARI)
	return noContent()
}

func (s *Server) continueChannel(r *request) reply {
	c, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	s.leaveStasis(c, true)
	s.runDialplan(c, r.str("context"), r.str("extension"))
	return noContent()
}

func (s *Server) moveChannel(r *request) reply {
	app := r.str("app")
	if app == "" {
		return fail(400, "Missing parameter app")
	}
	c, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	if !s.registered(app) {
		s.chanEvent(c, "ApplicationMoveFailed", map[string]any{"destination": app, "args": splitComma(r.str("appArgs"))})
		return noContent()
	}
	s.leaveStasis(c, true)
	s.enterStasis(c, app, splitComma(r.str("appArgs")), nil)
	return noContent()
}

func (s *Server) redirectChannel(r *request) reply {
	ep := r.str("endpoint")
	if ep == "" {
		return fail(400, "Endpoint parameter not provided")
	}
	c, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	tech, _, okEP := splitEndpoint(ep)
	if !okEP {
		return fail(400, "Invalid endpoint")
	}
	if tech != c.tech {
		return fail(422, "Endpoint technology does not match channel")
	}
	// The far end is told to go elsewhere; the channel clears.
	s.hangup(c, 16, hangFar)
	return noContent()
}

func (s *Server) answer(r *request) reply {
	c, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	if c.dialing && !c.answered {
		return fail(412, "Channel in invalid state")
	}
	s.setState(c, "Up")
	return noContent()
}

func (s *Server) inAppNoop(r *request) reply {
	_, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	return noContent()
}

func (s *Server) sendDTMF(r *request) reply {
	dtmf := r.str("dtmf")
	if dtmf == "" {
		return fail(400, "DTMF is required")
	}
	_, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	return noContent()
}

func (s *Server) mute(r *request) reply {
	switch r.str("direction") {
	case "", "both", "in", "out":
	default:
		return fail(400, "Invalid direction specified")
	}
	return s.inAppNoop(r)
}

func (s *Server) hold(r *request) reply {
	c, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	if c.tech == "Local" {
		// Asterisk 22 sends no ChannelHold/ChannelUnhold for a Local channel.
		return noContent()
	}
	if r.r.Method == http.MethodPost {
		s.chanEvent(c, "ChannelHold", nil)
	} else {
		s.chanEvent(c, "ChannelUnhold", nil)
	}
	return noContent()
}

func (s *Server) getVar(r *request) reply {
	name := r.str("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	c, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	switch name {
	case "CALLERID(num)":
		return ok(map[string]any{"value": c.caller.number})
	case "CALLERID(name)":
		return ok(map[string]any{"value": c.caller.name})
	case "CHANNEL(name)":
		return ok(map[string]any{"value": c.name})
	case "UNIQUEID":
		return ok(map[string]any{"value": c.id})
	}
	v, found := c.vars[name]
	if !found {
		return fail(404, "Provided variable was not found")
	}
	return ok(map[string]any{"value": v})
}

func (s *Server) setVar(r *request) reply {
	name := r.str("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	c, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	v := r.str("value")
	if name == HangupHandlerVar {
		c.setChanVar(name, v)
		return noContent()
	}
	c.vars[name] = v
	s.emit(s.chanApps(c), "ChannelVarset", map[string]any{"variable": name, "value": v, "channel": chanNow{c}})
	return noContent()
}

func validDirection(d string) bool {
	switch d {
	case "", "none", "both", "in", "out":
		return true
	}
	return false
}

func (s *Server) snoop(r *request) reply {
	spy, whisper, app := r.str("spy"), r.str("whisper"), r.str("app")
	if !validDirection(spy) {
		return fail(400, "Invalid direction specified for spy")
	}
	if !validDirection(whisper) {
		return fail(400, "Invalid direction specified for whisper")
	}
	if (spy == "" || spy == "none") && (whisper == "" || whisper == "none") {
		return fail(400, "Direction must be specified for at least spy or whisper")
	}
	if app == "" {
		return fail(400, "Application name is required")
	}
	t, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	id := r.path("snoopId")
	if id == "" {
		id = r.str("snoopId")
	}
	if id != "" {
		if _, exists := s.channels[id]; exists {
			return fail(409, "Channel with given unique ID already exists")
		}
	}
	sn := s.addChannel(newChan{id: id, tech: "Snoop", resource: t.id, kind: kindSnoop, state: "Up",
		nameOverride: "Snoop/" + t.id + "-" + s.nextName()})
	sn.answered = true
	sn.snoopOf = t
	sn.spy, sn.whisper = spy, whisper
	t.snoops = append(t.snoops, sn)
	body := s.chanJSON(sn)
	if !s.registered(app) {
		sn.ringTimer = s.after(0, func() { s.hangup(sn, 16, hangFail) })
		return ok(body)
	}
	s.enterStasis(sn, app, splitComma(r.str("appArgs")), nil)
	return ok(body)
}

// ---- media ----

func (s *Server) newPlayback(r *request, id string) (*playback, *reply) {
	media := r.list("media")
	if len(media) == 0 {
		rep := fail(400, "Missing parameter media")
		return nil, &rep
	}
	if id == "" {
		id = r.str("playbackId")
	}
	if id == "" {
		id = s.newUUID()
	}
	if _, exists := s.playbacks[id]; exists {
		rep := fail(409, "Playback with the same id already exists")
		return nil, &rep
	}
	lang := r.str("lang")
	if lang == "" {
		lang = "en"
	}
	return &playback{id: id, media: media, lang: lang, state: "queued"}, nil
}

func (s *Server) playChannel(r *request) reply {
	c, rep := s.inAppChan(r)
	if rep != nil {
		return *rep
	}
	p, rep := s.newPlayback(r, r.path("playbackId"))
	if rep != nil {
		return *rep
	}
	p.ch = c
	body := s.playbackJSON(p)
	s.queuePlayback(p)
	return created(body)
}

func (s *Server) playBridge(r *request) reply {
	b, found := s.bridges[r.path("bridgeId")]
	if !found {
		return fail(404, "Bridge not found")
	}
	p, rep := s.newPlayback(r, r.path("playbackId"))
	if rep != nil {
		return *rep
	}
	p.br = b
	body := s.playbackJSON(p)
	s.queuePlayback(p)
	return created(body)
}

func (s *Server) getPlayback(r *request) reply {
	p, found := s.playbacks[r.path("playbackId")]
	if !found {
		return fail(404, "Playback not found")
	}
	return ok(s.playbackJSON(p))
}

func (s *Server) stopPlayback(r *request) reply {
	p, found := s.playbacks[r.path("playbackId")]
	if !found {
		return fail(404, "Playback not found")
	}
	s.finishPlayback(p, "done")
	return noContent()
}

func (s *Server) controlPlayback(r *request) reply {
	op := r.str("operation")
	switch op {
	case "restart", "pause", "unpause", "reverse", "forward":
	default:
		if op == "" {
			return fail(400, "Missing parameter operation")
		}
		return fail(400, "Invalid operation "+op)
	}
	p, found := s.playbacks[r.path("playbackId")]
	if !found {
		return fail(404, "Playback not found")
	}
	if p.state == "queued" {
		return fail(409, "Playback not yet started")
	}
	tone := p.remaining < 0
	switch op {
	case "pause":
		if p.state != "playing" {
			return noContent()
		}
		p.timer.Stop()
		if !tone {
			p.remaining -= s.clock.Since(p.segStart)
		}
		p.state = "paused"
	case "unpause":
		if p.state != "paused" {
			return noContent()
		}
		p.state = "playing"
		if !tone {
			s.armPlayback(p)
		}
	case "restart", "reverse", "forward":
		if tone {
			return noContent()
		}
		full, _ := s.mediaLen(p.media[p.idx])
		left := p.remaining
		if p.state == "playing" {
			left -= s.clock.Since(p.segStart)
		}
		switch op {
		case "restart":
			left = full
		case "reverse":
			left = min(full, left+3*time.Second)
		case "forward":
			left = max(0, left-3*time.Second)
		}
		p.remaining = left
		if p.state == "playing" {
			p.timer.Stop()
			s.armPlayback(p)
		}
	}
	return noContent()
}

// ---- recordings ----

var recFormats = map[string]bool{"wav": true, "WAV": true, "wav16": true, "gsm": true, "ulaw": true, "alaw": true,
	"sln": true, "sln16": true, "g722": true, "g729": true, "ogg": true, "mp3": true, "wav49": true, "au": true}

func (s *Server) newRecording(r *request) (*liveRec, time.Duration, *reply) {
	bad := func(code int, msg string) (*liveRec, time.Duration, *reply) {
		rep := fail(code, msg)
		return nil, 0, &rep
	}
	name, format := r.str("name"), r.str("format")
	if name == "" {
		return bad(400, "Recording name is required")
	}
	if format == "" {
		return bad(400, "Recording format is required")
	}
	maxDur, ok1 := r.intParam("maxDurationSeconds", 0)
	maxSil, ok2 := r.intParam("maxSilenceSeconds", 0)
	if !ok1 || !ok2 || maxDur < 0 || maxSil < 0 {
		return bad(400, "Invalid duration")
	}
	ifExists := r.str("ifExists")
	switch ifExists {
	case "", "fail", "overwrite", "append":
	default:
		return bad(400, "ifExists invalid")
	}
	term := r.str("terminateOn")
	switch term {
	case "", "none", "any", "*", "#":
	default:
		return bad(400, "terminateOn invalid")
	}
	if !recFormats[format] {
		return bad(422, "Unknown recording format")
	}
	if _, live := s.liveRecs[name]; live {
		return bad(409, "Recording with the same name already in progress")
	}
	rec := &liveRec{name: name, format: format, state: "queued", terminateOn: term, maxSilence: maxSil}
	if st, exists := s.stored[name]; exists {
		switch ifExists {
		case "", "fail":
			return bad(409, "Recording already exists and can not be overwritten")
		case "append":
			rec.appendTo = st.duration
		}
	}
	return rec, time.Duration(maxDur) * time.Second, nil
}

func (s *Server) recordChannel(r *request) reply {
	c, rep := s.chanOr404(r)
	if rep != nil {
		return *rep
	}
	rec, maxDur, rep := s.newRecording(r)
	if rep != nil {
		return *rep
	}
	if !c.inApp {
		return fail(409, "Channel not in Stasis application")
	}
	if c.bridge != nil {
		return fail(409, "Channel is in a bridge")
	}
	rec.ch = c
	body := s.liveRecJSON(rec, false)
	s.startRecording(rec, maxDur)
	return created(body)
}

func (s *Server) recordBridge(r *request) reply {
	b, found := s.bridges[r.path("bridgeId")]
	if !found {
		return fail(404, "Bridge not found")
	}
	rec, maxDur, rep := s.newRecording(r)
	if rep != nil {
		return *rep
	}
	rec.br = b
	body := s.liveRecJSON(rec, false)
	s.startRecording(rec, maxDur)
	return created(body)
}

func (s *Server) liveOr404(r *request) (*liveRec, *reply) {
	rec, found := s.liveRecs[r.path("recordingName")]
	if !found {
		rep := fail(404, "Recording not found")
		return nil, &rep
	}
	return rec, nil
}

func (s *Server) getLiveRec(r *request) reply {
	rec, rep := s.liveOr404(r)
	if rep != nil {
		return *rep
	}
	return ok(s.liveRecJSON(rec, false))
}

func (s *Server) stopLiveRec(r *request) reply {
	rec, rep := s.liveOr404(r)
	if rep != nil {
		return *rep
	}
	s.finishRecording(rec, "done", "")
	return noContent()
}

func (s *Server) cancelLiveRec(r *request) reply {
	rec, rep := s.liveOr404(r)
	if rep != nil {
		return *rep
	}
	s.finishRecording(rec, "canceled", "")
	return noContent()
}

func (s *Server) pauseLiveRec(r *request) reply {
	rec, rep := s.liveOr404(r)
	if rep != nil {
		return *rep
	}
	if rec.state != "recording" && rec.state != "paused" {
		return fail(409, "Recording not in session")
	}
	if r.r.Method == http.MethodPost && rec.state == "recording" {
		rec.acc += s.clock.Since(rec.segStart)
		rec.state = "paused"
	} else if r.r.Method == http.MethodDelete && rec.state == "paused" {
		rec.state = "recording"
		rec.segStart = s.clock.Now()
	}
	return noContent()
}

func (s *Server) muteLiveRec(r *request) reply {
	rec, rep := s.liveOr404(r)
	if rep != nil {
		return *rep
	}
	if rec.state != "recording" && rec.state != "paused" {
		return fail(409, "Recording not in session")
	}
	rec.muted = r.r.Method == http.MethodPost
	return noContent()
}

func (s *Server) storedJSON(st *storedRec) map[string]any {
	return map[string]any{"name": st.name, "format": st.format}
}

func (s *Server) listStored(r *request) reply {
	names := make([]string, 0, len(s.stored))
	for n := range s.stored {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, n := range names {
		out = append(out, s.storedJSON(s.stored[n]))
	}
	return ok(out)
}

func (s *Server) getStored(r *request) reply {
	st, found := s.stored[r.path("recordingName")]
	if !found {
		return fail(404, "Recording not found")
	}
	return ok(s.storedJSON(st))
}

func (s *Server) deleteStored(r *request) reply {
	name := r.path("recordingName")
	if _, found := s.stored[name]; !found {
		return fail(404, "Recording not found")
	}
	delete(s.stored, name)
	return noContent()
}

func (s *Server) copyStored(r *request) reply {
	dst := r.str("destinationRecordingName")
	if dst == "" {
		return fail(400, "Missing parameter destinationRecordingName")
	}
	st, found := s.stored[r.path("recordingName")]
	if !found {
		return fail(404, "Recording not found")
	}
	if _, exists := s.stored[dst]; exists {
		return fail(409, "A recording with the same name already exists on the system")
	}
	cp := &storedRec{name: dst, format: st.format, duration: st.duration}
	s.stored[dst] = cp
	return ok(s.storedJSON(cp))
}

// ---- bridges ----

var bridgeTypes = map[string]bool{"mixing": true, "holding": true, "dtmf_events": true, "proxy_media": true,
	"video_sfu": true, "video_single": true, "sdp_label": true}

func (s *Server) listBridges(r *request) reply {
	ids := make([]string, 0, len(s.bridges))
	for id := range s.bridges {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.bridgeJSON(s.bridges[id]))
	}
	return ok(out)
}

func (s *Server) createBridge(r *request) reply {
	id := r.path("bridgeId")
	if id == "" {
		id = r.str("bridgeId")
	}
	if id == "" {
		id = s.newUUID()
	}
	if _, exists := s.bridges[id]; exists {
		return fail(409, "Bridge with the same bridgeId already exists")
	}
	btype := "mixing"
	if types := splitComma(r.str("type")); len(types) > 0 {
		for _, t := range types {
			if !bridgeTypes[t] {
				return fail(400, "Invalid bridge type "+t)
			}
		}
		btype = types[0]
		if btype == "dtmf_events" || btype == "proxy_media" {
			btype = "mixing"
		}
	}
	// Asterisk 22 sends BridgeCreated to no application, and creating a
	// bridge subscribes none to it.
	b := &bridge{id: id, name: r.str("name"), btype: btype, created: s.clock.Now(), subs: map[string]bool{}}
	s.bridges[id] = b
	return ok(s.bridgeJSON(b))
}

func (s *Server) bridgeOr404(r *request) (*bridge, *reply) {
	b, found := s.bridges[r.path("bridgeId")]
	if !found {
		rep := fail(404, "Bridge not found")
		return nil, &rep
	}
	return b, nil
}

func (s *Server) getBridge(r *request) reply {
	b, rep := s.bridgeOr404(r)
	if rep != nil {
		return *rep
	}
	return ok(s.bridgeJSON(b))
}

func (s *Server) deleteBridge(r *request) reply {
	b, rep := s.bridgeOr404(r)
	if rep != nil {
		return *rep
	}
	s.destroyBridge(b)
	return noContent()
}

func (s *Server) bridgeNoop(r *request) reply {
	_, rep := s.bridgeOr404(r)
	if rep != nil {
		return *rep
	}
	return noContent()
}

func (s *Server) addChannelToBridge(r *request) reply {
	ids := r.list("channel")
	if len(ids) == 0 {
		return fail(400, "Missing parameter channel")
	}
	b, rep := s.bridgeOr404(r)
	if rep != nil {
		return *rep
	}
	var cs []*channel
	for _, id := range ids {
		c, found := s.channels[id]
		if !found {
			return fail(400, "Channel not found")
		}
		if !c.inApp {
			return fail(422, "Channel not in Stasis application")
		}
		if len(c.recs) > 0 {
			return fail(409, "Channel currently recording")
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		s.addToBridge(b, c)
	}
	return noContent()
}

func (s *Server) removeChannelFromBridge(r *request) reply {
	ids := r.list("channel")
	if len(ids) == 0 {
		return fail(400, "Missing parameter channel")
	}
	b, rep := s.bridgeOr404(r)
	if rep != nil {
		return *rep
	}
	var cs []*channel
	for _, id := range ids {
		c, found := s.channels[id]
		if !found {
			return fail(400, "Channel not found")
		}
		if c.bridge != b {
			return fail(422, "Channel not in this bridge")
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		s.removeFromBridge(c)
	}
	return noContent()
}

// ---- endpoints, sounds, device states ----

func (s *Server) sortedEndpoints(tech string) []*endpoint {
	var out []*endpoint
	for _, e := range s.endpoints {
		if tech == "" || e.tech == tech {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

func (s *Server) listEndpoints(r *request) reply {
	out := []any{}
	for _, e := range s.sortedEndpoints("") {
		out = append(out, s.endpointJSON(e))
	}
	return ok(out)
}

func (s *Server) listEndpointsByTech(r *request) reply {
	tech := r.path("tech")
	if !s.techs[tech] {
		return fail(404, "No Endpoints found - invalid tech "+tech)
	}
	out := []any{}
	for _, e := range s.sortedEndpoints(tech) {
		out = append(out, s.endpointJSON(e))
	}
	return ok(out)
}

func (s *Server) getEndpoint(r *request) reply {
	e, found := s.endpoints[r.path("tech")+"/"+r.path("resource")]
	if !found {
		return fail(404, "Endpoint not found")
	}
	return ok(s.endpointJSON(e))
}

func (s *Server) soundJSON(name string) map[string]any {
	return map[string]any{"id": name, "text": "", "formats": []any{map[string]any{"language": "en", "format": "gsm"}}}
}

func (s *Server) listSounds(r *request) reply {
	names := make([]string, 0, len(s.sounds))
	for n := range s.sounds {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, n := range names {
		out = append(out, s.soundJSON(n))
	}
	return ok(out)
}

func (s *Server) getSound(r *request) reply {
	id := r.path("soundId")
	if _, found := s.sounds[id]; !found {
		return fail(404, "Sound not found")
	}
	return ok(s.soundJSON(id))
}

func (s *Server) listDeviceStates(r *request) reply { return ok([]any{}) }
