package recording

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

// fakeHost is the engine as the driver sees it, run by hand: work posted
// to the owner and timers wait until the test runs them; executors and
// commands run at once.
type fakeHost struct {
	now     time.Time
	calls   map[sb.CallID]Call
	posted  []func()
	timers  []fakeTimer
	settles []string // what SettleOn was asked, with the call it ran on
}

type fakeTimer struct {
	after time.Duration
	f     func()
}

var _ Host = (*fakeHost)(nil)

func (h *fakeHost) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (h *fakeHost) Now() time.Time       { return h.now }
func (h *fakeHost) RecordingCall(call sb.CallID) (Call, bool) {
	k, ok := h.calls[call]
	return k, ok
}
func (h *fakeHost) Do(_ sb.CallID, f func(ctx context.Context)) { f(context.Background()) }
func (h *fakeHost) Detached(f func(ctx context.Context))        { f(context.Background()) }
func (h *fakeHost) Background(f func(ctx context.Context))      { f(context.Background()) }
func (h *fakeHost) SettleOn(call sb.CallID, what string, _ []any, op func(ctx context.Context) error, done func(error)) {
	h.settles = append(h.settles, fmt.Sprintf("%s on %q", what, call))
	err := op(context.Background())
	if done != nil {
		h.posted = append(h.posted, func() { done(err) })
	}
}
func (h *fakeHost) OnLoop(_ context.Context, f func() error) error { return f() }
func (h *fakeHost) Post(f func()) bool {
	h.posted = append(h.posted, f)
	return true
}
func (h *fakeHost) After(d time.Duration, f func()) func() bool {
	h.timers = append(h.timers, fakeTimer{d, f})
	return func() bool { return false }
}
func (h *fakeHost) NewExec() Exec        { return inline{} }
func (h *fakeHost) Reconciling() bool    { return false }
func (h *fakeHost) RecordingsRecovered() {}

// run runs the posted work, and what it posts, until none is left.
func (h *fakeHost) run() {
	for len(h.posted) > 0 {
		f := h.posted[0]
		h.posted = h.posted[1:]
		f()
	}
}

// fire runs the timers set so far (each after its wait), then the work
// they posted.
func (h *fakeHost) fire(t *testing.T, want time.Duration) {
	t.Helper()
	timers := h.timers
	h.timers = nil
	if len(timers) == 0 {
		t.Fatal("no timer set")
	}
	for _, tm := range timers {
		if tm.after != want {
			t.Errorf("timer after %v, want %v", tm.after, want)
		}
		h.now = h.now.Add(tm.after)
		tm.f()
	}
	h.run()
}

// inline runs a recording's writes at once.
type inline struct{}

func (inline) Do(f func(ctx context.Context)) { f(context.Background()) }
func (inline) Close()                         {}

// fakePBX records the driver's recording commands.
type fakePBX struct {
	cmds []string
	live map[string]bool // RecordingLive's answers
	fail error           // RecordBridge's error
}

var _ PBX = (*fakePBX)(nil)

func (p *fakePBX) RecordBridge(_ context.Context, b sb.BridgeID, r sb.RecordRequest) error {
	p.cmds = append(p.cmds, fmt.Sprintf("record bridge %s %s", b, r.Name))
	return p.fail
}
func (p *fakePBX) RecordChannel(_ context.Context, ch sb.ChannelID, r sb.RecordRequest) error {
	p.cmds = append(p.cmds, fmt.Sprintf("record channel %s %s", ch, r.Name))
	return nil
}
func (p *fakePBX) StopRecording(_ context.Context, name string) error {
	p.cmds = append(p.cmds, "stop "+name)
	return nil
}
func (p *fakePBX) PauseRecording(_ context.Context, name string, pause bool) error {
	p.cmds = append(p.cmds, fmt.Sprintf("pause %s %v", name, pause))
	return nil
}
func (p *fakePBX) RecordingLive(_ context.Context, name string) (bool, error) {
	p.cmds = append(p.cmds, "live? "+name)
	return p.live[name], nil
}
func (p *fakePBX) StoredRecording(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("not here")
}
func (p *fakePBX) DeleteStoredRecording(context.Context, string) error { return nil }
func (p *fakePBX) Snoop(_ context.Context, r sb.SnoopRequest) (sb.ChannelInfo, error) {
	p.cmds = append(p.cmds, fmt.Sprintf("snoop %s on %s %v", r.ID, r.Channel, r.AppArgs))
	return sb.ChannelInfo{ID: r.ID}, nil
}

