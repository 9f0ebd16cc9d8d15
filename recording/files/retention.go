package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// RetentionRepo is what a retention run needs from the database
// (storage.DB implements it).
type RetentionRepo interface {
	ListExpirable(ctx context.Context, before time.Time, afterID int64, limit int) ([]recording.Recording, error)
	MarkDeleted(ctx context.Context, id int64, at time.Time) error
	AuditAccess(ctx context.Context, a *recording.Access) error
}

// RetentionWho is the audit trail's name for the retention job.
const RetentionWho = "retention"

// retentionPage is how many candidates a run reads at a time.
const retentionPage = 500

// PurgeReport counts what a retention run did.
type PurgeReport struct {
	Deleted int // files and rows deleted
	Busy    int // due but being downloaded: left for the next run
	Failed  int // due but could not be deleted (logged)
}

// Purge deletes the recordings retention says are due at now (see
// [recording.Expired]): the file, then the row (marked deleted, kept), then
// an audit row, each deletion logged. A recording being downloaded or
// verified is skipped and counted busy; a download cannot start while its
// file is being deleted. The error joins the failures; the report counts
// them.
func (s *Store) Purge(ctx context.Context, repo RetentionRepo, ps recording.Policies, now time.Time) (PurgeReport, error) {
	var rep PurgeReport
	shortest := ps.ShortestRetention()
	if shortest == 0 {
		return rep, nil
	}
	before := now.Add(-time.Duration(shortest) * recording.Day)
	var errs []error
	var after int64
	for {
		page, err := repo.ListExpirable(ctx, before, after, retentionPage)
		if err != nil {
			return rep, errors.Join(append(errs, fmt.Errorf("retention: %w", err))...)
		}
		due, busy := recording.Expired(page, ps, s.inUse.Busy, now)
		for _, r := range busy {
			rep.Busy++
			s.log.Info("retention: recording in use, kept for the next run", recAttrs(r)...)
		}
		for _, r := range due {
			if err := ctx.Err(); err != nil {
				return rep, errors.Join(append(errs, err)...)
			}
			switch err := s.delete(ctx, repo, r, ps.RetentionDays(r.Queue, r.Campaign), now); {
			case errors.Is(err, errBusy):
				rep.Busy++
				s.log.Info("retention: recording in use, kept for the next run", recAttrs(r)...)
			case err != nil:
				rep.Failed++
				errs = append(errs, err)
				s.log.Error("retention: recording not deleted", append(recAttrs(r), slog.String("err", err.Error()))...)
			default:
				rep.Deleted++
			}
		}
		if len(page) < retentionPage {
			return rep, errors.Join(errs...)
		}
		after = page[len(page)-1].ID
	}
}

var errBusy = errors.New("recording is in use")

// delete removes one recording's file and marks its row deleted, holding
// it against new readers meanwhile.
func (s *Store) delete(ctx context.Context, repo RetentionRepo, r recording.Recording, days int, now time.Time) error {
	if !s.inUse.beginDelete(r.ID) {
		return errBusy
	}
	defer s.inUse.endDelete(r.ID)
	if r.Path != "" {
		if err := recording.CheckPath(r.Path); err != nil {
			return fmt.Errorf("recording %d: %w", r.ID, err)
		}
		if err := s.root.Remove(r.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("recording %d: remove %s: %w", r.ID, r.Path, err)
		}
	}
	// A row already marked (a run that died between the two steps, or a
	// second node) is fine: the file is gone either way.
	if err := repo.MarkDeleted(ctx, r.ID, now); err != nil && sb.ErrorCode(err) != sb.ECONFLICT {
		return fmt.Errorf("recording %d: file removed but row not marked: %w", r.ID, err)
	}
	s.log.Info("retention: recording deleted", append(recAttrs(r), slog.Int("retention_days", days))...)
	if err := repo.AuditAccess(ctx, &recording.Access{RecordingID: r.ID, Who: RetentionWho, Role: "system",
		Action: recording.ActionDelete, At: now, Detail: fmt.Sprintf("retention %d days", days)}); err != nil {
		s.log.Error("retention: deletion not audited", append(recAttrs(r), slog.String("err", err.Error()))...)
	}
	return nil
}

func recAttrs(r recording.Recording) []any {
	a := []any{slog.Int64("recording_id", r.ID), slog.String("recording", r.Name), slog.String("call_id", string(r.CallID))}
	if r.Queue != "" {
		a = append(a, slog.String("queue", string(r.Queue)))
	}
	if r.Campaign != "" {
		a = append(a, slog.String("campaign", r.Campaign))
	}
	if r.Ended.Valid {
		a = append(a, slog.Time("ended", r.Ended.Time))
	}
	return a
}
