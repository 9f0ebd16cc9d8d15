package center_test

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/queuelog"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

// languageFlow asks the caller for a language and queues him asking for
// an agent who speaks it (configs/flows/README.md, queue skills:).
const languageFlow = `
flows:
  main:
    start: menu
    nodes:
      menu:
        menu:
          prompt: [sound:queue-periodic-announce]
          keys: {"1": english, "2": spanish}
          timeout: 5s
          retries: 1
          fail: english
      english: {set: {lang: '"en"'}, next: q}
      spanish: {set: {lang: '"es"'}, next: q}
      q:
        queue: {name: sales, skills: {language: "${lang}"}}
`

// TestACDFlowSkillsReachTheRouter: a caller who presses 2 for Spanish is
// offered only to the Spanish-speaking agent, although the English
// speaker has been idle longer; while she is on a call the next Spanish
// caller waits, and a later English caller is served by the free English
// speaker before him; the Spanish caller then gets the Spanish speaker.
func TestACDFlowSkillsReachTheRouter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		cfg := baseConfig()
		rcfg := routing.Config{Queues: []sb.Queue{salesQueue(routing.LongestIdle)}}
		for _, a := range []struct{ res, lang string }{{"1001", "en"}, {"1002", "es"}} {
			s.AddEndpoint("PJSIP", a.res, sim.Party{Rings: 1})
			cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(a.res), Endpoint: "PJSIP/" + a.res})
			rcfg.Agents = append(rcfg.Agents, routing.AgentConfig{ID: sb.AgentID(a.res), Endpoint: "PJSIP/" + a.res, Languages: []string{a.lang}})
		}
		r, err := routing.New(rcfg)
		if err != nil {
			t.Fatal(err)
		}
		serve(t, s)
		set, err := ivr.LoadBytes("flows.yaml", []byte(languageFlow), ivr.LoadOptions{Queues: []string{"sales"}})
		if err != nil {
			t.Fatal(err)
		}
		fl := &staticFlows{}
		fl.cur.Store(set)
		qpath := filepath.Join(t.TempDir(), "queue_log")
		w, err := queuelog.Open(qpath, queuelog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		keys := &keypad{sim: s, groups: map[string][]string{}}
		e := attachWith(t, s, cfg, func(o *center.Options, _ *ari.Adapter) {
			o.Router, o.QueueLog = r, w
			o.IVR = center.IVROptions{Flows: fl, Routes: []center.Route{{DNIS: "*", Flow: "main"}}, Observer: keys.observe}
		})
		a := &acdE2E{e2e: e, qlog: w, path: qpath}
		a.waitState(t, "1001", routing.StateAvailable)
		a.waitState(t, "1002", routing.StateAvailable)
		dial := func(from, key string, p sim.Party) string {
			t.Helper()
			keys.set(from, key)
			id, err := s.Call(sim.Inbound{App: "switchboard", From: from, To: "8000", Party: p})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}

		// 1001 has been idle longest: a caller asking nothing would get him.
		first := dial("+15550002001", "2", sim.Party{})
		a.waitLog(t, first, "1002", queuelog.EventConnect)

		second := dial("+15550002002", "2", sim.Party{Talk: 5 * time.Second})
		a.waitLog(t, second, "", queuelog.EventEnterQueue)
		english := dial("+15550002003", "1", sim.Party{Talk: 5 * time.Second})
		if row := a.cdr.wait(t, english); row.Agent != "1001" || row.Outcome != sb.OutcomeCompleted {
			t.Fatalf("the English caller, behind the waiting Spanish one: cdr %+v, want 1001", row)
		}
		for _, ev := range a.events(t) {
			if ev.CallID == second && ev.Agent != "" && ev.Agent != "NONE" {
				t.Fatalf("the second Spanish caller reached %s while the Spanish speaker was busy: %+v", ev.Agent, ev)
			}
		}
		if err := s.Hangup(first, 16); err != nil {
			t.Fatal(err)
		}
		if row := a.cdr.wait(t, first); row.Agent != "1002" {
			t.Fatalf("first Spanish caller: cdr %+v, want 1002", row)
		}
		if row := a.cdr.wait(t, second); row.Agent != "1002" || row.Outcome != sb.OutcomeCompleted {
			t.Fatalf("second Spanish caller: cdr %+v, want 1002", row)
		}
		a.noChannelsLeft(t)
	})
}
