package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// request sends an API request with a bearer token (none when empty) and
// returns the status and body.
func request(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// bridgedCall waits until the API lists a live call bridged to an agent.
func bridgedCall(t *testing.T, base string) sb.Call {
	t.Helper()
	var call sb.Call
	err := waitFor(context.Background(), 20*time.Second, func() bool {
		var list struct{ Calls []sb.Call }
		getJSON(t, base+"/api/v1/calls", "test-token", &list)
		for _, k := range list.Calls {
			if k.State == sb.CallBridged {
				call = k
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no bridged call: %v", err)
	}
	return call
}

// channelGone waits until the simulator has no channel id.
func channelGone(t *testing.T, s *sim.Server, id string) {
	t.Helper()
	err := waitFor(context.Background(), 20*time.Second, func() bool {
		for _, c := range s.Channels() {
			if c.ID == id {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("channel %s still up: %v", id, err)
	}
}

// TestServeDrainNotReady: on the first SIGTERM /healthz answers 503
// draining (a load balancer sends no new calls), /livez stays 200, a new
// call is refused and the live call goes on; the program exits when it
// ends.
func TestServeDrainNotReady(t *testing.T) {
	s := startSim(t, 20)
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1}) // talks until hung up
	p := start(t, "serve", "--config", simConfig(t, s, "right-password"))
	base := "http://" + p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	waitHTTP(t, base+"/healthz", http.StatusOK)
	live, err := s.Call(sim.Inbound{App: "switchboard", From: "+15557770001", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	bridgedCall(t, base)
	p.cancel() // SIGTERM: drain
	waitHTTP(t, base+"/healthz", http.StatusServiceUnavailable)
	if code, body := request(t, "GET", base+"/healthz", "", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, `"reason":"draining"`) {
		t.Errorf("/healthz while draining = %d %s, want 503 draining", code, body)
	}
	if code, body := request(t, "GET", base+"/livez", "", ""); code != http.StatusOK {
		t.Errorf("/livez while draining = %d %s, want 200", code, body)
	}
	refused, err := s.Call(sim.Inbound{App: "switchboard", From: "+15557770002", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	channelGone(t, s, refused)
	select {
	case code := <-p.done:
		t.Fatalf("exited (%d) with a call up", code)
	default:
	}
	if err := s.Hangup(live, 16); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit = %d; stderr:\n%s", code, p.stderr)
	}
}

// TestServePasswordChangedOnThePBX: the ARI password is changed on the PBX
// while serve runs and the link drops. serve stays up with its live call
// (exit 3 is for a wrong password at start only): /healthz says why it is
// not ready, /metrics counts the refusals; once the PBX takes the
// password again the link and the call are back.
func TestServePasswordChangedOnThePBX(t *testing.T) {
	s := startSim(t, 20)
	s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1}) // talks until hung up
	p := start(t, "serve", "--config", simConfig(t, s, "right-password"))
	base := "http://" + p.waitOutput(t, `msg="switchboard started" http=(\S+)`)
	waitHTTP(t, base+"/healthz", http.StatusOK)
	live, err := s.Call(sim.Inbound{App: "switchboard", From: "+15557770003", To: "8000"})
	if err != nil {
		t.Fatal(err)
	}
	call := bridgedCall(t, base)
	s.SetPassword("changed-on-the-pbx")
	s.DropWebSockets()
	err = waitFor(context.Background(), 20*time.Second, func() bool {
		code, body := request(t, "GET", base+"/healthz", "", "")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "PBX refuses the ARI credentials")
	})
	if err != nil {
		t.Fatalf("/healthz never said the credentials are refused: %v", err)
	}
	p.waitOutput(t, `(ARI rejected the credentials on reconnecting)`)
	_, metrics := request(t, "GET", base+"/metrics", "", "")
	if !strings.Contains(metrics, "switchboard_pbx_credentials_refused 1") || strings.Contains(metrics, "switchboard_pbx_credentials_rejected_total 0") {
		t.Errorf("metrics do not show the refusal:\n%s", grepLines(metrics, "credentials"))
	}
	select {
	case code := <-p.done:
		t.Fatalf("serve exited (%d) when the PBX refused the password on reconnecting; stderr:\n%s", code, p.stderr)
	default:
	}
	s.SetPassword("right-password")
	waitHTTP(t, base+"/healthz", http.StatusOK)
	if got := bridgedCall(t, base); got.ID != call.ID {
		t.Errorf("after the link came back the bridged call is %s, want %s", got.ID, call.ID)
	}
	if err := s.Hangup(live, 16); err != nil {
		t.Fatal(err)
	}
	channelGone(t, s, live)
}
