package center

import (
	"context"
	"fmt"
	"strings"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// Agent feature codes from a desk phone (dialplan, configs/asterisk):
//
//	*51<agent>*<pin>  log in on this phone (hot-desking) with agent number and PIN
//	*52               log out
//	*53<digit>        pause with a reason digit (PauseReasons)
//	*54               ready (unpause)
//	*55               end wrap-up
//
// The call enters the application with Stasis args agentcode,<action>[,<arg>];
// the agent hears a confirmation (or pbx-invalid) and the call ends.
const argAgentCode = "agentcode"

// PauseReasons name the reason digits of *53.
var PauseReasons = map[string]string{"1": "break", "2": "lunch", "3": "meeting", "4": "training", "5": "admin"}

// Confirmation prompts (Asterisk core sounds).
const (
	soundLoginOK   = "sound:agent-loginok"
	soundLoggedOff = "sound:agent-loggedoff"
	soundDone      = "sound:auth-thankyou"
	soundRefused   = "sound:pbx-invalid"
)

// agentCode handles a feature-code call on the owner goroutine.
func (c *Center) agentCode(ch sb.ChannelInfo, args []string) {
	phone := endpointOf(ch.Name)
	action, arg := args[1], ""
	if len(args) > 2 {
		arg = args[2]
	}
	if c.router == nil {
		c.log.Warn("agent feature code needs routing.engine router", "endpoint", phone)
		c.confirm(ch.ID, soundRefused)
		return
	}
	if action == "login" {
		c.agentCodeLogin(ch.ID, phone, arg)
		return
	}
	agent, ok := c.agentAt(phone)
	if !ok {
		c.log.Warn("agent feature code from a phone no agent is logged in at", "endpoint", phone, "action", action)
		c.confirm(ch.ID, soundRefused)
		return
	}
	var m routing.Msg
	sound := soundDone
	switch action {
	case "logout":
		m, sound = routing.AgentLogout{Agent: agent, Reason: "keypad"}, soundLoggedOff
	case "pause":
		reason := PauseReasons[arg]
		if reason == "" {
			reason = "code " + arg
		}
		m = routing.AgentPause{Agent: agent, Reason: reason}
	case "ready":
		m = routing.AgentReady{Agent: agent}
	case "wrapup":
		m = routing.AgentEndWrapUp{Agent: agent}
	default:
		c.confirm(ch.ID, soundRefused)
		return
	}
	if err := ignored(c.acdApply(m), m); err != nil {
		c.log.Info("agent feature code refused", "agent_id", agent, "action", action, "err", err)
		sound = soundRefused
	} else {
		c.log.Info("agent feature code", "agent_id", agent, "action", action, "endpoint", phone)
	}
	c.confirm(ch.ID, sound)
}

// agentCodeLogin checks agent number and PIN (slow by design: off the
// owner goroutine) and logs the agent in on this phone.
func (c *Center) agentCodeLogin(ch sb.ChannelID, phone, arg string) {
	id, pin, _ := strings.Cut(arg, "*")
	cfg, ok := c.router.Agent(sb.AgentID(id))
	if !ok || cfg.PINHash == "" || pin == "" {
		c.log.Warn("keypad login refused: unknown agent or no PIN configured", "agent_id", id, "endpoint", phone)
		c.confirm(ch, soundRefused)
		return
	}
	hash := cfg.PINHash
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		good := routing.VerifyPIN(hash, pin)
		c.post(func() {
			if !good {
				c.log.Warn("keypad login refused: wrong PIN", "agent_id", id, "endpoint", phone)
				c.confirm(ch, soundRefused)
				return
			}
			m := routing.AgentLogin{Agent: sb.AgentID(id), Endpoint: phone}
			if err := ignored(c.acdApply(m), m); err != nil {
				c.log.Info("keypad login refused", "agent_id", id, "err", err)
				c.confirm(ch, soundRefused)
				return
			}
			c.acd.mu.Lock()
			c.acd.endpoint[strings.ToLower(phone)] = sb.AgentID(id)
			c.acd.mu.Unlock()
			c.log.Info("agent logged in from the keypad", "agent_id", id, "endpoint", phone)
			c.confirm(ch, soundLoginOK)
		})
	}()
}

// agentAt finds the agent logged in at (or configured on) a phone.
func (c *Center) agentAt(phone string) (sb.AgentID, bool) {
	snap := c.router.Snapshot(c.clock.Now())
	for _, a := range snap.Agents {
		if strings.EqualFold(a.Endpoint, phone) && a.State != routing.StateLoggedOut {
			return a.Agent, true
		}
	}
	return "", false
}

// confirm answers a feature-code call, plays a prompt and hangs up when it
// has played.
func (c *Center) confirm(ch sb.ChannelID, sound string) {
	pb := sb.PlaybackID(fmt.Sprintf("%s-code", ch))
	c.codePlaybacks[pb] = ch
	c.detached(func(ctx context.Context) {
		err := c.pbx.Answer(ctx, ch)
		if err == nil {
			err = c.pbx.Play(ctx, ch, pb, sound)
		}
		if err != nil {
			c.post(func() { delete(c.codePlaybacks, pb) })
			_ = c.trySettle(ctx, "hangup", []any{"channel_id", ch}, c.hangupOp(ch))
		}
	})
}

// codePlayed hangs up a feature-code call once its prompt has played.
func (c *Center) codePlayed(pb sb.PlaybackID) bool {
	ch, ok := c.codePlaybacks[pb]
	if !ok {
		return false
	}
	delete(c.codePlaybacks, pb)
	c.hangupOrphan(ch)
	return true
}

// endpointOf is the Technology/Resource of a channel name
// (PJSIP/1001-0000002a -> PJSIP/1001).
func endpointOf(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		return name[:i]
	}
	return name
}
