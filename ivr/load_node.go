package ivr

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"go.yaml.in/yaml/v3"
)

// loader builds a Set from parsed files and collects every problem. Node
// parsing checks what a node alone decides (keys, types, durations, numbers,
// patterns, media); validate checks what needs the whole set (targets,
// reachability, loops, sub-flows, variables, expressions).
type loader struct {
	opts      LoadOptions
	set       *Set
	problems  []Problem
	queues    map[string]bool
	mailboxes map[string]bool

	flows    []*Flow                // in load order
	flowSrc  map[string]*flowSource // by flow name
	nodeInfo map[*Node]*nodeSource
}

// flowSource is what validation needs to know about a flow's text.
type flowSource struct {
	flow     *Flow
	order    []*Node // nodes as written
	startPos Pos     // of start:, when given
}

// nodeSource is what validation needs to know about a node's text: the
// places of its references, templates and sub-flow call.
type nodeSource struct {
	refs       []nodeRef
	templates  []templateUse
	subflowPos Pos
}

// nodeRef is one reference to another node of the flow.
type nodeRef struct {
	what   string // next, fail, else, goto, key "1", case 2
	target string
	pos    Pos
}

// templateUse is one string that may hold ${var} templates.
type templateUse struct {
	what, text string
	pos        Pos
}

func newLoader(opts LoadOptions) *loader {
	l := &loader{
		opts:      opts,
		set:       &Set{Flows: map[string]*Flow{}, Declared: map[string]bool{}},
		queues:    map[string]bool{},
		mailboxes: map[string]bool{},
		flowSrc:   map[string]*flowSource{},
		nodeInfo:  map[*Node]*nodeSource{},
	}
	for _, q := range opts.Queues {
		l.queues[q] = true
	}
	for _, m := range opts.Mailboxes {
		l.mailboxes[m] = true
	}
	return l
}

// loadCtx places problems: the file, and the flow and node being read.
type loadCtx struct {
	l                *loader
	file, flow, node string
	keyLine          int // line of the node's type key: where a missing key is reported
}

func (l *loader) at(file, flow, node string) loadCtx {
	return loadCtx{l: l, file: file, flow: flow, node: node}
}

func (c loadCtx) pos(line int) Pos { return Pos{File: c.file, Line: line} }

func (c loadCtx) add(line int, format string, args ...any) {
	c.l.problems = append(c.l.problems, Problem{Pos: c.pos(line), Flow: c.flow, Node: c.node, Message: fmt.Sprintf(format, args...)})
}

// yamlMaxAlias bounds alias chains (a hostile file can make an alias refer
// to the node holding it).
const yamlMaxAlias = 16

// yamlDeref follows YAML aliases to the node they name.
func yamlDeref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < yamlMaxAlias; i++ {
		n = n.Alias
	}
	return n
}

func yamlIsNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// yamlKind describes a YAML value for messages.
func yamlKind(n *yaml.Node) string {
	switch {
	case n == nil || yamlIsNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

// yamlEntry is one key of a mapping.
type yamlEntry struct{ k, v *yaml.Node }

// fields returns a mapping's entries by key, reporting a value that is not a
// mapping, duplicate keys and keys not in allowed (suggesting the nearest).
func (c loadCtx) fields(n *yaml.Node, what string, allowed ...string) (map[string]yamlEntry, bool) {
	n = yamlDeref(n)
	if yamlIsNull(n) {
		return map[string]yamlEntry{}, true
	}
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "%s must be a mapping (%s), not %s", what, strings.Join(allowed, ", "), yamlKind(n))
		return nil, false
	}
	out := make(map[string]yamlEntry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlDeref(n.Content[i+1])
		if prev, dup := out[k.Value]; dup {
			c.add(k.Line, "duplicate key %s in %s (first at line %d)", k.Value, what, prev.k.Line)
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			c.add(k.Line, "unknown key %s in %s%s", k.Value, what, didYouMeanOrList(k.Value, allowed))
			continue
		}
		out[k.Value] = yamlEntry{k, v}
	}
	return out, true
}

// entries returns a mapping's entries in order (a free-form mapping: menu
// keys, set, lookup map, headers, skills), reporting duplicate keys.
func (c loadCtx) entries(n *yaml.Node, what string) ([]yamlEntry, bool) {
	n = yamlDeref(n)
	if yamlIsNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		c.add(n.Line, "%s must be a mapping, not %s", what, yamlKind(n))
		return nil, false
	}
	var out []yamlEntry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlDeref(n.Content[i+1])
		if first, dup := seen[k.Value]; dup {
			c.add(k.Line, "duplicate key %s in %s (first at line %d)", k.Value, what, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, yamlEntry{k, v})
	}
	return out, true
}

