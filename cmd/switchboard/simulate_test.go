package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		perSec  float64
		wantErr string
	}{
		{"2/s", 2, ""},
		{"30/m", 0.5, ""},
		{"100/h", 100.0 / 3600, ""},
		{"0.5/sec", 0.5, ""},
		{" 90 / min ", 1.5, ""},
		{"3600/hour", 1, ""},
		{"1000/s", 1000, ""},
		{"2", 0, "no unit"},
		{"abc/s", 0, "not a number"},
		{"NaN/s", 0, "not a number"},
		{"0/s", 0, "more than 0"},
		{"-1/m", 0, "more than 0"},
		{"5/d", 0, `unknown unit "d"`},
		{"1001/s", 0, "more than 1000"},
	}
	for _, tc := range tests {
		got, err := parseRate(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseRate(%q): error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseRate(%q): %v", tc.in, err)
			continue
		}
		if d := got - tc.perSec; d > 1e-12 || d < -1e-12 {
			t.Errorf("parseRate(%q) = %v/s, want %v/s", tc.in, got, tc.perSec)
		}
	}
}

func TestArrivalGap(t *testing.T) {
	fixed, err := arrivalGap("fixed", 2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		if got := fixed(r); got != 500*time.Millisecond {
			t.Errorf("fixed gap at 2/s: %v, want 500ms", got)
		}
	}
	poisson, err := arrivalGap("poisson", 2)
	if err != nil {
		t.Fatal(err)
	}
	draw := func(seed uint64, n int) []time.Duration {
		r := rand.New(rand.NewPCG(seed, 0x10ad))
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = poisson(r)
		}
		return out
	}
	a, b := draw(7, 20000), draw(7, 20000)
	var sum time.Duration
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("poisson gaps differ for one seed at %d: %v vs %v", i, a[i], b[i])
		}
		sum += a[i]
	}
	// The mean of 20,000 exponential gaps is within 3% of 500 ms (a
	// standard error is 0.7%); the seed fixes the draw.
	if mean := sum / time.Duration(len(a)); mean < 485*time.Millisecond || mean > 515*time.Millisecond {
		t.Errorf("poisson mean gap at 2/s: %v, want about 500ms", mean)
	}
	if c := draw(8, 5); c[0] == a[0] && c[1] == a[1] {
		t.Errorf("seeds 7 and 8 give the same gaps")
	}
	if _, err := arrivalGap("uniform", 2); err == nil {
		t.Error("arrivalGap(uniform): no error")
	}
}

