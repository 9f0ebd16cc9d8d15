package center

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/supervision"
)

// MonitorMode is how a supervisor takes part in an agent's call (package
// supervision decides what each mode takes).
type MonitorMode = supervision.Mode

// Monitor modes, switchable during the call.
const (
	Listen  = supervision.Listen
	Whisper = supervision.Whisper
	Barge   = supervision.Barge
)

// MonitorModes lists the modes.
var MonitorModes = supervision.Modes

const (
	argSupervisor   = "supervisor" // Stasis args: supervisor, <call id> (a phone Switchboard called)
	argMonitorSnoop = "monsnoop"   // Stasis args: monsnoop, <call id>
	argMonitorCode  = "monitor"    // Stasis args: monitor, <agent id> (a supervisor dialled the feature code)
)

// monitor is a supervisor on a call: where its channel is (st, see
// package supervision for the states) and the mode asked for.
type monitor struct {
	sup    sb.ChannelID // the supervisor's channel
	up     bool
	mode   MonitorMode       // asked for; applied once up
	st     supervision.State // applied
	snoop  sb.ChannelID      // current snoop on the agent leg ("" in barge)
	bridge sb.BridgeID       // monitor bridge: supervisor + snoop
	seq    int
}

// Monitor calls a supervisor's phone (endpoint) and, when it answers, lets
// the supervisor take part in call as mode says.
func (c *Center) Monitor(ctx context.Context, call sb.CallID, endpoint string, mode MonitorMode) error {
	if !supervision.Valid(mode) {
		return sb.Errorf(sb.EINVALID, "unknown monitor mode %q (listen, whisper, barge)", mode)
	}
	return c.onLoop(ctx, func() error {
		k, err := c.monitorable(call)
		if err != nil {
			return err
		}
		m := &monitor{mode: mode, bridge: sb.BridgeID("sv-" + string(k.ID))}
		m.sup = sb.ChannelID(fmt.Sprintf("%s-sv%d", k.ID, k.nextLeg()))
		k.monitor = m
		c.byChannel[m.sup] = k
		req := sb.OriginateRequest{ID: m.sup, Endpoint: endpoint, CallerID: fmt.Sprintf("\"Monitor %s\" <%s>", k.Agent, k.Caller),
			Timeout: c.cfg.AgentRingTimeout, AppArgs: []string{argSupervisor, string(k.ID)}, Originator: sb.ChannelID(k.ID)}
		sup := m.sup
		c.originate(k, req, "supervisor phone", func() {
			if k.monitor != nil && k.monitor.sup == sup {
				c.monitorGone(k)
			}
		})
		c.log.Info("supervisor called", "call_id", k.ID, "endpoint", endpoint, "mode", mode)
		return nil
	})
}

// SetMonitorMode switches the supervisor on call between listen, whisper
// and barge.
func (c *Center) SetMonitorMode(ctx context.Context, call sb.CallID, mode MonitorMode) error {
	if !supervision.Valid(mode) {
		return sb.Errorf(sb.EINVALID, "unknown monitor mode %q (listen, whisper, barge)", mode)
	}
	return c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil || k.monitor == nil {
			return sb.Errorf(sb.ENOTFOUND, "nobody monitors call %s", call)
		}
		k.monitor.mode = mode
		if k.monitor.up {
			c.applyMonitor(k)
		}
		return nil
	})
}

// StopMonitor hangs up the supervisor on call.
func (c *Center) StopMonitor(ctx context.Context, call sb.CallID) error {
	return c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil || k.monitor == nil {
			return sb.Errorf(sb.ENOTFOUND, "nobody monitors call %s", call)
		}
		c.hangupChannel(k, k.monitor.sup)
		return nil
	})
}

// MonitorInfo says who may monitor a live call: its queue and agent.
func (c *Center) MonitorInfo(ctx context.Context, call sb.CallID) (sb.QueueName, sb.AgentID, error) {
	var q sb.QueueName
	var a sb.AgentID
	err := c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		q, a = k.Queue, k.Agent
		return nil
	})
	return q, a, err
}

// monitorable returns the live call if a supervisor may join it now.
func (c *Center) monitorable(call sb.CallID) (*call, error) {
	k := c.calls[call]
	switch {
	case k == nil:
		return nil, sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
	case talkingAgent(k) == "":
		return nil, sb.Errorf(sb.ECONFLICT, "call %s is not talking to an agent", call)
	case k.monitor != nil:
		return nil, sb.Errorf(sb.ECONFLICT, "call %s is already monitored", call)
	}
	return k, nil
}

