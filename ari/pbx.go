package ari

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	ari6 "github.com/CyCoreSystems/ari/v6"
	sb "github.com/switchboard/switchboard"
)

func chanKey(ch sb.ChannelID) *ari6.Key { return ari6.NewKey(ari6.ChannelKey, string(ch)) }
func bridgeKey(b sb.BridgeID) *ari6.Key { return ari6.NewKey(ari6.BridgeKey, string(b)) }
func pbKey(id sb.PlaybackID) *ari6.Key  { return ari6.NewKey(ari6.PlaybackKey, string(id)) }
func liveKey(name string) *ari6.Key     { return ari6.NewKey(ari6.LiveRecordingKey, name) }
func storedKey(name string) *ari6.Key   { return ari6.NewKey(ari6.StoredRecordingKey, name) }
func appKey(app string) *ari6.Key       { return ari6.NewKey(ari6.ApplicationKey, app) }
func wrap(op string, id any, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %v: %w", op, id, err)
}

// Answer answers a ringing channel in the application.
func (a *Adapter) Answer(ctx context.Context, ch sb.ChannelID) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("answer", ch, err)
	}
	p := rAnswer.path(string(ch))
	return wrap("answer", ch, a.command(ctx, "answer", rAnswer, p, "", nil))
}

// Ring indicates ringing to the caller of a channel not yet answered.
func (a *Adapter) Ring(ctx context.Context, ch sb.ChannelID) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("ring", ch, err)
	}
	p := rRing.path(string(ch))
	return wrap("ring", ch, a.call(ctx, "ring", rRing, p, func() error {
		return a.client.Channel().Ring(chanKey(ch))
	}))
}

// Hangup hangs a channel up. reason is an ARI hang-up reason (normal, busy,
// congestion, no_answer, timeout, rejected, ...); empty means normal.
func (a *Adapter) Hangup(ctx context.Context, ch sb.ChannelID, reason string) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("hangup", ch, err)
	}
	if err := checkWord("hang-up reason", reason); err != nil {
		return wrap("hangup", ch, err)
	}
	if reason == "" {
		reason = "normal"
	}
	p := rHangup.path(string(ch))
	return wrap("hangup", ch, a.command(ctx, "hangup", rHangup, p, "reason="+reason, nil))
}

// Originate calls an endpoint. The answered channel enters the application
// with req.AppArgs, or the dialplan at req.Context when that is set. The
// request is made by the adapter itself: the native client's originate
// throws away the channel Asterisk returns.
func (a *Adapter) Originate(ctx context.Context, req sb.OriginateRequest) (sb.ChannelInfo, error) {
	id := req.ID
	if req.Endpoint == "" {
		return sb.ChannelInfo{}, wrap("originate", id, sb.Errorf(sb.EINVALID, "endpoint is required"))
	}
	rt := rOriginate
	if id != "" {
		if err := checkID("channel", string(id)); err != nil {
			return sb.ChannelInfo{}, wrap("originate", id, err)
		}
		rt = rOriginateID
	}
	p := rt.path(string(id))
	q := url.Values{"endpoint": {req.Endpoint}}
	if req.Context != "" {
		q.Set("context", req.Context)
		if req.Extension != "" {
			q.Set("extension", req.Extension)
		}
		if req.Priority > 0 {
			q.Set("priority", strconv.Itoa(req.Priority))
		}
	} else {
		q.Set("app", a.cfg.Application)
		if len(req.AppArgs) > 0 {
			q.Set("appArgs", strings.Join(req.AppArgs, ","))
		}
	}
	if req.CallerID != "" {
		q.Set("callerId", req.CallerID)
	}
	if req.Timeout > 0 {
		q.Set("timeout", strconv.Itoa(int((req.Timeout+time.Second-1)/time.Second)))
	}
	if req.Originator != "" {
		q.Set("originator", string(req.Originator))
	}
	var body []byte
	if len(req.Variables) > 0 {
		var err error
		if body, err = json.Marshal(map[string]any{"variables": req.Variables}); err != nil {
			return sb.ChannelInfo{}, wrap("originate", id, sb.Errorf(sb.EINVALID, "variables: %v", err))
		}
	}
	var ci sb.ChannelInfo
	if err := a.exchange(ctx, "originate", rt, p, q.Encode(), body, false, decodeChannel(&ci)); err != nil {
		return sb.ChannelInfo{}, fmt.Errorf("originate %s to %s: %w", id, req.Endpoint, err)
	}
	return ci, nil
}

