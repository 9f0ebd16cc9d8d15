package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/recording/files"
	"github.com/switchboard/switchboard/storage"
)

var (
	_ RecordingStore = (*storage.DB)(nil)
	_ RecordingFiles = (*files.Store)(nil)
	_ LiveRecordings = (*fakeLive)(nil)
	_ RecordingStore = fakeRecordingStore{}
)

// fakeSource serves WAV files as the PBX's stored recordings.
type fakeSource map[string][]byte

func (f fakeSource) StoredRecording(_ context.Context, name string) (io.ReadCloser, error) {
	b, ok := f[name]
	if !ok {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no recording %s", name)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (f fakeSource) DeleteStoredRecording(context.Context, string) error { return nil }

// testWAV is 8 kHz mono 16-bit PCM of d with varying samples, so a range
// of it is recognisable.
func testWAV(d time.Duration) []byte {
	n := int(d * 16000 / time.Second)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		le(v)
	}
	b.WriteString("data")
	le(uint32(n))
	for i := range n {
		b.WriteByte(byte(i*31 + i/256))
	}
	return b.Bytes()
}

// fakeLive records the calls paused and resumed; every call is recorded
// under policy (the zero policy when unset).
type fakeLive struct {
	mu     sync.Mutex
	calls  []string
	err    error
	policy recording.Policy
}

func (f *fakeLive) RecordingPolicy(context.Context, switchboard.CallID) (recording.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.policy, nil
}

func (f *fakeLive) Pause(ctx context.Context, call switchboard.CallID) error {
	return f.note(ctx, "pause", call)
}

func (f *fakeLive) Resume(ctx context.Context, call switchboard.CallID) error {
	return f.note(ctx, "resume", call)
}

func (f *fakeLive) note(ctx context.Context, what string, call switchboard.CallID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := IdentityFrom(ctx)
	f.calls = append(f.calls, what+" "+string(call)+" by "+id.Name)
	return f.err
}

// recEnv is a server with the recording routes over a real database and a
// real recordings folder.
type recEnv struct {
	*testServer
	db     *storage.DB
	files  *files.Store
	routes *RecordingRoutes
	audio  map[string][]byte // by recording name
	recs   map[string]recording.Recording
}

// newRecEnv stores recordings r1 (support, agent 1001, caller +1555), r2
// (sales, agent agent-1001), and a live one, r3 (agent agent-1001).
func newRecEnv(t *testing.T, wrap func(RecordingFiles) RecordingFiles) *recEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(ctx, filepath.Join(dir, "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &recEnv{db: db, audio: map[string][]byte{"r1": testWAV(2 * time.Second), "r2": testWAV(time.Second)}, recs: map[string]recording.Recording{}}
	e.files, err = files.Open(files.Config{Dir: filepath.Join(dir, "recordings")}, fakeSource(e.audio), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.files.Close() })
	t0 := time.Date(2025, 5, 2, 9, 0, 0, 0, time.UTC)
	for i, spec := range []struct {
		name   string
		queue  switchboard.QueueName
		agent  switchboard.AgentID
		caller string
	}{
		{"r1", "support", "1001", "+1555"},
		{"r2", "sales", "agent-1001", "+1666"},
		{"r3", "sales", "agent-1001", "+1777"},
	} {
		r := recording.Recording{Name: spec.name, CallID: switchboard.CallID("call-" + spec.name), Queue: spec.queue,
			Agent: spec.agent, Caller: spec.caller, Started: t0.Add(time.Duration(i) * time.Hour), Created: t0}
		if err := db.InsertRecording(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.audio[spec.name]; ok {
			got, err := e.files.Fetch(ctx, spec.name)
			if err != nil {
				t.Fatal(err)
			}
			r.State, r.Path, r.Size, r.SHA256, r.Duration = recording.StateStored, got.Path, got.Size, got.SHA256, got.Duration
			r.Ended = switchboard.SomeTime(r.Started.Add(got.Duration))
			if err := db.UpdateRecording(ctx, &r); err != nil {
				t.Fatal(err)
			}
		}
		e.recs[spec.name] = r
	}
	var rf RecordingFiles = e.files
	if wrap != nil {
		rf = wrap(rf)
	}
	e.testServer = newTestServer(t, Options{}, func(s *Server) { e.routes = s.AddRecordingRoutes(db, rf) })
	return e
}

func (e *recEnv) path(name, suffix string) string {
	return "/api/v1/recordings/" + strconv.FormatInt(e.recs[name].ID, 10) + suffix
}

func (e *recEnv) audit(t *testing.T) []recording.Access {
	t.Helper()
	rows, err := e.db.ListAudit(context.Background(), recording.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRecordingRoles(t *testing.T) {
	e := newRecEnv(t, nil)
	for _, p := range []string{"/api/v1/recordings", e.path("r1", ""), e.path("r1", "/file")} {
		if r := e.do(t, "GET", p, agentToken); r.Status != http.StatusForbidden {
			t.Errorf("agent GET %s = %d, want 403", p, r.Status)
		}
		if r := e.do(t, "GET", p, ""); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s = %d, want 401", p, r.Status)
		}
		for _, tok := range []string{adminToken, supervisorToken} {
			if r := e.do(t, "GET", p, tok); r.Status != http.StatusOK {
				t.Errorf("GET %s = %d %s", p, r.Status, r.Body)
			}
		}
	}
	// Refused requests are not accesses: only the six allowed ones are audited.
	if got := len(e.audit(t)); got != 6 {
		t.Errorf("%d audit rows, want 6", got)
	}
}

func TestRecordingListAndMetadata(t *testing.T) {
	e := newRecEnv(t, nil)
	var page recordingPage
	e.do(t, "GET", "/api/v1/recordings?queue=sales&limit=1", supervisorToken).decode(t, &page)
	if page.Total != 2 || len(page.Rows) != 1 || page.Rows[0].Name != "r3" || page.NextOffset == nil || *page.NextOffset != 1 {
		t.Fatalf("page = %+v", page)
	}
	if !strings.Contains(page.Next, "offset=1") || !strings.Contains(page.Next, "queue=sales") {
		t.Errorf("next = %q", page.Next)
	}
	e.do(t, "GET", "/api/v1/recordings?agent=1001&caller=%2B1555&from=2025-05-02T08:00:00Z&to=2025-05-02T10:00:00Z", adminToken).decode(t, &page)
	if page.Total != 1 || page.Rows[0].Name != "r1" || page.Rows[0].State != recording.StateStored {
		t.Fatalf("filtered = %+v", page)
	}
	for _, bad := range []string{"limit=0", "offset=-1", "from=yesterday", "outcome=completed", "agent=a&agent=b",
		"from=2025-05-02T10:00:00Z&to=2025-05-02T08:00:00Z"} {
		if r := e.do(t, "GET", "/api/v1/recordings?"+bad, adminToken); r.Status != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, r.Status)
		}
	}
	var rec recording.Recording
	e.do(t, "GET", e.path("r1", ""), supervisorToken).decode(t, &rec)
	want := e.recs["r1"]
	if rec.ID != want.ID || rec.SHA256 != want.SHA256 || rec.Size != want.Size || rec.Duration != 2*time.Second || rec.Path != "r1.wav" {
		t.Errorf("metadata = %+v", rec)
	}
	if r := e.do(t, "GET", "/api/v1/recordings/999", supervisorToken); r.Status != http.StatusNotFound {
		t.Errorf("unknown id = %d", r.Status)
	}

	audit := e.audit(t)
	if len(audit) != 3 {
		t.Fatalf("audit = %+v", audit)
	}
	view, list := audit[0], audit[2]
	if view.Action != recording.ActionView || view.RecordingID != want.ID || view.Who != "wallboard" || view.Role != "supervisor" || view.Remote == "" {
		t.Errorf("view audit = %+v", view)
	}
	if list.Action != recording.ActionList || list.RecordingID != 0 || list.Who != "wallboard" || list.Detail != "queue=sales&limit=1" {
		t.Errorf("list audit = %+v", list)
	}
}

func TestRecordingDownloadRange(t *testing.T) {
	e := newRecEnv(t, nil)
	audio := e.audio["r1"]
	full := e.do(t, "GET", e.path("r1", "/file"), adminToken)
	if full.Status != http.StatusOK || !bytes.Equal(full.Body, audio) {
		t.Fatalf("full download: %d, %d bytes", full.Status, len(full.Body))
	}
	for k, want := range map[string]string{
		"Content-Type":  "audio/wav",
		"Accept-Ranges": "bytes",
		"ETag":          `"` + e.recs["r1"].SHA256 + `"`,
		"Cache-Control": "no-store",
	} {
		if got := full.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	h := http.Header{"Authorization": {"Bearer " + supervisorToken}, "Range": {"bytes=1000-1999"}}
	part := e.doHeader(t, "GET", e.path("r1", "/file"), h)
	if part.Status != http.StatusPartialContent || !bytes.Equal(part.Body, audio[1000:2000]) {
		t.Fatalf("range: %d, %d bytes", part.Status, len(part.Body))
	}
	if got, want := part.Header.Get("Content-Range"), "bytes 1000-1999/"+strconv.Itoa(len(audio)); got != want {
		t.Errorf("Content-Range = %q, want %q", got, want)
	}
	// Seeking to the end, as a browser's player does for the duration.
	h.Set("Range", "bytes=-44")
	if tail := e.doHeader(t, "GET", e.path("r1", "/file"), h); tail.Status != http.StatusPartialContent || !bytes.Equal(tail.Body, audio[len(audio)-44:]) {
		t.Errorf("suffix range: %d", tail.Status)
	}
	h.Set("Range", "bytes=999999999-")
	if r := e.doHeader(t, "GET", e.path("r1", "/file"), h); r.Status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end = %d", r.Status)
	}
	if r := e.do(t, "HEAD", e.path("r1", "/file"), adminToken); r.Status != http.StatusOK || r.Header.Get("Content-Length") != strconv.Itoa(len(audio)) {
		t.Errorf("HEAD = %d, length %q", r.Status, r.Header.Get("Content-Length"))
	}

	// Still being recorded: no file yet.
	if r := e.do(t, "GET", e.path("r3", "/file"), adminToken); r.Status != http.StatusConflict {
		t.Errorf("live recording download = %d, want 409", r.Status)
	}

	var ranges []string
	for _, a := range e.audit(t) {
		if a.Action == recording.ActionDownload {
			ranges = append(ranges, a.Who+" "+a.Range+" "+a.Detail)
		}
	}
	want := []string{"ops-admin  HEAD", "wallboard bytes=999999999- ", "wallboard bytes=-44 ", "wallboard bytes=1000-1999 ", "ops-admin  "}
	if strings.Join(ranges, "|") != strings.Join(want, "|") {
		t.Errorf("download audit:\n%q\nwant\n%q", ranges, want)
	}
}

// TestRecordingTraversal: no id, name or stored path reaches a file outside
// the recordings folder.
func TestRecordingTraversal(t *testing.T) {
	e := newRecEnv(t, nil)
	secret := []byte("TOP-SECRET-NOT-A-RECORDING")
	outside := filepath.Join(filepath.Dir(e.files.Dir()), "secret.wav")
	if err := os.WriteFile(outside, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/api/v1/recordings/..%2Fsecret.wav/file",
		"/api/v1/recordings/..%2F..%2F..%2Fetc%2Fpasswd/file",
		"/api/v1/recordings/%2e%2e/file",
		"/api/v1/recordings/r1/file",
		"/api/v1/recordings/r1.wav/file",
		"/api/v1/recordings/0/file",
		"/api/v1/recordings/-1/file",
		"/api/v1/recordings/01/file",
		"/api/v1/recordings/1%00/file",
		"/api/v1/recordings/%2Fetc%2Fpasswd/file",
		"/api/v1/recordings/99999999999999999999/file",
		"/api/v1/recordings/../../secret.wav",
		"/api/v1/recordings/1/../../secret.wav",
		"/api/v1/recordings/1/file/../../../secret.wav",
	} {
		r := e.do(t, "GET", p, adminToken)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 400 or 404", p, r.Status)
		}
		if bytes.Contains(r.Body, secret) {
			t.Errorf("GET %s served the file outside the folder", p)
		}
	}

	// A row whose name and path were tampered with in the database.
	for _, path := range []string{"../secret.wav", outside, "a/../../secret.wav", "secret.wav\x00.wav"} {
		rec := recording.Recording{ID: 1, Name: "../secret", Path: path, State: recording.StateStored}
		ts := newTestServer(t, Options{}, func(s *Server) { s.AddRecordingRoutes(fakeRecordingStore{rec: rec}, e.files) })
		r := ts.do(t, "GET", "/api/v1/recordings/1/file", adminToken)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("path %q: %d, want 400 or 404", path, r.Status)
		}
		if bytes.Contains(r.Body, secret) {
			t.Errorf("path %q served the file outside the folder", path)
		}
	}
}

