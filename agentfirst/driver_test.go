package agentfirst_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/agentfirst"
	"github.com/switchboard/switchboard/routing"
)

// fakeHost records what the driver asks of the engine, as lines.
type fakeHost struct {
	now      time.Time
	draining bool
	refuse   map[string]bool // router message types refused
	log      []string
	routed   []routing.Msg
	deferred []routing.Msg
	waiter   map[sb.CallID]agentfirst.Waiter
	queue    sb.Queue
	gone     map[sb.ChannelID]bool
	agentLeg map[sb.CallID]sb.ChannelID
	writes   []func(ctx context.Context) error
}

func newHost() *fakeHost {
	return &fakeHost{now: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), refuse: map[string]bool{},
		waiter: map[sb.CallID]agentfirst.Waiter{}, gone: map[sb.ChannelID]bool{}, agentLeg: map[sb.CallID]sb.ChannelID{}}
}

func (h *fakeHost) note(f string, a ...any)    { h.log = append(h.log, fmt.Sprintf(f, a...)) }
func (h *fakeHost) Logger() *slog.Logger       { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (h *fakeHost) Now() time.Time             { return h.now }
func (h *fakeHost) Draining() bool             { return h.draining }
func (h *fakeHost) Defer(m routing.Msg)        { h.deferred = append(h.deferred, m) }
func (h *fakeHost) Trunk(number string) string { return "PJSIP/" + number + "@trunk" }
func (h *fakeHost) Route(m routing.Msg) error {
	h.routed = append(h.routed, m)
	if h.refuse[fmt.Sprintf("%T", m)] {
		return sb.Errorf(sb.ECONFLICT, "refused")
	}
	return nil
}
func (h *fakeHost) Persist(write func(ctx context.Context) error, _ func(error)) {
	h.writes = append(h.writes, write)
}
func (h *fakeHost) PlaceCall(s agentfirst.Spec) { h.note("place %s for %q", s.Call.ID, s.RouterCall) }
func (h *fakeHost) AgentVars(call sb.CallID) map[string]string {
	return map[string]string{"SB_CALL_ID": string(call)}
}
func (h *fakeHost) RingAgent(call sb.CallID, endpoint, callerID string, vars map[string]string, _ func(sb.ChannelID, int)) sb.ChannelID {
	ch := sb.ChannelID(call + "-a1")
	h.agentLeg[call] = ch
	h.note("ring %s %s %s number=%s for=%s", ch, endpoint, callerID, vars["SB_CALLBACK_NUMBER"], vars["SB_CALLBACK_FOR"])
	return ch
}
func (h *fakeHost) DialCustomer(call sb.CallID, req sb.OriginateRequest, _ func(sb.ChannelID, int)) agentfirst.Placed {
	h.note("dial %s %s from %s cid=%s args=%s", req.ID, req.Endpoint, req.Originator, req.CallerID, strings.Join(req.AppArgs, ","))
	return agentfirst.Placed{Seq: 7}
}
func (h *fakeHost) LegGone(call sb.CallID, ch sb.ChannelID) bool {
	if h.gone[ch] {
		return false
	}
	h.gone[ch] = true
	return true
}
func (h *fakeHost) AgentLeg(call sb.CallID) sb.ChannelID      { return h.agentLeg[call] }
func (h *fakeHost) HangupLeg(call sb.CallID, ch sb.ChannelID) { h.note("hangup %s", ch) }
func (h *fakeHost) HangupOrphan(ch sb.ChannelID)              { h.note("orphan %s", ch) }
func (h *fakeHost) Connect(call sb.CallID, at time.Time)      { h.note("connect %s", call) }
func (h *fakeHost) Forget(call sb.CallID)                     { h.note("forget %s", call) }
func (h *fakeHost) PreviewAnswered(call sb.CallID)            { h.note("preview answered %s", call) }
func (h *fakeHost) PreviewGone(call sb.CallID, o sb.DialOutcome) {
	h.note("preview gone %s %s", call, o)
}
func (h *fakeHost) CallbackTaken(call sb.CallID)                      { h.note("taken %s", call) }
func (h *fakeHost) SayAndHangUp(call sb.CallID, w string, _ []string) { h.note("say %s %s", w, call) }
func (h *fakeHost) Queue(sb.QueueName) sb.Queue                       { return h.queue }
func (h *fakeHost) Waiter(call sb.CallID) (agentfirst.Waiter, bool) {
	w, ok := h.waiter[call]
	return w, ok
}

func entered(ch string) sb.ChannelInfo { return sb.ChannelInfo{ID: sb.ChannelID(ch)} }

func destroyed(ch string, cause int) sb.Event {
	return sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: sb.ChannelID(ch)}, Cause: cause}
}

