package center_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/ivr/lookup"
	"github.com/switchboard/switchboard/sim"
)

// staticFlows is a FlowSource whose set a test swaps (hot reload).
type staticFlows struct{ cur atomic.Pointer[ivr.Set] }

func (s *staticFlows) Current() *ivr.Set { return s.cur.Load() }

// openCalendars is open for names in the set.
type openCalendars map[string]bool

func (o openCalendars) Known(name string) bool               { _, ok := o[name]; return ok }
func (o openCalendars) IsOpen(name string, _ time.Time) bool { return o[name] }

// vmStore records voicemails.
type vmStore struct {
	mu  sync.Mutex
	got []sb.Voicemail
}

func (v *vmStore) InsertVoicemail(_ context.Context, m *sb.Voicemail) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.got = append(v.got, *m)
	return nil
}

func (v *vmStore) list() []sb.Voicemail {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]sb.Voicemail(nil), v.got...)
}

// keypad presses the next group of keys each time a flow asks a caller
// (by number) for input.
type keypad struct {
	mu     sync.Mutex
	sim    *sim.Server
	groups map[string][]string
}

func (kp *keypad) observe(n ivr.Note) {
	if !n.WantsKeys {
		return
	}
	kp.mu.Lock()
	g := kp.groups[n.Caller]
	if len(g) == 0 {
		kp.mu.Unlock()
		return
	}
	next := g[0]
	kp.groups[n.Caller] = g[1:]
	kp.mu.Unlock()
	if next != "" {
		// From another goroutine: the observer runs on the center's.
		go kp.sim.SendDTMF(string(n.Call), next)
	}
}

func (kp *keypad) set(caller string, groups ...string) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	kp.groups[caller] = groups
}

type ivrRig struct {
	*e2e
	flows *staticFlows
	keys  *keypad
	vm    *vmStore
}

func loadFlows(t testing.TB, yaml string, cals ivr.Calendars) *ivr.Set {
	t.Helper()
	set, err := ivr.LoadBytes("flows.yaml", []byte(yaml), ivr.LoadOptions{
		Queues: []string{"sales", "support"}, Mailboxes: []string{"sales", "support"}, Calendars: cals,
	})
	if err != nil {
		t.Fatalf("flows do not load: %v", err)
	}
	return set
}

// startIVR runs sim + adapter + center with flow main routed for every number.
func startIVR(t *testing.T, speed float64, yaml string, phones map[string]sim.Party) *ivrRig {
	t.Helper()
	return startIVRRoutes(t, speed, yaml, phones, []center.Route{{DNIS: "*", Flow: "main"}})
}

func startIVRRoutes(t *testing.T, speed float64, yaml string, phones map[string]sim.Party, routes []center.Route) *ivrRig {
	t.Helper()
	return startIVRHTTP(t, speed, yaml, phones, routes, nil)
}

// startIVRHTTP is startIVRRoutes whose lookups go through hc (nil: the
// center's default client).
func startIVRHTTP(t *testing.T, speed float64, yaml string, phones map[string]sim.Party, routes []center.Route, hc *http.Client) *ivrRig {
	t.Helper()
	cals := openCalendars{"open-hours": true, "closed-hours": false}
	r := &ivrRig{flows: &staticFlows{}, vm: &vmStore{}}
	set := loadFlows(t, yaml, cals)
	set.Version = 1
	r.flows.cur.Store(set)
	s := sim.New(sim.Options{User: "sb", Password: "pw", Speed: speed, Seed: 1})
	cfg := baseConfig()
	for res, p := range phones {
		s.AddEndpoint("PJSIP", res, p)
		if strings.HasPrefix(res, "10") {
			cfg.Agents = append(cfg.Agents, sb.Agent{ID: sb.AgentID(res), Endpoint: "PJSIP/" + res})
		}
	}
	cfg.Queues = []sb.Queue{{Name: "sales"}, {Name: "support"}}
	serve(t, s)
	r.keys = &keypad{sim: s, groups: map[string][]string{}}
	r.e2e = attachWith(t, s, cfg, func(o *center.Options, _ *ari.Adapter) {
		o.IVR = center.IVROptions{Flows: r.flows, Routes: routes,
			Calendars: cals, Voicemail: r.vm, Observer: r.keys.observe, Lookup: lookup.Client{HTTP: hc}}
	})
	return r
}