// str reads a scalar string value.
func (c loadCtx) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || yamlIsNull(n) {
		c.add(n.Line, "%s must be a value, not %s", what, yamlKind(n))
		return "", false
	}
	return n.Value, true
}

// target reads a node (or flow) name.
func (c loadCtx) target(n *yaml.Node, what string) (string, bool) {
	s, ok := c.str(n, what)
	if !ok {
		return "", false
	}
	if s == "" {
		c.add(n.Line, "%s is empty: name a node", what)
		return "", false
	}
	return s, true
}

func (c loadCtx) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := c.str(n, what)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		c.add(n.Line, "%s: bad duration %q: want e.g. 500ms, 5s, 1m30s", what, s)
		return 0, false
	}
	if d <= 0 {
		c.add(n.Line, "%s: duration %s must be positive", what, s)
		return 0, false
	}
	return d, true
}

func (c loadCtx) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	s, ok := c.str(n, what)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		c.add(n.Line, "%s: %q is not a whole number", what, s)
		return 0, false
	}
	if i < 0 && lo >= 0 {
		c.add(n.Line, "%s: %d must not be negative", what, i)
		return 0, false
	}
	if i < lo || i > hi {
		c.add(n.Line, "%s: %d is out of range %d-%d", what, i, lo, hi)
		return 0, false
	}
	return i, true
}

func (c loadCtx) boolean(n *yaml.Node, what string) (bool, bool) {
	s, ok := c.str(n, what)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	c.add(n.Line, "%s: %q is not true or false", what, s)
	return false, false
}

// prompt reads a media list (or a single URI). An empty prompt is an error
// when written (an optional prompt is left out instead).
func (c loadCtx) prompt(n *yaml.Node, what string, src *nodeSource) Prompt {
	n = yamlDeref(n)
	var items []*yaml.Node
	switch {
	case yamlIsNull(n):
	case n.Kind == yaml.ScalarNode:
		items = []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode:
		items = n.Content
	default:
		c.add(n.Line, "%s must be a list of media (sound:NAME, recording:NAME...), not %s", what, yamlKind(n))
		return nil
	}
	if len(items) == 0 {
		c.add(n.Line, "%s is empty: name at least one sound:, recording:, digits:, number:, characters: or tone: URI", what)
		return nil
	}
	out := make(Prompt, 0, len(items))
	for _, it := range items {
		it = yamlDeref(it)
		s, ok := c.str(it, what+" item")
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			c.add(it.Line, "%s has an empty item", what)
			continue
		}
		if err := sb.ValidMediaURI(s); err != nil {
			c.add(it.Line, "%s: %s", what, sb.ErrorMessage(err))
			continue
		}
		src.templates = append(src.templates, templateUse{what: what, text: s, pos: c.pos(it.Line)})
		out = append(out, s)
	}
	return out
}

// isMenuKey reports whether k is one key a caller can press in a menu.
func isMenuKey(k string) bool {
	return len(k) == 1 && strings.Contains("0123456789*#", k)
}

var (
	loadNameRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	loadVarRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	loadLanguageRE = regexp.MustCompile(`^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$`)
	loadNumberRE   = regexp.MustCompile(`^\+?[0-9]{2,20}$`)
	loadExtenRE    = regexp.MustCompile(`^[0-9A-Za-z*#+_-]+$`)
	loadCurrencyRE = regexp.MustCompile(`^[A-Za-z]{3}$`)
)

// exprReserved are expr-lang words that cannot name a variable.
var exprReserved = []string{"true", "false", "nil", "and", "or", "not", "in", "matches", "contains",
	"startsWith", "endsWith", "let", "if", "else"}

// variable reads the name of a variable a node sets and declares it.
func (c loadCtx) variable(n *yaml.Node, what string) (string, bool) {
	s, ok := c.str(n, what)
	if !ok {
		return "", false
	}
	switch {
	case !loadVarRE.MatchString(s):
		c.add(n.Line, "%s: %q is not a variable name (letters, digits and _, not starting with a digit)", what, s)
		return "", false
	case IsBuiltin(s):
		c.add(n.Line, "%s: %s is a builtin variable and cannot be set", what, s)
		return "", false
	case slices.Contains(exprReserved, s):
		c.add(n.Line, "%s: %s is a reserved word and cannot name a variable", what, s)
		return "", false
	}
	c.l.set.Declared[s] = true
	return s, true
}

func (c loadCtx) language(n *yaml.Node, what string) string {
	s, ok := c.str(n, what)
	if !ok {
		return ""
	}
	if !loadLanguageRE.MatchString(s) {
		c.add(n.Line, "%s: %q is not a language code (en, es, fr_CA...)", what, s)
		return ""
	}
	return s
}