// talkingAgent returns the agent talking on the call, "" when none: the
// call is bridged to an agent's answered leg (not to a transfer target).
func talkingAgent(k *call) sb.AgentID {
	if k.State != sb.CallBridged || k.life.Transferred() || k.agentCh == "" || !k.life.AgentUp() {
		return ""
	}
	return k.Agent
}

// onLoop runs f on the owner goroutine and returns its error. When ctx
// ends (or the center stops) before f has started, f never runs; once it
// has started, onLoop waits for it, so that what f writes for the caller
// is never read while f still writes it.
func (c *Center) onLoop(ctx context.Context, f func() error) error {
	const (
		pending int32 = iota
		started
		abandoned
	)
	var state atomic.Int32
	reply := make(chan error, 1)
	if !c.post(func() {
		if state.CompareAndSwap(pending, started) {
			reply <- f()
		}
	}) {
		return sb.Errorf(sb.EUNAVAILABLE, "the call center is not running")
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		if state.CompareAndSwap(pending, abandoned) {
			return ctx.Err()
		}
	case <-c.stopped:
		if state.CompareAndSwap(pending, abandoned) {
			return sb.Errorf(sb.EUNAVAILABLE, "the call center stopped")
		}
	}
	return <-reply // f has started: it ends soon, on the owner goroutine
}

// nextLeg numbers the legs Switchboard adds to a call.
func (k *call) nextLeg() int {
	k.legSeq++
	return k.legSeq
}

// supervisorUp: the supervisor's channel is in the application.
func (c *Center) supervisorUp(k *call, ch sb.ChannelInfo) {
	m := k.monitor
	if m == nil || m.sup != ch.ID || k.life.CallerGone() || k.life.AgentGone() {
		c.hangupOrphan(ch.ID)
		return
	}
	m.up = true
	c.applyMonitor(k)
}

// applyMonitor puts the supervisor where its mode says (supervision.Apply
// plans it).
func (c *Center) applyMonitor(k *call) {
	m := k.monitor
	next, plan := supervision.Apply(m.st, m.mode)
	m.st = next
	oldSnoop := m.snoop
	m.snoop = ""
	var snoop sb.SnoopRequest
	if plan.Snoop != nil {
		m.seq++
		m.snoop = sb.ChannelID(fmt.Sprintf("%s-sn%d", k.ID, k.nextLeg()))
		snoop = sb.SnoopRequest{ID: m.snoop, Channel: k.agentCh, Spy: plan.Snoop.Spy, Whisper: plan.Snoop.Whisper,
			AppArgs: []string{argMonitorSnoop, string(k.ID)}}
		c.byChannel[m.snoop] = k
	}
	if !plan.HangupSnoop {
		oldSnoop = ""
	}
	sup, bridge, call := m.sup, m.bridge, k.Bridge
	c.log.Info("supervisor mode", "call_id", k.ID, "mode", m.mode)
	c.do(k, func(ctx context.Context) {
		if oldSnoop != "" {
			_ = c.trySettle(ctx, "hangup", []any{"call_id", k.ID, "channel_id", oldSnoop}, c.hangupOp(oldSnoop))
		}
		var err error
		if plan.LeaveCall {
			// Out of the call before anything else: a supervisor left in
			// it would be heard by the customer.
			_ = c.trySettle(ctx, "take the supervisor out of the call's bridge", []any{"call_id", k.ID, "channel_id", sup},
				func(ctx context.Context) error { return c.pbx.RemoveFromBridge(ctx, call, sup) })
		}
		if plan.LeaveMonitor {
			if err := c.pbx.RemoveFromBridge(ctx, bridge, sup); err != nil {
				c.log.Debug("supervisor out of monitor bridge", "err", err)
			}
		}
		if plan.JoinCall {
			err = c.pbx.AddToBridge(ctx, call, sup)
		}
		if plan.CreateBridge {
			err = c.pbx.CreateBridge(ctx, bridge, "monitor "+string(k.ID))
		}
		if err == nil && plan.Snoop != nil {
			_, err = c.pbx.Snoop(ctx, snoop)
		}
		if err == nil && plan.MonitorBridge {
			err = c.pbx.AddToBridge(ctx, bridge, sup, snoop.ID)
		}
		if err != nil {
			c.log.Warn("supervisor mode failed; the supervisor is hung up", "call_id", k.ID, "err", err)
			_ = c.trySettle(ctx, "hangup", []any{"call_id", k.ID, "channel_id", sup}, c.hangupOp(sup))
		}
	})
}

