package ivr

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeCalendars is a Calendars whose calendars are open when their value is
// true.
type fakeCalendars struct {
	open map[string]bool
}

var _ Calendars = fakeCalendars{}

// wantSchemes ends the problem for a media URI with an unknown scheme.
const wantSchemes = "want sound:, recording:, digits:, number:, characters: or tone:"

func (f fakeCalendars) Known(name string) bool { _, ok := f.open[name]; return ok }

func (f fakeCalendars) IsOpen(name string, _ time.Time) bool { return f.open[name] }

// exampleOptions is what configs/switchboard.yaml defines for the example
// flows.
func exampleOptions() LoadOptions {
	mb := []string{"sales", "support", "billing"}
	for i := 1001; i <= 1010; i++ {
		mb = append(mb, strconv.Itoa(i))
	}
	return LoadOptions{
		Queues:    []string{"sales", "support", "billing"},
		Mailboxes: mb,
		Calendars: fakeCalendars{open: map[string]bool{"support-hours": true, "holidays": false}},
	}
}

// problems loads src as t.yaml and returns its problems as strings (nil
// when it loads).
func problems(t *testing.T, src string, opts LoadOptions) []string {
	t.Helper()
	s, err := LoadBytes("t.yaml", []byte(src), opts)
	if err == nil {
		if s == nil {
			t.Fatal("LoadBytes: nil Set and nil error")
		}
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("LoadBytes: %T %v, want *ValidationError", err, err)
	}
	if s != nil {
		t.Fatal("LoadBytes: a Set and an error")
	}
	out := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		out[i] = p.String()
	}
	if got := strings.Join(out, "\n"); got != err.Error() {
		t.Errorf("Error() = %q, want the problems one a line: %q", err.Error(), got)
	}
	return out
}

func TestLoadExampleFlows(t *testing.T) {
	s, err := LoadDir("../configs/flows", nil, exampleOptions())
	if err != nil {
		t.Fatalf("example flows: %v", err)
	}
	for _, name := range []string{"main", "caller-checks"} {
		if s.Flows[name] == nil {
			t.Errorf("flow %s missing", name)
		}
	}
	wantFiles := []string{"../configs/flows/common.yaml", "../configs/flows/main.yaml"}
	if !slices.Equal(s.Files, wantFiles) {
		t.Errorf("Files = %v, want %v", s.Files, wantFiles)
	}
	if s.Version != 0 || !s.Loaded.IsZero() {
		t.Errorf("Version %d Loaded %v: the registry sets them, not the loader", s.Version, s.Loaded)
	}
	for _, v := range []string{"account", "customer", "balance", "tier", "owner", "gold", "greeting", "local_caller"} {
		if !s.Declared[v] {
			t.Errorf("variable %s not declared", v)
		}
	}
	if s.Flows["main"].Start != "welcome" || s.Flows["caller-checks"].Start != "blocked" {
		t.Errorf("starts = %q, %q", s.Flows["main"].Start, s.Flows["caller-checks"].Start)
	}
}

func TestLoadExampleFlowsNeedTheirQueues(t *testing.T) {
	opts := exampleOptions()
	opts.Queues = []string{"sales", "support"}
	_, err := LoadDir("../configs/flows", nil, opts)
	if err == nil || !strings.Contains(err.Error(), `unknown queue "billing"`) {
		t.Fatalf("err = %v, want unknown queue billing", err)
	}
}

