package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// RecordingStore reads recordings' metadata and keeps the audit of every
// access to them (storage.DB implements it).
type RecordingStore interface {
	// ListRecordings returns one page of recordings matching f and the
	// number matching across all pages.
	ListRecordings(ctx context.Context, f recording.Filter) ([]recording.Recording, int, error)
	// GetRecording returns one recording; ENOTFOUND when there is none.
	GetRecording(ctx context.Context, id int64) (recording.Recording, error)
	// AuditAccess records one access.
	AuditAccess(ctx context.Context, a *recording.Access) error
}

// RecordingFiles opens recordings' audio (recording/files.Store implements
// it).
type RecordingFiles interface {
	// Open opens a stored recording's file and holds it in use, so
	// retention does not delete it, until the file is closed. It fails
	// with ECONFLICT for a recording still being written and ENOTFOUND for
	// one with no file (failed, deleted, being deleted, missing), and
	// never opens anything outside the recordings folder.
	Open(rec recording.Recording) (io.ReadSeekCloser, error)
}

// LiveRecordings pauses and resumes the recordings of a call in progress
// (the call center implements it). The context carries the caller's
// [Identity] (see [IdentityFrom]) for an implementation that wants to check
// more than the route does.
type LiveRecordings interface {
	// Pause pauses every recording of the call and marks the pause in
	// their metadata; ECONFLICT when already paused or no longer recording.
	Pause(ctx context.Context, call switchboard.CallID) error
	// Resume resumes them and closes the pause; ECONFLICT when not paused.
	Resume(ctx context.Context, call switchboard.CallID) error
	// RecordingPolicy returns the policy the call is recorded under
	// (ENOTFOUND when the call is over).
	RecordingPolicy(ctx context.Context, call switchboard.CallID) (recording.Policy, error)
}

// RecordingRoutes is the handle [Server.AddRecordingRoutes] returns: the
// live-recording control can be attached after the routes are served (the
// call center usually starts after the HTTP server).
type RecordingRoutes struct {
	live atomic.Pointer[LiveRecordings]
}

// SetLive attaches (or, with nil, detaches) the live-recording control.
// Until it is attached, pause and resume answer 503.
func (rr *RecordingRoutes) SetLive(l LiveRecordings) {
	if l == nil {
		rr.live.Store(nil)
		return
	}
	rr.live.Store(&l)
}

func (rr *RecordingRoutes) liveRecordings() LiveRecordings {
	if p := rr.live.Load(); p != nil {
		return *p
	}
	return nil
}

// maxAuditField bounds what a request can write into the audit trail.
const maxAuditField = 512

// recordingPage is the body of GET /api/v1/recordings.
type recordingPage struct {
	Rows       []recording.Recording `json:"rows"`
	Total      int                   `json:"total"`
	Limit      int                   `json:"limit"`
	Offset     int                   `json:"offset"`
	NextOffset *int                  `json:"next_offset,omitempty"`
	Next       string                `json:"next,omitempty"`
}

// recordingHandlers serves the recording routes.
type recordingHandlers struct {
	s     *Server
	store RecordingStore
	files RecordingFiles
	rr    *RecordingRoutes
	now   func() time.Time
}

