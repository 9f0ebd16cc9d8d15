package sim

// The simulator's own API declaration, from which /ari/api-docs is
// generated (apidocs.go). It runs parallel to routeTable: one apiOp per
// operation the simulator serves, under the nickname Asterisk gives it
// (Swagger clients name their methods after it: ari-client's
// client.channels.originate, ari-py's channels.originate), with the
// parameters its handler reads, not every parameter Asterisk accepts.
// Tests hold it to routeTable and to Asterisk's declarations in
// ../shared/ari-spec.

// apiResource is one line of resources.json: an API declaration file.
type apiResource struct {
	name, description string
}

// apiResources lists the resources in the order Asterisk lists them.
// mailboxes serves nothing but is listed: ari-client builds a Mailbox
// constructor for every resource it knows and expects its declaration.
var apiResources = []apiResource{
	{"asterisk", "The simulated Asterisk itself"},
	{"endpoints", "Scripted endpoints"},
	{"channels", "Channels"},
	{"bridges", "Bridges"},
	{"recordings", "Live and stored recordings"},
	{"sounds", "Sounds"},
	{"playbacks", "Playbacks"},
	{"deviceStates", "Device states"},
	{"mailboxes", "Mailboxes (not modelled)"},
	{"events", "The events websocket"},
	{"applications", "Stasis applications"},
}

// apiOp declares one served operation. Its resource is the path's first
// segment. returns is the Swagger responseClass: a model name, List[...],
// void, or binary; ari-client wraps a Channel, Bridge, ... answer in an
// instance by it.
//
// params lists the non-path parameters the handler reads, separated by
// spaces, each name[:dataType][!][*]: dataType defaults to string, and a
// containers parameter is a JSON body; ! marks it required, * repeatable
// (a=1&a=2 or a=1,2). Every {name} of the path is a required string path
// parameter.
type apiOp struct {
	method, path, nickname, summary, returns, params string
}

// eventsWebsocket is the operation declared as a websocket upgrade.
const eventsWebsocket = "GET /events"

