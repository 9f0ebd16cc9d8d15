package routing_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/routing"
)

// fakeHost is the engine as the driver sees it: each call it gets is
// written down in calls; the calls it knows are live.
type fakeHost struct {
	now       time.Time
	running   bool
	calls     []string
	live      map[sb.CallID]bool
	connected map[sb.CallID]bool
	info      map[sb.CallID]routing.CallInfo
	legs      map[sb.CallID]int
	gone      map[sb.ChannelID]func() // a refused originate's callback
	timers    []*fakeTimer
	off       []func() // work handed off, then its continuation
	prompts   int
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

var _ routing.Host = (*fakeHost)(nil)

func newFakeHost() *fakeHost {
	return &fakeHost{now: t0, running: true, live: map[sb.CallID]bool{}, connected: map[sb.CallID]bool{},
		info: map[sb.CallID]routing.CallInfo{}, legs: map[sb.CallID]int{}, gone: map[sb.ChannelID]func(){}}
}

func (h *fakeHost) note(format string, args ...any) {
	h.calls = append(h.calls, fmt.Sprintf(format, args...))
}

// fire runs the timers due at or before at, advancing the clock.
func (h *fakeHost) fire(at time.Time) {
	h.now = at
	for _, tm := range slices.Clone(h.timers) {
		if !tm.stopped && !tm.at.After(at) {
			tm.stopped = true
			tm.f()
		}
	}
}

func (h *fakeHost) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (h *fakeHost) Now() time.Time       { return h.now }
func (h *fakeHost) Running() bool        { return h.running }
func (h *fakeHost) OnLoop(_ context.Context, f func() error) error {
	return f()
}
func (h *fakeHost) Post(f func()) bool { f(); return true }
func (h *fakeHost) After(d time.Duration, f func()) func() bool {
	tm := &fakeTimer{at: h.now.Add(d), f: f}
	h.timers = append(h.timers, tm)
	return func() bool { was := !tm.stopped; tm.stopped = true; return was }
}
func (h *fakeHost) Off(work func(), then func()) {
	h.off = append(h.off, func() { work(); then() })
}
func (h *fakeHost) Do(_ sb.CallID, f func(ctx context.Context))          { f(context.Background()) }
func (h *fakeHost) Persist(func(ctx context.Context) error, func(error)) {}
func (h *fakeHost) RouterSettled()                                       {}
func (h *fakeHost) AgentChanged()                                        {}
func (h *fakeHost) StartCallback(a routing.StartCallback)                { h.note("StartCallback %s", a.Call) }
func (h *fakeHost) WithdrawCallback(call sb.CallID) bool                 { return false }
func (h *fakeHost) CallbackDone(call sb.CallID, why string)              { h.note("CallbackDone %s %s", call, why) }
func (h *fakeHost) Huntable(call sb.CallID) bool                         { return h.live[call] }
func (h *fakeHost) Prioritize(call sb.CallID, p int) {
	h.note("Prioritize %s %d", call, p)
	w := h.info[call]
	w.Priority = p
	h.info[call] = w
}
func (h *fakeHost) WaitQueued(call sb.CallID, class string)      { h.note("WaitQueued %s", call) }
func (h *fakeHost) ReleaseOffer(call sb.CallID, ch sb.ChannelID) { h.note("ReleaseOffer %s", ch) }
func (h *fakeHost) Connectable(call sb.CallID) bool              { return h.live[call] && !h.connected[call] }
func (h *fakeHost) RouterConnected(call sb.CallID) bool          { return h.connected[call] }
func (h *fakeHost) RingingOver(call sb.CallID)                   { h.note("RingingOver %s", call) }
func (h *fakeHost) MaybeFinish(call sb.CallID)                   { h.note("MaybeFinish %s", call) }
func (h *fakeHost) Exiting(call sb.CallID) bool                  { return h.live[call] }
func (h *fakeHost) ExitQueue(call sb.CallID, x routing.Exit) {
	h.note("ExitQueue %s %s", call, x.Reason)
}
func (h *fakeHost) ResumeMOH(call sb.CallID) { h.note("ResumeMOH %s", call) }
func (h *fakeHost) QueueOf(call sb.CallID) (sb.QueueName, bool) {
	return h.info[call].Queue, h.live[call]
}
func (h *fakeHost) Hunting(call sb.CallID, def sb.QueueName) (routing.CallInfo, bool) {
	h.note("Hunting %s", call)
	return h.info[call], true
}
func (h *fakeHost) Entering(call sb.CallID, at time.Time) (routing.CallInfo, bool) {
	return h.info[call], h.live[call]
}
func (h *fakeHost) Ringing(call sb.CallID) bool { return h.live[call] }
func (h *fakeHost) NextOfferLeg(call sb.CallID) sb.ChannelID {
	h.legs[call]++
	return sb.ChannelID(fmt.Sprintf("%s-a%d", call, h.legs[call]))
}
func (h *fakeHost) RingOffer(call sb.CallID, agent sb.AgentID, ch sb.ChannelID, endpoint string, _ time.Duration, _ sb.QueueName, gone func()) {
	h.note("RingOffer %s %s %s", ch, agent, endpoint)
	h.gone[ch] = gone
}
func (h *fakeHost) HangupOffer(call sb.CallID, ch sb.ChannelID, notFound func()) {
	h.note("HangupOffer %s", ch)
}
func (h *fakeHost) AgentConnected(call sb.CallID, agent sb.AgentID, ch sb.ChannelID) {
	h.note("AgentConnected %s %s %s", call, agent, ch)
	h.connected[call] = true
}
func (h *fakeHost) PromptSeq(call sb.CallID) (int, bool, bool) {
	if !h.live[call] {
		return 0, false, false
	}
	h.prompts++
	return h.prompts, true, true
}

// fakePBX writes down the prompts played.
type fakePBX struct {
	calls   []string
	playErr error
}

func (p *fakePBX) Play(_ context.Context, ch sb.ChannelID, id sb.PlaybackID, media ...string) error {
	p.calls = append(p.calls, fmt.Sprintf("Play %s %s", ch, id))
	return p.playErr
}

func (p *fakePBX) MusicOnHold(_ context.Context, ch sb.ChannelID, class string, on bool) error {
	p.calls = append(p.calls, fmt.Sprintf("MusicOnHold %s %v", ch, on))
	return nil
}

// fakeQueueLog keeps the queue_log lines' events.
type fakeQueueLog struct{ events []string }

func (q *fakeQueueLog) Write(e queuelog.Event) error {
	q.events = append(q.events, e.Event)
	return nil
}

// driverRig is a driver on a fake engine and PBX, its agents logged in.
type driverRig struct {
	h    *fakeHost
	pbx  *fakePBX
	qlog *fakeQueueLog
	d    *routing.Driver
}

func newDriverRig(t *testing.T, q sb.Queue, ids ...string) *driverRig {
	t.Helper()
	r, err := routing.New(routing.Config{Agents: agents(ids...), Queues: []sb.Queue{q}})
	if err != nil {
		t.Fatal(err)
	}
	rig := &driverRig{h: newFakeHost(), pbx: &fakePBX{}, qlog: &fakeQueueLog{}}
	var logins []sb.Agent
	for _, id := range ids {
		logins = append(logins, sb.Agent{ID: sb.AgentID(id)})
	}
	rig.d = routing.NewDriver(rig.h, rig.pbx, r, routing.DriverOptions{QueueLog: rig.qlog, Agents: logins, Queues: []sb.Queue{q},
		VIP: map[string]int{"5550000": 9}})
	rig.d.Start()
	return rig
}

// caller makes call a live caller of queue q.
func (rig *driverRig) caller(call sb.CallID, q sb.QueueName, number string) {
	rig.h.live[call] = true
	rig.h.info[call] = routing.CallInfo{Queue: q, Caller: number}
}

func (rig *driverRig) want(t *testing.T, want ...string) {
	t.Helper()
	if !slices.Equal(rig.h.calls, want) {
		t.Errorf("host calls\n got %q\nwant %q", rig.h.calls, want)
	}
	rig.h.calls = nil
}

func TestDriverRingsTheOfferAndConnectsTheAnswer(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales"}, "a1")
	rig.caller("c1", "sales", "5551234")
	rig.d.Hunt("c1")
	rig.want(t, "Hunting c1", "WaitQueued c1", "RingOffer c1-a1 a1 PJSIP/a1")
	if n := rig.d.Ringing("c1"); n != 1 {
		t.Errorf("ringing %d, want 1", n)
	}
	if !rig.d.Event(sb.ChannelEntered{Channel: sb.ChannelInfo{ID: "c1-a1"}}) {
		t.Fatal("the answered offer was not the driver's")
	}
	rig.want(t, "AgentConnected c1 a1 c1-a1")
	if rig.d.Entered("c1-a1") || rig.d.Event(sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: "c1-a1"}}) {
		t.Error("a connected agent leg is still the driver's")
	}
	if st := rig.d.AgentStates()["a1"]; st.State != routing.StateOnCall || st.Call != "c1" {
		t.Errorf("agent state %+v, want on call c1", st)
	}
	rig.d.ReportEnded("c1", "c1", "", false)
	if got := strings.Join(rig.qlog.events, " "); got != "AGENTLOGIN ADDMEMBER ENTERQUEUE CONNECT COMPLETECALLER" {
		t.Errorf("queue_log %s", got)
	}
}

