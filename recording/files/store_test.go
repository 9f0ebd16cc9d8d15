package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// fakeSource is a Source whose behaviour each test sets.
type fakeSource struct {
	mu        sync.Mutex
	files     map[string][]byte
	fetched   []string
	deleted   []string
	deleteErr error
}

var _ Source = (*fakeSource)(nil)

func (f *fakeSource) StoredRecording(_ context.Context, name string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetched = append(f.fetched, name)
	b, ok := f.files[name]
	if !ok {
		return nil, sb.Errorf(sb.ENOTFOUND, "recording %s not found", name)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (f *fakeSource) DeleteStoredRecording(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deleteErr != nil {
		return f.deleteErr
	}
	f.deleted = append(f.deleted, name)
	return nil
}

// wav builds an 8 kHz mono 16-bit PCM file of d, as Asterisk stores them.
func wav(d time.Duration) []byte {
	n := int(d * 16000 / time.Second)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(8000))
	le(uint32(16000))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(n))
	for i := range n {
		b.WriteByte(byte(i * 7))
	}
	return b.Bytes()
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func openStore(t *testing.T, cfg Config, src Source) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "recordings")
	}
	s, err := Open(cfg, src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dirNames lists the folder, temporary files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestFetch(t *testing.T) {
	ctx := context.Background()
	audio := wav(3 * time.Second)
	for _, tc := range []struct {
		name        string
		deletePBX   bool
		deleteErr   error
		wantDeleted bool
	}{
		{"keep on PBX", false, nil, false},
		{"delete from PBX", true, nil, true},
		{"PBX delete fails: still stored", true, sb.Errorf(sb.EUNAVAILABLE, "pbx down"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{files: map[string][]byte{"call-1.2": audio}, deleteErr: tc.deleteErr}
			s := openStore(t, Config{DeleteFromPBX: tc.deletePBX}, src)
			got, err := s.Fetch(ctx, "call-1.2")
			if err != nil {
				t.Fatal(err)
			}
			if got.Path != "call-1.2.wav" || got.Size != int64(len(audio)) || got.SHA256 != sum(audio) ||
				got.Duration != 3*time.Second || got.PBXDeleted != tc.wantDeleted {
				t.Errorf("fetched %+v", got)
			}
			onDisk, err := os.ReadFile(filepath.Join(s.Dir(), "call-1.2.wav"))
			if err != nil || !bytes.Equal(onDisk, audio) {
				t.Fatalf("file on disk: %d bytes, %v", len(onDisk), err)
			}
			if names := dirNames(t, s.Dir()); !slices.Equal(names, []string{"call-1.2.wav"}) {
				t.Errorf("folder = %v", names)
			}
			if got := len(src.deleted) == 1; got != tc.wantDeleted {
				t.Errorf("PBX deletes %v", src.deleted)
			}
			if err := s.Verify(recording.Recording{ID: 1, State: recording.StateStored, Path: got.Path, Size: got.Size, SHA256: got.SHA256}); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// TestFetchRefused: a bad file never lands in the folder and the PBX keeps
// its copy.
func TestFetchRefused(t *testing.T) {
	ctx := context.Background()
	good := wav(time.Second)
	for _, tc := range []struct {
		name  string
		file  []byte
		code  string
		max   int64
		rname string
	}{
		{"unfinished header", append(append([]byte(nil), good[:4]...), append(make([]byte, 4), good[8:]...)...), sb.EINVALID, 0, "r"},
		{"truncated", good[:len(good)-10], sb.EINVALID, 0, "r"},
		{"not a wav", []byte("<html>gateway timeout</html>"), sb.EINVALID, 0, "r"},
		{"too large", good, sb.EINVALID, 100, "r"},
		{"unknown on the PBX", nil, sb.ENOTFOUND, 0, "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{files: map[string][]byte{"r": tc.file}}
			s := openStore(t, Config{DeleteFromPBX: true, MaxSize: tc.max}, src)
			_, err := s.Fetch(ctx, tc.rname)
			if sb.ErrorCode(err) != tc.code {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
			if names := dirNames(t, s.Dir()); len(names) != 0 {
				t.Errorf("left behind: %v", names)
			}
			if len(src.deleted) != 0 {
				t.Errorf("deleted from the PBX: %v", src.deleted)
			}
		})
	}
}

// TestFetchUnsafeNames: names from the PBX that could escape the folder
// are refused before any I/O.
func TestFetchUnsafeNames(t *testing.T) {
	outside := t.TempDir()
	src := &fakeSource{files: map[string][]byte{}}
	s := openStore(t, Config{Dir: filepath.Join(outside, "recordings"), DeleteFromPBX: true}, src)
	for _, name := range []string{"../escape", "../../etc/passwd", "/etc/passwd", "a/b", `..\x`, "x\x00y", "..", "", ".hidden", "ok."} {
		src.files[name] = wav(time.Second)
		if _, err := s.Fetch(context.Background(), name); sb.ErrorCode(err) != sb.EINVALID {
			t.Errorf("Fetch(%q) = %v, want invalid", name, err)
		}
	}
	if len(src.fetched) != 0 || len(src.deleted) != 0 {
		t.Errorf("the PBX was asked for %v, deleted %v", src.fetched, src.deleted)
	}
	if names := dirNames(t, outside); !slices.Equal(names, []string{"recordings"}) {
		t.Errorf("files next to the folder: %v", names)
	}
}

func TestFetchSharedVolume(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	shared := filepath.Join(base, "asterisk")
	os.Mkdir(shared, 0o755)
	audio := wav(2 * time.Second)
	os.WriteFile(filepath.Join(shared, "vm-1.wav"), audio, 0o644)
	os.WriteFile(filepath.Join(shared, "broken.wav"), audio[:100], 0o644)
	os.WriteFile(filepath.Join(base, "secret.wav"), audio, 0o644)
	// A link on the shared volume pointing outside it is not followed.
	if err := os.Symlink(filepath.Join(base, "secret.wav"), filepath.Join(shared, "link.wav")); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	s := openStore(t, Config{SharedDir: shared, DeleteFromPBX: true}, src)
	got, err := s.Fetch(ctx, "vm-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != sum(audio) || got.Duration != 2*time.Second || !got.PBXDeleted {
		t.Errorf("fetched %+v", got)
	}
	if len(src.fetched) != 0 {
		t.Errorf("fetched over ARI too: %v", src.fetched)
	}
	if _, err := s.Fetch(ctx, "broken"); sb.ErrorCode(err) != sb.EINVALID {
		t.Errorf("broken: %v", err)
	}
	if _, err := s.Fetch(ctx, "missing"); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("missing: %v", err)
	}
	if _, err := s.Fetch(ctx, "link"); err == nil {
		t.Error("followed a link out of the shared volume")
	}
	if !slices.Equal(src.deleted, []string{"vm-1"}) {
		t.Errorf("PBX deletes %v", src.deleted)
	}
	// Without a PBX, deleting the PBX's copy cannot be configured.
	if _, err := Open(Config{Dir: t.TempDir(), SharedDir: shared, DeleteFromPBX: true}, nil, nil); err == nil {
		t.Error("opened with DeleteFromPBX and no PBX")
	}
	if s2, err := Open(Config{Dir: t.TempDir(), SharedDir: shared}, nil, nil); err != nil {
		t.Errorf("shared volume without PBX: %v", err)
	} else {
		s2.Close()
	}
}

func TestOpenRemovesStaleTemp(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".tmp-r.wav-ABCDEFGH"), []byte("half"), 0o640)
	os.WriteFile(filepath.Join(dir, "kept.wav"), []byte("x"), 0o640)
	openStore(t, Config{Dir: dir}, &fakeSource{})
	if names := dirNames(t, dir); !slices.Equal(names, []string{"kept.wav"}) {
		t.Errorf("folder = %v", names)
	}
}

func TestOpenFile(t *testing.T) {
	base := t.TempDir()
	s := openStore(t, Config{Dir: filepath.Join(base, "rec")}, &fakeSource{})
	os.WriteFile(filepath.Join(s.Dir(), "a.wav"), []byte("audio"), 0o640)
	os.WriteFile(filepath.Join(base, "secret.wav"), []byte("secret"), 0o640)
	os.Symlink(filepath.Join(base, "secret.wav"), filepath.Join(s.Dir(), "link.wav"))
	os.Mkdir(filepath.Join(s.Dir(), "dir.wav"), 0o750)

	stored := func(path string) recording.Recording {
		return recording.Recording{ID: 7, State: recording.StateStored, Path: path}
	}
	f, err := s.OpenFile(stored("a.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if s.InUse().Readers(7) != 1 {
		t.Error("not marked in use")
	}
	b, _ := io.ReadAll(f)
	f.Close()
	f.Close() // a second close releases nothing more
	if string(b) != "audio" || s.InUse().Busy(7) {
		t.Errorf("read %q, busy after close %v", b, s.InUse().Busy(7))
	}
	for _, tc := range []struct {
		rec  recording.Recording
		code string
	}{
		{stored("../secret.wav"), sb.EINVALID},
		{stored("/etc/passwd.wav"), sb.EINVALID},
		{stored("a/../../secret.wav"), sb.EINVALID},
		{stored("x\x00.wav"), sb.EINVALID},
		{stored("a"), sb.EINVALID},
		{stored("missing.wav"), sb.ENOTFOUND},
		{recording.Recording{ID: 7, State: recording.StateRecording, Path: "a.wav"}, sb.ECONFLICT},
		{recording.Recording{ID: 7, State: recording.StateDeleted, Path: "a.wav"}, sb.ENOTFOUND},
		{recording.Recording{ID: 7, State: recording.StateFailed, Path: "a.wav"}, sb.ENOTFOUND},
	} {
		if _, err := s.OpenFile(tc.rec); sb.ErrorCode(err) != tc.code {
			t.Errorf("Open(%+v) = %v, want %s", tc.rec, err, tc.code)
		}
	}
	if _, err := s.OpenFile(stored("link.wav")); err == nil {
		t.Error("followed a link out of the folder")
	}
	if _, err := s.OpenFile(stored("dir.wav")); err == nil {
		t.Error("opened a directory")
	}
	if s.InUse().Busy(7) {
		t.Error("a failed open left the recording in use")
	}
}

func TestVerify(t *testing.T) {
	src := &fakeSource{files: map[string][]byte{"r": wav(time.Second)}}
	s := openStore(t, Config{}, src)
	got, err := s.Fetch(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	rec := recording.Recording{ID: 3, State: recording.StateStored, Path: got.Path, Size: got.Size, SHA256: strings.ToUpper(got.SHA256)}
	if err := s.Verify(rec); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// Same size, one byte changed.
	p := filepath.Join(s.Dir(), got.Path)
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 0xff
	os.WriteFile(p, b, 0o640)
	err = s.Verify(rec)
	if sb.ErrorCode(err) != sb.EUNPROCESSABLE || !errors.Is(err, ErrChecksum) {
		t.Errorf("tampered: %v", err)
	}
	os.Remove(p)
	if err := s.Verify(rec); sb.ErrorCode(err) != sb.ENOTFOUND {
		t.Errorf("missing: %v", err)
	}
	rec.State = recording.StateRecording
	if err := s.Verify(rec); sb.ErrorCode(err) != sb.ECONFLICT {
		t.Errorf("recording: %v", err)
	}
}

func TestFetchedApply(t *testing.T) {
	start := time.Date(2025, 5, 2, 9, 0, 0, 0, time.UTC)
	rec := recording.Recording{ID: 4, State: recording.StateFailed, Error: "earlier try", Started: start,
		Pauses: recording.Pauses{{Start: start.Add(time.Minute)}}}
	end := start.Add(2 * time.Minute)
	Fetched{Path: "r.wav", Size: 44, SHA256: "ab", Duration: time.Minute}.Apply(&rec, end)
	if rec.State != recording.StateStored || rec.Error != "" || rec.Path != "r.wav" || rec.Size != 44 || rec.SHA256 != "ab" ||
		rec.Duration != time.Minute || !rec.Ended.Valid || !rec.Ended.Time.Equal(end) || rec.Pauses.Paused() || rec.Pauses[0].End != end {
		t.Errorf("applied: %+v", rec)
	}
}
