package recording

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		call sb.CallID
		want bool
	}{
		{"always", Policy{Mode: ModeAlways}, "c1", true},
		{"never", Policy{Mode: ModeNever}, "c1", false},
		{"on demand waits for a person", Policy{Mode: ModeOnDemand}, "c1", false},
		{"sampled 0%", Policy{Mode: ModeSampled, Percent: 0}, "c1", false},
		{"sampled 100%", Policy{Mode: ModeSampled, Percent: 100}, "c1", true},
		{"unknown mode records", Policy{Mode: "sometimes"}, "c1", true},
		{"empty mode records", Policy{}, "c1", true},
		{"bad percent records", Policy{Mode: ModeSampled, Percent: 140}, "c1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.p, tc.call); got != tc.want {
				t.Errorf("Decide(%+v, %s) = %v, want %v", tc.p, tc.call, got, tc.want)
			}
		})
	}
}

// TestDecideSampled: the share converges on the percentage, and the answer
// for a call never changes (a restart decides the same).
func TestDecideSampled(t *testing.T) {
	for _, pct := range []float64{1, 10, 25, 50, 90} {
		p := Policy{Mode: ModeSampled, Percent: pct}
		const n = 20000
		got := 0
		for i := range n {
			if Decide(p, sb.CallID(fmt.Sprintf("1712345678.%d", i))) {
				got++
			}
		}
		share := 100 * float64(got) / n
		if share < pct-1.5 || share > pct+1.5 {
			t.Errorf("sampled %v%%: %.2f%% recorded", pct, share)
		}
	}
	// Fixed answers: a change of hash would re-decide calls in progress
	// across an upgrade, so it must be deliberate.
	p := Policy{Mode: ModeSampled, Percent: 50}
	var got []bool
	for _, id := range []sb.CallID{"a", "b", "c", "d", "e", "f"} {
		got = append(got, Decide(p, id))
	}
	again := []bool{}
	for _, id := range []sb.CallID{"a", "b", "c", "d", "e", "f"} {
		again = append(again, Decide(p, id))
	}
	if !slices.Equal(got, again) {
		t.Fatalf("not deterministic: %v then %v", got, again)
	}
	// A higher percentage records a superset of the calls.
	for i := range 2000 {
		id := sb.CallID(fmt.Sprint(i))
		if Decide(Policy{Mode: ModeSampled, Percent: 20}, id) && !Decide(Policy{Mode: ModeSampled, Percent: 30}, id) {
			t.Fatalf("call %s recorded at 20%% but not at 30%%", id)
		}
	}
}

func TestPoliciesFor(t *testing.T) {
	ps := Policies{
		Default:   Policy{Mode: ModeNever},
		Queues:    map[sb.QueueName]Policy{"sales": {Mode: ModeAlways, RetentionDays: 30}},
		Campaigns: map[string]Policy{"renewals": {Mode: ModeSampled, Percent: 10, RetentionDays: 7}},
	}
	for _, tc := range []struct {
		queue    sb.QueueName
		campaign string
		want     Mode
	}{
		{"sales", "", ModeAlways},
		{"support", "", ModeNever},
		{"sales", "renewals", ModeSampled},
		{"sales", "unknown", ModeAlways},
		{"", "", ModeNever},
	} {
		if got := ps.For(tc.queue, tc.campaign).Mode; got != tc.want {
			t.Errorf("For(%q, %q) = %s, want %s", tc.queue, tc.campaign, got, tc.want)
		}
	}
	if got := ps.ShortestRetention(); got != 7 {
		t.Errorf("ShortestRetention = %d, want 7", got)
	}
	if got := (Policies{}).ShortestRetention(); got != 0 {
		t.Errorf("ShortestRetention of none = %d", got)
	}
}

