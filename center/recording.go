package center

import (
	"context"
	"fmt"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/reconcile"
	"github.com/switchboard/switchboard/recording"
)

// RecordingRepo keeps recordings' metadata.
type RecordingRepo interface {
	InsertRecording(ctx context.Context, r *recording.Recording) error
	UpdateRecording(ctx context.Context, r *recording.Recording) error
}

// RecordingOptions wires call recording into the center. Without a Repo
// nothing is recorded.
type RecordingOptions struct {
	Policies recording.Policies
	Repo     RecordingRepo
	// Fetch copies a finished recording from the PBX into the recordings
	// folder, verifies it and fills in its path, size, checksum and length.
	Fetch func(ctx context.Context, r *recording.Recording) error
	// EndWait is how long a recording of a call that is over waits for
	// its RecordingFinished before the PBX is asked about it (default
	// DefaultRecordingEndWait): a loaded Asterisk can send it late or
	// never.
	EndWait time.Duration
	// SweepInterval is how often every row still marked recording that
	// no live call of this run has is checked against the PBX (default
	// DefaultRecordingSweep).
	SweepInterval time.Duration
}

// Defaults of RecordingOptions.
const (
	DefaultRecordingEndWait = 5 * time.Second
	DefaultRecordingSweep   = time.Minute
	// recordingEndRounds bounds how often a recording whose call is over
	// is looked up (and stopped) before it is marked failed.
	recordingEndRounds = 6
)

// withDefaults fills in what o leaves unset.
func (o RecordingOptions) withDefaults() RecordingOptions {
	if o.EndWait <= 0 {
		o.EndWait = DefaultRecordingEndWait
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultRecordingSweep
	}
	return o
}

// liveRecording is a recording the PBX is making: its decisions are the
// recording.Live's; the center carries out its commands. Its metadata
// writes run in order on its own executor, which outlives the call: the
// recording finishes (and is fetched) after the call is gone.
type liveRecording struct {
	*recording.Live
	call *call
	exec *serial
	id   int64 // the row's id; read and written only on exec
}

// endWatch is the recording.Live end-watch of this center's options.
func (c *Center) endWatch() recording.EndWatch {
	return recording.EndWatch{Wait: c.rec.EndWait, Rounds: recordingEndRounds}
}

// startRecordings starts the recordings the call's policy asks for, once
// caller and agent are bridged. A recording that fails is reported and
// does not touch the call.
func (c *Center) startRecordings(k *call) {
	if c.rec.Repo == nil {
		return
	}
	p := c.rec.Policies.For(k.Queue, campaignOf(k))
	if !recording.Decide(p, k.ID) {
		return
	}
	c.record(k, p)
}

// record starts the recordings of p's legs on a bridged call.
func (c *Center) record(k *call, p recording.Policy) {
	tmpl := recording.Recording{CallID: k.ID, Queue: k.Queue, Campaign: campaignOf(k), Agent: k.Agent, Caller: k.Caller}
	for _, l := range recording.Begin(p, tmpl, k.recSeq, c.endWatch(), c.clock.Now()) {
		k.recSeq++
		lr := &liveRecording{Live: l, call: k, exec: newSerial(context.Background(), &c.writeWG)}
		c.recordings[l.Rec.Name] = lr
		c.recOpen.Add(1)
		k.recordings = append(k.recordings, l.Rec.Name)
		c.stepRecording(lr, recording.Open{})
		c.log.Info("recording", "call_id", k.ID, "recording", l.Rec.Name, "leg", l.Rec.Leg)
	}
}

// recordingEvent feeds a PBX event of one of the call recordings being
// made; it reports whether name is one.
func (c *Center) recordingEvent(name string, e recording.LiveEvent) bool {
	lr := c.recordings[name]
	if lr == nil {
		return false
	}
	c.stepRecording(lr, e)
	return true
}

// recBatch gathers the end-watch commands of several recordings, so that
// the recordings of one call share their timer and their PBX look-ups.
type recBatch struct {
	waits map[recording.WaitEnd][]string
	asks  map[int][]string
}

