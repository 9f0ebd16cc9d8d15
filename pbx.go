package switchboard

import (
	"context"
	"io"
	"time"
)

// ChannelState is a channel's state as the PBX names it (Asterisk's names:
// Down, Rsrvd, OffHook, Dialing, Ring, Ringing, Up, Busy, Dialing Offhook,
// Pre-ring, Unknown).
type ChannelState string

// Channel states Switchboard acts on.
const (
	ChannelDown    ChannelState = "Down"
	ChannelRing    ChannelState = "Ring"    // an inbound call, not yet answered
	ChannelRinging ChannelState = "Ringing" // an outbound leg whose far end rings
	ChannelUp      ChannelState = "Up"
	ChannelBusy    ChannelState = "Busy"
)

// ChannelInfo describes a PBX channel as an event or a listing reports it.
type ChannelInfo struct {
	ID           ChannelID    `json:"id"`
	Name         string       `json:"name"` // e.g. PJSIP/1001-00000004
	State        ChannelState `json:"state"`
	CallerNumber string       `json:"caller_number"`
	CallerName   string       `json:"caller_name"`
	Exten        string       `json:"exten"`   // dialed number (DNIS) for inbound calls
	Context      string       `json:"context"` // dialplan context the call came from
	Language     string       `json:"language,omitempty"`
	Created      time.Time    `json:"created"`
	// InApp is set by a listing when the channel is in Switchboard's
	// application now (Stasis), not in the dialplan; Args are then its
	// Stasis arguments. A listing also shows channels the application is
	// only subscribed to: the ;2 half of a Local channel it originated,
	// a campaign call running AMD in the dialplan, a leg still ringing.
	InApp bool     `json:"in_app,omitempty"`
	Args  []string `json:"args,omitempty"`
}

// BridgeInfo describes a PBX bridge as a listing reports it.
type BridgeInfo struct {
	ID       BridgeID    `json:"id"`
	Channels []ChannelID `json:"channels"`
}

// EndpointState is the reachability of a device such as a desk phone.
type EndpointState struct {
	Endpoint string `json:"endpoint"` // Technology/Resource, e.g. PJSIP/1001
	State    string `json:"state"`    // online, offline, unknown
}

// OriginateRequest asks the PBX to call an endpoint. The answered channel
// enters Switchboard's application with AppArgs, or, when Context is set, the
// dialplan at Context/Extension/Priority (used for answering-machine
// detection before the call enters the application).
type OriginateRequest struct {
	ID         ChannelID         // chosen by Switchboard, so the leg can be hung up while it rings
	Endpoint   string            // e.g. PJSIP/1001 or PJSIP/+15551234567@trunk
	CallerID   string            // "Name <number>"
	Timeout    time.Duration     // ring time before giving up; 0 = PBX default
	AppArgs    []string          // Stasis arguments
	Variables  map[string]string // channel variables
	Originator ChannelID         // the channel this call is placed for (linked id)
	Context    string
	Extension  string
	Priority   int
}

// RecordRequest asks the PBX to record a bridge or a channel.
type RecordRequest struct {
	Name        string        // unique recording name (no extension)
	Format      string        // wav, gsm, ...
	MaxDuration time.Duration // 0 = no limit
	MaxSilence  time.Duration // 0 = no limit
	Beep        bool
	IfExists    string // fail, overwrite, append
	TerminateOn string // none, any, *, #
}

// SnoopRequest asks for a snoop (spy/whisper) channel on a channel; the new
// channel enters the application with AppArgs.
type SnoopRequest struct {
	ID      ChannelID // chosen by Switchboard
	Channel ChannelID // channel to snoop on
	Spy     string    // none, both, out, in: audio the snoop hears
	Whisper string    // none, both, out, in: audio the snoop injects
	AppArgs []string
}

// PBX is the port every PBX adapter implements: the calls and media the
// domain commands, and the ordered stream of events the PBX raises. It is
// the sum of small capability interfaces (Link, Calls, Variables, Media,
// Bridges, Recorder, Snooper, Inventory, Subscriber): a part that needs
// less takes less (outbound.Globals is Variables' global half), and an
// adapter for another PBX implements them one by one.
//
// Errors carry domain codes (see ErrorCode): ENOTFOUND for an unknown
// channel, bridge, playback or recording; ECONFLICT for a channel in the
// wrong state; EUNPROCESSABLE for an object that exists but cannot be used;
// EINVALID for a bad request; EUNAVAILABLE when the PBX cannot be reached.
type PBX interface {
	Link
	Calls
	Variables
	Media
	Bridges
	Recorder
	Snooper
	Inventory
	Subscriber
}

