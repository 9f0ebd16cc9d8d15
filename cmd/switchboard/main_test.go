package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/demo"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

// syncBuf is a bytes.Buffer safe for a writer and a polling reader.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// program is the binary started in-process.
type program struct {
	stdout, stderr *syncBuf
	cancel         context.CancelFunc
	done           chan int
}

func start(t *testing.T, args ...string) *program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{stdout: &syncBuf{}, stderr: &syncBuf{}, cancel: cancel, done: make(chan int, 1)}
	go func() { p.done <- runCtx(ctx, args, p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Error("program did not stop")
		}
	})
	return p
}

// wait returns the exit code.
func (p *program) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case code := <-p.done:
		p.done <- code
		return code
	case <-time.After(timeout):
		t.Fatalf("program still running after %v; stderr:\n%s", timeout, p.stderr)
		return -1
	}
}

// waitOutput waits until stderr matches re and returns the first submatch.
func (p *program) waitOutput(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(p.stderr.String()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no output matching %q; stderr:\n%s", re, p.stderr)
	return ""
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateListsEveryProblemWithLine(t *testing.T) {
	path := writeFile(t, "bad.yaml", `log:
  level: loud
asterisk:
  url: ftp://pbx
  username: switchboard
  password: s3cret-value
  request_timeout: 5 seconds
agents:
  - id: "1001"
    endpoint: PJSIP/1001
  - id: "1001"
    endpoint: nonsense
colour: blue
`)
	p := start(t, "validate", "--config", path)
	if code := p.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("exit = %d, want 2; stderr:\n%s", code, p.stderr)
	}
	out := p.stderr.String()
	for _, want := range []string{
		"bad.yaml:2:", "bad.yaml:4:", "bad.yaml:7:", "bad.yaml:11:", "bad.yaml:12:", "bad.yaml:13:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret-value") {
		t.Errorf("the password leaked into the output:\n%s", out)
	}
}

func TestValidateGoodConfig(t *testing.T) {
	p := start(t, "validate", "--config", "../../configs/switchboard.yaml")
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
}

// simConfig writes a serve configuration pointing at a simulator.
func simConfig(t *testing.T, s *sim.Server, password string) string {
	t.Helper()
	return writeFile(t, "sb.yaml", fmt.Sprintf(`http:
  listen: 127.0.0.1:0
database:
  dsn: %s
asterisk:
  url: %s
  username: sb
  password: %s
  reconnect_min: 50ms
  reconnect_max: 200ms
center:
  greeting: ["sound:hello-world"]
  wait_for_agent: 30s
agents:
  - id: "1001"
    endpoint: PJSIP/1001
api:
  tokens:
    - name: ops
      role: admin
      sha256: %s
`, filepath.Join(t.TempDir(), "sb.db"), s.URL(), password, config.HashToken("test-token")))
}

func startSim(t *testing.T, speed float64) *sim.Server {
	t.Helper()
	s := sim.New(sim.Options{User: "sb", Password: "right-password", Speed: speed, Seed: 3})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestServeWrongPasswordExitsNonZero(t *testing.T) {
	s := startSim(t, 1)
	p := start(t, "serve", "--config", simConfig(t, s, "wrong-password-xyz"))
	if code := p.wait(t, 20*time.Second); code == 0 {
		t.Fatalf("exit = 0, want non-zero; stderr:\n%s", p.stderr)
	}
	out := p.stderr.String()
	if !strings.Contains(strings.ToLower(out), "credentials") {
		t.Errorf("no clear credentials error:\n%s", out)
	}
	if strings.Contains(out, "wrong-password-xyz") {
		t.Errorf("the password leaked:\n%s", out)
	}
}

func TestServeUnreachableRetriesAndIsNotReady(t *testing.T) {
	s := startSim(t, 1)
	cfg := simConfig(t, s, "right-password")
	s.Close() // nothing listens there any more
	p := start(t, "serve", "--config", cfg)
	addr := p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	p.waitOutput(t, `(?i)unreachable.*retrying`)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/healthz = %d, want 503 while ARI is unreachable", resp.StatusCode)
	}
	if strings.Contains(p.stderr.String(), "right-password") {
		t.Errorf("the password leaked:\n%s", p.stderr)
	}
}

func TestServeAgainstSimulatedAsterisk(t *testing.T) {
	s := startSim(t, 20)
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1, Talk: 20 * time.Second})
	p := start(t, "serve", "--config", simConfig(t, s, "right-password"))
	addr := p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	base := "http://" + addr
	waitHTTP(t, base+"/healthz", http.StatusOK)
	waitFor(context.Background(), 10*time.Second, func() bool { return len(s.Apps()) > 0 })
	id, err := s.Call(sim.Inbound{App: "switchboard", From: "+15551112222", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	page := waitCDR(t, base, "+15551112222")
	if page.Total != 1 || page.Rows[0].CallID != sb.CallID(id) || page.Rows[0].Outcome != sb.OutcomeCompleted || page.Rows[0].Agent != "1001" {
		t.Fatalf("cdr page = %+v", page)
	}
	// Metrics count the call.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`switchboard_calls_total\{outcome="completed"\} 1`).Match(buf.Bytes()) {
		t.Errorf("metrics lack the completed call:\n%s", grepLines(buf.String(), "switchboard_"))
	}
	// And the PBX requests that carried it, by route template.
	for _, re := range []string{
		`switchboard_pbx_requests_total\{result="ok",route="POST /channels/\{id\}/answer"\} [1-9]`,
		`switchboard_pbx_request_seconds_count\{route="POST /bridges/\{id\}/addChannel"\} [1-9]`,
		`switchboard_pbx_max_connections 50\n`,
		`switchboard_pbx_requests_waiting 0\n`,
		`switchboard_pbx_overloaded 0\n`,
	} {
		if !regexp.MustCompile(re).Match(buf.Bytes()) {
			t.Errorf("metrics lack %s:\n%s", re, grepLines(buf.String(), "switchboard_pbx"))
		}
	}
	p.cancel() // SIGTERM: drain (no calls) and stop
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
}

