package obcall_test

import (
	"reflect"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/obcall"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// step is one event at an offset from t0 and what it must give.
type step struct {
	at   time.Duration
	ev   obcall.Event
	want []obcall.Command
	// state is where the call must be after the event.
	state obcall.State
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func dialed(status string) obcall.Dialed {
	return obcall.Dialed{Result: sb.DialResult{Status: status}}
}

const ms = time.Millisecond

// run feeds the steps to a call made with p, checking each.
func run(t *testing.T, p obcall.Plan, steps []step) {
	t.Helper()
	c := obcall.New(p)
	for i, s := range steps {
		got := c.Apply(s.ev, at(s.at))
		if !reflect.DeepEqual(got, s.want) {
			t.Errorf("step %d %T%+v:\n got  %#v\n want %#v", i, s.ev, s.ev, got, s.want)
		}
		if c.State() != s.state {
			t.Errorf("step %d %T: state %v, want %v", i, s.ev, c.State(), s.state)
		}
	}
}

// answered is a predictive call that rings, answers and is back from AMD
// with HUMAN at 5 s: queued first, its window running.
func answered(window time.Duration) []step {
	return []step{
		{0, obcall.Placed{}, nil, obcall.Ringing},
		{ms, dialed("RINGING"), nil, obcall.Ringing},
		{4 * time.Second, dialed("ANSWER"), nil, obcall.Ringing},
		{4 * time.Second, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
		{5 * time.Second, obcall.AMDResult{Status: "HUMAN"}, []obcall.Command{
			obcall.ReportAnswered{At: at(5 * time.Second)},
			obcall.StartWindow{After: window},
			obcall.Enqueue{Priority: obcall.FirstPriority},
			obcall.Rebalance{},
		}, obcall.Waiting},
	}
}

func TestCallTransitions(t *testing.T) {
	amd := obcall.Plan{AMD: true, MachineMessage: "sound:vm-hello,sound:vm-offer", AbandonMessage: "sound:sorry", StoreConnect: true}
	noStore := amd
	noStore.StoreConnect = false
	noMessages := obcall.Plan{AMD: true}
	cases := []struct {
		name  string
		plan  obcall.Plan
		steps []step
	}{
		{"human, an agent within the window: connected, then answered", amd, append(answered(obcall.DefaultWindow),
			step{6500 * ms, obcall.AgentAnswered{Agent: "a1"}, []obcall.Command{
				obcall.StopWindow{}, obcall.StoreConnect{Agent: "a1", At: at(6500 * ms)},
			}, obcall.Connected},
			step{6600 * ms, obcall.Bridged{Agent: "a1"}, nil, obcall.Connected},
			step{7 * time.Second, obcall.WindowFired{}, nil, obcall.Connected}, // a late fire changes nothing
			step{90 * time.Second, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAnswered, At: at(90 * time.Second)},
			}, obcall.Ended},
			step{91 * time.Second, obcall.Finished{}, nil, obcall.Ended},
		)},
		{"human, no connector: reported connected once bridged", noStore, append(answered(obcall.DefaultWindow),
			step{6500 * ms, obcall.AgentAnswered{Agent: "a1"}, nil, obcall.Answering},
			step{7 * time.Second, obcall.WindowFired{}, nil, obcall.Answering}, // the agent answered: no abandon
			step{7100 * ms, obcall.Bridged{Agent: "a1"}, []obcall.Command{
				obcall.StopWindow{}, obcall.ReportConnected{Agent: "a1", At: at(7100 * ms)},
			}, obcall.Connected},
			step{60 * time.Second, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAnswered, At: at(60 * time.Second)},
			}, obcall.Ended},
		)},
		{"human, no agent within the window: abandon message, hang-up, abandoned", amd, append(answered(obcall.DefaultWindow),
			step{7 * time.Second, obcall.WindowFired{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Abandon{Media: []string{"sound:sorry"}},
			}, obcall.Abandoning},
			step{7 * time.Second, obcall.AgentAnswered{Agent: "a1"}, nil, obcall.Abandoning}, // too late
			step{9 * time.Second, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAbandoned, At: at(9 * time.Second)},
			}, obcall.Ended},
		)},
		{"human, no abandon message: hung up at once", noMessages, append(answered(obcall.DefaultWindow),
			step{7 * time.Second, obcall.WindowFired{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Abandon{},
			}, obcall.Abandoning},
		)},
		{"a configured window", obcall.Plan{AMD: true, Window: 3 * time.Second}, answered(3 * time.Second)},
		{"hang-up during the window: abandoned, no abandon message", amd, append(answered(obcall.DefaultWindow),
			step{6 * time.Second, obcall.HungUp{}, []obcall.Command{obcall.StopWindow{}}, obcall.Gone},
			step{7 * time.Second, obcall.WindowFired{}, nil, obcall.Gone},
			step{7 * time.Second, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAbandoned, At: at(7 * time.Second)},
			}, obcall.Ended},
		)},
		{"the router gives it up: abandoned at once", amd, append(answered(obcall.DefaultWindow),
			step{5500 * ms, obcall.QueueExit{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Abandon{Media: []string{"sound:sorry"}},
			}, obcall.Abandoning},
			step{7 * time.Second, obcall.WindowFired{}, nil, obcall.Abandoning},
		)},
		{"NOTSURE is taken for a person", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{3 * time.Second, obcall.AMDResult{Status: "NOTSURE"}, []obcall.Command{
				obcall.ReportAnswered{At: at(3 * time.Second)},
				obcall.StartWindow{After: obcall.DefaultWindow},
				obcall.Enqueue{Priority: obcall.FirstPriority},
				obcall.Rebalance{},
			}, obcall.Waiting},
		}},
		{"no AMD: a person at once", obcall.Plan{}, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Entered{}, []obcall.Command{
				obcall.ReportAnswered{At: at(time.Second)},
				obcall.StartWindow{After: obcall.DefaultWindow},
				obcall.Enqueue{Priority: obcall.FirstPriority},
				obcall.Rebalance{},
			}, obcall.Waiting},
		}},
		{"machine: beep, machine message, hang-up, ended machine", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, dialed("ANSWER"), nil, obcall.Ringing},
			{time.Second, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{4 * time.Second, obcall.AMDResult{Status: "machine"}, []obcall.Command{obcall.Rebalance{}, obcall.ContinueBeep{}}, obcall.Machine},
			{9 * time.Second, obcall.Beep{}, []obcall.Command{
				obcall.PlayMachineMessage{Media: []string{"sound:vm-hello", "sound:vm-offer"}},
			}, obcall.Message},
			{20 * time.Second, obcall.MessagePlayed{}, []obcall.Command{obcall.HangUp{}}, obcall.Message},
			{20 * time.Second, obcall.Destroyed{Cause: 16}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialMachine, At: at(20 * time.Second)},
			}, obcall.Ended},
		}},
		{"machine, no machine message: hung up at once", noMessages, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{4 * time.Second, obcall.AMDResult{Status: "MACHINE"}, []obcall.Command{obcall.Rebalance{}, obcall.HangUp{}}, obcall.Machine},
			{4 * time.Second, obcall.Beep{}, []obcall.Command{obcall.HangUp{}}, obcall.Machine},
			{4 * time.Second, obcall.Destroyed{Cause: 16}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialMachine, At: at(4 * time.Second)},
			}, obcall.Ended},
		}},
		{"busy by its Dial status", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, dialed("BUSY"), nil, obcall.Ringing},
			{time.Second, obcall.Destroyed{Cause: 16}, []obcall.Command{ // a Local channel's cause says nothing
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialBusy, At: at(time.Second)},
			}, obcall.Ended},
		}},
		{"no answer", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{30 * time.Second, dialed("NOANSWER"), nil, obcall.Ringing},
			{30 * time.Second, obcall.Destroyed{}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialNoAnswer, At: at(30 * time.Second)},
			}, obcall.Ended},
		}},
		{"invalid number by the destroyed cause", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Destroyed{Cause: 1}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialInvalid, At: at(time.Second)},
			}, obcall.Ended},
		}},
		{"congestion: failed", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, dialed("CONGESTION"), nil, obcall.Ringing},
			{time.Second, obcall.Destroyed{}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialFailed, At: at(time.Second)},
			}, obcall.Ended},
		}},
		{"the hang-up request's cause when nothing else tells", amd, []step{
			{0, obcall.HangupAsked{Request: sb.HangupRequested{Cause: 17}}, nil, obcall.Dialing},
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Destroyed{}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialBusy, At: at(time.Second)},
			}, obcall.Ended},
		}},
		{"answered, gone before a person came: the dialplan's record says abandoned", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, dialed("ANSWER"), nil, obcall.Ringing},
			{2 * time.Second, obcall.Destroyed{Cause: 16}, []obcall.Command{obcall.ReadUnattended{}}, obcall.Unheard},
			{2 * time.Second, obcall.Destroyed{Cause: 16}, nil, obcall.Unheard}, // no second report
			{3 * time.Second, obcall.RecordRead{Record: &sb.Unattended{At: t0}}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialAbandoned, Unattended: &sb.Unattended{At: t0}, At: at(3 * time.Second)},
			}, obcall.Ended},
		}},
		{"answered, gone in AMD, no record: by its cause", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, dialed("ANSWER"), nil, obcall.Ringing},
			{time.Second, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{2 * time.Second, obcall.Destroyed{Cause: 16}, []obcall.Command{obcall.ReadUnattended{}}, obcall.Unheard},
			{2 * time.Second, obcall.RecordRead{}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialNoAnswer, At: at(2 * time.Second)},
			}, obcall.Ended},
		}},
		{"answered while nobody was connected, a machine by the record", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, dialed("ANSWER"), nil, obcall.Ringing},
			{2 * time.Second, obcall.Destroyed{}, []obcall.Command{obcall.ReadUnattended{}}, obcall.Unheard},
			{2 * time.Second, obcall.RecordRead{Record: &sb.Unattended{Machine: true}}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialMachine, Unattended: &sb.Unattended{Machine: true}, At: at(2 * time.Second)},
			}, obcall.Ended},
		}},
		{"lost from a listing after a reconnect, playing the machine message: a no answer unless the record says", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{2 * time.Second, obcall.AMDResult{Status: "MACHINE"}, []obcall.Command{obcall.Rebalance{}, obcall.ContinueBeep{}}, obcall.Machine},
			{3 * time.Second, obcall.Beep{}, []obcall.Command{obcall.PlayMachineMessage{Media: []string{"sound:vm-hello", "sound:vm-offer"}}}, obcall.Message},
			{4 * time.Second, obcall.Lost{}, []obcall.Command{obcall.ReadUnattended{}}, obcall.Unheard},
			{4 * time.Second, obcall.MessagePlayed{}, nil, obcall.Unheard},
			{5 * time.Second, obcall.RecordRead{}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialNoAnswer, At: at(5 * time.Second)},
			}, obcall.Ended},
		}},
		{"lost from a listing after a reconnect: a no answer unless the record says", amd, []step{
			{0, obcall.Placed{}, nil, obcall.Ringing},
			{time.Second, obcall.Lost{}, []obcall.Command{obcall.ReadUnattended{}}, obcall.Unheard},
			{time.Second, obcall.RecordRead{}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialNoAnswer, At: at(time.Second)},
			}, obcall.Ended},
		}},
		{"the originate refused: forgotten, nothing reported", amd, []step{
			{0, obcall.OriginateFailed{}, []obcall.Command{obcall.Rebalance{}}, obcall.Ended},
			{0, obcall.Placed{}, nil, obcall.Ended},
		}},
		{"the originate's answer after its first events", amd, []step{
			{0, dialed("ANSWER"), nil, obcall.Dialing},
			{0, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{0, obcall.Placed{}, nil, obcall.AMD},
		}},
		{"stray entries are hung up", amd, append(answered(obcall.DefaultWindow),
			step{6 * time.Second, obcall.Entered{}, []obcall.Command{obcall.HangUp{}}, obcall.Waiting},
			step{6 * time.Second, obcall.AMDResult{Status: "HUMAN"}, []obcall.Command{obcall.HangUp{}}, obcall.Waiting},
			step{6 * time.Second, obcall.Beep{}, []obcall.Command{obcall.HangUp{}}, obcall.Waiting},
			step{6 * time.Second, obcall.Destroyed{Cause: 16}, nil, obcall.Waiting}, // the call's own events end it
		)},
		{"preview: the customer answers, the agent talks", obcall.Plan{Preview: "a7", StoreConnect: true}, []step{
			{0, obcall.Placed{}, nil, obcall.Preview},
			{12 * time.Second, obcall.CustomerAnswered{}, []obcall.Command{obcall.ReportAnswered{At: at(12 * time.Second)}}, obcall.Answering},
			{12 * time.Second, obcall.AgentAnswered{Agent: "a7"}, []obcall.Command{
				obcall.StopWindow{}, obcall.StoreConnect{Agent: "a7", At: at(12 * time.Second)},
			}, obcall.Connected},
			{12 * time.Second, obcall.Bridged{Agent: "a7"}, nil, obcall.Connected},
			{80 * time.Second, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.ReadyAgent{Agent: "a7"}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAnswered, At: at(80 * time.Second)},
			}, obcall.Ended},
		}},
		{"preview: the customer is busy", obcall.Plan{Preview: "a7"}, []step{
			{20 * time.Second, obcall.PreviewGone{Outcome: sb.DialBusy}, []obcall.Command{
				obcall.ReadyAgent{Agent: "a7"}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialBusy, At: at(20 * time.Second)},
			}, obcall.Ended},
		}},
		{"preview: the agent does not answer", obcall.Plan{Preview: "a7"}, []step{
			{20 * time.Second, obcall.PreviewGone{Outcome: sb.DialFailed}, []obcall.Command{
				obcall.ReadyAgent{Agent: "a7"}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialFailed, At: at(20 * time.Second)},
			}, obcall.Ended},
		}},
		{"adopted after a restart, then back from AMD", amd, []step{
			{0, obcall.Resumed{}, nil, obcall.Ringing},
			{time.Second, obcall.AMDResult{Status: "HUMAN"}, []obcall.Command{
				obcall.ReportAnswered{At: at(time.Second)},
				obcall.StartWindow{After: obcall.DefaultWindow},
				obcall.Enqueue{Priority: obcall.FirstPriority},
				obcall.Rebalance{},
			}, obcall.Waiting},
		}},
		{"adopted after a restart, gone in AMD: by its cause (no answer seen by this run)", amd, []step{
			{0, obcall.Resumed{}, nil, obcall.Ringing},
			{0, obcall.Entered{}, []obcall.Command{obcall.ContinueAMD{}}, obcall.AMD},
			{time.Second, obcall.Destroyed{Cause: 16}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialNoAnswer, At: at(time.Second)},
			}, obcall.Ended},
		}},
		{"adopted after a restart, gone while its Dial was looked up", amd, []step{
			{0, obcall.Resumed{Gone: true, Destroyed: 17}, []obcall.Command{
				obcall.Rebalance{}, obcall.ReportEnded{Outcome: sb.DialBusy, At: at(0)},
			}, obcall.Ended},
		}},
		{"found talking after a restart: connected, then answered", obcall.Plan{}, []step{
			{0, obcall.AdoptedTalking{Agent: "a2"}, []obcall.Command{obcall.ReportConnected{Agent: "a2", At: at(0)}}, obcall.Connected},
			{time.Minute, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAnswered, At: at(time.Minute)},
			}, obcall.Ended},
		}},
		{"found waiting after a restart: abandoned", obcall.Plan{}, []step{
			{0, obcall.AdoptedWaiting{}, nil, obcall.Abandoning},
			{time.Second, obcall.Finished{}, []obcall.Command{
				obcall.StopWindow{}, obcall.Rebalance{},
				obcall.ReportEnded{Outcome: sb.DialAbandoned, At: at(time.Second)},
			}, obcall.Ended},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.plan, tc.steps) })
	}
}

