package switchboard

import "time"

// Outcome is how a call ended, as written to the call log.
type Outcome string

// Outcomes of an inbound call.
const (
	// OutcomeCompleted: the caller talked to an agent.
	OutcomeCompleted Outcome = "completed"
	// OutcomeAbandoned: the caller hung up before reaching an agent.
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeNoAgent: no agent was free or reachable; the caller heard the
	// no-agent message and was hung up by Switchboard.
	OutcomeNoAgent Outcome = "no_agent"
	// OutcomeFailed: a PBX or internal failure ended the call.
	OutcomeFailed Outcome = "failed"
	// OutcomeInterrupted: Switchboard hung up a call that had not reached an
	// agent because it was shutting down (forced stop, end of a demo run).
	OutcomeInterrupted Outcome = "interrupted"
	// OutcomeIVR: the call ended in the IVR by the flow's design (a hangup
	// node: self-service, closed message).
	OutcomeIVR Outcome = "ivr"
	// OutcomeVoicemail: the caller left a voicemail message.
	OutcomeVoicemail Outcome = "voicemail"
	// OutcomeTransferred: the IVR transferred the call to an endpoint,
	// extension or external number that answered.
	OutcomeTransferred Outcome = "transferred"
	// OutcomeCallback: the caller asked to be called back and hung up; the
	// request keeps its place in the queue (the callback is its own row).
	OutcomeCallback Outcome = "callback"
	// OutcomeEndedWhileDown: the call ended while Switchboard was not
	// running (a crash, a kill); its row was written when it entered and
	// updated as it went (queue, agent, bridged time), and closed at the
	// next start. Its end time is when that start found it gone.
	OutcomeEndedWhileDown Outcome = "ended_while_down"
)

// Outcomes lists every outcome, for metrics and validation.
var Outcomes = []Outcome{OutcomeCompleted, OutcomeAbandoned, OutcomeNoAgent, OutcomeFailed, OutcomeInterrupted,
	OutcomeIVR, OutcomeVoicemail, OutcomeTransferred, OutcomeCallback, OutcomeEndedWhileDown}

// CallState is the life-cycle state of a live call.
//
//	entered  -> answered   (Switchboard answered the caller channel)
//	answered -> ivr        (the caller is in an IVR flow)
//	ivr      -> prompting  (the flow queued the call: waiting for an agent)
//	ivr      -> transferring -> bridged (the flow transferred the call)
//	answered -> prompting  (no flow routes the number: the greeting plays)
//	prompting-> ringing    (an agent's phone rings)
//	ringing  -> bridged    (the agent answered; caller and agent talk)
//	ringing  -> prompting|ended (agent did not answer: next agent, or no agent)
//	any      -> ended      (either side hung up; the call-log row is written)
type CallState string

// Call states.
const (
	CallEntered   CallState = "entered"
	CallAnswered  CallState = "answered"
	CallIVR       CallState = "ivr"
	CallTransfer  CallState = "transferring"
	CallPrompting CallState = "prompting"
	CallRinging   CallState = "ringing"
	CallBridged   CallState = "bridged"
	CallEnded     CallState = "ended"
)

// Call is a snapshot of a live call.
type Call struct {
	ID           CallID    `json:"id"`
	Node         string    `json:"node,omitempty"`
	State        CallState `json:"state"`
	Caller       string    `json:"caller"`
	CallerName   string    `json:"caller_name,omitempty"`
	Called       string    `json:"called"`
	Queue        QueueName `json:"queue,omitempty"`
	Agent        AgentID   `json:"agent,omitempty"`
	AgentChannel ChannelID `json:"agent_channel,omitempty"`
	Bridge       BridgeID  `json:"bridge,omitempty"`
	Entered      time.Time `json:"entered"`
	Answered     time.Time `json:"answered,omitzero"`
	Bridged      time.Time `json:"bridged,omitzero"`
	// IVRNode is the flow and node the caller is in ("main/menu").
	IVRNode string `json:"ivr_node,omitempty"`
	// IVRVars are the flow variables so far (shown to the agent who answers).
	IVRVars map[string]string `json:"ivr_vars,omitempty"`
	// IVRPath is the path through the IVR (JSON of ivr.Path).
	IVRPath RawJSON `json:"ivr_path,omitempty"`
}

