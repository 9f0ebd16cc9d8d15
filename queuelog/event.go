// Package queuelog writes an Asterisk-compatible queue_log, so the queue
// reporting tools that read Asterisk's file (QueueMetrics-style parsers,
// Wazo/XiVO statistics, home-grown scripts) work on Switchboard's queues.
//
// # Format
//
// One event per line, fields separated by '|', exactly as Asterisk's
// ast_queue_log writes them:
//
//	epoch|callid|queuename|agent|event|data1|data2|...
//	1366720340|1366720340.303267|support|PJSIP/1001|CONNECT|12|1366720352.7|4
//
// epoch is Unix seconds; callid is the caller channel's unique id, queue and
// agent name the queue and the member, and "NONE" stands in for an absent
// one. Asterisk always writes the '|' after the event, so an event without
// data ends in '|' (…|QUEUESTART|). Times in data fields are whole seconds,
// except RINGNOANSWER and RINGCANCELED, which are milliseconds.
//
// The data fields of each event follow app_queue.c (Asterisk 13–22); the
// constructors below document them. The format has no escaping, so Format
// replaces a '|' inside a field with '/' and CR, LF and other control
// characters with a space: a line always splits into the right columns.
package queuelog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// None is what Asterisk writes for an absent call id, queue or agent.
const None = "NONE"

// Event names written by Asterisk's app_queue and the logger.
const (
	EventEnterQueue       = "ENTERQUEUE"
	EventConnect          = "CONNECT"
	EventCompleteAgent    = "COMPLETEAGENT"
	EventCompleteCaller   = "COMPLETECALLER"
	EventAbandon          = "ABANDON"
	EventRingNoAnswer     = "RINGNOANSWER"
	EventRingCanceled     = "RINGCANCELED"
	EventExitWithTimeout  = "EXITWITHTIMEOUT"
	EventExitEmpty        = "EXITEMPTY"
	EventExitWithKey      = "EXITWITHKEY"
	EventFull             = "FULL"
	EventJoinEmpty        = "JOINEMPTY"
	EventPause            = "PAUSE"
	EventUnpause          = "UNPAUSE"
	EventPauseAll         = "PAUSEALL"
	EventUnpauseAll       = "UNPAUSEALL"
	EventAddMember        = "ADDMEMBER"
	EventRemoveMember     = "REMOVEMEMBER"
	EventAgentLogin       = "AGENTLOGIN"
	EventAgentLogoff      = "AGENTLOGOFF"
	EventQueueStart       = "QUEUESTART"
	EventConfigReload     = "CONFIGRELOAD"
	EventBlindTransfer    = "BLINDTRANSFER"
	EventAttendedTransfer = "ATTENDEDTRANSFER"
	EventTransfer         = "TRANSFER"
)

// Event is one queue_log line.
type Event struct {
	// Time is written as Unix seconds.
	Time time.Time
	// CallID is the caller channel's unique id; empty is written as NONE.
	CallID string
	// Queue is the queue name; empty is written as NONE.
	Queue string
	// Agent is the member name (e.g. PJSIP/1001 or Agent/1001); empty is
	// written as NONE.
	Agent string
	// Event is the event name, e.g. EventConnect.
	Event string
	// Data holds the event's parameters in Asterisk's order.
	Data []string
}

// sanitize makes s safe as one field: no separator, no line break.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '|' || c < 0x20 || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '|':
			return '/'
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}

func orNone(s string) string {
	if s == "" {
		return None
	}
	return sanitize(s)
}

// Format renders e as one queue_log line, without the trailing newline.
func Format(e Event) string {
	var b strings.Builder
	b.Grow(64 + 16*len(e.Data))
	var epoch int64
	if !e.Time.IsZero() {
		epoch = e.Time.Unix()
	}
	b.WriteString(strconv.FormatInt(epoch, 10))
	for _, f := range []string{orNone(e.CallID), orNone(e.Queue), orNone(e.Agent), sanitize(e.Event)} {
		b.WriteByte('|')
		b.WriteString(f)
	}
	b.WriteByte('|') // Asterisk writes it even when there is no data
	for i, d := range e.Data {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(sanitize(d))
	}
	return b.String()
}

// ErrSyntax is wrapped by Parse errors.
var ErrSyntax = errors.New("queuelog: malformed line")