// parseFlow reads one flow.
func (l *loader) parseFlow(file string, k, v *yaml.Node) {
	name := k.Value
	c := l.at(file, name, "")
	pos := c.pos(k.Line)
	if !loadNameRE.MatchString(name) {
		c.add(k.Line, "%q is not a flow name (letters, digits, _ . -)", name)
		return
	}
	if prev, dup := l.flowSrc[name]; dup {
		p := prev.flow.Pos
		c.add(k.Line, "duplicate flow %s: also defined at %s:%d", name, p.File, p.Line)
		l.problems = append(l.problems, Problem{Pos: p, Flow: name,
			Message: fmt.Sprintf("duplicate flow %s: also defined at %s:%d", name, file, k.Line)})
		return
	}
	f := &Flow{Name: name, Nodes: map[string]*Node{}, Pos: pos}
	fs := &flowSource{flow: f}
	l.flowSrc[name] = fs
	l.flows = append(l.flows, f)
	l.set.Flows[name] = f

	fields, ok := c.fields(v, "flow "+name, "start", "language", "nodes")
	if !ok {
		return
	}
	if e, ok := fields["start"]; ok {
		if s, ok := c.target(e.v, "start"); ok {
			f.Start, fs.startPos = s, c.pos(e.v.Line)
		}
	}
	if e, ok := fields["language"]; ok {
		f.Language = c.language(e.v, "language")
	}
	e, ok := fields["nodes"]
	if !ok {
		c.add(k.Line, "flow %s has no nodes:", name)
		return
	}
	nodes := yamlDeref(e.v)
	if yamlIsNull(nodes) || (nodes.Kind == yaml.MappingNode && len(nodes.Content) == 0) {
		c.add(e.k.Line, "flow %s has no nodes", name)
		return
	}
	if nodes.Kind != yaml.MappingNode {
		c.add(nodes.Line, "nodes must be a mapping of node names to nodes, not %s", yamlKind(nodes))
		return
	}
	for i := 0; i+1 < len(nodes.Content); i += 2 {
		nk, nv := nodes.Content[i], yamlDeref(nodes.Content[i+1])
		if prev, dup := f.Nodes[nk.Value]; dup {
			c.add(nk.Line, "duplicate node %s (first at line %d)", nk.Value, prev.Pos.Line)
			continue
		}
		if !loadNameRE.MatchString(nk.Value) {
			c.add(nk.Line, "%q is not a node name (letters, digits, _ . -)", nk.Value)
			continue
		}
		n := &Node{ID: nk.Value, Pos: c.pos(nk.Line)}
		f.Nodes[n.ID] = n
		fs.order = append(fs.order, n)
		l.parseNode(l.at(file, name, n.ID), n, nv)
	}
	if f.Start == "" && len(fs.order) > 0 {
		f.Start = fs.order[0].ID
	}
}

// loadNextRule says whether a node type needs, may have or must not have next.
type loadNextRule int

const (
	loadNextRequired loadNextRule = iota
	loadNextOptional
	loadNextNone
)

var loadNextRules = map[NodeType]loadNextRule{
	NodePlay: loadNextRequired, NodeSay: loadNextRequired, NodeSet: loadNextRequired, NodeLookup: loadNextRequired,
	NodeGather: loadNextRequired, NodeSubflow: loadNextRequired, NodeVoicemail: loadNextOptional,
	NodeMenu: loadNextNone, NodeBranch: loadNextNone, NodeQueue: loadNextNone, NodeTransfer: loadNextNone,
	NodeHangup: loadNextNone, NodeGoto: loadNextNone, NodeReturn: loadNextNone,
}

// loadNoNextReason tells why a type takes no next.
var loadNoNextReason = map[NodeType]string{
	NodeMenu:     "its keys and fail choose the next node",
	NodeBranch:   "its cases and else choose the next node",
	NodeQueue:    "the call is handed to routing",
	NodeTransfer: "the call leaves the IVR; use fail for no answer",
	NodeHangup:   "the call ends",
	NodeGoto:     "goto names the next node",
	NodeReturn:   "the calling flow's next follows",
}

func nodeTypeNames() []string {
	out := make([]string, len(NodeTypes))
	for i, t := range NodeTypes {
		out[i] = string(t)
	}
	return out
}