// cdrPage is a page of GET /api/v1/cdr.
type cdrPage struct {
	Rows  []sb.CDR `json:"rows"`
	Total int      `json:"total"`
}

// waitCDR waits until the call log has a row for caller and returns the page.
func waitCDR(t *testing.T, base, caller string) cdrPage {
	t.Helper()
	var page cdrPage
	deadline := time.Now().Add(20 * time.Second)
	for page.Total == 0 && time.Now().Before(deadline) {
		getJSON(t, base+"/api/v1/cdr?caller="+url.QueryEscape(caller), "test-token", &page)
		time.Sleep(20 * time.Millisecond)
	}
	return page
}

func waitHTTP(t *testing.T, url string, status int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d", url, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDemoJSONSummary(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	p := start(t, "demo", "--duration", "60s", "--seed", "7", "--speed", "120", "--json",
		"--listen", "127.0.0.1:0", "--db", db)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
	var sum demo.Summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, p.stdout)
	}
	if sum.CallsOffered == 0 || sum.CallsOffered != sum.CallsGenerated {
		t.Errorf("offered %d of %d generated calls", sum.CallsOffered, sum.CallsGenerated)
	}
	ended := sum.CallsCompleted + sum.CallsAbandoned + sum.CallsNoAgent + sum.CallsFailed + sum.CallsInterrupted +
		sum.CallsIVR + sum.CallsVoicemail + sum.CallsTransferred
	if ended != sum.CallsOffered || int64(sum.CDRRows) != sum.CallsOffered {
		t.Errorf("offered %d, ended %d, cdr rows %d: every call must end with one row", sum.CallsOffered, ended, sum.CDRRows)
	}
	if sum.CallsAnswered == 0 || sum.CallsAnswered != sum.CallsCompleted {
		t.Errorf("answered %d, completed %d", sum.CallsAnswered, sum.CallsCompleted)
	}
	if sum.EventsLost != 0 || sum.EventsReceived == 0 || sum.EventsReceived != sum.EventsSent {
		t.Errorf("events sent %d received %d lost %d", sum.EventsSent, sum.EventsReceived, sum.EventsLost)
	}
	if sum.ChannelsLeft != 0 {
		t.Errorf("%d channels left behind", sum.ChannelsLeft)
	}
	// The embedded policy records every answered call.
	if sum.RecordingsCompleted != int(sum.CallsAnswered) || sum.RecordingsVerified != sum.RecordingsCompleted {
		t.Errorf("answered %d, recordings completed %d, verified %d", sum.CallsAnswered, sum.RecordingsCompleted, sum.RecordingsVerified)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(db), "recordings")); err != nil {
		t.Errorf("recordings are not beside the demo database: %v", err)
	}
	for _, key := range []string{"calls_offered", "calls_answered", "calls_abandoned", "calls_completed", "cdr_rows", "events_received", "events_lost", "recordings_completed", "recordings_verified"} {
		if !strings.Contains(p.stdout.String(), `"`+key+`"`) {
			t.Errorf("summary lacks %s", key)
		}
	}
}