func TestPoliciesValidate(t *testing.T) {
	ok := Policies{Default: Policy{Mode: ModeOnDemand}, Queues: map[sb.QueueName]Policy{"q": {Mode: ModeSampled, Percent: 12.5, PerLeg: true}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid policies: %v", err)
	}
	bad := Policies{
		Default:   Policy{Mode: "sometimes"},
		Queues:    map[sb.QueueName]Policy{"b": {Mode: ModeSampled, Percent: -1}, "a": {Mode: ModeAlways, Percent: 5}},
		Campaigns: map[string]Policy{"c": {Mode: ModeNever, RetentionDays: -3}},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	want := "default: mode \"sometimes\" is not one of [always never on-demand sampled]\n" +
		"queues.a: percent is only for mode sampled\n" +
		"queues.b: percent -1 is outside 0..100\n" +
		"campaigns.c: retention_days -3 is negative"
	if got := err.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLegs(t *testing.T) {
	if got := Legs(Policy{Mode: ModeAlways}); !slices.Equal(got, []Leg{LegMixed}) {
		t.Errorf("mixed only: %v", got)
	}
	if got := Legs(Policy{Mode: ModeAlways, PerLeg: true}); !slices.Equal(got, []Leg{LegMixed, LegCaller, LegAgent}) {
		t.Errorf("per leg: %v", got)
	}
	if CanStartOnDemand(Policy{Mode: ModeNever}) || !CanStartOnDemand(Policy{Mode: ModeOnDemand}) {
		t.Error("CanStartOnDemand")
	}
}

func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		from, to State
		want     bool
	}{
		{StateRecording, StateRecording, true},
		{StateRecording, StateStored, true},
		{StateRecording, StateFailed, true},
		{StateRecording, StateDeleted, false}, // never delete what is being written
		{StateStored, StateDeleted, true},
		{StateStored, StateRecording, false},
		{StateStored, StateFailed, false},
		{StateFailed, StateStored, true},
		{StateFailed, StateDeleted, true},
		{StateDeleted, StateStored, false},
		{StateDeleted, StateDeleted, false},
	} {
		if got := CanTransition(tc.from, tc.to); got != tc.want {
			t.Errorf("%s -> %s = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	if got, want := From(StateDeleted), []State{StateStored, StateFailed}; !slices.Equal(got, want) {
		t.Errorf("From(deleted) = %v, want %v", got, want)
	}
	if got := From(StateRecording); !slices.Equal(got, []State{StateRecording}) {
		t.Errorf("From(recording) = %v", got)
	}
}

func TestPauses(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	var ps Pauses
	ps, err := ps.Pause(at(10))
	if err != nil || !ps.Paused() {
		t.Fatalf("pause: %v %v", ps, err)
	}
	if _, err := ps.Pause(at(11)); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("second pause: %v, want conflict", err)
	}
	snapshot := ps
	ps, err = ps.Resume(at(25))
	if err != nil || ps.Paused() {
		t.Fatalf("resume: %v %v", ps, err)
	}
	if !snapshot[0].End.IsZero() {
		t.Error("Resume changed the receiver")
	}
	if _, err := ps.Resume(at(26)); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("resume when running: %v, want conflict", err)
	}
	if _, err := ps.Pause(at(20)); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("pause inside the last pause: %v, want conflict", err)
	}
	ps, _ = ps.Pause(at(40))
	if got := ps.Total(at(50)); got != 25*time.Second {
		t.Errorf("total with an open pause = %v", got)
	}
	// The caller hangs up while paused: the pause ends with the recording.
	ps = ps.Close(at(45))
	want := Pauses{{Start: at(10), End: at(25)}, {Start: at(40), End: at(45)}}
	if !slices.Equal(ps, want) {
		t.Errorf("pauses = %v, want %v", ps, want)
	}
	if got := ps.Total(at(100)); got != 20*time.Second {
		t.Errorf("total = %v", got)
	}
	// A clock step back on resume gives an empty pause, not a negative one.
	back, _ := Pauses{{Start: at(10)}}.Resume(at(5))
	if back[0].End != at(10) || back.Total(at(99)) != 0 {
		t.Errorf("resume before start = %v", back)
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2025, 6, 30, 3, 0, 0, 0, time.UTC)
	ago := func(days int) sb.NullTime { return sb.SomeTime(now.Add(-time.Duration(days) * Day)) }
	ps := Policies{
		Default:   Policy{Mode: ModeAlways, RetentionDays: 90},
		Queues:    map[sb.QueueName]Policy{"sales": {Mode: ModeAlways, RetentionDays: 30}, "legal": {Mode: ModeAlways}},
		Campaigns: map[string]Policy{"promo": {Mode: ModeAlways, RetentionDays: 7}},
	}
	recs := []Recording{
		{ID: 1, Queue: "sales", State: StateStored, Ended: ago(31)},                      // due
		{ID: 2, Queue: "sales", State: StateStored, Ended: ago(29)},                      // too young
		{ID: 3, Queue: "sales", State: StateStored, Ended: ago(30)},                      // exactly 30 days: due
		{ID: 4, Queue: "sales", State: StateRecording, Started: now.Add(-400 * Day)},     // still being written
		{ID: 5, Queue: "sales", State: StateDeleted, Ended: ago(100)},                    // gone already
		{ID: 6, Queue: "legal", State: StateStored, Ended: ago(5000)},                    // kept forever
		{ID: 7, Queue: "sales", Campaign: "promo", State: StateStored, Ended: ago(8)},    // campaign rule first
		{ID: 8, Queue: "support", State: StateStored, Ended: ago(91)},                    // default rule
		{ID: 9, Queue: "support", State: StateStored, Ended: ago(89)},                    // default rule, young
		{ID: 10, Queue: "sales", State: StateFailed, Started: now.Add(-40 * Day)},        // failed, no end: by start
		{ID: 11, Queue: "sales", State: StateStored, Ended: ago(60)},                     // being downloaded
		{ID: 12, Queue: "sales", State: StateStored, Ended: sb.NullTime{}, Started: now}, // no end, recent start
	}
	inUse := func(id int64) bool { return id == 11 }
	due, busy := Expired(recs, ps, inUse, now)
	ids := func(rs []Recording) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if got, want := ids(due), []int64{1, 3, 7, 8, 10}; !slices.Equal(got, want) {
		t.Errorf("due = %v, want %v", got, want)
	}
	if got, want := ids(busy), []int64{11}; !slices.Equal(got, want) {
		t.Errorf("busy = %v, want %v", got, want)
	}
	if due, _ := Expired(recs, ps, nil, now); len(due) != 6 {
		t.Errorf("with no in-use check: %v", ids(due))
	}
}

