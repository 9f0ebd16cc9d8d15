package obcall_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign/blend"
	"github.com/switchboard/switchboard/campaign/obcall"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/routing"
)

// fakeHost is the engine as the driver sees it, run on the test's own
// goroutine: what is detached or posted runs at once, timers fire when the
// test says. Every command it is given is noted in did.
type fakeHost struct {
	now      time.Time
	did      []string
	draining bool
	known    map[sb.ChannelID]bool
	lines    map[sb.ChannelID]*obcall.Line // the lines whose person was enqueued
	members  map[sb.QueueName][]sb.AgentID
	states   map[sb.AgentID]routing.AgentState
	timers   []func()
	// refuse are the agents whose hold the router refuses.
	refuse map[sb.AgentID]bool
}

var _ obcall.Host = (*fakeHost)(nil)

func newFakeHost() *fakeHost {
	return &fakeHost{now: t0, known: map[sb.ChannelID]bool{}, lines: map[sb.ChannelID]*obcall.Line{}, members: map[sb.QueueName][]sb.AgentID{},
		states: map[sb.AgentID]routing.AgentState{}, refuse: map[sb.AgentID]bool{}}
}

func (h *fakeHost) note(format string, args ...any) {
	h.did = append(h.did, fmt.Sprintf(format, args...))
}

func (h *fakeHost) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (h *fakeHost) Now() time.Time       { return h.now }
func (h *fakeHost) Do(call sb.CallID, f func(ctx context.Context)) {
	h.note("do %s", call)
	f(context.Background())
}
func (h *fakeHost) Detached(f func(ctx context.Context))               { f(context.Background()) }
func (h *fakeHost) OnLoop(_ context.Context, f func() error) error     { return f() }
func (h *fakeHost) HangupOrphan(ch sb.ChannelID)                       { h.note("hangup %s", ch) }
func (h *fakeHost) Post(f func()) bool                                 { f(); return true }
func (h *fakeHost) Draining() bool                                     { return h.draining }
func (h *fakeHost) Reconciling() bool                                  { return false }
func (h *fakeHost) NoteGone(ch sb.ChannelID)                           { h.note("gone %s", ch) }
func (h *fakeHost) Known(ch sb.ChannelID) bool                         { return h.known[ch] }
func (h *fakeHost) Routing() bool                                      { return false }
func (h *fakeHost) QueueAgents(q sb.QueueName) []sb.AgentID            { return h.members[q] }
func (h *fakeHost) AgentStates() map[sb.AgentID]routing.AgentState     { return h.states }
func (h *fakeHost) After(d time.Duration, f func()) (stop func() bool) { return h.timer(d, f) }

func (h *fakeHost) timer(d time.Duration, f func()) func() bool {
	i := len(h.timers)
	h.timers = append(h.timers, f)
	h.note("timer %s", d)
	return func() bool {
		live := h.timers[i] != nil
		h.timers[i] = nil
		return live
	}
}

// fire runs the timers still set.
func (h *fakeHost) fire() {
	for i, f := range h.timers {
		if f != nil {
			h.timers[i] = nil
			f()
		}
	}
}

func (h *fakeHost) Enqueue(l *obcall.Line, ch sb.ChannelInfo, priority int) {
	h.note("enqueue %s %s priority %d", ch.ID, l.Dial().Queue, priority)
	h.lines[ch.ID] = l
}
func (h *fakeHost) Abandon(call sb.CallID, media []string) {
	h.note("abandon %s %s", call, strings.Join(media, ","))
}
func (h *fakeHost) DialPreview(l *obcall.Line) error {
	if l.Dial().Agent == "nophone" {
		return sb.Errorf(sb.ENOTFOUND, "agent nophone has no phone")
	}
	h.note("preview %s %s", l.Dial().Channel, l.Dial().Agent)
	return nil
}
func (h *fakeHost) AgentReady(agent sb.AgentID) {
	h.note("ready %s", agent)
	h.states[agent] = routing.AgentState{Agent: agent, State: routing.StateAvailable}
}
func (h *fakeHost) Hold(agent sb.AgentID) error {
	if h.refuse[agent] {
		return errors.New("refused")
	}
	h.note("hold %s", agent)
	h.states[agent] = routing.AgentState{Agent: agent, State: routing.StatePaused, Reason: blend.HoldReason}
	return nil
}

// fakePBX notes the commands the driver gives it; the others are not
// expected (the nil interface panics).
type fakePBX struct {
	obcall.PBX
	h         *fakeHost
	originate error
	globals   map[string]string
}