func TestDriverCallbackConnects(t *testing.T) {
	h := newHost()
	d := agentfirst.NewDriver(h, agentfirst.Options{CallerID: "Center <100>", RingTimeout: time.Minute})
	d.Start(routing.StartCallback{Call: "c1", Agent: "1001", Endpoint: "PJSIP/1001", Number: "+15550001", Queue: "sales"})
	if pending, placed, _ := d.Placing("c1-cb1"); !pending || placed {
		t.Fatalf("Placing after the ring = %v, %v; want pending, customer not placed", pending, placed)
	}
	d.Entered(entered("c1-cb1-a1"), []string{agentfirst.ArgAgent, "c1-cb1"}, false)
	if pending, placed, at := d.Placing("c1-cb1"); !pending || !placed || at != 7 {
		t.Fatalf("Placing after the dial = %v, %v, %d; want pending, placed at 7", pending, placed, at)
	}
	d.Entered(entered("c1-cb1"), []string{agentfirst.ArgCustomer, "c1-cb1"}, false)
	want := []string{
		`place c1-cb1 for "c1"`,
		`ring c1-cb1-a1 PJSIP/1001 "Callback" <+15550001> number=+15550001 for=c1`,
		`dial c1-cb1 PJSIP/+15550001@trunk from c1-cb1-a1 cid=Center <100> args=cbcustomer,c1-cb1`,
		`connect c1-cb1`,
	}
	if !reflect.DeepEqual(h.log, want) {
		t.Errorf("host saw\n%s\nwant\n%s", strings.Join(h.log, "\n"), strings.Join(want, "\n"))
	}
	if len(h.routed) != 1 || h.routed[0] != (routing.CallbackResult{Call: "c1", Agent: "1001", Outcome: routing.CallbackConnected}) {
		t.Errorf("router got %+v; want the connected result", h.routed)
	}
	if pending, _, _ := d.Placing("c1-cb1"); pending {
		t.Error("still placing once connected")
	}
	// A second request for the same caller is the next attempt.
	d.Start(routing.StartCallback{Call: "c1", Agent: "1002", Endpoint: "PJSIP/1002", Number: "+15550001"})
	if last := h.log[len(h.log)-1]; !strings.HasPrefix(last, "ring c1-cb2-a1 ") {
		t.Errorf("second attempt rang %q; want c1-cb2's agent leg", last)
	}
}

func TestDriverCallbackCustomerBusy(t *testing.T) {
	h := newHost()
	d := agentfirst.NewDriver(h, agentfirst.Options{})
	d.Start(routing.StartCallback{Call: "c2", Agent: "1001", Endpoint: "PJSIP/1001", Number: "+15550002"})
	d.Entered(entered("c2-cb1-a1"), []string{agentfirst.ArgAgent, "c2-cb1"}, false)
	// The customer's line is busy: the dial result, then the destroy.
	if !d.Event(sb.DialResult{Peer: "c2-cb1", Status: "BUSY"}) || !d.Event(destroyed("c2-cb1", 17)) {
		t.Fatal("the driver did not take the customer leg's events")
	}
	if last := h.log[len(h.log)-1]; last != "hangup c2-cb1-a1" {
		t.Errorf("after the busy customer the host saw %q last; want the agent hung up", last)
	}
	if !d.Event(destroyed("c2-cb1-a1", 16)) {
		t.Fatal("the driver did not take the agent leg's destroy")
	}
	if last := h.log[len(h.log)-1]; last != "forget c2-cb1" {
		t.Errorf("last host call %q; want the call forgotten", last)
	}
	if n := len(h.routed); n != 1 || h.routed[0] != (routing.CallbackResult{Call: "c2", Agent: "1001", Outcome: routing.CallbackCustomerFailed}) {
		t.Errorf("router got %+v; want the customer-failed result", h.routed)
	}
	if d.Event(destroyed("c2-cb1", 16)) {
		t.Error("an event of a forgotten call was taken")
	}
	// Its late legs are refused.
	d.Entered(entered("c2-cb1-a1"), []string{agentfirst.ArgAgent, "c2-cb1"}, false)
	if last := h.log[len(h.log)-1]; last != "orphan c2-cb1-a1" {
		t.Errorf("a leg of a forgotten call: host saw %q; want it hung up as an orphan", last)
	}
}

