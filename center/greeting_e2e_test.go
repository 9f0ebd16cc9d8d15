package center_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/sim"
)

// TestE2EUnplayableGreetingGoesOnToTheAgent: Asterisk starts a greeting it
// cannot play and never finishes it; the adapter reports the playback
// failed and the call goes on to the agent. (The configuration refuses
// such a greeting; a center built in code can still be given one.)
func TestE2EUnplayableGreetingGoesOnToTheAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 10, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 1})
		serve(t, s)
		log := slog.New(slog.NewTextHandler(testWriter(t), nil))
		pbx, err := ari.New(ari.Config{URL: s.URL(), Username: "sb", Password: "pw", Application: "switchboard", Logger: log,
			DialContext: simLink(s).dial, PlaybackCheckInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig()
		cfg.Greeting = []string{"bogus:thing"}
		cfg.Agents = []sb.Agent{{ID: "1001", Endpoint: "PJSIP/1001"}}
		r := &rows{got: map[sb.CallID]sb.CDR{}, ch: make(chan sb.CDR, 10)}
		c := center.New(center.Options{Config: cfg, PBX: pbx, CallLog: r, Clock: simClock{s.Clock()}, Log: log,
			Router: center.BasicRouter(t, cfg, basicWait, basicRetry)})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = pbx.Run(ctx) }()
		go func() { defer wg.Done(); _ = c.Run(ctx) }()
		t.Cleanup(func() { cancel(); wg.Wait() })
		waitUntil(t, "PBX link up", pbx.Ready)

		id, err := s.Call(sim.Inbound{App: "switchboard", From: "+15551230042", To: "8000", Party: sim.Party{Talk: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		row := r.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" {
			t.Fatalf("cdr = %+v, want completed by 1001", row)
		}
		if st := pbx.Stats(); st.PlaybacksLost != 1 {
			t.Errorf("adapter stats %+v, want the greeting lost", st)
		}
	})
}