// fakeRepo keeps rows by name, in the order of their writes.
type fakeRepo struct {
	rows   map[string]Recording
	writes []string
}

func (r *fakeRepo) InsertRecording(_ context.Context, rec *Recording) error {
	rec.ID = int64(len(r.rows) + 1)
	r.rows[rec.Name] = *rec
	r.writes = append(r.writes, "insert "+rec.Name+" "+string(rec.State))
	return nil
}
func (r *fakeRepo) UpdateRecording(_ context.Context, rec *Recording) error {
	r.rows[rec.Name] = *rec
	r.writes = append(r.writes, "update "+rec.Name+" "+string(rec.State))
	return nil
}

// rig is a driver on a fake engine with one bridged call c1.
type rig struct {
	h    *fakeHost
	pbx  *fakePBX
	repo *fakeRepo
	d    *Driver
}

func newRig(p Policy) *rig {
	h := &fakeHost{now: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), calls: map[sb.CallID]Call{
		"c1": {Queue: "sales", Agent: "alice", Caller: "555", Bridge: "br-c1", AgentLeg: "c1-a1", Talking: true},
	}}
	pbx := &fakePBX{live: map[string]bool{}}
	repo := &fakeRepo{rows: map[string]Recording{}}
	d := NewDriver(h, pbx, Options{Policies: Policies{Default: p}, Repo: repo,
		Fetch: func(_ context.Context, r *Recording) error { r.Size = 44; return nil }})
	return &rig{h: h, pbx: pbx, repo: repo, d: d}
}

func TestDriverRecordsByPolicyAndStoresAtTheEnd(t *testing.T) {
	r := newRig(Policy{Mode: ModeAlways, PerLeg: true})
	r.d.Talking("c1")
	r.h.run()
	want := []string{
		"record bridge br-c1 sb-c1-1",
		"snoop c1-rs2 on c1 [recsnoop c1]", "record channel c1-rs2 sb-c1-caller-2",
		"snoop c1-rs3 on c1-a1 [recsnoop c1]", "record channel c1-rs3 sb-c1-agent-3",
	}
	if !reflect.DeepEqual(r.pbx.cmds, want) {
		t.Errorf("PBX commands\n got %q\nwant %q", r.pbx.cmds, want)
	}
	if got := r.d.OpenRecordings(); got != 3 {
		t.Errorf("open recordings = %d, want 3", got)
	}
	if got := r.d.Known(); len(got) != 3 {
		t.Errorf("known = %v, want the 3 started", got)
	}
	for _, name := range []string{"sb-c1-1", "sb-c1-caller-2", "sb-c1-agent-3"} {
		if !r.d.Event(name, Finished{Duration: time.Second}) {
			t.Errorf("Event(%s) = false, want one of the driver's", name)
		}
	}
	r.h.run()
	if got := r.d.OpenRecordings(); got != 0 {
		t.Errorf("open recordings = %d after their end, want 0", got)
	}
	for name, row := range r.repo.rows {
		if row.State != StateStored || row.Size != 44 {
			t.Errorf("%s: state %s size %d, want stored, 44 (fetched)", name, row.State, row.Size)
		}
	}
	if r.d.Event("sb-c1-1", Finished{}) {
		t.Error("an ended recording still takes events")
	}
	if len(r.d.ending) != 0 {
		t.Errorf("ending = %v after the writes with no reconcile, want none", r.d.ending)
	}
}

func TestDriverStartFailureFailsTheRecordingOnly(t *testing.T) {
	r := newRig(Policy{Mode: ModeAlways})
	r.pbx.fail = sb.Errorf(sb.ECONFLICT, "bridge gone")
	r.d.Talking("c1")
	r.h.run()
	row := r.repo.rows["sb-c1-1"]
	if row.State != StateFailed || row.Error == "" {
		t.Errorf("row %s (%q), want failed with the start error", row.State, row.Error)
	}
	if got := r.d.OpenRecordings(); got != 0 {
		t.Errorf("open recordings = %d, want 0", got)
	}
}

