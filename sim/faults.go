package sim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Faults makes the simulated Asterisk misbehave the way a loaded Asterisk
// 22 does, so that a controller's robustness can be tested: events that
// never come, come late or out of order, and requests that fail or hang.
// Every fault is drawn from one generator seeded with Seed, in the order
// the simulator meets the occasions, so a run with the same seed and the
// same traffic injects the same faults. The zero value injects none and
// draws nothing.
type Faults struct {
	// Seed seeds the fault draws; 0 takes Options.Seed. It is apart from
	// the generator of drawn durations so that turning faults on changes
	// no talk time. SetFaults seeds the generator afresh.
	Seed int64
	// RecordingFinished is the fate of RecordingFinished events.
	RecordingFinished RecordingFaults
	// Hangup faults DELETE /channels/{channelId}; the key of FailFirst
	// and StallFirst is the channel id.
	Hangup RequestFaults
	// RemoveChannel faults POST /bridges/{bridgeId}/removeChannel; the key
	// is the (first) channel removed.
	RemoveChannel RequestFaults
	// StopRecording faults POST /recordings/live/{recordingName}/stop; the
	// key is the recording name.
	StopRecording RequestFaults
}

// RecordingFaults are the faults of RecordingFinished. For each recording
// that finishes (done or canceled; RecordingFailed is never faulted) one
// draw picks drop, delay, reorder or nothing with these probabilities. In
// every case the recording really ends when it would have: it leaves
// /recordings/live (404) and, when done, its file is stored and can be
// downloaded; only the event is affected.
type RecordingFaults struct {
	// Drop is the fraction of RecordingFinished events never sent.
	Drop float64
	// Delay is the fraction sent DelayBy (simulated time) late.
	Delay float64
	// DelayBy is how late a delayed event is sent; needed with Delay.
	DelayBy time.Duration
	// Reorder is the fraction held back until every channel of the call
	// has ended (the recorded channel, or those in the recorded bridge
	// when the recording finished), so the event arrives after their
	// ChannelLeftBridge, StasisEnd and ChannelDestroyed. A recording whose
	// bridge is empty is sent after the events of the request that ended
	// it. Held events are lost if the channels never end.
	Reorder float64
}

// RequestFaults are the faults of one ARI operation. They apply only to
// a request whose target exists (a request that would answer 404 answers
// 404); each such request is faulted or not on its own, so a retry can
// succeed. The order of precedence: FailFirst, StallFirst, then one draw
// among Fail, Stall and nothing.
type RequestFaults struct {
	// Fail is the fraction answered 500 {"message":"Internal Server
	// Error"} without being carried out.
	Fail float64
	// Stall is the fraction held for StallFor before being answered.
	Stall float64
	// StallFor is how long a stalled request is held, in wall-clock time
	// (it must outlast a client's request timeout, which is wall time);
	// needed with Stall or StallFirst. ReleaseStalled ends stalls early.
	StallFor time.Duration
	// StallThenDo is the fraction of stalled requests carried out (and
	// answered as usual) once the stall ends; the others are not carried
	// out and answer 500 {"message":"Internal Server Error"}.
	StallThenDo float64
	// FailFirst makes the first N requests for a key (see Faults) fail
	// with 500, whatever the fractions; the N+1th goes on to StallFirst.
	FailFirst map[string]int
	// StallFirst stalls the next N requests for a key (after FailFirst).
	StallFirst map[string]int
}

// MaxFaultFirst bounds FailFirst and StallFirst counts.
const MaxFaultFirst = 1000

// faultPoint is an ARI operation that RequestFaults can affect.
type faultPoint int

const (
	noFault faultPoint = iota
	faultHangup
	faultRemoveChannel
	faultStopRecording
)

// String is the point's name in Stats.Faults and in the control API.
func (p faultPoint) String() string {
	return [...]string{"", "hangup", "remove_channel", "stop_recording"}[p]
}

// faultPoints map the routes of routeTable to their fault point.
var faultPoints = map[string]faultPoint{
	"DELETE /channels/{channelId}":               faultHangup,
	"POST /bridges/{bridgeId}/removeChannel":     faultRemoveChannel,
	"POST /recordings/live/{recordingName}/stop": faultStopRecording,
}

func (f *Faults) point(p faultPoint) *RequestFaults {
	switch p {
	case faultHangup:
		return &f.Hangup
	case faultRemoveChannel:
		return &f.RemoveChannel
	case faultStopRecording:
		return &f.StopRecording
	}
	return nil
}