func (p *fakePBX) Originate(_ context.Context, req sb.OriginateRequest) (sb.ChannelInfo, error) {
	p.h.note("originate %s %s %s", req.ID, req.Endpoint, strings.Join(req.AppArgs, ","))
	return sb.ChannelInfo{ID: req.ID}, p.originate
}
func (p *fakePBX) SubscribeChannel(_ context.Context, ch sb.ChannelID) error {
	p.h.note("subscribe %s", ch)
	return nil
}
func (p *fakePBX) Continue(_ context.Context, ch sb.ChannelID, ctx, exten string, prio int) error {
	p.h.note("continue %s %s,%s,%d", ch, ctx, exten, prio)
	return nil
}
func (p *fakePBX) Play(_ context.Context, ch sb.ChannelID, id sb.PlaybackID, media ...string) error {
	p.h.note("play %s %s %s", ch, id, strings.Join(media, ","))
	return nil
}
func (p *fakePBX) GlobalVariable(_ context.Context, name string) (string, error) {
	return p.globals[name], nil
}

// driverRig is a driver on a fake host and PBX, with the reports it made.
type driverRig struct {
	h       *fakeHost
	pbx     *fakePBX
	d       *obcall.Driver
	reports []outbound.Event
}

func newDriverRig(adopt func(ctx context.Context, attempt int64) (outbound.Dial, error)) *driverRig {
	r := &driverRig{h: newFakeHost()}
	r.pbx = &fakePBX{h: r.h, globals: map[string]string{}}
	r.d = obcall.NewDriver(r.h, r.pbx, obcall.Hooks{Report: func(e outbound.Event) { r.reports = append(r.reports, e) }, Adopt: adopt}, 0)
	return r
}

// expect checks the commands noted since the last expect.
func (r *driverRig) expect(t *testing.T, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(r.h.did, want) && !(len(r.h.did) == 0 && len(want) == 0) {
		t.Errorf("did:\n %q\nwant:\n %q", r.h.did, want)
	}
	r.h.did = nil
}

// ended checks the last report: attempt ended with outcome want.
func (r *driverRig) ended(t *testing.T, attempt int64, want sb.DialOutcome) {
	t.Helper()
	if len(r.reports) == 0 {
		t.Fatalf("no report, want attempt %d ended %s", attempt, want)
	}
	e := r.reports[len(r.reports)-1]
	if e.Attempt != attempt || e.Kind != outbound.Ended || e.Outcome != want {
		t.Errorf("report %+v, want attempt %d ended %s", e, attempt, want)
	}
}

func campaignDial(attempt int64) outbound.Dial {
	return outbound.Dial{Attempt: attempt, Channel: outbound.ChannelFor(attempt), Endpoint: "PJSIP/trunk/5551234",
		Campaign: "spring", Queue: "sales", AMD: true, MachineMessage: "sound:vm-hello", AbandonMessage: "sound:sorry"}
}

func entered(ch sb.ChannelID) sb.ChannelInfo { return sb.ChannelInfo{ID: ch, State: sb.ChannelUp} }

// TestDriverMachineMessage: a machine answers a campaign call: after its
// greeting the message is left, then the line is hung up and the attempt
// ends as a machine.
func TestDriverMachineMessage(t *testing.T) {
	r := newDriverRig(nil)
	d := campaignDial(7)
	if err := r.d.Dial(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "originate ob-7 PJSIP/trunk/5551234 obdial,7")
	r.d.Entered(entered(d.Channel), []string{obcall.ArgDial, "7"})
	r.expect(t, "subscribe ob-7", "continue ob-7 switchboard-outbound,amd,1")
	r.d.Entered(entered(d.Channel), []string{obcall.ArgAMD, "MACHINE", "LONGGREETING"})
	r.expect(t, "continue ob-7 switchboard-outbound,beep,1")
	r.d.LeaveMessage(d.Channel)
	r.expect(t, "play ob-7 ob-7-machine sound:vm-hello")
	if !r.d.Event(sb.PlaybackFinished{Playback: "ob-7-machine"}) {
		t.Fatal("the machine message's end is not the driver's")
	}
	r.expect(t, "hangup ob-7")
	if !r.d.Event(sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: d.Channel}, Cause: 16}) {
		t.Fatal("the line's end is not the driver's")
	}
	r.ended(t, 7, sb.DialMachine)
	if r.d.Event(sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: d.Channel}, Cause: 16}) {
		t.Error("an ended line still takes events")
	}
}

