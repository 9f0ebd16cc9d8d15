// Package sim is a simulated Asterisk: it serves the real ARI (HTTP REST
// under /ari and the events websocket at /ari/events) so that the
// unmodified github.com/CyCoreSystems/ari/v6 native client connects to it
// as to Asterisk 20+. It is the PBX of Switchboard's tests, benchmarks
// and demo.
//
// # Fidelity
//
// Paths, parameters (query string or JSON body), JSON field names, status
// codes and error bodies follow the ARI declarations (the Swagger files in
// ../shared/ari-spec) and the behaviour observed on Asterisk 22 (see
// ARI-NOTES.md, "Lifecycle facts"; sim/facts_test.go has one test per
// fact): originate enters the app only on answer (state Up); create
// enters at once (Down) and dial rings then answers; a far end that
// answers at once goes Down to Up with no Ringing and no Dial RINGING;
// busy gives Dial BUSY with no StasisStart, then ChannelDestroyed (cause
// 17 for a PJSIP channel; for a Local one cause 0 on ;1 and 17 on ;2); no
// answer gives ChannelDestroyed cause 19; our DELETE and an expired
// dial?timeout give a soft ChannelHangupRequest with cause 32. A channel
// that entered from the dialplan (an inbound call, a snoop) has only the
// implicit subscription of its Stasis(): it ends with ChannelHangupRequest
// (ChannelLeftBridge) StasisEnd and nothing after, unless subscribed
// explicitly, which brings ChannelDestroyed back with cause 0; channels
// the application originated or created (and the ;2 half of a Local one,
// which GET /applications/{app} lists too) keep their subscription and
// get ChannelDestroyed. A snoop whose target hangs up gets StasisEnd only.
// BridgeCreated is never sent; BridgeDestroyed only to applications still
// subscribed (a channel of theirs in it at the delete); bridges survive
// when they empty. play with an unsupported media scheme answers 201,
// sends PlaybackStarted and never PlaybackFinished. Hold on a Local
// channel sends no ChannelHold. An originate into an application with no
// websocket answers 200 and the channel dies at once; an unknown
// technology answers 500 {"error":"Allocation failed"}.
//
// # Swagger clients
//
// Like Asterisk, the simulator serves Swagger 1.2 API declarations at
// /ari/api-docs/resources.json and /ari/api-docs/{resource}.json, with
// basePath http://{Host}/ari, so stock Swagger-based clients connect
// (TestStockARIClient drives a call with npm ari-client). The documents
// are generated from the simulator's own declaration (apidecl.go,
// parallel to the route table): each served operation under Asterisk's
// nickname (channels.originate, bridges.addChannel, ...) with the
// parameters its handler reads, and, in events.json, a model per event
// type it sends naming the fields that carry a Channel, Bridge,
// Playback, LiveRecording or Endpoint, which is what clients read from
// the models. Tests hold that declaration to Asterisk's files in
// ../shared/ari-spec (read at test time, never copied). A declared
// operation the simulator does not model answers 501
// {"message": "METHOD /path is not modelled by the simulator"}, after
// authentication like every route; a path that is not ARI answers 404
// "Resource not found".
//
// # Time
//
// Every delay runs on a Clock that runs Options.Speed times faster than
// the wall clock; event timestamps are simulated time.
//
// The Clock reads time.Now and sets time.AfterFunc timers, so a Server
// created inside a testing/synctest bubble runs on the bubble's fake
// clock: served over an in-memory Pipe (StartPipe) rather than a TCP port,
// with its clients dialing the pipe, a whole end-to-end run then advances
// only when every goroutine waits, and a two-second rule is two simulated
// seconds however loaded the machine is. Speed 1 there makes the
// simulator's clock, the bubble's and the client's timeouts one clock.
//
// Outside a test (switchboard demo), Options.Virtual gives the same
// property: the clock stands still until Clock().Drive moves it to the
// next timer, which it does only once no goroutine of the process is
// runnable, running or in a system call (runtime/metrics, quiet.go). With
// the simulator on a Pipe and its clients in the same process, the same
// seed gives the same run on any machine; Speed then caps how fast it goes.
//
// # Addressing scripted parties
//
// Go code registers devices with AddEndpoint(tech, resource, Party) (or
// AddDefaultPhones for PJSIP/1001..1010). External ARI programs (e.g.
// `switchboard simulate`) can script a callee purely through the endpoint
// string of an originate or create:
//
//	SIM/answer                     answers at once
//	SIM/answer-after-3             answers after 3 rings (2 s per ring)
//	SIM/busy                       Dial BUSY, ChannelDestroyed cause 17
//	SIM/noanswer                   rings until the timeout: cause 19
//	SIM/unreachable                Dial CHANUNAVAIL, cause 20
//	SIM/machine                    an answering machine (see AMD below)
//	SIM/rings=2;talk=30s;digits=12#
//	                               ';'-separated items: rings=N, talk=DUR
//	                               or talk=MIN-MAX (drawn), digits=STR
//	                               (',' = 1 s pause), digitsdelay=DUR,
//	                               patience=DUR, and the presets above
//	                               (bounds: MaxScriptRings,
//	                               MaxScriptDuration, MaxScriptDigits)
//
// An unparsable SIM script is an allocation failure (500). A PJSIP, SIP,
// IAX2 or DAHDI endpoint never registered with AddEndpoint behaves like
// an unregistered phone (CHANUNAVAIL, cause 20), as does an endpoint set
// offline with SetEndpointState. Local/EXTEN@CONTEXT answers at once
// unless registered with AddEndpoint("Local", "EXTEN@CONTEXT", p); its
// ;1 half enters the application, its ;2 half (id "<id>;2" unless
// otherChannelId is given) is subscribed but never in Stasis.
// Local endpoints have no state: subscribing an application to one
// (eventSource endpoint:Local/...) answers 422, as Asterisk does.
//
// Talk starts when the party first shares a bridge with another channel;
// Patience (abandon) starts when the party answers or enters the app and
// is cancelled by bridging; Digits start after answering (outbound) or
// entering the application (inbound).
//
// # Control API
//
// Programs outside Go drive the far ends over HTTP, under ControlPrefix
// (/sim/v1, beside /ari), with the ARI credentials (basic auth or
// api_key). A party's id is the id of its channel.
//
//	POST /sim/v1/calls             a caller dials in (Server.Call): state Ring,
//	               StasisStart in app. JSON fields, all optional: app (default
//	               Options.ControlApp, else the only connected application),
//	               dialed (dialplan exten, default s), caller_id, caller_name,
//	               context (default from-trunk), trunk (default PJSIP/trunk),
//	               args, script (ParseCallerScript), digits, digits_delay,
//	               patience, talk (DUR or MIN-MAX), hangup_after (DUR from
//	               entering). 201 with the party; 400 names the bad field;
//	               409 when the application has no websocket.
//	GET /sim/v1/parties            every live channel's far end, in creation order
//	GET /sim/v1/parties/{id}       one of them
//	DELETE /sim/v1/parties/{id}    the far end hangs up (Server.Hangup),
//	               cause 16 or ?cause=N: 204
//	POST /sim/v1/parties/{id}/dtmf the far end presses {"digits": "12#"}
//	GET /sim/v1/endpoints          registered endpoints with state and script
//	PUT /sim/v1/endpoints/{tech}/{resource}
//	               {"state": "online"|"offline"|"unknown", "script": "busy"}:
//	               registers the endpoint or changes its script (AddEndpoint)
//	               and reachability (SetEndpointState); offline fails calls
//	               with CHANUNAVAIL, cause 20
//	GET /sim/v1/stats              Server.Stats, connected apps, simulated time;
//	               with requests (by "METHOD /pattern"), events_by_type,
//	               faults (injected, by "POINT.KIND"), stalled,
//	               recordings_held, sessions and sessions_refused
//	GET /sim/v1/faults             the fault configuration (see Faults below)
//	POST /sim/v1/faults            replaces it (SetFaults): 200 with the new one;
//	               400 names the field at fault ("hangup.stall_for")
//	DELETE /sim/v1/faults          no faults any more: 204
//	POST /sim/v1/faults/release    ends every stall now (ReleaseStalled):
//	               {"released": N}
//	GET /sim/v1/sessions           {"limit": N, "active": N, "refused": N}
//	PUT /sim/v1/sessions           {"limit": N} (SetSessionLimit; 0 = unlimited)
//
// # Faults
//
// Options.Faults (SetFaults, POST /sim/v1/faults) makes the simulator
// misbehave as a loaded Asterisk 22 does; every fault is drawn from a
// generator seeded with Faults.Seed (else Options.Seed), apart from the
// one of drawn durations, and the zero value injects nothing and draws
// nothing. RecordingFinished events are dropped, delayed (DelayBy of
// simulated time; the timestamp stays the recording's end) or reordered
// (held until the recorded channel, or every channel in the recorded
// bridge, has ended, so it arrives after their ChannelLeftBridge,
// StasisEnd and ChannelDestroyed); the recording itself ends when it
// would have: /recordings/live/{name} answers 404 and the stored file
// downloads. DELETE /channels/{channelId}, POST
// /bridges/{bridgeId}/removeChannel and POST
// /recordings/live/{recordingName}/stop are, per request and only when
// their target exists, answered 500 {"message":"Internal Server Error"}
// without being carried out, or stalled for StallFor of wall-clock time
// (past a client's request timeout) and then carried out or not
// (StallThenDo); FailFirst and StallFirst fault the first N requests for a
// channel id (the removed channel for removeChannel) or recording name,
// so that a test can be exact. The JSON of the control API:
//
//	{"seed": 7,
//	 "recording_finished": {"drop": 0.1, "delay": 0.1, "delay_by": "2s", "reorder": 0.1},
//	 "hangup": {"fail": 0.2, "stall": 0.1, "stall_for": "10s", "stall_then_do": 0.5,
//	            "fail_first": {"1764000000.3": 2}, "stall_first": {}},
//	 "remove_channel": {...}, "stop_recording": {...}}
//
// Options.SessionLimit is http.conf's sessionlimit: past that many open
// TCP connections on the listener of Start (keep-alive connections while
// open, events websockets too) a new connection is closed with no
// response and "HTTP session count exceeded N sessions" is logged, as
// main/http.c does; Stats.SessionsRefused counts them. The control API
// shares the listener, so it is refused too while the limit is reached.
//
// # Simulated dialplan
//
// Originate with context/extension instead of app, and POST
// /channels/{id}/continue, run a tiny dialplan:
//
//	context switchboard-outbound   the shipped campaign dialplan: exten amd
//	               runs AMD() then Stasis(switchboard,amd,STATUS,CAUSE);
//	               exten direct enters Stasis(switchboard,amd,HUMAN,off);
//	               exten beep waits out a machine's greeting, then
//	               Stasis(switchboard,beep); after a Stasis() that found no
//	               application (STASISSTATUS=FAILED) exten nobody plays
//	               SB_ABANDON to a person and hangs up; the hangup handler
//	               exten unattended (CHANNEL(hangup_handler_push)) then sets
//	               GLOBAL(SB_UNATTENDED_<SB_ATTEMPT>)=<epoch>,<AMDSTATUS>
//	               (sim/unattended.go)
//	context amd*   AMD() for 2.5 s, then Stasis(EXTEN,amd,STATUS,CAUSE) with
//	               STATUS MACHINE for a Machine party, else HUMAN; EXTEN "s"
//	               means the channel's previous application
//	context stasis Stasis(EXTEN)
//	other          the channel waits in the dialplan until hung up
//
// # Media
//
// Playback lengths: sound:NAME from Options.Sounds (unknown → PlaybackFinished
// state "failed"), recording:NAME the stored length, digits:/characters:
// 0.6 s per character, number: 0.7 s per digit, tone: until stopped. Several
// media play in order as one playback (PlaybackContinuing between them);
// playbacks on one target queue. Stored recordings download as 8 kHz mono
// 16-bit PCM WAV of the recorded length, generated on the fly.
//
// # Cost
//
// The simulator runs in the benchmarks' process, so its CPU counts in
// theirs. Its JSON is written by hand (jsonenc.go), byte for byte what
// encoding/json made of the maps it used to build (sorted keys, the same
// escapes); a request body of the plain kind is read in one pass
// (body.go, json.Decoder otherwise); the events queued back to back on a
// websocket go out in one write (sessionConn's cork), one frame each; the
// plain HTTP/1.1 requests of a connection are served by a loop of the
// simulator's own, which hands the connection to net/http's server at the
// first request it does not take (a websocket upgrade, Expect, a chunked
// body, HTTP/1.0: fastserve.go). Every answer carries Content-Length.
//
// # Not modelled
//
// Real audio and maxSilenceSeconds detection. These declared operations
// answer 501 and are left out of the api-docs: external media
// (POST /channels/externalMedia), RTP statistics, a channel's variables
// in bulk (/variables), bridge variables, transfers (transfer_progress),
// user events and channel claims (/events/user, /events/claim), device
// states beyond an empty list, mailboxes, endpoint messages and REFER,
// bridge video sources, modules, logging channels, dynamic configuration
// (/asterisk/config/dynamic) and per-application event filters.
package sim