func TestLoadProblems(t *testing.T) {
	opts := exampleOptions()
	opts.Passed = []string{"campaign"}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown node type", `
flows:
  f:
    nodes:
      a:
        plya: [sound:x]
`, []string{"t.yaml:6: flow f node a: unknown key plya (did you mean play?)"}},
		{"no node type", `
flows:
  f:
    nodes:
      a:
        next: a
`, []string{"t.yaml:5: flow f node a: node has no type: want one of play, say, menu, gather, branch, set, lookup, queue, transfer, voicemail, hangup, goto, subflow, return"}},
		{"two type keys", `
flows:
  f:
    nodes:
      a:
        play: [sound:x]
        hangup: true
        next: b
      b:
        hangup: true
`, []string{"t.yaml:7: flow f node a: node has two types, play (line 6) and hangup: a node does one thing; chain nodes with next"}},
		{"unknown key inside a node", `
flows:
  f:
    nodes:
      a:
        menu: {prompt: [sound:x], keys: {"1": a}, timout: 5s}
`, []string{"t.yaml:6: flow f node a: unknown key timout in menu (did you mean timeout?)"}},
		{"missing next", `
flows:
  f:
    nodes:
      a:
        play: [sound:x]
      b:
        say: {digits: "123"}
      c:
        set: {x: '"1"'}
      d:
        lookup: {url: "https://crm/x"}
      e:
        gather: {prompt: [sound:x], into: acct}
      g:
        subflow: f2
  f2:
    nodes:
      r:
        return: true
`, []string{
			"t.yaml:6: flow f node a: a play node needs next: (the node the call goes to after it)",
			"t.yaml:7: flow f node b: unreachable: no path leads here from start node a",
			"t.yaml:8: flow f node b: a say node needs next: (the node the call goes to after it)",
			"t.yaml:9: flow f node c: unreachable: no path leads here from start node a",
			"t.yaml:10: flow f node c: a set node needs next: (the node the call goes to after it)",
			"t.yaml:11: flow f node d: unreachable: no path leads here from start node a",
			"t.yaml:12: flow f node d: a lookup node needs next: (the node the call goes to after it)",
			"t.yaml:13: flow f node e: unreachable: no path leads here from start node a",
			"t.yaml:14: flow f node e: a gather node needs next: (the node the call goes to after it)",
			"t.yaml:15: flow f node g: unreachable: no path leads here from start node a",
			"t.yaml:16: flow f node g: a subflow node needs next: (the node the call goes to after it)",
		}},
		{"next on a terminal node", `
flows:
  f:
    nodes:
      a:
        queue: sales
        next: a
`, []string{"t.yaml:7: flow f node a: a queue node takes no next: the call is handed to routing"}},
		{"unknown targets", `
flows:
  f:
    nodes:
      a:
        play: [sound:x]
        next: menu
      menu:
        menu:
          prompt: [sound:x]
          keys: {"1": sale, "2": b}
          fail: oprator
      b:
        branch:
          - when: 'caller == "1"'
            next: nope
          - else: nope2
      operator:
        goto: missing
      sales:
        queue: sales
`, []string{
			`t.yaml:11: flow f node menu: key "1": no node "sale" in flow f (did you mean sales?)`,
			`t.yaml:12: flow f node menu: fail: no node "oprator" in flow f (did you mean operator?)`,
			`t.yaml:16: flow f node b: case 1: no node "nope" in flow f`,
			`t.yaml:17: flow f node b: else: no node "nope2" in flow f`,
			`t.yaml:18: flow f node operator: unreachable: no path leads here from start node a`,
			`t.yaml:19: flow f node operator: goto: no node "missing" in flow f`,
			`t.yaml:20: flow f node sales: unreachable: no path leads here from start node a`,
		}},
		{"start missing target", `
flows:
  f:
    start: begin
    nodes:
      begn:
        hangup: true
`, []string{`t.yaml:4: flow f: start: no node "begin" in flow f (did you mean begn?)`}},
		{"unreachable nodes", `
flows:
  f:
    nodes:
      a:
        transfer: {extension: "100", fail: b}
      b:
        lookup: {url: "https://x/", fail: c}
        next: c
      c:
        hangup: {}
      island:
        play: [sound:x]
        next: island2
      island2:
        menu: {prompt: [sound:x], keys: {"1": island}}
`, []string{
			"t.yaml:12: flow f node island: unreachable: no path leads here from start node a",
			"t.yaml:15: flow f node island2: unreachable: no path leads here from start node a",
		}},
		{"loop without caller input", `
flows:
  f:
    nodes:
      a:
        play: [sound:x]
        next: b
      b:
        set: {x: '"1"'}
        next: c
      c:
        branch:
          - when: 'x == "1"'
            next: a
          - else: d
      d:
        goto: d
`, []string{
			"t.yaml:5: flow f node a: loop with no caller input: a → b → c → a (the call would never leave it: put a menu or gather in the loop)",
			"t.yaml:16: flow f node d: loop with no caller input: d → d (the call would never leave it: put a menu or gather in the loop)",
		}},
		{"loop through a menu is a retry loop", `
flows:
  f:
    nodes:
      a:
        play: [sound:x]
        next: m
      m:
        menu: {prompt: [sound:x], keys: {"1": a, "2": q}, fail: a}
      q:
        queue: sales
`, nil},
		{"subflow unknown and recursion", `
flows:
  a:
    nodes:
      s:
        subflow: b
        next: t
      t:
        subflow: c-flow
        next: h
      h:
        hangup: true
  b:
    nodes:
      s:
        subflow: a
        next: r
      r:
        return: true
`, []string{
			`t.yaml:6: flow a node s: sub-flow recursion: a → b → a (a flow must not call itself, directly or through others)`,
			`t.yaml:9: flow a node t: subflow: no flow "c-flow"`,
		}},
		{"self recursion", `
flows:
  a:
    nodes:
      s:
        subflow: a
        next: r
      r:
        return: true
`, []string{`t.yaml:6: flow a node s: sub-flow recursion: a → a (a flow must not call itself, directly or through others)`}},
		{"return outside a sub-flow is allowed", `
flows:
  a:
    nodes:
      r:
        return: true
`, nil},
		{"unknown queue and mailbox", `
flows:
  f:
    nodes:
      a:
        transfer: {number: "+15551234567", fail: v}
      v:
        voicemail: {mailbox: suport}
        next: q
      q:
        queue: {name: marketing, priority: 1}
`, []string{
			`t.yaml:8: flow f node v: unknown mailbox "suport" (did you mean support?)`,
			`t.yaml:11: flow f node q: unknown queue "marketing": want one of billing, sales, support`,
		}},
		{"bad expressions", `
flows:
  f:
    nodes:
      a:
        branch:
          - when: 'hour +'
            next: b
          - when: 'caller'
            next: b
          - when: 'calendar("xmas")'
            next: b
          - when: 'calendar(caller)'
            next: b
          - else: b
      b:
        set: {y: '1 +* 2'}
        next: c
      c:
        hangup: true
`, []string{
			`t.yaml:7: flow f node a: when: bad expression "hour +": unexpected token EOF (1:6)`,
			`t.yaml:9: flow f node a: when: bad expression "caller": expected bool, but got string`,
			`t.yaml:11: flow f node a: when: unknown calendar "xmas" in "calendar(\"xmas\")"`,
			`t.yaml:13: flow f node a: when: bad expression "calendar(caller)": calendar() takes a calendar name in quotes`,
			`t.yaml:17: flow f node b: set y: bad expression "1 +* 2": unexpected token Operator("*") (1:4)`,
		}},
		{"unknown variables", `
flows:
  f:
    nodes:
      a:
        gather: {prompt: [sound:x], into: account}
        next: b
      b:
        branch:
          - when: 'acount == "1" && campaign == "x"'
            next: c
          - else: c
      c:
        play: ["recording:${acount}", "digits:${account}${dnis}", "sound:${campain}"]
        next: d
      d:
        lookup: {url: "https://crm/${account", headers: {X: "${tokn}"}}
        next: e
      e:
        say: {digits: "${caller}${nobody}"}
        next: f
      f:
        transfer: {number: "${phone}"}
`, []string{
			`t.yaml:10: flow f node b: when: unknown variable acount in "acount == \"1\" && campaign == \"x\"" (did you mean account?)`,
			`t.yaml:14: flow f node c: play: unknown variable acount in "recording:${acount}" (did you mean account?)`,
			`t.yaml:14: flow f node c: play: unknown variable campain in "sound:${campain}" (did you mean campaign?)`,
			`t.yaml:17: flow f node d: url: malformed template in "https://crm/${account": write ${name} with a variable name`,
			`t.yaml:17: flow f node d: header X: unknown variable tokn in "${tokn}"`,
			`t.yaml:20: flow f node e: say digits: unknown variable nobody in "${caller}${nobody}"`,
			`t.yaml:23: flow f node f: number: unknown variable phone in "${phone}"`,
		}},
		{"durations and numbers", `
flows:
  f:
    nodes:
      a:
        gather:
          prompt: [sound:x]
          min: 6
          max: 4
          timeout: 5 seconds
          inter_digit_timeout: -3s
          retries: -1
          into: pin
          pattern: '^[0-9'
          terminator: "##"
          fail: b
        next: b
      b:
        queue: {name: sales, priority: -5}
`, []string{
			`t.yaml:8: flow f node a: min 6 is more than max 4`,
			`t.yaml:10: flow f node a: timeout: bad duration "5 seconds": want e.g. 500ms, 5s, 1m30s`,
			`t.yaml:11: flow f node a: inter_digit_timeout: duration -3s must be positive`,
			`t.yaml:12: flow f node a: retries: -1 must not be negative`,
			"t.yaml:14: flow f node a: pattern \"^[0-9\" is not a regular expression: missing closing ]: `[0-9`",
			`t.yaml:15: flow f node a: terminator "##" is not one key: want 0-9, * or # (or "" for none)`,
			`t.yaml:19: flow f node b: priority: -5 must not be negative`,
		}},
		{"menu keys", `
flows:
  f:
    nodes:
      a:
        menu:
          prompt: [sound:x]
          keys: {"12": b, "A": b, "*": b}
      b:
        menu: {prompt: [sound:x], keys: {}}
`, []string{
			`t.yaml:8: flow f node a: menu key "12" is not one key: want 0-9, * or #`,
			`t.yaml:8: flow f node a: menu key "A" is not one key: want 0-9, * or #`,
			`t.yaml:10: flow f node b: menu has no keys: map at least one key to a node`,
		}},
		{"lookup method and url", `
flows:
  f:
    nodes:
      a:
        lookup: {method: DELETE, url: "ftp://crm/x", timeout: 2s}
        next: b
      b:
        lookup: {method: post, url: "${base}/x", body: '{"a": 1}'}
        next: c
      c:
        lookup: {url: "https://crm/x", body: "{}"}
        next: d
      d:
        hangup: true
`, []string{
			`t.yaml:6: flow f node a: method "DELETE": want GET or POST`,
			`t.yaml:6: flow f node a: url "ftp://crm/x" must start with http:// or https:// (written out, not from a variable)`,
			`t.yaml:9: flow f node b: url "${base}/x" must start with http:// or https:// (written out, not from a variable)`,
			`t.yaml:9: flow f node b: url: unknown variable base in "${base}/x"`,
			`t.yaml:12: flow f node c: body is sent only with method: POST`,
		}},
		{"say kinds and money", `
flows:
  f:
    nodes:
      a:
        say: {amount: "1"}
        next: b
      b:
        say: {money: "1.50", currency: dollars}
        next: c
      c:
        say: {number: "1", digits: "2"}
        next: d
      d:
        say: {number: "1", currency: EUR}
        next: e
      e:
        say: {}
        next: f
      f:
        hangup: true
`, []string{
			`t.yaml:6: flow f node a: unknown key amount in say: want one of digits, number, date, time, datetime, money, currency, language`,
			`t.yaml:9: flow f node b: currency "dollars" must be a 3-letter code (USD, EUR...)`,
			`t.yaml:12: flow f node c: say has two kinds, digits (line 12) and number: use two say nodes`,
			`t.yaml:15: flow f node d: currency is only for money, not number`,
			`t.yaml:18: flow f node e: say needs one of digits, number, date, time, datetime or money`,
		}},
		{"transfer targets", `
flows:
  f:
    nodes:
      a:
        transfer: {timeout: 30s, fail: b}
      b:
        transfer: {endpoint: PJSIP/1001, extension: "100", fail: c}
      c:
        transfer: {endpoint: "1001", fail: d}
      d:
        transfer: {number: "call me", fail: e}
      e:
        hangup: true
`, []string{
			`t.yaml:6: flow f node a: transfer needs one of endpoint, extension or number`,
			`t.yaml:8: flow f node b: transfer has two targets, endpoint (line 8) and extension: give exactly one`,
			`t.yaml:10: flow f node c: endpoint "1001" must be Technology/Resource, e.g. PJSIP/1001`,
			`t.yaml:12: flow f node d: number "call me" is not a phone number (digits, optionally with a leading +)`,
		}},
		{"duplicate keys", `
flows:
  f:
    nodes:
      a:
        play: [sound:x]
        next: b
      b:
        menu: {prompt: [sound:x], keys: {"1": a, "1": b}}
      a:
        hangup: true
  f:
    nodes:
      x:
        hangup: true
`, []string{
			`t.yaml:3: flow f: duplicate flow f: also defined at t.yaml:12`,
			`t.yaml:9: flow f node b: duplicate key 1 in keys (first at line 9)`,
			`t.yaml:10: flow f: duplicate node a (first at line 5)`,
			`t.yaml:12: flow f: duplicate flow f: also defined at t.yaml:3`,
		}},
		{"empty prompts and media schemes", `
flows:
  f:
    nodes:
      a:
        play: []
        next: b
      b:
        play: [sound:x, "", "http://x/y.wav", "sound:"]
        next: c
      c:
        menu: {prompt: [], keys: {"1": d}, invalid: []}
      d:
        play: {language: es}
        next: e
      e:
        hangup: {prompt: ["tone:ring", "characters:abc", "number:12", "recording:r"]}
`, []string{
			`t.yaml:6: flow f node a: play is empty: name at least one sound:, recording:, digits:, number:, characters: or tone: URI`,
			`t.yaml:9: flow f node b: play has an empty item`,
			`t.yaml:9: flow f node b: play: media "http://x/y.wav" has an unknown scheme: want sound:, recording:, digits:, number:, characters: or tone:`,
			`t.yaml:9: flow f node b: play: media "sound:" names nothing after sound:`,
			`t.yaml:12: flow f node c: prompt is empty: name at least one sound:, recording:, digits:, number:, characters: or tone: URI`,
			`t.yaml:12: flow f node c: invalid is empty: name at least one sound:, recording:, digits:, number:, characters: or tone: URI`,
			`t.yaml:14: flow f node d: play needs media: (the prompts to play)`,
		}},
		{"unsupported media scheme in every kind of prompt", `
flows:
  f:
    nodes:
      a:
        play: {media: [sound:x, bogus:thing], language: es}
        next: b
      b:
        menu:
          prompt: bogus:menu
          keys: {"1": c}
          invalid: [sound:x]
          timeout_prompt: [bogus:timeout]
      c:
        gather: {prompt: [bogus:gather], into: acct}
        next: d
      d:
        hangup: {prompt: [bogus:bye]}
`, []string{
			`t.yaml:6: flow f node a: media: media "bogus:thing" has an unknown scheme: ` + wantSchemes,
			`t.yaml:10: flow f node b: prompt: media "bogus:menu" has an unknown scheme: ` + wantSchemes,
			`t.yaml:13: flow f node b: timeout_prompt: media "bogus:timeout" has an unknown scheme: ` + wantSchemes,
			`t.yaml:15: flow f node c: prompt: media "bogus:gather" has an unknown scheme: ` + wantSchemes,
			`t.yaml:18: flow f node d: prompt: media "bogus:bye" has an unknown scheme: ` + wantSchemes,
		}},
		{"variables a node sets", `
flows:
  f:
    nodes:
      a:
        set: {"1x": '"a"', hour: '"b"', in: '"c"'}
        next: b
      b:
        gather: {prompt: [sound:x], into: dnis}
        next: c
      c:
        hangup: true
`, []string{
			`t.yaml:6: flow f node a: set: "1x" is not a variable name (letters, digits and _, not starting with a digit)`,
			`t.yaml:6: flow f node a: set: hour is a builtin variable and cannot be set`,
			`t.yaml:6: flow f node a: set: in is a reserved word and cannot name a variable`,
			`t.yaml:9: flow f node b: into: dnis is a builtin variable and cannot be set`,
		}},
		{"branch shape", `
flows:
  f:
    nodes:
      a:
        branch:
          - else: b
          - when: 'true'
            next: b
      b:
        branch:
          - when: 'true'
      c:
        branch: {when: x}
`, []string{
			`t.yaml:8: flow f node a: branch case 2 comes after else (line 7): else must be last`,
			`t.yaml:11: flow f node b: branch needs a last case - else: NODE (where the call goes when no condition holds)`,
			`t.yaml:12: flow f node b: branch case 1 needs next: (the node when it holds)`,
			`t.yaml:13: flow f node c: unreachable: no path leads here from start node a`,
			`t.yaml:14: flow f node c: branch must be a list of cases (- when: EXPR, next: NODE) ending with - else: NODE, not a mapping`,
		}},
		{"yaml syntax error", `
flows:
  f: [
`, []string{`t.yaml:3: invalid YAML: did not find expected node content`}},
		{"flow shape", `
flows:
  f:
    nodes: {}
  g:
    strat: a
    nodes:
      a: {hangup: true}
  h: [a]
`, []string{
			`t.yaml:4: flow f: flow f has no nodes`,
			`t.yaml:6: flow g: unknown key strat in flow g (did you mean start?)`,
			`t.yaml:9: flow h: flow h must be a mapping (start, language, nodes), not a list`,
		}},
		{"other top-level keys are ignored", `
log: {level: debug}
flows:
  f:
    nodes:
      a: {hangup: true}
`, nil},
		{"voicemail and hangup values", `
flows:
  f:
    nodes:
      a:
        voicemail: {mailbox: "1001", beep: maybe, max_length: 10s, min_length: 20s, terminator: "x"}
        next: b
      b:
        hangup: {cause: 300}
`, []string{
			`t.yaml:6: flow f node a: beep: "maybe" is not true or false`,
			`t.yaml:6: flow f node a: min_length 20s is more than max_length 10s`,
			`t.yaml:6: flow f node a: terminator "x" is not one key: want 0-9, * or # (or "" for none)`,
			`t.yaml:9: flow f node b: cause: 300 is out of range 1-127`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src, opts)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadEndpointsCheck(t *testing.T) {
	opts := exampleOptions()
	opts.Endpoints = func(e string) error {
		if e != "PJSIP/1001" {
			return errors.New("no such endpoint in pjsip.conf")
		}
		return nil
	}
	got := problems(t, `
flows:
  f:
    nodes:
      a:
        transfer: {endpoint: PJSIP/9999, fail: b}
      b:
        transfer: {endpoint: PJSIP/1001}
`, opts)
	want := []string{`t.yaml:6: flow f node a: endpoint "PJSIP/9999": no such endpoint in pjsip.conf`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLoadNilOptionsKnowNothing(t *testing.T) {
	got := problems(t, `
flows:
  f:
    nodes:
      a:
        branch:
          - when: 'calendar("support-hours")'
            next: q
          - else: v
      q:
        queue: sales
      v:
        voicemail: {mailbox: sales}
`, LoadOptions{})
	want := []string{
		`t.yaml:7: flow f node a: when: unknown calendar "support-hours" in "calendar(\"support-hours\")"`,
		`t.yaml:11: flow f node q: unknown queue "sales"`,
		`t.yaml:13: flow f node v: unknown mailbox "sales"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// complexFlow uses every node type; it must load, with defaults applied and
// programs compiled.
const complexFlow = `
flows:
  main:
    language: en
    nodes:
      welcome:
        play: [sound:welcome, sound:press-1]
        next: check
      check:
        branch:
          - when: 'calendar("support-hours") && weekday != "sun"'
            next: menu
          - when: 'caller startsWith "+1555" || dnis == "8000"'
            next: vip
          - else: closed
      menu:
        menu:
          prompt: [sound:main-menu]
          keys: {1: sales, "2": account, "0": operator, "#": again}
          retries: 0
          fail: operator
      account:
        gather: {prompt: [sound:enter-account], max: 10, into: account, terminator: "", fail: operator}
        next: crm
      crm:
        lookup:
          method: post
          url: "https://crm.example/accounts/${account}"
          body: '{"caller": "${caller}", "campaign": "${campaign}"}'
          map: {customer: name, tier: tier}
          fail: sales
        next: flags
      flags:
        set: {vip: 'tier == "gold"', greeting: '"hello " + customer', late: 'hour >= 18'}
        next: balance
      balance:
        say: {money: "12.50"}
        next: helper
      helper:
        subflow: common
        next: menu
      vip:
        queue: {name: sales, priority: 5, skills: {language: es}}
      sales:
        queue: sales
      operator:
        transfer: {endpoint: PJSIP/1001, fail: vm}
      closed:
        play: {media: [sound:closed], language: es}
        next: vm
      vm:
        voicemail: {mailbox: support, prompt: [sound:vm-intro]}
      again:
        goto: menu
  common:
    nodes:
      hi:
        say: {digits: "${caller}", language: en}
        next: done
      done:
        return: true
`

func TestLoadComplexFlow(t *testing.T) {
	opts := exampleOptions()
	opts.Passed = []string{"campaign"}
	s, err := LoadBytes("complex.yaml", []byte(complexFlow), opts)
	if err != nil {
		t.Fatal(err)
	}
	main := s.Flows["main"]
	if main.Start != "welcome" || main.Language != "en" || main.Pos != (Pos{"complex.yaml", 3}) {
		t.Errorf("flow main = start %q language %q pos %v", main.Start, main.Language, main.Pos)
	}
	for v := range map[string]bool{"account": true, "customer": true, "tier": true, "vip": true, "greeting": true, "late": true, "campaign": true} {
		if !s.Declared[v] {
			t.Errorf("%s not declared", v)
		}
	}
	if s.Declared["caller"] {
		t.Error("builtin caller in Declared")
	}

	// Defaults, and explicit zero values kept.
	m := main.Nodes["menu"].Menu
	if m.Timeout != 5*time.Second || m.Retries != 0 || m.Keys["1"] != "sales" || m.Keys["#"] != "again" {
		t.Errorf("menu = %+v", m)
	}
	g := main.Nodes["account"].Gather
	if g.Min != 1 || g.Max != 10 || g.Terminator != "" || g.Timeout != 5*time.Second || g.InterDigitTimeout != 3*time.Second || g.Retries != 2 || g.Into != "account" {
		t.Errorf("gather = %+v", g)
	}
	lk := main.Nodes["crm"].Lookup
	if lk.Method != "POST" || lk.Timeout != 3*time.Second || lk.Map["tier"] != "tier" || lk.Fail != "sales" {
		t.Errorf("lookup = %+v", lk)
	}
	if say := main.Nodes["balance"].Say; say.Kind != SayMoney || say.Value != "12.50" || say.Currency != "USD" {
		t.Errorf("say = %+v", say)
	}
	vm := main.Nodes["vm"].Voicemail
	if !vm.Beep || vm.MaxLength != 120*time.Second || vm.MaxSilence != 5*time.Second || vm.MinLength != time.Second || vm.Terminator != "#" || vm.Next != "" {
		t.Errorf("voicemail = %+v", vm)
	}
	if q := main.Nodes["vip"].Queue; q.Name != "sales" || q.Priority != 5 || q.Skills["language"] != "es" {
		t.Errorf("queue = %+v", q)
	}
	if p := main.Nodes["closed"].Play; p.Language != "es" || !slices.Equal(p.Media, Prompt{"sound:closed"}) {
		t.Errorf("play = %+v", p)
	}
	if n := main.Nodes["helper"]; n.Subflow != "common" || n.Next != "menu" {
		t.Errorf("subflow = %+v", n)
	}
	if n := main.Nodes["again"]; n.Type != NodeGoto || n.Goto != "menu" {
		t.Errorf("goto = %+v", n)
	}
	if h := s.Flows["common"].Nodes["done"]; h.Type != NodeReturn {
		t.Errorf("return = %+v", h)
	}

	// The compiled programs run.
	cases := main.Nodes["check"].Branch.Cases
	sunday := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) // a Sunday
	monday := sunday.AddDate(0, 0, 1)
	open := fakeCalendars{open: map[string]bool{"support-hours": true}}
	for _, c := range []struct {
		i     int
		facts Facts
		want  bool
	}{
		{0, Facts{Now: monday, Calendars: open}, true},
		{0, Facts{Now: sunday, Calendars: open}, false},
		{0, Facts{Now: monday, Calendars: fakeCalendars{}}, false},
		{1, Facts{Caller: "+15551234567"}, true},
		{1, Facts{Caller: "+4930123", DNIS: "8000"}, true},
		{1, Facts{Caller: "+4930123", DNIS: "8001"}, false},
	} {
		got, err := RunCond(cases[c.i].Program, c.facts, s.Declared)
		if err != nil || got != c.want {
			t.Errorf("case %d (%q) with %+v = %v, %v; want %v", c.i, cases[c.i].When, c.facts, got, err, c.want)
		}
	}
	set := main.Nodes["flags"].Set
	facts := Facts{Now: monday.Add(9 * time.Hour), Vars: map[string]string{"tier": "gold", "customer": "Ada"}}
	want := map[string]string{"vip": "true", "greeting": "hello Ada", "late": "true"}
	for _, a := range set {
		got, err := RunExpr(a.Program, facts, s.Declared)
		if err != nil || got != want[a.Var] {
			t.Errorf("set %s = %q, %v; want %q", a.Var, got, err, want[a.Var])
		}
	}
	if set[0].Var != "vip" || set[2].Var != "late" || set[0].Pos.Line != 34 {
		t.Errorf("set order/pos = %+v", set)
	}
}

func TestLoadSeveralProblemsAtOnce(t *testing.T) {
	_, err := LoadBytes("t.yaml", []byte(`
flows:
  f:
    nodes:
      a:
        play: [bad:x]
        next: nowhere
      b:
        queue: nope
`), exampleOptions())
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 4 {
		t.Fatalf("err = %v, want 4 problems", err)
	}
	want := `t.yaml:6: flow f node a: play: media "bad:x" has an unknown scheme: want sound:, recording:, digits:, number:, characters: or tone:
t.yaml:7: flow f node a: next: no node "nowhere" in flow f
t.yaml:8: flow f node b: unreachable: no path leads here from start node a
t.yaml:9: flow f node b: unknown queue "nope": want one of billing, sales, support`
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDirOrderAndChecksum(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.yaml":         "flows:\n  b:\n    nodes:\n      x: {subflow: a, next: y}\n      y: {hangup: true}\n",
		"a.yml":          "flows:\n  a:\n    nodes:\n      r: {return: true}\n",
		"sub/c.yaml":     "flows:\n  c:\n    nodes:\n      h: {hangup: true}\n",
		"README.md":      "not a flow",
		".hidden/x.yaml": "not: [valid",
	})
	main := filepath.Join(t.TempDir(), "switchboard.yaml")
	writeFiles(t, filepath.Dir(main), map[string]string{"switchboard.yaml": "log: {level: info}\n"})

	s, err := LoadDir(dir, []string{main}, exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "sub/c.yaml"), main}
	slices.Sort(want)
	if !slices.Equal(s.Files, want) {
		t.Errorf("Files = %v, want %v", s.Files, want)
	}
	if len(s.Flows) != 3 {
		t.Errorf("flows = %v", s.Flows)
	}

	again, err := LoadDir(dir, []string{main}, exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	if again.Checksum != s.Checksum || len(s.Checksum) != 64 {
		t.Errorf("checksum not stable: %s then %s", s.Checksum, again.Checksum)
	}
	// Same bytes through LoadFiles, in any order: same checksum.
	shuffled := slices.Clone(want)
	slices.Reverse(shuffled)
	viaFiles, err := LoadFiles(shuffled, exampleOptions())
	if err != nil || viaFiles.Checksum != s.Checksum {
		t.Errorf("LoadFiles checksum %v, %v; want %s", viaFiles, err, s.Checksum)
	}
	// One byte changed: another checksum.
	writeFiles(t, dir, map[string]string{"a.yml": "flows:\n  a:\n    nodes:\n      r: {return: true} \n"})
	changed, err := LoadDir(dir, []string{main}, exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	if changed.Checksum == s.Checksum {
		t.Error("checksum unchanged after a byte changed")
	}
}

func TestLoadFilesProblemsAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"one.yaml":   "flows:\n  main:\n    nodes:\n      a: {hangup: true}\n",
		"two.yaml":   "# comment\nflows:\n  main:\n    nodes:\n      b: {hangup: true}\n",
		"empty.yaml": "# nothing yet\n",
		"other.yaml": "queues: [a]\n",
	})
	_, err := LoadDir(dir, []string{filepath.Join(dir, "missing.yaml")}, exampleOptions())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := []string{filepath.Join(dir, "missing.yaml") + ": cannot read: no such file or directory"}
	if got := problemStrings(ve); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	_, err = LoadDir(dir, nil, exampleOptions())
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want = []string{
		filepath.Join(dir, "empty.yaml") + ": no flows: the file is empty",
		filepath.Join(dir, "one.yaml") + ":2: flow main: duplicate flow main: also defined at " + filepath.Join(dir, "two.yaml") + ":3",
		filepath.Join(dir, "other.yaml") + ":1: no top-level flows: key",
		filepath.Join(dir, "two.yaml") + ":3: flow main: duplicate flow main: also defined at " + filepath.Join(dir, "one.yaml") + ":2",
	}
	if got := problemStrings(ve); !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The main configuration may hold no flows.
	if _, err := LoadFiles([]string{filepath.Join(dir, "other.yaml"), filepath.Join(dir, "one.yaml")}, exampleOptions()); err != nil {
		t.Errorf("LoadFiles: %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "nope"), nil, exampleOptions()); err == nil {
		t.Error("LoadDir of a missing folder: no error")
	}
}

func problemStrings(ve *ValidationError) []string {
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestLoadPromptsAndCheckSounds(t *testing.T) {
	s, err := LoadBytes("p.yaml", []byte(`
flows:
  f:
    language: en
    nodes:
      a:
        play: {media: [sound:hola, "digits:123"], language: es}
        next: m
      m:
        menu: {prompt: [sound:menu, "sound:greeting-${tier}"], keys: {"1": s}, invalid: [sound:invalid]}
      s:
        set: {tier: '"gold"'}
        next: h
      h:
        hangup: {prompt: [sound:bye]}
  g:
    nodes:
      v:
        voicemail: {mailbox: sales, prompt: [sound:vm-intro]}
`), exampleOptions())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range s.Prompts() {
		got = append(got, p.Sound+"/"+p.Language+"@"+p.Pos.File+":"+strconv.Itoa(p.Pos.Line)+" "+p.Flow+"."+p.Node)
	}
	want := []string{
		"hola/es@p.yaml:6 f.a",
		"menu/en@p.yaml:9 f.m",
		"greeting-${tier}/en@p.yaml:9 f.m",
		"invalid/en@p.yaml:9 f.m",
		"bye/en@p.yaml:14 f.h",
		"vm-intro/@p.yaml:18 g.v",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Prompts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	have := map[string]bool{"hola/es": true, "menu/en": true, "bye/en": true}
	var asked []string
	probs := CheckSounds(s, func(name, lang string) bool {
		asked = append(asked, name)
		return have[name+"/"+lang]
	})
	var gotP []string
	for _, p := range probs {
		gotP = append(gotP, p.String())
	}
	wantP := []string{
		`p.yaml:9: flow f node m: the PBX has no sound "invalid" in language en`,
		`p.yaml:18: flow g node v: the PBX has no sound "vm-intro"`,
	}
	if !slices.Equal(gotP, wantP) {
		t.Errorf("CheckSounds:\n%s\nwant:\n%s", strings.Join(gotP, "\n"), strings.Join(wantP, "\n"))
	}
	if slices.Contains(asked, "greeting-${tier}") {
		t.Error("a templated sound name was checked")
	}
}

func TestValidationProblemString(t *testing.T) {
	for _, c := range []struct {
		p    Problem
		want string
	}{
		{Problem{Pos: Pos{"a.yaml", 3}, Flow: "f", Node: "n", Message: "m"}, "a.yaml:3: flow f node n: m"},
		{Problem{Pos: Pos{"a.yaml", 3}, Flow: "f", Message: "m"}, "a.yaml:3: flow f: m"},
		{Problem{Pos: Pos{"a.yaml", 0}, Message: "m"}, "a.yaml: m"},
		{Problem{Message: "m"}, "m"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.p, got, c.want)
		}
	}
}

func TestLoadGolden(t *testing.T) {
	_, err := LoadFiles([]string{"testdata/problems.yaml"}, exampleOptions())
	if err == nil {
		t.Fatal("testdata/problems.yaml loads")
	}
	want, rerr := os.ReadFile("testdata/problems.golden")
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got := err.Error() + "\n"; got != string(want) {
		t.Errorf("problems:\n%s\nwant (testdata/problems.golden):\n%s", got, want)
	}
}
