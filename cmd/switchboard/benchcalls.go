package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/sim"
)

// callsBench is one run of `switchboard bench calls`: inbound calls through
// the simulated Asterisk (in this process) into a `switchboard serve` of
// its own (a child process), so the controller's CPU is its process's
// alone and the simulator's cost is not counted.
type callsBench struct {
	Calls  int     // measured calls, after the warm-up
	Warmup int     // calls before the measurement
	Rate   float64 // calls placed per second, evenly spaced
	// MaxLive, when set, also holds each call back while that many are
	// live on the PBX (closed loop): a machine too busy to keep up with
	// Rate is offered less instead of being overrun, so that what the run
	// checks does not depend on how fast the machine is.
	MaxLive   int
	Agents    int           // agents, on endpoints that answer at once
	Talk      time.Duration // how long a caller talks to the agent
	Recording string        // recording mode of the queue: always, never
	Greeting  string        // media played to the caller first ("" none)
	Dir       string        // where the database and recordings go
	Log       io.Writer     // serve's output, when wanted
	Profile   string        // serve's CPU profile goes here, when set
	// Faults makes the simulator misbehave as a loaded Asterisk does.
	Faults sim.Faults
	// SessionLimit is the simulator's HTTP session limit (0 none).
	SessionLimit int

	// launch builds the serve command for args (the binary itself, or the
	// test binary in tests).
	launch func(args ...string) *exec.Cmd
}

// callsBenchResult is what a run measured. Per-call figures are over the
// measured calls: the delta of a counter from the end of the warm-up to the
// moment every measured call is over and every recording settled.
type callsBenchResult struct {
	Calls             int     `json:"calls"`
	Rate              float64 `json:"rate_per_second"`
	Recording         string  `json:"recording"`
	WallSeconds       float64 `json:"wall_seconds"`
	CPUSeconds        float64 `json:"serve_cpu_seconds"`
	CPUMsPerCall      float64 `json:"serve_cpu_ms_per_call"`
	EventsPerCall     float64 `json:"pbx_events_per_call"`
	RequestsPerCall   float64 `json:"ari_requests_per_call"`
	AllocsPerCall     float64 `json:"serve_allocs_per_call"`
	AllocBytesPerCall float64 `json:"serve_alloc_bytes_per_call"`
	RecordingsStored  int     `json:"recordings_stored"`
	RecordingsFailed  int     `json:"recordings_failed"`
	RecordingsOpen    int     `json:"recordings_open"`
	CallLogRows       int     `json:"call_log_rows"`
	// Unrecorded counts the call-log rows with no recording, by outcome
	// and hang-up cause (empty when every call has one).
	Unrecorded        map[string]int   `json:"unrecorded,omitempty"`
	AgentStateRows    float64          `json:"agent_state_rows_per_call"`
	CallsLiveAtEnd    int              `json:"calls_live_at_end"`
	ChannelsLeftAtEnd int              `json:"channels_left_at_end"`
	BridgesLeftAtEnd  int              `json:"bridges_left_at_end"`
	RequestsByRoute   map[string]int64 `json:"ari_requests_by_route,omitempty"`
	FaultsInjected    map[string]int64 `json:"sim_faults_injected,omitempty"`
	CommandRetries    int64            `json:"serve_command_retries"`
	SessionsRefused   int64            `json:"sim_sessions_refused"`
	ServeMaxRSSKiB    int64            `json:"serve_max_rss_kib"`
}

