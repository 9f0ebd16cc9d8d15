package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/config"
)

// laughs is a "billion laughs" document under key: each level a list of
// nine aliases of the one before, 9^levels scalars from a few hundred
// bytes.
func laughs(key string, levels int) string {
	var b strings.Builder
	b.WriteString(key + ":\n  l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for d := 1; d <= levels; d++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", d, d, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", d-1), 9), ","))
	}
	return b.String()
}

// TestLoadRefusesAliasBomb: a small file whose nested aliases expand to
// millions of nodes is refused at once, with the file and line of the
// alias that makes it too large, before anything walks the expansion.
func TestLoadRefusesAliasBomb(t *testing.T) {
	clearEnv(t)
	for _, key := range []string{"flows", "calendars", "agents", "x"} {
		doc := creds + laughs(key, 8) // 477 bytes, 9^9 scalars expanded
		path := filepath.Join(t.TempDir(), "bomb.yaml")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(path)
		// Lines 1-3 creds, 4 the key, 5 l0, 6 l1 ...: the running size
		// passes the limit in l4 (line 9), at its first alias of l3.
		check(t, problems(t, err), []string{
			path + ":9: YAML alias *l3 repeats 7381 nodes; with its aliases expanded the file would have 490329073 nodes, more than the 11090 allowed for its 109 (aliases nested in aliases?)",
		})
	}
}

// TestLoadRefusesAliasLoop: an alias inside the value it names is refused
// at the alias.
func TestLoadRefusesAliasLoop(t *testing.T) {
	clearEnv(t)
	_, err := config.LoadBytes("loop.yaml", []byte(creds+"flows:\n  a: &x\n    b: [1, *x]\n"))
	check(t, problems(t, err), []string{"loop.yaml:6: YAML alias *x is inside the value it names: it would repeat forever"})
}

// TestLoadAcceptsMerges: aliases that repeat a defaults block in every
// entry are within the bound however many entries there are.
func TestLoadAcceptsMerges(t *testing.T) {
	clearEnv(t)
	var b strings.Builder
	b.WriteString(creds + "x-defaults: &d {skills: {billing: 5, sales: 3}, languages: [en, es], weight: 2}\nagents:\n")
	for i := range 500 {
		fmt.Fprintf(&b, "  - {<<: *d, id: \"%d\", endpoint: PJSIP/%d}\n", 1000+i, 1000+i)
	}
	_, err := config.LoadBytes("merges.yaml", []byte(b.String()))
	// x-defaults is not a key: the one problem is at its line.
	check(t, problems(t, err), []string{"merges.yaml:4: x-defaults: unknown key"})
}

// agentsFile is a valid configuration with n agents.
func agentsFile(n int) []byte {
	var b strings.Builder
	b.WriteString(creds + "agents:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: \"%d\", name: Agent %d, endpoint: PJSIP/%d, skills: {billing: %d}, languages: [en]}\n", 10000+i, i, 10000+i, i%10)
	}
	return []byte(b.String())
}

// BenchmarkLoadBytes loads files of growing size: ns/agent stays flat
// (load is linear in the file), and a small alias bomb is refused in the
// time of a small file.
func BenchmarkLoadBytes(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		data := agentsFile(n)
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := config.LoadBytes("bench.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/agent")
		})
	}
	for _, levels := range []int{4, 8, 16} {
		data := []byte(creds + laughs("flows", levels))
		b.Run(fmt.Sprintf("laughs=9^%d", levels+1), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := config.LoadBytes("bomb.yaml", data); err == nil {
					b.Fatal("alias bomb accepted")
				}
			}
		})
	}
}
