package sim

import "time"

// CallRecord is the simulator's own record of one channel, as a PBX keeps
// call detail records: the truth a test compares Switchboard's books
// with (was this person ever put through to an agent, and when). Kept
// only with Options.KeepCallLog. Times are on the simulator's Clock.
type CallRecord struct {
	// Channel is the channel id; Endpoint its TECH/RESOURCE
	// (PJSIP/1001, PJSIP/+15550001@trunk, PJSIP/trunk for a caller).
	Channel, Endpoint string
	// Inbound: the channel came in through Call; Number is its caller.
	Inbound bool
	Number  string
	// Created, and Answered when it first went Up.
	Created, Answered time.Time
	// AMD is HUMAN or MACHINE when AMD() decided on it, at AMDDone.
	AMD     string
	AMDDone time.Time
	// Met is the first other channel (no snoop) it shared a bridge with,
	// MetEndpoint that channel's endpoint, at MetAt.
	Met, MetEndpoint string
	MetAt            time.Time
	// Ended is when it was hung up (zero while it is up), with Cause.
	Ended time.Time
	Cause int
	// NoApp: answered (or back from AMD) when no websocket had its
	// Stasis application registered, so Asterisk hung it up at once
	// ("Stasis app doesn't exist"): the application never saw it.
	NoApp bool
	// Unattended: the hangup handler of a campaign call whose Stasis()
	// failed set GLOBAL(SB_UNATTENDED_<attempt>) (exten unattended).
	Unattended bool
	// Message is the abandon message exten nobody played (SB_ABANDON)
	// after such a failure, "" when none was played.
	Message string
}

// CallLog returns the record of every channel created since the server
// started, in creation order (Options.KeepCallLog; nil without it).
func (s *Server) CallLog() []CallRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallRecord, 0, len(s.callLog))
	for _, r := range s.callLog {
		out = append(out, *r)
	}
	return out
}

// logChannel opens c's record.
func (s *Server) logChannel(c *channel) {
	if !s.opts.KeepCallLog || c.kind == kindSnoop {
		return
	}
	c.log = &CallRecord{Channel: c.id, Endpoint: c.tech + "/" + c.resource, Inbound: c.kind == kindInbound,
		Number: c.caller.number, Created: c.created}
	s.callLog = append(s.callLog, c.log)
}

// logMeeting notes that a and b share a bridge now.
func (s *Server) logMeeting(a, b *channel) {
	if r := a.log; r != nil && r.Met == "" && b.kind != kindSnoop {
		r.Met, r.MetEndpoint, r.MetAt = b.id, b.tech+"/"+b.resource, s.clock.Now()
	}
}