func TestFileName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "" = rejected
	}{
		{"call-1712345678.42", "call-1712345678.42.wav"},
		{"vm_sales-0001", "vm_sales-0001.wav"},
		{"", ""},
		{"..", ""},
		{"../etc/passwd", ""},
		{"a/../../b", ""},
		{"/etc/passwd", ""},
		{"a/b", ""},
		{`a\b`, ""},
		{"..\\x", ""},
		{"a..b", ""},
		{".hidden", ""},
		{"nul\x00byte", ""},
		{"space name", ""},
		{"semi;colon", ""},
		{"ünïcode", ""},
		{string(bytes.Repeat([]byte("a"), MaxNameLen)), string(bytes.Repeat([]byte("a"), MaxNameLen)) + ".wav"},
		{string(bytes.Repeat([]byte("a"), MaxNameLen+1)), ""},
	} {
		got, err := FileName(tc.name)
		if got != tc.want {
			t.Errorf("FileName(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if tc.want == "" && sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("FileName(%q) error %v, want invalid", tc.name, err)
		}
	}
	for path, ok := range map[string]bool{"a.wav": true, "a": false, ".wav": false, "../a.wav": false, "a/b.wav": false} {
		if got := CheckPath(path) == nil; got != ok {
			t.Errorf("CheckPath(%q) ok = %v, want %v", path, got, ok)
		}
	}
}