// parseNode reads one node: its one type key, next, and the type's value.
func (l *loader) parseNode(c loadCtx, n *Node, v *yaml.Node) {
	src := &nodeSource{}
	l.nodeInfo[n] = src
	if v.Kind != yaml.MappingNode {
		c.add(v.Line, "a node must be a mapping with one of %s, not %s", strings.Join(nodeTypeNames(), ", "), yamlKind(v))
		return
	}
	var typeKey, typeVal, nextVal *yaml.Node
	unknown := false
	seen := map[string]int{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], yamlDeref(v.Content[i+1])
		if first, dup := seen[k.Value]; dup {
			c.add(k.Line, "duplicate key %s (first at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		switch {
		case k.Value == "next":
			nextVal = val
		case slices.Contains(NodeTypes, NodeType(k.Value)):
			if typeKey != nil {
				c.add(k.Line, "node has two types, %s (line %d) and %s: a node does one thing; chain nodes with next", typeKey.Value, typeKey.Line, k.Value)
				continue
			}
			typeKey, typeVal = k, val
		default:
			unknown = true
			c.add(k.Line, "unknown key %s%s", k.Value, didYouMeanOrList(k.Value, append(nodeTypeNames(), "next")))
		}
	}
	if typeKey == nil {
		if !unknown {
			c.add(n.Pos.Line, "node has no type: want one of %s", strings.Join(nodeTypeNames(), ", "))
		}
		return
	}
	n.Type = NodeType(typeKey.Value)
	c.keyLine = typeKey.Line
	switch rule := loadNextRules[n.Type]; {
	case nextVal != nil && rule == loadNextNone:
		c.add(nextVal.Line, "a %s node takes no next: %s", n.Type, loadNoNextReason[n.Type])
	case nextVal != nil:
		if t, ok := c.target(nextVal, "next"); ok {
			n.Next = t
			src.refs = append(src.refs, nodeRef{what: "next", target: t, pos: c.pos(nextVal.Line)})
		}
	case rule == loadNextRequired:
		c.add(typeKey.Line, "a %s node needs next: (the node the call goes to after it)", n.Type)
	}
	switch n.Type {
	case NodePlay:
		n.Play = l.parsePlay(c, typeVal, src)
	case NodeSay:
		n.Say = l.parseSay(c, typeVal, src)
	case NodeMenu:
		n.Menu = l.parseMenu(c, typeVal, src)
	case NodeGather:
		n.Gather = l.parseGather(c, typeVal, src)
	case NodeBranch:
		n.Branch = l.parseBranch(c, typeVal, src)
	case NodeSet:
		n.Set = l.parseSet(c, typeVal)
	case NodeLookup:
		n.Lookup = l.parseLookup(c, typeVal, src)
	case NodeQueue:
		n.Queue = l.parseQueue(c, typeVal)
	case NodeTransfer:
		n.Transfer = l.parseTransfer(c, typeVal, src)
	case NodeVoicemail:
		n.Voicemail = l.parseVoicemail(c, typeVal, src)
		n.Voicemail.Next = n.Next
	case NodeHangup:
		n.Hangup = l.parseHangup(c, typeVal, src)
	case NodeGoto:
		if t, ok := c.target(typeVal, "goto"); ok {
			n.Goto = t
			src.refs = append(src.refs, nodeRef{what: "goto", target: t, pos: c.pos(typeVal.Line)})
		}
	case NodeSubflow:
		if t, ok := c.str(typeVal, "subflow"); ok {
			if t == "" {
				c.add(typeVal.Line, "subflow is empty: name a flow")
			}
			n.Subflow, src.subflowPos = t, c.pos(typeVal.Line)
		}
	case NodeReturn:
		if !yamlIsNull(typeVal) && !(typeVal.Kind == yaml.MappingNode && len(typeVal.Content) == 0) {
			if b, ok := c.boolean(typeVal, "return"); ok && !b {
				c.add(typeVal.Line, "return: false means nothing: write return: true")
			}
		}
	}
}

// ref reads a node reference (fail, else, a menu key's node).
func (c loadCtx) ref(n *yaml.Node, what string, src *nodeSource) string {
	t, ok := c.target(n, what)
	if !ok {
		return ""
	}
	src.refs = append(src.refs, nodeRef{what: what, target: t, pos: c.pos(n.Line)})
	return t
}

func (l *loader) parsePlay(c loadCtx, v *yaml.Node, src *nodeSource) *Play {
	p := &Play{}
	if v.Kind != yaml.MappingNode {
		p.Media = c.prompt(v, "play", src)
		if yamlIsNull(v) {
			c.add(v.Line, "play is empty: name at least one sound:, recording:, digits:, number:, characters: or tone: URI")
		}
		return p
	}
	f, ok := c.fields(v, "play", "media", "language")
	if !ok {
		return p
	}
	if e, ok := f["language"]; ok {
		p.Language = c.language(e.v, "language")
	}
	if e, ok := f["media"]; ok {
		p.Media = c.prompt(e.v, "media", src)
		if yamlIsNull(e.v) {
			c.add(e.k.Line, "media is empty: name at least one sound:, recording:, digits:, number:, characters: or tone: URI")
		}
	} else {
		c.add(c.keyLine, "play needs media: (the prompts to play)")
	}
	return p
}

var loadSayKinds = []SayKind{SayDigits, SayNumber, SayDate, SayTime, SayDateTime, SayMoney}