// Link is the connection to a PBX: who it is, its events, whether it is up.
type Link interface {
	// Node names the PBX (Asterisk's entity id) this adapter talks to.
	Node() string
	// Events returns every event in the order the PBX sent it. No event is
	// ever dropped; the channel closes when the adapter is closed.
	Events() <-chan Event
	// Ready reports whether the link to the PBX is up.
	Ready() bool
}

// Calls controls channels: answer, ring, hang up, place, send back to
// the dialplan, transfer, DTMF and hold.
type Calls interface {
	Answer(ctx context.Context, ch ChannelID) error
	Ring(ctx context.Context, ch ChannelID) error
	Hangup(ctx context.Context, ch ChannelID, reason string) error
	Originate(ctx context.Context, req OriginateRequest) (ChannelInfo, error)
	// Continue sends a channel to the dialplan at context/extension/priority.
	Continue(ctx context.Context, ch ChannelID, context, extension string, priority int) error
	Redirect(ctx context.Context, ch ChannelID, endpoint string) error
	SendDTMF(ctx context.Context, ch ChannelID, digits string) error
	Hold(ctx context.Context, ch ChannelID, on bool) error
	MusicOnHold(ctx context.Context, ch ChannelID, class string, on bool) error
}

// Variables reads and sets channel and global (dialplan) variables.
type Variables interface {
	SetVariable(ctx context.Context, ch ChannelID, name, value string) error
	GetVariable(ctx context.Context, ch ChannelID, name string) (string, error)
	// GlobalVariable reads a global dialplan variable ("" when unset);
	// SetGlobalVariable sets one (an empty value unsets it).
	GlobalVariable(ctx context.Context, name string) (string, error)
	SetGlobalVariable(ctx context.Context, name, value string) error
}

// Media plays prompts to a channel or a bridge.
type Media interface {
	// Play plays media URIs (sound:, recording:, number:, digits:, tone:) in
	// sequence on a channel as one playback with the given id.
	Play(ctx context.Context, ch ChannelID, id PlaybackID, media ...string) error
	PlayBridge(ctx context.Context, b BridgeID, id PlaybackID, media ...string) error
	StopPlayback(ctx context.Context, id PlaybackID) error
}

// Bridges mixes channels together.
type Bridges interface {
	CreateBridge(ctx context.Context, id BridgeID, name string) error
	AddToBridge(ctx context.Context, b BridgeID, ch ...ChannelID) error
	RemoveFromBridge(ctx context.Context, b BridgeID, ch ...ChannelID) error
	DestroyBridge(ctx context.Context, b BridgeID) error
}

// Recorder records bridges and channels and hands over the files.
type Recorder interface {
	RecordBridge(ctx context.Context, b BridgeID, req RecordRequest) error
	RecordChannel(ctx context.Context, ch ChannelID, req RecordRequest) error
	StopRecording(ctx context.Context, name string) error
	PauseRecording(ctx context.Context, name string, pause bool) error
	// RecordingLive tells whether the PBX is making a recording now (false
	// once it finished, or when the PBX lost it).
	RecordingLive(ctx context.Context, name string) (bool, error)
	// StoredRecording opens a finished recording's file.
	StoredRecording(ctx context.Context, name string) (io.ReadCloser, error)
	DeleteStoredRecording(ctx context.Context, name string) error
}

// Snooper creates a channel that listens to (and may speak into) another:
// supervision.
type Snooper interface {
	Snoop(ctx context.Context, req SnoopRequest) (ChannelInfo, error)
}

// Inventory lists what the PBX has now, to reconcile after a reconnect or
// a restart.
type Inventory interface {
	// Channels lists the channels in Switchboard's application (used to
	// re-adopt calls after a reconnect or a restart).
	Channels(ctx context.Context) ([]ChannelInfo, error)
	Bridges(ctx context.Context) ([]BridgeInfo, error)
	Endpoints(ctx context.Context) ([]EndpointState, error)
}

// Subscriber asks for events Switchboard does not get by default.
type Subscriber interface {
	// SubscribeEndpoint asks for endpoint state events of a technology or
	// endpoint (e.g. "PJSIP" or "PJSIP/1001").
	SubscribeEndpoint(ctx context.Context, endpoint string) error
	// SubscribeChannel keeps the channel's events coming after it leaves
	// the application (e.g. into a dialplan context that runs AMD).
	SubscribeChannel(ctx context.Context, ch ChannelID) error
}
