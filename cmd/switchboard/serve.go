package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
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
			log := newLogger(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer stop()
			}
			app, err := StartApp(cmd.Context(), cfg, log, center.RealClock{})
			if err != nil {
				return err
			}
			return serveUntilDone(cmd.Context(), app, drain)
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

// serveUntilDone runs until a signal or a fatal PBX error: first signal
// drains, second forces.
func serveUntilDone(ctx context.Context, app *App, drain time.Duration) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	app.Log.Info("serving: SIGHUP reloads the IVR flows, SIGTERM drains")
	for running := true; running; {
		select {
		case <-hup:
			_, _ = app.Flows.Reload("SIGHUP") // a refused set is logged; the running one stays
		case err := <-app.Failed():
			app.Close()
			if errors.Is(err, ari.ErrUnauthorized) {
				return &exitError{code: 3, err: err}
			}
			if err == nil {
				err = errors.New("PBX link ended")
			}
			return err
		case <-ctx.Done():
			running = false
		}
	}
	app.Log.Info("draining: new calls are refused, live calls go on; signal again to stop now", "active", app.Center.ActiveCalls())
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(force)
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	go func() {
		select {
		case <-force:
			app.Log.Warn("second signal: stopping now")
			cancel()
		case <-dctx.Done():
		}
	}()
	if err := app.Drain(dctx); err != nil {
		app.Log.Warn("drain ended with calls still up; they stay in Asterisk and are adopted on the next start", "active", app.Center.ActiveCalls())
	}
	if err := app.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
