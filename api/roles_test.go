package api

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/recording/files"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/storage"
)

// The identities of the role matrix, in the order of its columns.
type who int

const (
	asAdmin  who = iota // ops-admin
	asSupIn             // sales-lead: supervisor of queue sales, where the data is
	asSupOut            // support-lead: supervisor of queue support only
	asSupAll            // wallboard: supervisor without a queue scope
	asAgent             // 1001: the agent concerned (answers sales, on call c1, took attempt 42)
	asOther             // 2002: another agent (answers support)
	asNone              // no token
	nIdentities
)

func (w who) String() string {
	return [...]string{"admin", "supervisor in scope", "supervisor out of scope", "supervisor of every queue",
		"the agent concerned", "another agent", "no token"}[w]
}

// roleToken is the token of an identity.
var roleTokens = [nIdentities]struct {
	tok   Token
	plain string
}{
	asAdmin:  {Token{Name: "ops-admin", Role: RoleAdmin}, "adm-tok-1"},
	asSupIn:  {Token{Name: "sales-lead", Role: RoleSupervisor, Queues: []switchboard.QueueName{"sales"}}, "sup-in-tok-2"},
	asSupOut: {Token{Name: "support-lead", Role: RoleSupervisor, Queues: []switchboard.QueueName{"support"}}, "sup-out-tok-3"},
	asSupAll: {Token{Name: "wallboard", Role: RoleSupervisor}, "sup-all-tok-4"},
	asAgent:  {Token{Name: "1001", Role: RoleAgent}, "agent-tok-5"},
	asOther:  {Token{Name: "2002", Role: RoleAgent}, "other-tok-6"},
}

// roleEnv is a server with every capability registered over fakes and a
// real database and recordings folder, holding data of three queues:
//
//	sales     agent 1001; live call c1 (recorded: recording "live"), call-log
//	          row, stored recording "stored", campaign spring (attempt 42,
//	          taken by 1001), voicemail
//	support   agent 2002; live call c2, call-log row, recording "support",
//	          voicemail
//	outbound  agent 3003; campaign autumn, whose call's recording is
//	          "outbound"
//
// and a call c3 still in the IVR (no queue).
type roleEnv struct {
	*testServer
	db    *storage.DB
	files *files.Store
	acd   *matrixACD
	mon   *matrixMonitoring
	live  *fakeLive
	out   *matrixOutbound
	camps *matrixCampaigns
	recs  map[string]int64 // recording ids by name
	added []string         // the Server.Add* methods called
}

var roleQueues = []QueueMembers{
	{Queue: "sales", Agents: []switchboard.AgentID{"1001"}},
	{Queue: "support", Agents: []switchboard.AgentID{"2002"}},
	{Queue: "outbound", Agents: []switchboard.AgentID{"3003"}},
}

