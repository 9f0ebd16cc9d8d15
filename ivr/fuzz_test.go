package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard/switchboard/internal/yamlguard"
)

// maxFuzzFlow bounds FuzzLoadBytes's inputs: the fuzzer minimises every
// input that finds new coverage at a cost that grows with the square of
// its size, and whole flow files would spend the fuzzing time on that.
const maxFuzzFlow = 3 << 10

// loadSeeds are flow files that exercise the loader, each under
// maxFuzzFlow: the example flows and the test data cut into one file per
// flow (comments dropped), the table tests' complex flow, alias and
// line-break cases.
func loadSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{[]byte(""), []byte("flows:\n"), []byte("flows: &a [*a]\n"),
		[]byte("flows:\n  f: &n\n    nodes:\n      a: *n\n"),
		[]byte("flows:\n  f:\n    nodes:\n      a: {goto: a}\n---\nflows: {}\n"),
		[]byte("flows:\r  f:\r    nodes:\r      a: {hangup: {}}\r      b: {goto: c}\r"),
		[]byte("flows:\r\n  f:\r\n    nodes:\r\n      a: {play: [sound:x], next: b}\r\n"),
		[]byte("flows:\u0085  f: {nodes: {a: {goto: b}}}\u2028x: ["),
		[]byte(aliasFanOut(3)), []byte(aliasFanOut(30)),
	}
	files, _ := filepath.Glob("../configs/flows/*.yaml")
	tdata, _ := filepath.Glob("testdata/*.yaml")
	sources := []string{complexFlow}
	for _, f := range append(files, tdata...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(data))
	}
	if len(files) > 0 {
		// The example flows together: they call each other.
		var all []string
		for _, src := range sources[1 : 1+len(files)] {
			all = append(all, strings.Replace(src, "flows:\n", "", 1))
		}
		sources = append(sources, "flows:\n"+strings.Join(all, "\n"))
	}
	for _, src := range sources {
		seeds = append(seeds, flowSeeds(t, src)...)
	}
	return seeds
}

// flowSeeds is a flow file without its comments, whole if it is small
// enough, and one file for each of its flows.
func flowSeeds(t testing.TB, src string) [][]byte {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return [][]byte{[]byte(src)} // a case of bad YAML: as it is
	}
	var strip func(n *yaml.Node)
	strip = func(n *yaml.Node) {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
		for _, c := range n.Content {
			strip(c)
		}
	}
	strip(&doc)
	var seeds [][]byte
	add := func(n *yaml.Node) {
		var out bytes.Buffer
		enc := yaml.NewEncoder(&out)
		enc.SetIndent(2)
		if err := enc.Encode(n); err != nil {
			t.Fatal(err)
		}
		if out.Len() <= maxFuzzFlow {
			seeds = append(seeds, out.Bytes())
		}
	}
	add(&doc)
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if flows := root.Content[i+1]; root.Content[i].Value == "flows" && flows.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(flows.Content); j += 2 {
				one := &yaml.Node{Kind: yaml.MappingNode, Content: flows.Content[j : j+2]}
				add(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{root.Content[i], one}})
			}
		}
	}
	return seeds
}

// FuzzLoadBytes: any input gives a Set or a *ValidationError with at least
// one problem placed in the file (at a line the file has, as the YAML
// parser counts lines), never a panic or both.
func FuzzLoadBytes(f *testing.F) {
	for _, s := range loadSeeds(f) {
		f.Add(s)
	}
	opts := exampleOptions()
	opts.Passed = []string{"campaign"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzFlow {
			return
		}
		s, err := LoadBytes("fuzz.yaml", data, opts)
		if err == nil {
			if s == nil || s.Checksum == "" || len(s.Files) != 1 {
				t.Fatalf("no error and Set %+v", s)
			}
			for _, fl := range s.Flows {
				if fl.Nodes[fl.Start] == nil {
					t.Fatalf("flow %s starts at missing node %q", fl.Name, fl.Start)
				}
				for _, n := range fl.Nodes {
					for _, next := range nodeSuccessors(n) {
						if fl.Nodes[next] == nil {
							t.Fatalf("flow %s node %s goes to missing node %q", fl.Name, n.ID, next)
						}
					}
				}
			}
			return
		}
		if s != nil {
			t.Fatal("a Set and an error")
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 {
			t.Fatalf("error %T %v: want a *ValidationError with problems", err, err)
		}
		lines := yamlguard.Lines(data)
		for _, p := range ve.Problems {
			if p.Pos.File != "fuzz.yaml" || p.Message == "" {
				t.Fatalf("unplaced problem %+v", p)
			}
			if p.Pos.Line < 0 || p.Pos.Line > lines {
				t.Fatalf("problem at line %d of %d: %v", p.Pos.Line, lines, p)
			}
		}
	})
}

