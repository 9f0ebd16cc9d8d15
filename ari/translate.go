package ari

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	ari6 "github.com/CyCoreSystems/ari/v6"
	sb "github.com/switchboard/switchboard"
)

// decodeResult says what became of one WebSocket frame.
type decodeResult int

const (
	decoded   decodeResult = iota // a switchboard event
	ignored                       // a valid ARI event Switchboard does not use
	malformed                     // not an ARI event: counted in DecodeErrors
)

// decode turns one ARI WebSocket frame into a switchboard event. node is
// used when the frame names no Asterisk (asterisk_id).
//
// A frame is decoded once, into wireEvent, which holds only the fields
// Switchboard reads: ari.DecodeEvent decodes every frame twice (its type,
// then the whole event) and each channel and timestamp in it twice again,
// which was the largest share of serve's CPU per event under load. The
// frame is read by readWire, or by json.Unmarshal when readWire cannot
// tell what json.Unmarshal would make of it.
func decode(data []byte, node string) (sb.Event, decodeResult, error) {
	return new(eventDecoder).decode(data, node)
}

// eventDecoder decodes frames one after the other (the events reader's),
// reusing the wireEvent it reads each into.
type eventDecoder struct {
	w  wireEvent
	sc wireScratch
}

func (d *eventDecoder) decode(data []byte, node string) (sb.Event, decodeResult, error) {
	w := &d.w
	*w = wireEvent{}
	if !readWireInto(data, w, &d.sc) {
		*w = wireEvent{} // json.Unmarshal allocates what w points to
		if err := json.Unmarshal(data, w); err != nil {
			return undecodable(data, err)
		}
	}
	return fromWire(w, node)
}

// undecodable classifies a frame json.Unmarshal refused.
func undecodable(data []byte, err error) (sb.Event, decodeResult, error) {
	var m struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &m) == nil && m.Type != "" && !knownType[m.Type] {
		return nil, ignored, nil // a newer Asterisk's event, not garbage
	}
	return nil, malformed, err
}

// fromWire classifies and translates a decoded frame.
func fromWire(w *wireEvent, node string) (sb.Event, decodeResult, error) {
	if w.Type == "" {
		return nil, malformed, errors.New("ari event: no type")
	}
	if !knownType[w.Type] {
		return nil, ignored, nil
	}
	e, err := w.event(node)
	if err != nil {
		return nil, malformed, err
	}
	if e == nil {
		return nil, ignored, nil
	}
	return e, decoded, nil
}

// wireEvent is the union of the ARI event fields Switchboard reads.
type wireEvent struct {
	Type           string         `json:"type"`
	Node           string         `json:"asterisk_id"`
	Timestamp      wireTime       `json:"timestamp"`
	Channel        *wireChannel   `json:"channel"`
	Args           []string       `json:"args"`
	ReplaceChannel *wireRef       `json:"replace_channel"`
	Digit          string         `json:"digit"`
	DurationMs     int            `json:"duration_ms"`
	Cause          int            `json:"cause"`
	CauseTxt       string         `json:"cause_txt"`
	Soft           bool           `json:"soft"`
	Bridge         *wireRef       `json:"bridge"`
	Playback       *wirePlayback  `json:"playback"`
	Recording      *wireRecording `json:"recording"`
	Peer           *wireRef       `json:"peer"`
	Caller         *wireRef       `json:"caller"`
	Dialstatus     string         `json:"dialstatus"`
	Variable       string         `json:"variable"`
	Value          string         `json:"value"`
	Endpoint       *wireEndpoint  `json:"endpoint"`
}

type wireRef struct {
	ID string `json:"id"`
}

type wireChannel struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	State        string        `json:"state"`
	Language     string        `json:"language"`
	Caller       *wireCaller   `json:"caller"`
	Dialplan     *wireDialplan `json:"dialplan"`
	Creationtime wireTime      `json:"creationtime"`
}

type wireCaller struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

type wireDialplan struct {
	Context string `json:"context"`
	Exten   string `json:"exten"`
}

type wirePlayback struct {
	ID        string `json:"id"`
	TargetURI string `json:"target_uri"`
	State     string `json:"state"`
}

