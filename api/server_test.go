package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard"
)

func TestAuth(t *testing.T) {
	ts := newTestServer(t, Options{Calls: fakeCalls{LiveCallsFn: func() []switchboard.Call { return nil }}})
	tests := []struct {
		name       string
		path       string
		auth       []string // Authorization header values
		wantStatus int
		wantChall  string // WWW-Authenticate
	}{
		{"none", "/api/v1/calls", nil, 401, `Bearer realm="switchboard"`},
		{"bad token", "/api/v1/calls", []string{"Bearer nope"}, 401, `Bearer realm="switchboard", error="invalid_token"`},
		{"hash instead of token", "/api/v1/calls", []string{"Bearer " + HashToken(adminToken)}, 401, `Bearer realm="switchboard", error="invalid_token"`},
		{"basic scheme", "/api/v1/calls", []string{"Basic " + adminToken}, 401, `Bearer realm="switchboard"`},
		{"empty bearer", "/api/v1/calls", []string{"Bearer "}, 401, `Bearer realm="switchboard"`},
		{"two headers", "/api/v1/calls", []string{"Bearer " + adminToken, "Bearer " + adminToken}, 401, `Bearer realm="switchboard"`},
		{"admin", "/api/v1/calls", []string{"Bearer " + adminToken}, 200, ""},
		{"supervisor", "/api/v1/calls", []string{"Bearer " + supervisorToken}, 200, ""},
		{"scheme case-insensitive", "/api/v1/calls", []string{"bearer " + supervisorToken}, 200, ""},
		{"agent wrong role", "/api/v1/calls", []string{"Bearer " + agentToken}, 403, ""},
		{"agent on cdr", "/api/v1/cdr", []string{"Bearer " + agentToken}, 403, ""},
		{"agent whoami", "/api/v1/whoami", []string{"Bearer " + agentToken}, 200, ""},
		{"whoami needs a token", "/api/v1/whoami", nil, 401, `Bearer realm="switchboard"`},
		{"openapi is public", "/api/v1/openapi.json", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ts.doHeader(t, "GET", tt.path, http.Header{"Authorization": tt.auth})
			if got.Status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", got.Status, tt.wantStatus, got.Body)
			}
			if c := got.Header.Get("WWW-Authenticate"); c != tt.wantChall {
				t.Errorf("WWW-Authenticate = %q, want %q", c, tt.wantChall)
			}
			if tt.wantStatus >= 400 {
				e := got.errBody(t)
				want := map[int]string{401: switchboard.EUNAUTHORIZED, 403: switchboard.EFORBIDDEN}[tt.wantStatus]
				if e.Code != want {
					t.Errorf("code = %q, want %q", e.Code, want)
				}
			}
		})
	}
}

func TestWhoami(t *testing.T) {
	ts := newTestServer(t, Options{Tokens: append(testTokens(),
		Token{Name: "sales-lead", Role: RoleSupervisor, SHA256: HashToken("scoped-token"), Queues: []switchboard.QueueName{"sales", "outbound"}})})
	for tok, want := range map[string]Identity{
		adminToken:      {Name: "ops-admin", Role: RoleAdmin},
		supervisorToken: {Name: "wallboard", Role: RoleSupervisor},
		agentToken:      {Name: "agent-1001", Role: RoleAgent},
		"scoped-token":  {Name: "sales-lead", Role: RoleSupervisor, Queues: []switchboard.QueueName{"sales", "outbound"}},
	} {
		var got Identity
		ts.do(t, "GET", "/api/v1/whoami", tok).decode(t, &got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("whoami = %+v, want %+v", got, want)
		}
	}
}