// crmServer serves h as a CRM on an in-memory pipe until the test ends
// and returns its URL and the client that reaches it (for IVROptions.Lookup), so
// that lookups stay inside a synctest bubble.
func crmServer(t *testing.T, h http.Handler) (string, *http.Client) {
	t.Helper()
	u, dial := servePipe(t, h)
	tr := &http.Transport{DialContext: dial}
	t.Cleanup(tr.CloseIdleConnections)
	return u, &http.Client{Transport: tr}
}

// path decodes a call-log row's IVR path.
func path(t *testing.T, row sb.CDR) ivr.Path {
	t.Helper()
	var p ivr.Path
	if err := json.Unmarshal(row.IVRPath, &p); err != nil {
		t.Fatalf("ivr path %q: %v", row.IVRPath, err)
	}
	return p
}

func nodes(p ivr.Path) string {
	var out []string
	for _, v := range p.Visits {
		out = append(out, v.Node)
	}
	return strings.Join(out, ",")
}

// dial places a call from a caller who answers each request for input with
// the next group of keys ("" = presses nothing).
func (r *ivrRig) dial(t *testing.T, from string, keys ...string) string {
	t.Helper()
	return r.dialParty(t, from, sim.Party{}, keys...)
}

func (r *ivrRig) dialParty(t *testing.T, from string, p sim.Party, keys ...string) string {
	t.Helper()
	return r.dialTo(t, from, "8000", p, keys...)
}

func (r *ivrRig) dialTo(t *testing.T, from, to string, p sim.Party, keys ...string) string {
	t.Helper()
	r.keys.set(from, keys...)
	id, err := r.sim.Call(sim.Inbound{App: "switchboard", From: from, To: to, Party: p})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const menuFlow = `
flows:
  main:
    start: welcome
    nodes:
      welcome: {play: [sound:hello-world], next: menu}
      menu:
        menu:
          prompt: [sound:queue-periodic-announce]
          keys: {"1": sales, "2": account, "9": goodbye}
          timeout: 5s
          retries: 1
          invalid: [sound:beep]
          timeout_prompt: [sound:beep]
          fail: goodbye
      sales: {queue: sales}
      account:
        gather: {prompt: [sound:tt-monkeys], min: 4, max: 8, terminator: "#", into: account, fail: goodbye}
        next: readback
      readback: {say: {digits: "${account}"}, next: goodbye}
      goodbye: {hangup: {prompt: [sound:vm-goodbye]}}
`

func TestIVRMenuToQueueToAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 20, menuFlow, map[string]sim.Party{"1001": {Rings: 1, Talk: 30 * time.Second}})
		id := r.dial(t, "+15550001", "1")
		// The agent's leg carries the call's facts for the phone or screen.
		var leg sb.ChannelID
		waitUntil(t, "bridged", func() bool {
			for _, k := range r.c.LiveCalls() {
				if k.State == sb.CallBridged {
					leg = k.AgentChannel
					return true
				}
			}
			return false
		})
		for name, want := range map[string]string{"SB_CALL_ID": id, "SB_QUEUE": "sales"} {
			if got, err := r.pbx.GetVariable(context.Background(), leg, name); err != nil || got != want {
				t.Errorf("agent leg %s = %q, %v; want %q", name, got, err, want)
			}
		}
		row := r.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeCompleted || row.Queue != "sales" || row.Agent != "1001" {
			t.Fatalf("cdr = %+v", row)
		}
		p := path(t, row)
		if got := nodes(p); got != "welcome,menu,sales" || p.End != "queue:sales" {
			t.Fatalf("path %s end %s", got, p.End)
		}
		r.noChannelsLeft(t)
	})
}