func (l *loader) parseSay(c loadCtx, v *yaml.Node, src *nodeSource) *Say {
	s := &Say{}
	var allowed []string
	for _, k := range loadSayKinds {
		allowed = append(allowed, string(k))
	}
	allowed = append(allowed, "currency", "language")
	f, ok := c.fields(v, "say", allowed...)
	if !ok {
		return s
	}
	var kindKey *yaml.Node
	for _, k := range loadSayKinds {
		e, ok := f[string(k)]
		if !ok {
			continue
		}
		if kindKey != nil {
			c.add(e.k.Line, "say has two kinds, %s (line %d) and %s: use two say nodes", kindKey.Value, kindKey.Line, k)
			continue
		}
		kindKey, s.Kind = e.k, k
		if val, ok := c.str(e.v, string(k)); ok {
			if strings.TrimSpace(val) == "" {
				c.add(e.v.Line, "say %s is empty: give a value or a ${variable}", k)
			}
			s.Value = val
			src.templates = append(src.templates, templateUse{what: "say " + string(k), text: val, pos: c.pos(e.v.Line)})
		}
	}
	if kindKey == nil && len(f) == len(v.Content)/2 { // an unknown key was reported already
		c.add(c.keyLine, "say needs one of digits, number, date, time, datetime or money")
	}
	if e, ok := f["currency"]; ok {
		if cur, ok := c.str(e.v, "currency"); ok {
			switch {
			case s.Kind != SayMoney && kindKey != nil:
				c.add(e.k.Line, "currency is only for money, not %s", s.Kind)
			case !loadCurrencyRE.MatchString(cur):
				c.add(e.v.Line, "currency %q must be a 3-letter code (USD, EUR...)", cur)
			default:
				s.Currency = strings.ToUpper(cur)
			}
		}
	} else if s.Kind == SayMoney {
		s.Currency = "USD"
	}
	if e, ok := f["language"]; ok {
		s.Language = c.language(e.v, "language")
	}
	return s
}

// loadMaxRetries bounds menu and gather retries: a caller stuck longer hangs up.
const loadMaxRetries = 10

func (l *loader) parseMenu(c loadCtx, v *yaml.Node, src *nodeSource) *Menu {
	m := &Menu{Timeout: 5 * time.Second, Retries: 2}
	f, ok := c.fields(v, "menu", "prompt", "keys", "timeout", "retries", "invalid", "timeout_prompt", "fail")
	if !ok {
		return m
	}
	if e, ok := f["prompt"]; ok {
		m.Prompt = c.prompt(e.v, "prompt", src)
		if yamlIsNull(e.v) {
			c.add(e.k.Line, "prompt is empty: a menu tells the caller the choices")
		}
	} else {
		c.add(c.keyLine, "menu needs prompt: (what the caller hears before pressing a key)")
	}
	keyLine := c.keyLine
	if e, ok := f["keys"]; ok {
		keyLine = e.k.Line
		entries, _ := c.entries(e.v, "keys")
		m.Keys = map[string]string{}
		for _, ke := range entries {
			if !isMenuKey(ke.k.Value) {
				c.add(ke.k.Line, "menu key %q is not one key: want 0-9, * or #", ke.k.Value)
				continue
			}
			if t := c.ref(ke.v, fmt.Sprintf("key %q", ke.k.Value), src); t != "" {
				m.Keys[ke.k.Value] = t
			}
		}
	}
	if len(m.Keys) == 0 {
		if e, ok := f["keys"]; !ok || len(yamlDeref(e.v).Content) == 0 {
			c.add(keyLine, "menu has no keys: map at least one key to a node")
		}
	}
	if e, ok := f["timeout"]; ok {
		if d, ok := c.duration(e.v, "timeout"); ok {
			m.Timeout = d
		}
	}
	if e, ok := f["retries"]; ok {
		if r, ok := c.integer(e.v, "retries", 0, loadMaxRetries); ok {
			m.Retries = r
		}
	}
	if e, ok := f["invalid"]; ok {
		m.InvalidPrompt = c.prompt(e.v, "invalid", src)
	}
	if e, ok := f["timeout_prompt"]; ok {
		m.TimeoutPrompt = c.prompt(e.v, "timeout_prompt", src)
	}
	if e, ok := f["fail"]; ok {
		m.Fail = c.ref(e.v, "fail", src)
	}
	return m
}

// loadMaxDigits bounds a gather: longer numbers are not typed on a keypad.
const loadMaxDigits = 64

