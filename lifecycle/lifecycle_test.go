package lifecycle

import (
	"reflect"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// step is one event fed at t0+at and the commands it must return.
type step struct {
	at   time.Duration
	e    Event
	want []Command
}

func steps(base []step, more ...step) []step { return append(base[:len(base):len(base)], more...) }

// cat joins runs of steps.
func cat(runs ...[]step) []step {
	var all []step
	for _, r := range runs {
		all = append(all, r...)
	}
	return all
}

var (
	hangCaller, hangAgent = HangUp{Leg: CallerLeg}, HangUp{Leg: AgentLeg}
	noAgentMedia          = []string{"sound:sorry"}

	// greeted: answered, no flow, the greeting played, handed to the router.
	greeted = []step{
		{0, Enter{}, []Command{Answer{}}},
		{time.Second, AnswerDone{}, []Command{StartFlow{}}},
		{time.Second, NoFlow{Greeting: true}, []Command{PlayGreeting{}}},
		{4 * time.Second, GreetingDone{}, []Command{Hunt{}}},
		{4 * time.Second, GreetingDone{}, nil}, // a late second end: once
	}
	// waiting: the router holds the call.
	waiting = steps(greeted, step{4 * time.Second, Enqueued{}, nil},
		step{4 * time.Second, Queued{}, []Command{StartMOH{}}},
		step{5 * time.Second, Queued{}, nil})
	// answering: the router's offer was answered at 10s.
	answering = steps(waiting, step{10 * time.Second, Routed{}, nil},
		step{10 * time.Second, AgentAnswered{}, []Command{Bridge{Create: true, StopMOH: true}}})
	// talking: bridged at once.
	talking = steps(answering,
		step{10 * time.Second, Bridged{}, []Command{Connected{}}})
	// inFlow: answered into a flow.
	inFlow = []step{
		{0, Enter{}, []Command{Answer{}}},
		{time.Second, AnswerDone{}, []Command{StartFlow{}}},
		{time.Second, FlowStarted{}, nil},
	}
)

// callerHangs is the caller's hang-up (request with cause, then the end)
// and what it must return after CallerLeft.
func callerHangs(at time.Duration, cause int, want ...Command) []step {
	return []step{{at, Hungup{Leg: CallerLeg, Cause: cause}, nil}, {at, CallerGone{}, append([]Command{CallerLeft{}}, want...)}}
}

// left is what a caller's end returns with no report to the router.
var left = []Command{CallerLeft{}, CancelOffers{}}

func TestCall(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		wantState State
		wantLegs  [2]LegState
	}{
		{"completed: the caller hangs up, the agent is hung up", steps(steps(talking, callerHangs(time.Minute, 16, ReportEnded{}, CancelOffers{}, hangAgent)...),
			step{time.Minute, Settle{}, nil}, // the agent leg is still up
			step{time.Minute, AgentGone{}, nil},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: ByCaller, HangupCause: 16, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"completed: the agent hangs up, the caller is cleared", steps(talking,
			step{time.Minute, Hungup{Leg: AgentLeg}, nil},
			step{time.Minute, AgentGone{}, []Command{ReportEnded{ByAgent: true}, hangCaller}},
			step{time.Minute, Settle{}, nil},
			step{time.Minute, Hungup{Leg: CallerLeg, Cause: 32}, nil}, // our clearing's cause stands
			step{time.Minute, CallerGone{}, left},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: ByAgent, HangupCause: 16, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"abandoned while waiting", steps(steps(waiting, callerHangs(30*time.Second, 16, ReportAbandon{}, CancelOffers{})...),
			step{30 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned, HangupBy: ByCaller, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"the caller hangs up while an agent rings: the row waits for the offer", steps(steps(waiting, callerHangs(12*time.Second, 16, ReportAbandon{}, CancelOffers{})...),
			step{12 * time.Second, Settle{Ringing: 1}, nil},
			// The agent answers just then: hung up, never bridged.
			step{13 * time.Second, AgentAnswered{}, []Command{hangAgent}},
			step{13 * time.Second, AgentGone{}, nil},
			step{13 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned, HangupBy: ByCaller, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"no agent: the router's exit, the prompt, then the hang-up", steps(waiting,
			step{time.Minute, Exited{}, nil},
			step{time.Minute, Decide{Outcome: sb.OutcomeNoAgent, By: BySystem}, nil},
			step{time.Minute, SayAndHangUp{What: "noagent", Media: noAgentMedia}, []Command{Say{What: "noagent", Media: noAgentMedia, StopMOH: true}}},
			step{time.Minute + 3*time.Second, HangUpCaller{}, []Command{hangCaller}},
			step{time.Minute + 3*time.Second, Hungup{Leg: CallerLeg}, nil},
			step{time.Minute + 3*time.Second, CallerGone{}, left}, // out of the queue already: no abandon
			step{time.Minute + 3*time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeNoAgent, HangupBy: BySystem, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"a campaign call's connect window passes: abandoned in its queue", cat(waiting, []step{
			{6 * time.Second, Decide{Outcome: sb.OutcomeAbandoned, By: BySystem}, nil},
			{6 * time.Second, GiveUpQueue{}, []Command{ReportAbandon{}, CancelOffers{}}},
			{6 * time.Second, GiveUpQueue{}, nil}, // once
			{6 * time.Second, SayAndHangUp{What: "noagent", Media: noAgentMedia}, []Command{Say{What: "noagent", Media: noAgentMedia, StopMOH: true}}},
			{9 * time.Second, HangUpCaller{}, []Command{hangCaller}},
			{9 * time.Second, CallerGone{}, left},
			{9 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned, HangupBy: BySystem, HangupCause: 16}}},
		}), Ended, [2]LegState{LegGone, LegNone}},
		{"failed: the answer failed", []step{
			{0, Enter{}, []Command{Answer{}}},
			{time.Second, Fail{}, []Command{hangCaller}},
			{time.Second, CallerGone{}, left},
			{time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeFailed, HangupBy: BySystem, HangupCause: 16}}},
		}, Ended, [2]LegState{LegGone, LegNone}},
		{"failed: the router's agent left before the bridge was up", steps(answering,
			step{11 * time.Second, Hungup{Leg: AgentLeg}, nil},
			step{11 * time.Second, AgentGone{}, []Command{ReportEnded{ByAgent: true}, hangCaller}},
			step{11 * time.Second, CallerGone{}, left},
			step{11 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeFailed, HangupBy: ByAgent, HangupCause: 16, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"a PBX failure while talking hangs both legs up and stays completed", steps(talking,
			step{time.Minute, Fail{}, []Command{hangCaller, hangAgent}},
			// The caller is still there: cleared again.
			step{time.Minute, AgentGone{}, []Command{ReportEnded{ByAgent: true}, hangCaller}},
			step{time.Minute, CallerGone{}, left},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: BySystem, HangupCause: 16, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"interrupted: a forced stop while waiting", steps(waiting,
			step{time.Minute, Interrupt{}, []Command{hangCaller}},
			step{time.Minute, CallerGone{}, []Command{CallerLeft{}, ReportAbandon{}, CancelOffers{}}},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeInterrupted, HangupBy: BySystem, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"a forced stop of a call that talked: completed", steps(talking,
			step{time.Minute, Interrupt{}, []Command{hangCaller, hangAgent}},
			// The agent is still there: hung up again.
			step{time.Minute, CallerGone{}, []Command{CallerLeft{}, ReportEnded{}, CancelOffers{}, hangAgent}},
			step{time.Minute, AgentGone{}, nil},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: BySystem, HangupCause: 16, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"transferred by the flow", steps(inFlow,
			step{5 * time.Second, AgentDialed{Transfer: true}, nil},
			step{9 * time.Second, AgentAnswered{}, []Command{Bridge{Create: true}}},
			step{9 * time.Second, Bridged{}, []Command{TransferAnswered{}}},
			step{time.Minute, Hungup{Leg: AgentLeg}, nil},
			step{time.Minute, AgentGone{}, []Command{hangCaller}},
			step{time.Minute, CallerGone{}, left},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeTransferred, HangupBy: ByAgent, HangupCause: 16, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"a transfer not answered goes back to the flow", steps(inFlow,
			step{5 * time.Second, AgentDialed{Transfer: true}, nil},
			step{25 * time.Second, AgentGone{}, []Command{TransferFailed{}}},
			step{25 * time.Second, Settle{}, nil},
		), Answered, [2]LegState{LegUp, LegNone}},
		{"the caller leaves the flow: ivr", steps(steps(inFlow, callerHangs(20*time.Second, 16, CancelOffers{})...),
			step{20 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeIVR, HangupBy: ByCaller, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"the caller leaves the queue a flow chose: abandoned", cat(inFlow,
			[]step{{10 * time.Second, Queue{}, nil}, {10 * time.Second, Enqueued{}, nil}},
			callerHangs(20*time.Second, 16, ReportAbandon{}, CancelOffers{}),
			[]step{{20 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned, HangupBy: ByCaller, HangupCause: 16}}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"the flow hangs up after a voicemail", steps(inFlow,
			step{40 * time.Second, FlowHangup{Voicemail: true}, []Command{hangCaller}},
			step{40 * time.Second, CallerGone{}, left},
			step{40 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeVoicemail, HangupBy: BySystem, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"a message kept when the caller left while recording", steps(steps(inFlow, callerHangs(40*time.Second, 16, CancelOffers{})...),
			step{40 * time.Second, VoicemailKept{}, nil},
			step{40 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeVoicemail, HangupBy: ByCaller, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"a queue exit to a flow stops the music", steps(waiting,
			step{time.Minute, Exited{}, nil},
			step{time.Minute, LeftQueue{}, []Command{StopMOH{}}},
			// A queue node in the new flow takes it afresh.
			step{2 * time.Minute, Enqueued{}, nil},
			step{2 * time.Minute, Queued{}, []Command{StartMOH{}}},
			step{3 * time.Minute, CallerGone{}, []Command{CallerLeft{}, ReportAbandon{}, CancelOffers{}}},
		), Answered, [2]LegState{LegGone, LegNone}},
		{"callback requested: the confirmation, then the hang-up", steps(waiting,
			step{time.Minute, CallbackTaken{}, nil},
			step{time.Minute, Decide{Outcome: sb.OutcomeCallback, By: BySystem}, nil},
			step{time.Minute, SayAndHangUp{What: "cbconfirm"}, []Command{Say{What: "cbconfirm", StopMOH: true}}},
			step{time.Minute, HangUpCaller{}, []Command{hangCaller}},
			step{time.Minute, CallerGone{}, left}, // the router keeps the request: no abandon
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCallback, HangupBy: BySystem, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegNone}},
		{"an agent leg the router did not connect fails, then another answers", steps(waiting,
			step{10 * time.Second, AgentAnswered{}, []Command{Bridge{Create: true, StopMOH: true}}},
			step{11 * time.Second, AgentGone{}, []Command{Rehunt{}}},
			step{11 * time.Second, Settle{}, nil},
			step{20 * time.Second, AgentAnswered{}, []Command{Bridge{}}}, // the bridge is made already
			step{20 * time.Second, Bridged{}, []Command{Connected{}}},
		), Talking, [2]LegState{LegUp, LegUp}},
		{"both hang up at once: the agent's end first", steps(talking,
			step{time.Minute, Hungup{Leg: AgentLeg}, nil},
			step{time.Minute, Hungup{Leg: CallerLeg, Cause: 16}, nil},
			step{time.Minute, AgentGone{}, []Command{ReportEnded{ByAgent: true}, hangCaller}},
			step{time.Minute, CallerGone{}, left},
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: ByAgent, HangupCause: 16, DestroyBridge: true}}},
			step{time.Minute, Settle{}, nil}, // closed once
		), Ended, [2]LegState{LegGone, LegGone}},
		{"both hang up at once: the caller's end first", steps(steps(talking, callerHangs(time.Minute, 17, ReportEnded{}, CancelOffers{}, hangAgent)...),
			step{time.Minute, Hungup{Leg: AgentLeg}, nil},
			step{time.Minute, AgentGone{}, nil},
			step{time.Minute, CallerGone{}, nil}, // a second end of the same leg
			step{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: ByCaller, HangupCause: 17, DestroyBridge: true}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"the caller hangs up while the bridge is made", cat(answering,
			callerHangs(10*time.Second, 16, ReportEnded{}, CancelOffers{}, hangAgent),
			[]step{
				// Reported ended once, with the caller's end: not failed.
				{10 * time.Second, AgentGone{}, nil},
				{10 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned, HangupBy: ByCaller, HangupCause: 16, DestroyBridge: true}}},
			},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"an agent answers after the caller left: hung up, no bridge", steps(steps(waiting, callerHangs(10*time.Second, 16, ReportAbandon{}, CancelOffers{})...),
			step{11 * time.Second, AgentAnswered{}, []Command{hangAgent}},
			step{11 * time.Second, AgentGone{}, nil},
			step{11 * time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned, HangupBy: ByCaller, HangupCause: 16}}},
		), Ended, [2]LegState{LegGone, LegGone}},
		{"adopted talking at a restart, its recordings checked once, then it ends", []step{
			{0, Adopted{Bridge: true, Agent: true}, nil},
			{0, Routed{}, nil}, // the router took it up
			{time.Second, RecordingsRecovered{}, []Command{StartRecordings{}}},
			{2 * time.Second, RecordingsRecovered{}, nil},
			{time.Minute, Hungup{Leg: AgentLeg}, nil},
			{time.Minute, AgentGone{}, []Command{ReportEnded{ByAgent: true}, hangCaller}},
			{time.Minute, CallerGone{}, left},
			{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: ByAgent, HangupCause: 16, DestroyBridge: true}}},
		}, Ended, [2]LegState{LegGone, LegGone}},
		{"adopted talking but gone since the listing: no recordings", []step{
			{0, Adopted{Bridge: true, Agent: true, Gone: true}, nil},
			{time.Second, RecordingsRecovered{}, nil},
		}, Talking, [2]LegState{LegUp, LegUp}},
		{"adopted waiting", []step{
			{0, Adopted{}, nil},
			{time.Second, Queued{}, []Command{StartMOH{}}},
		}, Answered, [2]LegState{LegUp, LegNone}},
		{"an agent-first call placed and forgotten", []step{
			{0, AgentDialed{}, nil},
			{5 * time.Second, AgentUp{}, nil},
			{20 * time.Second, CallerGone{Placing: true}, nil},
			{20 * time.Second, AgentGone{Placing: true}, nil},
			{20 * time.Second, Forget{}, nil},
			{20 * time.Second, Settle{}, nil}, // no row
		}, Ended, [2]LegState{LegGone, LegGone}},
		{"an agent-first call connected ends as an ordinary call", []step{
			{0, AgentDialed{}, nil},
			{5 * time.Second, AgentUp{}, nil},
			{12 * time.Second, Routed{}, nil},
			{12 * time.Second, Connect{}, []Command{Bridge{Create: true}}},
			{12 * time.Second, Bridged{}, []Command{Connected{}}},
			{time.Minute, Hungup{Leg: CallerLeg, Cause: 16}, nil},
			{time.Minute, CallerGone{}, []Command{CallerLeft{}, ReportEnded{}, CancelOffers{}, hangAgent}},
			{time.Minute, AgentGone{}, nil},
			{time.Minute, Settle{}, []Command{Close{Outcome: sb.OutcomeCompleted, HangupBy: ByCaller, HangupCause: 16, DestroyBridge: true}}},
		}, Ended, [2]LegState{LegGone, LegGone}},
		{"the caller gone before the answer is confirmed", []step{
			{0, Enter{}, []Command{Answer{}}},
			{0, CallerGone{}, left},
			{time.Second, AnswerDone{}, nil},
			{time.Second, Settle{}, []Command{Close{Outcome: sb.OutcomeAbandoned}}},
			{2 * time.Second, Hungup{Leg: CallerLeg, Cause: 16}, nil}, // over: nothing changes
		}, Ended, [2]LegState{LegGone, LegNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			for i, s := range tt.steps {
				got := c.Apply(s.e, t0.Add(s.at))
				if !reflect.DeepEqual(got, s.want) {
					t.Fatalf("step %d %T%+v: got %#v, want %#v", i, s.e, s.e, got, s.want)
				}
			}
			if got := c.State(); got != tt.wantState {
				t.Errorf("state: got %v, want %v", got, tt.wantState)
			}
			caller := LegUp
			if c.CallerGone() {
				caller = LegGone
			}
			if got := [2]LegState{caller, c.Agent()}; got != tt.wantLegs {
				t.Errorf("legs: got %v, want %v", got, tt.wantLegs)
			}
		})
	}
}

func TestLive(t *testing.T) {
	c := New()
	c.Apply(Enter{}, t0)
	if !c.Live() {
		t.Fatal("a new call is live")
	}
	c.Apply(Decide{Outcome: sb.OutcomeNoAgent, By: BySystem}, t0)
	if c.Live() || !c.Decided() {
		t.Fatal("a call whose end is decided is not live")
	}
	if got := State(42).String(); got != "State(42)" {
		t.Errorf("got %q", got)
	}
	if got := Talking.String(); got != "talking" {
		t.Errorf("got %q", got)
	}
}
