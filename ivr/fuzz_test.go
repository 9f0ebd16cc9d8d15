package ivr

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// loadSeeds are flow files that exercise the loader: the examples, the
// complex flow and the table tests' cases.
func loadSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{[]byte(complexFlow), []byte(""), []byte("flows:\n"), []byte("flows: &a [*a]\n"),
		[]byte("flows:\n  f: &n\n    nodes:\n      a: *n\n"),
		[]byte("flows:\n  f:\n    nodes:\n      a: {goto: a}\n---\nflows: {}\n")}
	files, _ := filepath.Glob("../configs/flows/*.yaml")
	tdata, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range append(files, tdata...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzLoadBytes: any input gives a Set or a *ValidationError with at least
// one placed problem, never a panic or both.
func FuzzLoadBytes(f *testing.F) {
	for _, s := range loadSeeds(f) {
		f.Add(s)
	}
	opts := exampleOptions()
	opts.Passed = []string{"campaign"}
	f.Fuzz(func(t *testing.T, data []byte) {
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
		for _, p := range ve.Problems {
			if p.Pos.File != "fuzz.yaml" || p.Message == "" {
				t.Fatalf("unplaced problem %+v", p)
			}
		}
	})
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