// Continue sends a channel back to the dialplan; it leaves the application.
func (a *Adapter) Continue(ctx context.Context, ch sb.ChannelID, dpContext, extension string, priority int) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("continue", ch, err)
	}
	p := rContinue.path(string(ch))
	return wrap("continue", ch, a.call(ctx, "continue", rContinue, p, func() error {
		return a.client.Channel().Continue(chanKey(ch), dpContext, extension, priority)
	}))
}

// Redirect transfers a channel to an endpoint (e.g. PJSIP/1001). The native
// client has no redirect, so the adapter makes the request.
func (a *Adapter) Redirect(ctx context.Context, ch sb.ChannelID, endpoint string) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("redirect", ch, err)
	}
	p := rRedirect.path(string(ch))
	return wrap("redirect", ch, a.rest(ctx, "redirect", rRedirect, p, url.Values{"endpoint": {endpoint}}, nil, nil))
}

// SetVariable sets a channel variable (or dialplan function, e.g.
// CALLERID(name)).
func (a *Adapter) SetVariable(ctx context.Context, ch sb.ChannelID, name, value string) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("set variable on", ch, err)
	}
	p := rSetVariable.path(string(ch))
	return wrap("set variable on", ch, a.command(ctx, "set_variable", rSetVariable, p, "", &struct {
		Name  string `json:"variable"`
		Value string `json:"value,omitempty"`
	}{name, value}))
}

// GetVariable reads a channel variable (or dialplan function).
func (a *Adapter) GetVariable(ctx context.Context, ch sb.ChannelID, name string) (string, error) {
	if err := checkID("channel", string(ch)); err != nil {
		return "", wrap("get variable of", ch, err)
	}
	var v string
	p := rGetVariable.path(string(ch))
	err := a.call(ctx, "get_variable", rGetVariable, p, func() error {
		var err error
		// The native client pastes the name into the query unescaped.
		v, err = a.client.Channel().GetVariable(chanKey(ch), url.QueryEscape(name))
		return err
	})
	if err != nil {
		return "", wrap("get variable of", ch, err)
	}
	return v, nil
}

// GlobalVariable reads a global dialplan variable ("" when unset: Asterisk
// answers 200 with an empty value). Functions cannot be read this way.
func (a *Adapter) GlobalVariable(ctx context.Context, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "()") {
		return "", wrap("get global variable", name, sb.Errorf(sb.EINVALID, "a global variable name, not a function, is required"))
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := a.rest(ctx, "get_global", rGetGlobal, rGetGlobal.path(""), url.Values{"variable": {name}}, nil, &out); err != nil {
		return "", wrap("get global variable", name, err)
	}
	return out.Value, nil
}

// SetGlobalVariable sets a global dialplan variable; an empty value unsets it.
func (a *Adapter) SetGlobalVariable(ctx context.Context, name, value string) error {
	if name == "" {
		return wrap("set global variable", name, sb.Errorf(sb.EINVALID, "a variable name is required"))
	}
	q := url.Values{"variable": {name}}
	if value != "" {
		q.Set("value", value)
	}
	return wrap("set global variable", name, a.rest(ctx, "set_global", rSetGlobal, rSetGlobal.path(""), q, nil, nil))
}