// AddRecordingRoutes adds the recording routes: listing and metadata for
// admins and supervisors, download with range requests (agents may not
// hear recordings), and pause and resume of live recordings. Every access
// is written to the audit trail, with the token's name, before any
// recording data is sent; if the audit cannot be written the request
// fails. A nil store or files makes its routes answer 503; pause and
// resume answer 503 until [RecordingRoutes.SetLive].
func (s *Server) AddRecordingRoutes(store RecordingStore, files RecordingFiles) *RecordingRoutes {
	h := &recordingHandlers{s: s, store: store, files: files, rr: &RecordingRoutes{}, now: time.Now}
	listeners := []Role{RoleAdmin, RoleSupervisor}
	s.DefineSchema("RecordingPause", Object(map[string]*Schema{
		"start": dateTime("When the recording was paused."),
		"end":   dateTime("When it resumed (or stopped); absent while paused."),
	}, "start"))
	nullTime := func(desc string) *Schema {
		return &Schema{Type: "string", Format: "date-time", Nullable: true, Description: desc}
	}
	s.DefineSchema("Recording", Object(map[string]*Schema{
		"id":          Integer("Recording id."),
		"name":        String("The PBX's recording name."),
		"call_id":     String("The call recorded."),
		"leg":         enumOf("What was recorded: empty for the mixed bridge, or one party.", []recording.Leg{recording.LegMixed, recording.LegCaller, recording.LegAgent}),
		"queue":       String("Queue of the call."),
		"campaign":    String("Campaign of the call."),
		"agent":       String("Agent on the call."),
		"caller":      String("Caller number."),
		"started":     dateTime("When recording started."),
		"ended":       nullTime("When recording stopped; null while recording."),
		"duration_ns": Integer("Length of the audio in nanoseconds (pauses are not in the file)."),
		"size":        Integer("File size in bytes."),
		"sha256":      String("SHA-256 of the file, hex."),
		"pauses":      Array(Ref("RecordingPause")),
		"path":        String("File name in the recordings folder."),
		"state":       enumOf("recording, stored, failed or deleted.", recording.States),
		"error":       String("Why the recording failed."),
		"created":     dateTime("When the row was written."),
		"deleted":     nullTime("When the file was deleted; null while it exists."),
	}, "id", "name", "call_id", "started", "state"))
	s.DefineSchema("RecordingPage", Object(map[string]*Schema{
		"rows":        Array(Ref("Recording")),
		"total":       Integer("Recordings matching the filters across all pages."),
		"limit":       Integer("Page size."),
		"offset":      Integer("Rows skipped."),
		"next_offset": Integer("Offset of the next page; absent on the last."),
		"next":        String("Path and query of the next page; absent on the last."),
	}, "rows", "total", "limit", "offset"))

	idParam := Param{Name: "id", In: "path", Description: "Recording id (a positive integer).", Schema: &Schema{Type: "integer", Minimum: intp(1)}}
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/recordings", Summary: "Recordings",
		Description: "Recordings matching every given filter, newest first, one page at a time. The listing is audited. " +
			"A supervisor whose token names queues sees the recordings of those queues' calls only (a campaign call is in its campaign's queue); " +
			"a `queue` filter outside them is 403.",
		Roles: listeners,
		Params: []Param{
			{Name: "from", In: "query", Description: "Recordings started at or after this time (RFC 3339; encode + as %2B).", Schema: dateTime("")},
			{Name: "to", In: "query", Description: "Recordings started before this time (RFC 3339); must be after from.", Schema: dateTime("")},
			{Name: "agent", In: "query", Description: "Agent id, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
			{Name: "queue", In: "query", Description: "Queue name, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
			{Name: "caller", In: "query", Description: "Caller number, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
			{Name: "limit", In: "query", Description: "Page size.", Schema: &Schema{Type: "integer", Minimum: intp(1), Maximum: intp(MaxCDRLimit), Default: DefaultCDRLimit}},
			{Name: "offset", In: "query", Description: "Rows to skip.", Schema: &Schema{Type: "integer", Minimum: intp(0), Default: 0}},
		},
		Response: Ref("RecordingPage"),
		Errors:   []string{switchboard.EUNAVAILABLE},
		Handler:  h.list,
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/recordings/{id}", Summary: "A recording's metadata",
		Description: "Call, parties, times, size, checksum, pauses and state of one recording. The access is audited. " +
			"403 for a recording outside the token's queues.",
		Roles: listeners, Params: []Param{idParam},
		Response: Ref("Recording"),
		Errors:   []string{switchboard.EUNAVAILABLE},
		Handler:  h.get,
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/recordings/{id}/file", Summary: "Download a recording",
		Description: "The audio as `audio/wav`. Range requests are answered with 206 and the requested bytes, so a browser " +
			"can seek; the ETag is the file's SHA-256. Agents may not hear recordings. The download (with its range) is " +
			"audited, and retention does not delete a file while it is being downloaded. 409 while the recording is " +
			"still being written, 404 when it has no file, 403 when it is outside the token's queues.",
		Roles: listeners, Params: []Param{idParam},
		Errors:  []string{switchboard.ECONFLICT, switchboard.EUNAVAILABLE},
		Handler: h.file,
	})
	pauseRoute := func(action recording.Action) Route {
		verb := map[recording.Action]string{recording.ActionPause: "Pause", recording.ActionResume: "Resume"}[action]
		return Route{
			Method: http.MethodPost, Path: "/api/v1/recordings/{id}/" + string(action), Summary: verb + " a live recording",
			Description: verb + "s every recording of the call the recording belongs to (e.g. while a card number is read); " +
				"the pause is marked in the recordings' metadata. An agent may do this only on a recording of their own " +
				"call (the token's name is the agent id), and pause it only when the call's recording policy lets agents " +
				"(`agent_may_stop`; by default only on-demand recordings); a supervisor whose token names queues only on " +
				"those queues' calls. 409 when the recording is not live or already in that state; " +
				"503 until the call center is attached.",
			Roles: Roles, Params: []Param{idParam}, Status: http.StatusNoContent,
			Errors: []string{switchboard.ECONFLICT, switchboard.EUNAVAILABLE},
			Handler: func(w http.ResponseWriter, r *http.Request) error {
				return h.pause(w, r, action)
			},
		}
	}
	s.Handle(pauseRoute(recording.ActionPause))
	s.Handle(pauseRoute(recording.ActionResume))
	return h.rr
}

// parseRecordingFilter reads a recordings filter from a query; the rules
// are those of the call log's (see parseCDRFilter).
func parseRecordingFilter(q url.Values) (recording.Filter, error) {
	c, err := parseCDRFilter(q)
	if err != nil {
		return recording.Filter{}, err
	}
	return recording.Filter{From: c.From, To: c.To, Agent: c.Agent, Queue: c.Queue, Caller: c.Caller, Limit: c.Limit, Offset: c.Offset}, nil
}

// recordingID reads the {id} path parameter. Anything but a positive
// decimal integer (a name, a path, "../x") is refused before the store is
// asked.
func recordingID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != v {
		return 0, badParam("id", "must be a positive integer recording id")
	}
	return id, nil
}