// lookupSet is a flow whose first node is a lookup that maps path into
// the variable v: "ok" after a good answer, "fallback" after a bad one.
func lookupSet(t testing.TB, path string) *Set {
	l := &Node{ID: "crm", Type: NodeLookup, Next: "ok", Lookup: &Lookup{Method: "GET", URL: "https://crm.example/",
		Map: map[string]string{"v": path, "name": "customer.name"}, Fail: "fallback"}}
	return buildSet(t, []string{"v", "name"}, buildFlow("main", l, nQueue("ok", "ok"), nQueue("fallback", "fallback")))
}

// FuzzLookupAnswer feeds a CRM's answer to a lookup node: untrusted JSON
// of any shape, and any map path. The answer is taken exactly when it is
// one JSON document; a mapped value is valid UTF-8, within a bound of the
// answer's size, and what the path names (a string as it is, a number
// without exponent, an object or array as JSON that decodes to the same
// value); the session goes on to the node the outcome names.
func FuzzLookupAnswer(f *testing.F) {
	for _, s := range []struct{ body, path string }{
		{`{"customer":{"name":"Ann","tier":"gold","balance":1.2505e3,"vip":true,"phones":["+15550001","+15550002"]}}`, "customer.phones.1"},
		{`{"customer":{"name":"Ann","balance":1.2505e3}}`, "customer.balance"},
		{`{"customer":{"name":"Ann"}, "o": {"k": [1, "<&>", null]}}`, "o"},
		{`{"n": 1e308, "m": -1e-320, "big": 123456789012345678901234567890, "huge": 1e400}`, "n"},
		{`{"n": 1e308, "big": 123456789012345678901234567890, "huge": 1e400}`, "huge"},
		{`[{"a": "x"}, {"a": "\ud800\u2028"}]`, "1.a"},
		{`"just a string"`, ""}, {`42`, ""}, {`true`, ""}, {`null`, ""}, {`{}`, "a.b.c"},
		{`{"customer":`, "customer"}, {`{} {}`, ""}, {`{"a":1} x`, "a"}, {"\xff", ""}, {``, ""},
		{`{"a": {"": {"0": 1}}}`, "a..0"}, {`[[[[[]]]]]`, "0.0.-1"}, {`null`, "0"},
	} {
		f.Add([]byte(s.body), s.path)
	}
	sets := map[string]*Set{}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		doc, err := parseJSON(body)
		if valid := json.Valid(body); (err == nil) != valid {
			t.Fatalf("parseJSON error %v, json.Valid %v", err, valid)
		}
		if err != nil {
			checkLookupSession(t, sets, path, body, nil, false)
			return
		}
		got := jsonPath(doc, path)
		if !utf8.ValidString(got) {
			t.Fatalf("jsonPath(%q) = %q: not UTF-8", path, got)
		}
		// Escapes grow a character six-fold at most (U+2028 -> \u2028);
		// a float64 written out without exponent has at most ~330 digits.
		if len(got) > 6*len(body)+400 {
			t.Fatalf("jsonPath(%q): %d bytes from a %d-byte answer", path, len(got), len(body))
		}
		v, found := walk(doc, path)
		switch x := v.(type) {
		case nil:
			if got != "" {
				t.Fatalf("jsonPath(%q) = %q for nothing (found %v)", path, got, found)
			}
		case string:
			if got != x {
				t.Fatalf("jsonPath(%q) = %q, want %q", path, got, x)
			}
		case json.Number:
			checkNumber(t, string(x), got)
		case bool:
			if got != strconv.FormatBool(x) {
				t.Fatalf("jsonPath(%q) = %q for %v", path, got, x)
			}
		default:
			again, err := parseJSON([]byte(got))
			if err != nil || !reflect.DeepEqual(again, v) {
				t.Fatalf("jsonPath(%q) = %q: decodes to %v (%v), want %v", path, got, again, err, v)
			}
		}
		checkLookupSession(t, sets, path, body, doc, true)
	})
}

