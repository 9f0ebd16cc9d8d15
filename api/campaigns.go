package api

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard/switchboard"
)

// CampaignStore keeps outbound campaigns and their leads.
type CampaignStore interface {
	Campaigns(ctx context.Context) ([]switchboard.Campaign, error)
	Campaign(ctx context.Context, name string) (switchboard.Campaign, error)
	SetCampaignState(ctx context.Context, name string, state switchboard.CampaignState, now time.Time) error
	LeadCounts(ctx context.Context, name string) (map[switchboard.LeadState]int, error)
}

// campaignView is a campaign with its leads counted by state.
type campaignView struct {
	switchboard.Campaign
	Leads map[switchboard.LeadState]int `json:"leads"`
}

// AddCampaignRoutes adds the outbound campaign routes: list, show, and
// start/pause/resume/stop (the same as `switchboard leads campaign`). A
// supervisor whose token names queues sees and runs the campaigns that
// dial for those queues only.
func (s *Server) AddCampaignRoutes(store CampaignStore) {
	supervisors := []Role{RoleAdmin, RoleSupervisor}
	name := []Param{{Name: "name", In: "path", Description: "Campaign name.", Required: true, Schema: String("")}}
	view := &Schema{Type: "object", Description: "A campaign's settings (as `switchboard leads campaign show` prints them) and `leads`: lead counts by state."}
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/campaigns", Summary: "Outbound campaigns",
		Description: "Every campaign with its lead counts; a supervisor whose token names queues sees the campaigns of those queues only.",
		Roles:       supervisors, Response: Object(map[string]*Schema{"campaigns": Array(view)}, "campaigns"),
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			list, err := store.Campaigns(r.Context())
			if err != nil {
				return err
			}
			who, _ := IdentityFrom(r.Context())
			out := make([]campaignView, 0, len(list))
			for _, c := range list {
				if !who.SeesQueue(switchboard.QueueName(c.Queue)) {
					continue
				}
				counts, err := store.LeadCounts(r.Context(), c.Name)
				if err != nil {
					return err
				}
				out = append(out, campaignView{c, counts})
			}
			writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
			return nil
		},
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/campaigns/{name}", Summary: "One campaign and its lead counts",
		Description: "403 for a campaign whose queue is outside the token's queues.",
		Roles:       supervisors, Params: name, Response: view, Errors: []string{switchboard.ENOTFOUND},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			c, err := scopedCampaign(r, store)
			if err != nil {
				return err
			}
			counts, err := store.LeadCounts(r.Context(), c.Name)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, campaignView{c, counts})
			return nil
		},
	})
	for _, a := range []struct {
		verb  string
		state switchboard.CampaignState
	}{{"start", switchboard.CampaignRunning}, {"resume", switchboard.CampaignRunning}, {"pause", switchboard.CampaignPaused}, {"stop", switchboard.CampaignStopped}} {
		s.Handle(Route{
			Method: http.MethodPost, Path: "/api/v1/campaigns/{name}/" + a.verb, Summary: a.verb + " a campaign",
			Description: "Sets the campaign " + string(a.state) + ". A stopped campaign stays stopped (409). " +
				"403 for a campaign whose queue is outside the token's queues.",
			Roles: supervisors, Params: name, Response: view,
			Errors: []string{switchboard.ENOTFOUND, switchboard.ECONFLICT},
			Handler: func(w http.ResponseWriter, r *http.Request) error {
				n := r.PathValue("name")
				if _, err := scopedCampaign(r, store); err != nil {
					return err
				}
				if err := store.SetCampaignState(r.Context(), n, a.state, time.Now()); err != nil {
					return err
				}
				c, err := store.Campaign(r.Context(), n)
				if err != nil {
					return err
				}
				counts, err := store.LeadCounts(r.Context(), n)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, campaignView{c, counts})
				return nil
			},
		})
	}
}

// CampaignLookup finds a campaign by name (ENOTFOUND when there is none);
// the API checks a campaign's queue against the caller's scope with it.
type CampaignLookup interface {
	Campaign(ctx context.Context, name string) (switchboard.Campaign, error)
}

// scopedCampaign returns the {name} campaign if the caller, an admin or a
// supervisor, sees its queue.
func scopedCampaign(r *http.Request, store CampaignLookup) (switchboard.Campaign, error) {
	c, err := store.Campaign(r.Context(), r.PathValue("name"))
	if err != nil {
		return switchboard.Campaign{}, err
	}
	who, _ := IdentityFrom(r.Context())
	if err := checkQueue(who, "campaign "+c.Name, switchboard.QueueName(c.Queue)); err != nil {
		return switchboard.Campaign{}, err
	}
	return c, nil
}
