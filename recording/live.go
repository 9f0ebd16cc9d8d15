package recording

import (
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Live is one call recording the PBX is making, from its record command
// to the decision of its end: the engine feeds it what the PBX and people
// did (Step) and carries out the commands it returns. It does no I/O and
// reads no clock: the engine passes now.
//
// Its phases:
//
//	starting  --Started----------------------------> recording
//	starting  --StartFailed------------------------> ended (failed: "start: ...")
//	starting, recording --Finished-----------------> ended (fetch the file)
//	starting, recording --Failed-------------------> ended (failed: the PBX's cause)
//	starting, recording --Gone---------------------> ended (fetch: it finished unseen)
//	starting, recording --Pause, Resume, Stop------> same phase (PBX command, row written)
//
// Once its call is over (CallOver) it also counts end-watch rounds, in
// whichever phase it is: round n waits (Wait the first time, twice Wait
// after), then the PBX is asked whether it still records (AskPBX):
//
//	round n --Checked{no longer}-------------------> ended (fetch)
//	round n --Checked{still live}, n < Rounds -----> round n+1 (stop it, wait again)
//	round n --Checked{no answer}, n < Rounds ------> round n+1 (wait again)
//	round Rounds --Checked, still live or no answer --> ended (failed, with the reason)
//
// A row an earlier run left marked recording is taken up with Reopen (in
// phase recording) and matched to the PBX with Recovered. Ended is final:
// every later event returns no command.
type Live struct {
	// Rec is the recording's row as the engine keeps it; its ID is the
	// writer's business (it is not known when the row is first written).
	Rec   Recording
	phase LivePhase
	round int // end-watch round; 0 while the call lasts
	watch EndWatch
}

// LivePhase is where a live recording is (see [Live]).
type LivePhase int

// Phases of a live recording.
const (
	// LiveStarting: the record command is on its way; the PBX may not
	// have the recording yet.
	LiveStarting LivePhase = iota
	// LiveRecording: the PBX has it (its command succeeded or it said so).
	LiveRecording
	// LiveEnded: its end is decided; the engine fetches and writes it.
	LiveEnded
)

// String names the phase for logs.
func (p LivePhase) String() string {
	switch p {
	case LiveStarting:
		return "starting"
	case LiveRecording:
		return "recording"
	case LiveEnded:
		return "ended"
	}
	return fmt.Sprintf("LivePhase(%d)", int(p))
}

// EndWatch bounds how long a recording whose call is over waits for its
// end: a loaded PBX reports it late or never.
type EndWatch struct {
	// Wait is the first round's wait for the PBX's end event before it
	// is asked; later rounds wait twice as long (the PBX is slow or the
	// stop was retried).
	Wait time.Duration
	// Rounds is how often it is asked (and stopped) before the recording
	// is marked failed.
	Rounds int
}

// NewLive is a recording about to be started: its row in state recording
// (started and created at now) and phase starting. Feed it Begin.
func NewLive(r Recording, w EndWatch, now time.Time) *Live {
	r.Started, r.Created, r.State = now, now, StateRecording
	return &Live{Rec: r, phase: LiveStarting, watch: w}
}

// Reopen takes up a row an earlier run (or this one, before a write
// failed) left marked recording: the PBX had it, so its phase is
// recording. Feed it Recovered.
func Reopen(r Recording, w EndWatch) *Live {
	return &Live{Rec: r, phase: LiveRecording, watch: w}
}

// Begin opens the recordings of a bridged call that policy p records:
// one per leg of [Legs], named by [NameFor] and numbered from seq+1; each
// row copies tmpl's call, queue, campaign, agent and caller.
func Begin(p Policy, tmpl Recording, seq int, w EndWatch, now time.Time) []*Live {
	var out []*Live
	for _, leg := range Legs(p) {
		seq++
		r := tmpl
		r.Name, r.Leg = NameFor(tmpl.CallID, leg, seq), leg
		out = append(out, NewLive(r, w, now))
	}
	return out
}

// Phase is where the recording is.
func (l *Live) Phase() LivePhase { return l.phase }

// Known reports whether the PBX has confirmed the recording: a link-up
// asks it only about those (one whose command is still on its way would
// be taken for gone).
func (l *Live) Known() bool { return l.phase == LiveRecording }

// LiveEvent is what the engine feeds a Live.
type LiveEvent interface{ isLiveEvent() }

// Open: start the recording (the first event of a NewLive).
type Open struct{}

// Started: the PBX has the recording (the record command succeeded, or
// RecordingStarted came).
type Started struct{}

// StartFailed: the record command (or the snoop before it) failed.
type StartFailed struct{ Err error }

// PauseReq pauses the recording (a card number is read); ResumeReq
// resumes it.
type (
	PauseReq  struct{}
	ResumeReq struct{}
)

// StopReq stops the recording; its end comes as Finished, as when its
// call ends.
type StopReq struct{}

// Finished: the PBX finished the recording (RecordingFinished), of this
// length.
type Finished struct{ Duration time.Duration }

// Failed: the PBX reported the recording could not be made or completed
// (RecordingFailed), with its cause.
type Failed struct{ Cause string }

// Gone: a link-up or a sweep found the PBX no longer makes it (its end
// came while nobody listened).
type Gone struct{ Why string }

// CallOver: the recording's call is over; the end-watch starts.
type CallOver struct{}

// WaitOver: the wait of end-watch round Round ran out.
type WaitOver struct{ Round int }

// Checked is the PBX's answer to AskPBX: whether it still makes the
// recording, or Err when it did not say.
type Checked struct {
	Round int
	Live  bool
	Err   error
}

// Recovered is what a link-up or a sweep learned of a row taken up with
// Reopen: whether the PBX makes it now, and whether its call is still
// live in this run. Sweep tells a sweep's finding from a link-up's.
type Recovered struct {
	Live, CallLive, Sweep bool
}

// Stopped is the PBX's final answer to a StopPBX with Answer set: Err is
// nil when the stop held (the recording is stopped or gone).
type Stopped struct{ Err error }

func (Open) isLiveEvent()        {}
func (Started) isLiveEvent()     {}
func (StartFailed) isLiveEvent() {}
func (PauseReq) isLiveEvent()    {}
func (ResumeReq) isLiveEvent()   {}
func (StopReq) isLiveEvent()     {}
func (Finished) isLiveEvent()    {}
func (Failed) isLiveEvent()      {}
func (Gone) isLiveEvent()        {}
func (CallOver) isLiveEvent()    {}
func (WaitOver) isLiveEvent()    {}
func (Checked) isLiveEvent()     {}
func (Recovered) isLiveEvent()   {}
func (Stopped) isLiveEvent()     {}

// LiveCommand is what a Live asks the engine to do.
type LiveCommand interface{ isLiveCommand() }

// SaveRow writes the recording's row (Insert for its first write), in
// order with the recording's other writes.
type SaveRow struct {
	Row    Recording
	Insert bool
}

// Record asks the PBX to record the recording's leg (the bridge, or a
// party through a snoop). Started or StartFailed comes back.
type Record struct{ Leg Leg }

// PausePBX pauses (Pause) or resumes the recording on the PBX.
type PausePBX struct{ Pause bool }

// StopPBX stops the recording on the PBX until it confirms. Answer asks
// for its final answer as Stopped; Why, when set, is worth a warning.
type StopPBX struct {
	Answer bool
	Why    string
}

// WaitEnd waits After, then WaitOver{Round} comes back.
type WaitEnd struct {
	Round int
	After time.Duration
}

// AskPBX asks the PBX whether it still makes the recording; Checked
// {Round} comes back.
type AskPBX struct{ Round int }

// Attach adds a taken-up recording to its call, live again in this run.
type Attach struct{}

// Close ends the recording: the engine forgets it as live, fetches its
// file when Failure is "" (a fetch error becomes the failure), and
// writes Final(Row, failure). Note, when set, says why it ended there.
type Close struct {
	Row     Recording
	Failure string
	Note    string
}

// Refused: the event is not possible now (pause a paused recording...).
type Refused struct{ Err error }

func (SaveRow) isLiveCommand()  {}
func (Record) isLiveCommand()   {}
func (PausePBX) isLiveCommand() {}
func (StopPBX) isLiveCommand()  {}
func (WaitEnd) isLiveCommand()  {}
func (AskPBX) isLiveCommand()   {}
func (Attach) isLiveCommand()   {}
func (Close) isLiveCommand()    {}
func (Refused) isLiveCommand()  {}

// Step applies one event at now and returns what to do.
func (l *Live) Step(e LiveEvent, now time.Time) []LiveCommand {
	if l.phase == LiveEnded {
		return nil
	}
	switch e := e.(type) {
	case Open:
		return []LiveCommand{SaveRow{Row: l.Rec, Insert: true}, Record{Leg: l.Rec.Leg}}
	case Started:
		l.phase = LiveRecording
	case StartFailed:
		return l.end(now, 0, fmt.Sprintf("start: %v", e.Err), "")
	case PauseReq:
		return l.pause(true, now)
	case ResumeReq:
		return l.pause(false, now)
	case StopReq:
		return []LiveCommand{StopPBX{}}
	case Finished:
		return l.end(now, e.Duration, "", "")
	case Failed:
		return l.end(now, 0, "the PBX reported a failure: "+e.Cause, "")
	case Gone:
		return l.end(now, 0, "", e.Why)
	case CallOver:
		if l.round > 0 {
			return nil
		}
		l.round = 1
		return []LiveCommand{WaitEnd{Round: 1, After: l.watch.Wait}}
	case WaitOver:
		if e.Round != l.round {
			return nil
		}
		return []LiveCommand{AskPBX{Round: e.Round}}
	case Checked:
		if e.Round != l.round {
			return nil
		}
		return l.checked(e, now)
	case Recovered:
		switch {
		case e.Live && e.CallLive:
			return []LiveCommand{Attach{}}
		case e.Live:
			return []LiveCommand{StopPBX{Answer: true, Why: "recording of a call that is over: stopping it"}}
		case e.Sweep:
			return l.end(now, 0, "", "recording still marked recording that the PBX no longer makes")
		default:
			return l.end(now, 0, "", "recording finished while Switchboard was down")
		}
	case Stopped:
		if e.Err != nil {
			return l.end(now, 0, fmt.Sprintf("stop after a restart: %v", e.Err), "")
		}
		return l.end(now, 0, "", "") // unless its Finished came first
	}
	return nil
}

// pause opens (pause) or closes a pause at now.
func (l *Live) pause(pause bool, now time.Time) []LiveCommand {
	next, err := l.Rec.Pauses.Resume(now)
	if pause {
		next, err = l.Rec.Pauses.Pause(now)
	}
	if err != nil {
		return []LiveCommand{Refused{Err: err}}
	}
	l.Rec.Pauses = next
	return []LiveCommand{PausePBX{Pause: pause}, SaveRow{Row: l.Rec}}
}

// checked decides on the PBX's answer in end-watch round e.Round.
func (l *Live) checked(e Checked, now time.Time) []LiveCommand {
	last := l.round >= l.watch.Rounds
	switch {
	case e.Err == nil && !e.Live:
		return l.end(now, 0, "", "recording ended without RecordingFinished")
	case last && e.Err != nil:
		return l.end(now, 0, fmt.Sprintf("the PBX did not say whether it still records after its call ended: %v", e.Err), "")
	case last:
		return l.end(now, 0, "the PBX went on recording after the call ended and did not stop when told", "")
	}
	l.round++
	wait := []LiveCommand{WaitEnd{Round: l.round, After: 2 * l.watch.Wait}}
	if e.Err != nil {
		return wait
	}
	return append([]LiveCommand{StopPBX{Why: "recording still live after its call ended: stopping it"}}, wait...)
}

// end decides the recording's end at now: d is the PBX's length (the
// WAV header's replaces it once fetched), failure "" when it finished.
func (l *Live) end(now time.Time, d time.Duration, failure, note string) []LiveCommand {
	l.phase = LiveEnded
	l.Rec.Ended = sb.SomeTime(now)
	l.Rec.Pauses = l.Rec.Pauses.Close(now)
	l.Rec.Duration = d
	return []LiveCommand{Close{Row: l.Rec, Failure: failure, Note: note}}
}

// Final is a closed recording's row: stored, or failed with the reason
// when failure is not "".
func Final(r Recording, failure string) Recording {
	if failure != "" {
		r.State, r.Error = StateFailed, failure
	} else {
		r.State = StateStored
	}
	return r
}

// KeyRequest is what an agent's keys during a call ask of its recording.
type KeyRequest int

// Requests of the agent's recording keys.
const (
	KeyNone   KeyRequest = iota // no code yet
	KeyPause                    // *1: pause (a card number is read)
	KeyResume                   // *2: resume
	KeyStart                    // *3: start recording (on-demand)
	KeyStop                     // *4: stop recording
)

// AgentKeys reads the recording codes an agent presses on a call: *1
// pauses, *2 resumes, *3 starts and *4 stops the call's recording. The
// zero value is ready.
type AgentKeys struct{ last string }

// Press takes one key of the agent's. It returns the request the last two
// keys make (KeyNone until they make one), or an EFORBIDDEN error when
// the call's policy p does not let the agent stop or pause its recording
// (*1 and *4, see [AgentMayStop]). A code, refused or not, is consumed.
func (a *AgentKeys) Press(key string, p Policy) (KeyRequest, error) {
	a.last += key
	if len(a.last) > 2 {
		a.last = a.last[len(a.last)-2:]
	}
	var req KeyRequest
	switch a.last {
	case "*1":
		req = KeyPause
	case "*2":
		req = KeyResume
	case "*3":
		req = KeyStart
	case "*4":
		req = KeyStop
	default:
		return KeyNone, nil
	}
	a.last = ""
	if (req == KeyPause || req == KeyStop) && !AgentMayStop(p) {
		return KeyNone, sb.Errorf(sb.EFORBIDDEN, "the %s recording policy of this call does not let the agent stop or pause it", p.Mode)
	}
	return req, nil
}

// OnDemand reports whether a person may start recording call (in queue,
// under policy p) by hand now: EFORBIDDEN when p never records,
// ECONFLICT when the call is not talking to an agent or already recorded.
func OnDemand(p Policy, queue sb.QueueName, call sb.CallID, talking, recorded bool) error {
	switch {
	case !CanStartOnDemand(p):
		return sb.Errorf(sb.EFORBIDDEN, "queue %q is never recorded", queue)
	case !talking:
		return sb.Errorf(sb.ECONFLICT, "call %s is not talking to an agent", call)
	case recorded:
		return sb.Errorf(sb.ECONFLICT, "call %s is already being recorded", call)
	}
	return nil
}
