package center

import (
	"context"
	"fmt"
	"strings"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/featurecode"
	"github.com/switchboard/switchboard/routing"
)

// agentCode carries out a desk-phone feature code (package featurecode
// decides what it does) on the owner goroutine: the router applies its
// message, the agent hears the confirmation or featurecode.Refused, and the
// call ends.
func (c *Center) agentCode(ch sb.ChannelInfo, code featurecode.Code) {
	phone := featurecode.Endpoint(ch.Name)
	if code.Action == featurecode.Login {
		c.agentCodeLogin(ch.ID, phone, code)
		return
	}
	agent, ok := c.agentAt(phone)
	if !ok {
		c.log.Warn("agent feature code from a phone no agent is logged in at", "endpoint", phone, "action", code.Action)
		c.confirm(ch.ID, featurecode.Refused)
		return
	}
	m, sound, ok := code.Msg(agent)
	if !ok {
		c.confirm(ch.ID, sound)
		return
	}
	if err := ignored(c.acdApply(m), m); err != nil {
		c.log.Info("agent feature code refused", "agent_id", agent, "action", code.Action, "err", err)
		sound = featurecode.Refused
	} else {
		c.log.Info("agent feature code", "agent_id", agent, "action", code.Action, "endpoint", phone)
	}
	c.confirm(ch.ID, sound)
}

// agentCodeLogin checks agent number and PIN (slow by design: off the
// owner goroutine) and logs the agent in on this phone.
func (c *Center) agentCodeLogin(ch sb.ChannelID, phone string, code featurecode.Code) {
	l, ok := code.Login()
	cfg, known := c.router.Agent(l.Agent)
	if !ok || !known || cfg.PINHash == "" {
		c.log.Warn("keypad login refused: unknown agent or no PIN configured", "agent_id", l.Agent, "endpoint", phone)
		c.confirm(ch, featurecode.Refused)
		return
	}
	hash := cfg.PINHash
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		good := routing.VerifyPIN(hash, l.PIN)
		c.post(func() {
			if !good {
				c.log.Warn("keypad login refused: wrong PIN", "agent_id", l.Agent, "endpoint", phone)
				c.confirm(ch, featurecode.Refused)
				return
			}
			m := routing.AgentLogin{Agent: l.Agent, Endpoint: phone}
			if err := ignored(c.acdApply(m), m); err != nil {
				c.log.Info("keypad login refused", "agent_id", l.Agent, "err", err)
				c.confirm(ch, featurecode.Refused)
				return
			}
			c.acd.mu.Lock()
			c.acd.endpoint[strings.ToLower(phone)] = l.Agent
			c.acd.mu.Unlock()
			c.log.Info("agent logged in from the keypad", "agent_id", l.Agent, "endpoint", phone)
			c.confirm(ch, featurecode.LoginOK)
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
