package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/storage"
)

// chaosSimEnv makes the test binary run `switchboard simulate` on the
// address it holds instead of the tests: the simulated Asterisk of
// TestChaosPBXKilledMidCall, a process of its own so it can be killed
// with SIGKILL.
const chaosSimEnv = "SWITCHBOARD_TEST_CHAOS_SIM"

// Credentials of the simulated Asterisk of the chaos tests.
const chaosUser, chaosPassword = "sb", "right-password"

// runChaosSim serves the simulator until its stdin closes (the test
// that started it stopped, or died) or it is killed.
func runChaosSim(addr string) int {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return runCtx(ctx, []string{"simulate", "--listen", addr, "--user", chaosUser, "--password", chaosPassword,
		"--speed", "10", "--seed", "3"}, os.Stdout, os.Stderr)
}

// simProcess is a simulated Asterisk running as a child process.
type simProcess struct {
	addr   string
	cmd    *exec.Cmd
	stdin  io.Closer
	out    *syncBuf
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
	// ready is when it was seen serving: it started before.
	ready time.Time
}

// startSimProcess starts the simulator on addr and waits until it serves.
func startSimProcess(t *testing.T, addr string) *simProcess {
	t.Helper()
	p := &simProcess{addr: addr, out: &syncBuf{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), chaosSimEnv+"="+addr)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stdin.Close() // the child stops when its stdin closes
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	ready := "control API at http://" + addr + "/sim/v1"
	err = waitFor(context.Background(), 20*time.Second, func() bool {
		select {
		case <-p.exited:
			return true
		default:
		}
		return strings.Contains(p.out.String(), ready)
	})
	select {
	case <-p.exited:
		t.Fatalf("simulator on %s exited: %v\n%s", addr, p.err, p.out)
	default:
	}
	if err != nil {
		t.Fatalf("simulator on %s not serving: %v\n%s", addr, err, p.out)
	}
	p.ready = time.Now()
	return p
}

// kill9 kills the simulator with SIGKILL and waits until it is gone.
func (p *simProcess) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("simulator ended with %v, want SIGKILL", p.err)
	}
}