// stepRecording applies e to lr and carries out its commands; the error
// is the Refused one's.
func (c *Center) stepRecording(lr *liveRecording, e recording.LiveEvent) error {
	var b recBatch
	err := c.stepRecordingIn(&b, lr, e)
	c.flushRecordings(&b)
	return err
}

// stepRecordingIn is stepRecording with its end-watch commands left in b.
func (c *Center) stepRecordingIn(b *recBatch, lr *liveRecording, e recording.LiveEvent) error {
	var refused error
	name := lr.Rec.Name
	for _, cmd := range lr.Step(e, c.clock.Now()) {
		switch cmd := cmd.(type) {
		case recording.SaveRow:
			row, insert := cmd.Row, cmd.Insert
			lr.exec.do(func(context.Context) {
				if !insert {
					row.ID = lr.id
				}
				c.saveRecording(&row, insert)
				if insert {
					lr.id = row.ID
				}
			})
		case recording.Record:
			c.recordLeg(lr, cmd.Leg)
		case recording.PausePBX:
			k, pause := lr.call, cmd.Pause
			c.try(k, "pause recording", func(ctx context.Context) error {
				return c.pbx.PauseRecording(ctx, name, pause)
			}, nil, "recording", name)
		case recording.StopPBX:
			if cmd.Why != "" {
				c.log.Warn(cmd.Why, "call_id", lr.Rec.CallID, "recording", name)
			}
			var done func(error)
			if cmd.Answer {
				done = func(err error) {
					if settled(err) {
						err = nil
					}
					c.recordingEvent(name, recording.Stopped{Err: err})
				}
			}
			c.settle(lr.call, "stop recording", []any{"call_id", lr.Rec.CallID, "recording", name}, func(ctx context.Context) error {
				return c.pbx.StopRecording(ctx, name)
			}, done)
		case recording.WaitEnd:
			if b.waits == nil {
				b.waits = map[recording.WaitEnd][]string{}
			}
			b.waits[cmd] = append(b.waits[cmd], name)
		case recording.AskPBX:
			if b.asks == nil {
				b.asks = map[int][]string{}
			}
			b.asks[cmd.Round] = append(b.asks[cmd.Round], name)
		case recording.Attach:
			c.log.Info("recording taken up with its adopted call", "call_id", lr.call.ID, "recording", name)
			lr.call.recordings = append(lr.call.recordings, name)
		case recording.Close:
			c.closeRecording(lr, cmd)
		case recording.Refused:
			refused = cmd.Err
		}
	}
	return refused
}

// flushRecordings starts the timers and look-ups gathered in b: one per
// round for the recordings that reached it together.
func (c *Center) flushRecordings(b *recBatch) {
	for w, names := range b.waits {
		c.after(w.After, func() {
			var next recBatch
			for _, name := range names {
				if lr := c.recordings[name]; lr != nil {
					c.stepRecordingIn(&next, lr, recording.WaitOver{Round: w.Round})
				}
			}
			c.flushRecordings(&next)
		})
	}
	for round, names := range b.asks {
		c.askRecordings(names, round)
	}
}

// recordLeg starts recording leg of lr's call on the PBX.
func (c *Center) recordLeg(lr *liveRecording, leg recording.Leg) {
	k, name := lr.call, lr.Rec.Name
	req := sb.RecordRequest{Name: name, Format: "wav", IfExists: "fail", TerminateOn: "none"}
	bridge, ch := k.Bridge, sb.ChannelID(k.ID)
	if leg == recording.LegAgent {
		ch = k.agentCh
	}
	// A bridged channel cannot be recorded by itself (Asterisk answers
	// 409): one leg is recorded through a snoop channel that hears what
	// that party says.
	snoop := sb.SnoopRequest{ID: sb.ChannelID(fmt.Sprintf("%s-rs%d", k.ID, k.recSeq)), Channel: ch,
		Spy: "in", Whisper: "none", AppArgs: []string{argRecordSnoop, string(k.ID)}}
	c.do(k, func(ctx context.Context) {
		var err error
		if leg == recording.LegMixed {
			err = c.pbx.RecordBridge(ctx, bridge, req)
		} else if _, err = c.pbx.Snoop(ctx, snoop); err == nil {
			err = c.pbx.RecordChannel(ctx, snoop.ID, req)
		}
		if err != nil {
			c.post(func() { c.recordingEvent(name, recording.StartFailed{Err: err}) })
			return
		}
		// The PBX has it now, queued or recording: a link-up asks about
		// it even if its RecordingStarted is lost with the link (Asterisk
		// answers the command first, starts it after).
		c.post(func() { c.recordingEvent(name, recording.Started{}) })
	})
}

