package center

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

// fakePBX records every command as a line ("answer c1") and lets a test feed
// events. Function fields override a command's result.
type fakePBX struct {
	events chan sb.Event
	cmds   chan string

	OriginateFn func(req sb.OriginateRequest) error
	PlayFn      func(ch sb.ChannelID, id sb.PlaybackID) error
	ChannelsFn  func() []sb.ChannelInfo
	BridgesFn   func() []sb.BridgeInfo
	EndpointsFn func() []sb.EndpointState
	// RecordingLiveFn answers RecordingLive; nil: every recording is live.
	RecordingLiveFn func(name string) bool
}

var _ sb.PBX = (*fakePBX)(nil)

func newFakePBX() *fakePBX {
	return &fakePBX{events: make(chan sb.Event, 100), cmds: make(chan string, 1000)}
}

func (f *fakePBX) rec(format string, args ...any) { f.cmds <- fmt.Sprintf(format, args...) }

func (f *fakePBX) Node() string            { return "fake" }
func (f *fakePBX) Events() <-chan sb.Event { return f.events }
func (f *fakePBX) Ready() bool             { return true }
func (f *fakePBX) Answer(_ context.Context, ch sb.ChannelID) error {
	f.rec("answer %s", ch)
	return nil
}
func (f *fakePBX) Ring(context.Context, sb.ChannelID) error { return nil }
func (f *fakePBX) Hangup(_ context.Context, ch sb.ChannelID, _ string) error {
	f.rec("hangup %s", ch)
	return nil
}
func (f *fakePBX) Originate(_ context.Context, r sb.OriginateRequest) (sb.ChannelInfo, error) {
	f.rec("originate %s %s %s", r.ID, r.Endpoint, strings.Join(r.AppArgs, ","))
	if f.OriginateFn != nil {
		if err := f.OriginateFn(r); err != nil {
			return sb.ChannelInfo{}, err
		}
	}
	return sb.ChannelInfo{ID: r.ID}, nil
}
func (f *fakePBX) Continue(context.Context, sb.ChannelID, string, string, int) error { return nil }
func (f *fakePBX) Redirect(context.Context, sb.ChannelID, string) error              { return nil }
func (f *fakePBX) SetVariable(context.Context, sb.ChannelID, string, string) error   { return nil }
func (f *fakePBX) GetVariable(context.Context, sb.ChannelID, string) (string, error) {
	return "", nil
}
func (f *fakePBX) GlobalVariable(context.Context, string) (string, error)  { return "", nil }
func (f *fakePBX) SetGlobalVariable(context.Context, string, string) error { return nil }
func (f *fakePBX) SendDTMF(context.Context, sb.ChannelID, string) error    { return nil }
func (f *fakePBX) Hold(context.Context, sb.ChannelID, bool) error          { return nil }
func (f *fakePBX) MusicOnHold(_ context.Context, ch sb.ChannelID, _ string, on bool) error {
	f.rec("moh %s %v", ch, on)
	return nil
}
func (f *fakePBX) Play(_ context.Context, ch sb.ChannelID, id sb.PlaybackID, media ...string) error {
	f.rec("play %s %s %s", ch, id, strings.Join(media, ","))
	if f.PlayFn != nil {
		return f.PlayFn(ch, id)
	}
	return nil
}
func (f *fakePBX) PlayBridge(context.Context, sb.BridgeID, sb.PlaybackID, ...string) error {
	return nil
}
func (f *fakePBX) StopPlayback(context.Context, sb.PlaybackID) error { return nil }
func (f *fakePBX) CreateBridge(_ context.Context, id sb.BridgeID, _ string) error {
	f.rec("bridge %s", id)
	return nil
}
func (f *fakePBX) AddToBridge(_ context.Context, b sb.BridgeID, ch ...sb.ChannelID) error {
	f.rec("add %s %v", b, ch)
	return nil
}
func (f *fakePBX) RemoveFromBridge(context.Context, sb.BridgeID, ...sb.ChannelID) error {
	return nil
}
func (f *fakePBX) DestroyBridge(_ context.Context, b sb.BridgeID) error {
	f.rec("destroy %s", b)
	return nil
}
func (f *fakePBX) RecordBridge(_ context.Context, b sb.BridgeID, r sb.RecordRequest) error {
	f.rec("record %s %s", b, r.Name)
	return nil
}
func (f *fakePBX) RecordChannel(context.Context, sb.ChannelID, sb.RecordRequest) error {
	return nil
}
func (f *fakePBX) StopRecording(context.Context, string) error { return nil }
func (f *fakePBX) RecordingLive(_ context.Context, name string) (bool, error) {
	if f.RecordingLiveFn != nil {
		return f.RecordingLiveFn(name), nil
	}
	return true, nil
}
func (f *fakePBX) PauseRecording(context.Context, string, bool) error { return nil }
func (f *fakePBX) StoredRecording(context.Context, string) (io.ReadCloser, error) {
	return nil, sb.Errorf(sb.ENOTFOUND, "no recording")
}
func (f *fakePBX) DeleteStoredRecording(context.Context, string) error { return nil }
func (f *fakePBX) Snoop(context.Context, sb.SnoopRequest) (sb.ChannelInfo, error) {
	return sb.ChannelInfo{}, nil
}
func (f *fakePBX) Channels(context.Context) ([]sb.ChannelInfo, error) {
	if f.ChannelsFn != nil {
		return f.ChannelsFn(), nil
	}
	return nil, nil
}
func (f *fakePBX) Bridges(context.Context) ([]sb.BridgeInfo, error) {
	if f.BridgesFn != nil {
		return f.BridgesFn(), nil
	}
	return nil, nil
}
func (f *fakePBX) Endpoints(context.Context) ([]sb.EndpointState, error) {
	if f.EndpointsFn != nil {
		return f.EndpointsFn(), nil
	}
	return nil, nil
}
func (f *fakePBX) SubscribeChannel(context.Context, sb.ChannelID) error { return nil }

