package agentfirst

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// The engine side of agent-first calls: Driver places callbacks when the
// router says they are due (and preview dials a campaign asks for), keeps
// each call's machine, hands it what the PBX reports of its legs until it
// is connected, carries out its commands through the engine's Host, and
// keeps the callback requests (the key a waiting caller presses, the store
// that puts them back after a restart).

// Stasis args of the legs of agent-first calls.
const (
	ArgAgent    = "cbagent"    // cbagent, <call id>: the agent leg, dialed first
	ArgCustomer = "cbcustomer" // cbcustomer, <call id>: the customer leg, dialed once the agent answered
)

// CallbackNumberVar is the flow variable holding the number a callback
// dials; without it the caller's number is called back.
const CallbackNumberVar = "callback_number"

// Store keeps callback requests so that a restart does not lose them
// (their place in the queue included).
type Store interface {
	SaveCallback(ctx context.Context, cb sb.PendingCallback) error
	CallbackDone(ctx context.Context, call sb.CallID, state string, at time.Time) error
	PendingCallbacks(ctx context.Context) ([]sb.PendingCallback, error)
}

// Waiter is what the engine says of a caller who pressed a key: what the
// callback key needs (Waiting) and where the caller waits.
type Waiter struct {
	Waiting
	Queue      sb.QueueName
	Priority   int
	EnqueuedAt time.Time
}

// Placed is how the engine placed an agent-first call's customer leg.
type Placed struct {
	Seq uint64 // the engine's sequence number at the originate (reconcile compares snapshots with it)
}

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine.
type Host interface {
	Logger() *slog.Logger
	Now() time.Time
	Draining() bool
	// Route applies m to the router; an error says the router refused it.
	Route(m routing.Msg) error
	// Defer has m applied to the router once the actions being carried
	// out are done.
	Defer(m routing.Msg)
	Persist(write func(ctx context.Context) error, failed func(error))
	// PlaceCall registers the call s places agent first (ringing).
	PlaceCall(s Spec)
	// AgentVars are the channel variables of the call's agent leg.
	AgentVars(call sb.CallID) map[string]string
	// Trunk is the endpoint that dials an external number.
	Trunk(number string) string
	// RingAgent originates the agent's leg of call (ArgAgent); gone runs
	// with the cause if the PBX refused it.
	RingAgent(call sb.CallID, endpoint, callerID string, vars map[string]string, gone func(ch sb.ChannelID, cause int)) sb.ChannelID
	// DialCustomer originates the customer's leg (the call's own channel,
	// ArgCustomer), from the agent's; gone as for RingAgent.
	DialCustomer(call sb.CallID, req sb.OriginateRequest, gone func(ch sb.ChannelID, cause int)) Placed
	// LegGone takes the end of a leg of call not connected yet; false:
	// that leg was gone already.
	LegGone(call sb.CallID, ch sb.ChannelID) bool
	// AgentLeg is the call's agent channel.
	AgentLeg(call sb.CallID) sb.ChannelID
	HangupLeg(call sb.CallID, ch sb.ChannelID)
	HangupOrphan(ch sb.ChannelID)
	// Connect bridges both legs: from now on call is an ordinary call.
	Connect(call sb.CallID, answered time.Time)
	// Forget drops a call that never connected.
	Forget(call sb.CallID)
	// PreviewAnswered and PreviewGone report a preview dial to its
	// campaign.
	PreviewAnswered(call sb.CallID)
	PreviewGone(call sb.CallID, outcome sb.DialOutcome)
	// Waiter says who pressed a key on call; ok is false for no waiting
	// caller.
	Waiter(call sb.CallID) (w Waiter, ok bool)
	// CallbackTaken decides a waiting call whose caller asked to be
	// called back: it ends as a callback.
	CallbackTaken(call sb.CallID)
	// SayAndHangUp plays media to the caller, then hangs up.
	SayAndHangUp(call sb.CallID, what string, media []string)
	// Queue is a queue's configuration.
	Queue(q sb.QueueName) sb.Queue
}

// Spec is an agent-first call to place.
type Spec struct {
	Call       sb.Call   // its id, caller (the customer's number), called, queue, agent
	RouterCall sb.CallID // the router's call a callback places ("" for a preview dial)
	Number     string    // the customer's number
	Endpoint   string    // the customer's endpoint
	// AgentEndpoint and AgentCallerID are what the agent's phone is rung
	// with.
	AgentEndpoint, AgentCallerID string
	// Customer, for a preview dial, sets the customer leg's caller id,
	// ring time and variables.
	Customer *sb.OriginateRequest
	// Line is the campaign line a preview dial is for, as the engine
	// knows it (the driver only hands it back, in PlaceCall).
	Line any
}

