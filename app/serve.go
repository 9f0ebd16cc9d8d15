package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/config"
)

// Serve runs the controller on the wall clock until ctx ends (the first
// signal) or the PBX link fails for good. The end of ctx drains: new calls
// are refused and live calls go on for at most drain; a SIGINT or SIGTERM
// during the drain stops at once. SIGHUP reloads the IVR flows. A link
// that fails returns its error (wrapping ari.ErrUnauthorized when the PBX
// rejected the credentials).
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger, drain time.Duration) error {
	a, err := Start(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	return a.serveUntilDone(ctx, drain)
}

// serveUntilDone runs until a signal or a fatal PBX error: first signal
// drains, second forces.
func (a *App) serveUntilDone(ctx context.Context, drain time.Duration) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	a.Log.Info("serving: SIGHUP reloads the IVR flows, SIGTERM drains")
	for running := true; running; {
		select {
		case <-hup:
			_, _ = a.Flows.Reload("SIGHUP") // a refused set is logged; the running one stays
		case err := <-a.Failed():
			a.Close()
			if err == nil {
				err = errors.New("PBX link ended")
			}
			return err
		case <-ctx.Done():
			running = false
		}
	}
	a.Log.Info("draining: new calls are refused, live calls go on; signal again to stop now", "active", a.Center.ActiveCalls())
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(force)
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	go func() {
		select {
		case <-force:
			a.Log.Warn("second signal: stopping now")
			cancel()
		case <-dctx.Done():
		}
	}()
	if err := a.Drain(dctx); err != nil {
		a.Log.Warn("drain ended with calls still up; they stay in Asterisk and are adopted on the next start", "active", a.Center.ActiveCalls())
	}
	if err := a.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