// SendDTMF plays DTMF digits to a channel (ARI's default 100 ms tones with
// 100 ms gaps).
func (a *Adapter) SendDTMF(ctx context.Context, ch sb.ChannelID, digits string) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("send dtmf to", ch, err)
	}
	p := rSendDTMF.path(string(ch))
	return wrap("send dtmf to", ch, a.call(ctx, "send_dtmf", rSendDTMF, p, func() error {
		return a.client.Channel().SendDTMF(chanKey(ch), digits, nil)
	}))
}

// Hold puts a channel on hold (on) or takes it off hold.
func (a *Adapter) Hold(ctx context.Context, ch sb.ChannelID, on bool) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("hold", ch, err)
	}
	p := rHold.path(string(ch))
	if on {
		return wrap("hold", ch, a.call(ctx, "hold", rHold, p, func() error {
			return a.client.Channel().Hold(chanKey(ch))
		}))
	}
	return wrap("unhold", ch, a.call(ctx, "unhold", rUnhold, p, func() error {
		return a.client.Channel().StopHold(chanKey(ch))
	}))
}

// MusicOnHold starts (on) or stops music on hold of class on a channel.
func (a *Adapter) MusicOnHold(ctx context.Context, ch sb.ChannelID, class string, on bool) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("music on hold", ch, err)
	}
	p := rMOHStart.path(string(ch))
	if on {
		return wrap("start music on hold on", ch, a.command(ctx, "moh_start", rMOHStart, p, "", &struct {
			Class string `json:"mohClass,omitempty"`
		}{class}))
	}
	return wrap("stop music on hold on", ch, a.command(ctx, "moh_stop", rMOHStop, p, "", nil))
}

// Play plays media URIs in sequence on a channel as one playback. Its
// PlaybackFinished follows, made up with State "failed" when Asterisk
// drops the playback without one (see "Lost playbacks" in the package
// documentation); a playback Play returns an error for is not watched.
func (a *Adapter) Play(ctx context.Context, ch sb.ChannelID, id sb.PlaybackID, media ...string) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("play on", ch, err)
	}
	if err := checkID("playback", string(id)); err != nil {
		return wrap("play on", ch, err)
	}
	if len(media) == 0 {
		return wrap("play on", ch, sb.Errorf(sb.EINVALID, "no media to play"))
	}
	p := rPlay.path(string(ch), string(id))
	settle := a.watchPlayback(id, "channel:"+string(ch))
	err := a.command(ctx, "play", rPlay, p, "", &struct {
		Media []string `json:"media"`
	}{media})
	settle(err)
	return wrap("play on", ch, err)
}

// PlayBridge plays media URIs in sequence to everyone in a bridge; its
// PlaybackFinished follows as for Play.
func (a *Adapter) PlayBridge(ctx context.Context, b sb.BridgeID, id sb.PlaybackID, media ...string) error {
	if err := checkID("bridge", string(b)); err != nil {
		return wrap("play on bridge", b, err)
	}
	if err := checkID("playback", string(id)); err != nil {
		return wrap("play on bridge", b, err)
	}
	if len(media) == 0 {
		return wrap("play on bridge", b, sb.Errorf(sb.EINVALID, "no media to play"))
	}
	p := rPlayBridge.path(string(b), string(id))
	settle := a.watchPlayback(id, "bridge:"+string(b))
	err := a.call(ctx, "play_bridge", rPlayBridge, p, func() error {
		_, err := a.client.Bridge().Play(bridgeKey(b), string(id), media...)
		return err
	})
	settle(err)
	return wrap("play on bridge", b, err)
}

// StopPlayback stops a playback; PlaybackFinished follows.
func (a *Adapter) StopPlayback(ctx context.Context, id sb.PlaybackID) error {
	if err := checkID("playback", string(id)); err != nil {
		return wrap("stop playback", id, err)
	}
	p := rStopPlayback.path(string(id))
	return wrap("stop playback", id, a.call(ctx, "stop_playback", rStopPlayback, p, func() error {
		return a.client.Playback().Stop(pbKey(id))
	}))
}

