package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/switchboard/switchboard/app"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/demo"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/sim"
)

func newIVRCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ivr", Short: "Work with IVR flows"}
	cmd.AddCommand(newIVRTestCmd())
	return cmd
}

// ivrCase is one IVR unit test: a simulated caller and what should happen.
type ivrCase struct {
	Name    string                `yaml:"name" json:"name"`
	Flow    string                `yaml:"flow" json:"flow"`
	Caller  string                `yaml:"caller" json:"caller"`
	DNIS    string                `yaml:"dnis" json:"dnis"`
	At      string                `yaml:"at" json:"at,omitempty"`
	Digits  string                `yaml:"digits" json:"digits"`
	Lookups map[string]lookupStub `yaml:"lookups" json:"lookups,omitempty"`
	Expect  *ivrExpect            `yaml:"expect" json:"expect,omitempty"`
	line    int
}

// lookupStub answers the flow's HTTP lookups whose URL starts with its key.
type lookupStub struct {
	Status int    `yaml:"status" json:"status"`
	Body   string `yaml:"body" json:"body"`
	Delay  string `yaml:"delay" json:"delay,omitempty"` // answer after this long (a slow CRM)
}

type ivrExpect struct {
	Nodes []string          `yaml:"nodes"`
	End   string            `yaml:"end"`
	Vars  map[string]string `yaml:"vars"`
}

// ivrResult is what a case did.
type ivrResult struct {
	Case     string   `json:"case,omitempty"`
	Path     ivr.Path `json:"path"`
	Failures []string `json:"failures,omitempty"`
}

func newIVRTestCmd() *cobra.Command {
	var (
		path, caller, dnis, digits, at, casesFile string
		stubs                                     []string
		asJSON                                    bool
	)
	cmd := &cobra.Command{
		Use:   "test [FLOW]",
		Short: "Run a flow against the simulated PBX and print the caller's path",
		Long: `test runs an IVR flow with a simulated caller on the built-in simulated
Asterisk and prints the path the caller took: nodes, prompts played, keys,
variables set and where it ended.

--digits answers each request for input (a menu or gather prompt) with the
next comma-separated group of keys: --digits 1,4,2# presses 1 at the first
menu, 4 at the next, then 2# (an empty group presses nothing).

--cases FILE runs every case of a YAML file and checks its expectations:
  cases:
    - name: sales
      flow: main
      caller: "+15551234567"
      dnis: "8000"
      at: 2026-12-24T10:00:00-05:00     # time the calendars see
      digits: "1"
      lookups: {"https://crm.example/": {status: 200, body: '{"tier":"gold"}'}}
      expect: {nodes: [welcome, menu, sales], end: "queue:sales", vars: {tier: gold}}
It exits 1 when any case fails.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := demo.Config(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var cases []ivrCase
			switch {
			case casesFile != "":
				if cases, err = readCases(casesFile); err != nil {
					return &exitError{code: 2, err: err}
				}
			case len(args) == 1:
				c := ivrCase{Name: args[0], Flow: args[0], Caller: caller, DNIS: dnis, At: at, Digits: digits, Lookups: map[string]lookupStub{}}
				for _, s := range stubs {
					prefix, spec, ok := strings.Cut(s, "=")
					st, body, ok2 := strings.Cut(spec, ":")
					var code int
					if _, err := fmt.Sscan(st, &code); !ok || !ok2 || err != nil {
						return &exitError{code: 2, err: fmt.Errorf("--lookup %q: want URL-PREFIX=STATUS:BODY", s)}
					}
					c.Lookups[prefix] = lookupStub{Status: code, Body: body}
				}
				cases = []ivrCase{c}
			default:
				return &exitError{code: 2, err: fmt.Errorf("name a flow or give --cases FILE")}
			}
			results, err := runIVRCases(cmd.Context(), cfg, cases)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for i, r := range results {
				if len(r.Failures) > 0 {
					failed++
				}
				if !asJSON {
					printPath(out, cases[i], r, casesFile != "")
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			}
			if casesFile != "" {
				fmt.Fprintf(out, "%d passed, %d failed\n", len(results)-failed, failed)
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d IVR cases failed", failed, len(results))}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "configuration file (default: the embedded demo configuration)")
	f.StringVar(&caller, "caller", "+15551234567", "caller number")
	f.StringVar(&dnis, "dnis", "8000", "dialed number")
	f.StringVar(&digits, "digits", "", "keys for each input prompt, comma-separated groups")
	f.StringVar(&at, "at", "", "the time the flow sees (RFC 3339), for calendars and time conditions")
	f.StringVar(&casesFile, "cases", "", "YAML file of cases to run and check")
	f.StringArrayVar(&stubs, "lookup", nil, "answer lookups to URL-PREFIX with STATUS:BODY (repeatable)")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

func readCases(file string) ([]ivrCase, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Cases yaml.Node `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Cases.Kind != yaml.SequenceNode || len(doc.Cases.Content) == 0 {
		return nil, fmt.Errorf("%s: want a non-empty list under cases:", file)
	}
	var cases []ivrCase
	var problems []string
	for i, n := range doc.Cases.Content {
		var c ivrCase
		if err := n.Decode(&c); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: case %d: %v", file, n.Line, i+1, err))
			continue
		}
		c.line = n.Line
		if c.Name == "" {
			c.Name = fmt.Sprintf("case %d", i+1)
		}
		if c.Flow == "" {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: flow is required", file, n.Line, c.Name))
		}
		if c.At != "" {
			if _, err := time.Parse(time.RFC3339, c.At); err != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: at: want RFC 3339 (2026-12-24T17:59:00-05:00)", file, n.Line, c.Name))
			}
		}
		for prefix, st := range c.Lookups {
			if st.Delay != "" {
				if _, err := time.ParseDuration(st.Delay); err != nil {
					problems = append(problems, fmt.Sprintf("%s:%d: %s: lookups %q: bad delay %q", file, n.Line, c.Name, prefix, st.Delay))
				}
			}
		}
		if c.Caller == "" {
			c.Caller = fmt.Sprintf("+1555%07d", 1000+i)
		}
		if c.DNIS == "" {
			c.DNIS = "8000"
		}
		cases = append(cases, c)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return cases, nil
}

