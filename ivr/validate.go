package ivr

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/parser"
)

// Problem is one thing wrong with a flow set, placed at the file and line of
// the offending key or value.
type Problem struct {
	Pos     Pos
	Flow    string // "" when the problem is outside any flow
	Node    string // "" when the problem is outside any node
	Message string
}

// String formats the problem as "file:line: flow F node N: message".
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Pos.File != "" && p.Pos.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.Pos.File, p.Pos.Line)
	case p.Pos.File != "":
		b.WriteString(p.Pos.File + ": ")
	}
	if p.Flow != "" {
		b.WriteString("flow " + p.Flow)
		if p.Node != "" {
			b.WriteString(" node " + p.Node)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a flow set, sorted by file
// and line, so an integrator fixes them all in one pass.
type ValidationError struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func newValidationError(ps []Problem) *ValidationError {
	ps = slices.Clone(ps)
	sortProblems(ps)
	return &ValidationError{Problems: ps}
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error into a problem at the line the
// parser names.
func yamlProblem(file string, err error) Problem {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			return Problem{Pos: Pos{File: file, Line: line}, Message: "invalid YAML: " + m[2]}
		}
	}
	return Problem{Pos: Pos{File: file}, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// validate runs the checks that need the whole set: node targets, start,
// reachability, loops without caller input, sub-flows, variables and
// expressions. Node-local checks ran while parsing.
func (l *loader) validate() {
	for _, p := range l.opts.Passed {
		l.set.Declared[p] = true
	}
	for _, f := range l.flows {
		fs := l.flowSrc[f.Name]
		l.checkTargets(fs)
		l.checkReachable(fs)
		l.checkInputLoops(fs)
		l.checkSubflows(fs)
		for _, n := range fs.order {
			l.checkNodeVars(l.at(n.Pos.File, f.Name, n.ID), n)
		}
	}
	l.checkRecursion()
}

// checkTargets reports start and node references to nodes the flow lacks.
func (l *loader) checkTargets(fs *flowSource) {
	f := fs.flow
	names := nodeNames(fs)
	if f.Start != "" && f.Nodes[f.Start] == nil && fs.startPos.Line > 0 {
		l.problems = append(l.problems, Problem{Pos: fs.startPos, Flow: f.Name,
			Message: fmt.Sprintf("start: no node %q in flow %s%s", f.Start, f.Name, didYouMean(f.Start, names))})
	}
	for _, n := range fs.order {
		for _, r := range l.nodeInfo[n].refs {
			if f.Nodes[r.target] == nil {
				l.problems = append(l.problems, Problem{Pos: r.pos, Flow: f.Name, Node: n.ID,
					Message: fmt.Sprintf("%s: no node %q in flow %s%s", r.what, r.target, f.Name, didYouMean(r.target, names))})
			}
		}
	}
}

func nodeNames(fs *flowSource) []string {
	out := make([]string, len(fs.order))
	for i, n := range fs.order {
		out[i] = n.ID
	}
	return out
}

// nodeSuccessors lists the nodes a node can continue at, in a stable order:
// next, menu keys (sorted), branch cases then else, goto, and the fail
// targets of menu, gather, lookup and transfer.
func nodeSuccessors(n *Node) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(n.Next)
	if n.Menu != nil {
		keys := make([]string, 0, len(n.Menu.Keys))
		for k := range n.Menu.Keys {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			add(n.Menu.Keys[k])
		}
		add(n.Menu.Fail)
	}
	if n.Gather != nil {
		add(n.Gather.Fail)
	}
	if n.Branch != nil {
		for _, c := range n.Branch.Cases {
			add(c.Next)
		}
		add(n.Branch.Else)
	}
	add(n.Goto)
	if n.Lookup != nil {
		add(n.Lookup.Fail)
	}
	if n.Transfer != nil {
		add(n.Transfer.Fail)
	}
	if n.Voicemail != nil {
		add(n.Voicemail.Next)
	}
	return out
}

// checkReachable reports each node the caller can never reach from start.
func (l *loader) checkReachable(fs *flowSource) {
	f := fs.flow
	if f.Nodes[f.Start] == nil {
		return // reported by checkTargets
	}
	seen := map[string]bool{f.Start: true}
	queue := []string{f.Start}
	for len(queue) > 0 {
		n := f.Nodes[queue[0]]
		queue = queue[1:]
		for _, s := range nodeSuccessors(n) {
			if f.Nodes[s] != nil && !seen[s] {
				seen[s] = true
				queue = append(queue, s)
			}
		}
	}
	for _, n := range fs.order {
		if !seen[n.ID] {
			l.problems = append(l.problems, Problem{Pos: n.Pos, Flow: f.Name, Node: n.ID,
				Message: fmt.Sprintf("unreachable: no path leads here from start node %s", f.Start)})
		}
	}
}

// nodeTakesInput reports whether a node waits on the caller (a key, a message,
// an answer), so a loop through it is a retry loop the caller can leave.
// Every other node runs on its own: a loop of only those never ends.
func nodeTakesInput(t NodeType) bool {
	switch t {
	case NodeMenu, NodeGather, NodeVoicemail, NodeTransfer:
		return true
	}
	return false
}

// checkInputLoops reports each cycle of nodes none of which takes caller
// input, once, as the list of its nodes.
func (l *loader) checkInputLoops(fs *flowSource) {
	f := fs.flow
	succ := func(id string) []string {
		var out []string
		for _, s := range nodeSuccessors(f.Nodes[id]) {
			if t := f.Nodes[s]; t != nil && t.Type != "" && !nodeTakesInput(t.Type) {
				out = append(out, s)
			}
		}
		return out
	}
	var ids []string
	for _, n := range fs.order {
		if n.Type != "" && !nodeTakesInput(n.Type) {
			ids = append(ids, n.ID)
		}
	}
	for _, cycle := range graphCycles(ids, succ) {
		first := f.Nodes[cycle[0]]
		l.problems = append(l.problems, Problem{Pos: first.Pos, Flow: f.Name, Node: first.ID,
			Message: fmt.Sprintf("loop with no caller input: %s (the call would never leave it: put a menu or gather in the loop)",
				strings.Join(append(cycle, cycle[0]), " → "))})
	}
}

// graphCycles finds the strongly connected components of the graph over ids
// (Tarjan) and returns, for each that holds a cycle, one shortest cycle
// through its first member in ids order.
func graphCycles(ids []string, succ func(string) []string) [][]string {
	order := make(map[string]int, len(ids))
	for i, id := range ids {
		order[id] = i
	}
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var comps [][]string
	var strong func(v string)
	strong = func(v string) {
		index[v], low[v] = len(index), len(index)
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range succ(v) {
			if _, known := order[w]; !known {
				continue
			}
			if _, seen := index[w]; !seen {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			comps = append(comps, comp)
		}
	}
	for _, id := range ids {
		if _, seen := index[id]; !seen {
			strong(id)
		}
	}
	var out [][]string
	for _, comp := range comps {
		slices.SortFunc(comp, func(a, b string) int { return cmp.Compare(order[a], order[b]) })
		start := comp[0]
		if len(comp) == 1 && !slices.Contains(succ(start), start) {
			continue
		}
		out = append(out, graphShortestCycle(start, comp, succ))
	}
	slices.SortFunc(out, func(a, b []string) int { return cmp.Compare(order[a[0]], order[b[0]]) })
	return out
}

// graphShortestCycle finds a shortest path from start back to start within comp.
func graphShortestCycle(start string, comp []string, succ func(string) []string) []string {
	in := map[string]bool{}
	for _, c := range comp {
		in[c] = true
	}
	prev := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range succ(v) {
			if !in[w] {
				continue
			}
			if w == start {
				path := []string{v}
				for p := v; p != start; {
					p = prev[p]
					path = append(path, p)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[w]; !seen {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []string{start} // not reached: start is on a cycle within comp
}

// checkSubflows reports sub-flow calls to flows the set lacks.
func (l *loader) checkSubflows(fs *flowSource) {
	for _, n := range fs.order {
		if n.Type != NodeSubflow || n.Subflow == "" {
			continue
		}
		if l.set.Flows[n.Subflow] == nil {
			l.problems = append(l.problems, Problem{Pos: l.nodeInfo[n].subflowPos, Flow: fs.flow.Name, Node: n.ID,
				Message: fmt.Sprintf("subflow: no flow %q%s", n.Subflow, didYouMean(n.Subflow, loadSortedKeys(l.set.Flows)))})
		}
	}
}

// checkRecursion reports flows that call themselves through sub-flows: the
// interpreter would nest calls without end.
func (l *loader) checkRecursion() {
	var names []string
	for _, f := range l.flows {
		names = append(names, f.Name)
	}
	calls := func(name string) []string {
		var out []string
		for _, n := range l.flowSrc[name].order {
			if n.Type == NodeSubflow && l.set.Flows[n.Subflow] != nil && !slices.Contains(out, n.Subflow) {
				out = append(out, n.Subflow)
			}
		}
		return out
	}
	for _, cycle := range graphCycles(names, calls) {
		next := cycle[0]
		if len(cycle) > 1 {
			next = cycle[1]
		}
		var at *Node
		for _, n := range l.flowSrc[cycle[0]].order {
			if n.Type == NodeSubflow && n.Subflow == next {
				at = n
				break
			}
		}
		l.problems = append(l.problems, Problem{Pos: l.nodeInfo[at].subflowPos, Flow: cycle[0], Node: at.ID,
			Message: fmt.Sprintf("sub-flow recursion: %s (a flow must not call itself, directly or through others)",
				strings.Join(append(cycle, cycle[0]), " → "))})
	}
}

// checkNodeVars checks a node's templates and compiles its expressions
// against the declared variables.
func (l *loader) checkNodeVars(c loadCtx, n *Node) {
	for _, t := range l.nodeInfo[n].templates {
		l.checkTemplate(c, t)
	}
	cals := l.opts.Calendars
	if cals == nil {
		cals = loadNoCalendars{}
	}
	if n.Branch != nil {
		for i := range n.Branch.Cases {
			cs := &n.Branch.Cases[i]
			prog, err := CompileExpr(cs.When, l.set.Declared, cals, true)
			if err != nil {
				c.add(cs.Pos.Line, "when: %s", l.exprError(cs.When, err))
				continue
			}
			cs.Program = prog
		}
	}
	for i := range n.Set {
		a := &n.Set[i]
		prog, err := CompileExpr(a.Expr, l.set.Declared, cals, false)
		if err != nil {
			c.add(a.Pos.Line, "set %s: %s", a.Var, l.exprError(a.Expr, err))
			continue
		}
		a.Program = prog
	}
}

// loadNoCalendars knows no calendar: LoadOptions.Calendars nil.
type loadNoCalendars struct{}

func (loadNoCalendars) Known(string) bool             { return false }
func (loadNoCalendars) IsOpen(string, time.Time) bool { return false }

// exprError explains a compile error; an unknown variable is named with the
// nearest declared one, which expr-lang's own message does not offer.
func (l *loader) exprError(src string, err error) string {
	if name := l.unknownIdent(src); name != "" {
		return fmt.Sprintf("unknown variable %s in %q%s", name, src, didYouMean(name, l.knownVars(true)))
	}
	return err.Error()
}

// unknownIdent returns the first identifier of an expression that is not a
// variable, a builtin or an expr-lang function ("" if none, or if the
// expression does not parse).
func (l *loader) unknownIdent(src string) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return ""
	}
	v := &exprIdentVisitor{}
	ast.Walk(&tree.Node, v)
	for _, id := range v.idents {
		if !l.set.Declared[id] && !IsBuiltin(id) && !slices.Contains(v.locals, id) {
			if _, fn := builtin.Index[id]; !fn {
				return id
			}
		}
	}
	return ""
}

// exprIdentVisitor collects the identifiers an expression uses and the
// names it declares with let.
type exprIdentVisitor struct{ idents, locals []string }

func (v *exprIdentVisitor) Visit(n *ast.Node) {
	switch n := (*n).(type) {
	case *ast.IdentifierNode:
		v.idents = append(v.idents, n.Value)
	case *ast.VariableDeclaratorNode:
		v.locals = append(v.locals, n.Name)
	}
}

// knownVars lists the declared variables and the builtins (all of them for
// expressions; caller and dnis for templates).
func (l *loader) knownVars(expr bool) []string {
	out := loadSortedKeys(l.set.Declared)
	if expr {
		return append(out, builtinNames...)
	}
	return append(out, "caller", "dnis")
}

// checkTemplate reports malformed ${...} and unknown variables in a template.
func (l *loader) checkTemplate(c loadCtx, t templateUse) {
	vars := TemplateVars(t.text)
	if strings.Count(t.text, "${") != len(vars) {
		c.add(t.pos.Line, "%s: malformed template in %q: write ${name} with a variable name", t.what, t.text)
	}
	for _, v := range vars {
		if v == "caller" || v == "dnis" || l.set.Declared[v] {
			continue
		}
		c.add(t.pos.Line, "%s: unknown variable %s in %q%s", t.what, v, t.text, didYouMean(v, l.knownVars(false)))
	}
}

// PromptRef is one use of a sound file by a flow, for checking against the
// sounds the PBX has.
type PromptRef struct {
	Sound    string // NAME of sound:NAME
	Language string // the prompt's language ("" = the PBX's default)
	Pos      Pos    // the node that plays it
	Flow     string
	Node     string
}

// Prompts lists every sound:NAME the set plays (play, menu, gather,
// voicemail and hangup prompts) with the language it is played in, sorted
// by place. A name may hold ${var} templates.
func (s *Set) Prompts() []PromptRef {
	var out []PromptRef
	for _, f := range s.Flows {
		for _, n := range f.Nodes {
			lang := f.Language
			var prompts []Prompt
			switch {
			case n.Play != nil:
				if n.Play.Language != "" {
					lang = n.Play.Language
				}
				prompts = append(prompts, n.Play.Media)
			case n.Menu != nil:
				prompts = append(prompts, n.Menu.Prompt, n.Menu.InvalidPrompt, n.Menu.TimeoutPrompt)
			case n.Gather != nil:
				prompts = append(prompts, n.Gather.Prompt, n.Gather.InvalidPrompt, n.Gather.TimeoutPrompt)
			case n.Voicemail != nil:
				prompts = append(prompts, n.Voicemail.Prompt)
			case n.Hangup != nil:
				prompts = append(prompts, n.Hangup.Prompt)
			}
			for _, p := range prompts {
				for _, m := range p {
					if name, ok := strings.CutPrefix(m, "sound:"); ok {
						out = append(out, PromptRef{Sound: name, Language: lang, Pos: n.Pos, Flow: f.Name, Node: n.ID})
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b PromptRef) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Flow, b.Flow), cmp.Compare(a.Node, b.Node))
	})
	return out
}

// CheckSounds reports every prompt whose sound the PBX lacks, as have
// answers (e.g. from ARI's sounds list). Names with ${var} templates are
// known only during a call and are skipped.
func CheckSounds(s *Set, have func(name, lang string) bool) []Problem {
	var out []Problem
	for _, p := range s.Prompts() {
		if strings.Contains(p.Sound, "${") || have(p.Sound, p.Language) {
			continue
		}
		msg := fmt.Sprintf("the PBX has no sound %q", p.Sound)
		if p.Language != "" {
			msg = fmt.Sprintf("the PBX has no sound %q in language %s", p.Sound, p.Language)
		}
		out = append(out, Problem{Pos: p.Pos, Flow: p.Flow, Node: p.Node, Message: msg})
	}
	return out
}

// loadSortedKeys returns a map's keys, sorted.
func loadSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// maxSuggestCandidates bounds the names didYouMean compares with.
const maxSuggestCandidates = 2000

// didYouMean returns " (did you mean X?)" for the candidate nearest to name,
// or "" when none is close.
func didYouMean(name string, candidates []string) string {
	if len(candidates) > maxSuggestCandidates {
		return "" // a generated file: comparing every pair would take long
	}
	best, bestD := "", 0
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := loadEditDistance(strings.ToLower(name), strings.ToLower(c))
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, min(3, len(name)/3))
	if best == "" || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// didYouMeanOrList suggests the nearest candidate, or lists them all.
func didYouMeanOrList(name string, candidates []string) string {
	if s := didYouMean(name, candidates); s != "" {
		return s
	}
	if len(candidates) == 0 {
		return ""
	}
	return ": want one of " + strings.Join(candidates, ", ")
}

// loadEditDistance is the Levenshtein distance, with a transposition counted as
// one edit (the commonest typo).
func loadEditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return max(len(ra), len(rb))
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