// CreateBridge creates a mixing bridge with the given id.
func (a *Adapter) CreateBridge(ctx context.Context, id sb.BridgeID, name string) error {
	if err := checkID("bridge", string(id)); err != nil {
		return wrap("create bridge", id, err)
	}
	p := rCreateBridge.path(string(id))
	return wrap("create bridge", id, a.command(ctx, "create_bridge", rCreateBridge, p, "", &struct {
		ID   string `json:"bridgeId,omitempty"`
		Type string `json:"type,omitempty"`
		Name string `json:"name,omitempty"`
	}{string(id), "mixing", name}))
}

// AddToBridge adds channels to a bridge, one request per channel in order
// (the native client sends one channel per request).
func (a *Adapter) AddToBridge(ctx context.Context, b sb.BridgeID, chs ...sb.ChannelID) error {
	if err := checkID("bridge", string(b)); err != nil {
		return wrap("add to bridge", b, err)
	}
	p := rAddToBridge.path(string(b))
	ids := make([]string, len(chs))
	for i, ch := range chs {
		if err := checkID("channel", string(ch)); err != nil {
			return wrap("add to bridge", b, err)
		}
		ids[i] = string(ch)
	}
	if len(ids) == 0 {
		return nil
	}
	// One request for all: ARI's channel query parameter takes a
	// comma-separated list (Asterisk splits it; a JSON body's string it
	// would take as one id, which is why the native client is not used),
	// and Asterisk adds all or none.
	list := strings.Join(ids, ",")
	err := a.rest(ctx, "add_to_bridge", rAddToBridge, p, url.Values{"channel": {list}}, nil, nil)
	if err != nil {
		return fmt.Errorf("add %s to bridge %s: %w", list, b, err)
	}
	return nil
}

// RemoveFromBridge removes channels from a bridge.
func (a *Adapter) RemoveFromBridge(ctx context.Context, b sb.BridgeID, chs ...sb.ChannelID) error {
	if err := checkID("bridge", string(b)); err != nil {
		return wrap("remove from bridge", b, err)
	}
	p := rRemoveFromBridge.path(string(b))
	for _, ch := range chs {
		if err := checkID("channel", string(ch)); err != nil {
			return wrap("remove from bridge", b, err)
		}
		err := a.call(ctx, "remove_from_bridge", rRemoveFromBridge, p, func() error {
			return a.client.Bridge().RemoveChannel(bridgeKey(b), string(ch))
		})
		if err != nil {
			return fmt.Errorf("remove %s from bridge %s: %w", ch, b, err)
		}
	}
	return nil
}

// DestroyBridge destroys a bridge; its channels stay in the application.
func (a *Adapter) DestroyBridge(ctx context.Context, b sb.BridgeID) error {
	if err := checkID("bridge", string(b)); err != nil {
		return wrap("destroy bridge", b, err)
	}
	p := rDestroyBridge.path(string(b))
	return wrap("destroy bridge", b, a.command(ctx, "destroy_bridge", rDestroyBridge, p, "", nil))
}

func recordingOptions(req sb.RecordRequest) *ari6.RecordingOptions {
	f := req.Format
	if f == "" {
		f = "wav"
	}
	return &ari6.RecordingOptions{
		Format:      f,
		MaxDuration: req.MaxDuration,
		MaxSilence:  req.MaxSilence,
		Exists:      req.IfExists,
		Beep:        req.Beep,
		Terminate:   req.TerminateOn,
	}
}

// RecordBridge records the mix of a bridge; RecordingStarted follows.
func (a *Adapter) RecordBridge(ctx context.Context, b sb.BridgeID, req sb.RecordRequest) error {
	if err := checkID("bridge", string(b)); err != nil {
		return wrap("record bridge", b, err)
	}
	if err := checkID("recording", req.Name); err != nil {
		return wrap("record bridge", b, err)
	}
	p := rRecordBridge.path(string(b))
	return wrap("record bridge", b, a.call(ctx, "record_bridge", rRecordBridge, p, func() error {
		_, err := a.client.Bridge().Record(bridgeKey(b), req.Name, recordingOptions(req))
		return err
	}))
}

