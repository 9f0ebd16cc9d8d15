package recording

import (
	"errors"
	"reflect"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

var (
	t0    = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	watch = EndWatch{Wait: 5 * time.Second, Rounds: 3}
)

// step is one event fed at t0+at, and the commands it must return.
type step struct {
	at   time.Duration
	e    LiveEvent
	want []LiveCommand
}

// ended is the Close a recording started at t0 gives when it ends at
// t0+at with duration d, failure and note.
func ended(r Recording, at, d time.Duration, failure, note string) Close {
	r.Ended, r.Duration = sb.SomeTime(t0.Add(at)), d
	return Close{Row: r, Failure: failure, Note: note}
}

func mixed() Recording {
	return Recording{Name: NameFor("c1", LegMixed, 1), CallID: "c1", Queue: "sales", Agent: "1001", Caller: "+15551234567",
		Started: t0, Created: t0, State: StateRecording}
}

func run(t *testing.T, l *Live, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := l.Step(s.e, t0.Add(s.at))
		if !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d %T%+v:\n got %#v\nwant %#v", i, s.e, s.e, got, s.want)
		}
	}
}

func TestLive(t *testing.T) {
	rec := mixed()
	paused := rec
	paused.Pauses = Pauses{{Start: t0.Add(10 * time.Second)}}
	resumed := rec
	resumed.Pauses = Pauses{{Start: t0.Add(10 * time.Second), End: t0.Add(20 * time.Second)}}
	closedPause := rec
	closedPause.Pauses = Pauses{{Start: t0.Add(10 * time.Second), End: t0.Add(30 * time.Second)}}
	stillLive := StopPBX{Why: "recording still live after its call ended: stopping it"}
	noAnswer := errors.New("timeout")

	tests := []struct {
		name      string
		steps     []step
		wantPhase LivePhase
	}{
		{"finished: fetch", []step{
			{0, Open{}, []LiveCommand{SaveRow{Row: rec, Insert: true}, Record{Leg: LegMixed}}},
			{time.Second, Started{}, nil},
			{time.Minute, Finished{Duration: 59 * time.Second}, []LiveCommand{ended(rec, time.Minute, 59*time.Second, "", "")}},
			{time.Minute, Finished{}, nil}, // ended is final
			{time.Minute, CallOver{}, nil},
		}, LiveEnded},
		{"start failed", []step{
			{0, Open{}, []LiveCommand{SaveRow{Row: rec, Insert: true}, Record{Leg: LegMixed}}},
			{0, StartFailed{Err: errors.New("409")}, []LiveCommand{ended(rec, 0, 0, "start: 409", "")}},
		}, LiveEnded},
		{"the PBX reports a failure", []step{
			{0, Started{}, nil},
			{time.Second, Failed{Cause: "disk full"}, []LiveCommand{ended(rec, time.Second, 0, "the PBX reported a failure: disk full", "")}},
		}, LiveEnded},
		{"pause and resume", []step{
			{0, Started{}, nil},
			{10 * time.Second, PauseReq{}, []LiveCommand{PausePBX{Pause: true}, SaveRow{Row: paused}}},
			{15 * time.Second, PauseReq{}, []LiveCommand{Refused{Err: sb.Errorf(sb.ECONFLICT, "recording is already paused since %s", t0.Add(10*time.Second).Format(time.RFC3339))}}},
			{20 * time.Second, ResumeReq{}, []LiveCommand{PausePBX{Pause: false}, SaveRow{Row: resumed}}},
			{25 * time.Second, ResumeReq{}, []LiveCommand{Refused{Err: sb.Errorf(sb.ECONFLICT, "recording is not paused")}}},
		}, LiveRecording},
		{"ends while paused: the pause is closed", []step{
			{0, Started{}, nil},
			{10 * time.Second, PauseReq{}, []LiveCommand{PausePBX{Pause: true}, SaveRow{Row: paused}}},
			{30 * time.Second, Finished{Duration: 10 * time.Second}, []LiveCommand{ended(closedPause, 30*time.Second, 10*time.Second, "", "")}},
		}, LiveEnded},
		{"stop: the end comes as Finished", []step{
			{0, Started{}, nil},
			{10 * time.Second, StopReq{}, []LiveCommand{StopPBX{}}},
			{11 * time.Second, Finished{Duration: 11 * time.Second}, []LiveCommand{ended(rec, 11*time.Second, 11*time.Second, "", "")}},
		}, LiveEnded},
		{"call over, then finished within the wait", []step{
			{0, Started{}, nil},
			{time.Minute, CallOver{}, []LiveCommand{WaitEnd{Round: 1, After: 5 * time.Second}}},
			{time.Minute, CallOver{}, nil}, // watched once
			{time.Minute + time.Second, Finished{Duration: time.Minute}, []LiveCommand{ended(rec, time.Minute+time.Second, time.Minute, "", "")}},
			{time.Minute + 5*time.Second, WaitOver{Round: 1}, nil},
		}, LiveEnded},
		{"no finished event: the PBX no longer records it", []step{
			{0, Started{}, nil},
			{time.Minute, CallOver{}, []LiveCommand{WaitEnd{Round: 1, After: 5 * time.Second}}},
			{time.Minute + 5*time.Second, WaitOver{Round: 1}, []LiveCommand{AskPBX{Round: 1}}},
			{time.Minute + 6*time.Second, Checked{Round: 1}, []LiveCommand{ended(rec, time.Minute+6*time.Second, 0, "", "recording ended without RecordingFinished")}},
		}, LiveEnded},
		{"still live: stop and ask again, then gone", []step{
			{0, Started{}, nil},
			{time.Minute, CallOver{}, []LiveCommand{WaitEnd{Round: 1, After: 5 * time.Second}}},
			{time.Minute + 5*time.Second, WaitOver{Round: 1}, []LiveCommand{AskPBX{Round: 1}}},
			{time.Minute + 5*time.Second, Checked{Round: 1, Live: true}, []LiveCommand{stillLive, WaitEnd{Round: 2, After: 10 * time.Second}}},
			{time.Minute + 5*time.Second, Checked{Round: 1, Live: false}, nil}, // a stale answer
			{time.Minute + 15*time.Second, WaitOver{Round: 1}, nil},            // a stale timer
			{time.Minute + 15*time.Second, WaitOver{Round: 2}, []LiveCommand{AskPBX{Round: 2}}},
			{time.Minute + 15*time.Second, Checked{Round: 2}, []LiveCommand{ended(rec, time.Minute+15*time.Second, 0, "", "recording ended without RecordingFinished")}},
		}, LiveEnded},
		{"still live after the last round: failed", []step{
			{0, Started{}, nil},
			{time.Minute, CallOver{}, []LiveCommand{WaitEnd{Round: 1, After: 5 * time.Second}}},
			{time.Minute + 5*time.Second, WaitOver{Round: 1}, []LiveCommand{AskPBX{Round: 1}}},
			{time.Minute + 5*time.Second, Checked{Round: 1, Live: true}, []LiveCommand{stillLive, WaitEnd{Round: 2, After: 10 * time.Second}}},
			{time.Minute + 15*time.Second, WaitOver{Round: 2}, []LiveCommand{AskPBX{Round: 2}}},
			{time.Minute + 15*time.Second, Checked{Round: 2, Err: noAnswer}, []LiveCommand{WaitEnd{Round: 3, After: 10 * time.Second}}},
			{time.Minute + 25*time.Second, WaitOver{Round: 3}, []LiveCommand{AskPBX{Round: 3}}},
			{time.Minute + 25*time.Second, Checked{Round: 3, Live: true}, []LiveCommand{ended(rec, time.Minute+25*time.Second, 0,
				"the PBX went on recording after the call ended and did not stop when told", "")}},
		}, LiveEnded},
		{"no answer in the last round: failed with the error", []step{
			{0, Started{}, nil},
			{time.Minute, CallOver{}, []LiveCommand{WaitEnd{Round: 1, After: 5 * time.Second}}},
			{time.Minute + 5*time.Second, WaitOver{Round: 1}, []LiveCommand{AskPBX{Round: 1}}},
			{time.Minute + 5*time.Second, Checked{Round: 1, Err: noAnswer}, []LiveCommand{WaitEnd{Round: 2, After: 10 * time.Second}}},
			{time.Minute + 15*time.Second, WaitOver{Round: 2}, []LiveCommand{AskPBX{Round: 2}}},
			{time.Minute + 15*time.Second, Checked{Round: 2, Err: noAnswer}, []LiveCommand{WaitEnd{Round: 3, After: 10 * time.Second}}},
			{time.Minute + 25*time.Second, WaitOver{Round: 3}, []LiveCommand{AskPBX{Round: 3}}},
			{time.Minute + 25*time.Second, Checked{Round: 3, Err: noAnswer}, []LiveCommand{ended(rec, time.Minute+25*time.Second, 0,
				"the PBX did not say whether it still records after its call ended: timeout", "")}},
		}, LiveEnded},
		{"a call over while starting is watched too", []step{
			{0, CallOver{}, []LiveCommand{WaitEnd{Round: 1, After: 5 * time.Second}}},
			{time.Second, Started{}, nil},
			{5 * time.Second, WaitOver{Round: 1}, []LiveCommand{AskPBX{Round: 1}}},
		}, LiveRecording},
		{"gone at a link-up", []step{
			{0, Started{}, nil},
			{time.Minute, Gone{Why: "recording ended while the PBX link was down"}, []LiveCommand{ended(rec, time.Minute, 0, "", "recording ended while the PBX link was down")}},
		}, LiveEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLive(Recording{Name: rec.Name, CallID: "c1", Queue: "sales", Agent: "1001", Caller: "+15551234567"}, watch, t0)
			if l.Phase() != LiveStarting || l.Known() {
				t.Fatalf("new: phase %v, known %v", l.Phase(), l.Known())
			}
			run(t, l, tt.steps)
			if got := l.Phase(); got != tt.wantPhase {
				t.Errorf("phase = %v, want %v", got, tt.wantPhase)
			}
		})
	}
}

