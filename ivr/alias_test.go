package ivr

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// aliasFanOut is a flow file whose aliases multiply: w flows that are
// each one aliased flow of w aliased nodes of w aliased branch cases, w^3
// expressions to compile from a file of about 30*w bytes.
func aliasFanOut(w int) string {
	var b strings.Builder
	b.WriteString("x:\n  b: &b {when: 'caller startsWith \"+1555\"', next: n0}\n")
	b.WriteString("  n: &n\n    branch: [" + strings.Repeat("*b, ", w) + "{else: n0}]\n")
	b.WriteString("  f: &f\n    nodes:\n")
	for i := range w {
		fmt.Fprintf(&b, "      n%d: *n\n", i)
	}
	b.WriteString("flows:\n")
	for i := range w {
		fmt.Fprintf(&b, "  f%d: *f\n", i)
	}
	return b.String()
}

// TestLoadRefusesAliasFanOut: a flow file whose aliases would make the
// loader compile tens of thousands of expressions is refused at once, at
// the alias that takes it past the bound.
func TestLoadRefusesAliasFanOut(t *testing.T) {
	got := problems(t, aliasFanOut(30), exampleOptions())
	// The definitions and the first flow alias (line 38; f expands to 4713
	// nodes) fit; the second (line 39) takes the file past 10*173+10000.
	want := []string{"t.yaml:39: YAML alias *f repeats 4713 nodes; with its aliases expanded the file would have 146303 nodes, more than the 11730 allowed for its 173 (aliases nested in aliases?)"}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoadRefusesAliasLoop: a node that names itself through an alias is
// refused at the alias, not walked round.
func TestLoadRefusesAliasLoop(t *testing.T) {
	got := problems(t, "flows:\n  f: &n\n    nodes:\n      a: *n\n", exampleOptions())
	want := []string{"t.yaml:4: YAML alias *n is inside the value it names: it would repeat forever"}
	if !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}

// TestLoadAcceptsSharedPrompts: aliases that share a prompt list are real
// use and load.
func TestLoadAcceptsSharedPrompts(t *testing.T) {
	src := "x: &p [sound:welcome, sound:press-1]\nflows:\n  f:\n    nodes:\n" +
		"      a: {play: *p, next: b}\n      b: {menu: {prompt: *p, keys: {\"1\": c}, invalid: *p}}\n      c: {hangup: {prompt: *p}}\n"
	if got := problems(t, src, exampleOptions()); got != nil {
		t.Errorf("problems %q", got)
	}
}

// flowFile is a valid flow file of n menu nodes in a chain.
func flowFile(n int) []byte {
	var b strings.Builder
	b.WriteString("flows:\n  main:\n    nodes:\n")
	for i := range n {
		fmt.Fprintf(&b, "      n%d:\n        menu: {prompt: [sound:menu-%d], keys: {\"1\": n%d, \"2\": end}, timeout: 5s}\n", i, i, i+1)
	}
	fmt.Fprintf(&b, "      n%d: {goto: end}\n      end: {hangup: {}}\n", n)
	return []byte(b.String())
}

// BenchmarkLoadBytes loads flow files of growing size: ns/node stays flat,
// and an alias fan-out is refused in the time of a small file.
func BenchmarkLoadBytes(b *testing.B) {
	opts := exampleOptions()
	for _, n := range []int{10, 100, 1000} {
		data := flowFile(n)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := LoadBytes("bench.yaml", data, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
	for _, w := range []int{30, 100} {
		data := []byte(aliasFanOut(w))
		b.Run(fmt.Sprintf("fanout=%d^3", w), func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadBytes("bomb.yaml", data, opts); err == nil {
					b.Fatal("alias fan-out accepted")
				}
			}
		})
	}
}
