package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/outbound"
)

// OutboundService is the live outbound dialer: campaign statistics,
// preview dialing and dispositions (*outbound.Runner).
type OutboundService interface {
	Stats(ctx context.Context, campaign string) (outbound.CampaignStats, error)
	Preview(ctx context.Context, campaign string, agent switchboard.AgentID) (outbound.PreviewLead, error)
	PreviewDial(ctx context.Context, campaign string, attempt int64, agent switchboard.AgentID) error
	PreviewSkip(ctx context.Context, campaign string, attempt int64, agent switchboard.AgentID) error
	// Disposition records the disposition of a campaign's attempt; with by
	// set, only if agent by took the attempt (EFORBIDDEN otherwise, and
	// nothing changes).
	Disposition(ctx context.Context, campaign string, attempt int64, disp string, by switchboard.AgentID) error
}

var _ OutboundService = (*outbound.Runner)(nil)

// AddOutboundRoutes adds the live dialer's routes: a campaign's dialing
// statistics (supervisors), preview dialing (agents on themselves,
// supervisors for the agents of their queues; the agent must answer the
// campaign's queue) and the disposition of an attempt (by the agent who
// took it, or a supervisor of the campaign's queue). campaigns finds a
// campaign's queue, which a supervisor's token scope is checked against.
func (s *Server) AddOutboundRoutes(o OutboundService, campaigns CampaignLookup) {
	supervisors := []Role{RoleAdmin, RoleSupervisor}
	name := Param{Name: "name", In: "path", Description: "Campaign name.", Required: true, Schema: String("")}
	attempt := Param{Name: "attempt", In: "path", Description: "Attempt id.", Required: true, Schema: &Schema{Type: "integer", Minimum: intp(1)}}
	agentBody := Object(map[string]*Schema{"agent": String("The agent; an agent's token may leave it out or name only itself.")})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/campaigns/{name}/stats", Summary: "A campaign's live dialing statistics",
		Description: "Dial rate (last 5 min), lines in flight, calls waiting for an agent, answer rate (last hour), " +
			"abandon rates (rolling window and today) against the caps, agents and their occupancy (last 15 min), " +
			"leads left and the estimated time to work them (`eta`, seconds), and totals since the dialer started.",
		Roles: supervisors, Params: []Param{name},
		Response: &Schema{Type: "object", Description: "outbound.CampaignStats: campaign, state, mode, pacer, dial_rate_per_minute, lines_in_flight, " +
			"waiting_for_agent, answer_rate, abandon_rate_window, abandon_rate_today, abandon_cap, daily_abandon_cap, agents, " +
			"agent_occupancy, leads_left, eta, dialed, answered, abandoned, machines."},
		Errors: []string{switchboard.ENOTFOUND, switchboard.EUNAVAILABLE},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			if _, err := scopedCampaign(r, campaigns); err != nil {
				return err
			}
			st, err := o.Stats(r.Context(), r.PathValue("name"))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, st)
			return nil
		},
	})
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/campaigns/{name}/preview", Summary: "Claim a lead to preview",
		Description: "Claims the next due lead of a running preview campaign for the agent, who then dials or skips it " +
			"(an agent already holding one gets it again). 404 when no lead is due now; 409 when the campaign is not a running preview campaign. " +
			"The agent must answer the campaign's queue; a supervisor whose token names queues may act for the agents of those queues " +
			"on the campaigns of those queues only.",
		Roles: Roles, Params: []Param{name}, Body: agentBody,
		Response: Object(map[string]*Schema{
			"attempt":      Integer("Attempt id, for dial and skip."),
			"campaign":     String(""),
			"number":       String("E.164."),
			"region":       String(""),
			"time_zone":    String("The lead's IANA zone."),
			"attempts":     Integer("Earlier attempts."),
			"last_outcome": String("Outcome of the last attempt."),
			"data":         &Schema{Type: "object", Description: "The import's extra columns."},
			"expires":      dateTime("When the claim lapses and the lead goes back."),
		}, "attempt", "campaign", "number", "attempts", "expires"),
		Errors: []string{switchboard.ENOTFOUND, switchboard.ECONFLICT, switchboard.EFORBIDDEN, switchboard.EUNAVAILABLE},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			agent, err := s.previewAgent(r, campaigns)
			if err != nil {
				return err
			}
			l, err := o.Preview(r.Context(), r.PathValue("name"), agent)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, l)
			return nil
		},
	})
	for _, verb := range []string{"dial", "skip"} {
		desc := map[string]string{
			"dial": "Places the call of a lead the agent holds: the agent's phone rings first, then the customer's. " +
				"A lead that may not be dialed now (window closed, do-not-call, campaign paused) goes back: 409.",
			"skip": "Gives back a lead the agent holds: due again at once, the attempt not counted.",
		}[verb]
		s.Handle(Route{
			Method: http.MethodPost, Path: "/api/v1/campaigns/{name}/preview/{attempt}/" + verb, Summary: verb + " a previewed lead",
			Description: desc, Roles: Roles, Params: []Param{name, attempt}, Body: agentBody, Status: http.StatusNoContent,
			Errors: []string{switchboard.ENOTFOUND, switchboard.ECONFLICT, switchboard.EFORBIDDEN, switchboard.EUNAVAILABLE},
			Handler: func(w http.ResponseWriter, r *http.Request) error {
				id, err := attemptParam(r)
				if err != nil {
					return err
				}
				agent, err := s.previewAgent(r, campaigns)
				if err != nil {
					return err
				}
				if verb == "dial" {
					err = o.PreviewDial(r.Context(), r.PathValue("name"), id, agent)
				} else {
					err = o.PreviewSkip(r.Context(), r.PathValue("name"), id, agent)
				}
				if err != nil {
					return err
				}
				w.WriteHeader(http.StatusNoContent)
				return nil
			},
		})
	}
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/campaigns/{name}/attempts/{attempt}/disposition", Summary: "Disposition of a call",
		Description: "Records the agent's disposition of a placed attempt (a later one replaces it). " +
			"`dnc` puts the number on the do-not-call list and closes the lead. Only the agent who took the attempt, " +
			"a supervisor of the campaign's queue or an admin may (403 otherwise, and nothing changes).",
		Roles: Roles, Params: []Param{name, attempt}, Status: http.StatusNoContent,
		Body:   Object(map[string]*Schema{"disposition": &Schema{Type: "string", Description: "sale, callback, dnc, ...", MaxLength: intp(64)}}, "disposition"),
		Errors: []string{switchboard.ENOTFOUND, switchboard.ECONFLICT, switchboard.EFORBIDDEN},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			id, err := attemptParam(r)
			if err != nil {
				return err
			}
			var b struct {
				Disposition string `json:"disposition"`
			}
			if err := decodeBody(r, &b); err != nil {
				return err
			}
			if b.Disposition == "" {
				return switchboard.Errorf(switchboard.EINVALID, "body: disposition is required")
			}
			var by switchboard.AgentID
			if who, _ := IdentityFrom(r.Context()); who.Role == RoleAgent {
				by = switchboard.AgentID(who.Name)
			} else if _, err := scopedCampaign(r, campaigns); err != nil {
				return err
			}
			if err := o.Disposition(r.Context(), r.PathValue("name"), id, b.Disposition, by); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		},
	})
}