// apiOps parallels routeTable plus the two routes served outside it
// (the events websocket and the stored recording file).
var apiOps = []apiOp{
	{"GET", "/asterisk/info", "getInfo", "Build, system and configuration information", "AsteriskInfo", ""},
	{"GET", "/asterisk/ping", "ping", "Check that the PBX answers", "AsteriskPing", ""},
	{"GET", "/asterisk/variable", "getGlobalVar", "Read a global variable", "Variable", "variable!"},
	{"POST", "/asterisk/variable", "setGlobalVar", "Set a global variable", "void", "variable! value"},

	{"GET", "/endpoints", "list", "All endpoints", "List[Endpoint]", ""},
	{"GET", "/endpoints/{tech}", "listByTech", "The endpoints of one technology", "List[Endpoint]", ""},
	{"GET", "/endpoints/{tech}/{resource}", "get", "One endpoint", "Endpoint", ""},

	{"GET", "/channels", "list", "All channels", "List[Channel]", ""},
	{"POST", "/channels", "originate", "Dial an endpoint into an application or the dialplan", "Channel",
		"endpoint! extension context app appArgs callerId timeout:int variables:containers channelId otherChannelId originator"},
	{"POST", "/channels/create", "create", "Create a channel in an application without dialing it", "Channel",
		"endpoint! app! appArgs channelId otherChannelId variables:containers"},
	{"GET", "/channels/{channelId}", "get", "One channel", "Channel", ""},
	{"POST", "/channels/{channelId}", "originateWithId", "Originate with the given channel id", "Channel",
		"endpoint! extension context app appArgs callerId timeout:int variables:containers otherChannelId originator"},
	{"DELETE", "/channels/{channelId}", "hangup", "Hang up a channel", "void", "reason_code reason"},
	{"POST", "/channels/{channelId}/continue", "continueInDialplan", "Leave the application for the dialplan", "void", "context extension"},
	{"POST", "/channels/{channelId}/move", "move", "Move to another application", "void", "app! appArgs"},
	{"POST", "/channels/{channelId}/redirect", "redirect", "Send the far end elsewhere", "void", "endpoint!"},
	{"POST", "/channels/{channelId}/answer", "answer", "Answer", "void", ""},
	{"POST", "/channels/{channelId}/ring", "ring", "Indicate ringing", "void", ""},
	{"DELETE", "/channels/{channelId}/ring", "ringStop", "Stop indicating ringing", "void", ""},
	{"POST", "/channels/{channelId}/progress", "progress", "Indicate progress", "void", ""},
	{"POST", "/channels/{channelId}/dtmf", "sendDTMF", "Send DTMF digits", "void", "dtmf"},
	{"POST", "/channels/{channelId}/mute", "mute", "Mute", "void", "direction"},
	{"DELETE", "/channels/{channelId}/mute", "unmute", "Unmute", "void", "direction"},
	{"POST", "/channels/{channelId}/hold", "hold", "Hold", "void", ""},
	{"DELETE", "/channels/{channelId}/hold", "unhold", "Take off hold", "void", ""},
	{"POST", "/channels/{channelId}/moh", "startMoh", "Start music on hold", "void", ""},
	{"DELETE", "/channels/{channelId}/moh", "stopMoh", "Stop music on hold", "void", ""},
	{"POST", "/channels/{channelId}/silence", "startSilence", "Play silence", "void", ""},
	{"DELETE", "/channels/{channelId}/silence", "stopSilence", "Stop playing silence", "void", ""},
	{"POST", "/channels/{channelId}/play", "play", "Play media to a channel", "Playback", "media!* lang playbackId"},
	{"POST", "/channels/{channelId}/play/{playbackId}", "playWithId", "Play media with the given playback id", "Playback", "media!* lang"},
	{"POST", "/channels/{channelId}/record", "record", "Record a channel", "LiveRecording",
		"name! format! maxDurationSeconds:int maxSilenceSeconds:int ifExists terminateOn"},
	{"GET", "/channels/{channelId}/variable", "getChannelVar", "Read a channel variable", "Variable", "variable!"},
	{"POST", "/channels/{channelId}/variable", "setChannelVar", "Set a channel variable", "void", "variable! value"},
	{"POST", "/channels/{channelId}/snoop", "snoopChannel", "Spy on or whisper to a channel", "Channel", "spy whisper app! appArgs snoopId"},
	{"POST", "/channels/{channelId}/snoop/{snoopId}", "snoopChannelWithId", "Snoop with the given channel id", "Channel", "spy whisper app! appArgs"},
	{"POST", "/channels/{channelId}/dial", "dial", "Dial a created channel", "void", "caller timeout:int"},

	{"GET", "/bridges", "list", "All bridges", "List[Bridge]", ""},
	{"POST", "/bridges", "create", "Create a bridge", "Bridge", "type bridgeId name"},
	{"POST", "/bridges/{bridgeId}", "createWithId", "Create a bridge with the given id", "Bridge", "type name"},
	{"GET", "/bridges/{bridgeId}", "get", "One bridge", "Bridge", ""},
	{"DELETE", "/bridges/{bridgeId}", "destroy", "Destroy a bridge", "void", ""},
	{"POST", "/bridges/{bridgeId}/addChannel", "addChannel", "Add channels", "void", "channel!*"},
	{"POST", "/bridges/{bridgeId}/removeChannel", "removeChannel", "Remove channels", "void", "channel!*"},
	{"POST", "/bridges/{bridgeId}/moh", "startMoh", "Start music on hold", "void", ""},
	{"DELETE", "/bridges/{bridgeId}/moh", "stopMoh", "Stop music on hold", "void", ""},
	{"POST", "/bridges/{bridgeId}/play", "play", "Play media to a bridge", "Playback", "media!* lang playbackId"},
	{"POST", "/bridges/{bridgeId}/play/{playbackId}", "playWithId", "Play media with the given playback id", "Playback", "media!* lang"},
	{"POST", "/bridges/{bridgeId}/record", "record", "Record a bridge", "LiveRecording",
		"name! format! maxDurationSeconds:int maxSilenceSeconds:int ifExists terminateOn"},

	{"GET", "/recordings/stored", "listStored", "Stored recordings", "List[StoredRecording]", ""},
	{"GET", "/recordings/stored/{recordingName}", "getStored", "One stored recording", "StoredRecording", ""},
	{"DELETE", "/recordings/stored/{recordingName}", "deleteStored", "Delete a stored recording", "void", ""},
	{"GET", "/recordings/stored/{recordingName}/file", "getStoredFile", "The recording as WAV", "binary", ""},
	{"POST", "/recordings/stored/{recordingName}/copy", "copyStored", "Copy a stored recording", "StoredRecording", "destinationRecordingName!"},
	{"GET", "/recordings/live/{recordingName}", "getLive", "One live recording", "LiveRecording", ""},
	{"DELETE", "/recordings/live/{recordingName}", "cancel", "Stop and discard", "void", ""},
	{"POST", "/recordings/live/{recordingName}/stop", "stop", "Stop and store", "void", ""},
	{"POST", "/recordings/live/{recordingName}/pause", "pause", "Pause", "void", ""},
	{"DELETE", "/recordings/live/{recordingName}/pause", "unpause", "Resume", "void", ""},
	{"POST", "/recordings/live/{recordingName}/mute", "mute", "Record silence", "void", ""},
	{"DELETE", "/recordings/live/{recordingName}/mute", "unmute", "Record sound again", "void", ""},

	{"GET", "/sounds", "list", "Installed sounds", "List[Sound]", ""},
	{"GET", "/sounds/{soundId}", "get", "One sound", "Sound", ""},

	{"GET", "/playbacks/{playbackId}", "get", "One playback", "Playback", ""},
	{"DELETE", "/playbacks/{playbackId}", "stop", "Stop a playback", "void", ""},
	{"POST", "/playbacks/{playbackId}/control", "control", "Pause, unpause, restart, reverse or forward", "void", "operation!"},

	{"GET", "/deviceStates", "list", "Device states (always none)", "List[DeviceState]", ""},

	{"GET", "/events", "eventWebsocket", "The events websocket of one or more applications", "Message", "app!* subscribeAll:boolean"},

	{"GET", "/applications", "list", "Connected applications", "List[Application]", ""},
	{"GET", "/applications/{applicationName}", "get", "One application", "Application", ""},
	{"POST", "/applications/{applicationName}/subscription", "subscribe", "Subscribe to channels, bridges or endpoints", "Application", "eventSource!*"},
	{"DELETE", "/applications/{applicationName}/subscription", "unsubscribe", "Unsubscribe", "Application", "eventSource!*"},
}