// newRoleEnv builds the environment; policy is the recording policy of
// every live call.
func newRoleEnv(t *testing.T, policy recording.Policy) *roleEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(ctx, filepath.Join(dir, "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &roleEnv{db: db, recs: map[string]int64{},
		acd:  &matrixACD{},
		mon:  &matrixMonitoring{policy: policy, calls: map[switchboard.CallID][2]string{"c1": {"sales", "1001"}, "c2": {"support", "2002"}}},
		live: &fakeLive{policy: policy},
		out:  &matrixOutbound{attempts: map[int64][2]string{42: {"spring", "1001"}}},
		camps: &matrixCampaigns{byName: map[string]switchboard.Campaign{
			"spring": {Name: "spring", Queue: "sales", State: switchboard.CampaignRunning},
			"autumn": {Name: "autumn", Queue: "outbound", State: switchboard.CampaignRunning},
		}},
	}
	audio := fakeSource{}
	e.files, err = files.Open(files.Config{Dir: filepath.Join(dir, "recordings")}, audio, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.files.Close() })

	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		call  string
		queue switchboard.QueueName
		agent switchboard.AgentID
	}{{"h-sales", "sales", "1001"}, {"h-support", "support", "2002"}, {"h-ivr", "", ""}} {
		row := &switchboard.CDR{CallID: switchboard.CallID(c.call), Node: "pbx1", Caller: "+15550100", Called: "8000",
			Queue: c.queue, Agent: c.agent, Entered: t0.Add(time.Duration(i) * time.Minute), Ended: t0.Add(time.Duration(i)*time.Minute + time.Second),
			Outcome: switchboard.OutcomeCompleted, HangupBy: "caller"}
		if err := db.InsertCDR(ctx, row); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range []struct {
		name, call string
		queue      switchboard.QueueName
		campaign   string
		agent      switchboard.AgentID
		stored     bool
	}{
		{"live", "c1", "sales", "", "1001", false},
		{"stored", "h-sales", "sales", "", "1001", true},
		{"support", "h-support", "support", "", "2002", true},
		{"outbound", "ob-7", "outbound", "autumn", "3003", true},
	} {
		rec := recording.Recording{Name: r.name, CallID: switchboard.CallID(r.call), Queue: r.queue, Campaign: r.campaign,
			Agent: r.agent, Caller: "+15550100", Started: t0.Add(time.Duration(i) * time.Minute), Created: t0}
		if err := db.InsertRecording(ctx, &rec); err != nil {
			t.Fatal(err)
		}
		if r.stored {
			audio[r.name] = testWAV(time.Second)
			got, err := e.files.Fetch(ctx, r.name)
			if err != nil {
				t.Fatal(err)
			}
			rec.State, rec.Path, rec.Size, rec.SHA256, rec.Duration = recording.StateStored, got.Path, got.Size, got.SHA256, got.Duration
			rec.Ended = switchboard.SomeTime(rec.Started.Add(got.Duration))
			if err := db.UpdateRecording(ctx, &rec); err != nil {
				t.Fatal(err)
			}
		}
		e.recs[r.name] = rec.ID
	}
	for i, box := range []string{"sales", "support", "1001", "2002", "outbound"} {
		v := &switchboard.Voicemail{CallID: switchboard.CallID(fmt.Sprint("vm-call-", i)), Mailbox: box,
			Recording: fmt.Sprint("vm-", i), Created: t0.Add(time.Duration(i) * time.Minute)}
		if err := db.InsertVoicemail(ctx, v); err != nil {
			t.Fatal(err)
		}
	}

	var tokens []Token
	for _, rt := range roleTokens {
		if rt.plain == "" {
			continue
		}
		tk := rt.tok
		tk.SHA256 = HashToken(rt.plain)
		tokens = append(tokens, tk)
	}
	calls := fakeCalls{LiveCallsFn: func() []switchboard.Call {
		return []switchboard.Call{
			{ID: "c1", State: switchboard.CallBridged, Queue: "sales", Agent: "1001", Entered: t0},
			{ID: "c2", State: switchboard.CallBridged, Queue: "support", Agent: "2002", Entered: t0.Add(time.Second)},
			{ID: "c3", State: switchboard.CallIVR, Entered: t0.Add(2 * time.Second)},
		}
	}}
	reg := &fakeRegistry{ReloadFn: func(string) (IVRStatus, error) { return IVRStatus{Version: 2}, nil }}
	history := &fakeQueueHistory{}
	// Every capability the API package has, the way cmd/switchboard wires
	// them; TestRoleMatrixCoversEveryCapability checks none is left out.
	capabilities := map[string]func(s *Server){
		"AddIVRRoutes": func(s *Server) { s.AddIVRRoutes(reg, db) },
		"AddRecordingRoutes": func(s *Server) {
			s.AddRecordingRoutes(db, e.files).SetLive(e.live)
		},
		"AddMonitorRoutes":       func(s *Server) { s.AddMonitorRoutes(e.mon, matrixSupervisors{}) },
		"AddCallRecordingRoutes": func(s *Server) { s.AddCallRecordingRoutes(e.mon) },
		"AddCampaignRoutes":      func(s *Server) { s.AddCampaignRoutes(e.camps) },
		"AddOutboundRoutes":      func(s *Server) { s.AddOutboundRoutes(e.out, e.camps) },
		"AddAgentRoutes":         func(s *Server) { s.AddAgentRoutes(e.acd) },
		"AddAgentHistoryRoute":   func(s *Server) { s.AddAgentHistoryRoute(&fakeHistory{}) },
		"AddQueueRoutes":         func(s *Server) { s.AddQueueRoutes(e.acd.RoutingSnapshot, history) },
	}
	e.testServer = newTestServer(t, Options{Tokens: tokens, Queues: roleQueues, Calls: calls, CDR: db}, func(s *Server) {
		for _, name := range slices.Sorted(maps.Keys(capabilities)) {
			capabilities[name](s)
			e.added = append(e.added, name)
		}
	})
	return e
}

