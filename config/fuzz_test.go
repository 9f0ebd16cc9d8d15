package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard/switchboard/internal/yamlguard"
)

// FuzzLoadBytes: any input gives a Config that validates or a
// *ValidationError whose problems all have a file, a message and a line
// inside the input as the YAML parser counts lines.
//
// Inputs are kept under maxFuzzConfig: the fuzzer minimises every input
// that finds new coverage, at a cost that grows with the square of its
// size, and whole example files would spend the fuzzing time on that. The
// seeds are the example files cut into their sections instead.
func FuzzLoadBytes(f *testing.F) {
	example, err := os.ReadFile("../configs/switchboard.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range slices.Concat(sectionSeeds(defaultYAML), sectionSeeds(example)) {
		f.Add(s)
	}
	for _, s := range []string{
		fuzzCreds, "", "~", "- a", "log: [x]", "log:\n  level: {a: b}", "asterisk:\n  request_timeout: 5",
		"agents: {id: a}", "agents:\n  - ~\n  - [a]\n  - {id: 1, endpoint: PJSIP/1, x: y}",
		"a: &x {b: *x}", "base: &b {level: debug}\nlog:\n  <<: *b\n", "log.level: debug",
		"api:\n  tokens:\n    - token: abc\n", "demo:\n  speed: .nan\n", "demo:\n  seed: 99999999999999999999999",
		"\t- :", "{", "? [a]\n: b", "asterisk:\n  url: \"http://[::1\"\n",
		"calendars:\n  a:\n    timezone: UTC\n    hours: {mon-fri: [08:00-18:00], x: 1}\n    holidays: [{date: 2026-12-25}]\n",
		"calendars:\n  a: {timezone: UTC, exceptions: [{date: '*-12-24', hours: 24h}, {date: 2026-12-24, closed: true}]}\n",
		"calendars: [a]\nqueues: {a: b}\n", "queues:\n  - {name: a, agents: [x]}\nivr:\n  routes: [{dnis: '*', flow: f, calendar: c}]\n",
		"flows:\n  main: {start: a, nodes: {a: {hangup: {}}}}\n", "calendars:\n  \"1\": {timezone: UTC, tz: x}\n",
		"queues:\n  - {name: q, service_level: 80/20s, escalation: [{after: 1s, add_queues: [q], raise_priority: 2, offer_callback: true}], callback: {key: 1, windows: [mon 09:00-10:00]}}\nrouting:\n  vip: [{name: a, numbers: [+1], file: x}]\n",
		// Line breaks the YAML parser counts: a lone CR, CR LF, NEL, LS.
		"\rl", "\ro$", "log:\r\n  level: debug\r\n  x: 1\r\n", "log:\r  level: [\r", "a: 1\u0085b: [", "a: 1\u2028\u2029b: {",
		// Aliases: a loop, a billion laughs (refused at once), merges.
		"flows: &a [*a]\n", laughsDoc(8), "d: &d {level: info}\nlog: {<<: *d, format: json}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzConfig {
			return
		}
		cfg, err := LoadBytes("fuzz.yaml", data)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			if err := cfg.Validate(nil); err != nil {
				t.Fatalf("loaded config does not validate: %v", err)
			}
			return
		}
		if cfg != nil {
			t.Fatal("config returned with an error")
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 {
			t.Fatalf("error is not a non-empty *ValidationError: %T %v", err, err)
		}
		lines := yamlguard.Lines(data)
		for _, p := range ve.Problems {
			if p.Message == "" || p.File == "" {
				t.Fatalf("problem without message or place: %+v", p)
			}
			// Lines as the YAML parser counts them: CR LF, a lone CR, LF,
			// NEL, LS, PS.
			if p.Line < 0 || p.Line > lines {
				t.Fatalf("problem line %d outside the input: %+v", p.Line, p)
			}
			if utf8.ValidString(string(data)) && !utf8.ValidString(p.Message) {
				t.Fatalf("message is not UTF-8: %q", p.Message)
			}
		}
	})
}

// maxFuzzConfig bounds FuzzLoadBytes's inputs.
const maxFuzzConfig = 1 << 10

// fuzzCreds is the smallest configuration that validates.
const fuzzCreds = "asterisk:\n  username: u\n  password: p\n"