// Validate reports the first field out of bounds, named as in the control
// API's JSON (e.g. "hangup.stall_for: ...").
func (f Faults) Validate() error {
	if fe := f.validate(); fe != nil {
		return fe
	}
	return nil
}

func (f Faults) validate() *fieldError {
	if fe := f.RecordingFinished.validate("recording_finished."); fe != nil {
		return fe
	}
	for _, p := range []faultPoint{faultHangup, faultRemoveChannel, faultStopRecording} {
		if fe := f.point(p).validate(p.String() + "."); fe != nil {
			return fe
		}
	}
	return nil
}

func checkFraction(field string, v float64) *fieldError {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return badField(field, "%v: want a fraction from 0 to 1", v)
	}
	return nil
}

func checkFaultDuration(field string, d time.Duration) *fieldError {
	if d < 0 || d > MaxScriptDuration {
		return badField(field, "%v: want a duration from 0 to %v", d, MaxScriptDuration)
	}
	return nil
}

func (r RecordingFaults) validate(pre string) *fieldError {
	for _, x := range []struct {
		name string
		v    float64
	}{{"drop", r.Drop}, {"delay", r.Delay}, {"reorder", r.Reorder}} {
		if fe := checkFraction(pre+x.name, x.v); fe != nil {
			return fe
		}
	}
	if sum := r.Drop + r.Delay + r.Reorder; sum > 1+1e-9 {
		return badField(pre+"drop", "drop, delay and reorder add up to %v: at most 1", sum)
	}
	if fe := checkFaultDuration(pre+"delay_by", r.DelayBy); fe != nil {
		return fe
	}
	if r.Delay > 0 && r.DelayBy <= 0 {
		return badField(pre+"delay_by", "required with delay")
	}
	return nil
}