func newBenchCallsCmd() *cobra.Command {
	b := callsBench{}
	var asJSON, byRoute, verbose bool
	cmd := &cobra.Command{
		Use:   "calls",
		Short: "CPU, events, ARI requests and allocations per inbound call of serve (issue 18)",
		Long: `calls runs the simulated Asterisk in this process and switchboard serve as a
child process on a temporary SQLite database, places --warmup and then --calls
inbound callers at --rate per second into a queue of --agents agents who
answer at once, and prints, per measured call, serve's own process CPU,
the PBX events and ARI requests it took, and its allocations.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			b.launch = func(args ...string) *exec.Cmd { return exec.Command(exe, args...) }
			dir, err := os.MkdirTemp("", "switchboard-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			b.Dir = dir
			if b.Profile != "" {
				if b.Profile, err = filepath.Abs(b.Profile); err != nil {
					return err
				}
			}
			if verbose {
				b.Log = cmd.ErrOrStderr()
			}
			res, err := b.run(cmd.Context())
			if err != nil {
				return err
			}
			if !byRoute {
				res.RequestsByRoute = nil
			}
			if asJSON {
				e := json.NewEncoder(cmd.OutOrStdout())
				e.SetIndent("", "  ")
				return e.Encode(res)
			}
			res.write(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&b.Calls, "calls", 1000, "measured calls")
	f.IntVar(&b.Warmup, "warmup", 50, "calls placed and ended before the measurement")
	f.Float64Var(&b.Rate, "rate", 10, "calls placed per second")
	f.IntVar(&b.MaxLive, "max-live", 0, "also place no call while this many are live on the PBX (0: --rate alone)")
	f.IntVar(&b.Agents, "agents", 150, "agents (each on its own endpoint, answering at once)")
	f.DurationVar(&b.Talk, "talk", 2*time.Second, "how long each caller talks")
	f.StringVar(&b.Recording, "recording", "always", "recording mode: always or never")
	f.StringVar(&b.Greeting, "greeting", "sound:beep", "media played to each caller before the queue (\"\" none)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&byRoute, "by-route", false, "also list ARI requests by route")
	f.BoolVar(&verbose, "verbose", false, "copy serve's log to stderr")
	f.StringVar(&b.Profile, "cpuprofile", "", "write serve's CPU profile (the whole run) to this file")
	f.IntVar(&b.SessionLimit, "session-limit", 0, "the simulator's HTTP session limit, as Asterisk's http.conf sessionlimit (0 none)")
	var recFaults, hangupFaults, stopFaults string
	f.StringVar(&recFaults, "fault-recording-finished", "", "RecordingFinished faults, as switchboard simulate takes them (drop=0.1,delay=0.1:2s,reorder=0.1)")
	f.StringVar(&hangupFaults, "fault-hangup", "", "hang-up faults, as switchboard simulate takes them (fail=0.2,stall=0.1:10s,stall-then-do=0.5)")
	f.StringVar(&stopFaults, "fault-stop-recording", "", "recording-stop faults, as --fault-hangup")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		var err error
		if recFaults != "" {
			if b.Faults.RecordingFinished, err = sim.ParseRecordingFaults(recFaults); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--fault-recording-finished: %w", err)}
			}
		}
		if hangupFaults != "" {
			if b.Faults.Hangup, err = sim.ParseRequestFaults(hangupFaults); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--fault-hangup: %w", err)}
			}
		}
		if stopFaults != "" {
			if b.Faults.StopRecording, err = sim.ParseRequestFaults(stopFaults); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--fault-stop-recording: %w", err)}
			}
		}
		return nil
	}
	return cmd
}

func (r callsBenchResult) write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "calls\t%d at %.0f/s, recording %s, %.1f s\n", r.Calls, r.Rate, r.Recording, r.WallSeconds)
	fmt.Fprintf(tw, "serve CPU per call\t%.2f ms\t(%.2f s in all)\n", r.CPUMsPerCall, r.CPUSeconds)
	fmt.Fprintf(tw, "PBX events per call\t%.1f\n", r.EventsPerCall)
	fmt.Fprintf(tw, "ARI requests per call\t%.1f\n", r.RequestsPerCall)
	fmt.Fprintf(tw, "allocations per call\t%.0f\t(%.0f KiB)\n", r.AllocsPerCall, r.AllocBytesPerCall/1024)
	fmt.Fprintf(tw, "agent-state history rows per call\t%.1f\n", r.AgentStateRows)
	fmt.Fprintf(tw, "serve max RSS\t%d MiB\n", r.ServeMaxRSSKiB/1024)
	fmt.Fprintf(tw, "recordings\t%d stored, %d failed, %d still recording\n", r.RecordingsStored, r.RecordingsFailed, r.RecordingsOpen)
	fmt.Fprintf(tw, "at the end\t%d calls live, %d channels and %d bridges on the PBX\n", r.CallsLiveAtEnd, r.ChannelsLeftAtEnd, r.BridgesLeftAtEnd)
	if len(r.FaultsInjected) > 0 || r.SessionsRefused > 0 {
		fmt.Fprintf(tw, "faults\t%v, %d sessions refused; serve retried %d commands\n", r.FaultsInjected, r.SessionsRefused, r.CommandRetries)
	}
	for _, k := range sortedKeys(r.RequestsByRoute) {
		fmt.Fprintf(tw, "  %s\t%.2f per call\n", k, float64(r.RequestsByRoute[k])/float64(max(r.Calls, 1)))
	}
	tw.Flush()
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

const benchApp = "switchboard"

// waitLive returns once fewer than max calls are live on s (each call is
// a caller's and an agent's channel), at once when max is 0.
func waitLive(ctx context.Context, s *sim.Server, max int) error {
	if max <= 0 {
		return nil
	}
	for len(s.Channels()) >= 2*max {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func (b *callsBench) check() error {
	switch {
	case b.Calls < 1:
		return errors.New("--calls: at least 1")
	case b.Warmup < 0:
		return errors.New("--warmup: not negative")
	case b.Rate <= 0 || b.Rate > 500:
		return errors.New("--rate: in (0, 500]")
	case b.MaxLive < 0:
		return errors.New("--max-live: not negative")
	case b.Agents < 1:
		return errors.New("--agents: at least 1")
	case b.Talk <= 0:
		return errors.New("--talk: positive")
	case b.Recording != "always" && b.Recording != "never":
		return fmt.Errorf("--recording %q: always or never", b.Recording)
	}
	return nil
}

func (b *callsBench) run(ctx context.Context) (callsBenchResult, error) {
	var res callsBenchResult
	if err := b.check(); err != nil {
		return res, &exitError{code: 2, err: err}
	}
	s := sim.New(sim.Options{User: "sb", Password: "bench-password", Speed: 1, Seed: 1,
		Faults: b.Faults, SessionLimit: b.SessionLimit})
	for i := range b.Agents {
		s.AddEndpoint("PJSIP", benchAgent(i), sim.Party{Rings: 0, Talk: time.Hour})
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		return res, err
	}
	defer s.Close()
	dsn := filepath.Join(b.Dir, "bench.db")
	// The configuration in a folder of its own, as /etc/switchboard is:
	// serve watches its folder for flow changes, and the database's writes
	// beside it would wake the watch at every commit.
	if err := os.MkdirAll(filepath.Join(b.Dir, "etc"), 0o700); err != nil {
		return res, err
	}
	cfgPath := filepath.Join(b.Dir, "etc", "bench.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.config(s.URL(), dsn)), 0o600); err != nil {
		return res, err
	}
	args := []string{"serve", "--config", cfgPath}
	if b.Profile != "" {
		args = append(args, "--cpuprofile", b.Profile)
	}
	serve, err := startBenchServe(ctx, b.launch(args...), b.Log)
	if err != nil {
		return res, err
	}
	defer serve.kill()

	placed := 0
	place := func(n int) error {
		gap := time.Duration(float64(time.Second) / b.Rate)
		next := time.Now()
		for range n {
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
			if err := waitLive(ctx, s, b.MaxLive); err != nil {
				return err
			}
			next = next.Add(gap)
			if _, err := s.Call(sim.Inbound{App: benchApp, From: fmt.Sprintf("+1557%07d", placed), To: "8000",
				Party: sim.Party{Talk: b.Talk, Patience: 5 * time.Minute}}); err != nil {
				return fmt.Errorf("placing call %d: %w", placed+1, err)
			}
			placed++
		}
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+dsn+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return res, err
	}
	defer db.Close()
	settle := func(want int) error {
		// Every call over on the PBX, every call-log row closed and every
		// recording settled (stored or failed): serve's own count of open
		// recordings too, since a recording's first row write may still
		// be on its way when its call's row is closed (the table alone
		// would not show it).
		deadline := time.Now().Add(2*time.Minute + time.Duration(float64(want)/b.Rate*float64(time.Second)))
		for {
			if err := serve.err(); err != nil {
				return err
			}
			var rows, open, recOpen int
			q := func(dst *int, query string) error { return db.QueryRowContext(ctx, query).Scan(dst) }
			if len(s.Channels()) == 0 && len(s.Bridges()) == 0 &&
				q(&rows, "SELECT count(*) FROM cdr WHERE NOT open") == nil && rows >= want &&
				q(&open, "SELECT count(*) FROM cdr WHERE open") == nil && open == 0 &&
				q(&recOpen, "SELECT count(*) FROM recordings WHERE state NOT IN ('stored', 'failed')") == nil && recOpen == 0 {
				if m, err := scrapeMetrics(serve.base); err == nil && m["switchboard_recordings_open"] == 0 {
					return nil
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("calls not over in time: %d channels and %d bridges on the PBX, %d of %d call-log rows closed, %d open, %d recordings unsettled",
					len(s.Channels()), len(s.Bridges()), rows, want, open, recOpen)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	if err := place(b.Warmup); err != nil {
		return res, err
	}
	if err := settle(b.Warmup); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	var states0, states1 int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM agent_states").Scan(&states0); err != nil {
		return res, err
	}
	cpu0, err := procCPU(serve.pid)
	if err != nil {
		return res, err
	}
	m0, err := scrapeMetrics(serve.base)
	if err != nil {
		return res, err
	}
	ev0 := s.Stats().SentByApp[benchApp]
	rq0 := ariRequests(s.Stats())
	start := time.Now()
	if err := place(b.Calls); err != nil {
		return res, err
	}
	if err := settle(b.Warmup + b.Calls); err != nil {
		return res, err
	}
	res.WallSeconds = time.Since(start).Seconds()
	cpu1, err := procCPU(serve.pid)
	if err != nil {
		return res, err
	}
	m1, err := scrapeMetrics(serve.base)
	if err != nil {
		return res, err
	}
	ev1 := s.Stats().SentByApp[benchApp]
	st := s.Stats()
	rq1 := ariRequests(st)

	n := float64(b.Calls)
	res.Calls, res.Rate, res.Recording = b.Calls, b.Rate, b.Recording
	res.CPUSeconds = cpu1 - cpu0
	res.CPUMsPerCall = res.CPUSeconds * 1000 / n
	res.EventsPerCall = float64(ev1-ev0) / n
	res.RequestsByRoute = map[string]int64{}
	var total int64
	for k, v := range rq1 {
		if d := v - rq0[k]; d > 0 {
			res.RequestsByRoute[k] = d
			total += d
		}
	}
	res.RequestsPerCall = float64(total) / n
	res.AllocsPerCall = (m1["go_memstats_mallocs_total"] - m0["go_memstats_mallocs_total"]) / n
	res.AllocBytesPerCall = (m1["go_memstats_alloc_bytes_total"] - m0["go_memstats_alloc_bytes_total"]) / n
	res.CallsLiveAtEnd = int(m1["switchboard_active_calls"])
	res.CommandRetries = int64(m1["switchboard_pbx_command_retries_total"])
	res.FaultsInjected, res.SessionsRefused = st.Faults, st.SessionsRefused
	for _, q := range []struct {
		dst   *int
		query string
	}{
		{&res.RecordingsStored, "SELECT count(*) FROM recordings WHERE state = 'stored'"},
		{&res.RecordingsFailed, "SELECT count(*) FROM recordings WHERE state = 'failed'"},
		{&res.RecordingsOpen, "SELECT count(*) FROM recordings WHERE state NOT IN ('stored', 'failed')"},
		{&res.CallLogRows, "SELECT count(*) FROM cdr"},
		{&states1, "SELECT count(*) FROM agent_states"},
	} {
		if err := db.QueryRowContext(ctx, q.query).Scan(q.dst); err != nil {
			return res, err
		}
	}
	res.AgentStateRows = float64(states1-states0) / n
	rows, err := db.QueryContext(ctx, `SELECT outcome || ' cause ' || hangup_cause, count(*) FROM cdr
		WHERE call_id NOT IN (SELECT call_id FROM recordings) GROUP BY 1`)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return res, err
		}
		if res.Unrecorded == nil {
			res.Unrecorded = map[string]int{}
		}
		res.Unrecorded[k] = n
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	res.ChannelsLeftAtEnd, res.BridgesLeftAtEnd = len(s.Channels()), len(s.Bridges())
	rss, err := serve.stop()
	if err != nil {
		return res, err
	}
	res.ServeMaxRSSKiB = rss
	return res, nil
}

func benchAgent(i int) string { return fmt.Sprintf("7%03d", i+1) }

func (b *callsBench) config(ariURL, dsn string) string {
	var agents, ids strings.Builder
	for i := range b.Agents {
		fmt.Fprintf(&agents, "  - {id: %q, endpoint: PJSIP/%s}\n", benchAgent(i), benchAgent(i))
		if i > 0 {
			ids.WriteString(", ")
		}
		fmt.Fprintf(&ids, "%q", benchAgent(i))
	}
	greeting := "[]"
	if b.Greeting != "" {
		greeting = fmt.Sprintf("[%q]", b.Greeting)
	}
	return fmt.Sprintf(`http:
  listen: 127.0.0.1:0
log:
  level: info
database:
  dsn: %s
asterisk:
  url: %s
  username: sb
  password: bench-password
  application: %s
center:
  greeting: %s
  wait_for_agent: 5m
  agent_ring_timeout: 15s
routing:
  engine: router
agents:
%squeues:
  - {name: support, agents: [%s]}
recording:
  dir: %s
  policies:
    default: {mode: %s}
api:
  tokens:
    - name: bench
      role: admin
      sha256: %s
`, dsn, ariURL, benchApp, greeting, agents.String(), ids.String(), filepath.Join(b.Dir, "recordings"), b.Recording, config.HashToken("bench-token"))
}

// benchServe is the serve child process of a calls benchmark.
type benchServe struct {
	cmd  *exec.Cmd
	pid  int
	base string
	done chan struct{}
	werr error
}

var benchStarted = regexp.MustCompile(`msg="switchboard started" http=(\S+)`)

func startBenchServe(ctx context.Context, cmd *exec.Cmd, logw io.Writer) (*benchServe, error) {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &benchServe{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.pid = cmd.Process.Pid
	go func() {
		p.werr = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if logw != nil {
				fmt.Fprintln(logw, line)
			}
			if m := benchStarted.FindStringSubmatch(line); m != nil && !found {
				found = true
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		return nil, fmt.Errorf("serve exited at start: %v", p.werr)
	case <-time.After(60 * time.Second):
		p.kill()
		return nil, errors.New("serve did not start within 60 s")
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, errors.New("serve not ready within 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// err is the exit of a serve that ended before it was told to.
func (p *benchServe) err() error {
	select {
	case <-p.done:
		return fmt.Errorf("serve exited: %v", p.werr)
	default:
		return nil
	}
}

func (p *benchServe) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// stop ends serve with SIGTERM and returns its peak RSS in KiB.
func (p *benchServe) stop() (int64, error) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		p.kill()
		return 0, errors.New("serve did not stop within 2 minutes of SIGTERM")
	}
	if p.werr != nil {
		return 0, fmt.Errorf("serve after SIGTERM: %v", p.werr)
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss, nil
	}
	return 0, nil
}

// procCPU is the user+system CPU time of process pid, in seconds, from
// /proc/PID/stat (Linux).
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading serve's CPU time (Linux /proc needed): %w", err)
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, s)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, s)
	}
	const ticks = 100 // USER_HZ, 100 on every Linux platform Go supports
	return (utime + stime) / ticks, nil
}

// scrapeMetrics reads the unlabelled samples of serve's /metrics.
func scrapeMetrics(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// ariRequests are the simulator's ARI requests by route, the events
// websocket and the control API left out.
func ariRequests(st sim.Stats) map[string]int64 {
	out := map[string]int64{}
	for k, v := range st.Requests {
		method, path, _ := strings.Cut(k, " ")
		if !strings.HasPrefix(path, "/ari/") || path == "/ari/events" {
			continue
		}
		out[method+" "+strings.TrimPrefix(path, "/ari")] = v
	}
	return out
}