// TestDriverConnectWindow: a person answers and is queued first; no agent
// comes within the window: the person is abandoned, and the call's end
// closes the attempt as abandoned.
func TestDriverConnectWindow(t *testing.T) {
	r := newDriverRig(nil)
	d := campaignDial(8)
	if err := r.d.Dial(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r.d.Entered(entered(d.Channel), []string{obcall.ArgDial, "8"})
	r.h.did = nil
	r.d.Entered(entered(d.Channel), []string{obcall.ArgAMD, "HUMAN", "HUMAN"})
	r.expect(t, "timer 2s", fmt.Sprintf("enqueue ob-8 sales priority %d", obcall.FirstPriority))
	if len(r.reports) != 1 || r.reports[0].Kind != outbound.Answered {
		t.Fatalf("reports %+v, want answered", r.reports)
	}
	if r.d.Event(sb.HangupRequested{Channel: d.Channel}) {
		t.Error("a line with a person on it: its events are the call's, not the driver's")
	}
	r.h.fire()
	r.expect(t, "abandon ob-8 sound:sorry")
	r.d.Apply(r.h.lines["ob-8"], obcall.Finished{})
	r.ended(t, 8, sb.DialAbandoned)
}

// TestDriverHoldsAgentsForRingingLines: each line ringing for a queue
// holds one of its available agents; a hold the router refuses passes to
// the next agent; the line's end releases the agent.
func TestDriverHoldsAgentsForRingingLines(t *testing.T) {
	r := newDriverRig(nil)
	r.h.members["sales"] = []sb.AgentID{"a1", "a2", "a3"}
	for _, a := range []sb.AgentID{"a1", "a2", "a3"} {
		r.h.states[a] = routing.AgentState{Agent: a, State: routing.StateAvailable}
	}
	r.h.refuse["a1"] = true
	for _, n := range []int64{1, 2} {
		if err := r.d.Dial(context.Background(), campaignDial(n)); err != nil {
			t.Fatal(err)
		}
	}
	r.expect(t, "hold a2", "originate ob-1 PJSIP/trunk/5551234 obdial,1", "hold a3", "originate ob-2 PJSIP/trunk/5551234 obdial,2")
	r.d.Event(sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: "ob-2"}, Cause: 17})
	r.expect(t, "ready a3")
	r.ended(t, 2, sb.DialBusy)
	// An agent's state changed elsewhere (a2 paused by hand): the next
	// rebalance forgets him and holds nobody else (a1 refuses, a3 works).
	r.h.states["a2"] = routing.AgentState{Agent: "a2", State: routing.StatePaused, Reason: "lunch"}
	r.d.AgentChanged()
	r.d.RouterSettled()
	r.expect(t, "hold a3")
}

// TestDriverDialRefused: no dial while draining, none twice on a channel,
// a preview agent without a phone refuses; a refused originate ends the
// line without a report (the runner has Dial's error).
func TestDriverDialRefused(t *testing.T) {
	r := newDriverRig(nil)
	r.h.draining = true
	if err := r.d.Dial(context.Background(), campaignDial(1)); sb.ErrorCode(err) != sb.EUNAVAILABLE {
		t.Errorf("draining: %v, want unavailable", err)
	}
	r.h.draining = false
	if err := r.d.Dial(context.Background(), outbound.Dial{Channel: "ob-1"}); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("no endpoint: %v, want invalid", err)
	}
	p := campaignDial(2)
	p.Agent = "nophone"
	if err := r.d.Dial(context.Background(), p); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("preview agent without a phone: %v, want not found", err)
	}
	r.pbx.originate = errors.New("trunk down")
	if err := r.d.Dial(context.Background(), campaignDial(3)); err == nil {
		t.Error("a refused originate: no error")
	}
	r.pbx.originate = nil
	if err := r.d.Dial(context.Background(), campaignDial(3)); err != nil {
		t.Errorf("the channel of a refused originate is free again: %v", err)
	}
	if err := r.d.Dial(context.Background(), campaignDial(3)); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("twice on a channel: %v, want conflict", err)
	}
	if len(r.reports) != 0 {
		t.Errorf("reports %+v, want none", r.reports)
	}
}

// TestDriverAdoptsAfterRestart: a campaign call an earlier run placed comes
// back from AMD: its Dial is looked up and it is carried on (a person is
// queued first); one whose Dial cannot be found is hung up and its attempt
// closed as abandoned.
func TestDriverAdoptsAfterRestart(t *testing.T) {
	r := newDriverRig(func(_ context.Context, attempt int64) (outbound.Dial, error) {
		if attempt == 9 {
			return outbound.Dial{}, errors.New("no such attempt")
		}
		return campaignDial(attempt), nil
	})
	r.d.Entered(entered("ob-42"), []string{obcall.ArgAMD, "HUMAN", "HUMAN"})
	r.expect(t, "timer 2s", fmt.Sprintf("enqueue ob-42 sales priority %d", obcall.FirstPriority))
	if !r.d.Follows("ob-42") {
		t.Error("the adopted line is not followed")
	}
	r.d.Entered(entered("ob-9"), []string{obcall.ArgAMD, "HUMAN", "HUMAN"})
	r.expect(t, "hangup ob-9")
	r.ended(t, 9, sb.DialAbandoned)
}
