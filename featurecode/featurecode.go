// Package featurecode decides what an agent's desk-phone feature code
// does. The dialplan (configs/asterisk/extensions.conf) sends the call into
// the application with Stasis args agentcode,<action>[,<arg>]:
//
//	*51<agent>*<pin>  login     log in on this phone (hot-desking)
//	*52               logout
//	*53<digit>        pause     with a reason digit (PauseReasons)
//	*54               ready     (unpause)
//	*55               wrapup    end wrap-up
//
// The decision is plain code: Parse reads the args, Code.Login the keypad
// login, Code.Msg the router message and its confirmation prompt. The
// engine checks the PIN (slow by design, off its goroutine), applies the
// message to the router, plays the prompt (Refused when the router or the
// PIN says no) and hangs up.
package featurecode

import (
	"strings"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// Arg is the first Stasis argument of a feature-code call.
const Arg = "agentcode"

// Actions.
const (
	Login  = "login"
	Logout = "logout"
	Pause  = "pause"
	Ready  = "ready"
	WrapUp = "wrapup"
)

// PauseReasons name the reason digits of *53; another digit d pauses with
// reason "code d".
var PauseReasons = map[string]string{"1": "break", "2": "lunch", "3": "meeting", "4": "training", "5": "admin"}

// Confirmation prompts (Asterisk core sounds).
const (
	LoginOK   = "sound:agent-loginok"
	LoggedOff = "sound:agent-loggedoff"
	Done      = "sound:auth-thankyou"
	Refused   = "sound:pbx-invalid"
)

// Code is one feature code: its action and argument.
type Code struct {
	Action string
	Arg    string
}

// Parse reads a call's Stasis args; ok is false when they are not a
// feature code's (agentcode,<action>[,<arg>]).
func Parse(args []string) (c Code, ok bool) {
	if len(args) < 2 || args[0] != Arg {
		return Code{}, false
	}
	c.Action = args[1]
	if len(args) > 2 {
		c.Arg = args[2]
	}
	return c, true
}

// KeypadLogin is what *51<agent>*<pin> asks: log Agent in with PIN.
type KeypadLogin struct {
	Agent sb.AgentID
	PIN   string
}

// Login returns the keypad login of a login code; ok is false for another
// action, or when the agent or the PIN is missing (refused at once: no
// PIN is ever checked for it).
func (c Code) Login() (l KeypadLogin, ok bool) {
	if c.Action != Login {
		return KeypadLogin{}, false
	}
	id, pin, _ := strings.Cut(c.Arg, "*")
	if id == "" || pin == "" {
		return KeypadLogin{Agent: sb.AgentID(id)}, false
	}
	return KeypadLogin{Agent: sb.AgentID(id), PIN: pin}, true
}

// Msg is the router message a code other than login sends for agent, and
// the prompt that confirms it once the router took it; ok is false for an
// unknown action (answered with Refused).
func (c Code) Msg(agent sb.AgentID) (m routing.Msg, confirm string, ok bool) {
	switch c.Action {
	case Logout:
		return routing.AgentLogout{Agent: agent, Reason: "keypad"}, LoggedOff, true
	case Pause:
		reason := PauseReasons[c.Arg]
		if reason == "" {
			reason = "code " + c.Arg
		}
		return routing.AgentPause{Agent: agent, Reason: reason}, Done, true
	case Ready:
		return routing.AgentReady{Agent: agent}, Done, true
	case WrapUp:
		return routing.AgentEndWrapUp{Agent: agent}, Done, true
	}
	return nil, Refused, false
}

// Endpoint is the Technology/Resource of a channel name, the phone a code
// was dialed from (PJSIP/1001-0000002a -> PJSIP/1001).
func Endpoint(channelName string) string {
	if i := strings.LastIndexByte(channelName, '-'); i > 0 {
		return channelName[:i]
	}
	return channelName
}
