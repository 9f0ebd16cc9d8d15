// Package files keeps recordings' audio in Switchboard's recordings folder:
// it fetches a finished recording from the PBX (or a shared volume),
// writes it atomically, checks it, and only then deletes the PBX's copy;
// it opens files for download, re-verifies them against their checksums,
// and deletes them when retention says so.
//
// Every file operation goes through an [os.Root] on the folder, so no name
// (from the PBX, a database row or a request) can reach a file outside it,
// not even through a symbolic link; names are also checked up front with
// [recording.FileName].
package files

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// Source is the part of the PBX the store needs: a finished recording's
// file, and deleting it once Switchboard holds a verified copy.
type Source interface {
	StoredRecording(ctx context.Context, name string) (io.ReadCloser, error)
	DeleteStoredRecording(ctx context.Context, name string) error
}

// Every PBX adapter is a Source.
var _ Source = sb.PBX(nil)

// DefaultMaxSize bounds a fetched file: a WAV file's lengths are 32-bit.
const DefaultMaxSize int64 = 1<<32 - 1

// tempPrefix starts the name of a file being written; such files are never
// served and are removed when the store opens.
const tempPrefix = ".tmp-"

// Config configures a [Store].
type Config struct {
	// Dir is the recordings folder; created (0750) when missing.
	Dir string
	// SharedDir, when set, is a volume the PBX writes its recordings to
	// (Asterisk's recording directory mounted here): finished recordings
	// are read from <SharedDir>/<name>.wav instead of through ARI.
	SharedDir string
	// DeleteFromPBX deletes the PBX's copy once the file is in Dir and
	// verified.
	DeleteFromPBX bool
	// MaxSize refuses larger files; 0 means DefaultMaxSize.
	MaxSize int64
}

// Store is the recordings folder. It is safe for concurrent use; its
// methods block on disk and network I/O, so callers that must not block
// (the call owner) run them from their own worker goroutine.
type Store struct {
	dir       string
	root      *os.Root
	shared    *os.Root // nil: fetch over the Source
	src       Source
	deletePBX bool
	maxSize   int64
	inUse     *InUse
	log       *slog.Logger
}

// Open opens (creating if needed) the recordings folder and removes the
// temporary files a crash left behind. src may be nil when SharedDir is
// set and DeleteFromPBX is not; log may be nil.
func Open(cfg Config, src Source, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Dir == "":
		return nil, errors.New("recordings: folder is not configured")
	case src == nil && (cfg.SharedDir == "" || cfg.DeleteFromPBX):
		return nil, errors.New("recordings: no PBX to fetch recordings from or delete them on")
	case cfg.MaxSize < 0:
		return nil, fmt.Errorf("recordings: max size %d is negative", cfg.MaxSize)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("recordings: folder: %w", err)
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("recordings: folder: %w", err)
	}
	s := &Store{dir: cfg.Dir, root: root, src: src, deletePBX: cfg.DeleteFromPBX,
		maxSize: cfg.MaxSize, inUse: NewInUse(), log: log}
	if s.maxSize == 0 {
		s.maxSize = DefaultMaxSize
	}
	if cfg.SharedDir != "" {
		if s.shared, err = os.OpenRoot(cfg.SharedDir); err != nil {
			root.Close()
			return nil, fmt.Errorf("recordings: shared volume: %w", err)
		}
	}
	s.removeTemp()
	return s, nil
}

// Close releases the folder. Files opened for download stay readable.
func (s *Store) Close() error {
	err := s.root.Close()
	if s.shared != nil {
		err = errors.Join(err, s.shared.Close())
	}
	return err
}

// Dir is the recordings folder.
func (s *Store) Dir() string { return s.dir }

// InUse is the registry downloads mark and retention consults.
func (s *Store) InUse() *InUse { return s.inUse }