func TestInvalidTokensIgnored(t *testing.T) {
	ts := newTestServer(t, Options{Tokens: []Token{
		{Name: "plaintext-by-mistake", Role: RoleAdmin, SHA256: adminToken},
		{Name: "no-role", SHA256: HashToken(supervisorToken)},
		{Name: "ok", Role: RoleAgent, SHA256: strings.ToUpper(HashToken(agentToken))},
		{Name: "dup", Role: RoleAdmin, SHA256: HashToken(agentToken)},
	}})
	for _, tok := range []string{adminToken, supervisorToken} {
		if got := ts.do(t, "GET", "/api/v1/whoami", tok); got.Status != 401 {
			t.Errorf("token from an invalid entry: status %d, want 401", got.Status)
		}
	}
	var id Identity
	ts.do(t, "GET", "/api/v1/whoami", agentToken).decode(t, &id)
	if !reflect.DeepEqual(id, Identity{Name: "ok", Role: RoleAgent}) {
		t.Errorf("whoami = %+v; a later duplicate hash must not take over", id)
	}
	logs := ts.log.String()
	for _, name := range []string{"plaintext-by-mistake", "no-role", "dup"} {
		if !strings.Contains(logs, name) {
			t.Errorf("ignored token %q not logged", name)
		}
	}
	if strings.Contains(logs, adminToken) {
		t.Error("log holds a configured plaintext-looking secret")
	}
}

func TestTokenValidate(t *testing.T) {
	good := Token{Name: "a", Role: RoleAgent, SHA256: HashToken("x")}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	scoped := Token{Name: "s", Role: RoleSupervisor, SHA256: HashToken("y"), Queues: []switchboard.QueueName{"sales", "support"}}
	if err := scoped.Validate(); err != nil {
		t.Fatalf("valid scoped token: %v", err)
	}
	for name, tk := range map[string]Token{
		"no name":           {Role: RoleAgent, SHA256: good.SHA256},
		"bad role":          {Name: "a", Role: "root", SHA256: good.SHA256},
		"short":             {Name: "a", Role: RoleAgent, SHA256: good.SHA256[:10]},
		"not hex":           {Name: "a", Role: RoleAgent, SHA256: strings.Repeat("z", 64)},
		"plaintext":         {Name: "a", Role: RoleAgent, SHA256: "secret"},
		"agent with queues": {Name: "a", Role: RoleAgent, SHA256: good.SHA256, Queues: []switchboard.QueueName{"sales"}},
		"admin with queues": {Name: "a", Role: RoleAdmin, SHA256: good.SHA256, Queues: []switchboard.QueueName{"sales"}},
		"empty queue":       {Name: "a", Role: RoleSupervisor, SHA256: good.SHA256, Queues: []switchboard.QueueName{""}},
		"queue twice":       {Name: "a", Role: RoleSupervisor, SHA256: good.SHA256, Queues: []switchboard.QueueName{"sales", "sales"}},
	} {
		if err := tk.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	var next error
	ts := newTestServer(t, Options{}, func(s *Server) {
		s.Handle(Route{
			Method: "GET", Path: "/api/v1/test/fail", Summary: "fails", Roles: Roles,
			Handler: func(w http.ResponseWriter, r *http.Request) error { return next },
		})
	})
	tests := []struct {
		err      error
		status   int
		code     string
		message  string
		internal bool // detail must be logged, not returned
	}{
		{switchboard.Errorf(switchboard.EINVALID, "bad digit"), 400, "invalid", "bad digit", false},
		{switchboard.Errorf(switchboard.EUNAUTHORIZED, "who"), 401, "unauthorized", "who", false},
		{switchboard.Errorf(switchboard.EFORBIDDEN, "no"), 403, "forbidden", "no", false},
		{switchboard.Errorf(switchboard.ENOTFOUND, "no call c1"), 404, "not_found", "no call c1", false},
		{switchboard.Errorf(switchboard.ECONFLICT, "already bridged"), 409, "conflict", "already bridged", false},
		{switchboard.Errorf(switchboard.EUNPROCESSABLE, "agent logged out"), 422, "unprocessable", "agent logged out", false},
		{switchboard.Errorf(switchboard.EUNAVAILABLE, "PBX link down"), 503, "unavailable", "PBX link down", false},
		{switchboard.Errorf(switchboard.ENOTIMPLEMENTED, "no snoop on ESL"), 501, "not_implemented", "no snoop on ESL", false},
		{fmt.Errorf("originate c1: %w", switchboard.Errorf(switchboard.ENOTFOUND, "no channel")), 404, "not_found", "no channel", false},
		{switchboard.Errorf(switchboard.EINTERNAL, "sql: db locked at /var/lib/sb.db"), 500, "internal", "internal error", true},
		{errors.New("dial tcp 10.0.0.5:5432: password authentication failed"), 500, "internal", "internal error", true},
		{switchboard.Errorf("made_up", "secret detail"), 500, "internal", "internal error", true},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			next = tt.err
			got := ts.do(t, "GET", "/api/v1/test/fail", adminToken)
			if got.Status != tt.status {
				t.Fatalf("status = %d, want %d", got.Status, tt.status)
			}
			want := errorDetail{Code: tt.code, Message: tt.message}
			if diff := cmp.Diff(want, got.errBody(t)); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
			if tt.internal {
				if strings.Contains(string(got.Body), tt.err.Error()) {
					t.Errorf("internal detail leaked: %s", got.Body)
				}
				if !strings.Contains(ts.log.String(), tt.err.Error()) {
					t.Errorf("internal detail %q not logged", tt.err)
				}
			}
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	ts := newTestServer(t, Options{Calls: fakeCalls{LiveCallsFn: func() []switchboard.Call { return nil }}})
	tests := []struct {
		method, path string
		status       int
		code         string
		allow        string
	}{
		{"GET", "/api/v1/nope", 404, "not_found", ""},
		{"GET", "/api/v1/", 404, "not_found", ""},
		{"GET", "/api/v1", 404, "not_found", ""}, // redirected to /api/v1/
		{"GET", "/api/v1/calls/extra", 404, "not_found", ""},
		{"POST", "/api/v1/calls", 405, "method_not_allowed", "GET, HEAD"},
		{"DELETE", "/api/v1/cdr", 405, "method_not_allowed", "GET, HEAD"},
		{"PUT", "/api/v1/openapi.json", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/api/v1/nope", 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			got := ts.do(t, tt.method, tt.path, adminToken)
			if got.Status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", got.Status, tt.status, got.Body)
			}
			if e := got.errBody(t); e.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Code, tt.code)
			}
			if a := got.Header.Get("Allow"); a != tt.allow {
				t.Errorf("Allow = %q, want %q", a, tt.allow)
			}
		})
	}
}

