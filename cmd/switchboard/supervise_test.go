package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/sim"
)

// TestServeMonitorWithRouter: with the default engine (router), a
// supervisor of the call's queue listens, whispers and stops through the
// API; a supervisor of another queue is refused.
func TestServeMonitorWithRouter(t *testing.T) {
	s := startSim(t, 20)
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
	s.AddEndpoint("PJSIP", "1099", sim.Party{Rings: 1}) // dana's desk phone
	cfgPath := simConfig(t, s, "right-password")
	body, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(body) + `    - name: dana
      role: supervisor
      sha256: ` + config.HashToken("dana-token") + `
    - name: sam
      role: supervisor
      sha256: ` + config.HashToken("sam-token") + `
      queues: [billing]
queues:
  - name: sales
  - name: billing
supervisors:
  - name: dana
    endpoint: PJSIP/1099
    token: dana
    queues: [sales]
  - name: sam
    endpoint: PJSIP/1098
    token: sam
    queues: [billing]
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "serve", "--config", cfgPath)
	base := "http://" + p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	waitHTTP(t, base+"/healthz", http.StatusOK)
	id, err := s.Call(sim.Inbound{App: "switchboard", From: "+15557770003", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	call := bridgedCall(t, base)
	if call.Queue != "sales" || call.Agent != "1001" {
		t.Fatalf("call = %+v, want sales answered by 1001", call)
	}
	monitor := base + "/api/v1/calls/" + string(call.ID) + "/monitor"
	if code, body := request(t, "POST", monitor, "sam-token", `{"mode":"listen"}`); code != http.StatusForbidden {
		t.Errorf("sam (billing) monitors a sales call: %d %s, want 403", code, body)
	}
	// sam's token is scoped to billing: the sales call is not his to see
	// or touch.
	if code, body := request(t, "GET", base+"/api/v1/whoami", "sam-token", ""); code != http.StatusOK || !strings.Contains(body, `"queues":["billing"]`) {
		t.Errorf("sam's whoami: %d %s, want his queue scope", code, body)
	}
	if code, body := request(t, "GET", base+"/api/v1/calls", "sam-token", ""); code != http.StatusOK || strings.Contains(body, string(call.ID)) {
		t.Errorf("sam lists calls: %d %s, want none of sales", code, body)
	}
	if code, body := request(t, "POST", base+"/api/v1/calls/"+string(call.ID)+"/recording", "sam-token", `{"action":"stop"}`); code != http.StatusForbidden {
		t.Errorf("sam stops the sales call's recording: %d %s, want 403", code, body)
	}
	if code, body := request(t, "GET", base+"/api/v1/cdr?queue=sales", "sam-token", ""); code != http.StatusForbidden {
		t.Errorf("sam reads the sales call log: %d %s, want 403", code, body)
	}
	if code, body := request(t, "POST", monitor, "dana-token", `{"mode":"listen"}`); code != http.StatusAccepted {
		t.Fatalf("dana monitors: %d %s, want 202", code, body)
	}
	snoop := func(whisper string) {
		t.Helper()
		err := waitFor(context.Background(), 20*time.Second, func() bool {
			n := 0
			for _, c := range s.Channels() {
				if c.Snooped == string(call.AgentChannel) && c.Whisper == whisper {
					n++
				}
			}
			return n == 1
		})
		if err != nil {
			t.Fatalf("no snoop whispering %q on the agent: %v", whisper, err)
		}
	}
	snoop("none")
	if code, body := request(t, "PUT", monitor, "dana-token", `{"mode":"whisper"}`); code != http.StatusNoContent {
		t.Fatalf("whisper: %d %s, want 204", code, body)
	}
	snoop("out")
	if code, body := request(t, "DELETE", monitor, "dana-token", ""); code != http.StatusNoContent {
		t.Fatalf("stop: %d %s, want 204", code, body)
	}
	err = waitFor(context.Background(), 20*time.Second, func() bool { return len(s.Channels()) == 2 })
	if err != nil {
		t.Fatalf("supervisor and snoop still up: %+v", s.Channels())
	}
	if err := s.Hangup(id, 16); err != nil {
		t.Fatal(err)
	}
	page := waitCDR(t, base, "+15557770003")
	if page.Total != 1 || page.Rows[0].HangupBy != "caller" || page.Rows[0].Outcome != sb.OutcomeCompleted {
		t.Fatalf("cdr = %+v, want completed, hung up by the caller", page)
	}
}