// removeTemp deletes files a fetch interrupted by a crash left behind.
func (s *Store) removeTemp() {
	entries, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		s.log.Warn("recordings: cannot list the folder", slog.String("dir", s.dir), slog.String("err", err.Error()))
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) && e.Type().IsRegular() {
			if err := s.root.Remove(e.Name()); err != nil {
				s.log.Warn("recordings: cannot remove a stale temporary file", slog.String("file", e.Name()), slog.String("err", err.Error()))
				continue
			}
			s.log.Info("recordings: removed a stale temporary file", slog.String("file", e.Name()))
		}
	}
}

// Fetched is what [Store.Fetch] stored.
type Fetched struct {
	// Path is the file's name in the folder (the row's path).
	Path     string
	Size     int64
	SHA256   string // hex
	Duration time.Duration
	WAV      recording.WAVInfo
	// PBXDeleted reports whether the PBX's copy was deleted. A failed
	// delete is logged and leaves the copy: the recording itself is safe.
	PBXDeleted bool
}

// Fetch copies the finished recording name from the PBX (or the shared
// volume) into the folder. The bytes go to a temporary file while their
// SHA-256 and size are computed; the file is synced, its WAV header
// checked against its size, and only then renamed into place (and the
// folder synced), so a reader sees the whole verified file or none. The
// PBX's copy is deleted last, when configured.
//
// A name that is not a safe recording name fails with EINVALID before any
// I/O; a file that is not a complete WAV file fails with EINVALID and
// leaves nothing behind; the PBX's errors keep their codes (ENOTFOUND for
// an unknown recording, EUNAVAILABLE when it cannot be reached).
func (s *Store) Fetch(ctx context.Context, name string) (Fetched, error) {
	fname, err := recording.FileName(name)
	if err != nil {
		return Fetched{}, err
	}
	in, err := s.openSource(ctx, name, fname)
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch recording %s: %w", name, err)
	}
	defer in.Close()

	tmp := tempPrefix + fname + "-" + rand.Text()[:8]
	f, err := s.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch recording %s: %w", name, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			s.root.Remove(tmp)
		}
	}()

	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), &ctxReader{ctx: ctx, r: io.LimitReader(in, s.maxSize+1)})
	switch {
	case err != nil:
		return Fetched{}, fmt.Errorf("fetch recording %s: copy: %w", name, err)
	case n > s.maxSize:
		return Fetched{}, sb.Errorf(sb.EINVALID, "fetch recording %s: larger than %d bytes", name, s.maxSize)
	}
	if err := f.Sync(); err != nil {
		return Fetched{}, fmt.Errorf("fetch recording %s: sync: %w", name, err)
	}
	info, err := recording.ParseWAV(f, n)
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch recording %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return Fetched{}, fmt.Errorf("fetch recording %s: close: %w", name, err)
	}
	if err := s.root.Rename(tmp, fname); err != nil {
		return Fetched{}, fmt.Errorf("fetch recording %s: rename: %w", name, err)
	}
	done = true
	if err := s.syncDir(); err != nil {
		// The file is complete; only its name may not survive a power
		// cut. Say so and carry on rather than fail a good recording.
		s.log.Warn("recordings: folder sync failed", slog.String("recording", name), slog.String("err", err.Error()))
	}
	out := Fetched{Path: fname, Size: n, SHA256: hexSum(h), Duration: info.Duration, WAV: info}
	if s.deletePBX {
		if err := s.src.DeleteStoredRecording(ctx, name); err != nil {
			s.log.Warn("recordings: stored and verified, but the PBX's copy was not deleted",
				slog.String("recording", name), slog.String("err", err.Error()))
		} else {
			out.PBXDeleted = true
		}
	}
	return out, nil
}

// Apply records a successful fetch on the recording's row: stored, with
// the file's path, size, checksum and duration, ended at ended (the
// PBX's RecordingFinished), and any pause still open closed there (a call
// that hung up while paused). The row is ready for storage's
// UpdateRecording.
func (f Fetched) Apply(rec *recording.Recording, ended time.Time) {
	rec.State = recording.StateStored
	rec.Error = ""
	rec.Path, rec.Size, rec.SHA256, rec.Duration = f.Path, f.Size, f.SHA256, f.Duration
	rec.Ended = sb.SomeTime(ended)
	rec.Pauses = rec.Pauses.Close(ended)
}