// monitorLegGone handles the end of a supervisor or snoop leg. It reports
// whether ch was one.
func (c *Center) monitorLegGone(k *call, ch sb.ChannelID) bool {
	m := k.monitor
	switch {
	case m == nil:
		return false
	case ch == m.sup:
		c.monitorGone(k)
		return true
	case strings.Contains(string(ch), "-sn"):
		delete(c.byChannel, ch)
		if ch == m.snoop && !m.st.InCall && !k.life.CallerGone() && !k.life.AgentGone() {
			m.snoop = "" // the snoop died by itself; the supervisor stays until told
			m.st.Snooping = false
		}
		return true
	}
	return false
}

// monitorGone ends a supervisor's part: snoop and monitor bridge go too.
func (c *Center) monitorGone(k *call) {
	m := k.monitor
	k.monitor = nil
	delete(c.byChannel, m.sup)
	snoop, bridge, made, sup := m.snoop, m.bridge, m.st.BridgeMade, m.sup
	if snoop != "" {
		delete(c.byChannel, snoop)
	}
	c.log.Info("supervisor left", "call_id", k.ID)
	c.detached(func(ctx context.Context) { // the call's executor may be closed already
		for _, ch := range []sb.ChannelID{sup, snoop} {
			if ch != "" {
				_ = c.trySettle(ctx, "monitor hangup", []any{"channel_id", ch}, c.hangupOp(ch))
			}
		}
		if made {
			_ = c.trySettle(ctx, "destroy monitor bridge", []any{"bridge_id", bridge}, func(ctx context.Context) error {
				return c.pbx.DestroyBridge(ctx, bridge)
			})
		}
	})
}

// MonitorPolicy says whether the supervisor phone endpoint may monitor a
// call in queue answered by agent (the feature-code path; the API checks
// its tokens itself). Nil allows nobody.
type MonitorPolicy = supervision.Policy

// monitorByCode: a supervisor dialled the monitor feature code for an
// agent from a desk phone. The phone's channel becomes the supervisor leg,
// listening; keys 1, 2, 3 switch to listen, whisper, barge.
func (c *Center) monitorByCode(ch sb.ChannelInfo, agent sb.AgentID) {
	endpoint := ch.Name
	if i := strings.LastIndexByte(endpoint, '-'); i > 0 {
		endpoint = endpoint[:i] // PJSIP/1009-0000002a -> PJSIP/1009
	}
	var k *call
	for _, cand := range c.calls {
		if agent != "" && talkingAgent(cand) == agent {
			k = cand
		}
	}
	if k == nil || k.monitor != nil || !c.monitorPolicy.May(endpoint, k.Queue, agent) {
		c.log.Warn("monitor feature code refused", "endpoint", endpoint, "agent_id", agent)
		c.refuse(ch.ID)
		return
	}
	m := &monitor{sup: ch.ID, up: true, mode: Listen, bridge: sb.BridgeID("sv-" + string(k.ID))}
	k.monitor = m
	c.byChannel[ch.ID] = k
	id := ch.ID
	c.do(k, func(ctx context.Context) {
		if err := c.pbx.Answer(ctx, id); err != nil {
			c.log.Warn("answer supervisor", "call_id", k.ID, "err", err)
		}
	})
	c.applyMonitor(k)
}

// monitorKey switches the mode from the supervisor's keypad.
func (c *Center) monitorKey(k *call, key string) {
	if mode, ok := supervision.KeyMode(key); ok && mode != k.monitor.mode {
		k.monitor.mode = mode
		c.applyMonitor(k)
	}
}

// refuse answers a feature-code call, tells it no and hangs up.
func (c *Center) refuse(ch sb.ChannelID) {
	c.detached(func(ctx context.Context) {
		_ = c.pbx.Answer(ctx, ch)
		_ = c.trySettle(ctx, "hangup", []any{"channel_id", ch}, c.hangupOp(ch))
	})
}
