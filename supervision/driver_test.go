package supervision_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/supervision"
)

// rig is a fake engine and PBX: one live call, talking or not, and the PBX
// commands the driver had carried out, as lines.
type rig struct {
	talk    supervision.Talk
	live    bool
	legs    int
	claimed map[sb.ChannelID]bool
	cmds    []string
	fail    string // a PBX command that fails
}

func newRig() *rig {
	return &rig{live: true, claimed: map[sb.ChannelID]bool{},
		talk: supervision.Talk{Queue: "sales", Agent: "1001", Talking: true, AgentLeg: "c1-a1", Bridge: "br-c1", Caller: "+15550001"}}
}

func (r *rig) cmd(f string, a ...any) error {
	line := fmt.Sprintf(f, a...)
	r.cmds = append(r.cmds, line)
	if r.fail != "" && strings.HasPrefix(line, r.fail) {
		return sb.Errorf(sb.EINTERNAL, "failed")
	}
	return nil
}

// Host.
func (r *rig) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (r *rig) Live(sb.CallID) bool  { return r.live }
func (r *rig) Talking(call sb.CallID) (supervision.Talk, bool) {
	return r.talk, call == "c1"
}
func (r *rig) TalkingTo(agent sb.AgentID) (sb.CallID, bool) {
	return "c1", r.talk.Talking && agent == r.talk.Agent
}
func (r *rig) Claim(_ sb.CallID, ch sb.ChannelID) { r.claimed[ch] = true }
func (r *rig) Release(ch sb.ChannelID)            { delete(r.claimed, ch) }
func (r *rig) NewLeg(call sb.CallID, kind string) sb.ChannelID {
	r.legs++
	return sb.ChannelID(fmt.Sprintf("%s-%s%d", call, kind, r.legs))
}
func (r *rig) Do(_ sb.CallID, f func(ctx context.Context)) { f(context.Background()) }
func (r *rig) Detached(f func(ctx context.Context))        { f(context.Background()) }
func (r *rig) Settle(ctx context.Context, _ string, _ []any, op func(ctx context.Context) error) error {
	return op(ctx)
}
func (r *rig) Hangup(ch sb.ChannelID) func(ctx context.Context) error {
	return func(context.Context) error { return r.cmd("hangup %s", ch) }
}
func (r *rig) HangupLeg(_ sb.CallID, ch sb.ChannelID) { _ = r.cmd("hangup %s", ch) }
func (r *rig) Originate(_ sb.CallID, req sb.OriginateRequest, _ string, _ func()) {
	_ = r.cmd("originate %s %s %s %s", req.ID, req.Endpoint, req.CallerID, strings.Join(req.AppArgs, ","))
}
func (r *rig) OnLoop(_ context.Context, f func() error) error { return f() }
func (r *rig) HangupOrphan(ch sb.ChannelID)                   { _ = r.cmd("orphan %s", ch) }
func (r *rig) Refuse(ch sb.ChannelID)                         { _ = r.cmd("refuse %s", ch) }
func (r *rig) Aux(sb.ChannelID)                               {}

// PBX.
func (r *rig) Answer(_ context.Context, ch sb.ChannelID) error { return r.cmd("answer %s", ch) }
func (r *rig) Ring(context.Context, sb.ChannelID) error        { return nil }
func (r *rig) CreateBridge(_ context.Context, id sb.BridgeID, _ string) error {
	return r.cmd("create %s", id)
}
func (r *rig) AddToBridge(_ context.Context, b sb.BridgeID, ch ...sb.ChannelID) error {
	return r.cmd("add %s %v", b, ch)
}
func (r *rig) RemoveFromBridge(_ context.Context, b sb.BridgeID, ch ...sb.ChannelID) error {
	return r.cmd("remove %s %v", b, ch)
}
func (r *rig) DestroyBridge(_ context.Context, b sb.BridgeID) error { return r.cmd("destroy %s", b) }
func (r *rig) Snoop(_ context.Context, req sb.SnoopRequest) (sb.ChannelInfo, error) {
	return sb.ChannelInfo{}, r.cmd("snoop %s on %s spy=%s whisper=%s", req.ID, req.Channel, req.Spy, req.Whisper)
}

// pbx is the rig as the driver's PBX (sb.Calls has more than it needs).
type pbx struct{ *rig }

func (p pbx) Hangup(_ context.Context, ch sb.ChannelID, _ string) error {
	return p.cmd("hangup %s", ch)
}
func (p pbx) Originate(context.Context, sb.OriginateRequest) (sb.ChannelInfo, error) {
	return sb.ChannelInfo{}, nil
}
func (p pbx) Continue(context.Context, sb.ChannelID, string, string, int) error { return nil }
func (p pbx) Redirect(context.Context, sb.ChannelID, string) error              { return nil }
func (p pbx) SendDTMF(context.Context, sb.ChannelID, string) error              { return nil }
func (p pbx) Hold(context.Context, sb.ChannelID, bool) error                    { return nil }
func (p pbx) MusicOnHold(context.Context, sb.ChannelID, string, bool) error     { return nil }

