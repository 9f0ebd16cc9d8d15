package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// extraRoute stands in for a capability added by another package.
func extraRoute(s *Server) {
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/calls/{id}/hangup", Summary: "Hang up a live call",
		Roles:  []Role{RoleAdmin},
		Params: []Param{{Name: "id", In: "path", Description: "Call id."}},
		Body:   Object(map[string]*Schema{"reason": String("")}),
		Status: http.StatusNoContent,
		Errors: []string{switchboard.ECONFLICT},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusNoContent)
			return nil
		},
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/recordings/{name...}", Summary: "A recording",
		Roles: []Role{RoleSupervisor}, Params: []Param{{Name: "name", In: "path"}},
		Handler: func(w http.ResponseWriter, r *http.Request) error { return nil },
	})
}

// TestOpenAPIInStep walks the route table: every route is served by the mux
// under its own pattern and described in the served document, and the
// document describes nothing else.
func TestOpenAPIInStep(t *testing.T) {
	ts := newTestServer(t, Options{}, extraRoute, func(s *Server) { s.AddIVRRoutes(&fakeRegistry{}, fakeVoicemails{}) }, func(s *Server) {
		s.AddMonitorRoutes(&fakeMonitoring{}, fakeSupervisors{})
		s.AddCallRecordingRoutes(fakeRecorder{&fakeMonitoring{}})
		s.AddCampaignRoutes(&fakeCampaigns{})
		s.AddAgentRoutes(&fakeACD{})
		s.AddAgentHistoryRoute(&fakeHistory{})
		s.AddQueueRoutes(liveQueues, &fakeQueueHistory{})
		s.AddOutboundRoutes(&fakeOutbound{}, salesCampaigns())
	},
		func(s *Server) { s.AddRecordingRoutes(nil, nil) })
	var doc struct {
		OpenAPI string
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct{ Name, In string }
			Responses   map[string]any
			Security    []map[string][]string
			Roles       []Role `json:"x-roles"`
		}
	}
	ts.do(t, "GET", "/api/v1/openapi.json", "").decode(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}

	inDoc := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			inDoc[strings.ToUpper(method)+" "+path] = true
		}
	}
	routes := ts.Routes()
	if len(routes) < 6 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, r := range routes {
		key := r.Method + " " + openAPIPath(r.Path)
		if !inDoc[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
			continue
		}
		delete(inDoc, key)
		op := doc.Paths[openAPIPath(r.Path)][strings.ToLower(r.Method)]

		// The mux serves this route under exactly this pattern.
		req := httptest.NewRequest(r.Method, strings.NewReplacer("{id}", "c1", "{name...}", "a/b.wav").Replace(r.Path), nil)
		if _, pattern := ts.mux.Handler(req); pattern != r.Method+" "+r.Path {
			t.Errorf("route %s %s: mux pattern %q", r.Method, r.Path, pattern)
		}

		var params []string
		for _, p := range op.Parameters {
			params = append(params, p.In+":"+p.Name)
		}
		var want []string
		for _, p := range r.Params {
			want = append(want, p.In+":"+p.Name)
		}
		if diff := cmp.Diff(want, params); diff != "" {
			t.Errorf("%s parameters (-route +doc):\n%s", key, diff)
		}
		if r.Public != (len(op.Security) == 0) {
			t.Errorf("%s: public %v but security %v", key, r.Public, op.Security)
		}
		if !r.Public {
			for _, st := range []string{"401", "403"} {
				if op.Responses[st] == nil {
					t.Errorf("%s: no %s response", key, st)
				}
			}
		}
		if !slices.Equal(op.Roles, r.Roles) {
			t.Errorf("%s: x-roles %v, want %v", key, op.Roles, r.Roles)
		}
	}
	for key := range inDoc {
		t.Errorf("the OpenAPI document describes %s, which no route serves", key)
	}

	hangup := doc.Paths["/api/v1/calls/{id}/hangup"]["post"]
	for _, st := range []string{"204", "404", "409"} {
		if hangup.Responses[st] == nil {
			t.Errorf("hangup: no %s response in %v", st, hangup.Responses)
		}
	}
	if r := ts.do(t, "POST", "/api/v1/calls/c1/hangup", adminToken); r.Status != 204 {
		t.Errorf("added route: status %d", r.Status)
	}
}

// TestOpenAPIRefsResolve: every $ref in the document names a component.
func TestOpenAPIRefsResolve(t *testing.T) {
	ts := newTestServer(t, Options{}, extraRoute)
	var doc map[string]any
	ts.do(t, "GET", "/api/v1/openapi.json", "").decode(t, &doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var refs int
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				name, found := strings.CutPrefix(ref, "#/components/schemas/")
				if !found || schemas[name] == nil {
					t.Errorf("$ref %q resolves to nothing", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if refs == 0 {
		t.Error("no $ref found")
	}
	sec := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)["bearer"].(map[string]any)
	if sec["type"] != "http" || sec["scheme"] != "bearer" {
		t.Errorf("bearer security scheme = %v", sec)
	}
}

// TestSchemasMatchGoTypes: the component schemas list exactly the JSON
// fields the handlers write, so a field added to Call or CDR fails here
// until the document says what it is.
func TestSchemasMatchGoTypes(t *testing.T) {
	schemas := coreSchemas()
	s := New(Options{})
	s.AddIVRRoutes(&fakeRegistry{}, fakeVoicemails{})
	s.AddRecordingRoutes(nil, nil)
	for name, sc := range s.schemas {
		if _, core := schemas[name]; !core {
			schemas[name] = sc
		}
	}
	for name, v := range map[string]any{
		"IVRStatus":      IVRStatus{},
		"Voicemail":      switchboard.Voicemail{},
		"Recording":      recording.Recording{},
		"RecordingPause": recording.Pause{},
		"RecordingPage":  recordingPage{},
		"Call":           switchboard.Call{},
		"CDR":            switchboard.CDR{},
		"Identity":       Identity{},
		"CDRPage":        cdrPage{},
		"Error":          errorBody{},
	} {
		var fields []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			tag := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if tag != "" && tag != "-" {
				fields = append(fields, tag)
			}
		}
		var props []string
		for p := range schemas[name].Properties {
			props = append(props, p)
		}
		slices.Sort(fields)
		slices.Sort(props)
		if diff := cmp.Diff(fields, props); diff != "" {
			t.Errorf("schema %s vs Go type %T (-go +schema):\n%s", name, v, diff)
		}
	}
}

func TestSchemaNullableType(t *testing.T) {
	b, err := json.Marshal(&Schema{Type: "string", Format: "date-time", Nullable: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"type":["string","null"],"format":"date-time"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
