package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/app"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/config"
)

func newServeCmd() *cobra.Command {
	var path, cpuProfile string
	var drain time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the controller against a real Asterisk (ARI settings from the config)",
		Long: `serve connects to Asterisk over ARI and runs the call center.

The first SIGTERM (or Ctrl-C) drains: new calls are refused, live calls go on
until they end (at most --drain). A second signal stops at once; calls still
in the application are adopted again by the next start.

IVR flow files are reloaded when they change, on SIGHUP, and on
POST /api/v1/ivr/reload; a broken file is refused and the running flows stay.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			log := app.NewLogger(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer stop()
			}
			err = app.Serve(cmd.Context(), cfg, log, drain)
			if errors.Is(err, ari.ErrUnauthorized) {
				return &exitError{code: 3, err: err}
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "switchboard.yaml", "configuration file")
	cmd.Flags().DurationVar(&drain, "drain", 5*time.Minute, "longest graceful drain after the first SIGTERM")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	return cmd
}

// startCPUProfile profiles the process into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
