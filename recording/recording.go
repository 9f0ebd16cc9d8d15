package recording

import (
	"time"

	sb "github.com/switchboard/switchboard"
)

// State is where a recording is in its life cycle.
//
//	recording -> recording  (pause and resume bookkeeping while it is written)
//	recording -> stored     (finished, fetched, verified and in the folder)
//	recording -> failed     (the PBX reported a failure, or fetching failed)
//	failed    -> stored     (a later fetch succeeded)
//	failed    -> failed     (a retry failed again; the error is updated)
//	stored    -> deleted    (retention or an administrator removed the file)
//	failed    -> deleted    (retention removed what was left of it)
//
// A deleted recording keeps its row (the metadata and its access audit
// stay); deleted is final.
type State string

// Recording states.
const (
	StateRecording State = "recording"
	StateStored    State = "stored"
	StateFailed    State = "failed"
	StateDeleted   State = "deleted"
)

// States lists every state, for validation.
var States = []State{StateRecording, StateStored, StateFailed, StateDeleted}

// Valid reports whether s is one of [States].
func (s State) Valid() bool {
	switch s {
	case StateRecording, StateStored, StateFailed, StateDeleted:
		return true
	}
	return false
}

// CanTransition reports whether a recording in state from may move to state
// to (see [State] for the diagram).
func CanTransition(from, to State) bool {
	switch from {
	case StateRecording:
		return to == StateRecording || to == StateStored || to == StateFailed
	case StateFailed:
		return to == StateStored || to == StateFailed || to == StateDeleted
	case StateStored:
		return to == StateDeleted
	}
	return false
}

// From returns the states a recording may be in to move to state to: the
// inverse of [CanTransition], for a conditional update.
func From(to State) []State {
	var out []State
	for _, s := range States {
		if CanTransition(s, to) {
			out = append(out, s)
		}
	}
	return out
}

// Leg is what a recording captured: the mixed bridge, or one party.
type Leg string

// Legs of a call.
const (
	LegMixed  Leg = ""       // the agent-customer bridge, both voices in one file
	LegCaller Leg = "caller" // the customer's channel only
	LegAgent  Leg = "agent"  // the agent's channel only
)

// Recording is one recording's metadata: one row of the recordings table.
type Recording struct {
	ID int64 `json:"id" db:"id"`
	// Name is the PBX's recording name (unique, no extension).
	Name     string       `json:"name" db:"name"`
	CallID   sb.CallID    `json:"call_id" db:"call_id"`
	Leg      Leg          `json:"leg" db:"leg"`
	Queue    sb.QueueName `json:"queue" db:"queue"`
	Campaign string       `json:"campaign" db:"campaign"`
	Agent    sb.AgentID   `json:"agent" db:"agent"`
	Caller   string       `json:"caller" db:"caller"`
	Started  time.Time    `json:"started" db:"started_at"`
	Ended    sb.NullTime  `json:"ended" db:"ended_at"`
	// Duration is the audio's length as the WAV header gives it (pauses
	// are not in the file).
	Duration time.Duration `json:"duration_ns" db:"duration_ns"`
	Size     int64         `json:"size" db:"size"`
	// SHA256 is the hex checksum of the stored file.
	SHA256 string `json:"sha256" db:"sha256"`
	Pauses Pauses `json:"pauses" db:"-"`
	// Path is the file's name relative to the recordings folder.
	Path    string      `json:"path" db:"path"`
	State   State       `json:"state" db:"state"`
	Error   string      `json:"error,omitempty" db:"error"`
	Created time.Time   `json:"created" db:"created_at"`
	Deleted sb.NullTime `json:"deleted" db:"deleted_at"`
}

// Filter selects recordings. Zero fields do not filter.
type Filter struct {
	From  time.Time // started at or after
	To    time.Time // started before
	Agent sb.AgentID
	Queue sb.QueueName
	// Queues, when not nil, keeps only recordings of calls in one of these
	// queues (an empty, non-nil list keeps none): a supervisor's scope.
	Queues []sb.QueueName
	Caller string
	Limit  int // page size, 1..1000 (0 = the store's default)
	Offset int
}

// Action is what an audited access to recordings did.
type Action string

// Audited actions.
const (
	ActionList     Action = "list"     // listed recordings (no recording id)
	ActionView     Action = "view"     // read one recording's metadata
	ActionDownload Action = "download" // fetched (part of) the file
	ActionDelete   Action = "delete"   // deleted the file (retention or a person)
	ActionPause    Action = "pause"    // paused a live recording
	ActionResume   Action = "resume"   // resumed a live recording
)

// Actions lists every action, for validation.
var Actions = []Action{ActionList, ActionView, ActionDownload, ActionDelete, ActionPause, ActionResume}

// Access is one audited access to recordings: one row of recording_access.
type Access struct {
	ID int64 `json:"id" db:"id"`
	// RecordingID is the recording touched; 0 for a listing.
	RecordingID int64 `json:"recording_id" db:"recording_id"`
	// Who is the API token's name ("retention" for the retention job).
	Who    string    `json:"who" db:"who"`
	Role   string    `json:"role" db:"role"`
	Action Action    `json:"action" db:"action"`
	At     time.Time `json:"at" db:"at"`
	// Remote is the client's address as the server saw it.
	Remote string `json:"remote" db:"remote"`
	// Range is the Range header of a download ("" for the whole file).
	Range string `json:"range" db:"byte_range"`
	// Detail is what else identifies the access: a listing's filter.
	Detail string `json:"detail" db:"detail"`
}

// AuditFilter selects audit rows. Zero fields do not filter.
type AuditFilter struct {
	RecordingID int64
	Who         string
	Limit       int // 1..1000 (0 = the store's default)
}
