package app

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/recording/files"
)

// openRecordings opens the recordings folder and gives the center the
// recording policies and how to fetch a finished recording's file.
func (a *App) openRecordings(context.Context) error {
	rc := a.Config.Recording
	store, err := files.Open(files.Config{Dir: a.Config.RecordingPath(), SharedDir: rc.SharedDir, DeleteFromPBX: rc.DeleteFromPBX},
		a.PBX, a.Log.With("component", "recording"))
	if err != nil {
		return fmt.Errorf("recordings folder: %w", err)
	}
	a.Files = store
	a.centerOpts.Recording = center.RecordingOptions{Policies: rc.Policies, Repo: a.DB,
		Fetch: func(ctx context.Context, rec *recording.Recording) error {
			f, err := store.Fetch(ctx, rec.Name)
			if err != nil {
				return err
			}
			f.Apply(rec, rec.Ended.Time)
			return nil
		}}
	return nil
}

// addRecordingRoutes adds the recording routes (stored and live).
func (a *App) addRecordingRoutes(context.Context) error {
	a.api.AddRecordingRoutes(a.DB, a.Files).SetLive(a.Center)
	return nil
}

// runRetention applies the recording retention every
// recording.purge_interval until ctx ends.
func (a *App) runRetention(ctx context.Context) {
	rc := a.Config.Recording
	a.wg.Go(func() { a.purgeRecordings(ctx, rc.PurgeInterval, rc.Policies) })
}

// purgeRecordings runs retention every interval until ctx ends.
func (a *App) purgeRecordings(ctx context.Context, every time.Duration, ps recording.Policies) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rep, err := a.Files.Purge(ctx, a.DB, ps, time.Now())
			if err != nil {
				a.Log.Error("recording retention", "err", err)
			} else if rep.Deleted+rep.Failed > 0 {
				a.Log.Info("recording retention", "deleted", rep.Deleted, "busy", rep.Busy, "failed", rep.Failed)
			}
		}
	}
}
