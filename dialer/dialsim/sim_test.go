package dialsim

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLeadStreamIsCommon(t *testing.T) {
	a, b := NewLeadStream(3, DefaultScenario()), NewLeadStream(3, DefaultScenario())
	// Drawn in a different order, the same leads.
	for i := 999; i >= 0; i -= 7 {
		a.Lead(i)
	}
	live := 0
	for i := range 1000 {
		if a.Lead(i) != b.Lead(i) {
			t.Fatalf("lead %d differs between streams of one seed", i)
		}
		if a.Lead(i).Outcome == Live {
			live++
		}
	}
	if live < 250 || live > 350 {
		t.Errorf("%d live of 1000, want about 300", live)
	}
	if NewLeadStream(4, DefaultScenario()).Lead(0) == a.Lead(0) {
		t.Error("seeds 3 and 4 start alike")
	}
}

func TestRunIsDeterministic(t *testing.T) {
	cfg := Config{Scenario: DefaultScenario(), Agents: 10, Hours: 1, Seed: 9}
	for _, m := range Methods {
		r1, err := RunMethod(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r2, _ := RunMethod(m, cfg)
		if diff := cmp.Diff(r1, r2); diff != "" {
			t.Errorf("%s: two runs differ (-first +second):\n%s", m, diff)
		}
	}
}

func TestRunSanity(t *testing.T) {
	cfg := Config{Scenario: DefaultScenario(), Agents: 10, Hours: 2, Seed: 1}
	res := map[string]Result{}
	for _, m := range Methods {
		r, err := RunMethod(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res[m] = r
		if occ := r.Occupancy(); occ <= 0 || occ > 1 {
			t.Errorf("%s: occupancy %g", m, occ)
		}
	}
	if got := res["progressive"].Abandoned; got != 0 {
		t.Errorf("progressive abandoned %d calls, want 0", got)
	}
	if a, b := res["ratio-3.0"].AbandonRate(), res["ratio-1.5"].AbandonRate(); a <= b {
		t.Errorf("ratio 3 abandons %g, ratio 1.5 %g: want more with more lines", a, b)
	}
	bound := res["bound"].Occupancy()
	if want := 180.0 / 195; bound < want-0.03 || bound > want+0.03 {
		t.Errorf("bound occupancy %g, want about talk/(talk+wrap) = %g", bound, want)
	}
	for m, r := range res {
		if r.Occupancy() > bound+0.01 {
			t.Errorf("%s occupancy %g above the bound %g", m, r.Occupancy(), bound)
		}
	}
}

func TestScenarioValidate(t *testing.T) {
	if err := DefaultScenario().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultScenario()
	bad.LiveAnswer, bad.Busy, bad.TalkMean, bad.AbandonCap = 0.8, 0.3, 0, 3
	err := bad.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"over 1", "talk mean", "abandon cap"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestUnknownMethod(t *testing.T) {
	if _, err := RunMethod("ratio-9", Config{Scenario: DefaultScenario(), Agents: 1, Hours: 1}); err == nil {
		t.Error("want an error for an unknown method")
	}
}