// previewAgent reads the agent of a preview request (see agentOf) and
// checks the caller may act for it on the {name} campaign: the agent must
// answer the campaign's queue, and a supervisor must see that queue and
// supervise the agent.
func (s *Server) previewAgent(r *http.Request, campaigns CampaignLookup) (switchboard.AgentID, error) {
	agent, err := agentOf(r)
	if err != nil {
		return "", err
	}
	c, err := campaigns.Campaign(r.Context(), r.PathValue("name"))
	if err != nil {
		return "", err
	}
	who, _ := IdentityFrom(r.Context())
	if who.Role != RoleAgent {
		if err := checkQueue(who, "campaign "+c.Name, switchboard.QueueName(c.Queue)); err != nil {
			return "", err
		}
		if err := s.checkAgent(who, agent); err != nil {
			return "", err
		}
	}
	if !s.answers(agent, switchboard.QueueName(c.Queue)) {
		return "", switchboard.Errorf(switchboard.EFORBIDDEN, "agent %q does not answer queue %q of campaign %s", agent, c.Queue, c.Name)
	}
	return agent, nil
}

// attemptParam reads the {attempt} path parameter.
func attemptParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("attempt"), 10, 64)
	if err != nil || id < 1 {
		return 0, badParam("attempt", "must be a positive integer")
	}
	return id, nil
}

// agentOf reads the agent of a preview request: an agent's token acts for
// itself only (the body may leave the agent out); supervisors and admins
// name the agent.
func agentOf(r *http.Request) (switchboard.AgentID, error) {
	var b struct {
		Agent string `json:"agent"`
	}
	if err := decodeBody(r, &b); err != nil {
		return "", err
	}
	who, _ := IdentityFrom(r.Context())
	if who.Role == RoleAgent {
		if b.Agent != "" && b.Agent != who.Name {
			return "", switchboard.Errorf(switchboard.EFORBIDDEN, "agents act on themselves only")
		}
		return switchboard.AgentID(who.Name), nil
	}
	if b.Agent == "" {
		return "", switchboard.Errorf(switchboard.EINVALID, "body: agent is required")
	}
	return switchboard.AgentID(b.Agent), nil
}