// RecordChannel records a channel; RecordingStarted follows.
func (a *Adapter) RecordChannel(ctx context.Context, ch sb.ChannelID, req sb.RecordRequest) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("record channel", ch, err)
	}
	if err := checkID("recording", req.Name); err != nil {
		return wrap("record channel", ch, err)
	}
	p := rRecordChannel.path(string(ch))
	return wrap("record channel", ch, a.call(ctx, "record_channel", rRecordChannel, p, func() error {
		_, err := a.client.Channel().Record(chanKey(ch), req.Name, recordingOptions(req))
		return err
	}))
}

// StopRecording stops a live recording; RecordingFinished follows and the
// file becomes a stored recording.
func (a *Adapter) StopRecording(ctx context.Context, name string) error {
	if err := checkID("recording", name); err != nil {
		return wrap("stop recording", name, err)
	}
	p := rStopRecording.path(name)
	return wrap("stop recording", name, a.call(ctx, "stop_recording", rStopRecording, p, func() error {
		return a.client.LiveRecording().Stop(liveKey(name))
	}))
}

// RecordingLive tells whether a live recording exists (GET
// /recordings/live/{name}: 404 once it finished or was lost).
func (a *Adapter) RecordingLive(ctx context.Context, name string) (bool, error) {
	if err := checkID("recording", name); err != nil {
		return false, wrap("look up recording", name, err)
	}
	var out map[string]any
	err := a.rest(ctx, "get_live_recording", rGetLiveRecording, rGetLiveRecording.path(name), nil, nil, &out)
	switch {
	case err == nil:
		return true, nil
	case sb.ErrorCode(err) == sb.ENOTFOUND:
		return false, nil
	}
	return false, wrap("look up recording", name, err)
}

// PauseRecording pauses (pause) or resumes a live recording.
func (a *Adapter) PauseRecording(ctx context.Context, name string, pause bool) error {
	if err := checkID("recording", name); err != nil {
		return wrap("pause recording", name, err)
	}
	p := rPauseRecording.path(name)
	if pause {
		return wrap("pause recording", name, a.call(ctx, "pause_recording", rPauseRecording, p, func() error {
			return a.client.LiveRecording().Pause(liveKey(name))
		}))
	}
	return wrap("resume recording", name, a.call(ctx, "resume_recording", rResumeRecording, p, func() error {
		return a.client.LiveRecording().Resume(liveKey(name))
	}))
}

// StoredRecording opens a finished recording's file (GET
// /recordings/stored/{name}/file, which the native client lacks). ctx and
// RequestTimeout bound the wait for the answer; reading the body is bound by
// ctx only. The caller closes the reader.
func (a *Adapter) StoredRecording(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := checkID("recording", name); err != nil {
		return nil, wrap("download recording", name, err)
	}
	p := rStoredFile.path(name)
	bctx, cancel := context.WithCancel(ctx)
	t := time.AfterFunc(a.cfg.RequestTimeout, cancel)
	start := a.clk.Now()
	var resp *http.Response
	res := ""
	err := a.slots.acquire(bctx)
	held := err == nil
	if held {
		resp, res, err = a.send(bctx, http.MethodGet, p, nil, nil)
	}
	fired := !t.Stop()
	switch {
	case fired && err == nil:
		// The timer fired as the answer arrived: treat as a timeout.
		drain(resp.Body)
		err, res = context.DeadlineExceeded, ""
	case fired && ctx.Err() == nil && errors.Is(err, context.Canceled):
		// Our timer canceled the request, not the caller: a timeout.
		if held {
			err = context.DeadlineExceeded
		} else {
			err = fmt.Errorf("%w: %w", errPoolTimeout, context.DeadlineExceeded)
		}
		res = ""
	}
	err = classify(http.MethodGet, p, err)
	if res == "" {
		res = resultOf(err)
	}
	a.observe("stored_recording", rStoredFile, a.clk.Now().Sub(start), res, err)
	if err != nil {
		if held {
			a.slots.release()
		}
		cancel()
		return nil, wrap("download recording", name, err)
	}
	return &cancelOnClose{ReadCloser: resp.Body, cancel: cancel, release: a.slots.release}, nil
}

