package recording

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	sb "github.com/switchboard/switchboard"
)

// ArgSnoop is the Stasis argument of a snoop channel that records one leg
// (recsnoop, <call id>): it lives and dies with the leg it hears.
const ArgSnoop = "recsnoop"

// Repo keeps recordings' metadata.
type Repo interface {
	InsertRecording(ctx context.Context, r *Recording) error
	UpdateRecording(ctx context.Context, r *Recording) error
}

// OpenLister lists the rows still marked recording (storage.DB): after a
// restart they are matched to the PBX again, and a sweep checks them.
type OpenLister interface {
	OpenRecordings(ctx context.Context) ([]Recording, error)
}

// Options wires call recording into the engine. Without a Repo nothing is
// recorded.
type Options struct {
	Policies Policies
	Repo     Repo
	// Fetch copies a finished recording from the PBX into the recordings
	// folder, verifies it and fills in its path, size, checksum and length.
	Fetch func(ctx context.Context, r *Recording) error
	// EndWait is how long a recording of a call that is over waits for
	// its RecordingFinished before the PBX is asked about it (default
	// DefaultEndWait): a loaded Asterisk can send it late or never.
	EndWait time.Duration
	// SweepInterval is how often every row still marked recording that
	// no live call of this run has is checked against the PBX (default
	// DefaultSweep).
	SweepInterval time.Duration
}

// Defaults of Options.
const (
	DefaultEndWait = 5 * time.Second
	DefaultSweep   = time.Minute
	// endRounds bounds how often a recording whose call is over is
	// looked up (and stopped) before it is marked failed.
	endRounds = 6
)

// withDefaults fills in what o leaves unset.
func (o Options) withDefaults() Options {
	if o.EndWait <= 0 {
		o.EndWait = DefaultEndWait
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweep
	}
	return o
}

// Call is what the driver reads of a live call.
type Call struct {
	Queue    sb.QueueName
	Campaign string // "" for inbound calls
	Agent    sb.AgentID
	Caller   string
	Bridge   sb.BridgeID
	AgentLeg sb.ChannelID
	// Talking: bridged to its agent and not transferred (it may be
	// recorded on demand).
	Talking bool
	// Over: its course is over (it is still in the engine's maps).
	Over bool
}

// Exec runs functions in order, one at a time, off the owner goroutine;
// after Close it lets the queued ones finish and drops new ones.
type Exec interface {
	Do(f func(ctx context.Context))
	Close()
}

// Host is what the driver needs of the engine. Its methods are called on
// the engine's owner goroutine (OnLoop, Post and the functions handed to
// Do, Detached, Background and an Exec excepted).
type Host interface {
	Logger() *slog.Logger
	Now() time.Time
	// RecordingCall reads a live call; ok is false when there is none.
	RecordingCall(call sb.CallID) (c Call, ok bool)
	Do(call sb.CallID, f func(ctx context.Context))
	Detached(f func(ctx context.Context))
	// Background runs f off the owner goroutine under the command
	// deadline and the engine's run (f's ctx ends when the engine stops).
	Background(f func(ctx context.Context))
	// SettleOn runs op on call's executor (at once, off the owner, when
	// call is not live) until the PBX confirms or refuses it; done, when
	// not nil, runs on the owner goroutine with the final error.
	SettleOn(call sb.CallID, what string, attrs []any, op func(ctx context.Context) error, done func(err error))
	OnLoop(ctx context.Context, f func() error) error
	// Post runs f on the owner goroutine (from any goroutine); false once
	// the engine has stopped.
	Post(f func()) bool
	// After runs f on the owner goroutine once d has passed on the
	// engine's clock.
	After(d time.Duration, f func()) (stop func() bool)
	// NewExec is an executor for one recording's writes: it outlives the
	// call, and the engine's run waits for it.
	NewExec() Exec
	// Reconciling reports whether a PBX listing is being reconciled.
	Reconciling() bool
	// RecordingsRecovered tells the live calls that the recordings were
	// matched to the PBX (a link-up's or a sweep's): a call adopted
	// talking whose recording never started is recorded from now on.
	RecordingsRecovered()
}

// PBX is what the driver commands of the PBX.
type PBX interface {
	sb.Recorder
	sb.Snooper
}