// as sends a request as an identity, with a JSON body when body is set.
func (e *roleEnv) as(t *testing.T, id who, method, path, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if id != asNone {
		req.Header.Set("Authorization", "Bearer "+roleTokens[id].plain)
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
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// rec is the path of a recording.
func (e *roleEnv) rec(name, suffix string) string {
	return "/api/v1/recordings/" + strconv.FormatInt(e.recs[name], 10) + suffix
}

// roleCase is one request of the matrix and the status each identity gets.
type roleCase struct {
	path, body string
	want       [nIdentities]int
}

// st reads the statuses of a row, in the order of the identities: admin,
// supervisor in scope, out of scope, of every queue, the agent concerned,
// another agent, no token.
func st(row string) [nIdentities]int {
	var out [nIdentities]int
	f := strings.Fields(row)
	if len(f) != int(nIdentities) {
		panic("role matrix row needs " + strconv.Itoa(int(nIdentities)) + " statuses: " + row)
	}
	for i, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil {
			panic(err)
		}
		out[i] = n
	}
	return out
}

// roleMatrix says, for every route, what each identity gets. A route
// missing here fails TestRoleMatrix: a new route needs its rule.
//
//	admin  in   out  all  agent other none
func roleMatrix(e *roleEnv) map[string][]roleCase {
	c := func(path, body, row string) roleCase { return roleCase{path: path, body: body, want: st(row)} }
	supervisorsOnly := "200 200 200 200 403 403 401"
	inScope := "200 200 403 200 403 403 401"
	agentToo := "204 204 403 204 204 403 401"
	return map[string][]roleCase{
		"GET /api/v1/openapi.json": {c("/api/v1/openapi.json", "", "200 200 200 200 200 200 200")},
		"GET /api/v1/whoami":       {c("/api/v1/whoami", "", "200 200 200 200 200 200 401")},
		"GET /api/v1/calls":        {c("/api/v1/calls", "", supervisorsOnly)},
		"GET /api/v1/cdr": {
			c("/api/v1/cdr", "", supervisorsOnly),
			c("/api/v1/cdr?queue=sales", "", inScope),
		},

		"GET /api/v1/ivr":         {c("/api/v1/ivr", "", supervisorsOnly)},
		"POST /api/v1/ivr/reload": {c("/api/v1/ivr/reload", "", "200 403 403 403 403 403 401")},
		"GET /api/v1/voicemails": {
			c("/api/v1/voicemails", "", supervisorsOnly),
			c("/api/v1/voicemails?mailbox=sales", "", inScope),
			c("/api/v1/voicemails?mailbox=1001", "", inScope),
		},
		"GET /api/v1/recordings": {
			c("/api/v1/recordings", "", supervisorsOnly),
			c("/api/v1/recordings?queue=sales", "", inScope),
		},
		"GET /api/v1/recordings/{id}":         {c(e.rec("stored", ""), "", inScope)},
		"GET /api/v1/recordings/{id}/file":    {c(e.rec("stored", "/file"), "", inScope)},
		"POST /api/v1/recordings/{id}/pause":  {c(e.rec("live", "/pause"), "", agentToo)},
		"POST /api/v1/recordings/{id}/resume": {c(e.rec("live", "/resume"), "", agentToo)},
		"POST /api/v1/calls/{id}/monitor":     {c("/api/v1/calls/c1/monitor", `{"mode":"listen"}`, "202 202 403 202 403 403 401")},
		"PUT /api/v1/calls/{id}/monitor":      {c("/api/v1/calls/c1/monitor", `{"mode":"whisper"}`, "204 204 403 204 403 403 401")},
		"DELETE /api/v1/calls/{id}/monitor":   {c("/api/v1/calls/c1/monitor", "", "204 204 403 204 403 403 401")},
		"POST /api/v1/calls/{id}/recording": {
			c("/api/v1/calls/c1/recording", `{"action":"stop"}`, agentToo),
			c("/api/v1/calls/c1/recording", `{"action":"start"}`, agentToo),
		},
		"GET /api/v1/campaigns":                {c("/api/v1/campaigns", "", supervisorsOnly)},
		"GET /api/v1/campaigns/{name}":         {c("/api/v1/campaigns/spring", "", inScope)},
		"POST /api/v1/campaigns/{name}/start":  {c("/api/v1/campaigns/spring/start", "", inScope)},
		"POST /api/v1/campaigns/{name}/resume": {c("/api/v1/campaigns/spring/resume", "", inScope)},
		"POST /api/v1/campaigns/{name}/pause":  {c("/api/v1/campaigns/spring/pause", "", inScope)},
		"POST /api/v1/campaigns/{name}/stop":   {c("/api/v1/campaigns/spring/stop", "", inScope)},
		"GET /api/v1/campaigns/{name}/stats":   {c("/api/v1/campaigns/spring/stats", "", inScope)},
		"POST /api/v1/campaigns/{name}/preview": {
			c("/api/v1/campaigns/spring/preview", `{"agent":"1001"}`, "200 200 403 200 200 403 401"),
		},
		"POST /api/v1/campaigns/{name}/preview/{attempt}/dial": {
			c("/api/v1/campaigns/spring/preview/42/dial", `{"agent":"1001"}`, agentToo),
		},
		"POST /api/v1/campaigns/{name}/preview/{attempt}/skip": {
			c("/api/v1/campaigns/spring/preview/42/skip", `{"agent":"1001"}`, agentToo),
		},
		"POST /api/v1/campaigns/{name}/attempts/{attempt}/disposition": {
			c("/api/v1/campaigns/spring/attempts/42/disposition", `{"disposition":"sale"}`, agentToo),
		},
		"GET /api/v1/agents":                {c("/api/v1/agents", "", supervisorsOnly)},
		"POST /api/v1/agents/{id}/login":    {c("/api/v1/agents/1001/login", "", agentToo)},
		"POST /api/v1/agents/{id}/logout":   {c("/api/v1/agents/1001/logout", "", agentToo)},
		"POST /api/v1/agents/{id}/pause":    {c("/api/v1/agents/1001/pause", `{"reason":"lunch"}`, agentToo)},
		"POST /api/v1/agents/{id}/ready":    {c("/api/v1/agents/1001/ready", "", agentToo)},
		"GET /api/v1/agents/{id}/history":   {c("/api/v1/agents/1001/history", "", "200 200 403 200 200 403 401")},
		"GET /api/v1/queues":                {c("/api/v1/queues", "", supervisorsOnly)},
		"GET /api/v1/queues/{name}":         {c("/api/v1/queues/sales", "", inScope)},
		"GET /api/v1/queues/{name}/history": {c("/api/v1/queues/sales/history", "", inScope)},
	}
}

// TestRoleMatrix walks the server's route table: every registered route
// has an entry in the matrix, and every identity gets the status the entry
// says. A route added without a rule fails here.
func TestRoleMatrix(t *testing.T) {
	e := newRoleEnv(t, recording.Policy{Mode: recording.ModeOnDemand})
	m := roleMatrix(e)
	routes := e.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		cases, ok := m[key]
		if !ok || len(cases) == 0 {
			t.Errorf("route %s has no entry in the role matrix (roleMatrix in roles_test.go): say who may call it", key)
			continue
		}
		seen[key] = true
		for _, c := range cases {
			// The case is served by this route, not another one.
			req := httptest.NewRequest(rt.Method, c.path, nil)
			if _, pattern := e.mux.Handler(req); pattern != key {
				t.Errorf("%s: case path %s is served by %q", key, c.path, pattern)
				continue
			}
			for id := range nIdentities {
				r := e.as(t, id, rt.Method, c.path, c.body)
				if r.Status != c.want[id] {
					t.Errorf("%s %s %s as %s: %d %s, want %d", rt.Method, c.path, c.body, id, r.Status, r.Body, c.want[id])
				}
			}
		}
	}
	for key := range m {
		if !seen[key] {
			t.Errorf("role matrix entry %s matches no registered route", key)
		}
	}
}

