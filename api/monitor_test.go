package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

type fakeMonitoring struct {
	calls map[switchboard.CallID]switchboard.QueueName
	got   []string
}

func (f *fakeMonitoring) Monitor(_ context.Context, call switchboard.CallID, endpoint, mode string) error {
	f.got = append(f.got, "monitor "+string(call)+" "+endpoint+" "+mode)
	return nil
}
func (f *fakeMonitoring) SetMonitorMode(_ context.Context, call switchboard.CallID, mode string) error {
	f.got = append(f.got, "mode "+string(call)+" "+mode)
	return nil
}
func (f *fakeMonitoring) StopMonitor(_ context.Context, call switchboard.CallID) error {
	f.got = append(f.got, "stop "+string(call))
	return nil
}
func (f *fakeMonitoring) MonitorInfo(_ context.Context, call switchboard.CallID) (switchboard.QueueName, switchboard.AgentID, error) {
	q, ok := f.calls[call]
	if !ok {
		return "", "", switchboard.Errorf(switchboard.ENOTFOUND, "no live call %s", call)
	}
	return q, "1001", nil
}

type fakeSupervisors map[string][]string // token -> queues

func (f fakeSupervisors) Supervisor(token string) (string, func(string) bool, bool) {
	qs, ok := f[token]
	return "PJSIP/1010", func(q string) bool {
		for _, x := range qs {
			if x == q {
				return true
			}
		}
		return false
	}, ok
}

var (
	_ Monitoring  = (*fakeMonitoring)(nil)
	_ Supervisors = fakeSupervisors(nil)
)

func (ts *testServer) send(t *testing.T, method, path, token, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: []byte(b.String())}
}

func TestMonitorRoutes(t *testing.T) {
	m := &fakeMonitoring{calls: map[switchboard.CallID]switchboard.QueueName{"c1": "sales", "c2": "billing"}}
	// The wallboard token supervises sales only.
	ts := newTestServer(t, Options{}, func(s *Server) { s.AddMonitorRoutes(m, fakeSupervisors{"wallboard": {"sales"}}) })
	cases := []struct {
		method, path, token, body string
		status                    int
	}{
		{"POST", "/api/v1/calls/c1/monitor", supervisorToken, `{"mode":"listen"}`, http.StatusAccepted},
		{"POST", "/api/v1/calls/c2/monitor", supervisorToken, `{"mode":"listen"}`, http.StatusForbidden}, // not their queue
		{"POST", "/api/v1/calls/c1/monitor", supervisorToken, `{"mode":"listen","endpoint":"PJSIP/9"}`, http.StatusForbidden},
		{"POST", "/api/v1/calls/c1/monitor", agentToken, `{"mode":"listen"}`, http.StatusForbidden},
		{"POST", "/api/v1/calls/c1/monitor", supervisorToken, `{"mode":"shout"}`, http.StatusBadRequest},
		{"POST", "/api/v1/calls/c1/monitor", supervisorToken, `{"mode":"listen","x":1}`, http.StatusBadRequest},
		{"POST", "/api/v1/calls/nope/monitor", supervisorToken, `{"mode":"listen"}`, http.StatusNotFound},
		{"POST", "/api/v1/calls/c2/monitor", adminToken, `{"mode":"barge","endpoint":"PJSIP/1099"}`, http.StatusAccepted},
		{"POST", "/api/v1/calls/c2/monitor", adminToken, `{"mode":"barge"}`, http.StatusBadRequest}, // admin without a phone
		{"PUT", "/api/v1/calls/c1/monitor", supervisorToken, `{"mode":"whisper"}`, http.StatusNoContent},
		{"DELETE", "/api/v1/calls/c1/monitor", supervisorToken, ``, http.StatusNoContent},
		{"DELETE", "/api/v1/calls/c2/monitor", supervisorToken, ``, http.StatusForbidden},
	}
	for _, c := range cases {
		if r := ts.send(t, c.method, c.path, c.token, c.body); r.Status != c.status {
			t.Errorf("%s %s %s = %d %s, want %d", c.method, c.path, c.body, r.Status, r.Body, c.status)
		}
	}
	want := []string{"monitor c1 PJSIP/1010 listen", "monitor c2 PJSIP/1099 barge", "mode c1 whisper", "stop c1"}
	if strings.Join(m.got, "|") != strings.Join(want, "|") {
		t.Errorf("center got %q, want %q", m.got, want)
	}
}

type fakeRecorder struct {
	*fakeMonitoring
}

// RecordingPolicy is on-demand: the agent may stop (see TestRoleMatrix
// and TestAgentMayNotStopAlways for the other policies).
func (f fakeRecorder) RecordingPolicy(_ context.Context, call switchboard.CallID) (recording.Policy, error) {
	if _, ok := f.calls[call]; !ok {
		return recording.Policy{}, switchboard.Errorf(switchboard.ENOTFOUND, "no live call %s", call)
	}
	return recording.Policy{Mode: recording.ModeOnDemand}, nil
}

var _ CallRecorder = fakeRecorder{}

func (f fakeRecorder) StartRecording(_ context.Context, call switchboard.CallID) error {
	f.got = append(f.got, "start "+string(call))
	return nil
}
func (f fakeRecorder) StopRecording(_ context.Context, call switchboard.CallID) error {
	f.got = append(f.got, "stop-rec "+string(call))
	return nil
}

func TestCallRecordingRoute(t *testing.T) {
	m := &fakeMonitoring{calls: map[switchboard.CallID]switchboard.QueueName{"c1": "sales"}}
	rec := fakeRecorder{m}
	ts := newTestServer(t, Options{Tokens: []Token{
		{Name: "ops-admin", Role: RoleAdmin, SHA256: HashToken(adminToken)},
		{Name: "1001", Role: RoleAgent, SHA256: HashToken(agentToken)}, // the call's agent
		{Name: "1002", Role: RoleAgent, SHA256: HashToken("other-agent-token")},
	}}, func(s *Server) { s.AddCallRecordingRoutes(rec) })
	cases := []struct {
		token, body string
		status      int
	}{
		{agentToken, `{"action":"start"}`, http.StatusNoContent},
		{"other-agent-token", `{"action":"start"}`, http.StatusForbidden},
		{adminToken, `{"action":"stop"}`, http.StatusNoContent},
		{adminToken, `{"action":"explode"}`, http.StatusBadRequest},
	}
	for _, c := range cases {
		if r := ts.send(t, "POST", "/api/v1/calls/c1/recording", c.token, c.body); r.Status != c.status {
			t.Errorf("%s = %d %s, want %d", c.body, r.Status, r.Body, c.status)
		}
	}
	if got := strings.Join(m.got, "|"); got != "start c1|stop-rec c1" {
		t.Errorf("center got %q", got)
	}
}
