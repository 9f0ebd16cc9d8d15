package recording

import (
	"context"

	sb "github.com/switchboard/switchboard"
)

// The driver's requests from people: the API's (on any goroutine) and
// the agent's keys (on the owner).

// Pause pauses the live recordings of a call (a card number is being
// read); the pause is marked in their metadata.
func (d *Driver) Pause(ctx context.Context, call sb.CallID) error {
	return d.onCall(ctx, call, func(sb.CallID, Call) error { return d.pause(call, true) })
}

// Resume resumes them and closes the pause.
func (d *Driver) Resume(ctx context.Context, call sb.CallID) error {
	return d.onCall(ctx, call, func(sb.CallID, Call) error { return d.pause(call, false) })
}

// Start starts recording a bridged call by hand (the on-demand policy;
// any policy but never). ECONFLICT when it is already recorded or not
// bridged.
func (d *Driver) Start(ctx context.Context, call sb.CallID) error {
	return d.onCall(ctx, call, d.startOnDemand)
}

// Stop stops a call's recordings; they are fetched and stored as when the
// call ends.
func (d *Driver) Stop(ctx context.Context, call sb.CallID) error {
	return d.onCall(ctx, call, func(sb.CallID, Call) error { return d.stop(call) })
}

// Policy returns the recording policy of a live call: its campaign's, its
// queue's or the default (ENOTFOUND when no such call).
func (d *Driver) Policy(ctx context.Context, call sb.CallID) (Policy, error) {
	var p Policy
	err := d.onCall(ctx, call, func(_ sb.CallID, k Call) error {
		p = d.o.Policies.For(k.Queue, k.Campaign)
		return nil
	})
	return p, err
}

// onCall runs f on the owner with the live call (ENOTFOUND when none).
func (d *Driver) onCall(ctx context.Context, call sb.CallID, f func(call sb.CallID, k Call) error) error {
	return d.h.OnLoop(ctx, func() error {
		k, ok := d.h.RecordingCall(call)
		if !ok {
			return sb.Errorf(sb.ENOTFOUND, "no live call %s", call)
		}
		return f(call, k)
	})
}

// pause pauses or resumes the call's recordings; on the owner.
func (d *Driver) pause(call sb.CallID, pause bool) error {
	live := d.liveOf(call)
	if len(live) == 0 {
		return sb.Errorf(sb.ECONFLICT, "call %s is not being recorded", call)
	}
	var e LiveEvent = ResumeReq{}
	if pause {
		e = PauseReq{}
	}
	for _, lr := range live {
		if err := d.step(lr, e); err != nil {
			return err
		}
	}
	return nil
}

func (d *Driver) startOnDemand(call sb.CallID, k Call) error {
	if d.o.Repo == nil {
		return sb.Errorf(sb.EUNAVAILABLE, "recording is not configured")
	}
	p := d.o.Policies.For(k.Queue, k.Campaign)
	if err := OnDemand(p, k.Queue, call, k.Talking, d.liveOf(call) != nil); err != nil {
		return err
	}
	d.record(call, k, p)
	return nil
}

func (d *Driver) stop(call sb.CallID) error {
	live := d.liveOf(call)
	if live == nil {
		return sb.Errorf(sb.ECONFLICT, "call %s is not being recorded", call)
	}
	for _, lr := range live {
		d.step(lr, StopReq{})
	}
	return nil
}

// liveOf are the call's recordings being made.
func (d *Driver) liveOf(call sb.CallID) []*liveRec {
	cr := d.calls[call]
	if cr == nil {
		return nil
	}
	var live []*liveRec
	for _, name := range cr.names {
		if lr := d.live[name]; lr != nil {
			live = append(live, lr)
		}
	}
	return live
}

// AgentKey handles keys the agent presses during a live call: *1 pauses
// the recording (a card number is read), *2 resumes it, *3 starts
// recording (on-demand), *4 stops it (AgentKeys reads them and refuses
// what the call's policy does not let the agent do).
func (d *Driver) AgentKey(call sb.CallID, key string) {
	k, ok := d.h.RecordingCall(call)
	if !ok {
		return
	}
	req, err := d.of(call).keys.Press(key, d.o.Policies.For(k.Queue, k.Campaign))
	switch req {
	case KeyPause:
		err = d.pause(call, true)
	case KeyResume:
		err = d.pause(call, false)
	case KeyStart:
		err = d.startOnDemand(call, k)
	case KeyStop:
		err = d.stop(call)
	}
	if err != nil {
		d.h.Logger().Info("agent recording key", "call_id", call, "agent_id", k.Agent, "err", err)
	}
}
