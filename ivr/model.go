// Package ivr holds IVR flows: their model, YAML loading with file:line
// positions, validation, and the interpreter.
//
// The interpreter is pure: a Session is advanced by Step(input, now), which
// returns the Commands the call's owner must carry out (play a prompt, start
// a timer, make an HTTP lookup, hand the call to a queue...). The owner
// feeds back what happened (playback finished, a digit, a timer fired, the
// lookup's answer, the caller hung up). No I/O, no goroutines, no clock.
package ivr

import (
	"time"

	"github.com/expr-lang/expr/vm"
)

// Pos is where something was written: file and line (1-based).
type Pos struct {
	File string
	Line int
}

// Set is a validated set of flows, as loaded at one moment: the unit that
// hot reload swaps atomically. Calls keep the Set they entered on.
type Set struct {
	Flows    map[string]*Flow
	Checksum string    // sha256 over the source files, hex
	Version  int       // increases with every successful (re)load
	Loaded   time.Time // when it was loaded
	Files    []string  // the source files, sorted
	// Declared is every flow variable some node sets (set, gather into,
	// lookup map, voicemail) plus those configured as passed in by routing:
	// expressions and templates may use only these and the builtins.
	Declared map[string]bool
}

// Flow is one IVR flow: named nodes and the node it starts at.
type Flow struct {
	Name     string
	Start    string // first node
	Language string // default prompt language (e.g. en, es); "" = the PBX's
	Nodes    map[string]*Node
	Pos      Pos
}

// NodeType names what a node does.
type NodeType string

// Node types.
const (
	NodePlay      NodeType = "play"      // play prompts (sound:, recording:, sequences)
	NodeSay       NodeType = "say"       // say digits, a number, a date/time, money
	NodeMenu      NodeType = "menu"      // prompt, one key chooses the next node
	NodeGather    NodeType = "gather"    // collect several digits into a variable
	NodeBranch    NodeType = "branch"    // first condition that holds chooses the next node
	NodeSet       NodeType = "set"       // set variables from expressions
	NodeLookup    NodeType = "lookup"    // HTTP GET/POST; JSON fields into variables
	NodeQueue     NodeType = "queue"     // hand the call to routing (terminal)
	NodeTransfer  NodeType = "transfer"  // to an endpoint, extension or number (terminal)
	NodeVoicemail NodeType = "voicemail" // record a message into a mailbox
	NodeHangup    NodeType = "hangup"    // end the call (terminal)
	NodeGoto      NodeType = "goto"      // continue at another node
	NodeSubflow   NodeType = "subflow"   // run another flow, then continue at next
	NodeReturn    NodeType = "return"    // end a sub-flow: back to the caller flow's next
)

// NodeTypes lists every node type.
var NodeTypes = []NodeType{NodePlay, NodeSay, NodeMenu, NodeGather, NodeBranch, NodeSet, NodeLookup,
	NodeQueue, NodeTransfer, NodeVoicemail, NodeHangup, NodeGoto, NodeSubflow, NodeReturn}

// Node is one step of a flow. Exactly one of the type-specific fields is
// set, matching Type. Next names the successor for the types that have one.
type Node struct {
	ID   string
	Type NodeType
	Next string // successor (play, say, set, lookup, voicemail, subflow; gather on success)
	Pos  Pos

	Play      *Play
	Say       *Say
	Menu      *Menu
	Gather    *Gather
	Branch    *Branch
	Set       []Assign
	Lookup    *Lookup
	Queue     *Queue
	Transfer  *Transfer
	Voicemail *Voicemail
	Hangup    *Hangup
	Goto      string // target node
	Subflow   string // flow name
}

// Prompt is a sequence of media URIs played as one playback. A URI may
// contain ${var} templates (e.g. recording:greeting-${tier}).
type Prompt []string

// Play plays a prompt.
type Play struct {
	Media    Prompt
	Language string // overrides the flow's language for this prompt
}

