package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard/switchboard"
)

// echoBody is the body of the test route: one required field, one not.
type echoBody struct {
	Mode  string `json:"mode"`
	Count int    `json:"count"`
}

// bodyRoutes registers POST /api/v1/echo (mode required, 256 bytes at
// most) and POST /api/v1/maybe (nothing required) that answer what they
// decoded.
func bodyRoutes(s *Server) {
	echo := func(w http.ResponseWriter, r *http.Request) error {
		var b echoBody
		if err := decodeBody(r, &b); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, b)
		return nil
	}
	s.Handle(Route{Method: http.MethodPost, Path: "/api/v1/echo", Summary: "echo", Roles: Roles, MaxBody: 256,
		Body: Object(map[string]*Schema{"mode": String(""), "count": {Type: "integer"}}, "mode"), Handler: echo})
	s.Handle(Route{Method: http.MethodPost, Path: "/api/v1/maybe", Summary: "maybe", Roles: Roles,
		Body: Object(map[string]*Schema{"mode": String(""), "count": {Type: "integer"}}), Handler: echo})
}

func TestJSONBodies(t *testing.T) {
	ts := newTestServer(t, Options{}, bodyRoutes)
	for _, c := range []struct {
		name, path, ctype, body string
		chunked                 bool
		status                  int
		code, msg               string // the error's code and a part of its message
	}{
		{"a good body", "/api/v1/echo", "application/json", `{"mode":"x","count":2}`, false, 200, "", ""},
		{"charset utf-8", "/api/v1/echo", "application/json; charset=UTF-8", `{"mode":"x"}`, false, 200, "", ""},
		{"white space after", "/api/v1/echo", "application/json", "{\"mode\":\"x\"}\n\t ", false, 200, "", ""},
		{"empty, nothing required", "/api/v1/maybe", "", ``, false, 200, "", ""},
		{"empty, something required", "/api/v1/echo", "", ``, false, 400, switchboard.EINVALID, "with mode is required"},
		{"form encoded", "/api/v1/echo", "application/x-www-form-urlencoded", `{"mode":"x"}`, false, 415, errUnsupportedType, "must be application/json"},
		{"no content type", "/api/v1/maybe", "", `{"mode":"x"}`, false, 415, errUnsupportedType, "Content-Type: application/json"},
		{"text/plain", "/api/v1/echo", "text/plain", `{"mode":"x"}`, false, 415, errUnsupportedType, "text/plain"},
		{"latin-1", "/api/v1/echo", "application/json; charset=iso-8859-1", `{"mode":"x"}`, false, 415, errUnsupportedType, "UTF-8"},
		{"bad media type", "/api/v1/echo", "application/json; =", `{"mode":"x"}`, false, 415, errUnsupportedType, "Content-Type"},
		{"over size, by its length", "/api/v1/echo", "application/json", `{"mode":"` + strings.Repeat("x", 300) + `"}`, false, 413, errTooLarge, "256 bytes at most"},
		{"over size, chunked", "/api/v1/echo", "application/json", `{"mode":"` + strings.Repeat("x", 300) + `"}`, true, 413, errTooLarge, "256 bytes at most"},
		{"over size after the object", "/api/v1/echo", "application/json", `{"mode":"x"}` + strings.Repeat(" ", 300), true, 413, errTooLarge, "256 bytes at most"},
		{"trailing object", "/api/v1/echo", "application/json", `{"mode":"x"}{"mode":"y"}`, false, 400, switchboard.EINVALID, "unexpected data after the JSON object, which ends at byte 12"},
		{"trailing garbage", "/api/v1/echo", "application/json", `{"mode":"x"} rm -rf`, false, 400, switchboard.EINVALID, "unexpected data after the JSON object"},
		{"unknown field", "/api/v1/echo", "application/json", `{"mode":"x","mood":"y"}`, false, 400, switchboard.EINVALID, `unknown field "mood"`},
		{"wrong type", "/api/v1/echo", "application/json", `{"mode":"x","count":"two"}`, false, 400, switchboard.EINVALID, "count: want a number, got string"},
		{"not an object", "/api/v1/echo", "application/json", `["mode"]`, false, 400, switchboard.EINVALID, "want a JSON object, got array"},
		{"syntax", "/api/v1/echo", "application/json", `{"mode":x}`, false, 400, switchboard.EINVALID, "invalid JSON at byte 9"},
		{"a required field missing", "/api/v1/echo", "application/json", `{"count":1}`, false, 400, switchboard.EINVALID, "mode is required"},
		{"cut short", "/api/v1/echo", "application/json", `{"mode":"x"`, false, 400, switchboard.EINVALID, "cut short"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(body) // no length known: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, ts.URL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+agentToken)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, got, c.status)
			}
			if c.status == 200 {
				return
			}
			e := reply{Body: got}.errBody(t)
			if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Errorf("error %+v, want code %s and a message with %q", e, c.code, c.msg)
			}
		})
	}
}