func TestDriverVIPRaisesPriority(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales"})
	rig.caller("c1", "sales", "5550000")
	rig.d.Hunt("c1")
	rig.want(t, "Hunting c1", "Prioritize c1 9", "WaitQueued c1")
}

func TestDriverFailedOfferReportsAndSettles(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales", Strategy: routing.Linear}, "a1", "a2")
	rig.caller("c1", "sales", "5551234")
	rig.d.Hunt("c1")
	rig.want(t, "Hunting c1", "WaitQueued c1", "RingOffer c1-a1 a1 PJSIP/a1")
	// The phone is busy: the leg's hang-up request says so, its destroy
	// ends it; the router rings the next agent.
	if !rig.d.Event(sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: "c1-a1"}, Cause: 17}) {
		t.Fatal("the ringing leg's end was not the driver's")
	}
	rig.want(t, "ReleaseOffer c1-a1", "RingOffer c1-a2 a2 PJSIP/a2", "MaybeFinish c1")
	if st := rig.d.AgentStates()["a1"]; st.State == routing.StateReserved {
		t.Errorf("a busy agent is still reserved: %+v", st)
	}
	// The PBX refuses the second originate: the leg never rang.
	rig.h.gone["c1-a2"]()
	rig.want(t, "ReleaseOffer c1-a2", "RingingOver c1", "MaybeFinish c1")
	if n := rig.d.Ringing("c1"); n != 0 {
		t.Errorf("ringing %d, want 0", n)
	}
}