// sectionSeeds cuts a configuration file into small seeds, its comments
// dropped: the whole file if it is small enough, and each top-level
// section after the Asterisk credentials.
func sectionSeeds(data []byte) [][]byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		panic(fmt.Sprintf("seed file: %v", err))
	}
	var strip func(n *yaml.Node)
	strip = func(n *yaml.Node) {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
		for _, c := range n.Content {
			strip(c)
		}
	}
	root := doc.Content[0]
	strip(root)
	var seeds [][]byte
	add := func(n *yaml.Node) {
		var out bytes.Buffer
		enc := yaml.NewEncoder(&out)
		enc.SetIndent(2)
		if err := enc.Encode(n); err != nil {
			panic(err)
		}
		if out.Len() <= maxFuzzConfig {
			seeds = append(seeds, out.Bytes())
		}
	}
	add(root)
	var creds yaml.Node
	if err := yaml.Unmarshal([]byte(fuzzCreds), &creds); err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		m := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{root.Content[i], root.Content[i+1]}}
		if root.Content[i].Value != "asterisk" {
			m.Content = append(slices.Clone(creds.Content[0].Content), m.Content...)
		}
		add(m)
	}
	return seeds
}

// laughsDoc is a "billion laughs" document: 9^(levels+1) scalars once its
// nested aliases are expanded.
func laughsDoc(levels int) string {
	var b strings.Builder
	b.WriteString("flows:\n  l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for d := 1; d <= levels; d++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", d, d, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", d-1), 9), ","))
	}
	return b.String()
}

// vipNumber is a number as readVIP returns it.
var vipNumber = regexp.MustCompile(`^\+?[0-9]{1,32}$`)

// FuzzReadVIP: a VIP list file gives numbers in their normalised form and
// a problem at a line of the file for every other non-blank line, or an
// error naming file:line; the numbers read back unchanged when written
// one a line.
func FuzzReadVIP(f *testing.F) {
	for _, s := range []string{
		"# platinum customers\n+15550100\n\n  +1 555 0200  # the CEO\n5550300\n",
		"+15550100\n# ok\n\nabc\n+1 555 0100\n++1\n555-0100 # dashes\n",
		"+15550100\r\n+15550200\r\n", "+15550100\r+15550200\r", "1\r\r\n2\n\r3", "\r", "#\n#\n",
		"+1\t555\t0100\n\xff\xfe\n\u00a0+1\u00a0555\n1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		numbers, problems, err := readVIP(bytes.NewReader(data), "vip.txt")
		// Lines as an editor shows them: LF, CR LF or a lone CR ends one.
		norm := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
		lines := strings.Split(norm, "\n")
		if err != nil {
			var line int
			if _, scanErr := fmt.Sscanf(err.Error(), "vip.txt:%d:", &line); scanErr != nil || line < 1 || line > len(lines) {
				t.Fatalf("error without a line of the file: %v", err)
			}
			if !slices.ContainsFunc(lines, func(l string) bool { return len(l) >= maxVIPLine }) {
				t.Fatalf("error %v without a line that long", err)
			}
			return
		}
		entries := 0
		for _, l := range lines {
			if text, _, _ := strings.Cut(l, "#"); strings.TrimSpace(text) != "" {
				entries++
			}
		}
		if len(numbers)+len(problems) != entries {
			t.Fatalf("%d numbers and %d problems from %d entries", len(numbers), len(problems), entries)
		}
		last := 0
		for _, p := range problems {
			if p.File != "vip.txt" || p.Line <= last || p.Line > len(lines) || !strings.HasPrefix(p.Message, "number ") {
				t.Fatalf("problem %+v after line %d of %d", p, last, len(lines))
			}
			if !utf8.ValidString(p.Message) {
				t.Fatalf("message is not UTF-8: %q", p.Message)
			}
			last = p.Line
		}
		for _, n := range numbers {
			if !vipNumber.MatchString(n) {
				t.Fatalf("number %q accepted", n)
			}
		}
		again, problems, err := readVIP(strings.NewReader(strings.Join(numbers, "\n")), "again.txt")
		if err != nil || len(problems) > 0 || !slices.Equal(again, numbers) {
			t.Fatalf("numbers %q read back as %q, %v, %v", numbers, again, problems, err)
		}
	})
}

// TestReadVIP: lines end with LF, CR LF or a lone CR, and are numbered so;
// a line too long for the reader is an error at its line.
func TestReadVIP(t *testing.T) {
	numbers, problems, err := readVIP(strings.NewReader("+1 555 0100\r\nabc\r5550200 # two\r\r\n"+strings.Repeat("9", 33)+"\n"), "vip.txt")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+15550100", "5550200"}; !slices.Equal(numbers, want) {
		t.Errorf("numbers %q, want %q", numbers, want)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		`vip.txt:2: number must be a caller number: digits with an optional leading +, got "abc"`,
		`vip.txt:5: number must be a caller number of at most 32 digits, got 33 characters`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, _, err = readVIP(strings.NewReader("1\n2\n"+strings.Repeat("1", maxVIPLine+1)+"\n"), "vip.txt")
	if err == nil || err.Error() != "vip.txt:3: line longer than 64 KiB" {
		t.Errorf("long line: %v", err)
	}
}