// eventModel declares one event type the simulator sends, with the
// fields that carry an ARI object, as field:Type separated by spaces.
// Those fields are what Swagger clients read from the events models:
// ari-client wraps each in a Channel, Bridge, Playback, ... instance and
// fails on an event type it has no model for; ari-py looks fields up by
// type. Other fields need no declaration.
type eventModel struct {
	event, objects string
}

var eventModels = []eventModel{
	{"ApplicationMoveFailed", "channel:Channel"},
	{"ApplicationReplaced", ""},
	{"BridgeCreated", "bridge:Bridge"},
	{"BridgeDestroyed", "bridge:Bridge"},
	{"ChannelDestroyed", "channel:Channel"},
	{"ChannelDtmfReceived", "channel:Channel"},
	{"ChannelEnteredBridge", "bridge:Bridge channel:Channel"},
	{"ChannelHangupRequest", "channel:Channel"},
	{"ChannelHold", "channel:Channel"},
	{"ChannelLeftBridge", "bridge:Bridge channel:Channel"},
	{"ChannelStateChange", "channel:Channel"},
	{"ChannelUnhold", "channel:Channel"},
	{"ChannelVarset", "channel:Channel"},
	{"Dial", "peer:Channel caller:Channel"},
	{"EndpointStateChange", "endpoint:Endpoint"},
	{"PlaybackContinuing", "playback:Playback"},
	{"PlaybackFinished", "playback:Playback"},
	{"PlaybackStarted", "playback:Playback"},
	{"RecordingFailed", "recording:LiveRecording"},
	{"RecordingFinished", "recording:LiveRecording"},
	{"RecordingStarted", "recording:LiveRecording"},
	{"StasisEnd", "channel:Channel"},
	{"StasisStart", "channel:Channel"},
}

// notModelledOps lists the operations Asterisk declares that the simulator
// does not model. They answer 501 rather than 404 or, worse, another
// operation's answer: POST /channels/externalMedia would otherwise be an
// originate with channelId "externalMedia".
var notModelledOps = []string{
	"PUT /applications/{applicationName}/eventFilter",

	"GET /asterisk/config/dynamic/{configClass}/{objectType}/{id}",
	"PUT /asterisk/config/dynamic/{configClass}/{objectType}/{id}",
	"DELETE /asterisk/config/dynamic/{configClass}/{objectType}/{id}",
	"GET /asterisk/modules",
	"GET /asterisk/modules/{moduleName}",
	"POST /asterisk/modules/{moduleName}",
	"DELETE /asterisk/modules/{moduleName}",
	"PUT /asterisk/modules/{moduleName}",
	"GET /asterisk/logging",
	"POST /asterisk/logging/{logChannelName}",
	"DELETE /asterisk/logging/{logChannelName}",
	"PUT /asterisk/logging/{logChannelName}/rotate",

	"GET /bridges/{bridgeId}/variable",
	"POST /bridges/{bridgeId}/variable",
	"GET /bridges/{bridgeId}/variables",
	"POST /bridges/{bridgeId}/variables",
	"POST /bridges/{bridgeId}/videoSource/{channelId}",
	"DELETE /bridges/{bridgeId}/videoSource",

	"GET /channels/{channelId}/variables",
	"POST /channels/{channelId}/variables",
	"GET /channels/{channelId}/rtp_statistics",
	"POST /channels/externalMedia",
	"POST /channels/{channelId}/transfer_progress",

	"GET /deviceStates/{deviceName}",
	"PUT /deviceStates/{deviceName}",
	"DELETE /deviceStates/{deviceName}",

	"PUT /endpoints/sendMessage",
	"POST /endpoints/refer",
	"PUT /endpoints/{tech}/{resource}/sendMessage",
	"POST /endpoints/{tech}/{resource}/refer",

	"POST /events/user/{eventName}",
	"POST /events/claim",

	"GET /mailboxes",
	"GET /mailboxes/{mailboxName}",
	"PUT /mailboxes/{mailboxName}",
	"DELETE /mailboxes/{mailboxName}",
}