func TestDriverAgentKeys(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		keys string
		want []string
	}{
		{"on-demand: *3 starts, *1 pauses, *2 resumes, *4 stops", Policy{Mode: ModeOnDemand}, "*3*1*2*4",
			[]string{"record bridge br-c1 sb-c1-1", "pause sb-c1-1 true", "pause sb-c1-1 false", "stop sb-c1-1"}},
		{"always: the agent may not pause nor stop", Policy{Mode: ModeAlways}, "*3*1*4", []string{"record bridge br-c1 sb-c1-1"}},
		{"never: nothing starts", Policy{Mode: ModeNever}, "*3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(tt.p)
			for _, key := range tt.keys {
				r.d.AgentKey("c1", string(key))
				r.h.run()
			}
			if !reflect.DeepEqual(r.pbx.cmds, tt.want) {
				t.Errorf("PBX commands\n got %q\nwant %q", r.pbx.cmds, tt.want)
			}
		})
	}
}

func TestDriverAPI(t *testing.T) {
	ctx := context.Background()
	r := newRig(Policy{Mode: ModeOnDemand})
	if err := r.d.Pause(ctx, "c1"); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("Pause of a call not recorded: %v, want ECONFLICT", err)
	}
	if err := r.d.Start(ctx, "nope"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("Start of no call: %v, want ENOTFOUND", err)
	}
	if err := r.d.Start(ctx, "c1"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	r.h.run()
	if err := r.d.Start(ctx, "c1"); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("Start of a recorded call: %v, want ECONFLICT", err)
	}
	if p, err := r.d.Policy(ctx, "c1"); err != nil || p.Mode != ModeOnDemand {
		t.Errorf("Policy = %v, %v; want on-demand", p, err)
	}
	if err := r.d.Pause(ctx, "c1"); err != nil {
		t.Errorf("Pause: %v", err)
	}
	if err := r.d.Pause(ctx, "c1"); err == nil {
		t.Error("Pause of a paused recording: no error")
	}
	if err := r.d.Stop(ctx, "c1"); err != nil {
		t.Errorf("Stop: %v", err)
	}
	want := []string{"record bridge br-c1 sb-c1-1", "pause sb-c1-1 true", "stop sb-c1-1"}
	if !reflect.DeepEqual(r.pbx.cmds, want) {
		t.Errorf("PBX commands\n got %q\nwant %q", r.pbx.cmds, want)
	}
}

// A recording whose call is over and whose RecordingFinished never comes
// is asked about after EndWait, stopped while the PBX still makes it, and
// stored once the PBX no longer does.
func TestDriverEndWatch(t *testing.T) {
	r := newRig(Policy{Mode: ModeAlways})
	r.d.Talking("c1")
	r.h.run()
	delete(r.h.calls, "c1")
	r.d.CallOver("c1")
	r.pbx.live["sb-c1-1"] = true
	r.h.fire(t, DefaultEndWait)
	r.pbx.live["sb-c1-1"] = false
	r.h.fire(t, 2*DefaultEndWait)
	want := []string{"record bridge br-c1 sb-c1-1", "live? sb-c1-1", "stop sb-c1-1", "live? sb-c1-1"}
	if !reflect.DeepEqual(r.pbx.cmds, want) {
		t.Errorf("PBX commands\n got %q\nwant %q", r.pbx.cmds, want)
	}
	if got := r.h.settles; !reflect.DeepEqual(got, []string{`stop recording on "c1"`}) {
		t.Errorf("settles = %q", got)
	}
	if row := r.repo.rows["sb-c1-1"]; row.State != StateStored {
		t.Errorf("row %s, want stored", row.State)
	}
	if len(r.d.calls) != 0 {
		t.Errorf("the driver still keeps %d calls", len(r.d.calls))
	}
}

// A row an earlier run left recording is stopped when its call is gone
// and closed once the PBX confirms.
func TestDriverRecoverStopsARecordingOfAGoneCall(t *testing.T) {
	r := newRig(Policy{Mode: ModeAlways})
	row := Recording{ID: 7, Name: "sb-old-1", CallID: "old", State: StateRecording}
	r.d.Recover(Probe{open: []Recording{row}, live: map[string]bool{"sb-old-1": true}, asked: map[string]bool{"sb-old-1": true}})
	r.h.run()
	if got := r.h.settles; !reflect.DeepEqual(got, []string{`stop recording on ""`}) {
		t.Errorf("settles = %q, want the stop, on no call", got)
	}
	if got := r.repo.rows["sb-old-1"]; got.State != StateStored || got.ID != 7 {
		t.Errorf("row %+v, want stored under id 7", got)
	}
	if got := r.d.OpenRecordings(); got != 0 {
		t.Errorf("open recordings = %d, want 0", got)
	}
}
