package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/app"
	"github.com/switchboard/switchboard/demo"
	"github.com/switchboard/switchboard/sim"
)

// maxLoadPerSecond bounds --load: past it the simulator spends its time
// placing callers rather than simulating them.
const maxLoadPerSecond = 1000

// defaultLoadScript is what a --load caller does when --script is not given:
// hangs up after 2 minutes if no agent answers, talks 30 s to 3 minutes.
const defaultLoadScript = "patience=2m;talk=30s-3m"

func newSimulateCmd() *cobra.Command {
	var listen, user, password string
	var speed float64
	var seed int64
	var phones bool
	var lf loadFlags
	var ff faultFlags
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run the simulated Asterisk (ARI over HTTP and WebSocket) on its own",
		Long: `simulate serves the ARI simulator so any ARI program can be tested against it.

Scripted parties are addressed as endpoints; the control API under /sim/v1
places inbound callers, hangs parties up and sets endpoints offline. With
--load it places a steady stream of inbound callers into --app once that
application's events websocket is connected: Poisson arrivals at the given
rate of simulated time (--arrivals fixed: evenly spaced), each caller
following --script.

The --fault-* flags make it misbehave as a loaded Asterisk does, drawn
from --fault-seed: RecordingFinished events dropped, delayed or sent after
the call's later events; hang-ups, bridge removals and recording stops
answered 500 without being done, or stalled past a client's timeout.
--session-limit is http.conf's sessionlimit. The control API changes all
of it at run time (POST /sim/v1/faults, PUT /sim/v1/sessions). See
README.md ("The simulator").`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" || password == "" {
				return &exitError{code: 2, err: fmt.Errorf("--user and --password are required")}
			}
			spec, err := lf.parse(cmd)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			faults, err := ff.parse(cmd, seed)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if ff.sessionLimit < 0 {
				return &exitError{code: 2, err: fmt.Errorf("--session-limit %d: want 0 (unlimited) or more", ff.sessionLimit)}
			}
			log := app.NewLogger(cmd.ErrOrStderr(), "info", "text")
			opts := sim.Options{User: user, Password: password, Speed: speed, Seed: seed, Logger: log,
				Faults: faults, SessionLimit: ff.sessionLimit}
			if cmd.Flags().Changed("app") {
				opts.ControlApp = lf.app
			}
			s := sim.New(opts)
			if phones {
				s.AddDefaultPhones()
			}
			if err := s.Start(listen); err != nil {
				return err
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "ARI simulator at %s (events %s)\n", s.URL(), s.WebsocketURL())
			fmt.Fprintf(out, "control API at http://%s%s\n", s.Addr(), sim.ControlPrefix)
			if line := faultSummary(faults); line != "" {
				fmt.Fprintf(out, "faults (seed %d): %s\n", faults.Seed, line)
			}
			if ff.sessionLimit > 0 {
				fmt.Fprintf(out, "HTTP session limit: %d\n", ff.sessionLimit)
			}
			var gen *loadGen
			if spec != nil {
				fmt.Fprintf(out, "load: %s (%s arrivals) into %q once it connects, script %q\n",
					lf.load, lf.arrivals, spec.app, lf.script)
				gen = startLoad(cmd.Context(), s, *spec, seed, log)
			}
			<-cmd.Context().Done()
			if gen != nil {
				placed, failed := gen.stop()
				fmt.Fprintf(out, "load: placed %d callers, %d failed\n", placed, failed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8088", "address to serve ARI on")
	f.StringVar(&user, "user", "", "ARI user (basic auth)")
	f.StringVar(&password, "password", "", "ARI password (basic auth)")
	f.Float64Var(&speed, "speed", 1, "simulated seconds per wall-clock second")
	f.Int64Var(&seed, "seed", 1, "seed for drawn durations and --load arrivals")
	f.BoolVar(&phones, "phones", true, "register desk phones PJSIP/1001-1010")
	f.StringVar(&lf.load, "load", "", "place inbound callers at this rate of simulated time: 2/s, 30/m, 100/h")
	f.StringVar(&lf.script, "script", defaultLoadScript, "what each --load caller does: talk=DUR|MIN-MAX;digits=STR;digitsdelay=DUR;patience=DUR")
	f.StringVar(&lf.dialed, "dialed", "8000", "number the --load callers dial")
	f.StringVar(&lf.callerPrefix, "caller-prefix", "+1555", "caller numbers of --load: this prefix and 7 random digits")
	f.StringVar(&lf.app, "app", "switchboard", "Stasis application of the --load callers (and of control API calls that name none)")
	f.StringVar(&lf.arrivals, "arrivals", "poisson", "--load arrivals: poisson (exponential gaps, from --seed) or fixed")
	f.IntVar(&ff.sessionLimit, "session-limit", 0, "at most this many open HTTP connections (websockets included); one more is closed unanswered, as Asterisk's http.conf sessionlimit (100 there); 0 = unlimited")
	f.Int64Var(&ff.seed, "fault-seed", 0, "seed of the fault draws (default: --seed)")
	f.StringVar(&ff.recording, "fault-recording-finished", "", "RecordingFinished faults: drop=FRAC,delay=FRAC:DUR,reorder=FRAC (e.g. drop=0.1,delay=0.1:2s,reorder=0.1)")
	f.StringVar(&ff.hangup, "fault-hangup", "", "DELETE /channels/{id} faults: fail=FRAC,stall=FRAC:DUR,stall-then-do=FRAC (e.g. fail=0.2,stall=0.1:10s,stall-then-do=0.5; DUR is wall time)")
	f.StringVar(&ff.removeChannel, "fault-remove-channel", "", "POST /bridges/{id}/removeChannel faults, as --fault-hangup")
	f.StringVar(&ff.stopRecording, "fault-stop-recording", "", "POST /recordings/live/{name}/stop faults, as --fault-hangup")
	return cmd
}

// faultFlags are simulate's --fault-* and --session-limit flags as given.
type faultFlags struct {
	seed                                            int64
	recording, hangup, removeChannel, stopRecording string
	sessionLimit                                    int
}

// parse reads the --fault-* flags; the fault seed defaults to seed.
func (ff faultFlags) parse(cmd *cobra.Command, seed int64) (sim.Faults, error) {
	f := sim.Faults{Seed: ff.seed}
	if !cmd.Flags().Changed("fault-seed") {
		f.Seed = seed
	}
	var err error
	if f.RecordingFinished, err = sim.ParseRecordingFaults(ff.recording); err != nil {
		return f, fmt.Errorf("--fault-recording-finished: %w", err)
	}
	for _, x := range []struct {
		flag, spec string
		dst        *sim.RequestFaults
	}{{"fault-hangup", ff.hangup, &f.Hangup}, {"fault-remove-channel", ff.removeChannel, &f.RemoveChannel},
		{"fault-stop-recording", ff.stopRecording, &f.StopRecording}} {
		if *x.dst, err = sim.ParseRequestFaults(x.spec); err != nil {
			return f, fmt.Errorf("--%s: %w", x.flag, err)
		}
	}
	return f, nil
}

// summary lists the faults in force in the flags' syntax ("" for none).
func faultSummary(f sim.Faults) string {
	var parts []string
	for _, x := range []struct{ name, spec string }{
		{"recording-finished", f.RecordingFinished.String()}, {"hangup", f.Hangup.String()},
		{"remove-channel", f.RemoveChannel.String()}, {"stop-recording", f.StopRecording.String()}} {
		if x.spec != "" {
			parts = append(parts, x.name+" "+x.spec)
		}
	}
	return strings.Join(parts, "; ")
}

// loadFlags are simulate's --load flags as given.
type loadFlags struct {
	load, script, dialed, callerPrefix, app, arrivals string
}

// loadSpec is a parsed --load: who calls and how often.
type loadSpec struct {
	app, dialed, callerPrefix string
	party                     sim.Party
	gap                       func(*rand.Rand) time.Duration
}

// parse checks the flags; a nil spec means no --load.
func (lf loadFlags) parse(cmd *cobra.Command) (*loadSpec, error) {
	if lf.load == "" {
		for _, name := range []string{"script", "dialed", "caller-prefix", "arrivals"} {
			if cmd.Flags().Changed(name) {
				return nil, fmt.Errorf("--%s needs --load", name)
			}
		}
		return nil, nil
	}
	perSec, err := parseRate(lf.load)
	if err != nil {
		return nil, fmt.Errorf("--load: %w", err)
	}
	gap, err := arrivalGap(lf.arrivals, perSec)
	if err != nil {
		return nil, fmt.Errorf("--arrivals: %w", err)
	}
	party, err := sim.ParseCallerScript(lf.script)
	if err != nil {
		return nil, fmt.Errorf("--script: %w", err)
	}
	if strings.TrimSpace(lf.dialed) == "" {
		return nil, fmt.Errorf("--dialed: empty")
	}
	if err := checkCallerPrefix(lf.callerPrefix); err != nil {
		return nil, fmt.Errorf("--caller-prefix: %w", err)
	}
	if lf.app == "" {
		return nil, fmt.Errorf("--app: empty")
	}
	return &loadSpec{app: lf.app, dialed: lf.dialed, callerPrefix: lf.callerPrefix, party: party, gap: gap}, nil
}

// parseRate reads a rate such as 2/s, 30/m or 100/h (also /sec, /min,
// /hour) and returns it per second.
func parseRate(s string) (float64, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q: %s (want CALLS/UNIT such as 2/s, 30/m or 100/h)", s, why)
	}
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, bad("no unit")
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, bad("not a number of calls")
	}
	if n <= 0 {
		return 0, bad("must be more than 0")
	}
	var per time.Duration
	switch strings.ToLower(strings.TrimSpace(unit)) {
	case "s", "sec":
		per = time.Second
	case "m", "min":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		return 0, bad(fmt.Sprintf("unknown unit %q", unit))
	}
	perSec := n / per.Seconds()
	if perSec > maxLoadPerSecond {
		return 0, bad(fmt.Sprintf("more than %d calls a second", maxLoadPerSecond))
	}
	return perSec, nil
}