func TestUnknownQueryParameter(t *testing.T) {
	ts := newTestServer(t, Options{
		Calls: fakeCalls{LiveCallsFn: func() []switchboard.Call { return nil }},
		CDR: fakeCDR{ListCDRFn: func(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error) {
			t.Error("store reached with a bad query")
			return nil, 0, nil
		}},
	})
	for path, param := range map[string]string{
		"/api/v1/cdr?form=2025-01-01T00:00:00Z": `"form"`,
		"/api/v1/calls?verbose=1":               `"verbose"`,
		"/api/v1/cdr?limit=5&%zz=1":             "malformed",
	} {
		got := ts.do(t, "GET", path, adminToken)
		if got.Status != 400 {
			t.Errorf("%s: status %d, want 400", path, got.Status)
			continue
		}
		if e := got.errBody(t); e.Code != switchboard.EINVALID || !strings.Contains(e.Message, param) {
			t.Errorf("%s: error %+v, want invalid naming %s", path, e, param)
		}
	}
}

func TestCalls(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	live := []switchboard.Call{
		{ID: "c2", State: switchboard.CallBridged, Caller: "+15550002", Called: "100", Entered: t0.Add(time.Minute), Agent: "1001", Bridged: t0.Add(2 * time.Minute)},
		{ID: "c1", State: switchboard.CallRinging, Caller: "+15550001", Called: "100", Entered: t0},
	}
	ts := newTestServer(t, Options{Calls: fakeCalls{LiveCallsFn: func() []switchboard.Call { return live }}})
	var got struct{ Calls []switchboard.Call }
	ts.do(t, "GET", "/api/v1/calls", supervisorToken).decode(t, &got)
	want := []switchboard.Call{live[1], live[0]}
	if diff := cmp.Diff(want, got.Calls); diff != "" {
		t.Errorf("calls, oldest first (-want +got):\n%s", diff)
	}
	if live[0].ID != "c2" {
		t.Error("handler reordered the lister's slice")
	}

	live = nil
	if got := ts.do(t, "GET", "/api/v1/calls", adminToken); string(got.Body) != "{\"calls\":[]}\n" {
		t.Errorf("no calls: body %s, want an empty list", got.Body)
	}

	unwired := newTestServer(t, Options{})
	if got := unwired.do(t, "GET", "/api/v1/calls", adminToken); got.Status != 503 {
		t.Errorf("no CallLister: status %d, want 503", got.Status)
	}
}

