package ivr

import "time"

// Input is what the owner of a call feeds a Session: the call's facts
// (Begin), what the PBX reported, timers and lookup answers. Inputs carry
// the token or id the matching Command gave; stale ones are ignored.
type Input interface{ isInput() }

// Begin starts the session. It must be the first input.
type Begin struct {
	Caller string            // caller number (E.164 or as the trunk sends it)
	DNIS   string            // dialed number
	Vars   map[string]string // variables known before the flow (e.g. from routing)
}

// PlaybackDone: the playback with this id finished (or failed: Failed true,
// e.g. a missing sound file; the flow goes on as if it had played).
type PlaybackDone struct {
	ID     string
	Failed bool
}

// Digit: the caller pressed a key ("0"-"9", "*", "#", "A"-"D").
type Digit struct{ Key string }

// TimerFired: the timer with this token ran out.
type TimerFired struct{ Token string }

// LookupDone: the lookup with this token finished. Err is set when it failed
// (connection, timeout); otherwise Status and Body are the answer.
type LookupDone struct {
	Token  string
	Status int
	Body   []byte
	Err    string
}

// RecordingDone: the recording with this name finished (Err set if it failed).
type RecordingDone struct {
	Name     string
	Duration time.Duration
	Err      string
}

// TransferDone: a transfer target did not answer (Answered false) or the
// transferred call was connected (Answered true, terminal).
type TransferDone struct {
	Token    string
	Answered bool
}

// CallerHungUp: the caller left. The session ends.
type CallerHungUp struct{}

func (Begin) isInput()         {}
func (PlaybackDone) isInput()  {}
func (Digit) isInput()         {}
func (TimerFired) isInput()    {}
func (LookupDone) isInput()    {}
func (RecordingDone) isInput() {}
func (TransferDone) isInput()  {}
func (CallerHungUp) isInput()  {}

// Command is what a Session asks the call's owner to do.
type Command interface{ isCommand() }

// PlayCmd plays media on the caller's channel as one playback. Language, when
// set, is the prompt language to use. A playback that a key may interrupt has
// BargeIn: on the first digit the session asks for it to stop (StopPlayCmd).
// Owners use BargeIn to know the caller is being asked for keys.
type PlayCmd struct {
	ID       string
	Media    []string
	Language string
	BargeIn  bool
}

// StopPlayCmd stops a playback.
type StopPlayCmd struct{ ID string }

// StartTimerCmd starts a timer; TimerFired{Token} comes back when it runs out.
type StartTimerCmd struct {
	Token string
	After time.Duration
}

// CancelTimerCmd cancels a timer (a late TimerFired is ignored anyway).
type CancelTimerCmd struct{ Token string }

// LookupCmd makes an HTTP request; LookupDone{Token} comes back.
type LookupCmd struct {
	Token   string
	Method  string
	URL     string
	Headers map[string]string
	Body    string
	Timeout time.Duration
}

// RecordCmd records the caller (voicemail); RecordingDone{Name} comes back.
type RecordCmd struct {
	Name        string
	MaxDuration time.Duration
	MaxSilence  time.Duration
	Beep        bool
	TerminateOn string
}

// VoicemailCmd stores a finished voicemail message.
type VoicemailCmd struct {
	Mailbox   string
	Recording string
	Duration  time.Duration
	Caller    string
	Vars      map[string]string
}

// QueueCmd hands the call to routing. The session is over.
type QueueCmd struct {
	Queue    string
	Priority int
	Skills   map[string]string
}

// TransferCmd sends the call to a target; TransferDone{Token} comes back.
type TransferCmd struct {
	Token     string
	Endpoint  string
	Extension string
	Number    string
	Timeout   time.Duration
}

// HangupCmd hangs the caller up. The session is over.
type HangupCmd struct{ Cause int }

// SetVarCmd mirrors a flow variable onto the caller's channel (so the
// dialplan and the agent's screen can see it).
type SetVarCmd struct{ Name, Value string }

func (PlayCmd) isCommand()        {}
func (StopPlayCmd) isCommand()    {}
func (StartTimerCmd) isCommand()  {}
func (CancelTimerCmd) isCommand() {}
func (LookupCmd) isCommand()      {}
func (RecordCmd) isCommand()      {}
func (VoicemailCmd) isCommand()   {}
func (QueueCmd) isCommand()       {}
func (TransferCmd) isCommand()    {}
func (HangupCmd) isCommand()      {}
func (SetVarCmd) isCommand()      {}

// Visit is one node on a call's path through its flow, kept with the call-log
// row and shown to the agent who answers.
type Visit struct {
	Flow    string   `json:"flow"`
	Node    string   `json:"node"`
	Type    NodeType `json:"type"`
	At      float64  `json:"at"`                // seconds since the session began
	Keys    string   `json:"keys,omitempty"`    // keys pressed in this node
	Prompts []string `json:"prompts,omitempty"` // media played
	Result  string   `json:"result,omitempty"`  // e.g. "key 2", "timeout", "invalid", "lookup failed", "matched case 1"
}

// Path is what the owner stores: the visits, the variables at the end and
// how the session ended.
type Path struct {
	Flow    string            `json:"flow"`
	Version int               `json:"version"`
	Visits  []Visit           `json:"visits"`
	Vars    map[string]string `json:"vars,omitempty"`
	End     string            `json:"end"` // queue:NAME, transfer:TARGET, hangup, caller-hangup, voicemail:MAILBOX
}