// TestBodyErrorsInOpenAPI: a route with a body documents 413 and 415, and
// its body as required only when a field is.
func TestBodyErrorsInOpenAPI(t *testing.T) {
	ts := newTestServer(t, Options{}, bodyRoutes)
	doc := ts.openAPI()
	for path, required := range map[string]bool{"/api/v1/echo": true, "/api/v1/maybe": false} {
		op := doc.Paths[path]["post"]
		if op == nil {
			t.Fatalf("%s not in the document", path)
		}
		for _, st := range []string{"413", "415"} {
			if _, ok := op.Responses[st]; !ok {
				t.Errorf("%s: no %s response", path, st)
			}
		}
		if op.RequestBody == nil || op.RequestBody.Required != required {
			t.Errorf("%s: request body %+v, want required %v", path, op.RequestBody, required)
		}
	}
}

// FuzzJSONBody feeds every request body the API takes through the one
// decoder: it never panics, answers 200 with the body it decoded or a
// 400/413 whose message says "body", and a body it takes re-encodes to
// the same value.
func FuzzJSONBody(f *testing.F) {
	for _, seed := range []string{
		`{"mode":"x","count":2}`, `{"reason":"lunch"}`, `{"action":"start"}`, `{"mode":"barge","endpoint":"PJSIP/2000"}`,
		`{"disposition":"dnc"}`, `{"agent":"1001"}`, ``, `{}`, `{"mode":"x"}{}`, `[1]`, `{"count":1e400}`, "{\"mode\":\"\xff\"}",
		`{"mode":"x"} `, `nul`, `{"mode":"` + strings.Repeat("é", 200) + `"}`,
	} {
		f.Add(seed)
	}
	s := New(Options{Tokens: testTokens(), Logger: slog.New(slog.DiscardHandler)})
	bodyRoutes(s)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/echo", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+agentToken)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK:
			var got echoBody
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("200 with %q: %v", w.Body.Bytes(), err)
			}
			if got.Mode == "" && !strings.Contains(body, `"mode"`) {
				t.Fatalf("body %q taken without its required field", body)
			}
			var again echoBody
			if err := json.NewDecoder(bytes.NewReader([]byte(body))).Decode(&again); err != nil || again != got {
				t.Fatalf("body %q decoded to %+v, the JSON package reads %+v (%v)", body, got, again, err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || !strings.HasPrefix(e.Error.Message, "body") || !utf8.ValidString(e.Error.Message) {
				t.Fatalf("body %q: error %q (%v), want a message about the body", body, w.Body.Bytes(), err)
			}
			if w.Code == http.StatusRequestEntityTooLarge && len(body) <= 256 {
				t.Fatalf("body of %d bytes refused as too large", len(body))
			}
		default:
			t.Fatalf("body %q: status %d %s", body, w.Code, w.Body.Bytes())
		}
	})
}
