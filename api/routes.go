package api

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/switchboard/switchboard"
)

// coreRoutes are the routes every Switchboard serves. Later capabilities add
// theirs with Server.Handle.
func (s *Server) coreRoutes() []Route {
	supervisors := []Role{RoleAdmin, RoleSupervisor}
	return []Route{
		{
			Method:      http.MethodGet,
			Path:        "/api/v1/openapi.json",
			OperationID: "getOpenAPI",
			Summary:     "This API's OpenAPI 3.1 description",
			Public:      true,
			Response:    &Schema{Type: "object", Description: "An OpenAPI 3.1 document."},
			Handler:     s.serveOpenAPI,
		},
		{
			Method:      http.MethodGet,
			Path:        "/api/v1/whoami",
			Summary:     "The calling token's name, role and queue scope",
			Description: "Lets an integrator check a token and its role before using it.",
			Roles:       Roles,
			Response:    Ref("Identity"),
			Handler:     s.whoami,
		},
		{
			Method:      http.MethodGet,
			Path:        "/api/v1/calls",
			Summary:     "Calls in progress",
			Description: "A snapshot of every live call, oldest first. A supervisor whose token names queues sees the calls in those queues only.",
			Roles:       supervisors,
			Response:    Ref("CallList"),
			Errors:      []string{switchboard.EUNAVAILABLE},
			Handler:     s.listCalls,
		},
		{
			Method:  http.MethodGet,
			Path:    "/api/v1/cdr",
			Summary: "The call log",
			Description: "Call-log rows matching every given filter, one page at a time. " +
				"`total` counts all matching rows; `next` and `next_offset` are present while more pages exist. " +
				"A supervisor whose token names queues sees the rows of those queues only, and a `queue` filter outside them is refused (403).",
			Roles: supervisors,
			Params: []Param{
				{Name: "from", In: "query", Description: "Calls that entered at or after this time (RFC 3339; encode + as %2B).", Schema: dateTime("")},
				{Name: "to", In: "query", Description: "Calls that entered before this time (RFC 3339); must be after from.", Schema: dateTime("")},
				{Name: "caller", In: "query", Description: "Caller number, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
				{Name: "called", In: "query", Description: "Dialled number, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
				{Name: "agent", In: "query", Description: "Agent id, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
				{Name: "queue", In: "query", Description: "Queue name, exact.", Schema: &Schema{Type: "string", MaxLength: intp(maxFilterLen)}},
				{Name: "outcome", In: "query", Description: "How the call ended.", Schema: enumOf("", switchboard.Outcomes)},
				{Name: "limit", In: "query", Description: "Page size.", Schema: &Schema{Type: "integer", Minimum: intp(1), Maximum: intp(MaxCDRLimit), Default: DefaultCDRLimit}},
				{Name: "offset", In: "query", Description: "Rows to skip.", Schema: &Schema{Type: "integer", Minimum: intp(0), Default: 0}},
			},
			Response: Ref("CDRPage"),
			Errors:   []string{switchboard.EUNAVAILABLE, switchboard.EFORBIDDEN},
			Handler:  s.listCDR,
		},
	}
}

// whoami is GET /api/v1/whoami.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	id, _ := IdentityFrom(r.Context())
	writeJSON(w, http.StatusOK, id)
	return nil
}

// listCalls is GET /api/v1/calls.
func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) error {
	if s.calls == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "live calls are not available")
	}
	id, _ := IdentityFrom(r.Context())
	calls := []switchboard.Call{}
	for _, c := range s.calls.LiveCalls() {
		if id.SeesQueue(c.Queue) {
			calls = append(calls, c)
		}
	}
	slices.SortStableFunc(calls, func(a, b switchboard.Call) int {
		return cmp.Or(a.Entered.Compare(b.Entered), cmp.Compare(a.ID, b.ID))
	})
	writeJSON(w, http.StatusOK, struct {
		Calls []switchboard.Call `json:"calls"`
	}{calls})
	return nil
}

// cdrPage is the body of GET /api/v1/cdr.
type cdrPage struct {
	Rows       []switchboard.CDR `json:"rows"`
	Total      int               `json:"total"`
	Limit      int               `json:"limit"`
	Offset     int               `json:"offset"`
	NextOffset *int              `json:"next_offset,omitempty"`
	Next       string            `json:"next,omitempty"`
}

// listCDR is GET /api/v1/cdr.
func (s *Server) listCDR(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := parseCDRFilter(q)
	if err != nil {
		return err
	}
	id, _ := IdentityFrom(r.Context())
	if f.Queue != "" {
		if err := checkQueue(id, "the queue filter", f.Queue); err != nil {
			return err
		}
	}
	f.Queues = id.queueFilter()
	if s.cdr == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "the call log is not available")
	}
	rows, total, err := s.cdr.ListCDR(r.Context(), f)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []switchboard.CDR{}
	}
	page := cdrPage{Rows: rows, Total: total, Limit: f.Limit, Offset: f.Offset}
	page.NextOffset, page.Next = nextPage(r, q, f.Offset, len(rows), f.Limit, total)
	writeJSON(w, http.StatusOK, page)
	return nil
}

// nextPage returns the offset and link of the page after one of n rows at
// offset, keeping the request's filters; nil and "" on the last page.
func nextPage(r *http.Request, q url.Values, offset, n, limit, total int) (*int, string) {
	if n == 0 || offset+n >= total {
		return nil, ""
	}
	next := offset + n
	q.Set("offset", strconv.Itoa(next))
	q.Set("limit", strconv.Itoa(limit))
	return &next, r.URL.Path + "?" + q.Encode()
}

// livez is GET /livez: the process serves HTTP. Restart it only when this
// fails; a PBX outage is /healthz's business.
func (s *Server) livez(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

// healthz is GET /healthz: whether Switchboard can take calls now, for load
// balancers and orchestrators to route around an instance whose PBX link is
// down. Three states:
//
//	ready      200 {"status":"ready"}
//	degraded   200 {"status":"degraded","reason":...}: calls are taken,
//	           but the PBX is overloaded (commands fail or are slow);
//	           503 instead with ?strict=1, for a balancer that can only
//	           read status codes and has somewhere better to send calls
//	not_ready  503 {"status":"not_ready","reason":...}
//
// Degraded stays 200 by default: with one controller per PBX, taking it
// out of rotation would not unload the PBX, only stop every call.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ready, reason := s.ready()
	if !ready {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": reason})
		return
	}
	if degraded, reason := s.degraded(); degraded {
		code := http.StatusOK
		if v := r.URL.Query().Get("strict"); v == "1" || v == "true" {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]string{"status": "degraded", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