func TestDriverOfferForAGoneCallFails(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales"}, "a1")
	rig.caller("c1", "sales", "5551234")
	rig.h.info["c1"] = routing.CallInfo{Queue: "sales"}
	// Enqueued, then gone before the offer is carried out.
	rig.h.live["c1"] = false
	rig.d.Enqueue("c1", "")
	if len(rig.h.calls) != 0 {
		t.Errorf("a gone call was enqueued: %q", rig.h.calls)
	}
	rig.h.live["c1"] = true
	rig.h.live["c2"], rig.h.info["c2"] = false, routing.CallInfo{Queue: "sales"}
	rig.d.Apply(routing.Enqueue{Call: "c2", Queue: "sales", EnteredAt: t0})
	// The router is told the agent's leg failed (unreachable).
	rig.want(t, "WaitQueued c2")
	if st := rig.d.AgentStates()["a1"]; st.State != routing.StateUnavailable || st.Reason != "unreachable" {
		t.Errorf("agent state %+v, want unavailable: unreachable", st)
	}
}

func TestDriverSecondAnswerIsHungUp(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales", Strategy: routing.RingAll}, "a1", "a2")
	rig.caller("c1", "sales", "5551234")
	rig.d.Hunt("c1")
	rig.want(t, "Hunting c1", "WaitQueued c1", "RingOffer c1-a1 a1 PJSIP/a1", "RingOffer c1-a2 a2 PJSIP/a2")
	rig.d.Entered("c1-a1")
	if !slices.Contains(rig.h.calls, "AgentConnected c1 a1 c1-a1") || !slices.Contains(rig.h.calls, "HangupOffer c1-a2") {
		t.Errorf("first answer: %q", rig.h.calls)
	}
	rig.h.calls = nil
	if !rig.d.Entered("c1-a2") {
		t.Fatal("the cancelled leg is no longer the driver's")
	}
	rig.want(t, "HangupOffer c1-a2")
	// Its end reports no failure: the router cancelled it.
	rig.d.Event(sb.ChannelDestroyed{Channel: sb.ChannelInfo{ID: "c1-a2"}, Cause: 16})
	rig.want(t, "ReleaseOffer c1-a2", "RingingOver c1", "MaybeFinish c1")
}

