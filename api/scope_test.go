package api

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
)

// TestDispositionByAnotherAgent: an agent who did not take an attempt may
// not set its disposition: dnc on another agent's call is refused and puts
// nothing on the do-not-call list; nor may a supervisor of another queue.
// The agent who took it, and a supervisor of the campaign's queue, may.
// The real dialer and database decide.
func TestDispositionByAnotherAgent(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC) // 11:00 in New York, inside the window
	c := campaign.Default("spring")
	c.CallerID, c.State, c.Queue, c.Trunk = "+15555550100", switchboard.CampaignRunning, "sales", "PJSIP/${number}@trunk"
	if err := db.CreateCampaign(ctx, c, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	numbers := []string{"+12125550001", "+12125550002"}
	var leads []switchboard.Lead
	for _, n := range numbers {
		leads = append(leads, switchboard.Lead{Campaign: "spring", Number: n, Region: "US", TimeZone: "America/New_York"})
	}
	if _, err := db.UpsertLeads(ctx, leads, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	claims, err := db.ClaimLeads(ctx, "spring", 2, now)
	if err != nil || len(claims) != 2 {
		t.Fatalf("claims = %v, %v", claims, err)
	}
	for _, cl := range claims {
		if err := db.MarkDialing(ctx, cl.Attempt.ID, string(outbound.ChannelFor(cl.Attempt.ID))); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkConnected(ctx, cl.Attempt.ID, "1001", now); err != nil {
			t.Fatal(err)
		}
	}
	runner := outbound.New(outbound.Options{Store: db, Now: func() time.Time { return now }})
	var tokens []Token
	for _, rt := range roleTokens[:asNone] {
		tk := rt.tok
		tk.SHA256 = HashToken(rt.plain)
		tokens = append(tokens, tk)
	}
	ts := newTestServer(t, Options{Tokens: tokens, Queues: roleQueues}, func(s *Server) { s.AddOutboundRoutes(runner, db) })
	e := &roleEnv{testServer: ts}
	path := func(cl storage.Claim) string {
		return "/api/v1/campaigns/spring/attempts/" + strconv.FormatInt(cl.Attempt.ID, 10) + "/disposition"
	}
	unchanged := func(who string, cl storage.Claim) {
		t.Helper()
		if _, listed, err := db.DNC(ctx, cl.Lead.Number); listed || err != nil {
			t.Errorf("after %s's dnc: %s is on the do-not-call list (%v), want not", who, cl.Lead.Number, err)
		}
		a, err := db.Attempt(ctx, cl.Attempt.ID)
		if err != nil || a.Disposition != "" {
			t.Errorf("after %s's dnc: attempt %+v, %v, want no disposition", who, a, err)
		}
		if l, err := db.Lead(ctx, "spring", cl.Lead.Number); err != nil || l.State == switchboard.LeadDNC {
			t.Errorf("after %s's dnc: lead %+v, %v, want not dnc", who, l, err)
		}
	}
	dnc := `{"disposition":"dnc"}`
	r := e.as(t, asOther, "POST", path(claims[0]), dnc)
	if r.Status != http.StatusForbidden || !strings.Contains(r.errBody(t).Message, "another agent") {
		t.Errorf("another agent's dnc = %d %s, want 403", r.Status, r.Body)
	}
	unchanged("another agent", claims[0])
	if r := e.as(t, asSupOut, "POST", path(claims[0]), dnc); r.Status != http.StatusForbidden {
		t.Errorf("dnc by a supervisor of another queue = %d %s, want 403", r.Status, r.Body)
	}
	unchanged("a supervisor of another queue", claims[0])

	if r := e.as(t, asAgent, "POST", path(claims[0]), dnc); r.Status != http.StatusNoContent {
		t.Fatalf("dnc by the agent who took the call = %d %s, want 204", r.Status, r.Body)
	}
	if entry, listed, err := db.DNC(ctx, claims[0].Lead.Number); !listed || err != nil || entry.Source != "agent" {
		t.Errorf("DNC entry = %+v %v %v, want one from the agent", entry, listed, err)
	}
	if r := e.as(t, asSupIn, "POST", path(claims[1]), `{"disposition":"sale"}`); r.Status != http.StatusNoContent {
		t.Errorf("disposition by the campaign's supervisor = %d %s, want 204", r.Status, r.Body)
	}
	if a, _ := db.Attempt(ctx, claims[1].Attempt.ID); a.Disposition != "sale" {
		t.Errorf("attempt = %+v, want disposition sale", a)
	}
}

// TestRecordingOutOfScope: a supervisor of sales may neither download nor
// read the metadata of the outbound campaign's recording, and nothing of
// it is served or audited as a download; the listing holds only sales
// recordings.
func TestRecordingOutOfScope(t *testing.T) {
	e := newRoleEnv(t, recording.Policy{Mode: recording.ModeAlways})
	for _, p := range []string{e.rec("outbound", "/file"), e.rec("outbound", ""), e.rec("support", "/file")} {
		r := e.as(t, asSupIn, "GET", p, "")
		if r.Status != http.StatusForbidden || !strings.Contains(r.errBody(t).Message, "outside token sales-lead's queues") {
			t.Errorf("GET %s as the sales supervisor = %d %s, want 403", p, r.Status, r.Body)
		}
		if r.Header.Get("Content-Type") == "audio/wav" {
			t.Errorf("GET %s served audio", p)
		}
	}
	audit, err := e.db.ListAudit(context.Background(), recording.AuditFilter{Who: "sales-lead"})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 0 {
		t.Errorf("audit = %+v, want nothing: nothing was accessed", audit)
	}
	if r := e.as(t, asAdmin, "GET", e.rec("outbound", "/file"), ""); r.Status != http.StatusOK || r.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("admin download = %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	var page recordingPage
	e.as(t, asSupIn, "GET", "/api/v1/recordings", "").decode(t, &page)
	if got := recordingNames(page.Rows); !slices.Equal(got, []string{"stored", "live"}) || page.Total != 2 {
		t.Errorf("sales supervisor lists %v (total %d), want [stored live] (2)", got, page.Total)
	}
	if r := e.as(t, asSupIn, "GET", "/api/v1/recordings?queue=outbound", ""); r.Status != http.StatusForbidden {
		t.Errorf("queue filter outside the scope = %d, want 403", r.Status)
	}
}

func recordingNames(rs []recording.Recording) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// TestAgentMayNotStopAlways: under an always (or sampled) policy the
// agent may not stop or pause the recording of its own call, by default;
// resuming is allowed, a supervisor of the queue may stop, and a policy
// with agent_may_stop lets the agent.
func TestAgentMayNotStopAlways(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name   string
		policy recording.Policy
		want   int
	}{
		{"always", recording.Policy{Mode: recording.ModeAlways}, http.StatusForbidden},
		{"sampled", recording.Policy{Mode: recording.ModeSampled, Percent: 50}, http.StatusForbidden},
		{"always with agent_may_stop", recording.Policy{Mode: recording.ModeAlways, AgentMayStop: &yes}, http.StatusNoContent},
		{"on-demand", recording.Policy{Mode: recording.ModeOnDemand}, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRoleEnv(t, tc.policy)
			stop := e.as(t, asAgent, "POST", "/api/v1/calls/c1/recording", `{"action":"stop"}`)
			pause := e.as(t, asAgent, "POST", e.rec("live", "/pause"), "")
			for what, r := range map[string]reply{"stop": stop, "pause": pause} {
				if r.Status != tc.want {
					t.Errorf("agent %s = %d %s, want %d", what, r.Status, r.Body, tc.want)
				}
				if r.Status == http.StatusForbidden && !strings.Contains(r.errBody(t).Message, "does not let agents "+what) {
					t.Errorf("agent %s refused with %q: say why", what, r.errBody(t).Message)
				}
			}
			if tc.want == http.StatusForbidden {
				if got := e.mon.actions(); len(got) != 0 {
					t.Errorf("center asked %v after a refused stop", got)
				}
				e.live.mu.Lock()
				paused := slices.ContainsFunc(e.live.calls, func(s string) bool { return strings.HasPrefix(s, "pause") })
				e.live.mu.Unlock()
				if paused {
					t.Error("the recording was paused after a refused pause")
				}
			}
			if r := e.as(t, asAgent, "POST", e.rec("live", "/resume"), ""); r.Status != http.StatusNoContent {
				t.Errorf("agent resume = %d %s, want 204", r.Status, r.Body)
			}
			if r := e.as(t, asSupIn, "POST", "/api/v1/calls/c1/recording", `{"action":"stop"}`); r.Status != http.StatusNoContent {
				t.Errorf("supervisor stop = %d %s, want 204", r.Status, r.Body)
			}
		})
	}
}

