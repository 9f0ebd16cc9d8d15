package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
)

type fakeCampaigns struct {
	byName map[string]campaign.Campaign
}

var _ CampaignStore = (*fakeCampaigns)(nil)

func (f *fakeCampaigns) Campaigns(context.Context) ([]campaign.Campaign, error) {
	var out []campaign.Campaign
	for _, c := range f.byName {
		out = append(out, c)
	}
	return out, nil
}
func (f *fakeCampaigns) Campaign(_ context.Context, name string) (campaign.Campaign, error) {
	c, ok := f.byName[name]
	if !ok {
		return c, switchboard.Errorf(switchboard.ENOTFOUND, "no campaign %s", name)
	}
	return c, nil
}
func (f *fakeCampaigns) SetCampaignState(_ context.Context, name string, st campaign.State, _ time.Time) error {
	c, ok := f.byName[name]
	switch {
	case !ok:
		return switchboard.Errorf(switchboard.ENOTFOUND, "no campaign %s", name)
	case c.State == campaign.StateStopped && st != campaign.StateStopped:
		return switchboard.Errorf(switchboard.ECONFLICT, "campaign %s is stopped", name)
	}
	c.State = st
	f.byName[name] = c
	return nil
}
func (f *fakeCampaigns) LeadCounts(context.Context, string) (map[campaign.LeadState]int, error) {
	return map[campaign.LeadState]int{"new": 3}, nil
}

func TestCampaignRoutes(t *testing.T) {
	store := &fakeCampaigns{byName: map[string]campaign.Campaign{"spring": {Name: "spring", State: campaign.StatePaused}}}
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddCampaignRoutes(store) })
	var v struct {
		Name  string
		State campaign.State
		Leads map[string]int
	}
	ts.send(t, "POST", "/api/v1/campaigns/spring/start", supervisorToken, "")
	ts.do(t, "GET", "/api/v1/campaigns/spring", supervisorToken).decode(t, &v)
	if v.State != campaign.StateRunning || v.Leads["new"] != 3 {
		t.Fatalf("after start: %+v", v)
	}
	for _, c := range []struct {
		verb   string
		status int
		state  campaign.State
	}{
		{"pause", http.StatusOK, campaign.StatePaused},
		{"resume", http.StatusOK, campaign.StateRunning},
		{"stop", http.StatusOK, campaign.StateStopped},
		{"resume", http.StatusConflict, campaign.StateStopped},
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
