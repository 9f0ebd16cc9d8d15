package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"

	sb "github.com/switchboard/switchboard"
)

// randomExpr is a skill expression of one of the shapes configurations
// use, some that the skill index serves (skills.X only), some not.
func randomExpr(rng *rand.Rand, nskills int) string {
	a, b, n := rng.IntN(nskills), rng.IntN(nskills), rng.IntN(10)
	switch rng.IntN(12) {
	case 0:
		return fmt.Sprintf("skills.s%d + skills.s%d > %d", a, b, n)
	case 1:
		return fmt.Sprintf("skills.s%d < %d", a, n) // true for agents without the skill
	case 2:
		return fmt.Sprintf(`skills["s%d"] >= %d || skills.s%d == 0`, a, n, b)
	case 3:
		return fmt.Sprintf("skills.s%d >= %d ? skills.s%d > 2 : !(skills.s%d in [1, 3, 5])", a, n, b, b)
	case 4:
		return fmt.Sprintf(`"s%d" in skills`, a) // reads the map itself
	case 5:
		return fmt.Sprintf(`skills.s%d >= %d && "es" in languages`, a, n)
	case 6:
		return fmt.Sprintf(`attributes.site == "m" || skills.s%d > %d`, a, n)
	case 7:
		return fmt.Sprintf("weight > 1 and skills.s%d >= 1", a)
	case 8:
		return fmt.Sprintf(`len(skills) >= %d`, rng.IntN(4))
	case 9:
		return fmt.Sprintf(`id startsWith "a1" && skills.s%d >= 0`, a)
	case 10:
		return fmt.Sprintf("-skills.s%d <= -%d", a, n)
	}
	return fmt.Sprintf("skills.s%d >= %d", a, n)
}

func randomAgentEnvs(rng *rand.Rand, n, nskills int) []agentEnv {
	envs := make([]agentEnv, n)
	for i := range envs {
		sk := map[string]int{}
		for range rng.IntN(5) {
			sk[fmt.Sprintf("s%d", rng.IntN(nskills))] = rng.IntN(10) // level 0 included
		}
		if rng.IntN(10) == 0 {
			sk = nil
		}
		envs[i] = agentEnv{ID: fmt.Sprintf("a%d", i), Skills: sk, Languages: []string{[]string{"en", "es"}[rng.IntN(2)]},
			Attributes: map[string]string{"site": []string{"m", "b"}[rng.IntN(2)]}, Weight: rng.IntN(3)}
	}
	return envs
}

// The matcher's choice (the skill index where it applies) is the plain
// evaluation of the expression on every agent.
func TestMatcherAgreesWithFullScan(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 11))
		nskills := 2 + rng.IntN(15)
		envs := randomAgentEnvs(rng, 1+rng.IntN(300), nskills)
		mt := newMatcher(envs)
		var machine vm.VM
		for range 30 {
			src := randomExpr(rng, nskills)
			m, err := mt.match(src, "test")
			if err != nil {
				t.Fatalf("seed %d: %s: %v", seed, src, err)
			}
			if !slices.IsSorted(m.flip) {
				t.Fatalf("seed %d: %s: flip not ascending", seed, src)
			}
			prog, _, err := compileSkills(src)
			if err != nil {
				t.Fatal(err)
			}
			var want, got []int32
			for i := range envs {
				out, err := machine.Run(prog, &envs[i])
				if err != nil {
					t.Fatal(err)
				}
				if v, _ := out.(bool); v {
					want = append(want, int32(i))
				}
				if m.has(int32(i)) {
					got = append(got, int32(i))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d: %s: matcher selects %v, full scan %v", seed, src, got, want)
			}
			if all := m.appendMembers(nil, nil, true, len(envs)); !slices.Equal(all, want) {
				t.Fatalf("seed %d: %s: members %v, want %v", seed, src, all, want)
			}
			order := []int32{int32(rng.IntN(len(envs))), 0, int32(len(envs) - 1)}
			var inOrder []int32
			for _, i := range order {
				if slices.Contains(want, i) {
					inOrder = append(inOrder, i)
				}
			}
			if got := m.appendMembers(nil, order, false, len(envs)); !slices.Equal(got, inOrder) {
				t.Fatalf("seed %d: %s: members of %v: %v, want %v", seed, src, order, got, inOrder)
			}
		}
	}
}