func TestIVRGatherAndSay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 50, menuFlow, nil)
		id := r.dial(t, "+15550002", "2", "1234#")
		row := r.cdr.wait(t, id)
		p := path(t, row)
		if row.Outcome != sb.OutcomeIVR || p.End != "hangup" || nodes(p) != "welcome,menu,account,readback,goodbye" {
			t.Fatalf("outcome %s end %s path %s", row.Outcome, p.End, nodes(p))
		}
		if p.Vars["account"] != "1234" {
			t.Errorf("vars = %v, want account 1234", p.Vars)
		}
		var said []string
		for _, v := range p.Visits {
			if v.Node == "readback" {
				said = v.Prompts
			}
		}
		if strings.Join(said, " ") != "digits:1234" {
			t.Errorf("readback played %q", said)
		}
		r.noChannelsLeft(t)
	})
}

func TestIVRMenuTimeoutsExhaustRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 50, menuFlow, nil)
		id := r.dial(t, "+15550003") // presses nothing
		row := r.cdr.wait(t, id)
		p := path(t, row)
		if nodes(p) != "welcome,menu,goodbye" || p.End != "hangup" {
			t.Fatalf("path %s end %s", nodes(p), p.End)
		}
		if res := p.Visits[1].Result; !strings.Contains(res, "timeout") && !strings.Contains(res, "retries") {
			t.Errorf("menu result %q does not say it timed out", res)
		}
		if w := row.Ended.Sub(row.Entered); w < 10*time.Second {
			t.Errorf("call lasted %v: two 5 s timeouts should have passed", w)
		}
	})
}

func TestIVRInvalidKeyThenValid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 50, menuFlow, nil)
		id := r.dial(t, "+15550004", "7", "9")
		p := path(t, r.cdr.wait(t, id))
		if nodes(p) != "welcome,menu,goodbye" {
			t.Fatalf("path %s", nodes(p))
		}
		if keys := p.Visits[1].Keys; keys != "79" {
			t.Errorf("menu keys = %q, want 79", keys)
		}
	})
}

const lookupFlow = `
flows:
  main:
    start: crm
    nodes:
      crm:
        lookup: {method: GET, url: "%s/accounts/${caller}", timeout: 2s, map: {name: customer.name, tier: tier}, fail: fallback}
        next: tiered
      tiered:
        branch:
          - when: 'tier == "gold"'
            next: vip
          - else: regular
      vip: {set: {greeting: '"hello " + name'}, next: vipq}
      vipq: {queue: {name: sales, priority: 9}}
      regular: {hangup: {}}
      fallback: {hangup: {prompt: [sound:vm-goodbye]}}
`

func TestIVRLookup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var slow atomic.Bool
		crm, hc := crmServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			switch {
			case strings.HasSuffix(req.URL.Path, "+15550500"):
				w.WriteHeader(http.StatusInternalServerError)
			case strings.HasSuffix(req.URL.Path, "+15550501"):
				slow.Store(true)
				select {
				case <-req.Context().Done():
				case <-time.After(5 * time.Second):
				}
			default:
				fmt.Fprint(w, `{"customer":{"name":"Ann"},"tier":"gold"}`)
			}
		}))
		r := startIVRHTTP(t, 20, fmt.Sprintf(lookupFlow, crm), map[string]sim.Party{"1001": {Rings: 1, Talk: 5 * time.Second}},
			[]center.Route{{DNIS: "*", Flow: "main"}}, hc)

		ok := r.dial(t, "+15550499")
		row := r.cdr.wait(t, ok)
		p := path(t, row)
		if nodes(p) != "crm,tiered,vip,vipq" || p.Vars["name"] != "Ann" || p.Vars["greeting"] != "hello Ann" {
			t.Fatalf("ok lookup: path %s vars %v", nodes(p), p.Vars)
		}
		if row.Outcome != sb.OutcomeCompleted || row.Queue != "sales" {
			t.Errorf("cdr = %+v", row)
		}

		for _, caller := range []string{"+15550500", "+15550501"} { // failing, slow
			id := r.dial(t, caller)
			p := path(t, r.cdr.wait(t, id))
			if nodes(p) != "crm,fallback" || p.End != "hangup" {
				t.Errorf("%s: path %s end %s, want the fallback", caller, nodes(p), p.End)
			}
		}
		if !slow.Load() {
			t.Error("the slow lookup never reached the server")
		}
		r.noChannelsLeft(t)
	})
}