func TestDriverWithdrawnAndDraining(t *testing.T) {
	h := newHost()
	d := agentfirst.NewDriver(h, agentfirst.Options{})
	if d.Cancel("c3") {
		t.Error("Cancel of a callback never started reported one")
	}
	d.Start(routing.StartCallback{Call: "c3", Agent: "1001", Endpoint: "PJSIP/1001", Number: "+15550003"})
	if !d.Cancel("c3") {
		t.Fatal("Cancel of a ringing callback reported none")
	}
	if last := h.log[len(h.log)-1]; last != "hangup c3-cb1-a1" {
		t.Errorf("Cancel: host saw %q; want the agent leg hung up", last)
	}
	d.Event(destroyed("c3-cb1-a1", 16))
	if len(h.routed) != 0 {
		t.Errorf("a withdrawn callback reported %+v to the router", h.routed)
	}
	h.draining = true
	d.Start(routing.StartCallback{Call: "c4", Agent: "1001", Endpoint: "PJSIP/1001", Number: "+15550004"})
	want := routing.CallbackResult{Call: "c4", Agent: "1001", Outcome: routing.CallbackAgentFailed, Why: routing.FailUnreachable}
	if len(h.deferred) != 1 || h.deferred[0] != want {
		t.Errorf("draining: deferred %+v; want %+v", h.deferred, want)
	}
}

func TestDriverCallbackKey(t *testing.T) {
	h := newHost()
	store := &memStore{}
	d := agentfirst.NewDriver(h, agentfirst.Options{Store: store})
	h.queue = sb.Queue{Name: "sales"}
	h.queue.Callback.Key = "1"
	at := h.now.Add(-time.Minute)
	h.waiter["w1"] = agentfirst.Waiter{Waiting: agentfirst.Waiting{Queued: true, Caller: "+15550005"},
		Queue: "sales", Priority: 3, EnqueuedAt: at}
	if d.Key("w1", "2") || d.Key("nobody", "1") {
		t.Fatal("another key, or a key of no waiting caller, was taken")
	}
	if !d.Key("w1", "1") {
		t.Fatal("the callback key was not taken")
	}
	if want := []string{"taken w1", "say cbconfirm w1"}; !reflect.DeepEqual(h.log, want) {
		t.Errorf("host saw %v; want %v", h.log, want)
	}
	if len(h.routed) != 1 || h.routed[0] != (routing.CallbackRequest{Call: "w1", Number: "+15550005"}) {
		t.Errorf("router got %+v; want the request for the caller's number", h.routed)
	}
	for _, w := range h.writes {
		_ = w(context.Background())
	}
	if want := (sb.PendingCallback{Call: "w1", Queue: "sales", Number: "+15550005", Priority: 3, EnteredAt: at}); len(store.saved) != 1 || store.saved[0] != want {
		t.Errorf("stored %+v; want %+v", store.saved, want)
	}
	// Given up: the request is closed in the store, once.
	h.writes = nil
	d.Done("w1", "given up: timeout")
	d.Done("w1", "given up: timeout")
	if len(h.writes) != 1 {
		t.Errorf("%d writes closing the request; want 1", len(h.writes))
	}
	// A refused request is not stored.
	h.refuse[fmt.Sprintf("%T", routing.CallbackRequest{})] = true
	h.waiter["w2"] = h.waiter["w1"]
	h.writes = nil
	if !d.Key("w2", "1") || len(h.writes) != 0 {
		t.Errorf("a refused request: taken or written (%d writes)", len(h.writes))
	}
}

func TestDriverRestoreOnce(t *testing.T) {
	h := newHost()
	store := &memStore{pending: []sb.PendingCallback{{Call: "r1", Queue: "sales", Number: "+15550006", Priority: 1}}}
	d := agentfirst.NewDriver(h, agentfirst.Options{Store: store})
	d.Restore()
	d.Restore()
	if len(h.routed) != 1 {
		t.Fatalf("router got %d messages; want the one stored request, once", len(h.routed))
	}
	if m, ok := h.routed[0].(routing.Enqueue); !ok || m.Call != "r1" || m.CallbackNumber != "+15550006" {
		t.Errorf("restored as %+v", h.routed[0])
	}
}

type memStore struct {
	saved   []sb.PendingCallback
	pending []sb.PendingCallback
}

func (s *memStore) SaveCallback(_ context.Context, cb sb.PendingCallback) error {
	s.saved = append(s.saved, cb)
	return nil
}
func (s *memStore) CallbackDone(context.Context, sb.CallID, string, time.Time) error { return nil }
func (s *memStore) PendingCallbacks(context.Context) ([]sb.PendingCallback, error) {
	return s.pending, nil
}
