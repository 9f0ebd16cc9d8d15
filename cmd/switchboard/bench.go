package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/dialer/dialsim"
)

// newBenchCmd is `switchboard bench`: measured comparisons that decide
// between designs.
func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run the benchmarks that decide between designs",
	}
	cmd.AddCommand(newBenchDialerCmd(), newBenchCallsCmd())
	return cmd
}

// benchDialerRow is one method at one team size in `bench dialer --json`.
type benchDialerRow struct {
	Method                        string  `json:"method"`
	Agents                        int     `json:"agents"`
	Seeds                         int     `json:"seeds"`
	Hours                         float64 `json:"hours"`
	Occupancy                     float64 `json:"occupancy"`
	AbandonRate                   float64 `json:"abandon_rate"`
	WorstHourAbandonRate          float64 `json:"worst_hour_abandon_rate"`
	WorstSeedAbandonRate          float64 `json:"worst_seed_abandon_rate"`
	WorstSeedWorstHourAbandonRate float64 `json:"worst_seed_worst_hour_abandon_rate"`
	UnderCap                      bool    `json:"under_cap"`
	ConnectsPerAgentHour          float64 `json:"connects_per_agent_hour"`
	DialsPerAgentHour             float64 `json:"dials_per_agent_hour"`
	MeanAgentWaitSeconds          float64 `json:"mean_agent_wait_seconds"`
}