const transferFlow = `
flows:
  main:
    start: xfer
    nodes:
      xfer: {transfer: {endpoint: PJSIP/2001, timeout: 10s, fail: sorry}}
      sorry: {hangup: {prompt: [sound:vm-goodbye]}}
`

func TestIVRTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 50, transferFlow, map[string]sim.Party{"2001": {Rings: 1, Talk: 5 * time.Second}})
		id := r.dial(t, "+15550600")
		row := r.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeTransferred || path(t, row).End != "transfer:PJSIP/2001" {
			t.Fatalf("answered transfer: cdr %+v end %s", row, path(t, row).End)
		}
		r.noChannelsLeft(t)

		r.sim.SetParty("PJSIP", "2001", sim.Party{Busy: true})
		id = r.dial(t, "+15550601")
		p := path(t, r.cdr.wait(t, id))
		if nodes(p) != "xfer,sorry" {
			t.Fatalf("busy transfer: path %s", nodes(p))
		}
		r.noChannelsLeft(t)
	})
}

const voicemailFlow = `
flows:
  main:
    start: vm
    nodes:
      vm: {voicemail: {mailbox: support, prompt: [sound:vm-intro], max_length: 20s, max_silence: 5s}, next: thanks}
      thanks: {hangup: {prompt: [sound:vm-goodbye]}}
`

func TestIVRVoicemail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 50, voicemailFlow, nil)
		id := r.dial(t, "+15550700")
		row := r.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeVoicemail {
			t.Fatalf("cdr = %+v", row)
		}
		msgs := r.vm.list()
		if len(msgs) != 1 || msgs[0].Mailbox != "support" || msgs[0].CallID != sb.CallID(id) || msgs[0].Duration < time.Second {
			t.Fatalf("voicemails = %+v", msgs)
		}
		if _, ok := r.sim.StoredRecordings()[msgs[0].Recording]; !ok {
			t.Errorf("recording %q is not stored on the PBX: %v", msgs[0].Recording, r.sim.StoredRecordings())
		}
		r.noChannelsLeft(t)
	})
}

const branchFlow = `
flows:
  main:
    start: hours
    nodes:
      hours:
        branch:
          - when: 'calendar("closed-hours")'
            next: wrong
          - when: 'calendar("open-hours") && caller startsWith "+1555"'
            next: common
          - else: wrong
      common: {subflow: checks, next: again}
      again: {goto: done}
      done: {hangup: {}}
      wrong: {hangup: {cause: 21}}
  checks:
    start: mark
    nodes:
      mark: {set: {checked: '"yes"'}, next: back}
      back: {return: true}
`

func TestIVRBranchSubflowGoto(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startIVR(t, 50, branchFlow, nil)
		id := r.dial(t, "+15550800")
		p := path(t, r.cdr.wait(t, id))
		if nodes(p) != "hours,common,mark,back,again,done" || p.Vars["checked"] != "yes" {
			t.Fatalf("path %s vars %v", nodes(p), p.Vars)
		}
	})
}