// Driver carries the agent-first calls. Its methods run on the engine's
// owner goroutine.
type Driver struct {
	h     Host
	o     Options
	calls map[sb.CallID]*placing
	legs  map[sb.ChannelID]sb.CallID // the legs of calls not connected yet

	// callbacks are the agent-first calls placing callbacks, by the
	// router's call id; seq numbers each request's attempts; pending are
	// the requests the store keeps.
	callbacks map[sb.CallID]sb.CallID
	seq       map[sb.CallID]int
	pending   map[sb.CallID]bool
	restored  bool
}

// Options are what the driver places callbacks with.
type Options struct {
	Store       Store         // nil: callback requests are not kept across a restart
	CallerID    string        // the customer leg's caller id
	RingTimeout time.Duration // how long the customer's phone rings
}

// placing is one agent-first call: its machine and what the driver needs
// to carry out its commands.
type placing struct {
	m    *Call
	spec Spec
	// placedSeq is when the customer leg was originated.
	placedSeq uint64
	causes    map[sb.ChannelID]sb.LegCause // why each leg ends
}

// NewDriver builds the driver.
func NewDriver(h Host, o Options) *Driver {
	return &Driver{h: h, o: o, calls: map[sb.CallID]*placing{}, legs: map[sb.ChannelID]sb.CallID{},
		callbacks: map[sb.CallID]sb.CallID{}, seq: map[sb.CallID]int{}, pending: map[sb.CallID]bool{}}
}

// Place places an agent-first call: its agent is rung first.
func (d *Driver) Place(s Spec) {
	kind := Callback
	if s.RouterCall == "" {
		kind = Preview
	}
	p := &placing{m: New(kind), spec: s}
	d.calls[s.Call.ID] = p
	d.h.PlaceCall(s)
	if s.RouterCall != "" {
		d.callbacks[s.RouterCall] = s.Call.ID
	}
	d.step(s.Call.ID, p, Ring{})
}

// Placing reports whether call is an agent-first call not connected yet,
// whether its customer leg was placed and when (Placed.Seq).
func (d *Driver) Placing(call sb.CallID) (pending, customerPlaced bool, at uint64) {
	p := d.calls[call]
	if p == nil || !p.m.Pending() {
		return false, false, 0
	}
	_, cust := p.m.Legs()
	return true, cust != LegNone, p.placedSeq
}

// Ended forgets a call that is over.
func (d *Driver) Ended(call sb.CallID) {
	p := d.calls[call]
	if p == nil {
		return
	}
	delete(d.calls, call)
	d.forgetLegs(call)
	if r := p.spec.RouterCall; r != "" && d.callbacks[r] == call {
		delete(d.callbacks, r)
	}
}

func (d *Driver) forgetLegs(call sb.CallID) {
	for ch, c := range d.legs {
		if c == call {
			delete(d.legs, ch)
		}
	}
}

// Event takes the hang-ups of agent-first calls not connected yet; false:
// not one of theirs.
func (d *Driver) Event(e sb.Event) bool {
	ch := sb.ChannelOf(e)
	call, ok := d.legs[ch]
	p := d.calls[call]
	if !ok || p == nil || !p.m.Pending() {
		return false
	}
	if p.causes == nil {
		p.causes = map[sb.ChannelID]sb.LegCause{}
	}
	switch e := e.(type) {
	case sb.DialResult, sb.HangupRequested:
		lc := p.causes[ch]
		lc.Note(e)
		p.causes[ch] = lc
		return true
	case sb.ChannelLeft:
		return true // originated: the destroy follows
	case sb.ChannelDestroyed:
		d.Gone(call, ch, p.causes[ch].At(e.Cause))
		return true
	}
	return false
}

// Entered: a leg of an agent-first call entered the application (Stasis
// args ArgAgent or ArgCustomer, <call>); over is whether that call is over
// for the engine.
func (d *Driver) Entered(ch sb.ChannelInfo, args []string, over bool) {
	call := sb.CallID(args[1])
	p := d.calls[call]
	if p == nil || over {
		d.h.HangupOrphan(ch.ID)
		return
	}
	switch {
	case args[0] == ArgAgent && ch.ID == d.h.AgentLeg(call):
		d.step(call, p, AgentEntered{})
	case args[0] == ArgCustomer && ch.ID == sb.ChannelID(call):
		d.step(call, p, CustomerEntered{})
	default:
		d.h.HangupOrphan(ch.ID)
	}
}