// stubTransport answers lookups from the current case's stubs; anything
// else fails like an unreachable server (a test never calls out).
type stubTransport struct {
	mu    sync.Mutex
	stubs map[string]lookupStub
}

func (s *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	var best string
	for prefix := range s.stubs {
		if strings.HasPrefix(req.URL.String(), prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	st, ok := s.stubs[best]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no lookup stub for this URL (ivr test never calls out)")
	}
	if d, _ := time.ParseDuration(st.Delay); d > 0 {
		select {
		case <-time.After(d):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return &http.Response{StatusCode: st.Status, Body: io.NopCloser(strings.NewReader(st.Body)),
		Header: http.Header{"Content-Type": {"application/json"}}, Request: req}, nil
}

// offsetClock is the simulator's clock shifted to the case's --at time.
type offsetClock struct {
	c      *sim.Clock
	offset atomic.Int64
}

func (o *offsetClock) Now() time.Time { return o.c.Now().Add(time.Duration(o.offset.Load())) }
func (o *offsetClock) AfterFunc(d time.Duration, f func()) func() bool {
	return o.c.AfterFunc(d, f).Stop
}

// runIVRCases runs each case as a call on a simulated PBX and checks it.
func runIVRCases(ctx context.Context, cfg *config.Config, cases []ivrCase) ([]ivrResult, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := sim.New(sim.Options{User: cfg.Asterisk.Username, Password: cfg.Asterisk.Password, Speed: 200, Seed: 1})
	for _, a := range cfg.Agents {
		tech, res, _ := strings.Cut(a.Endpoint, "/")
		s.AddEndpoint(tech, res, sim.Party{Rings: 1, Talk: time.Second})
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	defer s.Close()
	cfg.Asterisk.URL, cfg.Asterisk.WebsocketURL = s.URL(), s.WebsocketURL()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Database.DSN = ":memory:"
	// Flows are tested, not recordings: record nothing, keep no files.
	tmp, err := os.MkdirTemp("", "switchboard-ivr-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cfg.Recording.Dir, cfg.Recording.SharedDir = tmp, ""
	cfg.Recording.Policies = recording.Policies{Default: recording.Policy{Mode: recording.ModeNever}}
	// Nor queue reports: a test call is no call for the queue_log.
	cfg.Routing.QueueLog = ""
	clock := &offsetClock{c: s.Clock()}
	stubs := &stubTransport{}

	var (
		mu     sync.Mutex
		keys   []string
		notes  = make(chan ivr.Note, 16)
		caller string
	)
	observer := func(n ivr.Note) {
		mu.Lock()
		mine := n.Caller == caller
		var next string
		if mine && n.WantsKeys && len(keys) > 0 {
			next, keys = keys[0], keys[1:]
		}
		mu.Unlock()
		if !mine {
			return
		}
		if next != "" {
			go s.SendDTMF(string(n.Call), next)
		}
		if n.Done {
			notes <- n
		}
	}
	ctl, err := app.Start(ctx, cfg, log, app.Options{Clock: clock, IVRObserver: observer, Lookups: &http.Client{Transport: stubs}})
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	if err := waitFor(ctx, 10*time.Second, func() bool { return ctl.PBX.Ready() && slices.Contains(s.Apps(), cfg.Asterisk.Application) }); err != nil {
		return nil, fmt.Errorf("simulated PBX: %w", err)
	}
	var results []ivrResult
	for _, c := range cases {
		if _, ok := ctl.Flows.Current().Flows[c.Flow]; !ok {
			results = append(results, ivrResult{Case: c.Name, Failures: []string{fmt.Sprintf("no flow %q", c.Flow)}})
			continue
		}
		ctl.Center.SetRoutes([]center.Route{{DNIS: "*", Flow: c.Flow}})
		offset := time.Duration(0)
		if c.At != "" {
			at, _ := time.Parse(time.RFC3339, c.At)
			offset = at.Sub(s.Clock().Now())
		}
		clock.offset.Store(int64(offset))
		stubs.mu.Lock()
		stubs.stubs = c.Lookups
		stubs.mu.Unlock()
		mu.Lock()
		caller = c.Caller
		keys = nil
		if c.Digits != "" {
			keys = strings.Split(c.Digits, ",")
		}
		mu.Unlock()
		id, err := s.Call(sim.Inbound{App: cfg.Asterisk.Application, From: c.Caller, To: c.DNIS})
		if err != nil {
			return nil, err
		}
		var note ivr.Note
		select {
		case note = <-notes:
		case <-time.After(60 * time.Second):
			return nil, fmt.Errorf("%s: the flow did not end within a minute", c.Name)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// The flow is over (queued, transferred, hung up): end the call.
		_ = s.Hangup(id, 16)
		_ = waitFor(ctx, 10*time.Second, func() bool { return ctl.Center.ActiveCalls() == 0 })
		results = append(results, ivrResult{Case: c.Name, Path: note.Path, Failures: c.check(note.Path)})
	}
	return results, nil
}

// check compares a path with the case's expectations.
func (c ivrCase) check(p ivr.Path) []string {
	if c.Expect == nil {
		return nil
	}
	var fails []string
	if len(c.Expect.Nodes) > 0 {
		var got []string
		for _, v := range p.Visits {
			got = append(got, v.Node)
		}
		if !slices.Equal(got, c.Expect.Nodes) {
			fails = append(fails, fmt.Sprintf("nodes %v, want %v", got, c.Expect.Nodes))
		}
	}
	if c.Expect.End != "" && p.End != c.Expect.End {
		fails = append(fails, fmt.Sprintf("ended %q, want %q", p.End, c.Expect.End))
	}
	names := make([]string, 0, len(c.Expect.Vars))
	for k := range c.Expect.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if got := p.Vars[k]; got != c.Expect.Vars[k] {
			fails = append(fails, fmt.Sprintf("var %s = %q, want %q", k, got, c.Expect.Vars[k]))
		}
	}
	return fails
}

func printPath(w io.Writer, c ivrCase, r ivrResult, asCase bool) {
	if asCase {
		status := "PASS"
		if len(r.Failures) > 0 {
			status = "FAIL"
		}
		fmt.Fprintf(w, "%s %s\n", status, c.Name)
	}
	fmt.Fprintf(w, "flow %s (version %d) caller %s dnis %s\n", r.Path.Flow, r.Path.Version, c.Caller, c.DNIS)
	for _, v := range r.Path.Visits {
		line := fmt.Sprintf("  %6.1fs  %-16s %-9s", v.At, v.Flow+"/"+v.Node, v.Type)
		if len(v.Prompts) > 0 {
			line += " played " + strings.Join(v.Prompts, " ")
		}
		if v.Keys != "" {
			line += " keys " + v.Keys
		}
		if v.Result != "" {
			line += " -> " + v.Result
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if len(r.Path.Vars) > 0 {
		names := make([]string, 0, len(r.Path.Vars))
		for k := range r.Path.Vars {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, k+"="+r.Path.Vars[k])
		}
		fmt.Fprintf(w, "  vars: %s\n", strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "  ended: %s\n", r.Path.End)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  FAIL: %s\n", f)
	}
}