// audit records an access by the request's caller.
func (h *recordingHandlers) audit(r *http.Request, id int64, action recording.Action, rng, detail string) error {
	who, _ := IdentityFrom(r.Context())
	return h.store.AuditAccess(r.Context(), &recording.Access{
		RecordingID: id, Who: who.Name, Role: string(who.Role), Action: action, At: h.now().UTC(),
		Remote: truncate(r.RemoteAddr), Range: truncate(rng), Detail: truncate(detail),
	})
}

func truncate(s string) string {
	if len(s) > maxAuditField {
		return s[:maxAuditField]
	}
	return s
}

func (h *recordingHandlers) unavailable() error {
	return switchboard.Errorf(switchboard.EUNAVAILABLE, "recordings are not available")
}

// list is GET /api/v1/recordings.
func (h *recordingHandlers) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := parseRecordingFilter(q)
	if err != nil {
		return err
	}
	who, _ := IdentityFrom(r.Context())
	if f.Queue != "" {
		if err := checkQueue(who, "the queue filter", f.Queue); err != nil {
			return err
		}
	}
	f.Queues = who.queueFilter()
	if h.store == nil {
		return h.unavailable()
	}
	rows, total, err := h.store.ListRecordings(r.Context(), f)
	if err != nil {
		return err
	}
	if err := h.audit(r, 0, recording.ActionList, "", r.URL.RawQuery); err != nil {
		return err
	}
	if rows == nil {
		rows = []recording.Recording{}
	}
	page := recordingPage{Rows: rows, Total: total, Limit: f.Limit, Offset: f.Offset}
	page.NextOffset, page.Next = nextPage(r, q, f.Offset, len(rows), f.Limit, total)
	writeJSON(w, http.StatusOK, page)
	return nil
}