func TestDriverWakesTheRouterAndExits(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales", WaitForAgent: 30 * time.Second}, "a1")
	if err := rig.d.Route(routing.AgentPause{Agent: "a1", Reason: "lunch"}); err != nil {
		t.Fatal(err)
	}
	rig.caller("c1", "sales", "5551234")
	rig.d.Hunt("c1")
	rig.want(t, "Hunting c1", "WaitQueued c1")
	rig.h.fire(t0.Add(29 * time.Second))
	if len(rig.h.calls) != 0 {
		t.Fatalf("woken early: %q", rig.h.calls)
	}
	rig.h.fire(t0.Add(30 * time.Second))
	rig.want(t, "CallbackDone c1 given up: max-wait", "ExitQueue c1 max-wait")
	rig.d.Stop()
}

func TestDriverAnnouncesBetweenMusic(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales", AnnounceEvery: 30 * time.Second, AnnouncePosition: true}, "a1")
	if err := rig.d.Route(routing.AgentPause{Agent: "a1", Reason: "lunch"}); err != nil {
		t.Fatal(err)
	}
	rig.caller("c1", "sales", "5551234")
	rig.d.Hunt("c1")
	rig.h.fire(t0.Add(30 * time.Second))
	if want := []string{"MusicOnHold c1 false", "Play c1 c1-ann1"}; !slices.Equal(rig.pbx.calls, want) {
		t.Fatalf("PBX %q, want %q", rig.pbx.calls, want)
	}
	rig.h.calls = nil
	if !rig.d.Announced("c1-ann1") {
		t.Fatal("the announcement was not the driver's")
	}
	rig.want(t, "ResumeMOH c1")
	if rig.d.Announced("c1-ann1") || rig.d.Announced("c1-greet") {
		t.Error("a playback taken twice, or one not the driver's")
	}
	// A prompt that fails puts the music back at once.
	rig.pbx.playErr = sb.Errorf(sb.ENOTFOUND, "no such channel")
	rig.h.fire(t0.Add(60 * time.Second))
	rig.want(t, "ResumeMOH c1")
}

func TestDriverCommands(t *testing.T) {
	rig := newDriverRig(t, sb.Queue{Name: "sales"}, "a1")
	ctx := context.Background()
	if err := rig.d.Command(ctx, routing.AgentPause{Agent: "a1", Reason: "lunch"}); err != nil {
		t.Fatal(err)
	}
	if st := rig.d.AgentStates()["a1"]; st.State != routing.StatePaused || st.Reason != "lunch" {
		t.Errorf("agent state %+v, want paused lunch", st)
	}
	if err := rig.d.Command(ctx, routing.AgentLogin{Agent: "nobody"}); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("unknown agent: %v, want ECONFLICT", err)
	}
	rig.h.running = false
	if err := rig.d.Command(ctx, routing.AgentReady{Agent: "a1"}); sb.ErrorCode(err) != sb.EUNAVAILABLE {
		t.Errorf("not running: %v, want EUNAVAILABLE", err)
	}
}

func TestDriverReturningCallerLookedUpOffTheLoop(t *testing.T) {
	q := sb.Queue{Name: "sales", ReturningCaller: time.Hour, PreferredWait: time.Minute, Strategy: routing.Linear}
	r, err := routing.New(routing.Config{Agents: agents("a1", "a2"), Queues: []sb.Queue{q}})
	if err != nil {
		t.Fatal(err)
	}
	h, looked := newFakeHost(), ""
	d := routing.NewDriver(h, &fakePBX{}, r, routing.DriverOptions{Agents: []sb.Agent{{ID: "a1"}, {ID: "a2"}}, Queues: []sb.Queue{q},
		LastAgent: func(_ context.Context, caller, queue string, since time.Time) (string, bool, error) {
			looked = caller + " " + queue + " " + since.Format(time.TimeOnly)
			return "a2", true, nil
		}})
	d.Start()
	h.live["c1"], h.info["c1"] = true, routing.CallInfo{Queue: "sales", Caller: "5551234"}
	d.Hunt("c1")
	if len(h.off) != 1 || slices.Contains(h.calls, "RingOffer c1-a1 a2 PJSIP/a2") {
		t.Fatalf("the lookup is not off the loop: %q", h.calls)
	}
	h.off[0]()
	if looked != "5551234 sales 09:00:00" {
		t.Errorf("looked up %q", looked)
	}
	if want := []string{"Hunting c1", "WaitQueued c1", "RingOffer c1-a1 a2 PJSIP/a2"}; !slices.Equal(h.calls, want) {
		t.Errorf("host calls %q, want %q", h.calls, want)
	}
}
