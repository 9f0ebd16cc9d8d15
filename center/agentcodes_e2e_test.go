package center_test

import (
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

// code dials an agent feature code from a desk phone and waits until the
// call is over (the confirmation played, Switchboard hung up).
func (a *acdE2E) code(t *testing.T, phone string, args ...string) {
	t.Helper()
	id, err := a.sim.Call(sim.Inbound{App: "switchboard", Args: append([]string{"agentcode"}, args...), From: phone, Trunk: "PJSIP/" + phone})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "feature code call over", func() bool {
		for _, c := range a.sim.Channels() {
			if c.ID == id {
				return false
			}
		}
		return true
	})
}

// TestAgentKeypadCodes: an agent logs in with number and PIN from another
// desk phone (hot-desking) and takes a call there; wraps up; pauses with a
// reason digit; is ready again; logs out. A wrong PIN is refused.
func TestAgentKeypadCodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := startACD(t, 20, salesQueue("longest-idle"), []acdPhone{{res: "1001", party: sim.Party{Rings: 1}, pin: "4321"}})
		a.sim.AddEndpoint("PJSIP", "1099", sim.Party{Rings: 1, Talk: 5 * time.Second}) // the desk the agent sits at today
		a.waitState(t, "1001", routing.StateAvailable)                                 // configured agents start logged in
		a.code(t, "1099", "logout")                                                    // no agent at 1099: refused
		if st := a.c.AgentStates()["1001"]; st.State != routing.StateAvailable {
			t.Fatalf("a code from another phone changed 1001: %+v", st)
		}
		a.code(t, "1001", "logout")
		a.waitState(t, "1001", routing.StateLoggedOut)
		a.code(t, "1099", "login", "1001*0000") // wrong PIN
		if st := a.c.AgentStates()["1001"]; st.State != routing.StateLoggedOut {
			t.Fatalf("wrong PIN logged in: %+v", st)
		}
		a.code(t, "1099", "login", "1001*4321")
		a.waitState(t, "1001", routing.StateAvailable)

		id := a.call(t, "+15557770001", sim.Party{})
		call := bridgedCall(t, a.e2e)
		found := false
		for _, c := range a.sim.Channels() {
			if c.ID == string(call.AgentChannel) && endpointPrefix(c.Name) == "PJSIP/1099" {
				found = true
			}
		}
		if !found {
			t.Fatalf("the call was not offered on the hot desk: %+v", a.sim.Channels())
		}
		if row := a.cdr.wait(t, id); row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" {
			t.Fatalf("cdr = %+v", row)
		}
		a.code(t, "1099", "pause", "2")
		st := a.waitState(t, "1001", routing.StatePaused)
		if st.Reason != "lunch" {
			t.Errorf("pause reason = %q, want lunch", st.Reason)
		}
		a.code(t, "1099", "ready")
		a.waitState(t, "1001", routing.StateAvailable)
		a.code(t, "1099", "logout")
		a.waitState(t, "1001", routing.StateLoggedOut)
		a.noChannelsLeft(t)
	})
}

func endpointPrefix(name string) string {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '-' {
			return name[:i]
		}
	}
	return name
}