// walk is jsonPath's look-up written plainly: objects by key, arrays by a
// decimal index.
func walk(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	v := doc
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// checkNumber: a number comes out as the same value, without exponent (or
// as written when float64 cannot hold it).
func checkNumber(t *testing.T, written, got string) {
	t.Helper()
	if got == written {
		return
	}
	if strings.ContainsAny(got, "eE") {
		t.Fatalf("number %s written %q: has an exponent", written, got)
	}
	w, _, err1 := big.ParseFloat(written, 10, 64, big.ToNearestEven)
	g, _, err2 := big.ParseFloat(got, 10, 64, big.ToNearestEven)
	if err1 != nil || err2 != nil || w.Cmp(g) != 0 {
		t.Fatalf("number %s written %q (%v, %v)", written, got, err1, err2)
	}
}

// checkLookupSession runs the answer through a session: a good answer
// sets the mapped variables and queues to ok, a bad one to fallback.
func checkLookupSession(t *testing.T, sets map[string]*Set, path string, body []byte, doc any, good bool) {
	if strings.TrimSpace(path) == "" || len(path) > 256 {
		return // the loader refuses an empty path; a long one only slows the fuzzer
	}
	set := sets[path]
	if set == nil {
		if len(sets) > 1000 {
			clear(sets)
		}
		set = lookupSet(t, path)
		sets[path] = set
	}
	s, err := NewSession(set, "main", nil, newYork)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, c := range s.Step(beginCall(nil), thursday) {
		if l, ok := c.(LookupCmd); ok {
			token = l.Token
		}
	}
	if token == "" {
		t.Fatal("no lookup started")
	}
	var queued []string
	for _, c := range s.Step(LookupDone{Token: token, Status: 200, Body: body}, thursday) {
		if q, ok := c.(QueueCmd); ok {
			queued = append(queued, q.Queue)
		}
	}
	want := "fallback"
	if good {
		want = "ok"
		vars := s.Vars()
		if vars["v"] != jsonPath(doc, path) || vars["name"] != jsonPath(doc, "customer.name") {
			t.Fatalf("vars %q after answer %q", vars, body)
		}
	}
	if fmt.Sprint(queued) != "["+want+"]" {
		t.Fatalf("queued %v after answer %q, want %s", queued, body, want)
	}
}

// FuzzCompileExpr: any expression compiles or fails with an error, never a
// panic; a compiled condition runs.
func FuzzCompileExpr(f *testing.F) {
	for _, s := range []string{
		`calendar("support-hours")`, `caller startsWith "+1555"`, `tier == "gold"`, `hour >= 18 && weekday != "sun"`,
		`"hello " + customer`, `caller in ["+1", "+2"]`, `let x = 1; x + 1`, `calendar(caller)`, `len(caller) > 3`,
		`1 +`, `((((`, `tier matches "^g"`, `date == "2026-12-24"`, `nope`, "",
	} {
		f.Add(s)
	}
	declared := map[string]bool{"tier": true, "customer": true}
	cals := fakeCalendars{open: map[string]bool{"support-hours": true}}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1000 {
			return // expressions are one line; long ones only slow the fuzzer
		}
		if _, err := CompileExpr(src, declared, cals, false); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		prog, err := CompileExpr(src, declared, cals, true)
		if err != nil {
			return
		}
		_, _ = RunCond(prog, Facts{Caller: "+15551234567", Calendars: cals, Vars: map[string]string{"tier": "gold"}}, declared)
	})
}
