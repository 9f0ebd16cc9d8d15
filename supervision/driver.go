package supervision

import (
	"context"
	"log/slog"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Stasis arguments of the legs supervision adds or takes.
const (
	ArgSupervisor = "supervisor" // supervisor, <call id>: a phone Switchboard called
	ArgSnoop      = "monsnoop"   // monsnoop, <call id>: a snoop on the agent's leg
	ArgCode       = "monitor"    // monitor, <agent id>: a supervisor dialled the feature code
)

// Talk is who talks on a live call a supervisor may join.
type Talk struct {
	Queue    sb.QueueName
	Agent    sb.AgentID
	Talking  bool         // bridged to the agent's answered leg (not to a transfer target)
	AgentLeg sb.ChannelID // the agent's leg
	Bridge   sb.BridgeID  // the call's bridge
	Caller   string
}

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine (OnLoop and the command functions handed to
// Do and Detached excepted).
type Host interface {
	Logger() *slog.Logger
	// Live reports whether call is live and neither its caller nor its
	// agent has left.
	Live(call sb.CallID) bool
	// Talking says who talks on call; ok is false when it is not live.
	Talking(call sb.CallID) (t Talk, ok bool)
	// TalkingTo finds the live call agent talks on.
	TalkingTo(agent sb.AgentID) (sb.CallID, bool)
	Claim(call sb.CallID, ch sb.ChannelID)
	Release(ch sb.ChannelID)
	NewLeg(call sb.CallID, kind string) sb.ChannelID
	Do(call sb.CallID, f func(ctx context.Context))
	Detached(f func(ctx context.Context))
	Settle(ctx context.Context, what string, attrs []any, op func(ctx context.Context) error) error
	Hangup(ch sb.ChannelID) func(ctx context.Context) error
	// HangupLeg hangs up leg ch of call until the PBX confirms; a leg the
	// PBX no longer knows is taken as gone (LegGone).
	HangupLeg(call sb.CallID, ch sb.ChannelID)
	Originate(call sb.CallID, req sb.OriginateRequest, what string, gone func())
	OnLoop(ctx context.Context, f func() error) error
	HangupOrphan(ch sb.ChannelID)
	Refuse(ch sb.ChannelID)
	Aux(ch sb.ChannelID)
}

// PBX is what the driver commands of the PBX.
type PBX interface {
	sb.Calls
	sb.Bridges
	sb.Snooper
}

// Driver carries supervisors on live calls: it keeps each call's monitor,
// plans every mode switch with Apply and has the engine carry it out. Its
// methods other than the API's (Monitor, SetMode, Stop, Info) run on the
// engine's owner goroutine.
type Driver struct {
	h      Host
	pbx    PBX
	policy Policy
	ring   time.Duration
	on     map[sb.CallID]*monitor
}

// monitor is a supervisor on a call: where its channel is (st) and the
// mode asked for.
type monitor struct {
	sup    sb.ChannelID // the supervisor's channel
	up     bool
	mode   Mode         // asked for; applied once up
	st     State        // applied
	snoop  sb.ChannelID // current snoop on the agent leg ("" in barge)
	bridge sb.BridgeID  // monitor bridge: supervisor + snoop
}

// NewDriver builds the driver; policy says who may monitor by feature code
// (nil: nobody), ring how long a supervisor's phone rings.
func NewDriver(h Host, pbx PBX, policy Policy, ring time.Duration) *Driver {
	return &Driver{h: h, pbx: pbx, policy: policy, ring: ring, on: map[sb.CallID]*monitor{}}
}

// Monitor calls a supervisor's phone (endpoint) and, when it answers, lets
// the supervisor take part in call as mode says.
func (d *Driver) Monitor(ctx context.Context, call sb.CallID, endpoint string, mode Mode) error {
	if !Valid(mode) {
		return sb.Errorf(sb.EINVALID, "unknown monitor mode %q (listen, whisper, barge)", mode)
	}
	return d.h.OnLoop(ctx, func() error {
		t, err := d.monitorable(call)
		if err != nil {
			return err
		}
		m := &monitor{mode: mode, bridge: sb.BridgeID("sv-" + string(call))}
		m.sup = d.h.NewLeg(call, "sv")
		d.on[call] = m
		d.h.Claim(call, m.sup)
		req := sb.OriginateRequest{ID: m.sup, Endpoint: endpoint, CallerID: "\"Monitor " + string(t.Agent) + "\" <" + t.Caller + ">",
			Timeout: d.ring, AppArgs: []string{ArgSupervisor, string(call)}, Originator: sb.ChannelID(call)}
		sup := m.sup
		d.h.Originate(call, req, "supervisor phone", func() {
			if m := d.on[call]; m != nil && m.sup == sup {
				d.gone(call, m)
			}
		})
		d.h.Logger().Info("supervisor called", "call_id", call, "endpoint", endpoint, "mode", mode)
		return nil
	})
}

// SetMode switches the supervisor on call between listen, whisper and
// barge.
func (d *Driver) SetMode(ctx context.Context, call sb.CallID, mode Mode) error {
	if !Valid(mode) {
		return sb.Errorf(sb.EINVALID, "unknown monitor mode %q (listen, whisper, barge)", mode)
	}
	return d.h.OnLoop(ctx, func() error {
		m := d.on[call]
		if m == nil || !d.live(call) {
			return sb.Errorf(sb.ENOTFOUND, "nobody monitors call %s", call)
		}
		m.mode = mode
		if m.up {
			d.apply(call, m)
		}
		return nil
	})
}

// live reports whether call is live at all (even with a party gone).
func (d *Driver) live(call sb.CallID) bool {
	_, ok := d.h.Talking(call)
	return ok
}

// Stop hangs up the supervisor on call.
func (d *Driver) Stop(ctx context.Context, call sb.CallID) error {
	return d.h.OnLoop(ctx, func() error {
		m := d.on[call]
		if m == nil || !d.live(call) {
			return sb.Errorf(sb.ENOTFOUND, "nobody monitors call %s", call)
		}
		d.h.HangupLeg(call, m.sup)
		return nil
	})
}

// Info says who may monitor a live call: its queue and agent.
func (d *Driver) Info(ctx context.Context, call sb.CallID) (sb.QueueName, sb.AgentID, error) {
	var t Talk
	err := d.h.OnLoop(ctx, func() error {
		var ok bool
		if t, ok = d.h.Talking(call); !ok {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		return nil
	})
	return t.Queue, t.Agent, err
}

// monitorable returns who talks on call if a supervisor may join it now.
func (d *Driver) monitorable(call sb.CallID) (Talk, error) {
	t, ok := d.h.Talking(call)
	switch {
	case !ok:
		return t, sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
	case !t.Talking:
		return t, sb.Errorf(sb.ECONFLICT, "call %s is not talking to an agent", call)
	case d.on[call] != nil:
		return t, sb.Errorf(sb.ECONFLICT, "call %s is already monitored", call)
	}
	return t, nil
}

// Entered: the phone Switchboard called for a supervisor of call answered
// (Stasis args supervisor, <call>).
func (d *Driver) Entered(ch sb.ChannelInfo, call sb.CallID) {
	m := d.on[call]
	if m == nil || m.sup != ch.ID || !d.h.Live(call) {
		d.h.HangupOrphan(ch.ID)
		return
	}
	m.up = true
	d.apply(call, m)
}

// apply puts the supervisor where its mode says (Apply plans it).
func (d *Driver) apply(call sb.CallID, m *monitor) {
	t, _ := d.h.Talking(call)
	next, plan := Apply(m.st, m.mode)
	m.st = next
	oldSnoop := m.snoop
	m.snoop = ""
	var snoop sb.SnoopRequest
	if plan.Snoop != nil {
		m.snoop = d.h.NewLeg(call, "sn")
		snoop = sb.SnoopRequest{ID: m.snoop, Channel: t.AgentLeg, Spy: plan.Snoop.Spy, Whisper: plan.Snoop.Whisper,
			AppArgs: []string{ArgSnoop, string(call)}}
		d.h.Claim(call, m.snoop)
	}
	if !plan.HangupSnoop {
		oldSnoop = ""
	}
	sup, bridge, callBridge := m.sup, m.bridge, t.Bridge
	log := d.h.Logger()
	log.Info("supervisor mode", "call_id", call, "mode", m.mode)
	d.h.Do(call, func(ctx context.Context) {
		if oldSnoop != "" {
			_ = d.h.Settle(ctx, "hangup", []any{"call_id", call, "channel_id", oldSnoop}, d.h.Hangup(oldSnoop))
		}
		var err error
		if plan.LeaveCall {
			// Out of the call before anything else: a supervisor left in
			// it would be heard by the customer.
			_ = d.h.Settle(ctx, "take the supervisor out of the call's bridge", []any{"call_id", call, "channel_id", sup},
				func(ctx context.Context) error { return d.pbx.RemoveFromBridge(ctx, callBridge, sup) })
		}
		if plan.LeaveMonitor {
			if err := d.pbx.RemoveFromBridge(ctx, bridge, sup); err != nil {
				log.Debug("supervisor out of monitor bridge", "err", err)
			}
		}
		if plan.JoinCall {
			err = d.pbx.AddToBridge(ctx, callBridge, sup)
		}
		if plan.CreateBridge {
			err = d.pbx.CreateBridge(ctx, bridge, "monitor "+string(call))
		}
		if err == nil && plan.Snoop != nil {
			_, err = d.pbx.Snoop(ctx, snoop)
		}
		if err == nil && plan.MonitorBridge {
			err = d.pbx.AddToBridge(ctx, bridge, sup, snoop.ID)
		}
		if err != nil {
			log.Warn("supervisor mode failed; the supervisor is hung up", "call_id", call, "err", err)
			_ = d.h.Settle(ctx, "hangup", []any{"call_id", call, "channel_id", sup}, d.h.Hangup(sup))
		}
	})
}

// Digit switches the mode from the supervisor's keypad. It reports whether
// ch is the supervisor of call.
func (d *Driver) Digit(call sb.CallID, ch sb.ChannelID, key string) bool {
	m := d.on[call]
	if m == nil || m.sup != ch {
		return false
	}
	if mode, ok := KeyMode(key); ok && mode != m.mode {
		m.mode = mode
		d.apply(call, m)
	}
	return true
}

// LegGone handles the end of a supervisor or snoop leg of call. It
// reports whether ch was one.
func (d *Driver) LegGone(call sb.CallID, ch sb.ChannelID) bool {
	m := d.on[call]
	switch {
	case m == nil:
		return false
	case ch == m.sup:
		d.gone(call, m)
		return true
	case strings.Contains(string(ch), "-sn"):
		d.h.Release(ch)
		if ch == m.snoop && !m.st.InCall && d.h.Live(call) {
			m.snoop = "" // the snoop died by itself; the supervisor stays until told
			m.st.Snooping = false
		}
		return true
	}
	return false
}

// CallGone: a party of call left: the supervisor goes with it.
func (d *Driver) CallGone(call sb.CallID) {
	if m := d.on[call]; m != nil {
		d.gone(call, m)
	}
}

// gone ends a supervisor's part: snoop and monitor bridge go too.
func (d *Driver) gone(call sb.CallID, m *monitor) {
	delete(d.on, call)
	d.h.Release(m.sup)
	snoop, bridge, made, sup := m.snoop, m.bridge, m.st.BridgeMade, m.sup
	if snoop != "" {
		d.h.Release(snoop)
	}
	d.h.Logger().Info("supervisor left", "call_id", call)
	d.h.Detached(func(ctx context.Context) { // the call's executor may be closed already
		for _, ch := range []sb.ChannelID{sup, snoop} {
			if ch != "" {
				_ = d.h.Settle(ctx, "monitor hangup", []any{"channel_id", ch}, d.h.Hangup(ch))
			}
		}
		if made {
			_ = d.h.Settle(ctx, "destroy monitor bridge", []any{"bridge_id", bridge}, func(ctx context.Context) error {
				return d.pbx.DestroyBridge(ctx, bridge)
			})
		}
	})
}

// ByCode: a supervisor dialled the monitor feature code for an agent from
// a desk phone (Stasis args monitor, <agent>). The phone's channel becomes
// the supervisor leg, listening; keys 1, 2, 3 switch to listen, whisper,
// barge.
func (d *Driver) ByCode(ch sb.ChannelInfo, agent sb.AgentID) {
	d.h.Aux(ch.ID)
	endpoint := ch.Name
	if i := strings.LastIndexByte(endpoint, '-'); i > 0 {
		endpoint = endpoint[:i] // PJSIP/1009-0000002a -> PJSIP/1009
	}
	call, found := sb.CallID(""), false
	if agent != "" {
		call, found = d.h.TalkingTo(agent)
	}
	t, _ := d.h.Talking(call)
	if !found || d.on[call] != nil || !d.policy.May(endpoint, t.Queue, agent) {
		d.h.Logger().Warn("monitor feature code refused", "endpoint", endpoint, "agent_id", agent)
		d.h.Refuse(ch.ID)
		return
	}
	m := &monitor{sup: ch.ID, up: true, mode: Listen, bridge: sb.BridgeID("sv-" + string(call))}
	d.on[call] = m
	d.h.Claim(call, ch.ID)
	id := ch.ID
	d.h.Do(call, func(ctx context.Context) {
		if err := d.pbx.Answer(ctx, id); err != nil {
			d.h.Logger().Warn("answer supervisor", "call_id", call, "err", err)
		}
	})
	d.apply(call, m)
}
