package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/switchboard/switchboard"
)

// Monitoring lets a supervisor take part in a live call.
type Monitoring interface {
	// Monitor rings the supervisor's phone and, when it answers, joins the
	// call as mode says (listen, whisper, barge).
	Monitor(ctx context.Context, call switchboard.CallID, endpoint, mode string) error
	// SetMonitorMode switches the supervisor on the call.
	SetMonitorMode(ctx context.Context, call switchboard.CallID, mode string) error
	// StopMonitor hangs the supervisor up.
	StopMonitor(ctx context.Context, call switchboard.CallID) error
	// MonitorInfo returns the live call's queue (ENOTFOUND when none).
	MonitorInfo(ctx context.Context, call switchboard.CallID) (switchboard.QueueName, switchboard.AgentID, error)
}

// Supervisors says which phone a supervisor's token rings and which queues
// it may monitor.
type Supervisors interface {
	// Supervisor returns the supervisor whose API token is named token.
	Supervisor(token string) (endpoint string, mayMonitor func(queue string) bool, ok bool)
}

// monitorModes are the modes a request may ask for.
var monitorModes = []string{"listen", "whisper", "barge"}

// AddMonitorRoutes adds live supervision of calls: listen, whisper, barge.
func (s *Server) AddMonitorRoutes(m Monitoring, sups Supervisors) {
	h := &monitorHandlers{m: m, sups: sups}
	mode := enumOf("listen: hear both; whisper: talk to the agent only; barge: talk to both.", monitorModes)
	callID := []Param{{Name: "id", In: "path", Description: "Call id.", Required: true, Schema: String("")}}
	roles := []Role{RoleAdmin, RoleSupervisor}
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/calls/{id}/monitor", Summary: "Monitor a live call",
		Description: "Rings the supervisor's phone (a supervisor's own configured phone; an admin may name any endpoint) " +
			"and, when answered, joins the call in the mode given. Supervisors may monitor only calls of their queues: " +
			"those of their token's queue scope that their `supervisors` entry also lists.",
		Roles: roles, Params: callID, Status: http.StatusAccepted,
		Body: Object(map[string]*Schema{
			"mode":     mode,
			"endpoint": String("Phone to ring (admins only; a supervisor's configured phone otherwise)."),
		}, "mode"),
		Errors:  []string{switchboard.EINVALID, switchboard.ECONFLICT, switchboard.ENOTFOUND, switchboard.EFORBIDDEN},
		Handler: h.start,
	})
	s.Handle(Route{
		Method: http.MethodPut, Path: "/api/v1/calls/{id}/monitor", Summary: "Switch the monitor mode",
		Description: "Switches the supervisor on the call between listen, whisper and barge.",
		Roles:       roles, Params: callID, Status: http.StatusNoContent,
		Body:    Object(map[string]*Schema{"mode": mode}, "mode"),
		Errors:  []string{switchboard.EINVALID, switchboard.ENOTFOUND, switchboard.EFORBIDDEN},
		Handler: h.switchMode,
	})
	s.Handle(Route{
		Method: http.MethodDelete, Path: "/api/v1/calls/{id}/monitor", Summary: "Stop monitoring",
		Description: "Hangs up the supervisor on the call.",
		Roles:       roles, Params: callID, Status: http.StatusNoContent,
		Errors:  []string{switchboard.ENOTFOUND, switchboard.EFORBIDDEN},
		Handler: h.stop,
	})
}

type monitorHandlers struct {
	m    Monitoring
	sups Supervisors
}

type monitorBody struct {
	Mode     string `json:"mode"`
	Endpoint string `json:"endpoint"`
}

func readMonitorBody(r *http.Request) (monitorBody, error) {
	var b monitorBody
	if err := decodeBody(r, &b); err != nil {
		return b, err
	}
	if !slices.Contains(monitorModes, b.Mode) {
		return b, switchboard.Errorf(switchboard.EINVALID, "mode: want listen, whisper or barge, got %q", b.Mode)
	}
	return b, nil
}

// allowed checks the caller may monitor the call and returns the phone a
// supervisor's token rings. A supervisor needs the call's queue in both
// the token's queue scope and the supervisors entry's queues.
func (h *monitorHandlers) allowed(r *http.Request, call switchboard.CallID) (endpoint string, err error) {
	id, _ := IdentityFrom(r.Context())
	queue, _, err := h.m.MonitorInfo(r.Context(), call)
	if err != nil {
		return "", err
	}
	if id.Role == RoleAdmin {
		if h.sups != nil {
			if ep, _, ok := h.sups.Supervisor(id.Name); ok {
				endpoint = ep
			}
		}
		return endpoint, nil
	}
	if err := checkQueue(id, "call "+string(call), queue); err != nil {
		return "", err
	}
	var may func(string) bool
	ok := false
	if h.sups != nil {
		endpoint, may, ok = h.sups.Supervisor(id.Name)
	}
	if !ok {
		return "", switchboard.Errorf(switchboard.EFORBIDDEN, "token %s is not a configured supervisor", id.Name)
	}
	if !may(string(queue)) {
		return "", switchboard.Errorf(switchboard.EFORBIDDEN, "%s does not supervise queue %q", id.Name, queue)
	}
	return endpoint, nil
}

func (h *monitorHandlers) start(w http.ResponseWriter, r *http.Request) error {
	call := switchboard.CallID(r.PathValue("id"))
	b, err := readMonitorBody(r)
	if err != nil {
		return err
	}
	endpoint, err := h.allowed(r, call)
	if err != nil {
		return err
	}
	if id, _ := IdentityFrom(r.Context()); b.Endpoint != "" {
		if id.Role != RoleAdmin {
			return switchboard.Errorf(switchboard.EFORBIDDEN, "only admins may choose the phone to ring")
		}
		endpoint = b.Endpoint
	}
	if endpoint == "" {
		return switchboard.Errorf(switchboard.EINVALID, "endpoint: no phone to ring (give one, or configure the token's supervisor)")
	}
	if err := h.m.Monitor(r.Context(), call, endpoint, b.Mode); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"call": string(call), "endpoint": endpoint, "mode": b.Mode})
	return nil
}

func (h *monitorHandlers) switchMode(w http.ResponseWriter, r *http.Request) error {
	call := switchboard.CallID(r.PathValue("id"))
	b, err := readMonitorBody(r)
	if err != nil {
		return err
	}
	if _, err := h.allowed(r, call); err != nil {
		return err
	}
	if err := h.m.SetMonitorMode(r.Context(), call, b.Mode); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *monitorHandlers) stop(w http.ResponseWriter, r *http.Request) error {
	call := switchboard.CallID(r.PathValue("id"))
	if _, err := h.allowed(r, call); err != nil {
		return err
	}
	if err := h.m.StopMonitor(r.Context(), call); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