// closeRecording carries out a recording's end: fetch and verify the
// file, or mark it failed, then write the row.
func (c *Center) closeRecording(lr *liveRecording, cl recording.Close) {
	name := cl.Row.Name
	if cl.Note != "" {
		c.log.Info(cl.Note, "call_id", cl.Row.CallID, "recording", name)
	}
	delete(c.recordings, name)
	c.recEnding[name] = true
	row, failure, fetch := cl.Row, cl.Failure, c.rec.Fetch
	lr.exec.do(func(ctx context.Context) {
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
		row = recording.Final(row, failure)
		if failure != "" {
			c.log.Warn("recording failed", "call_id", row.CallID, "recording", row.Name, "err", failure)
		} else {
			c.log.Info("recording stored", "call_id", row.CallID, "recording", row.Name, "size", row.Size)
		}
		c.saveRecording(&row, false)
		c.recOpen.Add(-1)
		c.post(func() {
			if c.reconciling > 0 || c.recSweeping > 0 {
				c.recEnding[name] = false // a link-up's or sweep's list may show it open
				return
			}
			delete(c.recEnding, name)
		})
	})
	lr.exec.close()
}

// OpenRecordings is how many recordings are being made or fetched: a
// recording counts from its start until its file is stored (or it is
// marked failed).
func (c *Center) OpenRecordings() int { return int(c.recOpen.Load()) }

// saveRecording writes a recording's row, retrying briefly.
func (c *Center) saveRecording(r *recording.Recording, insert bool) {
	repo := c.rec.Repo
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
	c.log.Error("recording metadata not written", "recording", r.Name, "err", err)
}

// Pause pauses the live recordings of a call (a card number is being
// read); the pause is marked in their metadata. It implements the API's
// LiveRecordings.
func (c *Center) Pause(ctx context.Context, call sb.CallID) error {
	return c.pauseRecordings(ctx, call, true)
}

// Resume resumes them and closes the pause.
func (c *Center) Resume(ctx context.Context, call sb.CallID) error {
	return c.pauseRecordings(ctx, call, false)
}

func (c *Center) pauseRecordings(ctx context.Context, call sb.CallID, pause bool) error {
	return c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		return c.pauseLocked(k, pause)
	})
}

// pauseLocked pauses or resumes the call's recordings; on the owner.
func (c *Center) pauseLocked(k *call, pause bool) error {
	live := c.liveRecordings(k)
	if len(live) == 0 {
		return sb.Errorf(sb.ECONFLICT, "call %s is not being recorded", k.ID)
	}
	var e recording.LiveEvent = recording.ResumeReq{}
	if pause {
		e = recording.PauseReq{}
	}
	for _, lr := range live {
		if err := c.stepRecording(lr, e); err != nil {
			return err
		}
	}
	return nil
}

// StartRecording starts recording a bridged call by hand (the on-demand
// policy; any policy but never). ECONFLICT when it is already recorded or
// not bridged.
func (c *Center) StartRecording(ctx context.Context, call sb.CallID) error {
	return c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		return c.startOnDemand(k)
	})
}

func (c *Center) startOnDemand(k *call) error {
	if c.rec.Repo == nil {
		return sb.Errorf(sb.EUNAVAILABLE, "recording is not configured")
	}
	p := c.rec.Policies.For(k.Queue, campaignOf(k))
	talking := k.State == sb.CallBridged && !k.life.Transferred()
	if err := recording.OnDemand(p, k.Queue, k.ID, talking, c.liveRecordings(k) != nil); err != nil {
		return err
	}
	c.record(k, p)
	return nil
}