// fakeRecordingStore serves one recording; its audit fails when auditErr is
// set.
type fakeRecordingStore struct {
	rec      recording.Recording
	auditErr error
}

func (f fakeRecordingStore) ListRecordings(context.Context, recording.Filter) ([]recording.Recording, int, error) {
	return []recording.Recording{f.rec}, 1, nil
}

func (f fakeRecordingStore) GetRecording(_ context.Context, id int64) (recording.Recording, error) {
	if id != f.rec.ID {
		return recording.Recording{}, switchboard.Errorf(switchboard.ENOTFOUND, "no recording %d", id)
	}
	return f.rec, nil
}

func (f fakeRecordingStore) AuditAccess(context.Context, *recording.Access) error { return f.auditErr }

// TestRecordingAuditFailureRefuses: no audit row, no recording data.
func TestRecordingAuditFailureRefuses(t *testing.T) {
	e := newRecEnv(t, nil)
	store := fakeRecordingStore{rec: e.recs["r1"], auditErr: errors.New("disk full")}
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddRecordingRoutes(store, e.files) })
	for _, p := range []string{"/api/v1/recordings", e.path("r1", ""), e.path("r1", "/file")} {
		r := ts.do(t, "GET", p, adminToken)
		if r.Status != http.StatusInternalServerError || bytes.Contains(r.Body, []byte("r1")) || bytes.Contains(r.Body, e.audio["r1"][:44]) {
			t.Errorf("GET %s with a failing audit = %d %q", p, r.Status, r.Body)
		}
	}
	if e.files.InUse().Busy(e.recs["r1"].ID) {
		t.Error("a refused download left the recording in use")
	}
	// Nothing configured: 503.
	none := newTestServer(t, Options{}, func(s *Server) { s.AddRecordingRoutes(nil, nil) })
	for _, p := range []string{"/api/v1/recordings", "/api/v1/recordings/1", "/api/v1/recordings/1/file"} {
		if r := none.do(t, "GET", p, adminToken); r.Status != http.StatusServiceUnavailable {
			t.Errorf("GET %s with no store = %d", p, r.Status)
		}
	}
	noFiles := newTestServer(t, Options{}, func(s *Server) { s.AddRecordingRoutes(store, nil) })
	if r := noFiles.do(t, "GET", e.path("r1", "/file"), adminToken); r.Status != http.StatusServiceUnavailable {
		t.Errorf("download with no folder = %d", r.Status)
	}
}