type wireRecording struct {
	Name      string `json:"name"`
	TargetURI string `json:"target_uri"`
	Duration  int    `json:"duration"` // seconds
	Cause     string `json:"cause"`
}

type wireEndpoint struct {
	Technology string `json:"technology"`
	Resource   string `json:"resource"`
	State      string `json:"state"`
}

// wireTime is an ARI time ("2006-01-02T15:04:05.000-0700").
type wireTime time.Time

const ariTimeFormat = "2006-01-02T15:04:05.000-0700"

func (t *wireTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("ari time %s: not a string", b)
	}
	v, err := time.Parse(ariTimeFormat, string(b[1:len(b)-1]))
	if err != nil {
		return err
	}
	*t = wireTime(v)
	return nil
}

// need reports a missing object an event of its type must have.
func need(ok bool, typ, what string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("ari event %s: no %s", typ, what)
}

// event maps the decoded frame to a switchboard event, or nil for the
// types Switchboard does not use.
func (w *wireEvent) event(node string) (sb.Event, error) {
	if w.Node != "" {
		node = w.Node
	}
	h := sb.EventHeader{Type: w.Type, Node: node, Time: time.Time(w.Timestamp)}
	ch, chID := w.channel()
	switch w.Type {
	case "StasisStart":
		ev := sb.ChannelEntered{EventHeader: h, Channel: ch, Args: w.Args}
		if w.ReplaceChannel != nil {
			ev.Replaced = sb.ChannelID(w.ReplaceChannel.ID)
		}
		return ev, need(w.Channel != nil, w.Type, "channel")
	case "StasisEnd":
		return sb.ChannelLeft{EventHeader: h, Channel: ch}, need(w.Channel != nil, w.Type, "channel")
	case "ChannelStateChange":
		return sb.ChannelStateChanged{EventHeader: h, Channel: ch}, need(w.Channel != nil, w.Type, "channel")
	case "ChannelDtmfReceived":
		return sb.DTMFReceived{EventHeader: h, Channel: chID, Digit: w.Digit,
			Duration: time.Duration(w.DurationMs) * time.Millisecond}, need(w.Channel != nil, w.Type, "channel")
	case "ChannelHangupRequest":
		return sb.HangupRequested{EventHeader: h, Channel: chID, Cause: w.Cause, Soft: w.Soft}, need(w.Channel != nil, w.Type, "channel")
	case "ChannelDestroyed":
		return sb.ChannelDestroyed{EventHeader: h, Channel: ch, Cause: w.Cause, CauseText: w.CauseTxt}, need(w.Channel != nil, w.Type, "channel")
	case "ChannelEnteredBridge", "ChannelLeftBridge":
		if err := need(w.Channel != nil && w.Bridge != nil, w.Type, "channel or bridge"); err != nil {
			return nil, err
		}
		if w.Type == "ChannelEnteredBridge" {
			return sb.EnteredBridge{EventHeader: h, Bridge: sb.BridgeID(w.Bridge.ID), Channel: chID}, nil
		}
		return sb.LeftBridge{EventHeader: h, Bridge: sb.BridgeID(w.Bridge.ID), Channel: chID}, nil
	case "BridgeDestroyed":
		if err := need(w.Bridge != nil, w.Type, "bridge"); err != nil {
			return nil, err
		}
		return sb.BridgeDestroyed{EventHeader: h, Bridge: sb.BridgeID(w.Bridge.ID)}, nil
	case "PlaybackStarted", "PlaybackFinished":
		if err := need(w.Playback != nil, w.Type, "playback"); err != nil {
			return nil, err
		}
		p := w.Playback
		if w.Type == "PlaybackStarted" {
			return sb.PlaybackStarted{EventHeader: h, Playback: sb.PlaybackID(p.ID), Target: p.TargetURI}, nil
		}
		return sb.PlaybackFinished{EventHeader: h, Playback: sb.PlaybackID(p.ID), Target: p.TargetURI, State: p.State}, nil
	case "RecordingStarted", "RecordingFinished", "RecordingFailed":
		if err := need(w.Recording != nil, w.Type, "recording"); err != nil {
			return nil, err
		}
		r := w.Recording
		switch w.Type {
		case "RecordingStarted":
			return sb.RecordingStarted{EventHeader: h, Name: r.Name, Target: r.TargetURI}, nil
		case "RecordingFinished":
			return sb.RecordingFinished{EventHeader: h, Name: r.Name, Target: r.TargetURI,
				Duration: time.Duration(r.Duration) * time.Second}, nil
		}
		return sb.RecordingFailed{EventHeader: h, Name: r.Name, Target: r.TargetURI, Cause: r.Cause}, nil
	case "Dial":
		ev := sb.DialResult{EventHeader: h, Status: w.Dialstatus}
		if w.Peer != nil {
			ev.Peer = sb.ChannelID(w.Peer.ID)
		}
		if w.Caller != nil {
			ev.Caller = sb.ChannelID(w.Caller.ID)
		}
		return ev, nil
	case "ChannelVarset":
		return sb.VariableSet{EventHeader: h, Channel: chID, Name: w.Variable, Value: w.Value}, nil
	case "EndpointStateChange":
		if err := need(w.Endpoint != nil, w.Type, "endpoint"); err != nil {
			return nil, err
		}
		return sb.EndpointStateChanged{EventHeader: h,
			Endpoint: endpointState(w.Endpoint.Technology, w.Endpoint.Resource, w.Endpoint.State)}, nil
	}
	return nil, nil
}

