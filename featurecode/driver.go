package featurecode

import (
	"context"
	"log/slog"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine.
type Host interface {
	Logger() *slog.Logger
	// Route applies m to the router; an error says the router refused it.
	Route(m routing.Msg) error
	// AgentPIN returns the configured PIN hash of an agent; known is false
	// for an agent the router does not have.
	AgentPIN(agent sb.AgentID) (hash string, known bool)
	// AgentAt finds the agent logged in at (or configured on) a phone.
	AgentAt(phone string) (sb.AgentID, bool)
	// LoggedInAt notes that agent logged in on phone.
	LoggedInAt(phone string, agent sb.AgentID)
	// Off runs work off the owner goroutine, then then on it.
	Off(work func(), then func())
	Aux(ch sb.ChannelID)
	Detached(f func(ctx context.Context))
	Settle(ctx context.Context, what string, attrs []any, op func(ctx context.Context) error) error
	Hangup(ch sb.ChannelID) func(ctx context.Context) error
	HangupOrphan(ch sb.ChannelID)
	// Post runs f on the owner goroutine (from any goroutine).
	Post(f func()) bool
}

// PBX is what the driver commands of the PBX.
type PBX interface {
	sb.Calls
	sb.Media
}

// Driver carries out desk-phone feature codes on the engine's owner
// goroutine: the router applies the code's message, the agent hears the
// confirmation or Refused, and the call ends.
type Driver struct {
	h     Host
	pbx   PBX
	plays map[sb.PlaybackID]sb.ChannelID // confirmations playing
}

// NewDriver builds the driver.
func NewDriver(h Host, pbx PBX) *Driver {
	return &Driver{h: h, pbx: pbx, plays: map[sb.PlaybackID]sb.ChannelID{}}
}

// Entered takes a feature-code call (Stasis args agentcode, <action>[, <arg>]).
func (d *Driver) Entered(ch sb.ChannelInfo, args []string) {
	code, _ := Parse(args)
	d.h.Aux(ch.ID)
	phone := Endpoint(ch.Name)
	log := d.h.Logger()
	if code.Action == Login {
		d.login(ch.ID, phone, code)
		return
	}
	agent, ok := d.h.AgentAt(phone)
	if !ok {
		log.Warn("agent feature code from a phone no agent is logged in at", "endpoint", phone, "action", code.Action)
		d.confirm(ch.ID, Refused)
		return
	}
	m, sound, ok := code.Msg(agent)
	if !ok {
		d.confirm(ch.ID, sound)
		return
	}
	if err := d.h.Route(m); err != nil {
		log.Info("agent feature code refused", "agent_id", agent, "action", code.Action, "err", err)
		sound = Refused
	} else {
		log.Info("agent feature code", "agent_id", agent, "action", code.Action, "endpoint", phone)
	}
	d.confirm(ch.ID, sound)
}

// login checks agent number and PIN (slow by design: off the owner
// goroutine) and logs the agent in on this phone.
func (d *Driver) login(ch sb.ChannelID, phone string, code Code) {
	l, ok := code.Login()
	hash, known := d.h.AgentPIN(l.Agent)
	log := d.h.Logger()
	if !ok || !known || hash == "" {
		log.Warn("keypad login refused: unknown agent or no PIN configured", "agent_id", l.Agent, "endpoint", phone)
		d.confirm(ch, Refused)
		return
	}
	var good bool
	d.h.Off(func() { good = routing.VerifyPIN(hash, l.PIN) }, func() {
		if !good {
			log.Warn("keypad login refused: wrong PIN", "agent_id", l.Agent, "endpoint", phone)
			d.confirm(ch, Refused)
			return
		}
		if err := d.h.Route(routing.AgentLogin{Agent: l.Agent, Endpoint: phone}); err != nil {
			log.Info("keypad login refused", "agent_id", l.Agent, "err", err)
			d.confirm(ch, Refused)
			return
		}
		d.h.LoggedInAt(phone, l.Agent)
		log.Info("agent logged in from the keypad", "agent_id", l.Agent, "endpoint", phone)
		d.confirm(ch, LoginOK)
	})
}

// confirm answers a feature-code call, plays a prompt and hangs up when it
// has played.
func (d *Driver) confirm(ch sb.ChannelID, sound string) {
	pb := sb.PlaybackID(string(ch) + "-code")
	d.plays[pb] = ch
	d.h.Detached(func(ctx context.Context) {
		err := d.pbx.Answer(ctx, ch)
		if err == nil {
			err = d.pbx.Play(ctx, ch, pb, sound)
		}
		if err != nil {
			d.h.Post(func() { delete(d.plays, pb) })
			_ = d.h.Settle(ctx, "hangup", []any{"channel_id", ch}, d.h.Hangup(ch))
		}
	})
}

// Played hangs up a feature-code call once its prompt has played. It
// reports whether pb was a confirmation.
func (d *Driver) Played(pb sb.PlaybackID) bool {
	ch, ok := d.plays[pb]
	if !ok {
		return false
	}
	delete(d.plays, pb)
	d.h.HangupOrphan(ch)
	return true
}