// arrivalGap returns the time from one arrival to the next at perSec
// arrivals a second: exponential (a Poisson stream) or fixed.
func arrivalGap(kind string, perSec float64) (func(*rand.Rand) time.Duration, error) {
	mean := time.Duration(float64(time.Second) / perSec)
	switch kind {
	case "poisson":
		return func(r *rand.Rand) time.Duration { return demo.ExpDuration(r, mean) }, nil
	case "fixed":
		return func(*rand.Rand) time.Duration { return mean }, nil
	}
	return nil, fmt.Errorf("%q: want poisson or fixed", kind)
}

// checkCallerPrefix accepts an optional + and at most 8 digits, so that a
// caller number (the prefix and 7 digits) stays within E.164's 15.
func checkCallerPrefix(p string) error {
	digits := strings.TrimPrefix(p, "+")
	if strings.Trim(digits, "0123456789") != "" {
		return fmt.Errorf("%q: want digits, optionally after +", p)
	}
	if len(digits) > 8 {
		return fmt.Errorf("%q: at most 8 digits (7 random ones follow)", p)
	}
	return nil
}

// caller draws the next --load caller.
func (l loadSpec) caller(r *rand.Rand) sim.Inbound {
	return sim.Inbound{App: l.app, To: l.dialed, From: fmt.Sprintf("%s%07d", l.callerPrefix, r.IntN(10_000_000)), Party: l.party}
}

// loadGen is a running --load: the demo's traffic generator, started once
// the application is connected.
type loadGen struct {
	t    *demo.Traffic
	done chan struct{}
}

// startLoad waits (until ctx ends) for spec.app's websocket, then places
// callers.
func startLoad(ctx context.Context, s *sim.Server, spec loadSpec, seed int64, log *slog.Logger) *loadGen {
	g := &loadGen{
		t:    demo.NewTraffic(s, rand.New(rand.NewPCG(uint64(seed), 0x10ad)), spec.gap, spec.caller, log),
		done: make(chan struct{}),
	}
	go func() {
		defer close(g.done)
		if waitFor(ctx, 0, func() bool { return slices.Contains(s.Apps(), spec.app) }) != nil {
			return
		}
		log.Info("load: application connected, placing callers", "app", spec.app)
		g.t.Start()
	}()
	return g
}

// stop ends the arrivals (the context given to startLoad must be done)
// and returns the callers placed and those that failed.
func (g *loadGen) stop() (placed, failed int64) {
	<-g.done
	return g.t.Stop()
}
