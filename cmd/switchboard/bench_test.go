package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/sim"
)

func runBench(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newBenchCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

// TestBenchDialerBar is issue 5's bar at reduced size (2 seeds, 4 hours):
// the predictive pacer keeps every abandon figure under 3% at 5, 20 and 100
// agents, in every seed and every clock hour, and leads in occupancy every
// method that does the same; nothing passes the bound.
func TestBenchDialerBar(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 2 × 3 × 7 four-hour shifts")
	}
	out, _, err := runBench(t, "dialer", "--agents", "5,20,100", "--hours", "4", "--seeds", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []benchDialerRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("output is not one JSON array: %v\n%s", err, out)
	}
	if len(rows) != 3*7 {
		t.Fatalf("%d rows, want 21", len(rows))
	}
	by := map[int]map[string]benchDialerRow{}
	for _, r := range rows {
		if by[r.Agents] == nil {
			by[r.Agents] = map[string]benchDialerRow{}
		}
		by[r.Agents][r.Method] = r
	}
	for _, n := range []int{5, 20, 100} {
		pred, bound := by[n]["predictive"], by[n]["bound"]
		if pred.WorstSeedWorstHourAbandonRate >= 0.03 || pred.WorstSeedAbandonRate >= 0.03 || !pred.UnderCap {
			t.Errorf("%d agents: predictive abandons %.2f%% overall, %.2f%% in its worst hour (worst seed): want under 3%%",
				n, 100*pred.WorstSeedAbandonRate, 100*pred.WorstSeedWorstHourAbandonRate)
		}
		for m, r := range by[n] {
			if r.Occupancy > bound.Occupancy {
				t.Errorf("%d agents: %s occupancy %.3f above the bound %.3f", n, m, r.Occupancy, bound.Occupancy)
			}
			if m == "predictive" || m == "bound" || r.WorstSeedWorstHourAbandonRate >= 0.03 {
				continue
			}
			if r.Occupancy > pred.Occupancy {
				t.Errorf("%d agents: %s (worst hour %.2f%%) reaches occupancy %.3f, predictive only %.3f",
					n, m, 100*r.WorstSeedWorstHourAbandonRate, r.Occupancy, pred.Occupancy)
			}
		}
		if pred.Occupancy <= by[n]["progressive"].Occupancy {
			t.Errorf("%d agents: predictive occupancy %.3f not above progressive %.3f", n, pred.Occupancy, by[n]["progressive"].Occupancy)
		}
	}
}

func TestBenchDialerJSONFields(t *testing.T) {
	out, stderr, err := runBench(t, "dialer", "--agents", "3", "--hours", "0.5", "--seeds", "1", "--methods", "progressive,bound", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, k := range []string{"method", "agents", "occupancy", "abandon_rate", "worst_hour_abandon_rate", "connects_per_agent_hour", "mean_agent_wait_seconds"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("row lacks %q: %v", k, rows[0])
		}
	}
	if rows[0]["method"] != "progressive" || rows[1]["method"] != "bound" {
		t.Errorf("methods %v, %v", rows[0]["method"], rows[1]["method"])
	}
	if !strings.Contains(stderr, "live answer 30%") {
		t.Errorf("scenario not printed: %q", stderr)
	}
}

func TestBenchDialerTable(t *testing.T) {
	out, _, err := runBench(t, "dialer", "--agents", "4", "--hours", "0.5", "--seeds", "2", "--live", "0.25", "--methods", "progressive,predictive")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"live answer 25%", "occupancy", "worst hour", "progressive", "predictive"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchDialerBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"dialer", "--methods", "ratio-9"},
		{"dialer", "--live", "0.9", "--busy", "0.3"},
		{"dialer", "--agents", "0"},
	} {
		_, _, err := runBench(t, args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: got %v, want a usage error (exit 2)", args, err)
		}
	}
}

// BenchmarkInboundCallCPU is `switchboard bench calls` as a Go benchmark:
// b.N inbound calls (after a warm-up of 20) at 10 per second, recorded,
// through the simulated Asterisk (this process) into serve (a child
// process). ns/op is the spacing of the calls; the figures are the custom
// metrics: serve's own CPU, PBX events, ARI requests and allocations per
// call. Run it with a fixed count:
//
//	go test -run '^$' -bench InboundCallCPU -benchtime 1000x ./cmd/switchboard/
func BenchmarkInboundCallCPU(b *testing.B) {
	for _, mode := range []string{"always", "never"} {
		b.Run("recording="+mode, func(b *testing.B) {
			bench := callsBench{Calls: b.N, Warmup: 20, Rate: 10, Agents: 150, Talk: 2 * time.Second,
				Recording: mode, Greeting: "sound:beep", Dir: b.TempDir(),
				launch: func(args ...string) *exec.Cmd { return childCommand(args...) }}
			b.ResetTimer()
			res, err := bench.run(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if res.RecordingsOpen != 0 || res.CallsLiveAtEnd != 0 || res.ChannelsLeftAtEnd != 0 || res.BridgesLeftAtEnd != 0 {
				b.Fatalf("not settled at the end: %+v", res)
			}
			b.ReportMetric(res.CPUMsPerCall, "cpu-ms/call")
			b.ReportMetric(res.EventsPerCall, "events/call")
			b.ReportMetric(res.RequestsPerCall, "requests/call")
			b.ReportMetric(res.AllocsPerCall, "allocs/call")
			b.ReportMetric(res.AllocBytesPerCall, "B/call")
		})
	}
}

// TestLoadRecordingFaults: 2,000 recorded inbound calls, 40 a second, through serve (a
// child process) while the simulated Asterisk drops, delays or reorders
// RecordingFinished for a share of the recordings and fails or stalls a
// share of the hang-ups and recording stops, as a loaded Asterisk does. At
// the end every recording is stored (its file fetched and verified: the
// PBX made every one), every call is logged and none is shown live, and
// nothing is left on the PBX.
func TestLoadRecordingFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 calls")
	}
	hangup, err := sim.ParseRequestFaults("fail=0.1,stall=0.03:6s,stall-then-do=0.5")
	if err != nil {
		t.Fatal(err)
	}
	stop, err := sim.ParseRequestFaults("fail=0.2")
	if err != nil {
		t.Fatal(err)
	}
	recf, err := sim.ParseRecordingFaults("drop=0.1,delay=0.1:3s,reorder=0.1")
	if err != nil {
		t.Fatal(err)
	}
	// At most 80 calls live (about what 40 calls/s keep live on a quiet
	// machine): a machine too busy for 40 a second is offered fewer, not
	// overrun until its PBX requests time out.
	bench := callsBench{Calls: 2000, Warmup: 0, Rate: 40, MaxLive: 80, Agents: 150, Talk: time.Second,
		Recording: "always", Greeting: "sound:beep", Dir: t.TempDir(),
		Faults:       sim.Faults{Seed: 18, RecordingFinished: recf, Hangup: hangup, StopRecording: stop},
		SessionLimit: 100,
		launch:       func(args ...string) *exec.Cmd { return childCommand(args...) }}
	res, err := bench.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls in %.0f s; faults %v; serve retried %d commands; %d sessions refused",
		res.Calls, res.WallSeconds, res.FaultsInjected, res.CommandRetries, res.SessionsRefused)
	for _, k := range []string{"recording_finished.drop", "recording_finished.delay", "recording_finished.reorder", "hangup.fail", "hangup.stall"} {
		if res.FaultsInjected[k] == 0 {
			t.Errorf("no %s fault injected: the test tests nothing", k)
		}
	}
	if res.CommandRetries == 0 {
		t.Error("serve retried no command although hang-ups failed")
	}
	if res.CallLogRows != 2000 || res.RecordingsStored != 2000 || res.RecordingsFailed != 0 || res.RecordingsOpen != 0 {
		t.Errorf("%d call-log rows; recordings: %d stored, %d failed, %d open; want 2000 rows and 2000 stored; calls without a recording by outcome: %v",
			res.CallLogRows, res.RecordingsStored, res.RecordingsFailed, res.RecordingsOpen, res.Unrecorded)
	}
	if res.CallsLiveAtEnd != 0 || res.ChannelsLeftAtEnd != 0 || res.BridgesLeftAtEnd != 0 {
		t.Errorf("at the end: %d calls live, %d channels and %d bridges on the PBX", res.CallsLiveAtEnd, res.ChannelsLeftAtEnd, res.BridgesLeftAtEnd)
	}
	if res.SessionsRefused != 0 {
		t.Errorf("the PBX refused %d HTTP sessions: serve's pool passed its session limit", res.SessionsRefused)
	}
}
