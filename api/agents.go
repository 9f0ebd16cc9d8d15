package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// ACD is the agent side of routing: agent state and live statistics.
type ACD interface {
	RoutingSnapshot(ctx context.Context) (routing.Snapshot, error)
	AgentLogin(ctx context.Context, id switchboard.AgentID) error
	AgentLogout(ctx context.Context, id switchboard.AgentID) error
	AgentPause(ctx context.Context, id switchboard.AgentID, reason string) error
	AgentReady(ctx context.Context, id switchboard.AgentID) error
}

// AddAgentRoutes adds agents' states and actions and queues' live
// statistics. Agents may act on themselves only (their token's name is
// their agent id); admins on anyone; supervisors on the agents who answer
// one of their token's queues (anyone without a queue scope).
func (s *Server) AddAgentRoutes(acd ACD) {
	id := []Param{{Name: "id", In: "path", Description: "Agent id.", Required: true, Schema: String("")}}
	stats := &Schema{Type: "object", Description: "routing.Snapshot: time, agents (state, reason, time in state, calls, talk time, occupancy) and queues (waiting, longest wait, service level, ASA, answered, abandoned, AHT, estimated wait)."}
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/agents", Summary: "Agents and queues, live",
		Description: "Every agent's state and statistics and every queue's live statistics. " +
			"A supervisor whose token names queues sees those queues and the agents who answer them.",
		Roles: []Role{RoleAdmin, RoleSupervisor}, Response: stats, Errors: []string{switchboard.EUNAVAILABLE},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			snap, err := acd.RoutingSnapshot(r.Context())
			if err != nil {
				return err
			}
			who, _ := IdentityFrom(r.Context())
			writeJSON(w, http.StatusOK, s.scopeSnapshot(who, snap))
			return nil
		},
	})
	for _, action := range []string{"login", "logout", "pause", "ready"} {
		desc := map[string]string{
			"login": "Logs the agent in: available for calls.", "logout": "Logs the agent out.",
			"pause": `Pauses the agent with a reason code (body {"reason": "lunch"}); a call in progress finishes first.`,
			"ready": "Unpauses the agent, or ends a wrap-up early.",
		}[action]
		s.Handle(Route{
			Method: http.MethodPost, Path: "/api/v1/agents/{id}/" + action, Summary: "Agent " + action,
			Description: desc + " Agents act on themselves only; a supervisor whose token names queues on the agents who answer them.",
			Roles:       Roles, Params: id, Status: http.StatusNoContent,
			Body:   Object(map[string]*Schema{"reason": String("Pause reason code (pause only).")}),
			Errors: []string{switchboard.ECONFLICT, switchboard.EFORBIDDEN, switchboard.EUNAVAILABLE},
			Handler: func(w http.ResponseWriter, r *http.Request) error {
				agent := switchboard.AgentID(r.PathValue("id"))
				who, _ := IdentityFrom(r.Context())
				if err := s.checkAgent(who, agent); err != nil {
					return err
				}
				var b struct {
					Reason string `json:"reason"`
				}
				if err := decodeBody(r, &b); err != nil {
					return err
				}
				var err error
				switch action {
				case "login":
					err = acd.AgentLogin(r.Context(), agent)
				case "logout":
					err = acd.AgentLogout(r.Context(), agent)
				case "pause":
					err = acd.AgentPause(r.Context(), agent, b.Reason)
				case "ready":
					err = acd.AgentReady(r.Context(), agent)
				}
				if err != nil {
					return err
				}
				w.WriteHeader(http.StatusNoContent)
				return nil
			},
		})
	}
}

// AgentHistory lists the states an agent went through.
type AgentHistory interface {
	AgentStateHistory(ctx context.Context, agent switchboard.AgentID, from, to time.Time, limit int) (any, error)
}

// AddAgentHistoryRoute adds GET /api/v1/agents/{id}/history: the states an
// agent entered (from, to as RFC 3339; limit 1..1000). Agents see their own.
func (s *Server) AddAgentHistoryRoute(h AgentHistory) {
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/agents/{id}/history", Summary: "An agent's state history",
		Description: "Every state the agent entered (available, reserved, on-call, wrap-up, paused with its reason, ...), oldest first. " +
			"Agents see their own; a supervisor whose token names queues that of the agents who answer them.",
		Roles: Roles,
		Params: []Param{
			{Name: "id", In: "path", Description: "Agent id.", Required: true, Schema: String("")},
			{Name: "from", In: "query", Description: "At or after (RFC 3339).", Schema: dateTime("")},
			{Name: "to", In: "query", Description: "Before (RFC 3339).", Schema: dateTime("")},
			{Name: "limit", In: "query", Description: "At most this many.", Schema: &Schema{Type: "integer", Minimum: intp(1), Maximum: intp(MaxCDRLimit), Default: DefaultCDRLimit}},
		},
		Response: Object(map[string]*Schema{"states": Array(&Schema{Type: "object", Description: "id, agent, state, reason, call_id, at"})}, "states"),
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			agent := switchboard.AgentID(r.PathValue("id"))
			who, _ := IdentityFrom(r.Context())
			if err := s.checkAgent(who, agent); err != nil {
				return err
			}
			q := r.URL.Query()
			from, to, err := timeRange(q)
			if err != nil {
				return err
			}
			limit := DefaultCDRLimit
			if v := q.Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > MaxCDRLimit {
					return badParam("limit", "must be an integer in 1..%d", MaxCDRLimit)
				}
				limit = n
			}
			states, err := h.AgentStateHistory(r.Context(), agent, from, to, limit)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, map[string]any{"states": states})
			return nil
		},
	})
}

// scopeSnapshot keeps the queues and agents of a routing snapshot the
// caller supervises.
func (s *Server) scopeSnapshot(who Identity, snap routing.Snapshot) routing.Snapshot {
	out := routing.Snapshot{Time: snap.Time, Agents: []routing.AgentStats{}, Queues: []routing.QueueSnapshot{}}
	for _, a := range snap.Agents {
		if s.supervisesAgent(who, a.Agent) {
			out.Agents = append(out.Agents, a)
		}
	}
	for _, q := range snap.Queues {
		if who.SeesQueue(q.Queue) {
			out.Queues = append(out.Queues, q)
		}
	}
	return out
}