// TestSupervisorOfAnotherQueue: the sales supervisor may not pause, log
// out or read the history of an agent of support, nor stop the recording
// of a support call; it may its own queue's agent.
func TestSupervisorOfAnotherQueue(t *testing.T) {
	e := newRoleEnv(t, recording.Policy{Mode: recording.ModeAlways})
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/agents/2002/pause", `{"reason":"lunch"}`},
		{"POST", "/api/v1/agents/2002/logout", ""},
		{"POST", "/api/v1/agents/2002/login", ""},
		{"POST", "/api/v1/agents/3003/ready", ""},
		{"GET", "/api/v1/agents/2002/history", ""},
		{"POST", "/api/v1/calls/c2/recording", `{"action":"stop"}`},
		{"POST", "/api/v1/calls/c2/monitor", `{"mode":"barge"}`},
	} {
		if r := e.as(t, asSupIn, c.method, c.path, c.body); r.Status != http.StatusForbidden {
			t.Errorf("%s %s as the sales supervisor = %d %s, want 403", c.method, c.path, r.Status, r.Body)
		}
	}
	if got := e.acd.actions(); len(got) != 0 {
		t.Errorf("router asked %v, want nothing", got)
	}
	if got := e.mon.actions(); len(got) != 0 {
		t.Errorf("center asked %v, want nothing", got)
	}
	if r := e.as(t, asSupIn, "POST", "/api/v1/agents/1001/pause", `{"reason":"coaching"}`); r.Status != http.StatusNoContent {
		t.Errorf("pause of the queue's own agent = %d %s", r.Status, r.Body)
	}
	if got := e.acd.actions(); !slices.Equal(got, []string{"pause 1001"}) {
		t.Errorf("router asked %v, want [pause 1001]", got)
	}
}

