package agentfirst

import (
	"errors"
	"reflect"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// step is one event fed at t0+at and the commands it must return.
type step struct {
	at   time.Duration
	e    Event
	want []Command
}

var (
	ringing = []step{{0, Ring{}, []Command{RingAgent{}}}}
	dialing = append(ringing[:1:1], step{5 * time.Second, AgentEntered{}, []Command{DialCustomer{}}})
	// answered: the customer answers at 12s.
	answered = append(dialing[:2:2], step{12 * time.Second, CustomerEntered{}, []Command{ReportAnswered{}}})
)

func steps(base []step, more ...step) []step { return append(base[:len(base):len(base)], more...) }

func TestCall(t *testing.T) {
	hangAgent, hangCustomer := Hangup{Leg: AgentLeg}, Hangup{Leg: CustomerLeg}
	tests := []struct {
		name      string
		kind      Kind
		steps     []step
		wantPhase Phase
		wantLegs  [2]LegState
	}{
		{"callback: agent, then customer, then bridged", Callback, steps(answered,
			step{12 * time.Second, Accepted{}, []Command{CloseRequest{State: "connected"}, Bridge{At: t0.Add(12 * time.Second)}}},
			// Connected: the legs' ends are the ordinary call's business.
			step{time.Minute, AgentGone{Why: routing.FailNoAnswer}, nil},
			step{time.Minute, CustomerEntered{}, []Command{Refuse{Leg: CustomerLeg}}},
		), Connected, [2]LegState{LegUp, LegUp}},
		{"agent does not answer", Callback, steps(ringing,
			step{30 * time.Second, AgentGone{Why: routing.FailNoAnswer}, []Command{Forget{},
				ReportCallback{Outcome: routing.CallbackAgentFailed, Why: routing.FailNoAnswer}}},
			step{31 * time.Second, AgentGone{Why: routing.FailNoAnswer}, nil}, // over
		), Over, [2]LegState{LegGone, LegNone}},
		{"agent busy", Callback, steps(ringing,
			step{time.Second, AgentGone{Why: routing.FailBusy}, []Command{Forget{},
				ReportCallback{Outcome: routing.CallbackAgentFailed, Why: routing.FailBusy}}},
		), Over, [2]LegState{LegGone, LegNone}},
		{"customer busy: the agent is hung up, then reported", Callback, steps(dialing,
			step{8 * time.Second, CustomerGone{Cause: 17}, []Command{hangAgent}},
			step{9 * time.Second, AgentGone{Why: routing.FailNoAnswer}, []Command{Forget{},
				ReportCallback{Outcome: routing.CallbackCustomerFailed}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"customer does not answer", Callback, steps(dialing,
			step{35 * time.Second, CustomerGone{Cause: 19}, []Command{hangAgent}},
			step{35 * time.Second, CustomerGone{Cause: 16}, nil}, // once
			step{36 * time.Second, AgentGone{}, []Command{Forget{}, ReportCallback{Outcome: routing.CallbackCustomerFailed}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"agent hangs up while the customer rings: rejected", Callback, steps(dialing,
			step{10 * time.Second, AgentGone{Why: routing.FailNoAnswer}, []Command{hangCustomer}},
			step{10 * time.Second, CustomerEntered{}, []Command{hangCustomer}}, // it raced the hang-up
			step{11 * time.Second, CustomerGone{Cause: 16}, []Command{Forget{},
				ReportCallback{Outcome: routing.CallbackAgentFailed, Why: routing.FailRejected}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"customer hangs up once answered, before the router heard", Callback, steps(answered,
			step{12 * time.Second, CustomerGone{Cause: 16}, []Command{hangAgent}},
			step{12 * time.Second, Accepted{}, nil},
			step{13 * time.Second, AgentGone{}, []Command{Forget{}, ReportCallback{Outcome: routing.CallbackCustomerFailed}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"the router refuses the answer: both hung up, nothing reported", Callback, steps(answered,
			step{12 * time.Second, Rejected{Err: errors.New("no such callback")}, []Command{hangCustomer, hangAgent}},
			step{13 * time.Second, CustomerGone{}, []Command{hangAgent}}, // each leg's end hangs up the other
			step{13 * time.Second, AgentGone{}, []Command{Forget{}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"withdrawn while the agent rings", Callback, steps(ringing,
			step{20 * time.Second, Cancel{}, []Command{hangAgent}},
			step{20 * time.Second, AgentEntered{}, []Command{hangAgent}}, // answered as it was withdrawn
			step{21 * time.Second, AgentGone{}, []Command{Forget{}}},
		), Over, [2]LegState{LegGone, LegNone}},
		{"withdrawn while the customer rings", Callback, steps(dialing,
			step{20 * time.Second, Cancel{}, []Command{hangAgent, hangCustomer}},
			step{20 * time.Second, CustomerEntered{}, []Command{hangCustomer}},
			step{21 * time.Second, CustomerGone{}, []Command{hangAgent}},
			step{21 * time.Second, AgentGone{}, []Command{Forget{}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"withdrawn after a leg ended: nothing reported", Callback, steps(dialing,
			step{20 * time.Second, CustomerGone{Cause: 17}, []Command{hangAgent}},
			step{20 * time.Second, Cancel{}, []Command{hangAgent}},
			step{21 * time.Second, AgentGone{}, []Command{Forget{}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"a leg entering twice or out of turn is refused", Callback, steps(ringing,
			step{time.Second, CustomerEntered{}, []Command{Refuse{Leg: CustomerLeg}}},
			step{2 * time.Second, AgentEntered{}, []Command{DialCustomer{}}},
			step{3 * time.Second, AgentEntered{}, []Command{Refuse{Leg: AgentLeg}}},
		), CustomerRinging, [2]LegState{LegUp, LegRinging}},
		{"preview: connected", Preview, steps(answered,
			step{12 * time.Second, Accepted{}, []Command{Bridge{At: t0.Add(12 * time.Second)}}},
		), Connected, [2]LegState{LegUp, LegUp}},
		{"preview: agent does not answer", Preview, steps(ringing,
			step{30 * time.Second, AgentGone{Why: routing.FailNoAnswer}, []Command{Forget{}, ReportPreview{Outcome: sb.DialFailed}}},
		), Over, [2]LegState{LegGone, LegNone}},
		{"preview: customer busy", Preview, steps(dialing,
			step{8 * time.Second, CustomerGone{Cause: 17}, []Command{hangAgent}},
			step{9 * time.Second, AgentGone{}, []Command{Forget{}, ReportPreview{Outcome: sb.DialBusy}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"preview: customer does not answer", Preview, steps(dialing,
			step{40 * time.Second, CustomerGone{Cause: 19}, []Command{hangAgent}},
			step{40 * time.Second, AgentGone{}, []Command{Forget{}, ReportPreview{Outcome: sb.DialNoAnswer}}},
		), Over, [2]LegState{LegGone, LegGone}},
		{"preview: the agent gives up on the customer", Preview, steps(dialing,
			step{10 * time.Second, AgentGone{Why: routing.FailNoAnswer}, []Command{hangCustomer}},
			step{11 * time.Second, CustomerGone{Cause: 16}, []Command{Forget{}, ReportPreview{Outcome: sb.DialFailed}}},
		), Over, [2]LegState{LegGone, LegGone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.kind)
			for i, s := range tt.steps {
				got := c.Step(s.e, t0.Add(s.at))
				if !reflect.DeepEqual(got, s.want) {
					t.Fatalf("step %d %T%+v (phase %v):\n got %#v\nwant %#v", i, s.e, s.e, c.Phase(), got, s.want)
				}
			}
			if c.Phase() != tt.wantPhase {
				t.Errorf("phase = %v, want %v", c.Phase(), tt.wantPhase)
			}
			if a, cu := c.Legs(); [2]LegState{a, cu} != tt.wantLegs {
				t.Errorf("legs = %v %v, want %v", a, cu, tt.wantLegs)
			}
			if pending := c.Phase() < Connected; c.Pending() != pending {
				t.Errorf("pending = %v in phase %v", c.Pending(), c.Phase())
			}
		})
	}
}

func TestCallbackKey(t *testing.T) {
	waiting := Waiting{Key: "1", Queued: true, Caller: "+15551230001"}
	tests := []struct {
		name       string
		w          Waiting
		digit      string
		wantTaken  bool
		wantNumber string
	}{
		{"the caller's number", waiting, "1", true, "+15551230001"},
		{"the flow's number first", Waiting{Key: "1", Queued: true, Caller: "+15551230001", FlowNumber: "+15559990000"}, "1", true, "+15559990000"},
		{"no number: taken, refused", Waiting{Key: "1", Queued: true}, "1", true, ""},
		{"another key", waiting, "2", false, ""},
		{"no callback key", Waiting{Queued: true, Caller: "+15551230001"}, "1", false, ""},
		{"not waiting in the queue", Waiting{Key: "1", Caller: "+15551230001"}, "1", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken, number := CallbackKey(tt.w, tt.digit)
			if taken != tt.wantTaken || number != tt.wantNumber {
				t.Errorf("got %v %q, want %v %q", taken, number, tt.wantTaken, tt.wantNumber)
			}
		})
	}
}