// CDR is one row of the call log: one row per call.
type CDR struct {
	ID          int64     `json:"id" db:"id"`
	CallID      CallID    `json:"call_id" db:"call_id"`
	Node        string    `json:"node" db:"node"`
	Caller      string    `json:"caller" db:"caller"`
	CallerName  string    `json:"caller_name" db:"caller_name"`
	Called      string    `json:"called" db:"called"`
	Queue       QueueName `json:"queue" db:"queue"`
	Agent       AgentID   `json:"agent" db:"agent"`
	Entered     time.Time `json:"entered" db:"entered_at"`
	Answered    NullTime  `json:"answered" db:"answered_at"`
	Bridged     NullTime  `json:"bridged" db:"bridged_at"`
	Ended       time.Time `json:"ended" db:"ended_at"`
	Outcome     Outcome   `json:"outcome" db:"outcome"`
	HangupCause int       `json:"hangup_cause" db:"hangup_cause"`
	HangupBy    string    `json:"hangup_by" db:"hangup_by"` // "caller", "agent", "system"
	// IVRPath is the caller's path through the IVR (JSON of ivr.Path:
	// flow, nodes visited, keys pressed, variables, how it ended); null when
	// the call ran no flow.
	IVRPath RawJSON `json:"ivr_path" db:"ivr_path"`
}

// Voicemail is a message a caller left in a mailbox.
type Voicemail struct {
	ID        int64             `json:"id" db:"id"`
	CallID    CallID            `json:"call_id" db:"call_id"`
	Mailbox   string            `json:"mailbox" db:"mailbox"`
	Recording string            `json:"recording" db:"recording"` // the PBX's stored recording name
	Duration  time.Duration     `json:"duration_ns" db:"duration_ns"`
	Caller    string            `json:"caller" db:"caller"`
	Vars      map[string]string `json:"vars" db:"-"`
	Created   time.Time         `json:"created" db:"created_at"`
}

// Talk returns how long caller and agent were bridged, zero if never.
func (c CDR) Talk() time.Duration {
	if !c.Bridged.Valid {
		return 0
	}
	return c.Ended.Sub(c.Bridged.Time)
}

// Wait returns how long the caller waited from entering to the agent, or to
// the end when no agent was reached.
func (c CDR) Wait() time.Duration {
	if c.Bridged.Valid {
		return c.Bridged.Time.Sub(c.Entered)
	}
	return c.Ended.Sub(c.Entered)
}

// CDRFilter selects call-log rows. Zero fields do not filter.
type CDRFilter struct {
	From   time.Time // entered at or after
	To     time.Time // entered before
	Caller string
	Called string
	Agent  AgentID
	Queue  QueueName
	// Queues, when not nil, keeps only rows of one of these queues (an
	// empty, non-nil list keeps none): a supervisor's queue scope.
	Queues  []QueueName
	Outcome Outcome
	Limit   int // page size, 1..1000 (default 100)
	Offset  int
}

// Agent is an agent as configured for the skeleton: a name and the desk
// phone endpoint (e.g. PJSIP/1001) on which calls are offered.
type Agent struct {
	ID       AgentID `json:"id"`
	Name     string  `json:"name"`
	Endpoint string  `json:"endpoint"`
}

// PendingCallback is a callback request not yet connected or given up: a
// caller waiting in Queue asked to be called back at Number; EnteredAt
// (when the call joined the queue) and Priority give its place.
type PendingCallback struct {
	Call      CallID    `json:"call_id" db:"call_id"`
	Queue     QueueName `json:"queue" db:"queue"`
	Number    string    `json:"number" db:"number"`
	Priority  int       `json:"priority" db:"priority"`
	EnteredAt time.Time `json:"entered_at" db:"entered_at"`
}

// Unattended is what the PBX's dialplan recorded of a campaign call that
// was answered while no Switchboard was connected to take it
// (configs/asterisk/extensions.conf, exten unattended): its Stasis()
// failed, a person heard the abandon message (when one is set) and the
// call was hung up.
type Unattended struct {
	At      time.Time // when the call was hung up
	Machine bool      // AMD had said MACHINE
}