// SayKind is what a say node speaks.
type SayKind string

// Say kinds.
const (
	SayDigits   SayKind = "digits"   // one digit at a time
	SayNumber   SayKind = "number"   // as a number
	SayDate     SayKind = "date"     // weekday, month, day (and year)
	SayTime     SayKind = "time"     // hours and minutes
	SayDateTime SayKind = "datetime" // date then time
	SayMoney    SayKind = "money"    // units and cents of a currency
)

// Say speaks a value. Value is a template (${var}) or an expression result.
type Say struct {
	Kind     SayKind
	Value    string // template, e.g. ${balance}
	Currency string // for money: USD, EUR, ... (default USD)
	Language string
}

// Menu plays a prompt and chooses the next node by one key.
type Menu struct {
	Prompt        Prompt
	Keys          map[string]string // key ("0"-"9", "*", "#") -> node
	Timeout       time.Duration     // wait for a key after the prompt (default 5s)
	Retries       int               // further tries after an invalid key or timeout (default 2)
	InvalidPrompt Prompt            // played after an invalid key
	TimeoutPrompt Prompt            // played after a timeout
	Fail          string            // node when retries are exhausted; "" hangs up
}

// Gather collects digits into a variable.
type Gather struct {
	Prompt            Prompt
	Min, Max          int           // digits (defaults 1 and 20)
	Terminator        string        // key that ends input early (default "#"); "" = none
	Timeout           time.Duration // wait for the first digit after the prompt (default 5s)
	InterDigitTimeout time.Duration // wait between digits (default 3s)
	Pattern           string        // regular expression the input must match
	Into              string        // variable to store into
	Retries           int           // further tries after invalid input or timeout (default 2)
	InvalidPrompt     Prompt
	TimeoutPrompt     Prompt
	Fail              string // node when retries are exhausted; "" hangs up
}

// Branch chooses the first case whose condition holds, else Else.
type Branch struct {
	Cases []Case
	Else  string
}

// Case is one condition of a branch.
type Case struct {
	When    string      // expr-lang expression, must be boolean
	Next    string      // node when it holds
	Program *vm.Program // compiled When
	Pos     Pos
}

// Assign sets a variable from an expression.
type Assign struct {
	Var     string
	Expr    string
	Program *vm.Program // compiled Expr
	Pos     Pos
}

// Lookup asks a web service (a CRM) and maps JSON fields into variables.
type Lookup struct {
	Method  string            // GET or POST
	URL     string            // template
	Headers map[string]string // templates
	Body    string            // template (POST), sent as application/json
	Timeout time.Duration     // default 3s
	Map     map[string]string // variable -> JSON path in the answer (a.b.0.c)
	Fail    string            // node when the lookup fails, times out or answers non-2xx
}

// Queue hands the call to routing.
type Queue struct {
	Name     string
	Priority int               // higher is served first
	Skills   map[string]string // what the caller asks of his agent, templates allowed (routing.Enqueue.Skills)
}

// Transfer sends the call elsewhere: exactly one of the targets.
type Transfer struct {
	Endpoint  string // Technology/Resource, e.g. PJSIP/1001
	Extension string // dialplan extension (in the transfer context)
	Number    string // external number through the trunk (template allowed)
	Timeout   time.Duration
	Fail      string // node when the target does not answer; "" hangs up
}

// Voicemail records a message into a mailbox.
type Voicemail struct {
	Mailbox    string        // queue or agent mailbox
	Prompt     Prompt        // played before the beep
	Beep       bool          // default true
	MaxLength  time.Duration // default 120s
	MaxSilence time.Duration // default 5s
	Terminator string        // key that ends the message (default "#")
	MinLength  time.Duration // shorter messages are discarded (default 1s)
	Next       string        // after the message; "" hangs up
}

// Hangup ends the call.
type Hangup struct {
	Prompt Prompt // optional goodbye
	Cause  int    // Q.850 cause (default 16)
}
