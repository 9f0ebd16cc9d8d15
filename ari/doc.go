// Package ari is Switchboard's Asterisk adapter: it implements
// switchboard.PBX over the Asterisk REST Interface (ARI), using the
// github.com/CyCoreSystems/ari/v6 native client for REST commands.
//
// # Events: why the adapter reads the WebSocket itself
//
// The stock ari/v6 native client pushes WebSocket events into its stdbus,
// which silently drops an event for any subscriber whose 100-slot buffer is
// full (stdbus/bus.go, "default: // never block"), and the client's bus
// cannot be replaced. A call-center controller that loses a StasisEnd leaks
// a call; so the adapter never connects the native client's WebSocket.
// Instead one dedicated goroutine reads the events WebSocket, decodes each
// frame once (readWire in one pass, json.Unmarshal for a frame readWire
// cannot vouch for: wire.go), translates it to a switchboard event and
// appends it to the adapter's own FIFO. That reader never waits for the
// consumer (Asterisk disconnects a slow reader after websocket_write_timeout,
// 100 ms by default). A second goroutine delivers from the FIFO to Events()
// in order. The FIFO is unbounded up to Config.QueueLimit; past the limit an
// event is counted in Stats.EventsLost and logged as an error, never dropped
// silently.
//
// # Link life cycle
//
// Run checks the credentials (GET /asterisk/info: a 401 at the first
// connection ends Run with ErrUnauthorized; one on reconnecting is logged,
// counted in Stats.CredentialsRejected and retried with back-off), connects the WebSocket for the application, emits
// LinkUp{Reconnect: false}, and reads. When the WebSocket breaks it emits
// LinkDown, retries with jittered exponential back-off (ReconnectMin ..
// ReconnectMax) and, once connected again, emits LinkUp{Reconnect: true}.
//
// Asterisk replays nothing that happened while the link was down. Channels
// stay in the application (Stasis) while no WebSocket is connected, so after
// LinkUp{Reconnect: true} the owner of call state calls Channels() and
// Bridges() and reconciles: Channels lists the channels the application is
// subscribed to (GET /applications/{app} intersected with GET /channels)
// and marks InApp, with their Stasis args, those in the application now
// (the ;2 half of a Local channel it originated is listed, not InApp);
// Bridges lists every ARI-made bridge with its members. Every command works
// on the InApp channels as before; the channel ids do not change.
//
// # Lost playbacks
//
// Asterisk answers 201 to a play whose media it cannot play (an
// unsupported scheme such as bogus:thing), sends PlaybackStarted, and then
// never PlaybackFinished; GET /playbacks/{id} answers 404. A
// PlaybackFinished can also be lost with the link. So the adapter watches
// every playback Play and PlayBridge started (not one they returned an
// error for) until its PlaybackFinished: Config.PlaybackCheckInterval after
// the start, and then every interval, it looks the playback up. When
// Asterisk has no such playback twice in a row, a fifth of the interval
// apart (the first 404 may overtake a PlaybackFinished still on its way),
// the adapter queues PlaybackFinished{State: "failed"} with the playback's
// target, in order with the real events, and counts it in
// Stats.PlaybacksLost. The consumer never gets both a real and a made-up
// PlaybackFinished for one playback: a real one that comes after the
// adapter reported the playback lost is dropped and counted in
// Stats.LatePlaybacksDropped. After LinkUp{Reconnect: true} every watched
// playback is looked up at once. The watches end when Run returns.
//
// # REST commands
//
// Every command runs under the caller's context bounded by
// Config.RequestTimeout: a command whose deadline passes returns
// EUNAVAILABLE at once. The requests the native client cannot make, or
// whose answer it throws away (originate and snoop return the new channel,
// the channel and bridge listings, redirect, recording download), and the
// commands of every call (answer, play, music on hold, set variable,
// create and destroy bridge, hang-up, subscriptions) the adapter makes itself: the
// commands exactly as the native client sends them (method, path, query,
// JSON body), without the goroutine, timer and request objects a native
// command costs. Over restTransport they build no http.Request either.
//
// # Connections: below Asterisk's session limit
//
// Asterisk's HTTP server serves at most http.conf's sessionlimit sessions
// (100 by default), one per TCP connection, idle kept-alive ones and the
// events WebSocket included; past it a new connection is closed with no
// answer. So both clients, the native one and the adapter's own, send
// through one transport that holds at most Config.MaxConnections-1
// connections, open or idle, and the events WebSocket has the last one:
// Switchboard never holds more than MaxConnections sessions. The native
// client keeps its http.Client in an unexported field with no option to
// replace it (its zero value would send through the process-wide,
// unbounded http.DefaultTransport), so New sets the field's transport
// through reflection and fails if the library no longer has it. Every
// response body is read to its end when closed (the native client closes
// some unread): a connection is reused, never thrown away for a new one
// that Asterisk, still counting the old session, could refuse. For plain
// HTTP with no proxy that transport is the adapter's own HTTP/1.1 client
// (restTransport), which makes each request on its caller's goroutine:
// Go's http.Transport passes every request through two goroutines of the
// connection's, which costs more than the request. Over https or a proxy
// it is an http.Transport.
//
// A command first takes one of MaxConnections-1 slots, waiting under its
// deadline when every connection is busy; one that does not get a slot in
// time is not sent (EUNAVAILABLE, result pool_timeout). A request the
// adapter makes itself ends at its deadline and its connection is closed
// (Asterisk may count that session until it notices: one more reason to
// keep MaxConnections well below sessionlimit). The native client takes no
// context, so a command it runs goes on in the background after its
// caller's deadline, holding its slot and connection until Asterisk
// answers or the transport's response-header timeout (2×RequestTimeout)
// passes. Idle connections are closed after 10 s, before Asterisk's
// session_keep_alive (15 s) would close them under a request.
//
// # Overload
//
// Every REST request is counted under its route template ("POST
// /bridges/{id}/addChannel", never an id) with its result (ok, the HTTP
// status, timeout, pool_timeout, refused, reset, unreachable, canceled,
// error) and its latency, in Stats.Routes. A window of the last
// Config.Overload.Window (30 s) of requests judges whether the PBX is
// overloaded (Overload): too large a share failing with 5xx answers,
// timeouts or connection failures, or the 95th-percentile latency over a
// bound. Its time is the adapter's clock, so tests drive it.
//
// HTTP statuses map to switchboard error codes: 400 EINVALID, 401
// EUNAUTHORIZED, 403 EFORBIDDEN, 404 ENOTFOUND, 409 ECONFLICT, 412 ECONFLICT,
// 422 EUNPROCESSABLE, 501 ENOTIMPLEMENTED, 503 and connection failures
// EUNAVAILABLE, anything else EINTERNAL.
//
// # Secrets
//
// The ARI password is sent only in the Authorization header. It appears in
// no log line and no error; a URL that carries credentials is refused.
package ari