func TestHealth(t *testing.T) {
	ready, reason := false, "PBX link down"
	ts := newTestServer(t, Options{Ready: func() (bool, string) { return ready, reason }})

	got := ts.do(t, "GET", "/healthz", "")
	if got.Status != 503 || string(got.Body) != `{"reason":"PBX link down","status":"not_ready"}`+"\n" {
		t.Errorf("not ready: %d %s", got.Status, got.Body)
	}
	ready = true
	got = ts.do(t, "GET", "/healthz", "")
	if got.Status != 200 || string(got.Body) != `{"status":"ready"}`+"\n" {
		t.Errorf("ready: %d %s", got.Status, got.Body)
	}
	if cc := got.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	ready = false
	if got := ts.do(t, "GET", "/livez", ""); got.Status != 200 {
		t.Errorf("livez while not ready: %d, want 200", got.Status)
	}

	noCheck := newTestServer(t, Options{})
	if got := noCheck.do(t, "GET", "/healthz", ""); got.Status != 200 {
		t.Errorf("nil Ready: %d, want 200", got.Status)
	}
}

// TestHealthDegraded: ready → degraded (200, or 503 with ?strict=1) →
// ready again; not ready wins over degraded.
func TestHealthDegraded(t *testing.T) {
	ready, degraded := true, false
	why := "PBX overloaded: 30 of 40 ARI requests in the last 30s failed (30 timed out)"
	ts := newTestServer(t, Options{
		Ready:    func() (bool, string) { return ready, "PBX link down" },
		Degraded: func() (bool, string) { return degraded, why },
	})
	const (
		readyBody    = `{"status":"ready"}` + "\n"
		degradedBody = `{"reason":"PBX overloaded: 30 of 40 ARI requests in the last 30s failed (30 timed out)","status":"degraded"}` + "\n"
		notReadyBody = `{"reason":"PBX link down","status":"not_ready"}` + "\n"
	)
	steps := []struct {
		name            string
		ready, degraded bool
		path            string
		status          int
		body            string
	}{
		{"healthy", true, false, "/healthz", 200, readyBody},
		{"healthy, strict", true, false, "/healthz?strict=1", 200, readyBody},
		{"overloaded", true, true, "/healthz", 200, degradedBody},
		{"overloaded, strict", true, true, "/healthz?strict=1", 503, degradedBody},
		{"overloaded, strict=true", true, true, "/healthz?strict=true", 503, degradedBody},
		{"overloaded, strict=0", true, true, "/healthz?strict=0", 200, degradedBody},
		{"overloaded and link down", false, true, "/healthz", 503, notReadyBody},
		{"recovered", true, false, "/healthz", 200, readyBody},
	}
	for _, st := range steps {
		ready, degraded = st.ready, st.degraded
		got := ts.do(t, "GET", st.path, "")
		if got.Status != st.status || string(got.Body) != st.body {
			t.Errorf("%s: %d %s, want %d %s", st.name, got.Status, got.Body, st.status, st.body)
		}
	}
}

func TestPanicRecovered(t *testing.T) {
	ts := newTestServer(t, Options{}, func(s *Server) {
		s.Handle(Route{
			Method: "GET", Path: "/api/v1/test/panic", Summary: "panics", Roles: Roles,
			Handler: func(w http.ResponseWriter, r *http.Request) error { panic("nil map in router") },
		})
	})
	got := ts.do(t, "GET", "/api/v1/test/panic", adminToken)
	if got.Status != 500 || got.errBody(t) != (errorDetail{Code: "internal", Message: "internal error"}) {
		t.Errorf("panic: %d %s", got.Status, got.Body)
	}
	if !strings.Contains(ts.log.String(), "nil map in router") {
		t.Error("panic not logged")
	}
}