// Driver makes the call recordings: it starts them by policy or by hand,
// feeds each its Live machine with what the PBX and people did and has
// the engine carry out what it decides; a finished one is fetched,
// verified and its row written, on an executor of its own that outlives
// the call. Its methods run on the engine's owner goroutine, except the
// API's (Pause, Resume, Start, Stop, Policy), Probe and OpenRecordings.
type Driver struct {
	h   Host
	pbx PBX
	o   Options

	live  map[string]*liveRec     // call recordings being made, by PBX name
	calls map[sb.CallID]*callRecs // per live call: its recordings, keys
	// ending are this run's recordings whose end is being written
	// (fetched, then stored or failed): true until the final write, then
	// false until no link-up is being reconciled, so that a link-up's
	// list of rows still marked recording, read before the write, does
	// not take them up as an earlier run's.
	ending map[string]bool
	// sweeping counts recording sweeps in flight (see Sweep).
	sweeping int
	open     atomic.Int64 // recordings not yet stored or failed
}

// liveRec is a recording the PBX is making: its decisions are the Live's;
// the driver carries out its commands. Its metadata writes run in order
// on its own executor, which outlives the call: the recording finishes
// (and is fetched) after the call is gone.
type liveRec struct {
	*Live
	call sb.CallID // "" when taken up with no live call
	exec Exec
	id   int64 // the row's id; read and written only on exec
}

// callRecs is what the driver keeps of a live call.
type callRecs struct {
	names []string  // PBX names of the call's recordings
	seq   int       // recordings begun on the call
	keys  AgentKeys // the agent's last keys (recording codes)
}

// NewDriver builds the driver of o's policies and stores.
func NewDriver(h Host, pbx PBX, o Options) *Driver {
	return &Driver{h: h, pbx: pbx, o: o.withDefaults(),
		live: map[string]*liveRec{}, calls: map[sb.CallID]*callRecs{}, ending: map[string]bool{}}
}

// of is call's state, made on first use.
func (d *Driver) of(call sb.CallID) *callRecs {
	cr := d.calls[call]
	if cr == nil {
		cr = &callRecs{}
		d.calls[call] = cr
	}
	return cr
}

// endWatch is the Live end-watch of the driver's options.
func (d *Driver) endWatch() EndWatch {
	return EndWatch{Wait: d.o.EndWait, Rounds: endRounds}
}

// Talking starts the recordings the call's policy asks for, once caller
// and agent are bridged. A recording that fails is reported and does not
// touch the call.
func (d *Driver) Talking(call sb.CallID) {
	if d.o.Repo == nil {
		return
	}
	k, ok := d.h.RecordingCall(call)
	if !ok {
		return
	}
	p := d.o.Policies.For(k.Queue, k.Campaign)
	if !Decide(p, call) {
		return
	}
	d.record(call, k, p)
}

// RecordAdopted starts recording an adopted call that has no recording
// (the crash came between the bridge and the start).
func (d *Driver) RecordAdopted(call sb.CallID) {
	if cr := d.calls[call]; cr != nil && len(cr.names) > 0 {
		return
	}
	d.h.Logger().Info("recording an adopted call that had none", "call_id", call)
	d.Talking(call)
}

// record starts the recordings of p's legs on a bridged call.
func (d *Driver) record(call sb.CallID, k Call, p Policy) {
	cr := d.of(call)
	tmpl := Recording{CallID: call, Queue: k.Queue, Campaign: k.Campaign, Agent: k.Agent, Caller: k.Caller}
	for _, l := range Begin(p, tmpl, cr.seq, d.endWatch(), d.h.Now()) {
		cr.seq++
		lr := &liveRec{Live: l, call: call, exec: d.h.NewExec()}
		d.live[l.Rec.Name] = lr
		d.open.Add(1)
		cr.names = append(cr.names, l.Rec.Name)
		d.step(lr, Open{})
		d.h.Logger().Info("recording", "call_id", call, "recording", l.Rec.Name, "leg", l.Rec.Leg)
	}
}

// Event feeds a PBX event of one of the call recordings being made; it
// reports whether name is one.
func (d *Driver) Event(name string, e LiveEvent) bool {
	lr := d.live[name]
	if lr == nil {
		return false
	}
	d.step(lr, e)
	return true
}