// cancelOnClose is a recording download's body: closing it ends the
// request's context and frees its connection slot, once.
type cancelOnClose struct {
	io.ReadCloser
	cancel  context.CancelFunc
	release func()
	once    sync.Once
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(func() {
		c.cancel()
		c.release()
	})
	return err
}

// DeleteStoredRecording deletes a stored recording.
func (a *Adapter) DeleteStoredRecording(ctx context.Context, name string) error {
	if err := checkID("recording", name); err != nil {
		return wrap("delete recording", name, err)
	}
	p := rDeleteStored.path(name)
	return wrap("delete recording", name, a.call(ctx, "delete_recording", rDeleteStored, p, func() error {
		return a.client.StoredRecording().Delete(storedKey(name))
	}))
}

// Snoop creates a snoop channel on req.Channel that enters the application
// with req.AppArgs. The adapter makes the request itself: the native client
// throws away the channel Asterisk returns.
func (a *Adapter) Snoop(ctx context.Context, req sb.SnoopRequest) (sb.ChannelInfo, error) {
	if err := checkID("channel", string(req.Channel)); err != nil {
		return sb.ChannelInfo{}, wrap("snoop on", req.Channel, err)
	}
	rt := rSnoop
	if req.ID != "" {
		if err := checkID("snoop channel", string(req.ID)); err != nil {
			return sb.ChannelInfo{}, wrap("snoop on", req.Channel, err)
		}
		rt = rSnoopID
	}
	p := rt.path(string(req.Channel), string(req.ID))
	q := url.Values{"app": {a.cfg.Application}}
	if req.Spy != "" {
		q.Set("spy", req.Spy)
	}
	if req.Whisper != "" {
		q.Set("whisper", req.Whisper)
	}
	if len(req.AppArgs) > 0 {
		q.Set("appArgs", strings.Join(req.AppArgs, ","))
	}
	var ch ari6.ChannelData
	if err := a.rest(ctx, "snoop", rt, p, q, nil, &ch); err != nil {
		return sb.ChannelInfo{}, wrap("snoop on", req.Channel, err)
	}
	return channelInfo(&ch), nil
}

// application is GET /applications/{app}.
type application struct {
	Name       string   `json:"name"`
	ChannelIDs []string `json:"channel_ids"`
	BridgeIDs  []string `json:"bridge_ids"`
}

func (a *Adapter) application(ctx context.Context) (application, error) {
	var app application
	err := a.rest(ctx, "get_application", rGetApplication, rGetApplication.path(url.PathEscape(a.cfg.Application)), nil, nil, &app)
	return app, err
}

// Channels lists the channels the application is subscribed to: the
// application's channel_ids (GET /applications/{app}) intersected with GET
// /channels, which also has channels of the dialplan and of other
// applications. Those in the application's Stasis now have InApp set (from
// the channel's dialplan app_name/app_data); the others are the ;2 halves
// of Local channels it originated (Asterisk lists both halves), channels
// it continued into the dialplan, and legs still ringing. After
// LinkUp{Reconnect: true} the call owner reconciles with this list.
func (a *Adapter) Channels(ctx context.Context) ([]sb.ChannelInfo, error) {
	app, err := a.application(ctx)
	if err != nil {
		return nil, fmt.Errorf("list channels of application %s: %w", a.cfg.Application, err)
	}
	if len(app.ChannelIDs) == 0 {
		return []sb.ChannelInfo{}, nil
	}
	in := make(map[string]bool, len(app.ChannelIDs))
	for _, id := range app.ChannelIDs {
		in[id] = true
	}
	var all []ari6.ChannelData
	if err := a.rest(ctx, "list_channels", rListChannels, rListChannels.path(), nil, nil, &all); err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	out := make([]sb.ChannelInfo, 0, len(app.ChannelIDs))
	for i := range all {
		if !in[all[i].ID] {
			continue
		}
		ci := channelInfo(&all[i])
		if d := all[i].Dialplan; d != nil && strings.EqualFold(d.AppName, "Stasis") {
			// app_data is "APP,ARG1,ARG2..." while the channel is in Stasis.
			parts := strings.Split(d.AppData, ",")
			if parts[0] == a.cfg.Application {
				ci.InApp, ci.Args = true, parts[1:]
			}
		}
		out = append(out, ci)
	}
	return out, nil
}

