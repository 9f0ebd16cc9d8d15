package ari

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// TestDialContextCarriesRESTAndEvents: with Config.DialContext the adapter
// opens every connection through it, the REST requests' and the events
// WebSocket's, to a URL no TCP dial could reach (the simulator on an
// in-memory pipe); in a synctest bubble a whole call then runs in virtual
// time: an originated channel that rings three times answers exactly
// three ring cadences after the originate.
func TestDialContextCarriesRESTAndEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "u", Password: "p", Speed: 1, Seed: 1})
		s.AddEndpoint("PJSIP", "1001", sim.Party{Rings: 3})
		p, err := s.StartPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var mu sync.Mutex
		var dials []string
		log, _ := testLogger(t)
		a, err := New(Config{URL: s.URL(), Username: "u", Password: "p", Application: "vt", Logger: log,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				mu.Lock()
				dials = append(dials, network+" "+addr)
				mu.Unlock()
				return p.DialContext(ctx, network, addr)
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		rec, recDone := record(a.Events())
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			<-recDone
		}()
		rec.wait(t, 0, "LinkUp", is[sb.LinkUp](""))
		if !slices.Contains(s.Apps(), "vt") {
			t.Fatalf("apps %v: the events websocket did not register vt", s.Apps())
		}
		start := time.Now()
		if _, err := a.Originate(context.Background(), sb.OriginateRequest{ID: "agent-1", Endpoint: "PJSIP/1001", Timeout: 30 * time.Second}); err != nil {
			t.Fatal(err)
		}
		rec.wait(t, 0, "the agent's leg entering", is[sb.ChannelEntered]("agent-1"))
		if got, want := time.Since(start), 3*sim.RingCadence; got != want {
			t.Errorf("the channel answered after %v of virtual time, want the %v of its three rings", got, want)
		}
		mu.Lock()
		defer mu.Unlock()
		// One connection for REST (kept alive), one for the websocket.
		if len(dials) < 2 {
			t.Errorf("dials %q, want the REST and the websocket connections through DialContext", dials)
		}
		for _, d := range dials {
			if d != "tcp "+sim.PipeAddr {
				t.Errorf("dial %q, want tcp %s", d, sim.PipeAddr)
			}
		}
	})
}
