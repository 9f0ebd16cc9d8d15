package routing_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

func cand(id string, order int, idleSec int, calls int, talkSec int, weight, skill int) routing.Candidate {
	return routing.Candidate{Agent: sb.AgentID(id), Order: order, IdleSince: at(idleSec), Calls: calls,
		TalkTime: time.Duration(talkSec) * time.Second, Weight: weight, Skill: skill}
}

func pickIDs(s routing.Strategy, cands []routing.Candidate, rng *rand.Rand) string {
	var ids []string
	for _, i := range s.Pick(nil, cands, rng) {
		ids = append(ids, string(cands[i].Agent))
	}
	return strings.Join(ids, ",")
}

func TestStrategies(t *testing.T) {
	//              id   order idle calls talk weight skill
	cands := []routing.Candidate{
		cand("b", 1, 50, 3, 300, 1, 5),
		cand("a", 0, 20, 5, 100, 1, 9),
		cand("c", 2, 10, 1, 500, 1, 9),
		cand("d", 3, 10, 1, 200, 1, 2),
	}
	tests := []struct {
		strategy string
		cands    []routing.Candidate
		want     string
	}{
		{routing.LongestIdle, cands, "c"}, // idle since 10 (c and d): order breaks the tie
		{"", cands, "c"},                  // default
		{routing.FewestCalls, cands, "c"}, // c and d one call each, c idle as long and first
		{routing.LeastTalkTime, cands, "a"},
		{routing.Linear, cands, "a"},
		{routing.RingAll, cands, "a,b,c,d"},
		{routing.BestSkill, cands, "c"}, // a and c level 9; c idle longer
		{routing.LongestIdle, nil, ""},
		{routing.RingAll, nil, ""},
		{routing.Random, nil, ""},
		{routing.WeightedRandom, nil, ""},
		{routing.RoundRobin, nil, ""},
	}
	for _, tt := range tests {
		s, err := routing.NewStrategy(tt.strategy)
		if err != nil {
			t.Fatal(err)
		}
		if got := pickIDs(s, tt.cands, rand.New(rand.NewPCG(1, 2))); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.strategy, got, tt.want)
		}
	}
}

func TestStrategyUnknownName(t *testing.T) {
	_, err := routing.NewStrategy("least-recent")
	if err == nil || !strings.Contains(err.Error(), "longest-idle") || !strings.Contains(err.Error(), "weighted-random") {
		t.Errorf("err %v", err)
	}
	for _, n := range routing.StrategyNames {
		s, err := routing.NewStrategy(n)
		if err != nil || s.Name() != n {
			t.Errorf("%s: %v %v", n, s, err)
		}
	}
}

func TestRoundRobinRemembers(t *testing.T) {
	s, _ := routing.NewStrategy(routing.RoundRobin)
	all := []routing.Candidate{cand("a", 0, 0, 0, 0, 1, 0), cand("b", 1, 0, 0, 0, 1, 0), cand("c", 2, 0, 0, 0, 1, 0)}
	var got []string
	for range 4 {
		got = append(got, pickIDs(s, all, nil))
	}
	// b is busy: the next after a is c.
	got = append(got, pickIDs(s, []routing.Candidate{all[0], all[2]}, nil))
	if g := strings.Join(got, " "); g != "a b c a c" {
		t.Errorf("round robin %s", g)
	}
}

func TestRandomStrategiesDeterministicAndWeighted(t *testing.T) {
	cands := []routing.Candidate{cand("a", 0, 0, 0, 0, 1, 0), cand("b", 1, 0, 0, 0, 3, 0), cand("c", 2, 0, 0, 0, 0, 0)}
	for _, name := range []string{routing.Random, routing.WeightedRandom} {
		s, _ := routing.NewStrategy(name)
		r1, r2 := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
		counts := map[string]int{}
		for range 10000 {
			x, y := pickIDs(s, cands, r1), pickIDs(s, cands, r2)
			if x != y {
				t.Fatalf("%s: same seed, different picks", name)
			}
			counts[x]++
		}
		// random: 1/3 each; weighted: 1:3:1 (weight 0 counts as 1).
		want := map[string]float64{"a": 1.0 / 3, "b": 1.0 / 3, "c": 1.0 / 3}
		if name == routing.WeightedRandom {
			want = map[string]float64{"a": 0.2, "b": 0.6, "c": 0.2}
		}
		for id, p := range want {
			if got := float64(counts[id]) / 10000; got < p-0.03 || got > p+0.03 {
				t.Errorf("%s: %s picked %.3f, want %.3f", name, id, got, p)
			}
		}
	}
}

// Each strategy, chosen by name in a queue, drives the router's choice.
func TestStrategyByNameInRouter(t *testing.T) {
	tests := []struct {
		strategy string
		want     string
	}{
		{routing.LongestIdle, "a2"}, // a2 logged in first... see below
		{routing.Linear, "a1"},
		{routing.BestSkill, "a3"},
		{routing.RingAll, "a1,a2,a3"},
	}
	for _, tt := range tests {
		cfg := routing.Config{Agents: []routing.AgentConfig{
			{ID: "a1", Skills: map[string]int{"s": 1}}, {ID: "a2", Skills: map[string]int{"s": 2}}, {ID: "a3", Skills: map[string]int{"s": 3}},
		}, Queues: []sb.Queue{{Name: "q", Skills: "skills.s > 0", Strategy: tt.strategy}}}
		h := newHarness(t, cfg)
		h.apply(routing.AgentLogin{Agent: "a2"}, at(0))
		h.apply(routing.AgentLogin{Agent: "a1"}, at(1))
		h.apply(routing.AgentLogin{Agent: "a3"}, at(2))
		o := offers(h.apply(routing.Enqueue{Call: "c", Queue: "q"}, at(3)))
		var got []string
		for _, a := range o[0].Agents {
			got = append(got, string(a))
		}
		if g := strings.Join(got, ","); g != tt.want {
			t.Errorf("%s: offered to %s, want %s", tt.strategy, g, tt.want)
		}
	}
}