// Bridges lists the bridges ARI applications made (bridge_class
// "stasis") with their channels. The application's own bridge_ids are not
// enough: Asterisk subscribes an application to a bridge only while a
// channel of its own is in it, so an empty bridge left behind is listed
// there by no one; the call owner tells its own by their ids.
func (a *Adapter) Bridges(ctx context.Context) ([]sb.BridgeInfo, error) {
	var all []ari6.BridgeData
	if err := a.rest(ctx, "list_bridges", rListBridges, rListBridges.path(), nil, nil, &all); err != nil {
		return nil, fmt.Errorf("list bridges: %w", err)
	}
	out := []sb.BridgeInfo{}
	for _, b := range all {
		if b.Class != "" && !strings.EqualFold(b.Class, "stasis") {
			continue
		}
		bi := sb.BridgeInfo{ID: sb.BridgeID(b.ID), Channels: make([]sb.ChannelID, 0, len(b.ChannelIDs))}
		for _, c := range b.ChannelIDs {
			bi.Channels = append(bi.Channels, sb.ChannelID(c))
		}
		out = append(out, bi)
	}
	return out, nil
}

// Endpoints lists every endpoint Asterisk knows with its state.
func (a *Adapter) Endpoints(ctx context.Context) ([]sb.EndpointState, error) {
	var all []ari6.EndpointData
	if err := a.rest(ctx, "list_endpoints", rListEndpoints, rListEndpoints.path(), nil, nil, &all); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	out := make([]sb.EndpointState, 0, len(all))
	for _, e := range all {
		out = append(out, endpointState(e.Technology, e.Resource, e.State))
	}
	return out, nil
}

// SubscribeChannel subscribes the application to a channel's events, so
// that they keep coming while the channel is in the dialplan.
func (a *Adapter) SubscribeChannel(ctx context.Context, ch sb.ChannelID) error {
	if err := checkID("channel", string(ch)); err != nil {
		return wrap("subscribe", ch, err)
	}
	p := rSubscribe.path(a.cfg.Application)
	return wrap("subscribe", ch, a.command(ctx, "subscribe", rSubscribe, p, "", &eventSource{"channel:" + string(ch)}))
}

// SubscribeEndpoint subscribes the application to the state events of an
// endpoint ("PJSIP/1001") or of every endpoint of a technology ("PJSIP").
// Asterisk may forget subscriptions while the application has no
// WebSocket, so the call owner subscribes again after every LinkUp.
func (a *Adapter) SubscribeEndpoint(ctx context.Context, endpoint string) error {
	if endpoint == "" || strings.ContainsAny(endpoint, "?#&% \t\r\n") {
		return wrap("subscribe to endpoint", endpoint, sb.Errorf(sb.EINVALID, "bad endpoint %q", endpoint))
	}
	p := rSubscribe.path(a.cfg.Application)
	return wrap("subscribe to endpoint", endpoint, a.command(ctx, "subscribe_endpoint", rSubscribe, p, "", &eventSource{"endpoint:" + endpoint}))
}

// eventSource is the body of a subscription, as the native client sends
// it.
type eventSource struct {
	EventSource string `json:"eventSource"`
}
