package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/app"
	"github.com/switchboard/switchboard/demo"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// waitFor polls cond until it holds, ctx ends or timeout (0: none) passes.
var waitFor = waitfor.Until

func newDemoCmd() *cobra.Command {
	var (
		path, listen, dsn string
		duration, drain   time.Duration
		seed              int64
		speed             float64
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Switchboard on embedded defaults: SQLite, the simulated Asterisk, synthetic callers and agents",
		Long: `demo starts the controller against the built-in simulated Asterisk with
synthetic callers (Poisson arrivals) and agent desk phones, the call log in a
SQLite file and the HTTP server (default 127.0.0.1:8080).

With demo.campaign_leads above 0 (the default, 300) it also runs the
outbound campaign demo-outbound (demo.campaign_mode, default predictive)
through the agents of the queue named outbound (the embedded configuration
has three agents for it), or else of the first queue, who then take inbound
calls too.

With --duration it stops taking calls and pauses the campaign after that
much simulated time, lets live calls finish (at most --drain), and prints a
summary (--json: one JSON object). The simulated Asterisk runs on a virtual
clock: the same seed and flags give the same summary on any machine;
--speed is the most simulated seconds one wall-clock second may take
(0: no limit).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := demo.Config(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			fl := cmd.Flags()
			if fl.Changed("seed") {
				cfg.Demo.Seed = seed
			}
			if fl.Changed("speed") {
				cfg.Demo.Speed = speed
			}
			if fl.Changed("listen") {
				cfg.HTTP.Listen = listen
			}
			if fl.Changed("db") {
				cfg.Database.DSN = dsn
			}
			level := cfg.Log.Level
			if asJSON && !fl.Changed("log-level") {
				level = "warn" // keep stdout for the summary, stderr quiet
			}
			log := app.NewLogger(cmd.ErrOrStderr(), level, cfg.Log.Format)
			sum, err := demo.Run(cmd.Context(), cfg, log, duration, drain)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "demo: %.0f s simulated in %.1f s of wall time\n", sum.SimSeconds, sum.WallSeconds)
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			demo.Print(cmd.OutOrStdout(), sum)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "configuration file (default: the embedded demo configuration)")
	f.DurationVar(&duration, "duration", 0, "simulated time to take calls for (0: until Ctrl-C)")
	f.DurationVar(&drain, "drain", 10*time.Minute, "simulated time live calls may take to finish after --duration")
	f.Int64Var(&seed, "seed", 1, "seed for the synthetic traffic")
	f.Float64Var(&speed, "speed", 1, "most simulated seconds per wall-clock second (0: no limit)")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "HTTP listen address")
	f.StringVar(&dsn, "db", "switchboard-demo.db", "SQLite database file")
	f.String("log-level", "", "log level (debug, info, warn, error)")
	return cmd
}