// Gone: a leg of an agent-first call that is not connected yet is gone
// (cause is its hang-up cause).
func (d *Driver) Gone(call sb.CallID, ch sb.ChannelID, cause int) {
	p := d.calls[call]
	if p == nil {
		return
	}
	isAgent := ch == d.h.AgentLeg(call)
	if !isAgent && ch != sb.ChannelID(call) {
		return
	}
	if !d.h.LegGone(call, ch) {
		return
	}
	delete(d.legs, ch)
	if isAgent {
		d.step(call, p, AgentGone{Why: routing.FailReasonOf(cause)})
		return
	}
	if p.m.Result() == ResultNone {
		d.h.Logger().Info("callback: the customer did not answer", "call_id", call, "cause", cause)
	}
	d.step(call, p, CustomerGone{Cause: cause})
}

// Cancel: the router withdrew a callback it had started (its dial timeout
// passed): both legs are hung up and nothing is reported. It reports
// whether routerCall had one placing.
func (d *Driver) Cancel(routerCall sb.CallID) bool {
	call, ok := d.callbacks[routerCall]
	p := d.calls[call]
	if !ok || p == nil || !p.m.Pending() {
		return false
	}
	d.step(call, p, Cancel{})
	return true
}

// leg is the channel of an agent-first call's leg.
func (d *Driver) leg(call sb.CallID, leg Leg) sb.ChannelID {
	if leg == AgentLeg {
		return d.h.AgentLeg(call)
	}
	return sb.ChannelID(call)
}

// step applies e to the call's machine and carries out its commands.
func (d *Driver) step(call sb.CallID, p *placing, e Event) {
	log := d.h.Logger()
	s := p.spec
	for _, cmd := range p.m.Step(e, d.h.Now()) {
		switch cmd := cmd.(type) {
		case RingAgent:
			vars := d.h.AgentVars(call)
			vars["SB_CALLBACK_NUMBER"] = s.Number
			if s.RouterCall != "" {
				vars["SB_CALLBACK_FOR"] = string(s.RouterCall)
			}
			ch := d.h.RingAgent(call, s.AgentEndpoint, s.AgentCallerID, vars, func(ch sb.ChannelID, cause int) { d.Gone(call, ch, cause) })
			d.legs[ch] = call
		case DialCustomer:
			d.dialCustomer(call, p)
		case Hangup:
			d.h.HangupLeg(call, d.leg(call, cmd.Leg))
		case Refuse:
			d.h.HangupOrphan(d.leg(call, cmd.Leg))
		case ReportAnswered:
			if s.RouterCall == "" {
				d.h.PreviewAnswered(call)
				d.step(call, p, Accepted{})
				break
			}
			m := routing.CallbackResult{Call: s.RouterCall, Agent: s.Call.Agent, Outcome: routing.CallbackConnected}
			if err := d.h.Route(m); err != nil {
				log.Info("callback answered too late", "call_id", call, "err", err)
				d.step(call, p, Rejected{Err: err})
				break
			}
			d.step(call, p, Accepted{})
		case CloseRequest:
			d.Done(s.RouterCall, cmd.State)
		case Bridge:
			d.forgetLegs(call)
			log.Info("callback: the customer answered", "call_id", call, "agent_id", s.Call.Agent)
			d.h.Connect(call, cmd.At)
		case Forget:
			d.Ended(call)
			d.h.Forget(call)
		case ReportPreview:
			// A preview dial that never connected: the agent is free again.
			log.Info("preview dial over", "call_id", call, "outcome", cmd.Outcome)
			d.h.PreviewGone(call, cmd.Outcome)
		case ReportCallback:
			log.Info("callback attempt over", "call_id", call, "for", s.RouterCall, "outcome", cmd.Outcome, "why", cmd.Why)
			_ = d.h.Route(routing.CallbackResult{Call: s.RouterCall, Agent: s.Call.Agent, Outcome: cmd.Outcome, Why: cmd.Why})
		}
	}
}

// dialCustomer: the agent answered; the customer is dialed from the
// agent's leg.
func (d *Driver) dialCustomer(call sb.CallID, p *placing) {
	s := p.spec
	req := sb.OriginateRequest{
		ID: sb.ChannelID(call), Endpoint: s.Endpoint, CallerID: d.o.CallerID,
		Timeout: d.o.RingTimeout, AppArgs: []string{ArgCustomer, string(call)},
		Originator: d.h.AgentLeg(call),
	}
	if c := s.Customer; c != nil {
		req.CallerID, req.Timeout, req.Variables = c.CallerID, c.Timeout, c.Variables
	}
	d.h.Logger().Info("callback: the agent answered, dialing the customer", "call_id", call, "endpoint", s.Endpoint)
	d.legs[sb.ChannelID(call)] = call
	placed := d.h.DialCustomer(call, req, func(ch sb.ChannelID, cause int) { d.Gone(call, ch, cause) })
	p.placedSeq = placed.Seq
}