// batch gathers the end-watch commands of several recordings, so that
// the recordings of one call share their timer and their PBX look-ups.
type batch struct {
	waits map[WaitEnd][]string
	asks  map[int][]string
}

// step applies e to lr and carries out its commands; the error is the
// Refused one's.
func (d *Driver) step(lr *liveRec, e LiveEvent) error {
	var b batch
	err := d.stepIn(&b, lr, e)
	d.flush(&b)
	return err
}

// stepIn is step with its end-watch commands left in b.
func (d *Driver) stepIn(b *batch, lr *liveRec, e LiveEvent) error {
	var refused error
	name := lr.Rec.Name
	for _, cmd := range lr.Step(e, d.h.Now()) {
		switch cmd := cmd.(type) {
		case SaveRow:
			row, insert := cmd.Row, cmd.Insert
			lr.exec.Do(func(context.Context) {
				if !insert {
					row.ID = lr.id
				}
				d.save(&row, insert)
				if insert {
					lr.id = row.ID
				}
			})
		case Record:
			d.recordLeg(lr, cmd.Leg)
		case PausePBX:
			call, pause := lr.call, cmd.Pause
			d.h.Do(call, func(ctx context.Context) {
				if err := d.pbx.PauseRecording(ctx, name, pause); err != nil {
					d.h.Logger().Warn("pause recording", "call_id", call, "recording", name, "err", err)
				}
			})
		case StopPBX:
			if cmd.Why != "" {
				d.h.Logger().Warn(cmd.Why, "call_id", lr.Rec.CallID, "recording", name)
			}
			var done func(error)
			if cmd.Answer {
				done = func(err error) {
					if sb.ErrorCode(err) == sb.ENOTFOUND { // gone: stopped
						err = nil
					}
					d.Event(name, Stopped{Err: err})
				}
			}
			d.h.SettleOn(lr.call, "stop recording", []any{"call_id", lr.Rec.CallID, "recording", name}, func(ctx context.Context) error {
				return d.pbx.StopRecording(ctx, name)
			}, done)
		case WaitEnd:
			if b.waits == nil {
				b.waits = map[WaitEnd][]string{}
			}
			b.waits[cmd] = append(b.waits[cmd], name)
		case AskPBX:
			if b.asks == nil {
				b.asks = map[int][]string{}
			}
			b.asks[cmd.Round] = append(b.asks[cmd.Round], name)
		case Attach:
			d.h.Logger().Info("recording taken up with its adopted call", "call_id", lr.call, "recording", name)
			cr := d.of(lr.call)
			cr.names = append(cr.names, name)
		case Close:
			d.close(lr, cmd)
		case Refused:
			refused = cmd.Err
		}
	}
	return refused
}

// flush starts the timers and look-ups gathered in b: one per round for
// the recordings that reached it together.
func (d *Driver) flush(b *batch) {
	for w, names := range b.waits {
		d.h.After(w.After, func() {
			var next batch
			for _, name := range names {
				if lr := d.live[name]; lr != nil {
					d.stepIn(&next, lr, WaitOver{Round: w.Round})
				}
			}
			d.flush(&next)
		})
	}
	for round, names := range b.asks {
		d.ask(names, round)
	}
}

// recordLeg starts recording leg of lr's call on the PBX.
func (d *Driver) recordLeg(lr *liveRec, leg Leg) {
	call, name := lr.call, lr.Rec.Name
	k, ok := d.h.RecordingCall(call)
	if !ok {
		d.Event(name, StartFailed{Err: fmt.Errorf("call %s is over", call)})
		return
	}
	req := sb.RecordRequest{Name: name, Format: "wav", IfExists: "fail", TerminateOn: "none"}
	bridge, ch := k.Bridge, sb.ChannelID(call)
	if leg == LegAgent {
		ch = k.AgentLeg
	}
	// A bridged channel cannot be recorded by itself (Asterisk answers
	// 409): one leg is recorded through a snoop channel that hears what
	// that party says.
	snoop := sb.SnoopRequest{ID: sb.ChannelID(fmt.Sprintf("%s-rs%d", call, d.of(call).seq)), Channel: ch,
		Spy: "in", Whisper: "none", AppArgs: []string{ArgSnoop, string(call)}}
	d.h.Do(call, func(ctx context.Context) {
		var err error
		if leg == LegMixed {
			err = d.pbx.RecordBridge(ctx, bridge, req)
		} else if _, err = d.pbx.Snoop(ctx, snoop); err == nil {
			err = d.pbx.RecordChannel(ctx, snoop.ID, req)
		}
		if err != nil {
			d.h.Post(func() { d.Event(name, StartFailed{Err: err}) })
			return
		}
		// The PBX has it now, queued or recording: a link-up asks about
		// it even if its RecordingStarted is lost with the link (Asterisk
		// answers the command first, starts it after).
		d.h.Post(func() { d.Event(name, Started{}) })
	})
}

