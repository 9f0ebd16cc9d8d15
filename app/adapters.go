package app

import (
	"context"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/ivr/registry"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/storage"
)

// The adapters below give the API what it consumes from the center, the
// flow registry and the database, in the API's own types.

// monitoring adapts the center's supervision to the API's.
type monitoring struct{ c *center.Center }

var (
	_ api.Monitoring   = monitoring{}
	_ api.CallRecorder = monitoring{}
	_ api.Supervisors  = supervisorDir{}
	_ api.AgentHistory = agentHistory{}
)

func (m monitoring) Monitor(ctx context.Context, call sb.CallID, endpoint, mode string) error {
	return m.c.Monitor(ctx, call, endpoint, center.MonitorMode(mode))
}
func (m monitoring) SetMonitorMode(ctx context.Context, call sb.CallID, mode string) error {
	return m.c.SetMonitorMode(ctx, call, center.MonitorMode(mode))
}
func (m monitoring) StopMonitor(ctx context.Context, call sb.CallID) error {
	return m.c.StopMonitor(ctx, call)
}
func (m monitoring) StartRecording(ctx context.Context, call sb.CallID) error {
	return m.c.StartRecording(ctx, call)
}
func (m monitoring) StopRecording(ctx context.Context, call sb.CallID) error {
	return m.c.StopRecording(ctx, call)
}
func (m monitoring) MonitorInfo(ctx context.Context, call sb.CallID) (sb.QueueName, sb.AgentID, error) {
	return m.c.MonitorInfo(ctx, call)
}
func (m monitoring) RecordingPolicy(ctx context.Context, call sb.CallID) (recording.Policy, error) {
	return m.c.RecordingPolicy(ctx, call)
}

// supervisorDir finds supervisors by their API token's name.
type supervisorDir []config.Supervisor

func (d supervisorDir) Supervisor(token string) (string, func(string) bool, bool) {
	for _, sv := range d {
		if sv.Token != "" && sv.Token == token {
			return sv.Endpoint, sv.MayMonitor, true
		}
	}
	return "", nil, false
}

// ivrRegistry serves the flow registry's status in the API's type.
type ivrRegistry struct{ r *registry.Registry }

var _ api.IVRRegistry = ivrRegistry{}

func (i ivrRegistry) Status() api.IVRStatus {
	return api.IVRStatus(i.r.Status()) // same fields: a change to one fails to compile here
}

func (i ivrRegistry) Reload(reason string) (api.IVRStatus, error) {
	st, err := i.r.Reload(reason)
	return api.IVRStatus(st), err
}

// agentHistory serves agent state history from the database.
type agentHistory struct{ db *storage.DB }

func (h agentHistory) AgentStateHistory(ctx context.Context, agent sb.AgentID, from, to time.Time, limit int) (any, error) {
	return h.db.AgentStates(ctx, agent, from, to, limit)
}

// queueHistory serves stored queue intervals to the API.
type queueHistory struct{ db *storage.DB }

var _ api.QueueHistoryStore = queueHistory{}

func (h queueHistory) QueueHistory(ctx context.Context, queue sb.QueueName, from, to time.Time) ([]api.QueueInterval, error) {
	rows, err := h.db.QueueHistory(ctx, string(queue), from, to)
	if err != nil {
		return nil, err
	}
	out := make([]api.QueueInterval, len(rows))
	for i, r := range rows {
		out[i] = api.QueueInterval(r) // same fields: a change to one fails to compile here
	}
	return out, nil
}