func TestIVRTestPrintsPath(t *testing.T) {
	p := start(t, "ivr", "test", "main", "--digits", "1")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
	out := p.stdout.String()
	for _, want := range []string{"main/welcome", "main/menu", "keys 1", "ended: queue:sales"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIVRTestCases(t *testing.T) {
	cases := writeFile(t, "cases.yaml", `cases:
  - name: sales
    flow: main
    digits: "1"
    expect: {nodes: [welcome, menu, sales], end: "queue:sales"}
  - name: wrong expectation
    flow: main
    digits: "2"
    expect: {end: "queue:sales"}
  - name: nobody presses
    flow: main
    expect: {end: "queue:support"}
`)
	p := start(t, "ivr", "test", "--cases", cases)
	if code := p.wait(t, 90*time.Second); code != 1 {
		t.Fatalf("exit = %d, want 1 (one case fails); stdout:\n%s\nstderr:\n%s", code, p.stdout, p.stderr)
	}
	out := p.stdout.String()
	for _, want := range []string{"PASS sales", "FAIL wrong expectation", `ended "queue:support", want "queue:sales"`, "PASS nobody presses", "2 passed, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	bad := writeFile(t, "bad.yaml", "cases:\n  - name: x\n    digits: \"1\"\n  - flow: main\n    at: tomorrow\n")
	p = start(t, "ivr", "test", "--cases", bad)
	if code := p.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("bad cases exit = %d, want 2", code)
	}
	for _, want := range []string{"bad.yaml:2: x: flow is required", "bad.yaml:4:"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

// flowConfig writes a serve configuration with flows in a folder.
func flowConfig(t *testing.T, s *sim.Server, flow string) (cfgPath, flowPath string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	flowPath = filepath.Join(dir, "flows", "main.yaml")
	if err := os.WriteFile(flowPath, []byte(flow), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(dir, "switchboard.yaml")
	body := fmt.Sprintf(`http:
  listen: 127.0.0.1:0
database:
  dsn: %s
asterisk:
  url: %s
  username: sb
  password: right-password
agents:
  - id: "1001"
    endpoint: PJSIP/1001
queues:
  - name: sales
ivr:
  flows_dir: flows
  routes:
    - dnis: "*"
      flow: main
api:
  tokens:
    - name: ops
      role: admin
      sha256: %s
`, filepath.Join(dir, "sb.db"), s.URL(), config.HashToken("test-token"))
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, flowPath
}

const flowV1 = `flows:
  main:
    nodes:
      hello: {play: [sound:hello-world], next: q}
      q: {queue: sales}
`

func ivrStatus(t *testing.T, base string) (version int, lastErr string) {
	t.Helper()
	var st struct {
		Version   int    `json:"version"`
		LastError string `json:"last_error"`
	}
	getJSON(t, base+"/api/v1/ivr", "test-token", &st)
	return st.Version, st.LastError
}

func TestFlowsHotReload(t *testing.T) {
	s := startSim(t, 1)
	cfgPath, flowPath := flowConfig(t, s, flowV1)
	p := start(t, "serve", "--config", cfgPath)
	base := "http://" + p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	waitHTTP(t, base+"/healthz", http.StatusOK)
	if v, _ := ivrStatus(t, base); v != 1 {
		t.Fatalf("version at start = %d", v)
	}
	// A broken file is refused; the running version stays.
	if err := os.WriteFile(flowPath, []byte(strings.Replace(flowV1, "next: q", "next: nowhere", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/ivr/reload", nil)
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(buf.String(), "main.yaml:4") {
		t.Fatalf("reload of a broken file = %d %s, want 422 naming main.yaml:4", resp.StatusCode, buf.String())
	}
	if v, lastErr := ivrStatus(t, base); v != 1 || !strings.Contains(lastErr, "nowhere") {
		t.Fatalf("after a refused reload: version %d, last error %q", v, lastErr)
	}
	// A good file is picked up by the file watch alone.
	if err := os.WriteFile(flowPath, []byte(strings.Replace(flowV1, "hello-world", "tt-monkeys", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if v, lastErr := ivrStatus(t, base); v == 2 && lastErr == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed flow file was not loaded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestValidateReportsFlowProblems(t *testing.T) {
	s := startSim(t, 1)
	cfgPath, _ := flowConfig(t, s, `flows:
  main:
    nodes:
      hello: {play: [sound:hello-world], next: menu}
      menu: {menu: {prompt: [sound:beep], keys: {"1": q, "2": billing}, timeout: 5 seconds}}
      q: {queue: nosuchqueue}
      lost: {hangup: {}}
`)
	p := start(t, "validate", "--config", cfgPath)
	if code := p.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("exit = %d, want 2; stderr:\n%s", code, p.stderr)
	}
	out := p.stderr.String()
	for _, want := range []string{"main.yaml:5:", "billing", "main.yaml:6:", "nosuchqueue", "main.yaml:7:", "lost"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
}

// TestExampleIVRCases keeps configs/ivr-cases.yaml (the documented IVR unit
// tests of the example flows) passing.
func TestExampleIVRCases(t *testing.T) {
	p := start(t, "ivr", "test", "--config", "../../configs/switchboard.yaml", "--cases", "../../configs/ivr-cases.yaml")
	if code := p.wait(t, 120*time.Second); code != 0 {
		t.Fatalf("exit = %d\nstdout:\n%s\nstderr:\n%s", code, p.stdout, p.stderr)
	}
	if !strings.Contains(p.stdout.String(), "6 passed, 0 failed") {
		t.Errorf("stdout:\n%s", p.stdout)
	}
}

func TestValidateChecksPromptsOnThePBX(t *testing.T) {
	s := startSim(t, 1)
	cfgPath, _ := flowConfig(t, s, `flows:
  main:
    nodes:
      hello: {play: [sound:hello-world, sound:no-such-prompt], next: q}
      q: {queue: sales}
`)
	p := start(t, "validate", "--config", cfgPath)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("without --pbx: exit = %d; stderr:\n%s", code, p.stderr)
	}
	p = start(t, "validate", "--config", cfgPath, "--pbx")
	if code := p.wait(t, 20*time.Second); code != 2 {
		t.Fatalf("with --pbx: exit = %d, want 2; stderr:\n%s", code, p.stderr)
	}
	out := p.stderr.String()
	if !strings.Contains(out, "main.yaml:4:") || !strings.Contains(out, "no-such-prompt") || strings.Contains(out, `"hello-world"`) {
		t.Errorf("stderr:\n%s", out)
	}
}

func TestValidateRouteToUnknownFlow(t *testing.T) {
	s := startSim(t, 1)
	cfgPath, _ := flowConfig(t, s, flowV1)
	body, _ := os.ReadFile(cfgPath)
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(body), "      flow: main", "      flow: mian", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "validate", "--config", cfgPath)
	if code := p.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("exit = %d, want 2; stderr:\n%s", code, p.stderr)
	}
	if out := p.stderr.String(); !strings.Contains(out, "switchboard.yaml:18:") || !strings.Contains(out, `no flow named "mian"`) {
		t.Errorf("stderr:\n%s", out)
	}
}

func TestSIGHUPReloadsFlows(t *testing.T) {
	s := startSim(t, 1)
	cfgPath, _ := flowConfig(t, s, flowV1)
	p := start(t, "serve", "--config", cfgPath)
	p.waitOutput(t, `SIGHUP reloads the IVR flows`) // the handler is in place
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitOutput(t, `IVR flows unchanged.*reason=SIGHUP`)
}

func TestVoicemailWebhook(t *testing.T) {
	got := make(chan []byte, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		got <- buf.Bytes()
	}))
	defer hook.Close()
	s := startSim(t, 20)
	cfgPath, _ := flowConfig(t, s, `flows:
  main:
    nodes:
      vm: {voicemail: {mailbox: sales, max_length: 10s}, next: bye}
      bye: {hangup: {}}
`)
	body, _ := os.ReadFile(cfgPath)
	cfg := strings.Replace(string(body), "  flows_dir: flows\n", "  flows_dir: flows\n  voicemail_webhook: "+hook.URL+"\n", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "serve", "--config", cfgPath)
	p.waitOutput(t, `SIGHUP reloads the IVR flows`)
	waitFor(context.Background(), 10*time.Second, func() bool { return len(s.Apps()) > 0 })
	id, err := s.Call(sim.Inbound{App: "switchboard", From: "+15554440001", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		var ev struct {
			Event     string
			Voicemail sb.Voicemail
		}
		if err := json.Unmarshal(b, &ev); err != nil || ev.Event != "voicemail.new" || ev.Voicemail.CallID != sb.CallID(id) || ev.Voicemail.Mailbox != "sales" {
			t.Fatalf("webhook body %s: %v", b, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no webhook; stderr:\n%s", p.stderr)
	}
}

// TestServeWithRouter: routing.engine router takes the calls: the agent is
// picked by the router and the queue_log file gets Asterisk's lines.
func TestServeWithRouter(t *testing.T) {
	s := startSim(t, 20)
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1, Talk: 10 * time.Second})
	cfgPath := simConfig(t, s, "right-password")
	qlog := filepath.Join(t.TempDir(), "queue_log")
	body, _ := os.ReadFile(cfgPath)
	cfg := string(body) + "queues:\n  - name: sales\n    strategy: longest-idle\n    wrap_up: 5s\nrouting:\n  engine: router\n  queue_log: " + qlog + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "serve", "--config", cfgPath)
	base := "http://" + p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	waitHTTP(t, base+"/healthz", http.StatusOK)
	waitFor(context.Background(), 10*time.Second, func() bool { return len(s.Apps()) > 0 })
	id, err := s.Call(sim.Inbound{App: "switchboard", From: "+15556660001", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	page := waitCDR(t, base, "+15556660001")
	if page.Total != 1 || page.Rows[0].CallID != sb.CallID(id) || page.Rows[0].Outcome != sb.OutcomeCompleted || page.Rows[0].Queue != "sales" {
		t.Fatalf("cdr = %+v", page)
	}
	// The agent API reaches the router: 1001 is in wrap-up or available.
	var snap struct {
		Agents []struct {
			Agent string
			State string
			Calls int
		}
	}
	getJSON(t, base+"/api/v1/agents", "test-token", &snap)
	if len(snap.Agents) != 1 || snap.Agents[0].Agent != "1001" || snap.Agents[0].Calls != 1 {
		t.Errorf("agents = %+v", snap)
	}
	var hist struct {
		States []struct{ State string }
	}
	waitFor(context.Background(), 10*time.Second, func() bool {
		getJSON(t, base+"/api/v1/agents/1001/history", "test-token", &hist)
		return len(hist.States) >= 3
	})
	if len(hist.States) < 3 || hist.States[0].State != "available" {
		t.Errorf("history = %+v, want available, reserved, on-call...", hist.States)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/agents/1001/pause", strings.NewReader(`{"reason":"lunch"}`))
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("pause: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	var log []byte
	waitFor(context.Background(), 10*time.Second, func() bool {
		log, _ = os.ReadFile(qlog)
		return strings.Contains(string(log), "|COMPLETE")
	})
	waitFor(context.Background(), 10*time.Second, func() bool {
		log, _ = os.ReadFile(qlog)
		return strings.Contains(string(log), "|PAUSE|")
	})
	for _, ev := range []string{"|sales|NONE|ENTERQUEUE|", "|CONNECT|", "|COMPLETE", "|1001|PAUSE|lunch"} {
		if !strings.Contains(string(log), ev) {
			t.Errorf("queue_log lacks %q:\n%s", ev, log)
		}
	}
}

func TestValidateRouterConfig(t *testing.T) {
	s := startSim(t, 1)
	cfgPath := simConfig(t, s, "right-password")
	body, _ := os.ReadFile(cfgPath)
	bad := string(body) + "queues:\n  - name: sales\n    strategy: fastest\n  - name: billing\n    skills: 'skills.billing >>= 5'\nrouting:\n  engine: router\n"
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "validate", "--config", cfgPath)
	if code := p.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
	if out := p.stderr.String(); !strings.Contains(out, "queues[0].strategy") || !strings.Contains(out, "fastest") {
		t.Errorf("stderr:\n%s", out)
	}
	good := string(body) + "queues:\n  - name: billing\n    skills: 'skills.billing >>= 5'\nrouting:\n  engine: router\n"
	if err := os.WriteFile(cfgPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	p = start(t, "validate", "--config", cfgPath)
	if code := p.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("bad skills: exit = %d; stderr:\n%s", code, p.stderr)
	}
	if out := p.stderr.String(); !strings.Contains(out, "billing") {
		t.Errorf("stderr does not name the queue:\n%s", out)
	}
}

func TestTokenPin(t *testing.T) {
	out, _, code := runCommand(t, newTokenCmd(), "pin", "4321")
	if code != 0 || !routing.VerifyPIN(strings.TrimSpace(out), "4321") || routing.VerifyPIN(strings.TrimSpace(out), "1234") {
		t.Fatalf("pin hash %q (exit %d) does not verify 4321 alone", out, code)
	}
	if _, errText, code := runCommand(t, newTokenCmd(), "pin", "12a"); code != 2 || !strings.Contains(errText, "digits") {
		t.Errorf("non-digit PIN: exit %d %q", code, errText)
	}
}

// TestTokenNewQueues: a supervisor token limited to queues prints the
// queues line, which loads and validates with its hash; another role with
// --queues is refused.
func TestTokenNewQueues(t *testing.T) {
	out, _, code := runCommand(t, newTokenCmd(), "new", "--name", "sales-lead", "--role", "supervisor", "--queues", "sales,support")
	if code != 0 || !strings.Contains(out, "        queues: [sales, support]\n") {
		t.Fatalf("token new (exit %d):\n%s", code, out)
	}
	_, cfgText, _ := strings.Cut(out, "config:\n")
	cfgText = strings.ReplaceAll("\n"+cfgText, "\n  ", "\n") // the lines are printed indented under config:
	cfg, err := config.LoadBytes("t.yaml", []byte(cfgText+"asterisk:\n  url: \"\"\nqueues:\n  - name: sales\n  - name: support\n"))
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, cfgText)
	}
	if tk := cfg.API.Tokens[0]; tk.Role != "supervisor" || strings.Join(tk.Queues, ",") != "sales,support" {
		t.Errorf("token = %+v", tk)
	}
	if _, errText, code := runCommand(t, newTokenCmd(), "new", "--role", "admin", "--queues", "sales"); code != 2 || !strings.Contains(errText, "only supervisor tokens") {
		t.Errorf("admin with queues: exit %d %q", code, errText)
	}
}