// gatedFiles holds every opened file's first read until the test lets it
// go, so a download is provably in progress.
type gatedFiles struct {
	RecordingFiles
	opened  chan struct{}
	release chan struct{}
}

func (g *gatedFiles) Open(rec recording.Recording) (io.ReadSeekCloser, error) {
	f, err := g.RecordingFiles.Open(rec)
	if err != nil {
		return nil, err
	}
	g.opened <- struct{}{}
	return &gatedFile{ReadSeekCloser: f, release: g.release}, nil
}

type gatedFile struct {
	io.ReadSeekCloser
	release chan struct{}
	once    sync.Once
}

func (g *gatedFile) Read(p []byte) (int, error) {
	g.once.Do(func() { <-g.release })
	return g.ReadSeekCloser.Read(p)
}

// TestRecordingDownloadDuringRetention: retention skips a recording being
// downloaded, the download completes intact, and the next run deletes it.
func TestRecordingDownloadDuringRetention(t *testing.T) {
	gate := &gatedFiles{opened: make(chan struct{}, 1), release: make(chan struct{})}
	e := newRecEnv(t, func(rf RecordingFiles) RecordingFiles { gate.RecordingFiles = rf; return gate })
	ctx := context.Background()
	policies := recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways, RetentionDays: 1}}
	later := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	done := make(chan reply, 1)
	go func() {
		h := http.Header{"Authorization": {"Bearer " + adminToken}, "Range": {"bytes=100-"}}
		req, _ := http.NewRequest("GET", e.URL+e.path("r1", "/file"), nil)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- reply{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- reply{Status: resp.StatusCode, Body: b}
	}()
	<-gate.opened

	rep, err := e.files.Purge(ctx, e.db, policies, later)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 || rep.Busy != 1 {
		t.Errorf("purge during download = %+v, want r2 deleted and r1 busy", rep)
	}
	if _, err := os.Stat(filepath.Join(e.files.Dir(), "r1.wav")); err != nil {
		t.Errorf("file under download: %v", err)
	}
	close(gate.release)
	got := <-done
	if got.Status != http.StatusPartialContent || !bytes.Equal(got.Body, e.audio["r1"][100:]) {
		t.Fatalf("download during retention: %d, %d bytes", got.Status, len(got.Body))
	}

	// The download is over (the handler closes the file after the client
	// has read the last byte): the next run deletes the file and marks the
	// row.
	id1 := e.recs["r1"].ID
	for deadline := time.Now().Add(5 * time.Second); e.files.InUse().Busy(id1); {
		if time.Now().After(deadline) {
			t.Fatal("the finished download still holds r1")
		}
		time.Sleep(time.Millisecond)
	}
	gate.opened = make(chan struct{}, 10)
	rep, err = e.files.Purge(ctx, e.db, policies, later)
	if err != nil || rep.Deleted != 1 || rep.Busy != 0 {
		t.Errorf("second purge = %+v %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(e.files.Dir(), "r1.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("r1.wav after retention: %v", err)
	}
	if r := e.do(t, "GET", e.path("r1", "/file"), adminToken); r.Status != http.StatusNotFound {
		t.Errorf("download after retention = %d, want 404", r.Status)
	}
	var rec recording.Recording
	e.do(t, "GET", e.path("r1", ""), adminToken).decode(t, &rec)
	if rec.State != recording.StateDeleted || !rec.Deleted.Valid {
		t.Errorf("row after retention = %+v", rec)
	}
	// Still recording: never touched.
	e.do(t, "GET", e.path("r3", ""), adminToken).decode(t, &rec)
	if rec.State != recording.StateRecording {
		t.Errorf("live recording after retention: %s", rec.State)
	}
	var deletes int
	for _, a := range e.audit(t) {
		if a.Action == recording.ActionDelete && a.Who == files.RetentionWho {
			deletes++
		}
	}
	if deletes != 2 {
		t.Errorf("%d retention deletions audited, want 2", deletes)
	}
}

func TestRecordingPauseResume(t *testing.T) {
	e := newRecEnv(t, nil)
	live := e.path("r3", "/pause")
	if r := e.do(t, "POST", live, supervisorToken); r.Status != http.StatusServiceUnavailable {
		t.Errorf("pause before the center is attached = %d, want 503", r.Status)
	}
	fl := &fakeLive{}
	e.routes.SetLive(fl)
	if r := e.do(t, "POST", live, supervisorToken); r.Status != http.StatusNoContent {
		t.Fatalf("pause = %d %s", r.Status, r.Body)
	}
	// The agent on the call (token name = agent id) may resume it.
	if r := e.do(t, "POST", e.path("r3", "/resume"), agentToken); r.Status != http.StatusNoContent {
		t.Fatalf("agent resume = %d %s", r.Status, r.Body)
	}
	fl.err = switchboard.Errorf(switchboard.ECONFLICT, "not paused")
	if r := e.do(t, "POST", e.path("r3", "/resume"), adminToken); r.Status != http.StatusConflict {
		t.Errorf("resume when running = %d, want 409", r.Status)
	}
	fl.err = nil
	if r := e.do(t, "POST", e.path("r2", "/pause"), adminToken); r.Status != http.StatusConflict {
		t.Errorf("pause of a stored recording = %d, want 409", r.Status)
	}
	// Someone else's call.
	if r := e.do(t, "POST", e.path("r1", "/pause"), agentToken); r.Status != http.StatusForbidden {
		t.Errorf("agent pausing another agent's call = %d, want 403", r.Status)
	}
	if r := e.do(t, "POST", "/api/v1/recordings/..%2F1/pause", adminToken); r.Status != http.StatusBadRequest {
		t.Errorf("bad id = %d", r.Status)
	}
	want := []string{"pause call-r3 by wallboard", "resume call-r3 by agent-1001", "resume call-r3 by ops-admin"}
	if strings.Join(fl.calls, "|") != strings.Join(want, "|") {
		t.Errorf("live calls = %q", fl.calls)
	}
	var actions []string
	for _, a := range e.audit(t) {
		actions = append(actions, string(a.Action)+" "+a.Who)
	}
	if got := strings.Join(actions, "|"); got != "resume agent-1001|pause wallboard" {
		t.Errorf("audit = %s", got)
	}
	e.routes.SetLive(nil)
	if r := e.do(t, "POST", live, supervisorToken); r.Status != http.StatusServiceUnavailable {
		t.Errorf("pause after detaching = %d, want 503", r.Status)
	}
}