func (r RequestFaults) validate(pre string) *fieldError {
	for _, x := range []struct {
		name string
		v    float64
	}{{"fail", r.Fail}, {"stall", r.Stall}, {"stall_then_do", r.StallThenDo}} {
		if fe := checkFraction(pre+x.name, x.v); fe != nil {
			return fe
		}
	}
	if sum := r.Fail + r.Stall; sum > 1+1e-9 {
		return badField(pre+"fail", "fail and stall add up to %v: at most 1", sum)
	}
	if fe := checkFaultDuration(pre+"stall_for", r.StallFor); fe != nil {
		return fe
	}
	for _, m := range []struct {
		name string
		m    map[string]int
	}{{"fail_first", r.FailFirst}, {"stall_first", r.StallFirst}} {
		for _, k := range sortedKeys(m.m) {
			if k == "" {
				return badField(pre+m.name, "an empty key: want a channel id or recording name")
			}
			if n := m.m[k]; n < 0 || n > MaxFaultFirst {
				return badField(pre+m.name, "%q: %d: want 0 to %d requests", k, n, MaxFaultFirst)
			}
		}
	}
	stalls := r.Stall > 0
	for _, n := range r.StallFirst {
		stalls = stalls || n > 0
	}
	if stalls && r.StallFor <= 0 {
		return badField(pre+"stall_for", "required with stall or stall_first")
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// clone copies f so that the server's copy shares no map with the caller.
func (f Faults) clone() Faults {
	cp := func(m map[string]int) map[string]int {
		if len(m) == 0 {
			return nil
		}
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for _, p := range []faultPoint{faultHangup, faultRemoveChannel, faultStopRecording} {
		rf := f.point(p)
		rf.FailFirst, rf.StallFirst = cp(rf.FailFirst), cp(rf.StallFirst)
	}
	return f
}

// ---- the flag syntax of `switchboard simulate` ----

// fracItem reads FRACTION or FRACTION:DURATION.
func fracItem(item, v string, withDur bool) (float64, time.Duration, error) {
	num, dur, hasDur := strings.Cut(v, ":")
	if hasDur && !withDur {
		return 0, 0, fmt.Errorf("%s=%s: want a fraction such as 0.1, no duration", item, v)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, 0, fmt.Errorf("%s=%s: %q is not a fraction from 0 to 1", item, v, num)
	}
	if withDur && !hasDur && f > 0 {
		return 0, 0, fmt.Errorf("%s=%s: want FRACTION:DURATION such as %s=0.1:2s", item, v, item)
	}
	var d time.Duration
	if hasDur {
		if d, err = time.ParseDuration(dur); err != nil || d <= 0 || d > MaxScriptDuration {
			return 0, 0, fmt.Errorf("%s=%s: %q is not a duration from 1ns to %v", item, v, dur, MaxScriptDuration)
		}
	}
	return f, d, nil
}

// splitItems splits "a=1,b=2" into items, each named once.
func splitItems(spec string, each func(name, value string) error) error {
	seen := map[string]bool{}
	for _, it := range strings.Split(spec, ",") {
		if it = strings.TrimSpace(it); it == "" {
			continue
		}
		name, v, ok := strings.Cut(it, "=")
		if !ok {
			return fmt.Errorf("%q: want NAME=VALUE", it)
		}
		if seen[name] {
			return fmt.Errorf("%q given twice", name)
		}
		seen[name] = true
		if err := each(name, v); err != nil {
			return err
		}
	}
	return nil
}

// ParseRecordingFaults reads the --fault-recording-finished syntax:
// comma-separated drop=FRACTION, delay=FRACTION:DURATION and
// reorder=FRACTION, e.g. "drop=0.1,delay=0.1:2s,reorder=0.1". The empty
// string is no fault.
func ParseRecordingFaults(spec string) (RecordingFaults, error) {
	var r RecordingFaults
	err := splitItems(spec, func(name, v string) error {
		var err error
		switch name {
		case "drop":
			r.Drop, _, err = fracItem(name, v, false)
		case "delay":
			r.Delay, r.DelayBy, err = fracItem(name, v, true)
		case "reorder":
			r.Reorder, _, err = fracItem(name, v, false)
		default:
			err = fmt.Errorf("unknown item %q (want drop, delay, reorder)", name)
		}
		return err
	})
	if err != nil {
		return RecordingFaults{}, fmt.Errorf("recording faults %q: %w", spec, err)
	}
	if fe := r.validate(""); fe != nil {
		return RecordingFaults{}, fmt.Errorf("recording faults %q: %w", spec, fe)
	}
	return r, nil
}

// ParseRequestFaults reads the --fault-hangup (and --fault-remove-channel,
// --fault-stop-recording) syntax: comma-separated fail=FRACTION,
// stall=FRACTION:DURATION and stall-then-do=FRACTION, e.g.
// "fail=0.2,stall=0.1:10s,stall-then-do=0.5". The empty string is no
// fault. FailFirst and StallFirst name channels, which do not exist yet
// when flags are read: they are set through the control API or Go.
func ParseRequestFaults(spec string) (RequestFaults, error) {
	var r RequestFaults
	err := splitItems(spec, func(name, v string) error {
		var err error
		switch name {
		case "fail":
			r.Fail, _, err = fracItem(name, v, false)
		case "stall":
			r.Stall, r.StallFor, err = fracItem(name, v, true)
		case "stall-then-do":
			r.StallThenDo, _, err = fracItem(name, v, false)
		default:
			err = fmt.Errorf("unknown item %q (want fail, stall, stall-then-do)", name)
		}
		return err
	})
	if err != nil {
		return RequestFaults{}, fmt.Errorf("request faults %q: %w", spec, err)
	}
	if fe := r.validate(""); fe != nil {
		return RequestFaults{}, fmt.Errorf("request faults %q: %w", spec, fe)
	}
	return r, nil
}

func fmtFrac(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// String writes r in the syntax of ParseRecordingFaults ("" for none).
func (r RecordingFaults) String() string {
	var items []string
	if r.Drop > 0 {
		items = append(items, "drop="+fmtFrac(r.Drop))
	}
	if r.Delay > 0 {
		items = append(items, "delay="+fmtFrac(r.Delay)+":"+r.DelayBy.String())
	}
	if r.Reorder > 0 {
		items = append(items, "reorder="+fmtFrac(r.Reorder))
	}
	return strings.Join(items, ",")
}

// String writes the fractions of r in the syntax of ParseRequestFaults
// ("" for none); FailFirst and StallFirst are left out.
func (r RequestFaults) String() string {
	var items []string
	if r.Fail > 0 {
		items = append(items, "fail="+fmtFrac(r.Fail))
	}
	if r.Stall > 0 {
		items = append(items, "stall="+fmtFrac(r.Stall)+":"+r.StallFor.String())
	}
	if r.StallThenDo > 0 {
		items = append(items, "stall-then-do="+fmtFrac(r.StallThenDo))
	}
	return strings.Join(items, ",")
}