// pcmWAV builds a PCM WAV file: header, optional extra chunk, samples.
func pcmWAV(rate, channels, bits int, data int, extra []byte) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	align := channels * bits / 8
	b.WriteString("RIFF")
	le(uint32(4 + 24 + len(extra) + 8 + data))
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(channels))
	le(uint32(rate))
	le(uint32(rate * align))
	le(uint16(align))
	le(uint16(bits))
	b.Write(extra)
	b.WriteString("data")
	le(uint32(data))
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestParseWAV(t *testing.T) {
	good := pcmWAV(8000, 1, 16, 16000*3, nil) // 3 s of 8 kHz mono 16-bit
	info, err := ParseWAV(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	want := WAVInfo{Format: 1, Channels: 1, SampleRate: 8000, ByteRate: 16000, BitsPerSample: 16, DataOffset: 44, DataSize: 48000, Duration: 3 * time.Second}
	if info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	// An odd-length chunk before data is padded.
	list := append([]byte("LIST\x03\x00\x00\x00abc"), 0)
	withList := pcmWAV(8000, 2, 16, 3200, list)
	if info, err := ParseWAV(bytes.NewReader(withList), int64(len(withList))); err != nil || info.Duration != 100*time.Millisecond || info.DataOffset != 56 {
		t.Errorf("with LIST chunk: %+v %v", info, err)
	}

	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	put32 := func(b []byte, at int, v uint32) []byte { binary.LittleEndian.PutUint32(b[at:], v); return b }
	put16 := func(b []byte, at int, v uint16) []byte { binary.LittleEndian.PutUint16(b[at:], v); return b }
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"short", []byte("RIFF")},
		{"not riff", mut(func(b []byte) []byte { copy(b, "RIFX"); return b })},
		{"not wave", mut(func(b []byte) []byte { copy(b[8:], "AVI "); return b })},
		{"truncated", good[:len(good)-100]},
		{"trailing garbage", append(append([]byte(nil), good...), 1, 2, 3, 4)},
		{"unfinished header (zero lengths)", mut(func(b []byte) []byte { return put32(put32(b, 4, 0), 40, 0) })},
		{"data past the end", mut(func(b []byte) []byte { return put32(b, 40, 48002) })},
		{"half frame", mut(func(b []byte) []byte { return put32(put32(b, 40, 47999), 4, 36+47999) })[:44+47999]},
		{"zero byte rate", mut(func(b []byte) []byte { return put32(b, 28, 0) })},
		{"inconsistent byte rate", mut(func(b []byte) []byte { return put32(b, 28, 8000) })},
		{"inconsistent block align", mut(func(b []byte) []byte { return put16(b, 32, 4) })},
		{"no data chunk", mut(func(b []byte) []byte { copy(b[36:], "junk"); return b })},
		{"data before fmt", mut(func(b []byte) []byte { copy(b[12:], "junk"); return b })},
		{"short fmt", mut(func(b []byte) []byte { return put32(b, 16, 8) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWAV(bytes.NewReader(tc.file), int64(len(tc.file)))
			if sb.ErrorCode(err) != sb.EINVALID {
				t.Errorf("err = %v, want invalid", err)
			}
		})
	}
}

func FuzzParseWAV(f *testing.F) {
	f.Add(pcmWAV(8000, 1, 16, 320, nil))
	f.Add(pcmWAV(8000, 2, 8, 10, []byte("LIST\x01\x00\x00\x00x\x00")))
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if info.DataOffset+info.DataSize > int64(len(b)) || info.ByteRate == 0 || info.Duration < 0 {
			t.Fatalf("accepted an impossible file: %+v (%d bytes)", info, len(b))
		}
	})
}

func TestNameFor(t *testing.T) {
	for _, tc := range []struct {
		call sb.CallID
		leg  Leg
		seq  int
		want string
	}{
		{"1712345678.42", LegMixed, 1, "sb-1712345678_42-1"},
		{"1712345678.42", LegAgent, 2, "sb-1712345678_42-agent-2"},
		{"Local/1001@ctx-0001;1", LegCaller, 1, "sb-Local_1001_ctx-0001_1-caller-1"},
		{"../../etc/passwd", LegMixed, 1, "sb-______etc_passwd-1"},
	} {
		if got := NameFor(tc.call, tc.leg, tc.seq); got != tc.want {
			t.Errorf("NameFor(%q, %q, %d) = %q, want %q", tc.call, tc.leg, tc.seq, got, tc.want)
		}
	}
	long := NameFor(sb.CallID(bytes.Repeat([]byte("x"), 500)), LegCaller, 12)
	if len(long) != MaxNameLen || CheckName(long) != nil {
		t.Errorf("long call id: %d bytes, %v", len(long), CheckName(long))
	}
}

func FuzzFileName(f *testing.F) {
	for _, s := range []string{"call-1", "../x", "a/b", "a\x00b", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := NameFor(sb.CallID(s), LegAgent, 3); CheckName(n) != nil {
			t.Fatalf("NameFor(%q) = %q is not a safe name", s, n)
		}
		name, err := FileName(s)
		if err != nil {
			return
		}
		if bytes.ContainsAny([]byte(name), "/\\\x00") || bytes.Contains([]byte(name), []byte("..")) || name[0] == '.' {
			t.Fatalf("FileName(%q) = %q", s, name)
		}
	})
}
