package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/erlang"
)

// erlangFlag names the command-line flag behind each erlang.Input field, so
// an InputError points at what the user typed.
var erlangFlag = map[string]string{
	"CallsPerHour":        "--calls-per-hour",
	"AHT":                 "--aht",
	"Target.ServiceLevel": "--target",
	"Target.Within":       "--target",
	"Patience":            "--patience",
	"Agents":              "--agents",
	"MaxOccupancy":        "--max-occupancy",
	"MaxASA":              "--max-asa",
	"MaxAbandon":          "--max-abandon",
}

func newErlangCmd() *cobra.Command {
	var (
		callsPerHour, maxOccupancy, maxAbandon float64
		aht, patience, maxASA                  time.Duration
		target                                 string
		agents                                 int
		asJSON                                 bool
	)
	cmd := &cobra.Command{
		Use:   "erlang --calls-per-hour N --aht DURATION --target PCT/DURATION",
		Short: "Agents needed for a service-level target (Erlang C, or Erlang A with --patience)",
		Long: `Sizes a queue with Erlang C (callers never hang up) or, when --patience
gives the callers' mean patience, Erlang A (callers abandon). Prints the
agents needed for the target with their service level, ASA and occupancy;
with --agents N it evaluates that staffing instead.

  switchboard erlang --calls-per-hour 120 --aht 180s --target 80/20s
  switchboard erlang --calls-per-hour 120 --aht 3m --target 80/20s --patience 60s --json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("unexpected argument %q: everything is given by flags", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(format string, a ...any) error {
				return &exitError{code: 2, err: fmt.Errorf(format, a...)}
			}
			for _, name := range []string{"calls-per-hour", "aht", "target"} {
				if !cmd.Flags().Changed(name) {
					return usage("--%s is required", name)
				}
			}
			sl, within, err := parseTarget(target)
			if err != nil {
				return usage("--target %q: %v", target, err)
			}
			if cmd.Flags().Changed("agents") && agents <= 0 {
				return usage("--agents must be at least 1, got %d", agents)
			}
			if cmd.Flags().Changed("patience") && patience <= 0 {
				return usage("--patience must be positive, got %v (leave it out for Erlang C)", patience)
			}
			for _, f := range []struct {
				name string
				v    float64
			}{{"--max-occupancy", maxOccupancy}, {"--max-abandon", maxAbandon}} {
				if f.v < 0 || f.v > 1 {
					return usage("%s %v: give a fraction between 0 and 1, e.g. 0.85", f.name, f.v)
				}
			}
			in := erlang.Input{
				CallsPerHour: callsPerHour,
				AHT:          aht,
				Target:       erlang.Target{ServiceLevel: sl, Within: within},
				Patience:     patience,
				Agents:       agents,
				MaxOccupancy: maxOccupancy,
				MaxASA:       maxASA,
				MaxAbandon:   maxAbandon,
			}
			res, err := erlang.Solve(in)
			var ie *erlang.InputError
			if errors.As(err, &ie) {
				flag := erlangFlag[ie.Field]
				if flag == "" {
					flag = ie.Field
				}
				return usage("%s: %s", flag, ie.Problem)
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if asJSON {
				return writeErlangJSON(cmd.OutOrStdout(), in, res)
			}
			writeErlangText(cmd.OutOrStdout(), in, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.Float64Var(&callsPerHour, "calls-per-hour", 0, "arrival rate in calls per hour (required)")
	f.DurationVar(&aht, "aht", 0, "average handle time, talk plus wrap-up, e.g. 180s or 3m (required)")
	f.StringVar(&target, "target", "", "service-level target PERCENT/WAIT, e.g. 80/20s (required)")
	f.DurationVar(&patience, "patience", 0, "callers' mean patience, e.g. 60s: selects Erlang A and reports abandons")
	f.IntVar(&agents, "agents", 0, "evaluate this many agents instead of searching")
	f.Float64Var(&maxOccupancy, "max-occupancy", 0, "also keep occupancy at or below this fraction, e.g. 0.85")
	f.DurationVar(&maxASA, "max-asa", 0, "also keep the average speed of answer at or below this, e.g. 15s")
	f.Float64Var(&maxAbandon, "max-abandon", 0, "also keep the abandon rate at or below this fraction (Erlang A), e.g. 0.05")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: 2, err: err}
	})
	return cmd
}

// parseTarget reads PERCENT/WAIT, e.g. "80/20s" or "80%/20s"; the wait needs
// a unit so that "80/20" (seconds? minutes?) is not guessed.
func parseTarget(s string) (float64, time.Duration, error) {
	pct, wait, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, errors.New("want PERCENT/WAIT, e.g. 80/20s")
	}
	p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(pct), "%"), 64)
	if err != nil || math.IsNaN(p) || p <= 0 || p >= 100 {
		return 0, 0, fmt.Errorf("percent %q must be a number above 0 and below 100", pct)
	}
	wait = strings.TrimSpace(wait)
	if _, err := strconv.ParseFloat(wait, 64); err == nil {
		return 0, 0, fmt.Errorf("wait %q needs a unit, e.g. %ss", wait, wait)
	}
	d, err := time.ParseDuration(wait)
	if err != nil || d < 0 {
		return 0, 0, fmt.Errorf("wait %q is not a duration like 20s", wait)
	}
	return p / 100, d, nil
}

// erlangJSON is the --json output: one object.
type erlangJSON struct {
	Model          erlang.Model `json:"model"`
	Mode           string       `json:"mode"` // "solve" or "evaluate"
	Agents         int          `json:"agents"`
	TrafficErlangs float64      `json:"traffic_erlangs"`
	Stable         bool         `json:"stable"`
	MeetsTarget    bool         `json:"meets_target"`
	ServiceLevel   float64      `json:"service_level"`
	ASASeconds     *float64     `json:"asa_seconds"` // null when unstable
	Occupancy      float64      `json:"occupancy"`
	ProbWait       float64      `json:"prob_wait"`
	AbandonRate    *float64     `json:"abandon_rate,omitempty"` // Erlang A only
	Inputs         erlangInputs `json:"inputs"`
}

type erlangInputs struct {
	CallsPerHour       float64  `json:"calls_per_hour"`
	AHTSeconds         float64  `json:"aht_seconds"`
	TargetServiceLevel float64  `json:"target_service_level"`
	TargetSeconds      float64  `json:"target_seconds"`
	PatienceSeconds    *float64 `json:"patience_seconds,omitempty"`
	Agents             *int     `json:"agents,omitempty"`
	MaxOccupancy       *float64 `json:"max_occupancy,omitempty"`
	MaxASASeconds      *float64 `json:"max_asa_seconds,omitempty"`
	MaxAbandon         *float64 `json:"max_abandon,omitempty"`
}

func writeErlangJSON(w io.Writer, in erlang.Input, r erlang.Result) error {
	some := func(v float64) *float64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	out := erlangJSON{
		Model: r.Model, Mode: "solve", Agents: r.Agents, TrafficErlangs: r.TrafficErlangs,
		Stable: r.Stable, MeetsTarget: r.MeetsTarget, ServiceLevel: r.ServiceLevel,
		Occupancy: r.Occupancy, ProbWait: r.ProbWait,
		Inputs: erlangInputs{
			CallsPerHour:       in.CallsPerHour,
			AHTSeconds:         in.AHT.Seconds(),
			TargetServiceLevel: in.Target.ServiceLevel,
			TargetSeconds:      in.Target.Within.Seconds(),
			PatienceSeconds:    some(in.Patience.Seconds()),
			MaxOccupancy:       some(in.MaxOccupancy),
			MaxASASeconds:      some(in.MaxASA.Seconds()),
			MaxAbandon:         some(in.MaxAbandon),
		},
	}
	if in.Agents > 0 {
		out.Mode = "evaluate"
		out.Inputs.Agents = &in.Agents
	}
	if !math.IsInf(r.ASASeconds, 0) {
		out.ASASeconds = &r.ASASeconds
	}
	if r.Model == erlang.ModelErlangA {
		out.AbandonRate = &r.AbandonRate
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeErlangText(w io.Writer, in erlang.Input, r erlang.Result) {
	model := "Erlang C (callers wait until answered)"
	if r.Model == erlang.ModelErlangA {
		model = fmt.Sprintf("Erlang A (mean patience %v)", in.Patience)
	}
	within := in.Target.Within
	fmt.Fprintf(w, "%s: %g calls/hour, AHT %v, traffic %.2f Erlangs, target %g%% in %v\n",
		model, in.CallsPerHour, in.AHT, r.TrafficErlangs, in.Target.ServiceLevel*100, within)
	if in.Agents > 0 {
		verdict := "meets the target"
		if !r.MeetsTarget {
			verdict = "does NOT meet the target"
		}
		fmt.Fprintf(w, "Agents:         %d (evaluated; %s)\n", r.Agents, verdict)
	} else {
		fmt.Fprintf(w, "Agents needed:  %d\n", r.Agents)
	}
	if !r.Stable {
		fmt.Fprintf(w, "Unstable:       %d agents cannot carry %.2f Erlangs; the queue grows without bound\n", r.Agents, r.TrafficErlangs)
	}
	fmt.Fprintf(w, "Service level:  %.1f%% answered within %v\n", r.ServiceLevel*100, within)
	fmt.Fprintf(w, "ASA:            %s\n", fmtASA(r.ASASeconds))
	fmt.Fprintf(w, "Occupancy:      %.1f%%\n", r.Occupancy*100)
	fmt.Fprintf(w, "P(wait):        %.1f%%\n", r.ProbWait*100)
	if r.Model == erlang.ModelErlangA {
		fmt.Fprintf(w, "Abandoned:      %.1f%%\n", r.AbandonRate*100)
	}
	fmt.Fprintln(w)
	header := "Agents  Service level  ASA        Occupancy"
	if r.Model == erlang.ModelErlangA {
		header += "  Abandoned"
	}
	fmt.Fprintln(w, header)
	for n := max(1, r.Agents-2); n <= r.Agents+2; n++ {
		row, err := erlang.Evaluate(in, n)
		if err != nil {
			continue
		}
		mark := " "
		if n == r.Agents {
			mark = "*"
		}
		line := fmt.Sprintf("%5d%s  %12.1f%%  %-9s  %8.1f%%", n, mark, row.ServiceLevel*100, fmtASA(row.ASASeconds), row.Occupancy*100)
		if r.Model == erlang.ModelErlangA {
			line += fmt.Sprintf("  %8.1f%%", row.AbandonRate*100)
		}
		fmt.Fprintln(w, line)
	}
}

func fmtASA(s float64) string {
	if math.IsInf(s, 0) {
		return "unbounded"
	}
	return fmt.Sprintf("%.1fs", s)
}
