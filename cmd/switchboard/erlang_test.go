package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// runErlang runs `switchboard erlang ARGS...` in-process and returns stdout,
// the error text and the exit code runCtx would give.
func runErlang(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCommand(t, newErlangCmd(), args...)
}

func TestErlangText(t *testing.T) {
	out, errText, code := runErlang(t, "--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	t.Log("\n" + out)
	for _, want := range []string{
		"Erlang C", "traffic 6.00 Erlangs", "Agents needed:  9",
		"Service level:  86.0% answered within 20s", "ASA:            11.8s", "Occupancy:      66.7%",
		"    7 ", "    9*", "   11 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestErlangTextErlangAEvaluate(t *testing.T) {
	out, errText, code := runErlang(t, "--calls-per-hour", "120", "--aht", "3m", "--target", "80%/20s", "--patience", "60s", "--agents", "7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	t.Log("\n" + out)
	for _, want := range []string{"Erlang A (mean patience 1m0s)", "Agents:         7 (evaluated; does NOT meet the target)", "Abandoned:      12.9%", "Abandoned\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	out, _, _ = runErlang(t, "--calls-per-hour", "120", "--aht", "3m", "--target", "80/20s", "--agents", "6")
	if !strings.Contains(out, "Unstable:") || !strings.Contains(out, "ASA:            unbounded") {
		t.Errorf("6 agents for 6 Erlangs:\n%s", out)
	}
}

func TestErlangJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		model   string
		agents  int
		abandon bool
	}{
		{"erlang C", []string{"--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s", "--json"}, "erlang-c", 9, false},
		{"erlang A", []string{"--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s", "--patience", "60s", "--json"}, "erlang-a", 8, true},
		{"occupancy cap", []string{"--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s", "--max-occupancy", "0.6", "--json"}, "erlang-c", 10, false},
		{"evaluate", []string{"--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s", "--agents", "12", "--json"}, "erlang-c", 12, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errText, code := runErlang(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errText)
			}
			dec := json.NewDecoder(strings.NewReader(out))
			var got map[string]any
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("%v in %s", err, out)
			}
			if dec.More() {
				t.Fatalf("more than one JSON value: %s", out)
			}
			if got["model"] != tc.model || got["agents"] != float64(tc.agents) {
				t.Fatalf("got %v", got)
			}
			for _, key := range []string{"service_level", "asa_seconds", "occupancy", "traffic_erlangs"} {
				v, ok := got[key].(float64)
				if !ok || v < 0 || (key != "asa_seconds" && key != "traffic_erlangs" && v > 1) {
					t.Errorf("%s = %v", key, got[key])
				}
			}
			if _, ok := got["abandon_rate"]; ok != tc.abandon {
				t.Errorf("abandon_rate present %v, want %v", ok, tc.abandon)
			}
			in, _ := got["inputs"].(map[string]any)
			if in["calls_per_hour"] != 120.0 || in["aht_seconds"] != 180.0 || in["target_service_level"] != 0.8 || in["target_seconds"] != 20.0 {
				t.Errorf("inputs = %v", in)
			}
		})
	}
	out, _, code := runErlang(t, "--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s", "--agents", "5", "--json")
	if code != 0 || !strings.Contains(out, `"asa_seconds": null`) || !strings.Contains(out, `"stable": false`) {
		t.Errorf("unstable JSON (exit %d):\n%s", code, out)
	}
}

func TestErlangBadFlags(t *testing.T) {
	base := []string{"--calls-per-hour", "120", "--aht", "180s", "--target", "80/20s"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--aht", "180s", "--target", "80/20s"}, "--calls-per-hour is required"},
		{[]string{"--calls-per-hour", "120", "--target", "80/20s"}, "--aht is required"},
		{[]string{"--calls-per-hour", "120", "--aht", "180s"}, "--target is required"},
		{with("--target", "80/20"), `wait "20" needs a unit`},
		{with("--target", "80"), "--target"},
		{with("--target", "120/20s"), "--target"},
		{with("--target", "80/soon"), "--target"},
		{with("--calls-per-hour", "-5"), "--calls-per-hour"},
		{with("--calls-per-hour", "abc"), "calls-per-hour"},
		{with("--aht", "-3m"), "--aht"},
		{with("--aht", "180"), "aht"},
		{with("--patience", "-1s"), "--patience"},
		{with("--agents", "0"), "--agents"},
		{with("--max-occupancy", "85"), "--max-occupancy"},
		{with("--max-abandon", "1"), "--max-abandon"},
		{with("--max-asa", "-2s"), "--max-asa"},
		{with("--bogus"), "bogus"},
		{with("extra-arg"), "extra-arg"},
	} {
		_, errText, code := runErlang(t, tc.args...)
		if code != 2 || !strings.Contains(errText, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 naming %q", tc.args, code, errText, tc.want)
		}
	}
}