// RecordingPolicy returns the recording policy of a live call: its
// campaign's, its queue's or the default (ENOTFOUND when no such call).
func (c *Center) RecordingPolicy(ctx context.Context, call sb.CallID) (recording.Policy, error) {
	var p recording.Policy
	err := c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		p = c.rec.Policies.For(k.Queue, campaignOf(k))
		return nil
	})
	return p, err
}

// StopRecording stops a call's recordings; they are fetched and stored as
// when the call ends.
func (c *Center) StopRecording(ctx context.Context, call sb.CallID) error {
	return c.onLoop(ctx, func() error {
		k := c.calls[call]
		if k == nil {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		return c.stopRecordings(k)
	})
}

func (c *Center) stopRecordings(k *call) error {
	live := c.liveRecordings(k)
	if live == nil {
		return sb.Errorf(sb.ECONFLICT, "call %s is not being recorded", k.ID)
	}
	for _, lr := range live {
		c.stepRecording(lr, recording.StopReq{})
	}
	return nil
}

// liveRecordings are the call's recordings being made.
func (c *Center) liveRecordings(k *call) []*liveRecording {
	var live []*liveRecording
	for _, name := range k.recordings {
		if lr := c.recordings[name]; lr != nil {
			live = append(live, lr)
		}
	}
	return live
}

// agentKey handles keys the agent presses during a call: *1 pauses the
// recording (a card number is read), *2 resumes it, *3 starts recording
// (on-demand), *4 stops it (recording.AgentKeys reads them and refuses
// what the call's policy does not let the agent do).
func (c *Center) agentKey(k *call, key string) {
	req, err := k.agentKeys.Press(key, c.rec.Policies.For(k.Queue, campaignOf(k)))
	switch req {
	case recording.KeyPause:
		err = c.pauseLocked(k, true)
	case recording.KeyResume:
		err = c.pauseLocked(k, false)
	case recording.KeyStart:
		err = c.startOnDemand(k)
	case recording.KeyStop:
		err = c.stopRecordings(k)
	}
	if err != nil {
		c.log.Info("agent recording key", "call_id", k.ID, "agent_id", k.Agent, "err", err)
	}
}

// campaignOf is the campaign a call was dialed for ("" for inbound calls).
func campaignOf(k *call) string {
	if k.ob == nil {
		return ""
	}
	return k.ob.Dial().Campaign
}

// openRecordingLister lists the recordings still marked recording
// (storage.DB): after a restart they are matched to the PBX again.
type openRecordingLister interface {
	OpenRecordings(ctx context.Context) ([]recording.Recording, error)
}

// recordingProbe is what a link-up learned of recordings: the rows still
// marked recording, and for each recording asked about whether the PBX
// is making it now.
type recordingProbe struct {
	known []string              // started recordings this run knew at the link-up
	open  []recording.Recording // rows marked recording (earlier runs' too)
	sweep bool                  // a sweep's, not a link-up's
	live  map[string]bool       // asked and answered: the PBX is making it
	asked map[string]bool       // asked and answered at all
}

// probeRecordings asks the PBX about the recordings this run had started
// (known) and those the database still marks recording; off the owner.
// A row named in skip is not asked about (a sweep leaves this run's own
// recordings to their calls).
func (c *Center) probeRecordings(ctx context.Context, known []string, skip map[string]bool) recordingProbe {
	p := recordingProbe{known: known, live: map[string]bool{}, asked: map[string]bool{}}
	if c.rec.Repo == nil {
		return p
	}
	if l, ok := c.rec.Repo.(openRecordingLister); ok {
		open, err := l.OpenRecordings(ctx)
		if err != nil {
			c.log.Warn("list the recordings still marked recording", "err", err)
		}
		p.open = open
	}
	for _, name := range reconcile.RecordingsToAsk(known, p.open, skip) {
		live, err := c.pbx.RecordingLive(ctx, name)
		if err != nil {
			c.log.Warn("look up a recording", "recording", name, "err", err)
			continue
		}
		p.asked[name], p.live[name] = true, live
	}
	return p
}

// recoverRecordings matches recordings to the PBX after a link-up: one
// this run knew that the PBX no longer makes ended while the link was
// down (its file is fetched, or it is marked failed); a row an earlier run
// left marked recording is taken up again: carried on with its adopted
// call, stopped if its call is gone, fetched if it finished meanwhile.
// Runs on the owner after the reconcile.
func (c *Center) recoverRecordings(p recordingProbe) {
	for _, name := range p.known {
		if c.recordings[name] != nil && p.asked[name] && !p.live[name] {
			c.recordingEvent(name, recording.Gone{Why: "recording ended while the PBX link was down"})
		}
	}
	for _, row := range p.open {
		name := row.Name
		if _, ending := c.recEnding[name]; ending || c.recordings[name] != nil || !p.asked[name] {
			continue // this run's, or the PBX did not answer: the next link-up asks again
		}
		k := c.calls[row.CallID]
		lr := &liveRecording{Live: recording.Reopen(row, c.endWatch()), call: k, exec: newSerial(context.Background(), &c.writeWG), id: row.ID}
		c.recordings[name] = lr
		c.recOpen.Add(1)
		c.stepRecording(lr, recording.Recovered{Live: p.live[name], CallLive: k != nil && !k.life.Over(), Sweep: p.sweep})
	}
	// A call adopted talking whose recording never started (the crash
	// came between the bridge and the start) is recorded from now on.
	for _, k := range c.calls {
		c.life(k, lifecycle.RecordingsRecovered{})
	}
}

// watchRecordingEnds runs when call k is over: its recordings the PBX has
// not reported finished get EndWait for their RecordingFinished, then the
// PBX is asked (recording.Live's end-watch rounds).
func (c *Center) watchRecordingEnds(k *call) {
	var b recBatch
	for _, name := range k.recordings {
		if lr := c.recordings[name]; lr != nil {
			c.stepRecordingIn(&b, lr, recording.CallOver{})
		}
	}
	c.flushRecordings(&b)
}

// askRecordings asks the PBX, off the owner, whether it still makes the
// named recordings (end-watch round round) and feeds each its answer.
func (c *Center) askRecordings(names []string, round int) {
	c.detached(func(ctx context.Context) {
		answers := make([]recording.Checked, len(names))
		for i, name := range names {
			answers[i].Round = round
			answers[i].Live, answers[i].Err = c.pbx.RecordingLive(ctx, name)
		}
		c.post(func() {
			var b recBatch
			for i, name := range names {
				if lr := c.recordings[name]; lr != nil { // else its RecordingFinished came meanwhile
					c.stepRecordingIn(&b, lr, answers[i])
				}
			}
			c.flushRecordings(&b)
		})
	})
}

// sweepRecordings checks, every SweepInterval, the rows still marked
// recording that no recording of this run holds (an earlier run's, or one
// whose end could not be written) against the PBX, like a link-up does.
func (c *Center) sweepRecordings() {
	if c.rec.Repo == nil {
		return
	}
	if _, ok := c.rec.Repo.(openRecordingLister); !ok {
		return
	}
	c.after(c.rec.SweepInterval, func() {
		c.recSweeping++
		skip := make(map[string]bool, len(c.recordings)+len(c.recEnding))
		for name := range c.recordings {
			skip[name] = true
		}
		for name := range c.recEnding {
			skip[name] = true
		}
		c.cmdWG.Add(1)
		go func() {
			defer c.cmdWG.Done()
			ctx, cancel := context.WithTimeout(c.runCtx, c.cfg.CommandTimeout)
			defer cancel()
			probe := c.probeRecordings(ctx, nil, skip)
			probe.sweep = true
			c.post(func() {
				c.recoverRecordings(probe)
				c.recSweeping--
				c.forgetEnded()
				c.sweepRecordings()
			})
		}()
	})
}

// forgetEnded drops the recordings whose end is written once no link-up
// or sweep may still list them as open.
func (c *Center) forgetEnded() {
	if c.reconciling > 0 || c.recSweeping > 0 {
		return
	}
	for name, ending := range c.recEnding {
		if !ending {
			delete(c.recEnding, name)
		}
	}
}