// TestRoleMatrixCoversEveryCapability: the matrix's server has every
// route-adding method of Server called, so a new capability cannot add
// routes the matrix never sees.
func TestRoleMatrixCoversEveryCapability(t *testing.T) {
	e := newRoleEnv(t, recording.Policy{Mode: recording.ModeOnDemand})
	typ := reflect.TypeFor[*Server]()
	var adders []string
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; strings.HasPrefix(name, "Add") {
			adders = append(adders, name)
		}
	}
	slices.Sort(adders)
	if !slices.Equal(adders, e.added) {
		t.Errorf("Server's Add methods %v, the role matrix calls %v: register the new capability in newRoleEnv", adders, e.added)
	}
}

// matrixACD is the router: three agents, three queues; actions are
// recorded and succeed.
type matrixACD struct {
	mu  sync.Mutex
	got []string
}

var _ ACD = (*matrixACD)(nil)

func (f *matrixACD) RoutingSnapshot(context.Context) (routing.Snapshot, error) {
	return routing.Snapshot{
		Agents: []routing.AgentStats{{Agent: "1001"}, {Agent: "2002"}, {Agent: "3003"}},
		Queues: []routing.QueueSnapshot{
			{QueueStats: routing.QueueStats{Queue: "sales"}},
			{QueueStats: routing.QueueStats{Queue: "support"}},
			{QueueStats: routing.QueueStats{Queue: "outbound"}},
		},
	}, nil
}

