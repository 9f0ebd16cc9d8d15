package ari

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// extenMatch reports whether Asterisk's dialplan extension ext (an
// exten => name) takes the dialed extension dialed, as main/pbx.c of
// Asterisk 22 matches them. A name without a leading "_" is literal (its
// "-" are eye candy, ignored on both sides). In a pattern N or n is
// [2-9], X or x [0-9], Z or z [1-9], [...] a class (a-b a range), "." one
// or more characters, "!" zero or more, "-" outside a class is ignored,
// and any other character is itself: a literal n must be written [n].
func extenMatch(ext, dialed string) bool {
	if !strings.HasPrefix(ext, "_") {
		return strings.ReplaceAll(ext, "-", "") == strings.ReplaceAll(dialed, "-", "")
	}
	p, s := ext[1:], dialed
	for p != "" {
		c := p[0]
		p = p[1:]
		switch c {
		case '-':
			continue
		case '.':
			return s != ""
		case '!':
			return true
		}
		if s == "" {
			return false
		}
		var ok bool
		switch c {
		case 'N', 'n':
			ok = s[0] >= '2' && s[0] <= '9'
		case 'X', 'x':
			ok = s[0] >= '0' && s[0] <= '9'
		case 'Z', 'z':
			ok = s[0] >= '1' && s[0] <= '9'
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return false // Asterisk: "Wrong usage of [] in the extension"
			}
			ok = inClass(p[:end], s[0])
			p = p[end+1:]
		default:
			ok = c == s[0]
		}
		if !ok {
			return false
		}
		s = s[1:]
	}
	return s == ""
}

// inClass reports whether c is in the character class set (the inside of
// [...]): single characters and ranges a-b; a "-" with no character on
// one side is itself.
func inClass(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		lo, hi := set[i], set[i]
		if i+2 < len(set) && set[i+1] == '-' {
			hi = set[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			return true
		}
	}
	return false
}

func TestExtenMatch(t *testing.T) {
	tests := []struct {
		ext, dialed string
		want        bool
	}{
		{"answer", "answer", true},
		{"answer", "answers", false},
		{"answer", "an-swer", true}, // "-" is eye candy in names too
		{"*52", "*52", true},
		{"_in-.", "in-in123-4", false}, // n is [2-9]: the old mistake
		{"_in-.", "i2-x", true},
		{"_i[n]-.", "in-in123-4", true},
		{"_i[n]-.", "in", false}, // "." wants at least one more
		{"_i[n]-.", "im-x", false},
		{"_i[n]!", "in", true}, // "!" takes none too
		{"_N", "1", false},
		{"_N", "2", true},
		{"_nXz", "200", false},
		{"_nXz", "201", true},
		{"_X.", "15551230000", true},
		{"_X.", "+15551230000", false},
		{"_+X.", "+15551230000", true},
		{"_10XX", "1001", true},
		{"_10XX", "10011", false},
		{"_NXX-XXXX", "5551234", true},
		{"_[a-c]", "b", true},
		{"_[a-c]", "d", false},
		{"_[-a]", "-", true},
		{"_*51X.", "*511001*1234", true},
		{"_*53X", "*531", true},
		{"_*53X", "*53", false},
		{"_[n", "n", false},
	}
	for _, tt := range tests {
		if got := extenMatch(tt.ext, tt.dialed); got != tt.want {
			t.Errorf("extenMatch(%q, %q) = %v, want %v", tt.ext, tt.dialed, got, tt.want)
		}
	}
}

// extenLine is one exten => line of a dialplan file.
type extenLine struct {
	context, name string
	line          int
}

// readDialplan lists the exten => lines of an extensions.conf-style file
// and its #include lines.
func readDialplan(t *testing.T, path string) (extens []extenLine, includes []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	context := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, ';'); i >= 0 && !strings.Contains(line[:i], `\`) {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#include"):
			includes = append(includes, strings.Trim(strings.TrimSpace(strings.TrimPrefix(line, "#include")), `"<>`))
		case strings.HasPrefix(line, "["):
			end := strings.IndexByte(line, ']')
			if end < 0 {
				t.Fatalf("%s:%d: bad context line %q", path, n, line)
			}
			context = line[1:end]
		default:
			key, val, ok := strings.Cut(line, "=>")
			if !ok || strings.TrimSpace(key) != "exten" {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSpace(val), ",")
			name, _, _ = strings.Cut(name, "/") // a caller id match
			extens = append(extens, extenLine{context: context, name: strings.TrimSpace(name), line: n})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return extens, includes
}

// checkTakes checks that dialed, in context, is taken by exactly one
// exten => line of extens, the one named want.
func checkTakes(t *testing.T, file string, extens []extenLine, context, dialed, want string) {
	t.Helper()
	var names []string
	for _, e := range extens {
		if e.context == context && extenMatch(e.name, dialed) && !slices.Contains(names, e.name) {
			names = append(names, e.name)
		}
	}
	if !slices.Equal(names, []string{want}) {
		t.Errorf("%s [%s]: %q is taken by %q, want exactly %q", file, context, dialed, names, want)
	}
}

// TestDialplanTakesEveryExtensionTheSuiteDials checks the conformance
// suite's dialplan against what the suite dials: a pattern that cannot
// match (such as "_in-.", where n means [2-9]) fails here rather than as
// a timeout on a real Asterisk.
func TestDialplanTakesEveryExtensionTheSuiteDials(t *testing.T) {
	file := filepath.Join("..", "configs", "asterisk", "extensions_test.conf")
	extens, _ := readDialplan(t, file)
	for _, tt := range []struct{ dialed, want string }{
		{inboundExten(token("in")), "_i[n]-."},
		{extAnswer, "answer"},
		{extBusy, "busy"},
		{extNoAnswer, "noanswer"},
		{extWait, "wait"},
		{extDTMF, "dtmf"},
		{extHangup, "hangup"},
	} {
		checkTakes(t, file, extens, dpContext, tt.dialed, tt.want)
	}
	main := filepath.Join("..", "configs", "asterisk", "extensions.conf")
	if _, includes := readDialplan(t, main); !slices.Contains(includes, "extensions_test.conf") {
		t.Errorf("%s does not #include extensions_test.conf: %v", main, includes)
	}
}

// TestShippedDialplan checks the production dialplan the same way: trunk
// DIDs, the agents' feature codes and the campaign context Switchboard
// continues calls into.
func TestShippedDialplan(t *testing.T) {
	file := filepath.Join("..", "configs", "asterisk", "extensions.conf")
	extens, _ := readDialplan(t, file)
	for _, tt := range []struct{ context, dialed, want string }{
		{"from-trunk", "15551230000", "_X."},
		{"from-trunk", "+15551230000", "_+X."},
		{"from-agents", "1001", "_10XX"},
		{"from-agents", "8000", "8000"},
		{"from-agents", "*511001*1234", "_*51X."},
		{"from-agents", "*52", "*52"},
		{"from-agents", "*532", "_*53X"},
		{"from-agents", "*54", "*54"},
		{"from-agents", "*55", "*55"},
		{"from-agents", "*301001", "_*30X."},
		{"switchboard-outbound", "amd", "amd"},
		{"switchboard-outbound", "beep", "beep"},
		{"switchboard-outbound", "direct", "direct"},
	} {
		checkTakes(t, file, extens, tt.context, tt.dialed, tt.want)
	}
}
