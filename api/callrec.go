package api

import (
	"context"
	"net/http"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// CallRecorder starts and stops a live call's recording by hand (the
// on-demand policy).
type CallRecorder interface {
	StartRecording(ctx context.Context, call switchboard.CallID) error
	StopRecording(ctx context.Context, call switchboard.CallID) error
	// MonitorInfo returns the live call's queue and agent.
	MonitorInfo(ctx context.Context, call switchboard.CallID) (switchboard.QueueName, switchboard.AgentID, error)
	// RecordingPolicy returns the live call's recording policy.
	RecordingPolicy(ctx context.Context, call switchboard.CallID) (recording.Policy, error)
}

// AddCallRecordingRoutes adds POST /api/v1/calls/{id}/recording: start or
// stop recording a live call. Agents may do it on their own calls only
// (their token's name is their agent id), and stop only under a policy
// that lets them (see [recording.AgentMayStop]); supervisors on the calls
// of their token's queues.
func (s *Server) AddCallRecordingRoutes(rec CallRecorder) {
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/calls/{id}/recording", Summary: "Start or stop recording a live call",
		Description: "For queues whose policy allows it (on-demand, or any but never). Pause and resume go through /api/v1/recordings/{id}/pause and /resume. " +
			"An agent may act on their own call only, and stop its recording only when the policy lets agents (`agent_may_stop`; " +
			"by default only on-demand recordings): otherwise 403. A supervisor whose token names queues may act on those queues' calls only.",
		Roles: Roles, Params: []Param{{Name: "id", In: "path", Description: "Call id.", Required: true, Schema: String("")}},
		Body:   Object(map[string]*Schema{"action": enumOf("start or stop.", []string{"start", "stop"})}, "action"),
		Status: http.StatusNoContent,
		Errors: []string{switchboard.EINVALID, switchboard.ECONFLICT, switchboard.ENOTFOUND, switchboard.EFORBIDDEN},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			call := switchboard.CallID(r.PathValue("id"))
			var b struct {
				Action string `json:"action"`
			}
			if err := decodeBody(r, &b); err != nil {
				return err
			}
			if b.Action != "start" && b.Action != "stop" {
				return switchboard.Errorf(switchboard.EINVALID, `body: want {"action": "start"} or {"action": "stop"}`)
			}
			queue, agent, err := rec.MonitorInfo(r.Context(), call)
			if err != nil {
				return err
			}
			switch id, _ := IdentityFrom(r.Context()); {
			case id.Role != RoleAgent:
				if err := checkQueue(id, "call "+string(call), queue); err != nil {
					return err
				}
			case string(agent) != id.Name:
				return switchboard.Errorf(switchboard.EFORBIDDEN, "agents may record only their own calls")
			case b.Action == "stop":
				p, err := rec.RecordingPolicy(r.Context(), call)
				if err != nil {
					return err
				}
				if err := agentMayStop(p, "stop"); err != nil {
					return err
				}
			}
			if b.Action == "start" {
				err = rec.StartRecording(r.Context(), call)
			} else {
				err = rec.StopRecording(r.Context(), call)
			}
			if err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		},
	})
}

// agentMayStop refuses an agent's stop or pause of a recording made under
// a policy that does not let agents (see [recording.AgentMayStop]).
func agentMayStop(p recording.Policy, action string) error {
	if recording.AgentMayStop(p) {
		return nil
	}
	return switchboard.Errorf(switchboard.EFORBIDDEN,
		"the call's recording policy (mode %s) does not let agents %s its recording; ask a supervisor", p.Mode, action)
}