func TestLiveReopen(t *testing.T) {
	row := mixed()
	row.ID = 7
	stopping := StopPBX{Answer: true, Why: "recording of a call that is over: stopping it"}
	tests := []struct {
		name  string
		steps []step
	}{
		{"live with its adopted call: attached", []step{
			{0, Recovered{Live: true, CallLive: true}, []LiveCommand{Attach{}}},
			{time.Minute, Finished{Duration: time.Minute}, []LiveCommand{ended(row, time.Minute, time.Minute, "", "")}},
		}},
		{"live, its call gone: stopped", []step{
			{0, Recovered{Live: true}, []LiveCommand{stopping}},
			{time.Second, Stopped{}, []LiveCommand{ended(row, time.Second, 0, "", "")}},
		}},
		{"stopped, but the stop refused: failed", []step{
			{0, Recovered{Live: true}, []LiveCommand{stopping}},
			{time.Second, Stopped{Err: errors.New("409")}, []LiveCommand{ended(row, time.Second, 0, "stop after a restart: 409", "")}},
		}},
		{"its Finished before the stop's answer", []step{
			{0, Recovered{Live: true}, []LiveCommand{stopping}},
			{time.Second, Finished{Duration: time.Minute}, []LiveCommand{ended(row, time.Second, time.Minute, "", "")}},
			{2 * time.Second, Stopped{}, nil},
		}},
		{"finished while down", []step{
			{0, Recovered{}, []LiveCommand{ended(row, 0, 0, "", "recording finished while Switchboard was down")}},
		}},
		{"a sweep's: no longer made", []step{
			{0, Recovered{Sweep: true}, []LiveCommand{ended(row, 0, 0, "", "recording still marked recording that the PBX no longer makes")}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Reopen(row, watch)
			if !l.Known() {
				t.Fatal("a reopened recording is not known to the PBX")
			}
			run(t, l, tt.steps)
		})
	}
}

func TestBegin(t *testing.T) {
	tmpl := Recording{CallID: "c1", Queue: "sales", Campaign: "spring", Agent: "1001", Caller: "+15551234567"}
	tests := []struct {
		name string
		p    Policy
		seq  int
		want []Leg
	}{
		{"mixed only", Policy{Mode: ModeAlways}, 0, []Leg{LegMixed}},
		{"per leg", Policy{Mode: ModeAlways, PerLeg: true}, 0, []Leg{LegMixed, LegCaller, LegAgent}},
		{"numbered after earlier recordings", Policy{Mode: ModeOnDemand}, 2, []Leg{LegMixed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lives := Begin(tt.p, tmpl, tt.seq, watch, t0)
			if len(lives) != len(tt.want) {
				t.Fatalf("got %d recordings, want %d", len(lives), len(tt.want))
			}
			for i, l := range lives {
				want := tmpl
				want.Name, want.Leg = NameFor("c1", tt.want[i], tt.seq+i+1), tt.want[i]
				want.Started, want.Created, want.State = t0, t0, StateRecording
				if !reflect.DeepEqual(l.Rec, want) || l.Phase() != LiveStarting {
					t.Errorf("recording %d = %+v (%v), want %+v starting", i, l.Rec, l.Phase(), want)
				}
			}
		})
	}
}

func TestFinal(t *testing.T) {
	r := mixed()
	if got := Final(r, ""); got.State != StateStored || got.Error != "" {
		t.Errorf("stored = %+v", got)
	}
	if got := Final(r, "fetch: 404"); got.State != StateFailed || got.Error != "fetch: 404" {
		t.Errorf("failed = %+v", got)
	}
}

func TestAgentKeys(t *testing.T) {
	yes, no := true, false
	always := Policy{Mode: ModeAlways}
	tests := []struct {
		name string
		p    Policy
		keys string
		want []KeyRequest // after each key
		code string       // the last key's error, "" for none
	}{
		{"on-demand may stop", Policy{Mode: ModeOnDemand}, "*4", []KeyRequest{KeyNone, KeyStop}, ""},
		{"on-demand may pause", Policy{Mode: ModeOnDemand}, "*1", []KeyRequest{KeyNone, KeyPause}, ""},
		{"always refuses stop", always, "*4", []KeyRequest{KeyNone, KeyNone}, sb.EFORBIDDEN},
		{"always refuses pause", always, "*1", []KeyRequest{KeyNone, KeyNone}, sb.EFORBIDDEN},
		{"agent_may_stop lets always stop", Policy{Mode: ModeAlways, AgentMayStop: &yes}, "*4", []KeyRequest{KeyNone, KeyStop}, ""},
		{"agent_may_stop false refuses on-demand", Policy{Mode: ModeOnDemand, AgentMayStop: &no}, "*1", []KeyRequest{KeyNone, KeyNone}, sb.EFORBIDDEN},
		{"resume is open to all", Policy{Mode: ModeAlways, AgentMayStop: &no}, "*2", []KeyRequest{KeyNone, KeyResume}, ""},
		{"start", always, "*3", []KeyRequest{KeyNone, KeyStart}, ""},
		{"the last two keys count", always, "12*3", []KeyRequest{KeyNone, KeyNone, KeyNone, KeyStart}, ""},
		{"a code is consumed", always, "*3*", []KeyRequest{KeyNone, KeyStart, KeyNone}, ""},
		{"a refused code is consumed too", always, "*44", []KeyRequest{KeyNone, KeyNone, KeyNone}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a AgentKeys
			var err error
			for i, k := range tt.keys {
				var got KeyRequest
				got, err = a.Press(string(k), tt.p)
				if got != tt.want[i] {
					t.Errorf("key %d %c: got %v, want %v", i, k, got, tt.want[i])
				}
			}
			if code := sb.ErrorCode(err); tt.code == "" && err != nil || tt.code != "" && code != tt.code {
				t.Errorf("last error = %v, want code %q", err, tt.code)
			}
		})
	}
}

func TestOnDemand(t *testing.T) {
	tests := []struct {
		name              string
		p                 Policy
		talking, recorded bool
		want              string
	}{
		{"on-demand talking", Policy{Mode: ModeOnDemand}, true, false, ""},
		{"always talking", Policy{Mode: ModeAlways}, true, false, ""},
		{"never", Policy{Mode: ModeNever}, true, false, sb.EFORBIDDEN},
		{"not talking", Policy{Mode: ModeOnDemand}, false, false, sb.ECONFLICT},
		{"already recorded", Policy{Mode: ModeOnDemand}, true, true, sb.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := OnDemand(tt.p, "sales", "c1", tt.talking, tt.recorded)
			if code := sb.ErrorCode(err); tt.want == "" && err != nil || tt.want != "" && code != tt.want {
				t.Errorf("got %v, want code %q", err, tt.want)
			}
		})
	}
}
