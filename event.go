package switchboard

import "time"

// Event is something the PBX reports. Concrete types: LinkUp, LinkDown,
// ChannelEntered, ChannelLeft, ChannelStateChanged, DTMFReceived,
// HangupRequested, ChannelDestroyed, EnteredBridge, LeftBridge,
// BridgeDestroyed, PlaybackStarted, PlaybackFinished, RecordingStarted,
// RecordingFinished, RecordingFailed, DialResult, VariableSet,
// EndpointStateChanged.
type Event interface {
	// Header returns what every event has.
	Header() EventHeader
}

// EventHeader is common to every event.
type EventHeader struct {
	Type string    `json:"type"` // the PBX's own event name, e.g. StasisStart
	Node string    `json:"node"` // which PBX sent it
	Time time.Time `json:"time"` // when the PBX says it happened
}

// Header implements Event.
func (h EventHeader) Header() EventHeader { return h }

// LinkUp: the adapter is connected (again) to the PBX. After a reconnect
// (Reconnect true) events that happened while the link was down are lost, so
// the owner of call state lists channels and reconciles.
type LinkUp struct {
	EventHeader
	Reconnect bool
}

// LinkDown: the link to the PBX broke; the adapter is retrying.
type LinkDown struct {
	EventHeader
	Err string
}

// ChannelEntered: a channel entered Switchboard's application (StasisStart).
type ChannelEntered struct {
	EventHeader
	Channel ChannelInfo
	Args    []string
	// Replaced is set when this channel replaces another (masquerade).
	Replaced ChannelID
}

// ChannelLeft: a channel left the application (StasisEnd).
type ChannelLeft struct {
	EventHeader
	Channel ChannelInfo
}

// ChannelStateChanged: a channel's state changed (e.g. Ringing, Up).
type ChannelStateChanged struct {
	EventHeader
	Channel ChannelInfo
}

// DTMFReceived: the far end pressed a key.
type DTMFReceived struct {
	EventHeader
	Channel  ChannelID
	Digit    string
	Duration time.Duration
}

// HangupRequested: a hang-up was requested for a channel (by the far end
// when Soft is false and Cause is set).
type HangupRequested struct {
	EventHeader
	Channel ChannelID
	Cause   int
	Soft    bool
}

// ChannelDestroyed: a channel is gone; Cause is the Q.850 cause (16 normal
// clearing, 17 busy, 19 no answer, 21 rejected, ...).
type ChannelDestroyed struct {
	EventHeader
	Channel   ChannelInfo
	Cause     int
	CauseText string
}

// EnteredBridge: a channel entered a bridge.
type EnteredBridge struct {
	EventHeader
	Bridge  BridgeID
	Channel ChannelID
}

// LeftBridge: a channel left a bridge.
type LeftBridge struct {
	EventHeader
	Bridge  BridgeID
	Channel ChannelID
}

// BridgeDestroyed: a bridge is gone.
type BridgeDestroyed struct {
	EventHeader
	Bridge BridgeID
}

// PlaybackStarted: a playback began. Target is "channel:ID" or "bridge:ID".
type PlaybackStarted struct {
	EventHeader
	Playback PlaybackID
	Target   string
}

// PlaybackFinished: a playback ended; State is done or failed.
type PlaybackFinished struct {
	EventHeader
	Playback PlaybackID
	Target   string
	State    string
}

// RecordingStarted: a recording began.
type RecordingStarted struct {
	EventHeader
	Name   string
	Target string
}

// RecordingFinished: a recording ended and is stored.
type RecordingFinished struct {
	EventHeader
	Name     string
	Target   string
	Duration time.Duration
}

// RecordingFailed: a recording could not be made or completed.
type RecordingFailed struct {
	EventHeader
	Name   string
	Target string
	Cause  string
}

// DialResult: progress or result of dialing Peer (BUSY, NOANSWER, ANSWER,
// CHANUNAVAIL, CANCEL, RINGING, PROGRESS...).
type DialResult struct {
	EventHeader
	Peer   ChannelID
	Caller ChannelID
	Status string
}

// VariableSet: a channel variable changed.
type VariableSet struct {
	EventHeader
	Channel ChannelID
	Name    string
	Value   string
}

// EndpointStateChanged: a device's reachability changed.
type EndpointStateChanged struct {
	EventHeader
	Endpoint EndpointState
}

// ChannelOf returns the channel an event is about, or "" when it is about no
// single channel (link, bridge-only and endpoint events). Events for a call's
// legs are routed to the call's owner with it.
func ChannelOf(e Event) ChannelID {
	switch e := e.(type) {
	case ChannelEntered:
		return e.Channel.ID
	case ChannelLeft:
		return e.Channel.ID
	case ChannelStateChanged:
		return e.Channel.ID
	case DTMFReceived:
		return e.Channel
	case HangupRequested:
		return e.Channel
	case ChannelDestroyed:
		return e.Channel.ID
	case EnteredBridge:
		return e.Channel
	case LeftBridge:
		return e.Channel
	case VariableSet:
		return e.Channel
	case DialResult:
		return e.Peer
	}
	return ""
}
