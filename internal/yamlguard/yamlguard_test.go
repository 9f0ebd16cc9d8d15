package yamlguard

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// laughs is a "billion laughs" document: level 0 is a list of width
// scalars, each next level a list of width aliases of the one before.
func laughs(prefix, indent string, width, levels int) string {
	var b strings.Builder
	b.WriteString(prefix)
	fmt.Fprintf(&b, "%sl0: &l0 [%s]\n", indent, strings.TrimSuffix(strings.Repeat("lol,", width), ","))
	for d := 1; d <= levels; d++ {
		fmt.Fprintf(&b, "%sl%d: &l%d [%s]\n", indent, d, d, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", d-1), width), ","))
	}
	return b.String()
}

func parse(t testing.TB, doc string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	return &n
}

// naive is the expanded size by expansion, for small documents.
func naive(n *yaml.Node) int {
	if n.Kind == yaml.AliasNode {
		return naive(n.Alias)
	}
	total := 1
	for _, c := range n.Content {
		total += naive(c)
	}
	return total
}

func TestCheckAccepts(t *testing.T) {
	for _, doc := range []string{
		"",
		"a: 1\n",
		"base: &b {level: debug, format: json}\nlog:\n  <<: *b\nother:\n  <<: *b\n",
		laughs("", "", 9, 2), // 81 repeated scalars: within the allowance
	} {
		if err := Check(parse(t, doc)); err != nil {
			t.Errorf("Check(%q) = %v, want nil", doc, err)
		}
	}
}

// TestCheckManyMergesAccepted: a large file that repeats a defaults block
// in every entry is real use, and within the limit however long it is.
func TestCheckManyMergesAccepted(t *testing.T) {
	var b strings.Builder
	b.WriteString("defaults: &d {endpoint: PJSIP/1, wrap_up: 10s, skills: {en: 5, es: 3}, max_calls: 1}\nagents:\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "  - {<<: *d, id: a%d}\n", i)
	}
	if err := Check(parse(t, b.String())); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestCheckRefusesLaughs(t *testing.T) {
	doc := laughs("flows:\n", "  ", 9, 8) // 9^9 scalars from ~500 bytes
	err := Check(parse(t, doc))
	if err == nil {
		t.Fatal("Check accepted a billion laughs")
	}
	// 103 nodes as written: limit 11030. Levels l0-l3 expand to 8310 nodes,
	// the first alias of l4 (line 6) adds l3's 7381 and crosses it.
	if got, want := err.Line, 6; got != want {
		t.Errorf("line %d, want %d (%v)", got, want, err)
	}
	if !strings.Contains(err.Msg, "alias *l3") || !strings.Contains(err.Msg, "repeats 7381 nodes") {
		t.Errorf("message %q: want the alias and its size", err.Msg)
	}
	if !strings.HasPrefix(err.Error(), "line 6: YAML alias") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestCheckRefusesLoops(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		line int
	}{
		{"a: &x {b: *x}\n", 1},
		{"flows: &a [*a]\n", 1},
		{"flows:\n  f: &n\n    nodes:\n      a: *n\n", 4},
		{"a: &x\n  - 1\n  - {<<: *x}\n", 3},
	} {
		err := Check(parse(t, tt.doc))
		if err == nil || err.Line != tt.line || !strings.Contains(err.Msg, "inside the value it names") {
			t.Errorf("Check(%q) = %v, want a loop at line %d", tt.doc, err, tt.line)
		}
	}
}

// TestCheckSizeMatchesExpansion: the memoised size is the size of the
// expanded tree.
func TestCheckSizeMatchesExpansion(t *testing.T) {
	for _, doc := range []string{
		laughs("", "", 3, 3),
		"a: &a {x: [1, 2]}\nb: &b [*a, *a, {y: *a}]\nc: [*b, *a]\n",
		"<<: &m {k: v}\nl: [*m, *m]\n",
	} {
		n := parse(t, doc)
		c := checker{memo: map[*yaml.Node]int{}, visiting: map[*yaml.Node]bool{}}
		if got, want := c.size(n), naive(n); got != want {
			t.Errorf("size(%q) = %d, want %d", doc, got, want)
		}
	}
}

func TestLines(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"", 1}, {"a", 1}, {"a\n", 2}, {"a\nb", 2},
		{"\rl", 2}, {"a\r\nb", 2}, {"a\r\rb", 3}, {"a\n\rb", 3}, {"a\r\n\nb", 3},
		{"a\u0085b", 2}, {"a\u2028b\u2029c", 3}, {"\xC2", 1}, {"\xE2\x80", 1},
		{"\xFF\xFEa\x00\n\x00b\x00", 2},           // UTF-16LE
		{"\xFE\xFF\x00a\x00\r\x00\n\x00b", 2},     // UTF-16BE, CR LF
		{"\xFE\xFF\x00a\x00\r\x00\r\x00b\x00", 3}, // odd trailing byte
	} {
		if got := Lines([]byte(tt.in)); got != tt.want {
			t.Errorf("Lines(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestLinesAgreesWithParser: the line the parser gives the last node is
// the last line Lines counts, whatever the line breaks.
func TestLinesAgreesWithParser(t *testing.T) {
	for _, brk := range []string{"\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029"} {
		doc := strings.Join([]string{"a: 1", "b: 2", "c: 3"}, brk)
		n := parse(t, doc)
		last := n.Content[0].Content[4]
		if got, want := last.Line, Lines([]byte(doc)); got != want {
			t.Errorf("break %q: parser puts c at line %d, Lines counts %d", brk, got, want)
		}
	}
}

// FuzzCheck: Check never panics, agrees with expansion on what it
// accepts, and places what it refuses inside the file.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "a: 1", "a: &x {b: *x}", laughs("", "", 3, 2), laughs("", "", 9, 6),
		"a: &a [1]\nb: {<<: *a}\n", "- &a [x, &b y]\n- *b\n- *a\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n yaml.Node
		if yaml.Unmarshal(data, &n) != nil {
			return
		}
		err := Check(&n)
		if err != nil {
			if err.Line < 1 || err.Line > Lines(data) || err.Msg == "" {
				t.Fatalf("refusal outside the file (%d lines): %v", Lines(data), err)
			}
			return
		}
		// Accepted: the expansion is within the limit, so naive is cheap.
		if got, limit := naive(&n), Limit(countLiteral(&n)); got > limit {
			t.Fatalf("accepted a document of %d expanded nodes, limit %d", got, limit)
		}
	})
}
