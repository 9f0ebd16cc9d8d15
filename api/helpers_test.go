package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard"
)

// fakeCalls is a CallLister whose behaviour each test sets.
type fakeCalls struct {
	LiveCallsFn func() []switchboard.Call
}

var _ CallLister = fakeCalls{}

func (f fakeCalls) LiveCalls() []switchboard.Call { return f.LiveCallsFn() }

// fakeCDR is a CDRStore whose behaviour each test sets.
type fakeCDR struct {
	ListCDRFn func(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error)
}

var _ CDRStore = fakeCDR{}

func (f fakeCDR) ListCDR(ctx context.Context, flt switchboard.CDRFilter) ([]switchboard.CDR, int, error) {
	return f.ListCDRFn(ctx, flt)
}

// Plaintext tokens of the test server; Options only ever sees their hashes.
const (
	adminToken      = "adm-7f3c1e0b9d2a4c58e6f1"
	supervisorToken = "sup-0a9b8c7d6e5f4a3b2c1d"
	agentToken      = "agt-1122334455667788aabb"
)

func testTokens() []Token {
	return []Token{
		{Name: "ops-admin", Role: RoleAdmin, SHA256: HashToken(adminToken)},
		{Name: "wallboard", Role: RoleSupervisor, SHA256: HashToken(supervisorToken)},
		{Name: "agent-1001", Role: RoleAgent, SHA256: HashToken(agentToken)},
	}
}

// syncBuffer is a log sink safe for the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a Server behind a real HTTP listener, with its log.
type testServer struct {
	*Server
	URL string
	log *syncBuffer
}

// newTestServer starts s on httptest. opts.Tokens defaults to testTokens and
// the logger writes JSON at debug level into ts.log.
func newTestServer(t *testing.T, opts Options, setup ...func(*Server)) *testServer {
	t.Helper()
	buf := &syncBuffer{}
	if opts.Tokens == nil {
		opts.Tokens = testTokens()
	}
	opts.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(opts)
	for _, f := range setup {
		f(s)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testServer{Server: s, URL: hs.URL, log: buf}
}

// reply is a response read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// errBody decodes a JSON error reply.
func (r reply) errBody(t *testing.T) errorDetail {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.Body, err)
	}
	if e.Error.Code == "" {
		t.Fatalf("error body %q has no code", r.Body)
	}
	return e.Error
}

// do sends a request with an optional bearer token.
func (ts *testServer) do(t *testing.T, method, path, token string) reply {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return ts.doHeader(t, method, path, h)
}

func (ts *testServer) doHeader(t *testing.T, method, path string, h http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// decode unmarshals a 200 reply's JSON body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
}