func (w *wireEvent) channel() (sb.ChannelInfo, sb.ChannelID) {
	c := w.Channel
	if c == nil {
		return sb.ChannelInfo{}, ""
	}
	ci := sb.ChannelInfo{ID: sb.ChannelID(c.ID), Name: c.Name, State: sb.ChannelState(c.State), Language: c.Language}
	if c.Caller != nil {
		ci.CallerNumber, ci.CallerName = c.Caller.Number, c.Caller.Name
	}
	if c.Dialplan != nil {
		ci.Exten, ci.Context = c.Dialplan.Exten, c.Dialplan.Context
	}
	if t := time.Time(c.Creationtime); t.Year() > 1 {
		ci.Created = t
	}
	return ci, ci.ID
}

// knownType lists the event types ari.DecodeEvent decodes (the fields of
// ari.Events).
var knownType = func() map[string]bool {
	m := map[string]bool{}
	v := reflect.ValueOf(ari6.Events)
	for i := range v.NumField() {
		if s, ok := v.Field(i).Interface().(string); ok {
			m[s] = true
		}
	}
	return m
}()

// decodeChannel decodes an answer that is a channel (originate) into
// ci: in one pass, as the events reader reads a channel, or with
// json.Unmarshal when it is not of the plain kind readWire takes.
func decodeChannel(ci *sb.ChannelInfo) func([]byte) error {
	return func(b []byte) error {
		var ch wireChannel
		r := wireReader{b: b, sc: new(wireScratch)}
		if r.channel(&ch) && r.next() == 0 {
			*ci, _ = (&wireEvent{Channel: &ch}).channel()
			return nil
		}
		var data ari6.ChannelData
		if err := json.Unmarshal(b, &data); err != nil {
			return err
		}
		*ci = channelInfo(&data)
		return nil
	}
}

func channelInfo(c *ari6.ChannelData) sb.ChannelInfo {
	ci := sb.ChannelInfo{
		ID:       sb.ChannelID(c.ID),
		Name:     c.Name,
		State:    sb.ChannelState(c.State),
		Language: c.Language,
	}
	if c.Caller != nil {
		ci.CallerNumber, ci.CallerName = c.Caller.Number, c.Caller.Name
	}
	if c.Dialplan != nil {
		ci.Exten, ci.Context = c.Dialplan.Exten, c.Dialplan.Context
	}
	if c.Creationtime != nil {
		// ari/v6 stores a missing creationtime as the zero time.Time.
		if t := time.Unix(c.Creationtime.Seconds, int64(c.Creationtime.Nanos)); t.Year() > 1 {
			ci.Created = t
		}
	}
	return ci
}

func endpointState(tech, resource, state string) sb.EndpointState {
	return sb.EndpointState{Endpoint: tech + "/" + resource, State: state}
}