func newBenchDialerCmd() *cobra.Command {
	sc := dialsim.DefaultScenario()
	var (
		agents  []int
		methods []string
		hours   float64
		seeds   int
		seed0   uint64
		workers int
		tick    float64
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "dialer",
		Short: "Compare pacing methods on one seeded simulation per team size (issue 5)",
		Long: `Simulates an outbound shift per team size and seed, dialing the same pre-drawn
lead stream with every method (common random numbers), and reports agent
occupancy (talk share of logged-in time), calls connected per agent-hour,
abandon rate (abandoned / live-answered) over the shift and in its worst
clock hour, and the mean agent wait before each call, averaged over seeds,
with the worst seed's figures. "bound" is the occupancy bound: agents given
the next live lead the moment wrap-up ends.`,
		Example: `  switchboard bench dialer --agents 5,20,100 --hours 8 --seeds 10
  switchboard bench dialer --agents 20 --live 0.2 --talk-mean 120 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sc.Validate(); err != nil {
				return &exitError{code: 2, err: err}
			}
			if len(agents) == 0 || hours <= 0 || seeds <= 0 {
				return &exitError{code: 2, err: fmt.Errorf("need --agents, --hours > 0 and --seeds > 0")}
			}
			for _, a := range agents {
				if a <= 0 {
					return &exitError{code: 2, err: fmt.Errorf("--agents %d: want > 0", a)}
				}
			}
			for _, m := range methods {
				if _, err := dialsim.RunMethod(m, dialsim.Config{Scenario: sc, Agents: 1, Hours: 0}); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			start := time.Now()
			sums, err := runDialerBench(cmd.Context(), sc, agents, methods, hours, seeds, seed0, tick, workers)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "scenario: %s\n", sc)
				rows := make([]benchDialerRow, 0, len(sums))
				for _, s := range sums {
					rows = append(rows, benchDialerRow{
						Method: s.Method, Agents: s.Agents, Seeds: s.Seeds, Hours: hours,
						Occupancy: s.Occupancy, AbandonRate: s.AbandonRate, WorstHourAbandonRate: s.WorstHour,
						WorstSeedAbandonRate: s.MaxAbandonRate, WorstSeedWorstHourAbandonRate: s.MaxWorstHour,
						UnderCap:             s.MaxWorstHour < sc.AbandonCap && s.MaxAbandonRate < sc.AbandonCap,
						ConnectsPerAgentHour: s.ConnectsPerAgentHour, DialsPerAgentHour: s.AttemptsPerAgentHour,
						MeanAgentWaitSeconds: s.MeanWait,
					})
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			writeDialerTable(out, sc, sums, hours, seeds, time.Since(start))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&agents, "agents", []int{5, 20, 100}, "team sizes")
	f.StringSliceVar(&methods, "methods", dialsim.Methods, "methods to compare")
	f.Float64Var(&hours, "hours", 8, "shift length in hours")
	f.IntVar(&seeds, "seeds", 10, "seeds (independent shifts) per team size")
	f.Uint64Var(&seed0, "seed", 1, "first seed")
	f.IntVar(&workers, "workers", 0, "parallel runs (default GOMAXPROCS)")
	f.Float64Var(&tick, "tick", 1, "longest gap between pacing decisions, seconds")
	f.BoolVar(&asJSON, "json", false, "print one JSON array of results (the scenario goes to stderr)")
	f.Float64Var(&sc.LiveAnswer, "live", sc.LiveAnswer, "share of dials a person answers")
	f.Float64Var(&sc.Busy, "busy", sc.Busy, "share of dials busy")
	f.Float64Var(&sc.Machine, "machine", sc.Machine, "share of dials reaching an answering machine (the rest: no answer)")
	f.Float64Var(&sc.NoAnswerTimeout, "no-answer-timeout", sc.NoAnswerTimeout, "seconds of ringing before a line is given up")
	f.Float64Var(&sc.RingMean, "ring-mean", sc.RingMean, "ring time before an answer, lognormal mean seconds")
	f.Float64Var(&sc.RingCV, "ring-cv", sc.RingCV, "ring time coefficient of variation")
	f.Float64Var(&sc.TalkMean, "talk-mean", sc.TalkMean, "talk time, lognormal mean seconds")
	f.Float64Var(&sc.TalkCV, "talk-cv", sc.TalkCV, "talk time coefficient of variation")
	f.Float64Var(&sc.WrapMean, "wrap-mean", sc.WrapMean, "wrap-up time, lognormal mean seconds")
	f.Float64Var(&sc.WrapCV, "wrap-cv", sc.WrapCV, "wrap-up time coefficient of variation")
	f.Float64Var(&sc.BusyAfter, "busy-after", sc.BusyAfter, "seconds to a busy signal")
	f.Float64Var(&sc.AMDTime, "amd-time", sc.AMDTime, "seconds of answering-machine detection after a machine answers")
	f.Float64Var(&sc.ConnectWindow, "connect-window", sc.ConnectWindow, "seconds an answered call waits for an agent before it is abandoned")
	f.Float64Var(&sc.AbandonCap, "abandon-cap", sc.AbandonCap, "legal cap on abandoned / live-answered")
	return cmd
}

// runDialerBench runs every (team size, seed, method) on a pool of workers
// and returns the summaries in team-size then method order.
func runDialerBench(ctx context.Context, sc dialsim.Scenario, agents []int, methods []string, hours float64, seeds int, seed0 uint64, tick float64, workers int) ([]dialsim.Summary, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct{ ai, mi, si int }
	results := make([][][]dialsim.Result, len(agents))
	for ai := range agents {
		results[ai] = make([][]dialsim.Result, len(methods))
		for mi := range methods {
			results[ai][mi] = make([]dialsim.Result, seeds)
		}
	}
	jobs := make(chan job)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				cfg := dialsim.Config{Scenario: sc, Agents: agents[j.ai], Hours: hours, Seed: seed0 + uint64(j.si), Tick: tick}
				r, err := dialsim.RunMethod(methods[j.mi], cfg)
				if err != nil {
					errs <- err
					continue
				}
				results[j.ai][j.mi][j.si] = r
			}
		}()
	}
	// Biggest teams first: they take longest.
feed:
	for ai := len(agents) - 1; ai >= 0; ai-- {
		for si := range seeds {
			for mi := range methods {
				select {
				case jobs <- job{ai, mi, si}:
				case <-ctx.Done():
					break feed
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []dialsim.Summary
	for ai := range agents {
		for mi := range methods {
			out = append(out, dialsim.Summarize(results[ai][mi]))
		}
	}
	return out, nil
}

func writeDialerTable(w io.Writer, sc dialsim.Scenario, sums []dialsim.Summary, hours float64, seeds int, took time.Duration) {
	fmt.Fprintf(w, "scenario: %s\n", sc)
	fmt.Fprintf(w, "shift %gh, %d seeds per team size, same lead stream for every method; rates are means over seeds, \"worst seed\" the highest (%s)\n\n",
		hours, seeds, took.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "agents\tmethod\toccupancy\tconnects/agent-h\twait s\tabandon\tworst hour\tworst seed: abandon\tworst hour\tunder cap\t")
	prev := -1
	for _, s := range sums {
		if prev != -1 && s.Agents != prev {
			fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t\t")
		}
		prev = s.Agents
		ok := "yes"
		if s.MaxWorstHour >= sc.AbandonCap || s.MaxAbandonRate >= sc.AbandonCap {
			ok = "no"
		}
		fmt.Fprintf(tw, "%d\t%s\t%.1f%%\t%.2f\t%.1f\t%.2f%%\t%.2f%%\t%.2f%%\t%.2f%%\t%s\t\n",
			s.Agents, s.Method, 100*s.Occupancy, s.ConnectsPerAgentHour, s.MeanWait,
			100*s.AbandonRate, 100*s.WorstHour, 100*s.MaxAbandonRate, 100*s.MaxWorstHour, ok)
	}
	tw.Flush()
}