// Key handles a key a waiting caller pressed: the queue's callback key
// turns the wait into a callback request. It reports whether the key was
// taken.
func (d *Driver) Key(call sb.CallID, digit string) bool {
	w, ok := d.h.Waiter(call)
	if !ok {
		return false
	}
	q := d.h.Queue(w.Queue)
	w.Key = q.Callback.Key
	taken, number := CallbackKey(w.Waiting, digit)
	if !taken {
		return false
	}
	log := d.h.Logger()
	if number == "" {
		log.Info("callback refused: no number to call back", "call_id", call)
		return true
	}
	if err := d.h.Route(routing.CallbackRequest{Call: call, Number: number}); err != nil {
		log.Info("callback refused", "call_id", call, "err", err)
		return true
	}
	d.h.CallbackTaken(call)
	log.Info("callback requested", "call_id", call, "queue", w.Queue, "number", number)
	d.save(sb.PendingCallback{Call: call, Queue: w.Queue, Number: number, Priority: w.Priority, EnteredAt: w.EnqueuedAt})
	// Offers ringing for the caller are withdrawn (the router sent
	// CancelOffer); the caller hears the confirmation and is hung up.
	d.h.SayAndHangUp(call, "cbconfirm", q.Callback.Confirmation)
	return true
}

// Start places the callback the router says is due: the agent first,
// then the customer (routing.StartCallback).
func (d *Driver) Start(s routing.StartCallback) {
	if d.h.Draining() {
		d.h.Defer(routing.CallbackResult{Call: s.Call, Agent: s.Agent, Outcome: routing.CallbackAgentFailed, Why: routing.FailUnreachable})
		return
	}
	n := d.seq[s.Call] + 1
	d.seq[s.Call] = n
	id := sb.CallID(fmt.Sprintf("%s-cb%d", s.Call, n))
	d.h.Logger().Info("callback: ringing the agent", "call_id", id, "for", s.Call, "agent_id", s.Agent, "number", s.Number)
	d.Place(Spec{Call: sb.Call{ID: id, Caller: s.Number, Called: "callback:" + string(s.Call), Queue: s.Queue, Agent: s.Agent},
		RouterCall: s.Call, Number: s.Number, Endpoint: d.h.Trunk(s.Number),
		AgentEndpoint: s.Endpoint, AgentCallerID: fmt.Sprintf("%q <%s>", "Callback", s.Number)})
}

func (d *Driver) save(cb sb.PendingCallback) {
	d.pending[cb.Call] = true
	store := d.o.Store
	if store == nil {
		return
	}
	log := d.h.Logger()
	d.h.Persist(func(ctx context.Context) error { return store.SaveCallback(ctx, cb) }, func(err error) {
		log.Error("callback request not stored: it is lost if Switchboard restarts before it is made", "call_id", cb.Call, "err", err)
	})
}

// Done closes a callback request: state connected, or why it was given
// up.
func (d *Driver) Done(id sb.CallID, state string) {
	if !d.pending[id] {
		return
	}
	delete(d.pending, id)
	store := d.o.Store
	if store == nil {
		return
	}
	at, log := d.h.Now(), d.h.Logger()
	d.h.Persist(func(ctx context.Context) error { return store.CallbackDone(ctx, id, state, at) }, func(err error) {
		log.Error("callback state not stored", "call_id", id, "state", state, "err", err)
	})
}

// Restore puts the stored pending requests back in their queues (the
// first link-up), each at the place its caller's arrival gives it. It
// runs once.
func (d *Driver) Restore() {
	if d.restored {
		return
	}
	d.restored = true
	store := d.o.Store
	if store == nil {
		return
	}
	log := d.h.Logger()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	list, err := store.PendingCallbacks(ctx)
	cancel()
	if err != nil {
		log.Error("pending callbacks not read", "err", err)
		return
	}
	for _, cb := range list {
		d.pending[cb.Call] = true
		m := routing.Enqueue{Call: cb.Call, Queue: cb.Queue, Priority: cb.Priority, EnteredAt: cb.EnteredAt,
			Caller: cb.Number, CallbackNumber: cb.Number}
		if err := d.h.Route(m); err != nil {
			log.Warn("pending callback not restored", "call_id", cb.Call, "err", err)
			d.Done(cb.Call, "lost: "+err.Error())
			continue
		}
		log.Info("pending callback restored", "call_id", cb.Call, "queue", cb.Queue, "number", cb.Number)
	}
}