func TestSkillReads(t *testing.T) {
	tests := []struct {
		src   string
		names []string // nil: not served by the index
	}{
		{"skills.billing >= 5", []string{"billing"}},
		{`skills["language.es"] > 3 && skills.billing < 2`, []string{"language.es", "billing"}},
		{"skills.a + skills.a > 3", []string{"a"}},
		{"skills.a > 1 ? skills.b > 1 : skills.c in [1, 2]", []string{"a", "b", "c"}},
		{`"a" in skills`, nil},
		{"len(skills) > 2", nil},
		{`skills.a > 1 && "es" in languages`, nil},
		{"weight > 1", nil},
		{`attributes.site == "m"`, nil},
		{`id == "a1"`, nil},
		{"true", []string{}},
	}
	for _, tt := range tests {
		prog, _, err := compileSkills(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		names, ok := skillReads(prog.Node(), nil)
		if ok != (tt.names != nil) || (ok && !slices.Equal(names, tt.names) && len(names)+len(tt.names) > 0) {
			t.Errorf("%s: reads %v (%v), want %v", tt.src, names, ok, tt.names)
		}
	}
}

// New's tiers are what a plain scan of the configuration gives: per queue
// and escalation level, the agents the expression selects in member order,
// then the added queues' base agents not already in.
func TestTiersAgreeWithFullScan(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 12))
		nskills := 2 + rng.IntN(10)
		envs := randomAgentEnvs(rng, 1+rng.IntN(200), nskills)
		var cfg Config
		for _, e := range envs {
			cfg.Agents = append(cfg.Agents, AgentConfig{ID: sb.AgentID(e.ID), Skills: e.Skills, Languages: e.Languages, Attributes: e.Attributes, Weight: e.Weight})
		}
		nq := 1 + rng.IntN(8)
		for q := range nq {
			qc := sb.Queue{Name: sb.QueueName(fmt.Sprint("q", q)), Skills: randomExpr(rng, nskills)}
			if rng.IntN(5) == 0 {
				qc.Skills = ""
			}
			if rng.IntN(4) == 0 {
				for range 1 + rng.IntN(5) {
					if id := cfg.Agents[rng.IntN(len(cfg.Agents))].ID; !slices.Contains(qc.Agents, id) {
						qc.Agents = append(qc.Agents, id)
					}
				}
			}
			for k := range rng.IntN(3) {
				st := sb.EscalationStep{After: time.Duration(10*(k+1)) * time.Second, Skills: randomExpr(rng, nskills)}
				if rng.IntN(2) == 0 {
					st.AddQueues = []sb.QueueName{sb.QueueName(fmt.Sprint("q", rng.IntN(nq)))}
				}
				qc.Escalation = append(qc.Escalation, st)
			}
			cfg.Queues = append(cfg.Queues, qc)
		}
		r, err := New(cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var machine vm.VM
		progs := map[string]*vm.Program{}
		scan := func(src string, q sb.Queue) []int32 {
			prog := progs[src]
			if prog == nil && src != "" {
				prog, _, _ = compileSkills(src)
				progs[src] = prog
			}
			var order []int32
			if len(q.Agents) == 0 {
				for i := range envs {
					order = append(order, int32(i))
				}
			} else {
				for _, id := range q.Agents {
					if i := r.agentIdx[id]; !slices.Contains(order, i) {
						order = append(order, i)
					}
				}
			}
			var out []int32
			for _, i := range order {
				ok := true
				if src != "" {
					v, err := machine.Run(prog, &envs[i])
					if err != nil {
						t.Fatal(err)
					}
					ok, _ = v.(bool)
				}
				if ok {
					out = append(out, i)
				}
			}
			return out
		}
		for qi, q := range cfg.Queues {
			base := scan(q.Skills, q)
			if got := r.tiers[r.queues[qi].tiers[0]].members; !slices.Equal(got, base) {
				t.Fatalf("seed %d: queue %s (%s): base tier %v, want %v", seed, q.Name, q.Skills, got, base)
			}
			src := q.Skills
			var added []sb.QueueName
			for k, st := range q.Escalation {
				if st.Skills != "" {
					src = st.Skills
				}
				added = append(added, st.AddQueues...)
				want := scan(src, q)
				for _, aq := range added {
					ai := r.queueIdx[aq]
					for _, i := range scan(cfg.Queues[ai].Skills, cfg.Queues[ai]) {
						if !slices.Contains(want, i) {
							want = append(want, i)
						}
					}
				}
				local := r.queues[qi].stepTier[k+1]
				if got := r.tiers[r.queues[qi].tiers[local]].members; !slices.Equal(got, want) {
					t.Fatalf("seed %d: queue %s step %d (%s): tier %v, want %v", seed, q.Name, k, src, got, want)
				}
			}
		}
	}
}