func (f *matrixACD) note(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, s)
	return nil
}

func (f *matrixACD) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func (f *matrixACD) AgentLogin(_ context.Context, id switchboard.AgentID) error {
	return f.note("login " + string(id))
}
func (f *matrixACD) AgentLogout(_ context.Context, id switchboard.AgentID) error {
	return f.note("logout " + string(id))
}
func (f *matrixACD) AgentPause(_ context.Context, id switchboard.AgentID, reason string) error {
	return f.note("pause " + string(id))
}
func (f *matrixACD) AgentReady(_ context.Context, id switchboard.AgentID) error {
	return f.note("ready " + string(id))
}

// matrixMonitoring is the center's live calls for monitoring and
// recording: queue and agent by call, one recording policy for all.
type matrixMonitoring struct {
	mu     sync.Mutex
	calls  map[switchboard.CallID][2]string
	policy recording.Policy
	got    []string
}

var (
	_ Monitoring   = (*matrixMonitoring)(nil)
	_ CallRecorder = (*matrixMonitoring)(nil)
)

func (f *matrixMonitoring) note(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, s)
	return nil
}

func (f *matrixMonitoring) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func (f *matrixMonitoring) MonitorInfo(_ context.Context, call switchboard.CallID) (switchboard.QueueName, switchboard.AgentID, error) {
	c, ok := f.calls[call]
	if !ok {
		return "", "", switchboard.Errorf(switchboard.ENOTFOUND, "no live call %s", call)
	}
	return switchboard.QueueName(c[0]), switchboard.AgentID(c[1]), nil
}
func (f *matrixMonitoring) RecordingPolicy(_ context.Context, call switchboard.CallID) (recording.Policy, error) {
	if _, ok := f.calls[call]; !ok {
		return recording.Policy{}, switchboard.Errorf(switchboard.ENOTFOUND, "no live call %s", call)
	}
	return f.policy, nil
}
func (f *matrixMonitoring) Monitor(_ context.Context, call switchboard.CallID, endpoint, mode string) error {
	return f.note("monitor " + string(call))
}
func (f *matrixMonitoring) SetMonitorMode(_ context.Context, call switchboard.CallID, mode string) error {
	return f.note("mode " + string(call))
}
func (f *matrixMonitoring) StopMonitor(_ context.Context, call switchboard.CallID) error {
	return f.note("unmonitor " + string(call))
}
func (f *matrixMonitoring) StartRecording(_ context.Context, call switchboard.CallID) error {
	return f.note("start " + string(call))
}
func (f *matrixMonitoring) StopRecording(_ context.Context, call switchboard.CallID) error {
	return f.note("stop " + string(call))
}