func (l *loader) parseGather(c loadCtx, v *yaml.Node, src *nodeSource) *Gather {
	g := &Gather{Min: 1, Max: 20, Terminator: "#", Timeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second, Retries: 2}
	f, ok := c.fields(v, "gather", "prompt", "min", "max", "terminator", "timeout", "inter_digit_timeout",
		"pattern", "into", "retries", "invalid", "timeout_prompt", "fail")
	if !ok {
		return g
	}
	if e, ok := f["prompt"]; ok {
		g.Prompt = c.prompt(e.v, "prompt", src)
		if yamlIsNull(e.v) {
			c.add(e.k.Line, "prompt is empty: a gather tells the caller what to enter")
		}
	} else {
		c.add(c.keyLine, "gather needs prompt: (what the caller hears before entering digits)")
	}
	minOK, maxOK := true, true
	var minLine int
	if e, ok := f["min"]; ok {
		minLine = e.v.Line
		g.Min, minOK = c.integer(e.v, "min", 1, loadMaxDigits)
	}
	if e, ok := f["max"]; ok {
		g.Max, maxOK = c.integer(e.v, "max", 1, loadMaxDigits)
		if minLine == 0 {
			minLine = e.v.Line
		}
	}
	if minOK && maxOK && g.Min > g.Max {
		c.add(minLine, "min %d is more than max %d", g.Min, g.Max)
	}
	if e, ok := f["terminator"]; ok {
		if t, ok := c.str(e.v, "terminator"); ok {
			if t != "" && !isMenuKey(t) {
				c.add(e.v.Line, "terminator %q is not one key: want 0-9, * or # (or \"\" for none)", t)
			}
			g.Terminator = t
		}
	}
	if e, ok := f["timeout"]; ok {
		if d, ok := c.duration(e.v, "timeout"); ok {
			g.Timeout = d
		}
	}
	if e, ok := f["inter_digit_timeout"]; ok {
		if d, ok := c.duration(e.v, "inter_digit_timeout"); ok {
			g.InterDigitTimeout = d
		}
	}
	if e, ok := f["pattern"]; ok {
		if p, ok := c.str(e.v, "pattern"); ok {
			if _, err := regexp.Compile(p); err != nil {
				c.add(e.v.Line, "pattern %q is not a regular expression: %s", p, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
			g.Pattern = p
		}
	}
	if e, ok := f["into"]; ok {
		g.Into, _ = c.variable(e.v, "into")
	} else {
		c.add(c.keyLine, "gather needs into: (the variable the digits are stored in)")
	}
	if e, ok := f["retries"]; ok {
		if r, ok := c.integer(e.v, "retries", 0, loadMaxRetries); ok {
			g.Retries = r
		}
	}
	if e, ok := f["invalid"]; ok {
		g.InvalidPrompt = c.prompt(e.v, "invalid", src)
	}
	if e, ok := f["timeout_prompt"]; ok {
		g.TimeoutPrompt = c.prompt(e.v, "timeout_prompt", src)
	}
	if e, ok := f["fail"]; ok {
		g.Fail = c.ref(e.v, "fail", src)
	}
	return g
}

func (l *loader) parseBranch(c loadCtx, v *yaml.Node, src *nodeSource) *Branch {
	b := &Branch{}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		c.add(v.Line, "branch must be a list of cases (- when: EXPR, next: NODE) ending with - else: NODE, not %s", yamlKind(v))
		return b
	}
	var elseLine int
	for i, item := range v.Content {
		item = yamlDeref(item)
		f, ok := c.fields(item, fmt.Sprintf("branch case %d", i+1), "when", "next", "else")
		if !ok {
			continue
		}
		if elseLine != 0 {
			c.add(item.Line, "branch case %d comes after else (line %d): else must be last", i+1, elseLine)
			continue
		}
		we, hasWhen := f["when"]
		ne, hasNext := f["next"]
		ee, hasElse := f["else"]
		switch {
		case hasElse && (hasWhen || hasNext):
			c.add(ee.k.Line, "else stands alone: write - else: NODE as the last case")
		case hasElse:
			elseLine = ee.k.Line
			b.Else = c.ref(ee.v, "else", src)
		case !hasWhen:
			c.add(item.Line, "branch case %d needs when: (a condition)", i+1)
		case !hasNext:
			c.add(item.Line, "branch case %d needs next: (the node when it holds)", i+1)
		default:
			w, _ := c.str(we.v, "when")
			cs := Case{When: w, Pos: c.pos(we.v.Line)}
			cs.Next = c.ref(ne.v, fmt.Sprintf("case %d", i+1), src)
			b.Cases = append(b.Cases, cs)
		}
	}
	if elseLine == 0 {
		c.add(c.keyLine, "branch needs a last case - else: NODE (where the call goes when no condition holds)")
	}
	return b
}

func (l *loader) parseSet(c loadCtx, v *yaml.Node) []Assign {
	entries, ok := c.entries(v, "set")
	if !ok {
		return nil
	}
	if len(entries) == 0 {
		c.add(v.Line, "set is empty: map variables to expressions")
		return nil
	}
	var out []Assign
	for _, e := range entries {
		name, ok := c.variable(e.k, "set")
		if !ok {
			continue
		}
		x, ok := c.str(e.v, "set "+name)
		if !ok {
			continue
		}
		out = append(out, Assign{Var: name, Expr: x, Pos: c.pos(e.v.Line)})
	}
	return out
}

func (l *loader) parseLookup(c loadCtx, v *yaml.Node, src *nodeSource) *Lookup {
	lk := &Lookup{Method: "GET", Timeout: 3 * time.Second}
	f, ok := c.fields(v, "lookup", "method", "url", "headers", "body", "timeout", "map", "fail")
	if !ok {
		return lk
	}
	if e, ok := f["method"]; ok {
		if m, ok := c.str(e.v, "method"); ok {
			lk.Method = strings.ToUpper(m)
			if lk.Method != "GET" && lk.Method != "POST" {
				c.add(e.v.Line, "method %q: want GET or POST", m)
			}
		}
	}
	if e, ok := f["url"]; ok {
		if u, ok := c.str(e.v, "url"); ok {
			lower := strings.ToLower(u)
			if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
				c.add(e.v.Line, "url %q must start with http:// or https:// (written out, not from a variable)", u)
			}
			lk.URL = u
			src.templates = append(src.templates, templateUse{what: "url", text: u, pos: c.pos(e.v.Line)})
		}
	} else {
		c.add(c.keyLine, "lookup needs url:")
	}
	if e, ok := f["headers"]; ok {
		entries, _ := c.entries(e.v, "headers")
		lk.Headers = map[string]string{}
		for _, h := range entries {
			if val, ok := c.str(h.v, "header "+h.k.Value); ok {
				lk.Headers[h.k.Value] = val
				src.templates = append(src.templates, templateUse{what: "header " + h.k.Value, text: val, pos: c.pos(h.v.Line)})
			}
		}
	}
	if e, ok := f["body"]; ok {
		if body, ok := c.str(e.v, "body"); ok {
			if lk.Method != "POST" {
				c.add(e.k.Line, "body is sent only with method: POST")
			}
			lk.Body = body
			src.templates = append(src.templates, templateUse{what: "body", text: body, pos: c.pos(e.v.Line)})
		}
	}
	if e, ok := f["timeout"]; ok {
		if d, ok := c.duration(e.v, "timeout"); ok {
			lk.Timeout = d
		}
	}
	if e, ok := f["map"]; ok {
		entries, _ := c.entries(e.v, "map")
		lk.Map = map[string]string{}
		for _, m := range entries {
			name, ok := c.variable(m.k, "map")
			if !ok {
				continue
			}
			if p, ok := c.str(m.v, "map "+name); ok {
				if strings.TrimSpace(p) == "" {
					c.add(m.v.Line, "map %s: empty JSON path", name)
					continue
				}
				lk.Map[name] = p
			}
		}
	}
	if e, ok := f["fail"]; ok {
		lk.Fail = c.ref(e.v, "fail", src)
	}
	return lk
}