func (s *Store) openSource(ctx context.Context, name, fname string) (io.ReadCloser, error) {
	if s.shared == nil {
		return s.src.StoredRecording(ctx, name)
	}
	f, err := s.shared.Open(fname)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &sb.Error{Code: sb.ENOTFOUND, Message: fmt.Sprintf("no recording %s on the shared volume", name), Err: err}
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, sb.Errorf(sb.EINVALID, "recording %s on the shared volume is not a regular file", name)
	}
	return f, nil
}

func (s *Store) syncDir() error {
	d, err := s.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// ctxReader stops a copy when its context ends (a shared-volume file is
// not bound by the context the way an ARI download is).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// File is a recording opened for download; it holds the recording in use
// until closed.
type File struct {
	*os.File
	release func()
}

// Close closes the file and releases the recording for retention.
func (f *File) Close() error {
	err := f.File.Close()
	f.release()
	return err
}

// Open is [Store.OpenFile] for a consumer that wants only to read and seek
// (the HTTP download): the value is a *File.
func (s *Store) Open(rec recording.Recording) (io.ReadSeekCloser, error) {
	f, err := s.OpenFile(rec)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// OpenFile opens a stored recording's file for reading and marks it in use
// until the File is closed, so retention skips it. A recording still being
// written fails with ECONFLICT; a failed, deleted or being-deleted one, or
// a missing file, with ENOTFOUND; a row whose path is not a safe file name
// with EINVALID (nothing outside the folder is ever opened).
func (s *Store) OpenFile(rec recording.Recording) (*File, error) {
	switch rec.State {
	case recording.StateStored:
	case recording.StateRecording:
		return nil, sb.Errorf(sb.ECONFLICT, "recording %d is still being recorded", rec.ID)
	default:
		return nil, sb.Errorf(sb.ENOTFOUND, "recording %d has no file (%s)", rec.ID, rec.State)
	}
	if err := recording.CheckPath(rec.Path); err != nil {
		return nil, err
	}
	release, ok := s.inUse.Acquire(rec.ID)
	if !ok {
		return nil, sb.Errorf(sb.ENOTFOUND, "recording %d is being deleted", rec.ID)
	}
	f, err := s.root.Open(rec.Path)
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a regular file", rec.Path)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		release()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &sb.Error{Code: sb.ENOTFOUND, Message: fmt.Sprintf("recording %d's file is missing", rec.ID), Err: err}
		}
		return nil, fmt.Errorf("open recording %d: %w", rec.ID, err)
	}
	return &File{File: f, release: release}, nil
}

// ErrChecksum is the cause of a verification that found a file whose size
// or SHA-256 differs from its row's.
var ErrChecksum = errors.New("file does not match its checksum")

// Verify re-reads a stored recording's file and checks that it is present
// and matches the size and SHA-256 of its row: ENOTFOUND when the file is
// missing, EUNPROCESSABLE (wrapping [ErrChecksum]) when it differs,
// ECONFLICT for a recording that is not stored. The file is held in use
// while it is read.
func (s *Store) Verify(rec recording.Recording) error {
	if rec.State != recording.StateStored {
		return sb.Errorf(sb.ECONFLICT, "recording %d is %s, not stored", rec.ID, rec.State)
	}
	f, err := s.OpenFile(rec)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("verify recording %d: %w", rec.ID, err)
	}
	if n != rec.Size || hexSum(h) != strings.ToLower(rec.SHA256) {
		return &sb.Error{Code: sb.EUNPROCESSABLE, Message: fmt.Sprintf("recording %d: %s has %d bytes and sha256 %s, the row says %d and %s",
			rec.ID, rec.Path, n, hexSum(h), rec.Size, rec.SHA256), Err: ErrChecksum}
	}
	return nil
}
