package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

type fakeACD struct {
	got []string
}

var _ ACD = (*fakeACD)(nil)

func (f *fakeACD) RoutingSnapshot(context.Context) (routing.Snapshot, error) {
	return routing.Snapshot{Agents: []routing.AgentStats{{Agent: "1001", State: "available"}}}, nil
}
func (f *fakeACD) AgentLogin(_ context.Context, id switchboard.AgentID) error {
	f.got = append(f.got, "login "+string(id))
	return nil
}
func (f *fakeACD) AgentLogout(_ context.Context, id switchboard.AgentID) error {
	f.got = append(f.got, "logout "+string(id))
	return nil
}
func (f *fakeACD) AgentPause(_ context.Context, id switchboard.AgentID, reason string) error {
	f.got = append(f.got, "pause "+string(id)+" "+reason)
	return switchboard.Errorf(switchboard.ECONFLICT, "already paused")
}
func (f *fakeACD) AgentReady(_ context.Context, id switchboard.AgentID) error {
	f.got = append(f.got, "ready "+string(id))
	return nil
}

func TestAgentRoutes(t *testing.T) {
	acd := &fakeACD{}
	ts := newTestServer(t, Options{Tokens: []Token{
		{Name: "ops-admin", Role: RoleAdmin, SHA256: HashToken(adminToken)},
		{Name: "1001", Role: RoleAgent, SHA256: HashToken(agentToken)},
	}}, func(s *Server) { s.AddAgentRoutes(acd) })
	var snap routing.Snapshot
	ts.do(t, "GET", "/api/v1/agents", adminToken).decode(t, &snap)
	if len(snap.Agents) != 1 || snap.Agents[0].Agent != "1001" {
		t.Fatalf("snapshot = %+v", snap)
	}
	cases := []struct {
		path, token, body string
		status            int
	}{
		{"/api/v1/agents/1001/login", agentToken, "", http.StatusNoContent},
		{"/api/v1/agents/1002/login", agentToken, "", http.StatusForbidden}, // not themselves
		{"/api/v1/agents/1001/pause", agentToken, `{"reason":"lunch"}`, http.StatusConflict},
		{"/api/v1/agents/1002/ready", adminToken, "", http.StatusNoContent},
		{"/api/v1/agents/1002/logout", adminToken, "", http.StatusNoContent},
	}
	for _, c := range cases {
		if r := ts.send(t, "POST", c.path, c.token, c.body); r.Status != c.status {
			t.Errorf("%s = %d %s, want %d", c.path, r.Status, r.Body, c.status)
		}
	}
	if got := strings.Join(acd.got, "|"); got != "login 1001|pause 1001 lunch|ready 1002|logout 1002" {
		t.Errorf("center got %q", got)
	}
	if r := ts.do(t, "GET", "/api/v1/agents", agentToken); r.Status != http.StatusForbidden {
		t.Errorf("agent listing = %d", r.Status)
	}
}

type fakeHistory struct{ agent switchboard.AgentID }

func (f *fakeHistory) AgentStateHistory(_ context.Context, agent switchboard.AgentID, _, _ time.Time, limit int) (any, error) {
	f.agent = agent
	return []map[string]string{{"state": "available"}}, nil
}

func TestAgentHistoryRoute(t *testing.T) {
	h := &fakeHistory{}
	ts := newTestServer(t, Options{Tokens: []Token{
		{Name: "ops-admin", Role: RoleAdmin, SHA256: HashToken(adminToken)},
		{Name: "1001", Role: RoleAgent, SHA256: HashToken(agentToken)},
	}}, func(s *Server) { s.AddAgentHistoryRoute(h) })
	var body struct{ States []map[string]string }
	ts.do(t, "GET", "/api/v1/agents/1001/history?limit=5", agentToken).decode(t, &body)
	if len(body.States) != 1 || h.agent != "1001" {
		t.Fatalf("body %+v agent %q", body, h.agent)
	}
	if r := ts.do(t, "GET", "/api/v1/agents/1002/history", agentToken); r.Status != http.StatusForbidden {
		t.Errorf("other agent's history = %d", r.Status)
	}
	if r := ts.do(t, "GET", "/api/v1/agents/1002/history?from=yesterday", adminToken); r.Status != http.StatusBadRequest {
		t.Errorf("bad from = %d", r.Status)
	}
}