func (l *loader) parseQueue(c loadCtx, v *yaml.Node) *Queue {
	q := &Queue{}
	nameNode := v
	if v.Kind == yaml.MappingNode {
		f, ok := c.fields(v, "queue", "name", "priority", "skills")
		if !ok {
			return q
		}
		e, ok := f["name"]
		if !ok {
			c.add(c.keyLine, "queue needs name:")
			nameNode = nil
		} else {
			nameNode = e.v
		}
		if e, ok := f["priority"]; ok {
			q.Priority, _ = c.integer(e.v, "priority", 0, 1000)
		}
		if e, ok := f["skills"]; ok {
			entries, _ := c.entries(e.v, "skills")
			q.Skills = map[string]string{}
			for _, s := range entries {
				if val, ok := c.str(s.v, "skill "+s.k.Value); ok {
					q.Skills[s.k.Value] = val
				}
			}
		}
	}
	if nameNode != nil {
		if name, ok := c.str(nameNode, "queue"); ok {
			q.Name = name
			if !c.l.queues[name] {
				c.add(nameNode.Line, "unknown queue %q%s", name, didYouMeanOrList(name, loadSortedKeys(c.l.queues)))
			}
		}
	}
	return q
}

func (l *loader) parseTransfer(c loadCtx, v *yaml.Node, src *nodeSource) *Transfer {
	t := &Transfer{}
	f, ok := c.fields(v, "transfer", "endpoint", "extension", "number", "timeout", "fail")
	if !ok {
		return t
	}
	var targets []string
	var targetKey *yaml.Node
	for _, key := range []string{"endpoint", "extension", "number"} {
		e, ok := f[key]
		if !ok {
			continue
		}
		targets = append(targets, key)
		if len(targets) > 1 {
			c.add(e.k.Line, "transfer has two targets, %s (line %d) and %s: give exactly one", targets[0], targetKey.Line, key)
			continue
		}
		targetKey = e.k
		val, ok := c.str(e.v, key)
		if !ok {
			continue
		}
		if strings.Contains(val, "${") {
			src.templates = append(src.templates, templateUse{what: key, text: val, pos: c.pos(e.v.Line)})
		}
		templated := strings.Contains(val, "${")
		switch key {
		case "endpoint":
			t.Endpoint = val
			tech, res, found := strings.Cut(val, "/")
			if !templated && (!found || tech == "" || res == "") {
				c.add(e.v.Line, "endpoint %q must be Technology/Resource, e.g. PJSIP/1001", val)
			} else if !templated && l.opts.Endpoints != nil {
				if err := l.opts.Endpoints(val); err != nil {
					c.add(e.v.Line, "endpoint %q: %v", val, err)
				}
			}
		case "extension":
			t.Extension = val
			if !templated && !loadExtenRE.MatchString(val) {
				c.add(e.v.Line, "extension %q is not a dialplan extension", val)
			}
		case "number":
			t.Number = val
			if !templated && !loadNumberRE.MatchString(val) {
				c.add(e.v.Line, "number %q is not a phone number (digits, optionally with a leading +)", val)
			}
		}
	}
	if len(targets) == 0 {
		c.add(c.keyLine, "transfer needs one of endpoint, extension or number")
	}
	if e, ok := f["timeout"]; ok {
		if d, ok := c.duration(e.v, "timeout"); ok {
			t.Timeout = d
		}
	}
	if e, ok := f["fail"]; ok {
		t.Fail = c.ref(e.v, "fail", src)
	}
	return t
}

