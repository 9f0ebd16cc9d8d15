package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/outbound"
)

// fakeOutbound records what the routes asked; its fields set the answers.
type fakeOutbound struct {
	mu    sync.Mutex
	calls []string
	Err   error
}

var _ OutboundService = (*fakeOutbound)(nil)

func (f *fakeOutbound) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return f.Err
}

func (f *fakeOutbound) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeOutbound) Stats(_ context.Context, name string) (outbound.CampaignStats, error) {
	if name != "spring" {
		return outbound.CampaignStats{}, switchboard.Errorf(switchboard.ENOTFOUND, "no campaign %s", name)
	}
	return outbound.CampaignStats{Campaign: name, State: "running", Mode: "predictive", LinesInFlight: 7, AbandonRateToday: 0.01, ETA: 3600}, f.record("stats " + name)
}

func (f *fakeOutbound) Preview(_ context.Context, name string, agent switchboard.AgentID) (outbound.PreviewLead, error) {
	return outbound.PreviewLead{Attempt: 42, Campaign: name, Number: "+12125550100", Attempts: 1, Data: map[string]string{"name": "Ada"}},
		f.record("preview " + name + " " + string(agent))
}

func (f *fakeOutbound) PreviewDial(_ context.Context, name string, attempt int64, agent switchboard.AgentID) error {
	return f.record("dial " + name + " " + fmt.Sprint(attempt) + " " + string(agent))
}

func (f *fakeOutbound) PreviewSkip(_ context.Context, name string, attempt int64, agent switchboard.AgentID) error {
	return f.record("skip " + name + " " + fmt.Sprint(attempt) + " " + string(agent))
}

func (f *fakeOutbound) Disposition(_ context.Context, name string, attempt int64, disp string, by switchboard.AgentID) error {
	return f.record("disposition " + name + " " + fmt.Sprint(attempt) + " " + disp + " by " + string(by))
}

// salesCampaigns has campaigns spring and look, both of queue sales.
func salesCampaigns() *fakeCampaigns {
	return &fakeCampaigns{byName: map[string]switchboard.Campaign{"spring": {Name: "spring", Queue: "sales"}, "look": {Name: "look", Queue: "sales"}}}
}

func TestOutboundRoutes(t *testing.T) {
	f := &fakeOutbound{}
	ts := newTestServer(t, Options{Queues: []QueueMembers{{Queue: "sales", Agents: []switchboard.AgentID{"agent-1001", "agent-2", "agent-3"}}}},
		func(s *Server) { s.AddOutboundRoutes(f, salesCampaigns()) })

	var st map[string]any
	ts.do(t, "GET", "/api/v1/campaigns/spring/stats", supervisorToken).decode(t, &st)
	if st["campaign"] != "spring" || st["lines_in_flight"] != 7.0 || st["abandon_rate_today"] != 0.01 || st["eta"] != 3600.0 || st["dial_rate_per_minute"] != 0.0 {
		t.Errorf("stats = %v", st)
	}
	if r := ts.do(t, "GET", "/api/v1/campaigns/nope/stats", supervisorToken); r.Status != http.StatusNotFound {
		t.Errorf("stats of no campaign = %d", r.Status)
	}
	if r := ts.do(t, "GET", "/api/v1/campaigns/spring/stats", agentToken); r.Status != http.StatusForbidden {
		t.Errorf("stats as agent = %d", r.Status)
	}

	var lead map[string]any
	ts.send(t, "POST", "/api/v1/campaigns/look/preview", agentToken, "").decode(t, &lead)
	if lead["attempt"] != 42.0 || lead["number"] != "+12125550100" || lead["attempts"] != 1.0 || lead["data"].(map[string]any)["name"] != "Ada" {
		t.Errorf("preview = %v", lead)
	}
	for _, c := range []struct {
		method, path, token, body string
		status                    int
	}{
		{"POST", "/api/v1/campaigns/look/preview", agentToken, `{"agent": "agent-1001"}`, 200},
		{"POST", "/api/v1/campaigns/look/preview", agentToken, `{"agent": "agent-2"}`, 403},
		{"POST", "/api/v1/campaigns/look/preview", supervisorToken, `{"agent": "agent-2"}`, 200},
		{"POST", "/api/v1/campaigns/look/preview", supervisorToken, `{"agent": "agent-9"}`, 403}, // answers no queue of look's
		{"POST", "/api/v1/campaigns/nope/preview", agentToken, ``, 404},
		{"POST", "/api/v1/campaigns/look/preview", supervisorToken, ``, 400},
		{"POST", "/api/v1/campaigns/look/preview", agentToken, `{"agent": `, 400},
		{"POST", "/api/v1/campaigns/look/preview/2/dial", agentToken, ``, 204},
		{"POST", "/api/v1/campaigns/look/preview/3/skip", adminToken, `{"agent": "agent-3"}`, 204},
		{"POST", "/api/v1/campaigns/look/preview/x/skip", agentToken, ``, 400},
		{"POST", "/api/v1/campaigns/look/preview/0/dial", agentToken, ``, 400},
		{"POST", "/api/v1/campaigns/look/attempts/4/disposition", agentToken, `{"disposition": "dnc"}`, 204},
		{"POST", "/api/v1/campaigns/look/attempts/4/disposition", agentToken, `{}`, 400},
		{"POST", "/api/v1/campaigns/look/attempts/4/disposition", agentToken, ``, 400},
	} {
		if r := ts.send(t, c.method, c.path, c.token, c.body); r.Status != c.status {
			t.Errorf("%s %s %s = %d %s, want %d", c.method, c.path, c.body, r.Status, r.Body, c.status)
		}
	}
	want := []string{"stats spring", "preview look agent-1001", "preview look agent-1001", "preview look agent-2",
		"dial look 2 agent-1001", "skip look 3 agent-3", "disposition look 4 dnc by agent-1001"}
	if got := f.Calls(); !equalStrings(got, want) {
		t.Errorf("service calls = %q\nwant %q", got, want)
	}

	// The service's domain errors map to their statuses.
	f.Err = switchboard.Errorf(switchboard.ECONFLICT, "campaign look is paused")
	if r := ts.send(t, "POST", "/api/v1/campaigns/look/preview/2/dial", agentToken, ""); r.Status != http.StatusConflict || r.errBody(t).Message != "campaign look is paused" {
		t.Errorf("dial refused = %d %s", r.Status, r.Body)
	}
	f.Err = switchboard.Errorf(switchboard.EUNAVAILABLE, "the outbound dialer is not running")
	if r := ts.send(t, "POST", "/api/v1/campaigns/look/preview", agentToken, ""); r.Status != http.StatusServiceUnavailable {
		t.Errorf("dialer down = %d %s", r.Status, r.Body)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
