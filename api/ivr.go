package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard/switchboard"
)

// IVRStatus is the running flow set: what hot reload swapped in last.
type IVRStatus struct {
	Version    int       `json:"version"`
	Checksum   string    `json:"checksum"`
	Loaded     time.Time `json:"loaded"`
	Files      []string  `json:"files"`
	Flows      []string  `json:"flows"`
	LastError  string    `json:"last_error,omitempty"` // why the last reload was refused, if it was
	LastReload time.Time `json:"last_reload,omitzero"` // when a reload was last tried
}

// IVRRegistry is the flow registry the IVR routes show and reload.
type IVRRegistry interface {
	Status() IVRStatus
	// Reload validates the flow files and swaps them in; on error the
	// running version stays and the error (with file:line problems) is
	// returned with code EUNPROCESSABLE.
	Reload(reason string) (IVRStatus, error)
}

// VoicemailLister lists voicemail messages.
type VoicemailLister interface {
	// ListVoicemails returns the messages of the given mailboxes (nil:
	// every mailbox; empty: none), newest first, at most limit.
	ListVoicemails(ctx context.Context, mailboxes []string, limit int) ([]switchboard.Voicemail, error)
}

// AddIVRRoutes adds the IVR and voicemail routes.
func (s *Server) AddIVRRoutes(reg IVRRegistry, vm VoicemailLister) {
	supervisors := []Role{RoleAdmin, RoleSupervisor}
	s.DefineSchema("IVRStatus", Object(map[string]*Schema{
		"version":     Integer("Increases with every successful load."),
		"checksum":    String("sha256 of the flow files, hex."),
		"loaded":      dateTime("When this version was loaded."),
		"files":       Array(String("A flow file.")),
		"flows":       Array(String("A flow name.")),
		"last_error":  String("Why the last reload was refused (file:line problems); absent when it succeeded."),
		"last_reload": dateTime("When a reload was last tried."),
	}, "version", "checksum", "loaded", "files", "flows"))
	s.DefineSchema("Voicemail", Object(map[string]*Schema{
		"id":          Integer("Message id."),
		"call_id":     String("Call that left it."),
		"mailbox":     String("Mailbox (queue or agent)."),
		"recording":   String("The PBX's stored recording name."),
		"duration_ns": Integer("Length in nanoseconds."),
		"caller":      String("Caller number."),
		"vars":        stringMap("Flow variables when the message was left."),
		"created":     dateTime("When it was left."),
	}, "id", "call_id", "mailbox", "recording", "duration_ns", "created"))
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/ivr", Summary: "The running IVR flow set",
		Description: "Version, checksum and files of the flows new calls enter on. Calls in progress finish on the version they entered on.",
		Roles:       supervisors, Response: Ref("IVRStatus"),
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			writeJSON(w, http.StatusOK, reg.Status())
			return nil
		},
	})
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/ivr/reload", Summary: "Reload the IVR flows",
		Description: "Validates the flow files and swaps them in atomically. A broken file is refused (422 with file:line problems) and the running version stays.",
		Roles:       []Role{RoleAdmin}, Response: Ref("IVRStatus"), Errors: []string{switchboard.EUNPROCESSABLE},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			id, _ := IdentityFrom(r.Context())
			st, err := reg.Reload("api:" + id.Name)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, st)
			return nil
		},
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/voicemails", Summary: "Voicemail messages",
		Description: "Messages left through IVR voicemail nodes, newest first. A supervisor whose token names queues sees the " +
			"mailboxes named after those queues and after the agents who answer them (a `mailbox` filter outside them is 403).",
		Roles: supervisors,
		Params: []Param{
			{Name: "mailbox", In: "query", Description: "Only this mailbox.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
			{Name: "limit", In: "query", Description: "At most this many.", Schema: &Schema{Type: "integer", Minimum: intp(1), Maximum: intp(MaxCDRLimit), Default: DefaultCDRLimit}},
		},
		Response: Object(map[string]*Schema{"voicemails": Array(Ref("Voicemail"))}, "voicemails"),
		Errors:   []string{switchboard.EFORBIDDEN},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			limit := DefaultCDRLimit
			if v := q.Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > MaxCDRLimit {
					return badParam("limit", "must be an integer in 1..%d", MaxCDRLimit)
				}
				limit = n
			}
			mailbox := q.Get("mailbox")
			if len(mailbox) > maxFilterLen {
				return badParam("mailbox", "longer than %d characters", maxFilterLen)
			}
			who, _ := IdentityFrom(r.Context())
			boxes := s.scopedMailboxes(who)
			if mailbox != "" {
				if boxes != nil && !slices.Contains(boxes, mailbox) {
					return switchboard.Errorf(switchboard.EFORBIDDEN, "mailbox %q is neither one of token %s's queues %v nor one of their agents'", mailbox, who.Name, who.Queues)
				}
				boxes = []string{mailbox}
			}
			list, err := vm.ListVoicemails(r.Context(), boxes, limit)
			if err != nil {
				return err
			}
			if list == nil {
				list = []switchboard.Voicemail{}
			}
			writeJSON(w, http.StatusOK, struct {
				Voicemails []switchboard.Voicemail `json:"voicemails"`
			}{list})
			return nil
		},
	})
}

// scopedMailboxes are the voicemail mailboxes the caller may read: nil for
// every one, else those named after the caller's queues and their agents.
func (s *Server) scopedMailboxes(who Identity) []string {
	if who.AllQueues() {
		return nil
	}
	boxes := []string{}
	for _, q := range who.queueFilter() {
		boxes = append(boxes, string(q))
	}
	for a := range s.scopedAgents(who) {
		if !slices.Contains(boxes, string(a)) {
			boxes = append(boxes, string(a))
		}
	}
	slices.Sort(boxes)
	return boxes
}
