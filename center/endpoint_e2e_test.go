package center_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/sim"
)

// TestLinkUpLocalAgents: agents reached through Local channels (a
// dialplan extension) are not subscribed to at link-up (Asterisk answers
// 422: Local endpoints have no state), nothing is logged as a warning,
// and they take calls as always online; PJSIP phones are still
// subscribed.
func TestLinkUpLocalAgents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: 20, Seed: 1})
		s.AddEndpoint("Local", "1001@agents", sim.Party{Rings: 1, Talk: 5 * time.Second})
		s.AddEndpoint("PJSIP", "1002", sim.Party{NoAnswer: true})
		serve(t, s)
		u, f := front(t, s)
		cfg := baseConfig()
		cfg.Agents = []sb.Agent{
			{ID: "1001", Endpoint: "Local/1001@agents"},
			{ID: "1003", Endpoint: "Local/1003@agents/n"},
			{ID: "1002", Endpoint: "PJSIP/1002"},
		}
		var logs syncLog
		e := attachVia(t, s, u, &logs, cfg, nil)
		// The link-up lists the bridges last, after every subscription.
		waitUntil(t, "link-up reconcile", func() bool { return len(f.requests(http.MethodGet, "/bridges")) > 0 })
		var subs []string
		for _, r := range f.requests(http.MethodPost, "/applications/switchboard/subscription") {
			subs = append(subs, r.params(t)["eventSource"]...)
		}
		if want := []string{"endpoint:PJSIP/1002"}; !slices.Equal(subs, want) {
			t.Errorf("subscribed to %q, want only %q", subs, want)
		}
		// A Local agent is online: the call goes to 1001 (1002 would ring
		// out: longest idle ties go in configuration order).
		id := e.call(t, "+15554440003", sim.Party{})
		if row := e.cdr.wait(t, id); row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" {
			t.Errorf("cdr = %+v, want completed by 1001", row)
		}
		e.noChannelsLeft(t)
		if w := logs.lines("level=WARN"); len(w) > 0 {
			t.Errorf("warnings logged:\n%s", strings.Join(w, "\n"))
		}
	})
}

// syncLog collects log output written from several goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the lines containing s.
func (l *syncLog) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}