// lookup reads the {id} recording and checks the caller may touch it: an
// admin any, a supervisor those of its token's queues (a campaign call's
// recording is in the campaign's queue, the call's), an agent those of its
// own calls.
func (h *recordingHandlers) lookup(r *http.Request) (recording.Recording, error) {
	id, err := recordingID(r)
	if err != nil {
		return recording.Recording{}, err
	}
	if h.store == nil {
		return recording.Recording{}, h.unavailable()
	}
	rec, err := h.store.GetRecording(r.Context(), id)
	if err != nil {
		return recording.Recording{}, err
	}
	who, _ := IdentityFrom(r.Context())
	if who.Role == RoleAgent {
		if rec.Agent == "" || string(rec.Agent) != who.Name {
			return recording.Recording{}, switchboard.Errorf(switchboard.EFORBIDDEN, "an agent may act only on the recordings of their own calls")
		}
		return rec, nil
	}
	if err := checkQueue(who, fmt.Sprintf("recording %d", rec.ID), rec.Queue); err != nil {
		return recording.Recording{}, err
	}
	return rec, nil
}

// get is GET /api/v1/recordings/{id}.
func (h *recordingHandlers) get(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.lookup(r)
	if err != nil {
		return err
	}
	if err := h.audit(r, rec.ID, recording.ActionView, "", ""); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// file is GET /api/v1/recordings/{id}/file.
func (h *recordingHandlers) file(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.lookup(r)
	if err != nil {
		return err
	}
	if h.files == nil {
		return h.unavailable()
	}
	f, err := h.files.Open(rec)
	if err != nil {
		return err
	}
	defer f.Close()
	detail := ""
	if r.Method == http.MethodHead {
		detail = "HEAD"
	}
	if err := h.audit(r, rec.ID, recording.ActionDownload, r.Header.Get("Range"), detail); err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "audio/wav")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": rec.Path}))
	if rec.SHA256 != "" {
		hd.Set("ETag", `"`+rec.SHA256+`"`)
	}
	mod := rec.Created
	if rec.Ended.Valid {
		mod = rec.Ended.Time
	}
	h.s.downloadDeadline(w, f)
	http.ServeContent(w, r, rec.Path, mod, f)
	return nil
}

// pause is POST /api/v1/recordings/{id}/pause and /resume.
func (h *recordingHandlers) pause(w http.ResponseWriter, r *http.Request, action recording.Action) error {
	rec, err := h.lookup(r)
	if err != nil {
		return err
	}
	if rec.State != recording.StateRecording {
		return switchboard.Errorf(switchboard.ECONFLICT, "recording %d is %s, not live", rec.ID, rec.State)
	}
	live := h.rr.liveRecordings()
	if live == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "live recording control is not available")
	}
	if who, _ := IdentityFrom(r.Context()); who.Role == RoleAgent && action == recording.ActionPause {
		p, err := live.RecordingPolicy(r.Context(), rec.CallID)
		if err != nil {
			return err
		}
		if err := agentMayStop(p, "pause"); err != nil {
			return err
		}
	}
	if action == recording.ActionPause {
		err = live.Pause(r.Context(), rec.CallID)
	} else {
		err = live.Resume(r.Context(), rec.CallID)
	}
	if err != nil {
		return err
	}
	// The pause has taken effect: a failed audit is logged, not reported
	// as a failed pause (the agent would retry into a conflict).
	if err := h.audit(r, rec.ID, action, "", string(rec.CallID)); err != nil {
		h.s.log.LogAttrs(r.Context(), slog.LevelError, "recording audit failed",
			slog.Int64("recording_id", rec.ID), slog.String("call_id", string(rec.CallID)),
			slog.String("action", string(action)), slog.String("err", err.Error()))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
