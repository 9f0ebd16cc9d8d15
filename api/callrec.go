package api

import (
	"context"
	"net/http"

	"github.com/switchboard/switchboard"
)

// CallRecorder starts and stops a live call's recording by hand (the
// on-demand policy).
type CallRecorder interface {
	StartRecording(ctx context.Context, call switchboard.CallID) error
	StopRecording(ctx context.Context, call switchboard.CallID) error
	// MonitorInfo returns the live call's queue and agent.
	MonitorInfo(ctx context.Context, call switchboard.CallID) (switchboard.QueueName, switchboard.AgentID, error)
}

// AddCallRecordingRoutes adds POST /api/v1/calls/{id}/recording: start or
// stop recording a live call. Agents may do it on their own calls only
// (their token's name is their agent id).
func (s *Server) AddCallRecordingRoutes(rec CallRecorder) {
	s.Handle(Route{
		Method: http.MethodPost, Path: "/api/v1/calls/{id}/recording", Summary: "Start or stop recording a live call",
		Description: "For queues whose policy allows it (on-demand, or any but never). Pause and resume go through /api/v1/recordings/{id}/pause and /resume.",
		Roles:       Roles, Params: []Param{{Name: "id", In: "path", Description: "Call id.", Required: true, Schema: String("")}},
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
			if id, _ := IdentityFrom(r.Context()); id.Role == RoleAgent {
				_, agent, err := rec.MonitorInfo(r.Context(), call)
				if err != nil {
					return err
				}
				if string(agent) != id.Name {
					return switchboard.Errorf(switchboard.EFORBIDDEN, "agents may record only their own calls")
				}
			}
			var err error
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
