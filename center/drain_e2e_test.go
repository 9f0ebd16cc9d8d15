package center_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// ariFront is an HTTP front of a simulator that records every ARI request
// the adapter makes.
type ariFront struct {
	mu   sync.Mutex
	reqs []ariRequest
}

type ariRequest struct{ method, uri, body string }

// params are the request's query and body parameters (form or JSON).
func (r ariRequest) params(t *testing.T) url.Values {
	t.Helper()
	u, err := url.Parse(r.uri)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	var m map[string]any
	if json.Unmarshal([]byte(r.body), &m) == nil {
		for k, v := range m {
			q.Add(k, fmt.Sprint(v))
		}
	} else if form, err := url.ParseQuery(r.body); err == nil {
		for k, vs := range form {
			q[k] = append(q[k], vs...)
		}
	}
	return q
}

// front starts an ariFront before s and returns its ARI link.
func front(t *testing.T, s *sim.Server) (link, *ariFront) {
	t.Helper()
	f := &ariFront{}
	h := s.Handler()
	u, dial := servePipe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.reqs = append(f.reqs, ariRequest{method: r.Method, uri: r.URL.RequestURI(), body: string(body)})
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	return link{url: u + "/ari", dial: dial}, f
}

// requests returns the recorded requests to the ARI path (without /ari)
// path, or under it when path ends with '/'.
func (f *ariFront) requests(method, path string) []ariRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ariRequest
	for _, r := range f.reqs {
		p, _, _ := strings.Cut(r.uri, "?")
		p = strings.TrimPrefix(p, "/ari")
		if r.method == method && (p == path || strings.HasSuffix(path, "/") && strings.HasPrefix(p, path)) {
			out = append(out, r)
		}
	}
	return out
}

// TestDrainRefusesWithBusy: while draining, a new call is hung up as
// busy (cause 17), the live call goes on, and Drain returns when it ends.
func TestDrainRefusesWithBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
		serve(t, s)
		u, f := front(t, s)
		cfg := baseConfig()
		cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
		e := attachVia(t, s, u, nil, cfg, nil)
		live := e.call(t, "+15554440001", sim.Party{})
		bridgedCall(t, e)
		if e.c.Draining() {
			t.Fatal("draining before Drain")
		}
		drained := make(chan error, 1)
		go func() { drained <- e.c.Drain(context.Background()) }()
		waitUntil(t, "draining", e.c.Draining)

		refused := e.call(t, "+15554440002", sim.Party{})
		waitUntil(t, "the new call hung up", func() bool {
			return !slices.ContainsFunc(s.Channels(), func(c sim.ChannelInfo) bool { return c.ID == refused })
		})
		hangups := f.requests(http.MethodDelete, "/channels/"+refused)
		if len(hangups) != 1 {
			t.Fatalf("hang-ups of the refused call: %+v, want one", hangups)
		}
		if q := hangups[0].params(t); q.Get("reason") != "busy" && q.Get("reason_code") != "17" {
			t.Errorf("refused with %+v, want busy (reason=busy or reason_code=17)", hangups[0])
		}
		if got := e.c.Stats().Refused; got != 1 {
			t.Errorf("refused = %d, want 1", got)
		}
		if calls := e.c.LiveCalls(); len(calls) != 1 || calls[0].ID != sb.CallID(live) || calls[0].State != sb.CallBridged {
			t.Fatalf("the live call did not go on: %+v", calls)
		}
		select {
		case err := <-drained:
			t.Fatalf("Drain returned %v with a call up", err)
		default:
		}
		if err := s.Hangup(live, 16); err != nil {
			t.Fatal(err)
		}
		if err := <-drained; err != nil {
			t.Fatalf("Drain = %v", err)
		}
		if row := e.cdr.wait(t, live); row.Outcome != sb.OutcomeCompleted {
			t.Errorf("live call: %+v", row)
		}
		e.noChannelsLeft(t)
	})
}

// TestAgentHangupRetriedUntilThePBXConfirms: the caller of a bridged call
// hangs up while the PBX answers every hang-up with 500 (a loaded
// Asterisk). The hang-up of the agent's leg is retried, the call stays
// until it goes through, and once the PBX takes hang-ups again the agent's
// phone is hung up, the call is logged and not shown live any more, and a
// drain begun meanwhile ends with it.
func TestAgentHangupRetriedUntilThePBXConfirms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
		serve(t, s)
		cfg := baseConfig()
		cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
		e := attach(t, s, cfg)
		id := e.call(t, "+15554440031", sim.Party{})
		call := bridgedCall(t, e)
		if err := s.SetFaults(sim.Faults{Hangup: sim.RequestFaults{Fail: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Hangup(id, 16); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the agent's hang-up retried", func() bool {
			return e.c.SettleRetries() >= 1 && s.Stats().Faults["hangup.fail"] >= 3
		})
		agentUp := func() bool {
			return slices.ContainsFunc(s.Channels(), func(c sim.ChannelInfo) bool { return c.ID == string(call.AgentChannel) })
		}
		if !agentUp() {
			t.Fatal("the agent's leg is gone although every hang-up failed")
		}
		if calls := e.c.LiveCalls(); len(calls) != 1 {
			t.Fatalf("live calls %+v, want the call until its agent leg is gone", calls)
		}
		drained := make(chan error, 1)
		go func() { drained <- e.c.Drain(context.Background()) }()
		waitUntil(t, "draining", e.c.Draining)
		if err := s.SetFaults(sim.Faults{}); err != nil {
			t.Fatal(err)
		}
		if err := <-drained; err != nil {
			t.Fatalf("Drain = %v", err)
		}
		if agentUp() {
			t.Error("the agent's leg is still up after the drain")
		}
		if calls := e.c.LiveCalls(); len(calls) != 0 {
			t.Errorf("live calls after the drain: %+v", calls)
		}
		if row := e.cdr.wait(t, id); row.Outcome != sb.OutcomeCompleted {
			t.Errorf("row %+v", row)
		}
		e.noChannelsLeft(t)
	})
}
