package sim

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// unattendedVars are the variables Switchboard originates a campaign call
// with: its attempt, the hangup handler and the abandon message.
func unattendedVars(attempt string) map[string]any {
	return map[string]any{"variables": map[string]string{
		"SB_ATTEMPT": attempt, HangupHandlerVar: OutboundContext + ",unattended,1", "SB_ABANDON": "vm-goodbye",
	}}
}

// global reads a global variable over ARI.
func global(t *testing.T, s *Server, name string) string {
	t.Helper()
	code, body := call(t, s, "GET", "/asterisk/variable", url.Values{"variable": {name}}, nil)
	eq(t, "GET /asterisk/variable", code, 200)
	var v struct{ Value string }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Value
}

// callRecord returns the simulator's record of channel id.
func callRecord(t *testing.T, s *Server, id string) CallRecord {
	t.Helper()
	for _, r := range s.CallLog() {
		if r.Channel == id {
			return r
		}
	}
	t.Fatalf("no call record of %s", id)
	return CallRecord{}
}

// TestUnattendedCampaignCall: a campaign call answered while no
// application is registered is hung up (originated into the application)
// or hears the abandon message (back from AMD); either way its hangup
// handler leaves GLOBAL(SB_UNATTENDED_<attempt>) = <epoch>,<AMD status>,
// which an empty value clears. A call without the handler, or one whose
// Stasis() did not fail, leaves nothing.
func TestUnattendedCampaignCall(t *testing.T) {
	s := startSim(t, Options{Speed: 100, KeepCallLog: true})
	start := s.Clock().Now().Unix()
	originate := func(q url.Values, attempt string) string {
		t.Helper()
		var body any
		if attempt != "" {
			body = unattendedVars(attempt)
		}
		code, b := call(t, s, "POST", "/channels", q, body)
		eq(t, "originate", code, 200)
		id := mustJSON(t, b)["id"].(string)
		waitUntil(t, func() bool {
			for _, ch := range s.Channels() {
				if ch.ID == id {
					return false
				}
			}
			return true
		})
		return id
	}
	checkRecord := func(name, want string) {
		t.Helper()
		v := global(t, s, name)
		epoch, status, ok := strings.Cut(v, ",")
		n, err := strconv.ParseInt(epoch, 10, 64)
		if !ok || err != nil || n < start || status != want {
			t.Errorf("%s = %q, want <epoch since %d>,%s", name, v, start, want)
		}
	}

	t.Run("answered into an application not registered", func(t *testing.T) {
		id := originate(url.Values{"endpoint": {"SIM/answer"}, "app": {"switchboard"}, "appArgs": {"obdial,11"}}, "11")
		checkRecord("SB_UNATTENDED_11", "")
		r := callRecord(t, s, id)
		if !r.NoApp || !r.Unattended || r.Message != "" {
			t.Errorf("record %+v: want NoApp, Unattended, no message (Asterisk hangs it up at once)", r)
		}
		code, _ := call(t, s, "POST", "/asterisk/variable", url.Values{"variable": {"SB_UNATTENDED_11"}}, nil)
		eq(t, "clear", code, 204)
		eq(t, "cleared", global(t, s, "SB_UNATTENDED_11"), "")
	})
	t.Run("a person back from AMD hears the abandon message", func(t *testing.T) {
		id := originate(url.Values{"endpoint": {"SIM/answer"}, "context": {OutboundContext}, "extension": {"amd"}}, "12")
		checkRecord("SB_UNATTENDED_12", "HUMAN")
		if r := callRecord(t, s, id); !r.NoApp || r.Message != "vm-goodbye" {
			t.Errorf("record %+v: want NoApp and the message vm-goodbye", r)
		}
	})
	t.Run("a machine back from AMD hears nothing", func(t *testing.T) {
		id := originate(url.Values{"endpoint": {"SIM/machine"}, "context": {OutboundContext}, "extension": {"amd"}}, "13")
		checkRecord("SB_UNATTENDED_13", "MACHINE")
		if r := callRecord(t, s, id); r.Message != "" {
			t.Errorf("a machine heard %q", r.Message)
		}
	})
	t.Run("no handler, no record", func(t *testing.T) {
		originate(url.Values{"endpoint": {"SIM/answer"}, "app": {"switchboard"}}, "")
		for name := range s.globalsSnapshot() {
			if strings.HasPrefix(name, UnattendedPrefix) && name != "SB_UNATTENDED_12" && name != "SB_UNATTENDED_13" {
				t.Errorf("global %s set by a call without the handler", name)
			}
		}
	})
	t.Run("taken by the application, no record", func(t *testing.T) {
		_, rec := connect(t, s, "switchboard")
		pos := 0
		var body = unattendedVars("14")
		code, b := call(t, s, "POST", "/channels", url.Values{"endpoint": {"SIM/answer"}, "app": {"switchboard"}}, body)
		eq(t, "originate", code, 200)
		id := mustJSON(t, b)["id"].(string)
		rec.wait(t, &pos, "StasisStart", chanIs(id))
		code, _ = call(t, s, "DELETE", "/channels/"+id, nil, nil)
		eq(t, "hangup", code, 204)
		rec.wait(t, &pos, "ChannelDestroyed", chanIs(id))
		eq(t, "record", global(t, s, "SB_UNATTENDED_14"), "")
	})
}

func (s *Server) globalsSnapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.globals))
	for k, v := range s.globals {
		out[k] = v
	}
	return out
}