// TestWantsAgentAndListed: a line holds an agent while it rings or runs
// AMD; a listing must show it from the PBX's taking it until a person is
// on it or its end is being reported.
func TestWantsAgentAndListed(t *testing.T) {
	amd := obcall.Plan{AMD: true, MachineMessage: "sound:x"}
	type view struct {
		state        obcall.State
		wants, shown bool
	}
	cases := []struct {
		name   string
		plan   obcall.Plan
		events []obcall.Event
		want   []view
	}{
		{"person", amd, []obcall.Event{obcall.Placed{}, obcall.Entered{}, obcall.AMDResult{Status: "HUMAN"}, obcall.Finished{}},
			[]view{{obcall.Ringing, true, true}, {obcall.AMD, true, true}, {obcall.Waiting, false, false}, {obcall.Ended, false, false}}},
		{"machine", amd, []obcall.Event{obcall.Placed{}, obcall.Entered{}, obcall.AMDResult{Status: "MACHINE"}, obcall.Beep{}, obcall.Destroyed{}},
			[]view{{obcall.Ringing, true, true}, {obcall.AMD, true, true}, {obcall.Machine, false, true}, {obcall.Message, false, true}, {obcall.Ended, false, false}}},
		{"unheard", amd, []obcall.Event{dialed("ANSWER"), obcall.Placed{}, obcall.Destroyed{}},
			[]view{{obcall.Dialing, true, false}, {obcall.Ringing, true, true}, {obcall.Unheard, false, false}}},
		{"preview", obcall.Plan{Preview: "a1"}, []obcall.Event{obcall.Placed{}, obcall.CustomerAnswered{}},
			[]view{{obcall.Preview, false, false}, {obcall.Answering, false, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := obcall.New(tc.plan)
			if !c.WantsAgent() && tc.plan.Preview == "" {
				t.Errorf("a new line does not want an agent")
			}
			for i, ev := range tc.events {
				c.Apply(ev, t0)
				got := view{c.State(), c.WantsAgent(), c.Listed()}
				if got != tc.want[i] {
					t.Errorf("after %T: %+v, want %+v", ev, got, tc.want[i])
				}
			}
		})
	}
}

// TestEndedIgnoresEverything: once ended, no event gives a command.
func TestEndedIgnoresEverything(t *testing.T) {
	events := []obcall.Event{
		obcall.Placed{}, obcall.OriginateFailed{}, dialed("ANSWER"), obcall.HangupAsked{}, obcall.Destroyed{},
		obcall.Lost{}, obcall.RecordRead{}, obcall.Entered{}, obcall.AMDResult{Status: "HUMAN"}, obcall.Beep{},
		obcall.MessagePlayed{}, obcall.AgentAnswered{}, obcall.Bridged{}, obcall.WindowFired{}, obcall.QueueExit{},
		obcall.HungUp{}, obcall.Finished{}, obcall.CustomerAnswered{}, obcall.PreviewGone{}, obcall.Resumed{},
		obcall.AdoptedTalking{}, obcall.AdoptedWaiting{},
	}
	c := obcall.New(obcall.Plan{AMD: true})
	c.Apply(obcall.Destroyed{Cause: 17}, t0)
	for _, ev := range events {
		if got := c.Apply(ev, t0); got != nil || c.State() != obcall.Ended {
			t.Errorf("%T after the end: %v, state %v", ev, got, c.State())
		}
	}
}

func TestOutcomes(t *testing.T) {
	if got := obcall.UnattendedOutcome(nil, sb.DialBusy); got != sb.DialBusy {
		t.Errorf("no record: %s", got)
	}
	if got := obcall.UnattendedOutcome(&sb.Unattended{}, sb.DialNoAnswer); got != sb.DialAbandoned {
		t.Errorf("a person's record: %s", got)
	}
	if got := obcall.UnattendedOutcome(&sb.Unattended{Machine: true}, sb.DialNoAnswer); got != sb.DialMachine {
		t.Errorf("a machine's record: %s", got)
	}
	for status, want := range map[string]sb.DialOutcome{"": sb.DialAbandoned, "HUMAN": sb.DialAbandoned, "MACHINE": sb.DialMachine, "machine": sb.DialMachine} {
		if got := obcall.UnadoptedOutcome(status); got != want {
			t.Errorf("UnadoptedOutcome(%q) = %s, want %s", status, got, want)
		}
	}
	if got := obcall.State(99).String(); got != "State(99)" {
		t.Errorf("unknown state: %s", got)
	}
	if got := obcall.Abandoning.String(); got != "abandoning" {
		t.Errorf("Abandoning: %s", got)
	}
}
