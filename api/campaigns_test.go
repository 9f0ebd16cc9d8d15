package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
)

type fakeCampaigns struct {
	byName map[string]switchboard.Campaign
}

var _ CampaignStore = (*fakeCampaigns)(nil)

func (f *fakeCampaigns) Campaigns(context.Context) ([]switchboard.Campaign, error) {
	var out []switchboard.Campaign
	for _, c := range f.byName {
		out = append(out, c)
	}
	return out, nil
}
func (f *fakeCampaigns) Campaign(_ context.Context, name string) (switchboard.Campaign, error) {
	c, ok := f.byName[name]
	if !ok {
		return c, switchboard.Errorf(switchboard.ENOTFOUND, "no campaign %s", name)
	}
	return c, nil
}
func (f *fakeCampaigns) SetCampaignState(_ context.Context, name string, st switchboard.CampaignState, _ time.Time) error {
	c, ok := f.byName[name]
	switch {
	case !ok:
		return switchboard.Errorf(switchboard.ENOTFOUND, "no campaign %s", name)
	case c.State == switchboard.CampaignStopped && st != switchboard.CampaignStopped:
		return switchboard.Errorf(switchboard.ECONFLICT, "campaign %s is stopped", name)
	}
	c.State = st
	f.byName[name] = c
	return nil
}
func (f *fakeCampaigns) LeadCounts(context.Context, string) (map[switchboard.LeadState]int, error) {
	return map[switchboard.LeadState]int{"new": 3}, nil
}

func TestCampaignRoutes(t *testing.T) {
	store := &fakeCampaigns{byName: map[string]switchboard.Campaign{"spring": {Name: "spring", State: switchboard.CampaignPaused}}}
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddCampaignRoutes(store) })
	var v struct {
		Name  string
		State switchboard.CampaignState
		Leads map[string]int
	}
	ts.send(t, "POST", "/api/v1/campaigns/spring/start", supervisorToken, "")
	ts.do(t, "GET", "/api/v1/campaigns/spring", supervisorToken).decode(t, &v)
	if v.State != switchboard.CampaignRunning || v.Leads["new"] != 3 {
		t.Fatalf("after start: %+v", v)
	}
	for _, c := range []struct {
		verb   string
		status int
		state  switchboard.CampaignState
	}{
		{"pause", http.StatusOK, switchboard.CampaignPaused},
		{"resume", http.StatusOK, switchboard.CampaignRunning},
		{"stop", http.StatusOK, switchboard.CampaignStopped},
		{"resume", http.StatusConflict, switchboard.CampaignStopped},
	} {
		if r := ts.send(t, "POST", "/api/v1/campaigns/spring/"+c.verb, supervisorToken, ""); r.Status != c.status {
			t.Errorf("%s = %d %s, want %d", c.verb, r.Status, r.Body, c.status)
		}
		if got := store.byName["spring"].State; got != c.state {
			t.Errorf("after %s state = %s, want %s", c.verb, got, c.state)
		}
	}
	if r := ts.do(t, "GET", "/api/v1/campaigns/nope", supervisorToken); r.Status != http.StatusNotFound {
		t.Errorf("unknown campaign = %d", r.Status)
	}
	if r := ts.send(t, "POST", "/api/v1/campaigns/spring/pause", agentToken, ""); r.Status != http.StatusForbidden {
		t.Errorf("agent pause = %d", r.Status)
	}
}