func (f *fakePBX) SubscribeEndpoint(_ context.Context, ep string) error {
	f.rec("subscribe %s", ep)
	return nil
}

// expect waits for the next command and checks it.
func (f *fakePBX) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-f.cmds:
		if got != want {
			t.Fatalf("command = %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no command, want %q", want)
	}
}

// expectSet waits for len(want) commands in any order.
func (f *fakePBX) expectSet(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for range want {
		select {
		case g := <-f.cmds:
			got = append(got, g)
		case <-time.After(5 * time.Second):
			t.Fatalf("got commands %q, want %q", got, want)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("commands = %q, want %q", got, want)
	}
}

// manualClock is a clock a test moves by hand.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
}

func (m *manualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{at: m.now.Add(d), f: f}
	m.timers = append(m.timers, t)
	return func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// waitTimer waits until a timer is pending.
func (m *manualClock) waitTimer(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		n := 0
		for _, tm := range m.timers {
			if !tm.stopped {
				n++
			}
		}
		m.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no timer pending")
		}
		time.Sleep(time.Millisecond)
	}
}

// Advance moves time on and fires due timers in order.
func (m *manualClock) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	var due []*manualTimer
	rest := m.timers[:0]
	for _, t := range m.timers {
		switch {
		case t.stopped:
		case !t.at.After(m.now):
			t.stopped = true
			due = append(due, t)
		default:
			rest = append(rest, t)
		}
	}
	m.timers = rest
	m.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// memCDR is an in-memory call log.
type memCDR struct {
	mu   sync.Mutex
	rows []sb.CDR
	got  chan sb.CDR
}

func newMemCDR() *memCDR { return &memCDR{got: make(chan sb.CDR, 100)} }

func (m *memCDR) InsertCDR(_ context.Context, c *sb.CDR) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rows {
		if r.CallID == c.CallID {
			return sb.Errorf(sb.ECONFLICT, "duplicate call %s", c.CallID)
		}
	}
	c.ID = int64(len(m.rows) + 1)
	m.rows = append(m.rows, *c)
	m.got <- *c
	return nil
}

func (m *memCDR) next(t *testing.T) sb.CDR {
	t.Helper()
	select {
	case r := <-m.got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no call-log row written")
		return sb.CDR{}
	}
}