func (r *rig) take() []string {
	c := r.cmds
	r.cmds = nil
	return c
}

func TestDriverModes(t *testing.T) {
	r := newRig()
	d := supervision.NewDriver(r, pbx{r}, nil, 20*time.Second)
	ctx := context.Background()
	if err := d.Monitor(ctx, "c1", "PJSIP/1099", "shout"); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("an unknown mode: %v; want EINVALID", err)
	}
	if err := d.Monitor(ctx, "c1", "PJSIP/1099", supervision.Listen); err != nil {
		t.Fatal(err)
	}
	if err := d.Monitor(ctx, "c1", "PJSIP/1098", supervision.Listen); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("a second supervisor: %v; want ECONFLICT", err)
	}
	if got, want := r.take(), []string{`originate c1-sv1 PJSIP/1099 "Monitor 1001" <+15550001> supervisor,c1`}; !reflect.DeepEqual(got, want) {
		t.Errorf("Monitor: %q; want %q", got, want)
	}
	d.Entered(sb.ChannelInfo{ID: "c1-sv1"}, "c1")
	if got, want := r.take(), []string{"create sv-c1", "snoop c1-sn2 on c1-a1 spy=both whisper=none", "add sv-c1 [c1-sv1 c1-sn2]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("listen: %q; want %q", got, want)
	}
	if !d.Digit("c1", "c1-sv1", "3") {
		t.Fatal("a key of the supervisor was not taken")
	}
	if got, want := r.take(), []string{"hangup c1-sn2", "remove sv-c1 [c1-sv1]", "add br-c1 [c1-sv1]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("barge: %q; want %q", got, want)
	}
	// The listen snoop's end comes back from the PBX: released, nothing
	// else done.
	if !d.LegGone("c1", "c1-sn2") || len(r.cmds) != 0 || r.claimed["c1-sn2"] {
		t.Errorf("the old snoop's end: taken and released? commands %q", r.take())
	}
	if err := d.SetMode(ctx, "c1", supervision.Whisper); err != nil {
		t.Fatal(err)
	}
	// Out of the call's bridge first: the customer must not hear a
	// listener.
	if got, want := r.take(), []string{"remove br-c1 [c1-sv1]", "snoop c1-sn3 on c1-a1 spy=both whisper=out", "add sv-c1 [c1-sv1 c1-sn3]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("whisper after barge: %q; want %q", got, want)
	}
	if d.Digit("c1", "c1-a1", "1") {
		t.Error("the agent's key was taken as the supervisor's")
	}
	// The customer leaves: the supervisor, the snoop and the monitor
	// bridge go.
	d.CallGone("c1")
	if got, want := r.take(), []string{"hangup c1-sv1", "hangup c1-sn3", "destroy sv-c1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("call gone: %q; want %q", got, want)
	}
	if len(r.claimed) != 0 {
		t.Errorf("legs still claimed: %v", r.claimed)
	}
	if err := d.Stop(ctx, "c1"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("Stop with nobody monitoring: %v; want ENOTFOUND", err)
	}
}

func TestDriverFailedModeHangsUpSupervisor(t *testing.T) {
	r := newRig()
	d := supervision.NewDriver(r, pbx{r}, nil, time.Second)
	if err := d.Monitor(context.Background(), "c1", "PJSIP/1099", supervision.Listen); err != nil {
		t.Fatal(err)
	}
	r.take()
	r.fail = "snoop"
	d.Entered(sb.ChannelInfo{ID: "c1-sv1"}, "c1")
	if got := r.take(); got[len(got)-1] != "hangup c1-sv1" {
		t.Errorf("a failed snoop: %q; want the supervisor hung up last", got)
	}
}

func TestDriverByCode(t *testing.T) {
	r := newRig()
	allow := supervision.Policy(func(ep string, q sb.QueueName, _ sb.AgentID) bool { return ep == "PJSIP/1099" && q == "sales" })
	d := supervision.NewDriver(r, pbx{r}, allow, time.Second)
	d.ByCode(sb.ChannelInfo{ID: "x1", Name: "PJSIP/1098-00000001"}, "1001")
	if got, want := r.take(), []string{"refuse x1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a phone the policy refuses: %q; want %q", got, want)
	}
	d.ByCode(sb.ChannelInfo{ID: "x2", Name: "PJSIP/1099-00000002"}, "1002")
	if got, want := r.take(), []string{"refuse x2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("an agent on no call: %q; want %q", got, want)
	}
	d.ByCode(sb.ChannelInfo{ID: "x3", Name: "PJSIP/1099-00000003"}, "1001")
	if got, want := r.take(), []string{"answer x3", "create sv-c1", "snoop c1-sn1 on c1-a1 spy=both whisper=none", "add sv-c1 [x3 c1-sn1]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("allowed: %q; want %q", got, want)
	}
	if !d.LegGone("c1", "x3") {
		t.Error("the supervisor's leg was not the driver's")
	}
	if got, want := r.take(), []string{"hangup x3", "hangup c1-sn1", "destroy sv-c1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("supervisor gone: %q; want %q", got, want)
	}
}