// ctl sends a control-API (or ARI) request to the simulator and decodes
// a JSON answer into v (when not nil).
func (p *simProcess) ctl(t *testing.T, method, path, body string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(chaosUser, chaosPassword)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// simStats is the part of GET /sim/v1/stats the chaos test reads.
type simStats struct {
	ChannelsActive int `json:"channels_active"`
	BridgesActive  int `json:"bridges_active"`
}

func (p *simProcess) stats(t *testing.T) simStats {
	t.Helper()
	var st simStats
	if code := p.ctl(t, "GET", "/sim/v1/stats", "", &st); code != http.StatusOK {
		t.Fatalf("GET /sim/v1/stats = %d", code)
	}
	return st
}

// liveRecordings counts the recordings of calls that the PBX says it is
// making (GET /ari/recordings/live/{name}: state recording).
func (p *simProcess) liveRecordings(t *testing.T, base string, calls map[sb.CallID]bool) int {
	t.Helper()
	live := 0
	for _, r := range recordingList(t, base) {
		var lr struct{ State string }
		if calls[r.CallID] && p.ctl(t, "GET", "/ari/recordings/live/"+r.Name, "", &lr) == http.StatusOK && lr.State == "recording" {
			live++
		}
	}
	return live
}

// call places an inbound caller through the control API and returns its
// channel id.
func (p *simProcess) call(t *testing.T, body string) sb.CallID {
	t.Helper()
	var party struct {
		ID string `json:"channel_id"`
	}
	if code := p.ctl(t, "POST", "/sim/v1/calls", body, &party); code != http.StatusCreated {
		t.Fatalf("POST /sim/v1/calls %s = %d", body, code)
	}
	return sb.CallID(party.ID)
}

// freeAddr finds a local TCP address nothing listens on, for a simulator
// that has to come back where serve expects it.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// eventually polls cond every 10 ms and fails the test naming what did
// not happen.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still so after %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordingList is every recording serve has (GET /api/v1/recordings).
func recordingList(t *testing.T, base string) []recording.Recording {
	t.Helper()
	var page struct {
		Rows []recording.Recording `json:"rows"`
	}
	getJSON(t, base+"/api/v1/recordings?limit=1000", "test-token", &page)
	return page.Rows
}

// liveCalls is GET /api/v1/calls.
func liveCalls(t *testing.T, base string) []sb.Call {
	t.Helper()
	var list struct{ Calls []sb.Call }
	getJSON(t, base+"/api/v1/calls", "test-token", &list)
	return list.Calls
}

// pbxChaosConfig writes serve's configuration for the simulator at addr:
// the router, agents 1001-1010 on the simulator's desk phones, queue
// sales recorded always.
func pbxChaosConfig(t *testing.T, addr string) (path, dsn string) {
	t.Helper()
	dir := t.TempDir()
	dsn = filepath.Join(dir, "sb.db")
	var agents strings.Builder
	for i := 1001; i <= 1010; i++ {
		fmt.Fprintf(&agents, "  - id: \"%d\"\n    endpoint: PJSIP/%d\n", i, i)
	}
	body := fmt.Sprintf(`http:
  listen: 127.0.0.1:0
database:
  dsn: %s
asterisk:
  url: http://%s/ari
  username: %s
  password: %s
  reconnect_min: 50ms
  reconnect_max: 200ms
center:
  greeting: []
  wait_for_agent: 60s
agents:
%squeues:
  - name: sales
routing:
  engine: router
recording:
  dir: %s
  policies:
    default:
      mode: never
    queues:
      sales:
        mode: always
api:
  tokens:
    - name: ops
      role: admin
      sha256: %s
`, dsn, addr, chaosUser, chaosPassword, agents.String(), filepath.Join(dir, "recordings"), config.HashToken("test-token"))
	path = filepath.Join(dir, "switchboard.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, dsn
}

// pbxKill is one kill of the chaos test: the calls it places and the
// moment it kills the PBX at.
type pbxKill struct {
	name string
	// phone is the agents' phones' script: they answer at once and talk
	// until hung up, or ring on.
	phone string
	// ready reports whether the calls are where the kill should find
	// them.
	ready func(t *testing.T, base string, pbx *simProcess, calls map[sb.CallID]bool) bool
}

// pbxKillFigures is what one kill did, for the closing note.
type pbxKillFigures struct {
	name                      string
	bridged, ringing, recLive int
	// down is from the kill until the new PBX serves; link is from the
	// kill until /healthz answers 200 again.
	down, link           time.Duration
	rows, stored, failed int
}

// TestChaosPBXKilledMidCall kills the simulated Asterisk with SIGKILL
// while calls are up (talking and recorded; bridged with their
// recordings still starting; ringing agents) and starts it again on the
// same address with no channels, as a crashed Asterisk restarts. serve
// stays up, its link comes back, every call is logged once and closed,
// no recording stays marked recording (each is stored or failed with a
// reason), nothing is left on the new PBX, and a call placed afterwards
// is handled normally: bridged, recorded, stored after its hang-up.
func TestChaosPBXKilledMidCall(t *testing.T) {
	const n = 8
	bridged := func(t *testing.T, base string, calls map[sb.CallID]bool) int {
		got := 0
		for _, k := range liveCalls(t, base) {
			if calls[k.ID] && k.State == sb.CallBridged {
				got++
			}
		}
		return got
	}
	kills := []pbxKill{
		{name: "talking and recorded", phone: "answer-after-1", ready: func(t *testing.T, base string, pbx *simProcess, calls map[sb.CallID]bool) bool {
			return bridged(t, base, calls) == n && pbx.liveRecordings(t, base, calls) == n
		}},
		{name: "bridged, recordings starting", phone: "answer", ready: func(t *testing.T, base string, _ *simProcess, calls map[sb.CallID]bool) bool {
			return bridged(t, base, calls) == n
		}},
		{name: "ringing agents", phone: "answer-after-100", ready: func(t *testing.T, base string, _ *simProcess, calls map[sb.CallID]bool) bool {
			ringing := 0
			for _, k := range liveCalls(t, base) {
				if calls[k.ID] && k.State == sb.CallRinging {
					ringing++
				}
			}
			return ringing == n
		}},
	}

	addr := freeAddr(t)
	pbx := startSimProcess(t, addr)
	cfg, dsn := pbxChaosConfig(t, addr)
	serve := start(t, "serve", "--config", cfg)
	base := "http://" + serve.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	waitHTTP(t, base+"/healthz", http.StatusOK)

	all := map[sb.CallID]bool{}    // every call placed
	afters := map[sb.CallID]bool{} // the calls placed after a restart
	var figures []pbxKillFigures
	for round, kill := range kills {
		f := pbxKillFigures{name: kill.name}
		for i := 1001; i <= 1010; i++ {
			if code := pbx.ctl(t, "PUT", fmt.Sprintf("/sim/v1/endpoints/PJSIP/%d", i), `{"script":"`+kill.phone+`"}`, nil); code != http.StatusOK {
				t.Fatalf("%s: PUT endpoint %d = %d", kill.name, i, code)
			}
		}
		calls := map[sb.CallID]bool{}
		for i := range n {
			// The callers talk until hung up.
			calls[pbx.call(t, fmt.Sprintf(`{"dialed":"8000","caller_id":"+1555%d00%04d"}`, round+1, i))] = true
		}
		eventually(t, 30*time.Second, kill.name+": the calls not where the kill should find them", func() bool {
			return kill.ready(t, base, pbx, calls)
		})
		for _, k := range liveCalls(t, base) {
			switch {
			case !calls[k.ID]:
			case k.State == sb.CallBridged:
				f.bridged++
			case k.State == sb.CallRinging:
				f.ringing++
			}
		}
		f.recLive = pbx.liveRecordings(t, base, calls)

		killed := time.Now()
		pbx.kill9(t)
		waitHTTP(t, base+"/healthz", http.StatusServiceUnavailable)
		// Asterisk's channel ids are the second a channel is made and a
		// counter from 1; a crashed Asterisk takes seconds to come back,
		// so they do not repeat the killed run's. The simulator's are the
		// second it started and a counter: started again within that
		// second it would reissue the killed run's ids.
		eventually(t, 2*time.Second, kill.name+": the second the killed PBX started has not passed", func() bool {
			return time.Now().Unix() > pbx.ready.Unix()
		})
		pbx = startSimProcess(t, addr)
		booted := time.Now()
		waitHTTP(t, base+"/healthz", http.StatusOK)
		f.down, f.link = booted.Sub(killed), time.Since(killed)

		eventually(t, 20*time.Second, kill.name+": the calls of the killed PBX still live", func() bool {
			return len(liveCalls(t, base)) == 0
		})
		eventually(t, 20*time.Second, kill.name+": a recording still marked recording", func() bool {
			for _, r := range recordingList(t, base) {
				if r.State == recording.StateRecording {
					return false
				}
			}
			return true
		})
		if st := pbx.stats(t); st.ChannelsActive != 0 || st.BridgesActive != 0 {
			t.Errorf("%s: the restarted PBX has %d channels and %d bridges, want none", kill.name, st.ChannelsActive, st.BridgesActive)
		}

		// A call after the restart goes as usual. Its agent's phone has
		// the restarted PBX's default script; the caller hangs up after
		// 3 s of simulated talk.
		after := pbx.call(t, fmt.Sprintf(`{"dialed":"8000","caller_id":"+1555%d990000","talk":"3s"}`, round+1))
		eventually(t, 20*time.Second, kill.name+": the call after the restart not bridged", func() bool {
			for _, k := range liveCalls(t, base) {
				if k.ID == after && k.State == sb.CallBridged {
					return true
				}
			}
			return false
		})
		if err := waitFor(context.Background(), 20*time.Second, func() bool {
			for _, r := range recordingList(t, base) {
				if r.CallID == after && r.State == recording.StateStored {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("%s: the recording of the call after the restart not stored: %v\nrecordings %+v\nserve:\n%s", kill.name, err, recordingList(t, base), serve.stderr)
		}
		eventually(t, 20*time.Second, kill.name+": the call after the restart still live", func() bool {
			return len(liveCalls(t, base)) == 0
		})
		calls[after], afters[after] = true, true
		var page cdrPage
		eventually(t, 20*time.Second, kill.name+": calls missing from the call log", func() bool {
			getJSON(t, base+"/api/v1/cdr?limit=1000", "test-token", &page)
			got := 0
			for _, r := range page.Rows {
				if calls[r.CallID] {
					got++
				}
			}
			f.rows = got
			return got >= len(calls)
		})
		for _, r := range recordingList(t, base) {
			switch {
			case !calls[r.CallID] || r.CallID == after:
			case r.State == recording.StateStored:
				f.stored++
			case r.State == recording.StateFailed:
				f.failed++
			}
		}
		if code, body := request(t, "GET", base+"/healthz", "", ""); code != http.StatusOK {
			t.Errorf("%s: /healthz = %d %s, want 200", kill.name, code, body)
		}
		if st := pbx.stats(t); st.ChannelsActive != 0 || st.BridgesActive != 0 {
			t.Errorf("%s: after the last call the PBX has %d channels and %d bridges, want none", kill.name, st.ChannelsActive, st.BridgesActive)
		}
		for id := range calls {
			all[id] = true
		}
		figures = append(figures, f)
	}
	select {
	case code := <-serve.done:
		t.Fatalf("serve exited (%d) after the PBX was killed; stderr:\n%s", code, serve.stderr)
	default:
	}

	// The database after serve stops: one closed row per call, every
	// recording ended.
	serve.cancel()
	if code := serve.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("serve exit = %d; stderr:\n%s", code, serve.stderr)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, closed, err := db.ListCDR(ctx, sb.CDRFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count, err := db.CountCDR(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if count != len(all) || closed != len(all) {
		t.Errorf("call log: %d rows, %d closed, want %d, all closed", count, closed, len(all))
	}
	perCall := map[sb.CallID]int{}
	ends := map[string]int{} // outcome/hung up by, of the calls the kills ended
	bridgedRows := 0
	for _, r := range rows {
		perCall[r.CallID]++
		if afters[r.CallID] {
			if r.Outcome != sb.OutcomeCompleted || !r.Bridged.Valid {
				t.Errorf("call %s after a restart: %s, bridged %v; want completed", r.CallID, r.Outcome, r.Bridged.Valid)
			}
			continue
		}
		ends[string(r.Outcome)+"/"+r.HangupBy]++
		if r.Bridged.Valid {
			bridgedRows++
			if r.Agent == "" || r.Outcome != sb.OutcomeCompleted {
				t.Errorf("row of call %s the kill ended while bridged: agent %q, outcome %s", r.CallID, r.Agent, r.Outcome)
			}
		}
	}
	for id := range all {
		if perCall[id] != 1 {
			t.Errorf("call %s has %d call-log rows, want 1", id, perCall[id])
		}
	}
	recs, _, err := db.ListRecordings(ctx, recording.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var stored, failed, left int
	reasons := map[string]int{}
	recName := regexp.MustCompile(`sb-[^\s:/]+`)
	perRecCall := map[sb.CallID]int{}
	for _, r := range recs {
		perRecCall[r.CallID]++
		switch r.State {
		case recording.StateStored:
			stored++
		case recording.StateFailed:
			failed++
			reasons[recName.ReplaceAllString(r.Error, "NAME")]++
			if r.Error == "" {
				t.Errorf("recording %s failed with no reason", r.Name)
			}
		default:
			left++
			t.Errorf("recording %s is %s, want stored or failed", r.Name, r.State)
		}
		if afters[r.CallID] && r.State != recording.StateStored {
			t.Errorf("recording %s of a call after a restart is %s (%s), want stored", r.Name, r.State, r.Error)
		}
	}
	// Every call that was bridged has its one recording (policy always).
	if want := bridgedRows + len(afters); len(recs) != want || len(perRecCall) != want {
		t.Errorf("%d recordings of %d calls, want one for each of the %d bridged calls", len(recs), len(perRecCall), want)
	}
	// Each recording ended once: one fetch, one final write (serve logs
	// each end).
	ended := map[string]int{}
	for _, m := range regexp.MustCompile(`msg="recording (?:stored|failed)".* recording=(\S+)`).FindAllStringSubmatch(serve.stderr.String(), -1) {
		ended[m[1]]++
	}
	for _, r := range recs {
		if ended[r.Name] != 1 {
			t.Errorf("recording %s ended %d times, want once", r.Name, ended[r.Name])
		}
	}
	if open, err := db.OpenRecordings(ctx); err != nil || len(open) != 0 {
		t.Errorf("recordings still open in the database: %d, %v", len(open), err)
	}
	for _, f := range figures {
		t.Logf("kill -9 (%s): %d calls bridged, %d ringing, %d recordings live on the PBX; PBX down %.2fs; link up %.2fs after the kill (%.2fs after the PBX served again); %d call-log rows of %d calls; recordings stored %d, failed %d",
			f.name, f.bridged, f.ringing, f.recLive, f.down.Seconds(), f.link.Seconds(), (f.link - f.down).Seconds(), f.rows, n+1, f.stored, f.failed)
	}
	t.Logf("database: %d call-log rows, %d closed, for %d calls; ends of the killed calls (outcome/hung up by) %v", count, closed, len(all), ends)
	t.Logf("database: %d recordings, stored %d, failed %d, not ended %d; failure reasons %v", len(recs), stored, failed, left, reasons)
	if strings.Contains(serve.stderr.String(), chaosPassword) {
		t.Error("the ARI password leaked into serve's log")
	}
}