func (l *loader) parseVoicemail(c loadCtx, v *yaml.Node, src *nodeSource) *Voicemail {
	vm := &Voicemail{Beep: true, MaxLength: 120 * time.Second, MaxSilence: 5 * time.Second, Terminator: "#", MinLength: time.Second}
	f, ok := c.fields(v, "voicemail", "mailbox", "prompt", "beep", "max_length", "max_silence", "min_length", "terminator")
	if !ok {
		return vm
	}
	if e, ok := f["mailbox"]; ok {
		if mb, ok := c.str(e.v, "mailbox"); ok {
			vm.Mailbox = mb
			if !l.mailboxes[mb] {
				c.add(e.v.Line, "unknown mailbox %q%s", mb, didYouMeanOrList(mb, loadSortedKeys(l.mailboxes)))
			}
		}
	} else {
		c.add(c.keyLine, "voicemail needs mailbox:")
	}
	if e, ok := f["prompt"]; ok {
		vm.Prompt = c.prompt(e.v, "prompt", src)
	}
	if e, ok := f["beep"]; ok {
		if b, ok := c.boolean(e.v, "beep"); ok {
			vm.Beep = b
		}
	}
	if e, ok := f["max_length"]; ok {
		if d, ok := c.duration(e.v, "max_length"); ok {
			vm.MaxLength = d
		}
	}
	if e, ok := f["max_silence"]; ok {
		if d, ok := c.duration(e.v, "max_silence"); ok {
			vm.MaxSilence = d
		}
	}
	if e, ok := f["min_length"]; ok {
		if d, ok := c.duration(e.v, "min_length"); ok {
			vm.MinLength = d
			if d > vm.MaxLength {
				c.add(e.v.Line, "min_length %s is more than max_length %s", d, vm.MaxLength)
			}
		}
	}
	if e, ok := f["terminator"]; ok {
		if t, ok := c.str(e.v, "terminator"); ok {
			if t != "" && !isMenuKey(t) {
				c.add(e.v.Line, "terminator %q is not one key: want 0-9, * or # (or \"\" for none)", t)
			}
			vm.Terminator = t
		}
	}
	return vm
}

func (l *loader) parseHangup(c loadCtx, v *yaml.Node, src *nodeSource) *Hangup {
	h := &Hangup{Cause: 16}
	switch {
	case yamlIsNull(v):
		return h
	case v.Kind == yaml.ScalarNode:
		if b, ok := c.boolean(v, "hangup"); ok && !b {
			c.add(v.Line, "hangup: false means nothing: write hangup: true or hangup: {prompt: [...]}")
		}
		return h
	}
	f, ok := c.fields(v, "hangup", "prompt", "cause")
	if !ok {
		return h
	}
	if e, ok := f["prompt"]; ok {
		h.Prompt = c.prompt(e.v, "prompt", src)
	}
	if e, ok := f["cause"]; ok {
		if cause, ok := c.integer(e.v, "cause", 1, 127); ok {
			h.Cause = cause
		}
	}
	return h
}