// TestIVRCallerHangsUpInEveryNode: a caller who leaves while the flow is in
// any node that lasts ends the call cleanly: one call-log row with the path,
// nothing left on the PBX, no flow commands after the end.
func TestIVRCallerHangsUpInEveryNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slowCRM, hc := crmServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			select {
			case <-req.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}))
		nodesYAML := map[string]string{
			"play":      `{play: [sound:silence/10], next: end}`,
			"say":       `{say: {number: "123456789"}, next: end}`,
			"menu":      `{menu: {prompt: [sound:beep], keys: {"1": end}, timeout: 30s}}`,
			"gather":    `{gather: {prompt: [sound:beep], into: x, timeout: 30s}, next: end}`,
			"lookup":    `{lookup: {url: "` + slowCRM + `", timeout: 60s, map: {x: x}, fail: end}, next: end}`,
			"queue":     `{queue: sales}`,
			"transfer":  `{transfer: {endpoint: PJSIP/2002, timeout: 60s, fail: end}}`,
			"voicemail": `{voicemail: {mailbox: sales, max_length: 60s}, next: end}`,
			"hangup":    `{hangup: {prompt: [sound:silence/10]}}`,
		}
		var yaml strings.Builder
		yaml.WriteString("flows:\n")
		for typ, node := range nodesYAML {
			fmt.Fprintf(&yaml, "  f-%s:\n    start: n\n    nodes:\n      n: %s\n", typ, node)
			if strings.Contains(node, "end") {
				yaml.WriteString("      end: {hangup: {}}\n")
			}
		}
		yaml.WriteString("  main:\n    start: x\n    nodes:\n      x: {hangup: {}}\n")
		var routes []center.Route
		var types []string
		for typ := range nodesYAML {
			types = append(types, typ)
			routes = append(routes, center.Route{DNIS: "dial-" + typ, Flow: "f-" + typ})
		}
		r := startIVRHTTP(t, 20, yaml.String(), map[string]sim.Party{"2002": {NoAnswer: true}}, routes, hc)
		ids := map[string]string{}
		for n, typ := range types {
			// The caller gives up 3 s (simulated) into the call: every node
			// above lasts longer than that.
			ids[typ] = r.dialTo(t, fmt.Sprintf("+1555090%02d", n), "dial-"+typ, sim.Party{Patience: 3 * time.Second})
		}
		for _, typ := range types {
			row := r.cdr.wait(t, ids[typ])
			p := path(t, row)
			wantEnd := "caller-hangup"
			if typ == "queue" {
				wantEnd = "queue:sales" // the flow ended there; the caller left while waiting
			}
			if p.End != wantEnd || len(p.Visits) == 0 || p.Visits[0].Type != ivr.NodeType(typ) {
				t.Errorf("%s: end %q path %+v", typ, p.End, p.Visits)
			}
			want := sb.OutcomeIVR
			switch typ {
			case "queue":
				want = sb.OutcomeAbandoned // left while waiting for an agent
			case "voicemail":
				want = sb.OutcomeVoicemail // hanging up is how a message ends
			}
			if row.Outcome != want || row.HangupBy != "caller" {
				t.Errorf("%s: outcome %s by %q, want %s by caller", typ, row.Outcome, row.HangupBy, want)
			}
		}
		r.noChannelsLeft(t)
		waitUntil(t, "the message left by hanging up", func() bool { return len(r.vm.list()) == 1 })
		if m := r.vm.list()[0]; m.Mailbox != "sales" || m.CallID != sb.CallID(ids["voicemail"]) || m.Duration < time.Second {
			t.Errorf("voicemail = %+v", m)
		}
	})
}

// TestIVRReloadDuringLiveCalls: a call in progress finishes on the flow
// version it entered on; new calls take the new version.
func TestIVRReloadDuringLiveCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const v1 = `
flows:
  main:
    start: hold
    nodes:
      hold: {play: [sound:silence/10, sound:silence/10], next: bye}
      bye: {hangup: {prompt: [sound:vm-goodbye]}}
`
		const v2 = `
flows:
  main:
    start: hello
    nodes:
      hello: {play: [sound:hello-world], next: bye2}
      bye2: {hangup: {}}
`
		r := startIVR(t, 20, v1, nil)
		a := r.dial(t, "+15551001")
		waitUntil(t, "call A in v1", func() bool {
			calls := r.c.LiveCalls()
			return len(calls) == 1 && calls[0].IVRNode == "main/hold"
		})
		next := loadFlows(t, v2, openCalendars{})
		next.Version = 2
		r.flows.cur.Store(next) // what the registry does on reload
		b := r.dial(t, "+15551002")
		pb := path(t, r.cdr.wait(t, b))
		pa := path(t, r.cdr.wait(t, a))
		if pa.Version != 1 || nodes(pa) != "hold,bye" {
			t.Errorf("call A: version %d path %s, want version 1 hold,bye", pa.Version, nodes(pa))
		}
		if pb.Version != 2 || nodes(pb) != "hello,bye2" {
			t.Errorf("call B: version %d path %s, want version 2 hello,bye2", pb.Version, nodes(pb))
		}
		r.noChannelsLeft(t)
	})
}
