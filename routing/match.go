package routing

import (
	"fmt"
	"slices"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// agentMatch is the set of agents a skill expression selects: those for
// which it is true. With def, every agent but those in flip; without,
// those in flip. flip is ascending.
type agentMatch struct {
	def  bool
	flip []int32
}

func (m *agentMatch) has(i int32) bool {
	_, in := slices.BinarySearch(m.flip, i)
	return in != m.def
}

// appendMembers appends the selected agents among order (ascending agent
// indexes when all is set: every agent, n of them), in that order.
func (m *agentMatch) appendMembers(dst []int32, order []int32, all bool, n int) []int32 {
	switch {
	case all && !m.def:
		return append(dst, m.flip...)
	case all:
		f := 0
		for i := range int32(n) {
			if f < len(m.flip) && m.flip[f] == i {
				f++
				continue
			}
			dst = append(dst, i)
		}
		return dst
	}
	for _, i := range order {
		if m.has(i) {
			dst = append(dst, i)
		}
	}
	return dst
}

// matcher evaluates skill expressions over every agent for New.
//
// Most expressions read nothing of the agent but skills.NAME for a few
// names (skills.billing >= 5). Such an expression gives the same result
// for every agent who has none of those skills (each reads 0), so it is
// run once for them, on an empty agent, and once per agent who has one of
// the skills: with 100,000 agents of 5 skills each out of 5,000, a queue's
// expression runs about 100 times rather than 100,000. Any other
// expression runs on every agent.
type matcher struct {
	envs    []agentEnv
	machine vm.VM
	// bySkill lists, per skill name, the agents who have it (any level),
	// ascending; built on first use.
	bySkill map[string][]int32
	cache   map[string]*agentMatch
}

func newMatcher(envs []agentEnv) *matcher {
	return &matcher{envs: envs, cache: map[string]*agentMatch{}}
}

// match returns the agents src selects ("" selects all); place names the
// expression in errors. Results are cached by source: queues often share
// expressions.
func (mt *matcher) match(src, place string) (*agentMatch, error) {
	if m, ok := mt.cache[src]; ok {
		return m, nil
	}
	m := &agentMatch{def: true}
	if src != "" {
		prog, _, err := compileSkills(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", place, err)
		}
		if m, err = mt.run(prog, place); err != nil {
			return nil, err
		}
	}
	mt.cache[src] = m
	return m, nil
}

func (mt *matcher) run(prog *vm.Program, place string) (*agentMatch, error) {
	if names, ok := skillReads(prog.Node(), nil); ok {
		// On an agent with none of the skills: the result of everyone
		// outside the index. An error there would be the first agent's
		// error (or a later one's): the full run below reports it.
		if out, err := mt.machine.Run(prog, &agentEnv{}); err == nil {
			def, _ := out.(bool)
			m := &agentMatch{def: def}
			for _, i := range mt.withSkills(names) {
				out, err := mt.machine.Run(prog, &mt.envs[i])
				if err != nil {
					return nil, fmt.Errorf("%s: agent %q: %v", place, mt.envs[i].ID, err)
				}
				if v, _ := out.(bool); v != def {
					m.flip = append(m.flip, i)
				}
			}
			return m, nil
		}
	}
	m := &agentMatch{}
	for i := range mt.envs {
		out, err := mt.machine.Run(prog, &mt.envs[i])
		if err != nil {
			return nil, fmt.Errorf("%s: agent %q: %v", place, mt.envs[i].ID, err)
		}
		if v, _ := out.(bool); v {
			m.flip = append(m.flip, int32(i))
		}
	}
	return m, nil
}

// withSkills lists the agents who have at least one of the skills,
// ascending.
func (mt *matcher) withSkills(names []string) []int32 {
	if mt.bySkill == nil {
		mt.bySkill = map[string][]int32{}
		for i := range mt.envs {
			for name := range mt.envs[i].Skills {
				mt.bySkill[name] = append(mt.bySkill[name], int32(i))
			}
		}
	}
	if len(names) == 1 {
		return mt.bySkill[names[0]]
	}
	var out []int32
	for _, n := range names {
		out = append(out, mt.bySkill[n]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// skillReads reports whether the expression reads nothing of the agent
// but skills.NAME (or skills["NAME"]) with constant names, and is built
// only of operators and constants, so that its result depends on those
// skill levels alone; it appends the names.
func skillReads(n ast.Node, names []string) ([]string, bool) {
	switch n := n.(type) {
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode, *ast.ConstantNode:
		return names, true
	case *ast.UnaryNode:
		return skillReads(n.Node, names)
	case *ast.BinaryNode:
		names, ok := skillReads(n.Left, names)
		if !ok {
			return nil, false
		}
		return skillReads(n.Right, names)
	case *ast.ConditionalNode:
		for _, x := range []ast.Node{n.Cond, n.Exp1, n.Exp2} {
			var ok bool
			if names, ok = skillReads(x, names); !ok {
				return nil, false
			}
		}
		return names, true
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		p, isStr := n.Property.(*ast.StringNode)
		if !ok || !isStr || id.Value != "skills" || n.Method {
			return nil, false
		}
		if !slices.Contains(names, p.Value) {
			names = append(names, p.Value)
		}
		return names, true
	}
	return nil, false
}