// TestScopeFiltersLists: each supervisor lists its own queues' data only;
// what is in no queue (a call in the IVR, its log row) only those who see
// every queue.
func TestScopeFiltersLists(t *testing.T) {
	e := newRoleEnv(t, recording.Policy{Mode: recording.ModeAlways})
	type lists struct{ calls, cdr, recordings, voicemails, campaigns, agents, queues []string }
	read := func(id who) lists {
		t.Helper()
		var l lists
		var calls struct{ Calls []switchboard.Call }
		e.as(t, id, "GET", "/api/v1/calls", "").decode(t, &calls)
		for _, c := range calls.Calls {
			l.calls = append(l.calls, string(c.ID))
		}
		var cdr cdrPage
		e.as(t, id, "GET", "/api/v1/cdr", "").decode(t, &cdr)
		for _, c := range cdr.Rows {
			l.cdr = append(l.cdr, string(c.CallID))
		}
		var recs recordingPage
		e.as(t, id, "GET", "/api/v1/recordings", "").decode(t, &recs)
		l.recordings = recordingNames(recs.Rows)
		var vms struct{ Voicemails []switchboard.Voicemail }
		e.as(t, id, "GET", "/api/v1/voicemails", "").decode(t, &vms)
		for _, v := range vms.Voicemails {
			l.voicemails = append(l.voicemails, v.Mailbox)
		}
		var camps struct{ Campaigns []switchboard.Campaign }
		e.as(t, id, "GET", "/api/v1/campaigns", "").decode(t, &camps)
		for _, c := range camps.Campaigns {
			l.campaigns = append(l.campaigns, c.Name)
		}
		var snap routing.Snapshot
		e.as(t, id, "GET", "/api/v1/agents", "").decode(t, &snap)
		for _, a := range snap.Agents {
			l.agents = append(l.agents, string(a.Agent))
		}
		var qs struct{ Queues []routing.QueueSnapshot }
		e.as(t, id, "GET", "/api/v1/queues", "").decode(t, &qs)
		for _, q := range qs.Queues {
			l.queues = append(l.queues, string(q.Queue))
		}
		return l
	}
	for _, tc := range []struct {
		id   who
		want lists
	}{
		{asSupIn, lists{
			calls: []string{"c1"}, cdr: []string{"h-sales"}, recordings: []string{"stored", "live"},
			voicemails: []string{"1001", "sales"}, campaigns: []string{"spring"}, agents: []string{"1001"}, queues: []string{"sales"},
		}},
		{asSupOut, lists{
			calls: []string{"c2"}, cdr: []string{"h-support"}, recordings: []string{"support"},
			voicemails: []string{"2002", "support"}, agents: []string{"2002"}, queues: []string{"support"},
		}},
		{asSupAll, lists{
			calls: []string{"c1", "c2", "c3"}, cdr: []string{"h-ivr", "h-support", "h-sales"},
			recordings: []string{"outbound", "support", "stored", "live"},
			voicemails: []string{"outbound", "2002", "1001", "support", "sales"}, campaigns: []string{"autumn", "spring"},
			agents: []string{"1001", "2002", "3003"}, queues: []string{"sales", "support", "outbound"},
		}},
	} {
		if got := read(tc.id); !equalLists(got.calls, tc.want.calls) || !equalLists(got.cdr, tc.want.cdr) ||
			!equalLists(got.recordings, tc.want.recordings) || !equalLists(got.voicemails, tc.want.voicemails) ||
			!equalLists(got.campaigns, tc.want.campaigns) || !equalLists(got.agents, tc.want.agents) || !equalLists(got.queues, tc.want.queues) {
			t.Errorf("%s lists\n%+v\nwant\n%+v", tc.id, got, tc.want)
		}
	}
	var page cdrPage
	e.as(t, asSupIn, "GET", "/api/v1/cdr?limit=1", "").decode(t, &page)
	if page.Total != 1 || page.Next != "" {
		t.Errorf("sales supervisor's call log: total %d next %q, want 1 and no next page", page.Total, page.Next)
	}
}

// equalLists compares lists, nil and empty alike.
func equalLists(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }
