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

func TestARIRoute(t *testing.T) {
	for path, want := range map[string]string{
		"/ari/channels/17.4/play/17.4-greet": "POST /channels/{id}/play/{id}",
		"/ari/channels/create":               "POST /channels/create",
		"/ari/bridges/br-1/addChannel":       "POST /bridges/{id}/addChannel",
		"/ari/recordings/live/r1/stop":       "POST /recordings/live/{name}/stop",
		"/ari/applications/switchboard":      "POST /applications/{name}",
		"/ari/asterisk/info":                 "POST /asterisk/info",
		"/ari/endpoints/PJSIP/7001":          "POST /endpoints/{id}/{id}",
	} {
		if got := ariRoute("POST", path); got != want {
			t.Errorf("ariRoute(%q) = %q, want %q", path, got, want)
		}
	}
}