// matrixSupervisors gives every admin and supervisor token a phone and
// every queue: the token's own scope is what limits them.
type matrixSupervisors struct{}

func (matrixSupervisors) Supervisor(token string) (string, func(string) bool, bool) {
	return "PJSIP/" + token, func(string) bool { return true }, true
}

// matrixCampaigns keeps campaigns whose state changes always succeed.
type matrixCampaigns struct {
	byName map[string]switchboard.Campaign
}

var _ CampaignStore = (*matrixCampaigns)(nil)

func (f *matrixCampaigns) Campaigns(context.Context) ([]switchboard.Campaign, error) {
	var out []switchboard.Campaign
	for _, name := range slices.Sorted(maps.Keys(f.byName)) {
		out = append(out, f.byName[name])
	}
	return out, nil
}
func (f *matrixCampaigns) Campaign(_ context.Context, name string) (switchboard.Campaign, error) {
	c, ok := f.byName[name]
	if !ok {
		return c, switchboard.Errorf(switchboard.ENOTFOUND, "no campaign %s", name)
	}
	return c, nil
}
func (f *matrixCampaigns) SetCampaignState(_ context.Context, name string, _ switchboard.CampaignState, _ time.Time) error {
	_, err := f.Campaign(context.Background(), name)
	return err
}
func (f *matrixCampaigns) LeadCounts(context.Context, string) (map[switchboard.LeadState]int, error) {
	return map[switchboard.LeadState]int{switchboard.LeadNew: 1}, nil
}

// matrixOutbound is the dialer: attempts by id (campaign, agent who took
// it); a disposition with by is refused unless by took the attempt, as
// outbound.Runner does.
type matrixOutbound struct {
	mu       sync.Mutex
	attempts map[int64][2]string
	got      []string
}

var _ OutboundService = (*matrixOutbound)(nil)

func (f *matrixOutbound) note(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, s)
	return nil
}

func (f *matrixOutbound) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func (f *matrixOutbound) Stats(_ context.Context, name string) (outbound.CampaignStats, error) {
	return outbound.CampaignStats{Campaign: name}, nil
}
func (f *matrixOutbound) Preview(_ context.Context, name string, agent switchboard.AgentID) (outbound.PreviewLead, error) {
	return outbound.PreviewLead{Attempt: 42, Campaign: name}, f.note("preview " + name + " " + string(agent))
}
func (f *matrixOutbound) PreviewDial(_ context.Context, name string, attempt int64, agent switchboard.AgentID) error {
	return f.note(fmt.Sprint("dial ", name, " ", attempt, " ", agent))
}
func (f *matrixOutbound) PreviewSkip(_ context.Context, name string, attempt int64, agent switchboard.AgentID) error {
	return f.note(fmt.Sprint("skip ", name, " ", attempt, " ", agent))
}
func (f *matrixOutbound) Disposition(_ context.Context, name string, attempt int64, disp string, by switchboard.AgentID) error {
	a, ok := f.attempts[attempt]
	switch {
	case !ok || a[0] != name:
		return switchboard.Errorf(switchboard.ENOTFOUND, "no attempt %d of %s", attempt, name)
	case by != "" && a[1] != string(by):
		return switchboard.Errorf(switchboard.EFORBIDDEN, "attempt %d was taken by another agent", attempt)
	}
	return f.note(fmt.Sprint("disposition ", name, " ", attempt, " ", disp))
}