func TestSimulateBadFlags(t *testing.T) {
	base := []string{"--user", "u", "--password", "p", "--listen", "127.0.0.1:0"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--load", "fast"}, "--load"},
		{[]string{"--load", "0/s"}, "--load"},
		{[]string{"--load", "5/d"}, "--load"},
		{[]string{"--load", "2/s", "--arrivals", "uniform"}, "--arrivals"},
		{[]string{"--load", "2/s", "--script", "busy"}, "--script"},
		{[]string{"--load", "2/s", "--script", "talk=later"}, "--script"},
		{[]string{"--load", "2/s", "--script", "digits=12x"}, "--script"},
		{[]string{"--load", "2/s", "--caller-prefix", "555-"}, "--caller-prefix"},
		{[]string{"--load", "2/s", "--caller-prefix", "+123456789"}, "--caller-prefix"},
		{[]string{"--load", "2/s", "--dialed", " "}, "--dialed"},
		{[]string{"--load", "2/s", "--app", ""}, "--app"},
		{[]string{"--script", "talk=30s"}, "--script needs --load"},
		{[]string{"--dialed", "100"}, "--dialed needs --load"},
		{[]string{"--session-limit", "-1"}, "--session-limit"},
		{[]string{"--fault-recording-finished", "drop=2"}, "--fault-recording-finished"},
		{[]string{"--fault-recording-finished", "delay=0.1"}, "--fault-recording-finished"},
		{[]string{"--fault-hangup", "fail=0.7,stall=0.7:1s"}, "--fault-hangup"},
		{[]string{"--fault-remove-channel", "stall=0.1"}, "--fault-remove-channel"},
		{[]string{"--fault-stop-recording", "oops=1"}, "--fault-stop-recording"},
	}
	for _, tc := range tests {
		_, errOut, code := runCommand(t, newSimulateCmd(), append(append([]string{}, base...), tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("simulate %v: exit %d, %q; want exit 2 naming %s", tc.args, code, errOut, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// simEvent is the part of an ARI event the load test looks at.
type simEvent struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Digit     string `json:"digit"`
	Channel   struct {
		ID       string `json:"id"`
		State    string `json:"state"`
		Caller   struct{ Number string }
		Dialplan struct{ Exten string }
	} `json:"channel"`
}

func TestSimulateLoad(t *testing.T) {
	tests := []struct {
		name, dialed, prefix string
		args                 []string
		// minGap is the least simulated time between two arrivals.
		minGap time.Duration
		digit  string // a digit the callers press
	}{
		{name: "poisson", dialed: "8000", prefix: "+1555", digit: "1",
			args: []string{"--load", "20/s", "--speed", "20", "--seed", "7", "--script", "patience=2s;digits=1"}},
		{name: "fixed", dialed: "100", prefix: "+44", minGap: time.Second,
			args: []string{"--load", "60/m", "--arrivals", "fixed", "--speed", "100", "--script", "patience=1s",
				"--dialed", "100", "--caller-prefix", "+44"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &syncBuffer{}
			exit := make(chan int, 1)
			args := append([]string{"simulate", "--listen", "127.0.0.1:0", "--user", "u", "--password", "p", "--phones=false"}, tc.args...)
			go func() { exit <- runCtx(ctx, args, out, &syncBuffer{}) }()
			addrRE := regexp.MustCompile(`control API at http://([^/\s]+)/sim/v1`)
			if err := waitFor(ctx, 10*time.Second, func() bool { return addrRE.MatchString(out.String()) }); err != nil {
				t.Fatalf("no control API address in %q: %v", out.String(), err)
			}
			addr := addrRE.FindStringSubmatch(out.String())[1]

			ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ari/events?app=switchboard&api_key=u:p", nil)
			if err != nil {
				t.Fatalf("events websocket: %v", err)
			}
			defer ws.CloseNow()
			const want = 8
			var starts []simEvent
			pressed := false
			for len(starts) < want || (tc.digit != "" && !pressed) {
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				_, msg, err := ws.Read(rctx)
				rcancel()
				if err != nil {
					t.Fatalf("after %d StasisStart: %v", len(starts), err)
				}
				var e simEvent
				if err := json.Unmarshal(msg, &e); err != nil {
					t.Fatalf("event %s: %v", msg, err)
				}
				switch e.Type {
				case "StasisStart":
					starts = append(starts, e)
				case "ChannelDtmfReceived":
					pressed = pressed || e.Digit == tc.digit
				}
			}
			numRE := regexp.MustCompile(`^` + regexp.QuoteMeta(tc.prefix) + `[0-9]{7}$`)
			var prev time.Time
			for i, e := range starts {
				eq := func(what, got, want string) {
					if got != want {
						t.Errorf("caller %d %s: %q, want %q", i, what, got, want)
					}
				}
				eq("state", e.Channel.State, "Ring")
				eq("dialed", e.Channel.Dialplan.Exten, tc.dialed)
				if !numRE.MatchString(e.Channel.Caller.Number) {
					t.Errorf("caller %d number %q, want %s and 7 digits", i, e.Channel.Caller.Number, tc.prefix)
				}
				at, err := time.Parse("2006-01-02T15:04:05.000-0700", e.Timestamp)
				if err != nil {
					t.Fatal(err)
				}
				if i > 0 && at.Sub(prev) < tc.minGap {
					t.Errorf("callers %d and %d arrived %v apart in simulated time, want at least %v", i-1, i, at.Sub(prev), tc.minGap)
				}
				prev = at
			}

			req, _ := http.NewRequest("GET", "http://"+addr+"/sim/v1/stats", nil)
			req.SetBasicAuth("u", "p")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var st struct{ Apps []string }
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || strings.Join(st.Apps, ",") != "switchboard" {
				t.Errorf("GET /sim/v1/stats: %d %v apps %v", resp.StatusCode, err, st.Apps)
			}

			cancel()
			select {
			case code := <-exit:
				if code != 0 {
					t.Fatalf("simulate exited %d: %s", code, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("simulate did not stop")
			}
			m := regexp.MustCompile(`load: placed (\d+) callers, (\d+) failed`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no load summary in %q", out.String())
			}
			if n, _ := strconv.Atoi(m[1]); n < len(starts) {
				t.Errorf("placed %d callers, but %d entered the application", n, len(starts))
			}
			if m[2] != "0" {
				t.Errorf("%s callers failed: none should be placed before the application connects", m[2])
			}
		})
	}
}

// TestSimulateFaultFlags: the --fault-* and --session-limit flags reach the
// simulator, as its control API shows.
func TestSimulateFaultFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	exit := make(chan int, 1)
	args := []string{"simulate", "--listen", "127.0.0.1:0", "--user", "u", "--password", "p", "--phones=false",
		"--seed", "3", "--session-limit", "40",
		"--fault-recording-finished", "drop=0.1,delay=0.2:2s,reorder=0.3",
		"--fault-hangup", "fail=0.2,stall=0.1:10s,stall-then-do=0.5",
		"--fault-stop-recording", "fail=1"}
	go func() { exit <- runCtx(ctx, args, out, &syncBuffer{}) }()
	addrRE := regexp.MustCompile(`control API at http://([^/\s]+)/sim/v1`)
	if err := waitFor(ctx, 10*time.Second, func() bool { return addrRE.MatchString(out.String()) }); err != nil {
		t.Fatalf("no control API address in %q: %v", out.String(), err)
	}
	addr := addrRE.FindStringSubmatch(out.String())[1]
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+"/sim/v1"+path, nil)
		req.SetBasicAuth("u", "p")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
	}
	var f struct {
		Seed int64 `json:"seed"`
		Rec  struct {
			Drop, Delay, Reorder float64
			DelayBy              string `json:"delay_by"`
		} `json:"recording_finished"`
		Hangup map[string]any `json:"hangup"`
		Stop   map[string]any `json:"stop_recording"`
		Remove map[string]any `json:"remove_channel"`
	}
	get("/faults", &f)
	if f.Seed != 3 || f.Rec.Drop != 0.1 || f.Rec.Delay != 0.2 || f.Rec.DelayBy != "2s" || f.Rec.Reorder != 0.3 {
		t.Errorf("GET /sim/v1/faults: seed %d, recording_finished %+v", f.Seed, f.Rec)
	}
	if f.Hangup["fail"] != 0.2 || f.Hangup["stall"] != 0.1 || f.Hangup["stall_for"] != "10s" || f.Hangup["stall_then_do"] != 0.5 {
		t.Errorf("GET /sim/v1/faults: hangup %v", f.Hangup)
	}
	if f.Stop["fail"] != 1.0 || f.Remove["fail"] != 0.0 {
		t.Errorf("GET /sim/v1/faults: stop_recording %v, remove_channel %v", f.Stop, f.Remove)
	}
	var sess struct{ Limit int }
	get("/sessions", &sess)
	if sess.Limit != 40 {
		t.Errorf("GET /sim/v1/sessions: limit %d, want 40", sess.Limit)
	}
	for _, want := range []string{"faults (seed 3): recording-finished drop=0.1,delay=0.2:2s,reorder=0.3; hangup fail=0.2,stall=0.1:10s,stall-then-do=0.5; stop-recording fail=1",
		"HTTP session limit: 40"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q: no %q", out.String(), want)
		}
	}
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("simulate exited %d: %s", code, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("simulate did not stop")
	}
}