func TestRequestLogNeverHoldsToken(t *testing.T) {
	ts := newTestServer(t, Options{
		Calls: fakeCalls{LiveCallsFn: func() []switchboard.Call { return nil }},
		CDR: fakeCDR{ListCDRFn: func(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error) {
			return nil, 0, errors.New("disk full")
		}},
	})
	const wrong = "wrong-7d1e-never-log-me"
	ts.do(t, "GET", "/api/v1/calls", supervisorToken)
	ts.do(t, "GET", "/api/v1/cdr", adminToken) // 500: the error path logs too
	ts.do(t, "GET", "/api/v1/calls", agentToken)
	ts.do(t, "GET", "/api/v1/calls", wrong)
	ts.do(t, "POST", "/api/v1/calls", adminToken)
	ts.do(t, "GET", "/api/v1/nope", adminToken)

	logs := ts.log.String()
	for _, secret := range []string{supervisorToken, adminToken, agentToken, wrong, "Bearer", "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{
		`"token_name":"wallboard"`, `"token_name":"ops-admin"`, `"token_name":"agent-1001"`,
		`"msg":"http request"`, `"method":"GET"`, `"path":"/api/v1/calls"`,
		`"status":200`, `"status":403`, `"status":401`, `"status":405`, `"status":500`, `"duration"`,
		`"route":"GET /api/v1/calls"`, `disk full`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestHandleRejectsBadRoutes(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) error { return nil }
	base := Route{Method: "GET", Path: "/api/v1/x", Summary: "x", Roles: Roles, Handler: ok}
	tests := map[string]func(r *Route){
		"lower-case method":     func(r *Route) { r.Method = "get" },
		"outside prefix":        func(r *Route) { r.Path = "/x" },
		"bare prefix":           func(r *Route) { r.Path = Prefix },
		"no summary":            func(r *Route) { r.Summary = "" },
		"no handler":            func(r *Route) { r.Handler = nil },
		"no roles, not public":  func(r *Route) { r.Roles = nil },
		"public with roles":     func(r *Route) { r.Public = true },
		"unknown role":          func(r *Route) { r.Roles = []Role{"root"} },
		"undeclared wildcard":   func(r *Route) { r.Path = "/api/v1/x/{id}" },
		"param not in path":     func(r *Route) { r.Params = []Param{{Name: "id", In: "path"}} },
		"param in header":       func(r *Route) { r.Params = []Param{{Name: "id", In: "header"}} },
		"duplicate param":       func(r *Route) { r.Params = []Param{{Name: "q", In: "query"}, {Name: "q", In: "query"}} },
		"partial wildcard":      func(r *Route) { r.Path = "/api/v1/x-{id}" },
		"error without status":  func(r *Route) { r.Errors = []string{"oops"} },
		"duplicate route":       func(r *Route) { r.Path = "/api/v1/calls" },
		"duplicate operationId": func(r *Route) { r.OperationID = "getCdr" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(Options{})
			r := base
			mutate(&r)
			defer func() {
				if recover() == nil {
					t.Error("Handle accepted a bad route")
				}
			}()
			s.Handle(r)
		})
	}
	New(Options{}).Handle(base) // the base itself is fine
}

func TestOperationID(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/cdr":                  "getCdr",
		"/api/v1/calls/{id}/hold":      "getCallsIdHold",
		"/api/v1/agents/{id}/state":    "getAgentsIdState",
		"/api/v1/recordings/{name...}": "getRecordingsName",
		"/api/v1/queues/{$}":           "getQueues",
		"/api/v1/live-calls":           "getLiveCalls",
	} {
		if got := operationID("GET", path); got != want {
			t.Errorf("operationID(%s) = %q, want %q", path, got, want)
		}
	}
}
