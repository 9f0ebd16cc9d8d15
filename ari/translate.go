package ari

import (
	"encoding/json"
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
func decode(data []byte, node string) (sb.Event, decodeResult, error) {
	ev, err := ari6.DecodeEvent(data)
	if err != nil {
		// DecodeEvent also fails for event types it does not know (newer
		// Asterisk versions add some). Those are well-formed and merely
		// unused: tell them apart from garbage without matching on the
		// error's text.
		var m struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &m) == nil && m.Type != "" && !knownType[m.Type] {
			return nil, ignored, nil
		}
		return nil, malformed, err
	}
	e := translate(ev, node)
	if e == nil {
		return nil, ignored, nil
	}
	return e, decoded, nil
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

// translate maps a decoded ARI event to a switchboard event, or nil for the
// event types Switchboard does not use.
func translate(ev ari6.Event, node string) sb.Event {
	switch e := ev.(type) {
	case *ari6.StasisStart:
		return sb.ChannelEntered{
			EventHeader: header(&e.EventData, node),
			Channel:     channelInfo(&e.Channel),
			Args:        e.Args,
			Replaced:    sb.ChannelID(e.ReplaceChannel.ID),
		}
	case *ari6.StasisEnd:
		return sb.ChannelLeft{EventHeader: header(&e.EventData, node), Channel: channelInfo(&e.Channel)}
	case *ari6.ChannelStateChange:
		return sb.ChannelStateChanged{EventHeader: header(&e.EventData, node), Channel: channelInfo(&e.Channel)}
	case *ari6.ChannelDtmfReceived:
		return sb.DTMFReceived{
			EventHeader: header(&e.EventData, node),
			Channel:     sb.ChannelID(e.Channel.ID),
			Digit:       e.Digit,
			Duration:    time.Duration(e.DurationMs) * time.Millisecond,
		}
	case *ari6.ChannelHangupRequest:
		return sb.HangupRequested{
			EventHeader: header(&e.EventData, node),
			Channel:     sb.ChannelID(e.Channel.ID),
			Cause:       e.Cause,
			Soft:        e.Soft,
		}
	case *ari6.ChannelDestroyed:
		return sb.ChannelDestroyed{
			EventHeader: header(&e.EventData, node),
			Channel:     channelInfo(&e.Channel),
			Cause:       e.Cause,
			CauseText:   e.CauseTxt,
		}
	case *ari6.ChannelEnteredBridge:
		return sb.EnteredBridge{
			EventHeader: header(&e.EventData, node),
			Bridge:      sb.BridgeID(e.Bridge.ID),
			Channel:     sb.ChannelID(e.Channel.ID),
		}
	case *ari6.ChannelLeftBridge:
		return sb.LeftBridge{
			EventHeader: header(&e.EventData, node),
			Bridge:      sb.BridgeID(e.Bridge.ID),
			Channel:     sb.ChannelID(e.Channel.ID),
		}
	case *ari6.BridgeDestroyed:
		return sb.BridgeDestroyed{EventHeader: header(&e.EventData, node), Bridge: sb.BridgeID(e.Bridge.ID)}
	case *ari6.PlaybackStarted:
		return sb.PlaybackStarted{
			EventHeader: header(&e.EventData, node),
			Playback:    sb.PlaybackID(e.Playback.ID),
			Target:      e.Playback.TargetURI,
		}
	case *ari6.PlaybackFinished:
		return sb.PlaybackFinished{
			EventHeader: header(&e.EventData, node),
			Playback:    sb.PlaybackID(e.Playback.ID),
			Target:      e.Playback.TargetURI,
			State:       e.Playback.State,
		}
	case *ari6.RecordingStarted:
		return sb.RecordingStarted{
			EventHeader: header(&e.EventData, node),
			Name:        e.Recording.Name,
			Target:      e.Recording.TargetURI,
		}
	case *ari6.RecordingFinished:
		return sb.RecordingFinished{
			EventHeader: header(&e.EventData, node),
			Name:        e.Recording.Name,
			Target:      e.Recording.TargetURI,
			Duration:    time.Duration(e.Recording.Duration),
		}
	case *ari6.RecordingFailed:
		return sb.RecordingFailed{
			EventHeader: header(&e.EventData, node),
			Name:        e.Recording.Name,
			Target:      e.Recording.TargetURI,
			Cause:       e.Recording.Cause,
		}
	case *ari6.Dial:
		return sb.DialResult{
			EventHeader: header(&e.EventData, node),
			Peer:        sb.ChannelID(e.Peer.ID),
			Caller:      sb.ChannelID(e.Caller.ID),
			Status:      e.Dialstatus,
		}
	case *ari6.ChannelVarset:
		return sb.VariableSet{
			EventHeader: header(&e.EventData, node),
			Channel:     sb.ChannelID(e.Channel.ID),
			Name:        e.Variable,
			Value:       e.Value,
		}
	case *ari6.EndpointStateChange:
		return sb.EndpointStateChanged{
			EventHeader: header(&e.EventData, node),
			Endpoint:    endpointState(e.Endpoint.Technology, e.Endpoint.Resource, e.Endpoint.State),
		}
	}
	return nil
}

func header(d *ari6.EventData, node string) sb.EventHeader {
	if d.Node != "" {
		node = d.Node
	}
	return sb.EventHeader{Type: d.Type, Node: node, Time: time.Time(d.Timestamp)}
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