// close carries out a recording's end: fetch and verify the file, or
// mark it failed, then write the row.
func (d *Driver) close(lr *liveRec, cl Close) {
	name := cl.Row.Name
	log := d.h.Logger()
	if cl.Note != "" {
		log.Info(cl.Note, "call_id", cl.Row.CallID, "recording", name)
	}
	delete(d.live, name)
	d.ending[name] = true
	row, failure, fetch := cl.Row, cl.Failure, d.o.Fetch
	lr.exec.Do(func(ctx context.Context) {
		row.ID = lr.id
		if failure == "" && fetch != nil {
			var err error
			for attempt := range 3 {
				fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				err = fetch(fctx, &row)
				cancel()
				if err == nil || attempt == 2 {
					break
				}
				time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			}
			if err != nil {
				failure = fmt.Sprintf("fetch: %v", err)
			}
		}
		row = Final(row, failure)
		if failure != "" {
			log.Warn("recording failed", "call_id", row.CallID, "recording", row.Name, "err", failure)
		} else {
			log.Info("recording stored", "call_id", row.CallID, "recording", row.Name, "size", row.Size)
		}
		d.save(&row, false)
		d.open.Add(-1)
		d.h.Post(func() {
			if d.h.Reconciling() || d.sweeping > 0 {
				d.ending[name] = false // a link-up's or sweep's list may show it open
				return
			}
			delete(d.ending, name)
		})
	})
	lr.exec.Close()
}

// OpenRecordings is how many recordings are being made or fetched: a
// recording counts from its start until its file is stored (or it is
// marked failed). Safe from any goroutine.
func (d *Driver) OpenRecordings() int { return int(d.open.Load()) }

// save writes a recording's row, retrying briefly; on a recording's
// executor.
func (d *Driver) save(r *Recording, insert bool) {
	repo := d.o.Repo
	var err error
	for attempt := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if insert {
			err = repo.InsertRecording(ctx, r)
		} else {
			err = repo.UpdateRecording(ctx, r)
		}
		cancel()
		if err == nil || (insert && sb.ErrorCode(err) == sb.ECONFLICT) {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	d.h.Logger().Error("recording metadata not written", "recording", r.Name, "err", err)
}

// CallOver runs when call is over: its recordings the PBX has not
// reported finished get EndWait for their RecordingFinished, then the PBX
// is asked (Live's end-watch rounds).
func (d *Driver) CallOver(call sb.CallID) {
	cr := d.calls[call]
	if cr == nil {
		return
	}
	delete(d.calls, call)
	var b batch
	for _, name := range cr.names {
		if lr := d.live[name]; lr != nil {
			d.stepIn(&b, lr, CallOver{})
		}
	}
	d.flush(&b)
}

// Forget drops what the driver keeps of a call that goes without ending
// (an agent-first call whose customer never came): it was never recorded.
func (d *Driver) Forget(call sb.CallID) { delete(d.calls, call) }

// ask asks the PBX, off the owner, whether it still makes the named
// recordings (end-watch round round) and feeds each its answer.
func (d *Driver) ask(names []string, round int) {
	d.h.Detached(func(ctx context.Context) {
		answers := make([]Checked, len(names))
		for i, name := range names {
			answers[i].Round = round
			answers[i].Live, answers[i].Err = d.pbx.RecordingLive(ctx, name)
		}
		d.h.Post(func() {
			var b batch
			for i, name := range names {
				if lr := d.live[name]; lr != nil { // else its RecordingFinished came meanwhile
					d.stepIn(&b, lr, answers[i])
				}
			}
			d.flush(&b)
		})
	})
}
