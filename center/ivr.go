package center

import (
	"context"
	"fmt"
	"slices"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/lifecycle"
)

// Route sends calls to a flow by dialed number and calendar (ivr.FlowFor
// picks it).
type Route = ivr.Route

// IVROptions wires the IVR into the center. Zero fields disable what they
// serve: without Flows, calls go straight to the greeting and an agent.
type IVROptions struct {
	Flows           ivr.FlowSource
	Routes          []Route
	Calendars       ivr.Calendars
	Location        *time.Location // for hour, weekday, date in expressions (default UTC)
	Voicemail       ivr.VoicemailStore
	Lookup          ivr.Lookuper // runs lookup nodes (ivr/lookup over HTTP); nil: they fail
	TransferContext string       // dialplan context for transfers to an extension (Local/EXT@CTX)
	TrunkTemplate   string       // endpoint for external numbers, ${number} replaced
	Observer        func(ivr.Note)
}

// DefaultTrunkTemplate is the endpoint of external numbers when none is
// configured.
const DefaultTrunkTemplate = "PJSIP/${number}@trunk"

// withDefaults fills in what o leaves unset.
func (o IVROptions) withDefaults() IVROptions {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.TransferContext == "" {
		o.TransferContext = "from-agents"
	}
	if o.TrunkTemplate == "" {
		o.TrunkTemplate = DefaultTrunkTemplate
	}
	return o
}

// SetRoutes replaces the routes new calls take while the center runs
// (the `ivr test` tool points every number at the flow under test): a
// setter because it changes a running center; the routes it starts with
// are Options.IVR's. It returns once calls entering from now on take
// them.
func (c *Center) SetRoutes(routes []Route) {
	routes = slices.Clone(routes)
	done := make(chan struct{})
	if c.post(func() { c.ivr.Routes = routes; c.flows.SetRoutes(routes); close(done) }) {
		select {
		case <-done:
		case <-c.stopped:
		}
	}
}

// transfer originates the flow's transfer target; when it answers it is
// bridged to the caller like an agent leg.
func (c *Center) transfer(k *call, cmd ivr.TransferCmd) {
	endpoint := cmd.Endpoint
	switch {
	case cmd.Extension != "":
		endpoint = fmt.Sprintf("Local/%s@%s", cmd.Extension, c.ivr.TransferContext)
	case cmd.Number != "":
		endpoint = c.trunkEndpoint(cmd.Number)
	}
	k.attempts++
	c.seq++
	k.offerSeq = c.seq
	k.agentCh = sb.ChannelID(fmt.Sprintf("%s-t%d", k.ID, k.attempts))
	c.life(k, lifecycle.AgentDialed{Transfer: true})
	k.State = sb.CallTransfer
	k.AgentChannel = k.agentCh
	c.byChannel[k.agentCh] = k
	timeout := cmd.Timeout
	if timeout <= 0 {
		timeout = c.cfg.AgentRingTimeout
	}
	req := sb.OriginateRequest{ID: k.agentCh, Endpoint: endpoint, CallerID: fmt.Sprintf("%q <%s>", k.CallerName, k.Caller),
		Timeout: timeout, AppArgs: []string{argTransfer, string(k.ID)}, Originator: sb.ChannelID(k.ID)}
	ch := k.agentCh
	c.log.Info("flow transfers call", "call_id", k.ID, "endpoint", endpoint)
	c.originate(k, req, "transfer originate failed", func() {
		if k.agentCh == ch && !k.life.AgentGone() {
			c.channelGone(k, ch)
		}
	})
}

// The engine side of flows: what ivr.Driver asks of the call.

// Stepped: the call's flow took an input and is at node.
func (h host) Stepped(call sb.CallID, node string) {
	h.c.ivrSteps.Add(1)
	if k := h.c.calls[call]; k != nil {
		k.IVRNode = node
	}
}

// FlowOver: the call's flow ended with vars.
func (h host) FlowOver(call sb.CallID, vars map[string]string) {
	if k := h.c.calls[call]; k != nil {
		k.IVRVars = vars
	}
}

// FlowQueue: the flow queues the call.
func (h host) FlowQueue(call sb.CallID, cmd ivr.QueueCmd) {
	k := h.c.calls[call]
	if k == nil {
		return
	}
	k.Queue = sb.QueueName(cmd.Queue)
	k.priority = cmd.Priority
	k.skills = cmd.Skills
	h.c.life(k, lifecycle.Queue{})
	k.State = sb.CallPrompting
	h.c.log.Info("flow queued call", "call_id", k.ID, "queue", cmd.Queue)
	h.c.acdHunt(k)
}

// FlowTransfer: the flow transfers the call.
func (h host) FlowTransfer(call sb.CallID, cmd ivr.TransferCmd) {
	if k := h.c.calls[call]; k != nil {
		h.c.transfer(k, cmd)
	}
}

// FlowHangup: the flow hangs up.
func (h host) FlowHangup(call sb.CallID, voicemail bool) {
	if k := h.c.calls[call]; k != nil {
		h.c.life(k, lifecycle.FlowHangup{Voicemail: voicemail})
	}
}

// VoicemailKept: a message the caller left by hanging up is kept.
func (h host) VoicemailKept(call sb.CallID) {
	if k := h.c.calls[call]; k != nil {
		h.c.life(k, lifecycle.VoicemailKept{})
	}
}

// Spawn runs f off the owner goroutine with the run context (no
// deadline of its own); Run waits for it.
func (h host) Spawn(f func(ctx context.Context)) {
	h.c.cmdWG.Add(1)
	go func() {
		defer h.c.cmdWG.Done()
		f(h.c.runCtx)
	}()
}

// Persist writes to the database off the owner goroutine (Center.persist).
func (h host) Persist(write func(ctx context.Context) error, failed func(error)) {
	h.c.persist(write, failed)
}