// Parse reads one queue_log line (a trailing newline is allowed). NONE is
// returned as is, and a line ending in "EVENT|" has no Data.
func Parse(line string) (Event, error) {
	line = strings.TrimRight(line, "\r\n")
	f := strings.SplitN(line, "|", 6)
	if len(f) < 5 {
		return Event{}, fmt.Errorf("%w: %d fields, want at least 5: %q", ErrSyntax, len(f), line)
	}
	epoch, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("%w: time %q is not Unix seconds", ErrSyntax, f[0])
	}
	if f[4] == "" {
		return Event{}, fmt.Errorf("%w: empty event name: %q", ErrSyntax, line)
	}
	e := Event{Time: time.Unix(epoch, 0), CallID: f[1], Queue: f[2], Agent: f[3], Event: f[4]}
	if len(f) == 6 && f[5] != "" {
		e.Data = strings.Split(f[5], "|")
	}
	return e, nil
}

func secs(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
func itoa(i int) string           { return strconv.Itoa(i) }

// EnterQueue is ENTERQUEUE(url|callerid|position): a caller joined the queue
// at position (1 = head).
func EnterQueue(t time.Time, callID, queue, url, callerID string, position int) Event {
	return Event{t, callID, queue, None, EventEnterQueue, []string{url, callerID, itoa(position)}}
}

// Connect is CONNECT(holdtime|bridgedchanneluniqueid|ringtime): the caller
// was bridged to agent after holdtime in queue, with the agent's channel
// unique id and how long the agent's phone rang.
func Connect(t time.Time, callID, queue, agent string, hold time.Duration, agentChannelID string, ring time.Duration) Event {
	return Event{t, callID, queue, agent, EventConnect, []string{secs(hold), agentChannelID, secs(ring)}}
}

// CompleteAgent is COMPLETEAGENT(holdtime|calltime|origposition): the agent
// hung up a connected call.
func CompleteAgent(t time.Time, callID, queue, agent string, hold, talk time.Duration, origPosition int) Event {
	return Event{t, callID, queue, agent, EventCompleteAgent, []string{secs(hold), secs(talk), itoa(origPosition)}}
}

// CompleteCaller is COMPLETECALLER(holdtime|calltime|origposition): the
// caller hung up a connected call.
func CompleteCaller(t time.Time, callID, queue, agent string, hold, talk time.Duration, origPosition int) Event {
	return Event{t, callID, queue, agent, EventCompleteCaller, []string{secs(hold), secs(talk), itoa(origPosition)}}
}

// Abandon is ABANDON(position|origposition|waittime): the caller hung up
// while waiting. Agent is NONE unless it happened as the call was connecting.
func Abandon(t time.Time, callID, queue string, position, origPosition int, wait time.Duration) Event {
	return Event{t, callID, queue, None, EventAbandon, []string{itoa(position), itoa(origPosition), secs(wait)}}
}

// RingNoAnswer is RINGNOANSWER(ringtime): agent's phone rang for ring
// (written in milliseconds) without an answer.
func RingNoAnswer(t time.Time, callID, queue, agent string, ring time.Duration) Event {
	return Event{t, callID, queue, agent, EventRingNoAnswer, []string{strconv.FormatInt(ring.Milliseconds(), 10)}}
}

// RingCanceled is RINGCANCELED(ringtime): the caller left (or another agent
// answered) while agent's phone was ringing; ring in milliseconds.
func RingCanceled(t time.Time, callID, queue, agent string, ring time.Duration) Event {
	return Event{t, callID, queue, agent, EventRingCanceled, []string{strconv.FormatInt(ring.Milliseconds(), 10)}}
}

// ExitWithTimeout is EXITWITHTIMEOUT(position|origposition|waittime): the
// caller reached the queue's maximum wait.
func ExitWithTimeout(t time.Time, callID, queue string, position, origPosition int, wait time.Duration) Event {
	return Event{t, callID, queue, None, EventExitWithTimeout, []string{itoa(position), itoa(origPosition), secs(wait)}}
}

// ExitEmpty is EXITEMPTY(position|origposition|waittime): the caller left
// because no agent could take calls (leave-when-empty).
func ExitEmpty(t time.Time, callID, queue string, position, origPosition int, wait time.Duration) Event {
	return Event{t, callID, queue, None, EventExitEmpty, []string{itoa(position), itoa(origPosition), secs(wait)}}
}

// ExitWithKey is EXITWITHKEY(key|position|origposition|waittime): the
// caller pressed key to leave (e.g. for a callback or voicemail).
func ExitWithKey(t time.Time, callID, queue, key string, position, origPosition int, wait time.Duration) Event {
	return Event{t, callID, queue, None, EventExitWithKey, []string{key, itoa(position), itoa(origPosition), secs(wait)}}
}

// Full is FULL: the caller was turned away because the queue was at its
// maximum length. It has no data.
func Full(t time.Time, callID, queue string) Event {
	return Event{t, callID, queue, None, EventFull, nil}
}

// JoinEmpty is JOINEMPTY: the caller was turned away because no agent could
// take calls (join-when-empty policy). It has no data.
func JoinEmpty(t time.Time, callID, queue string) Event {
	return Event{t, callID, queue, None, EventJoinEmpty, nil}
}

// Pause is PAUSE(reason) for agent in one queue; call id is NONE.
func Pause(t time.Time, queue, agent, reason string) Event {
	return Event{t, None, queue, agent, EventPause, []string{reason}}
}

// Unpause is UNPAUSE(reason) for agent in one queue.
func Unpause(t time.Time, queue, agent, reason string) Event {
	return Event{t, None, queue, agent, EventUnpause, []string{reason}}
}

// PauseAll is PAUSEALL: agent paused in every queue, written once before the
// per-queue PAUSE lines, with queue NONE and (as Asterisk does) no reason.
func PauseAll(t time.Time, agent string) Event {
	return Event{t, None, None, agent, EventPauseAll, nil}
}

// UnpauseAll is UNPAUSEALL, the counterpart of PauseAll.
func UnpauseAll(t time.Time, agent string) Event {
	return Event{t, None, None, agent, EventUnpauseAll, nil}
}

// AddMember is ADDMEMBER: agent became a member of queue (e.g. logged in to
// it). Asterisk writes empty data.
func AddMember(t time.Time, queue, agent string) Event {
	return Event{t, None, queue, agent, EventAddMember, nil}
}

// RemoveMember is REMOVEMEMBER: agent stopped being a member of queue.
func RemoveMember(t time.Time, queue, agent string) Event {
	return Event{t, None, queue, agent, EventRemoveMember, nil}
}

// AgentLogin is AGENTLOGIN(channel): agent logged in from channel (e.g.
// PJSIP/1001-0000002a); queue is NONE, callID the login call's unique id.
func AgentLogin(t time.Time, callID, agent, channel string) Event {
	return Event{t, callID, None, agent, EventAgentLogin, []string{channel}}
}

// AgentLogoff is AGENTLOGOFF(channel|logintime): agent logged off after
// being logged in for loggedIn.
func AgentLogoff(t time.Time, callID, agent, channel string, loggedIn time.Duration) Event {
	return Event{t, callID, None, agent, EventAgentLogoff, []string{channel, secs(loggedIn)}}
}

// QueueStart is QUEUESTART, written when queue logging starts; every field
// is NONE.
func QueueStart(t time.Time) Event { return Event{t, None, None, None, EventQueueStart, nil} }

// ConfigReload is CONFIGRELOAD, written when the queue configuration is
// reloaded; every field is NONE.
func ConfigReload(t time.Time) Event { return Event{t, None, None, None, EventConfigReload, nil} }

// BlindTransfer is BLINDTRANSFER(extension|context|holdtime|calltime|origposition):
// the agent blind-transferred the caller, ending the queue call.
func BlindTransfer(t time.Time, callID, queue, agent, exten, context string, hold, talk time.Duration, origPosition int) Event {
	return Event{t, callID, queue, agent, EventBlindTransfer, []string{exten, context, secs(hold), secs(talk), itoa(origPosition)}}
}

// Destinations of an attended transfer, as Asterisk names them.
const (
	// DestBridge: the caller was moved into bridge Dest[0].
	DestBridge = "BRIDGE"
	// DestApp: the caller was handed to dialplan application Dest[0].
	DestApp = "APP"
	// DestLink: the two calls were linked through channels Dest[0], Dest[1].
	DestLink = "LINK"
)

// AttendedTransfer is ATTENDEDTRANSFER(method|dest...|holdtime|calltime|origposition),
// where method is DestBridge (dest = bridge id), DestApp (dest = application)
// or DestLink (dest = two channel names).
func AttendedTransfer(t time.Time, callID, queue, agent, method string, dest []string, hold, talk time.Duration, origPosition int) Event {
	data := append(append([]string{method}, dest...), secs(hold), secs(talk), itoa(origPosition))
	return Event{t, callID, queue, agent, EventAttendedTransfer, data}
}

// Transfer is the TRANSFER(extension|context|holdtime|calltime|origposition)
// line of Asterisk 1.4–11, which split it into BLINDTRANSFER and
// ATTENDEDTRANSFER; write it only for tools that know the old name.
func Transfer(t time.Time, callID, queue, agent, exten, context string, hold, talk time.Duration, origPosition int) Event {
	return Event{t, callID, queue, agent, EventTransfer, []string{exten, context, secs(hold), secs(talk), itoa(origPosition)}}
}
