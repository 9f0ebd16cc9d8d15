package config

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard/switchboard/internal/yamlguard"
)

// Source tells where configuration values came from, so problems can be
// reported at their file and line, or at the environment variable that set
// them. Build one with NewSource; a nil *Source is valid and places nothing
// (for a Config built in code).
type Source struct {
	// File names the configuration file in messages.
	File string

	lines map[string]int        // key path -> line of the key (or list item)
	nodes map[string]*yaml.Node // key path -> value node
	order []string              // key paths in file order
	env   map[string]string     // key path -> environment variable that set it
}

// NewSource parses data (YAML) and indexes the line of every key path:
// "asterisk.url", "agents[2].endpoint" (list indexes count from 0). Key paths
// are lower case, as keys are matched case-insensitively. A YAML syntax
// error, a document that is not a mapping, or one whose aliases would
// expand it past yamlguard.Limit (placed at the alias) is returned as a
// *ValidationError.
func NewSource(name string, data []byte) (*Source, error) {
	s := &Source{File: name, lines: map[string]int{}, nodes: map[string]*yaml.Node{}, env: map[string]string{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{Problems: []Problem{yamlProblem(name, err)}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return s, nil // empty or only comments: all defaults
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return s, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &ValidationError{Problems: []Problem{{File: name, Line: root.Line,
			Message: "the configuration must be a mapping of sections (log, http, database, asterisk, center, agents, api, demo, calendars, queues, ivr, flows)"}}}
	}
	// The index follows aliases: bound their expansion first, so that the
	// work below is linear in the file (the YAML decoder's own alias guard
	// runs later, in viper).
	if err := yamlguard.Check(&doc); err != nil {
		return nil, &ValidationError{Problems: []Problem{{File: name, Line: err.Line, Message: err.Msg}}}
	}
	s.index("", root, 0)
	return s, nil
}

// maxDepth bounds the index on deeply nested input; Switchboard's keys are
// at most a few levels deep (flows go deepest).
const maxDepth = 32

func (s *Source) index(prefix string, n *yaml.Node, depth int) {
	if depth > maxDepth {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" && k.Tag == "!!merge" {
				// Merged keys belong to this mapping; explicit keys win.
				s.merge(prefix, v, depth+1)
				continue
			}
			s.add(join(prefix, strings.ToLower(k.Value)), k.Line, v, depth)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			s.add(prefix+"["+strconv.Itoa(i)+"]", item.Line, item, depth)
		}
	}
}

func (s *Source) add(path string, line int, v *yaml.Node, depth int) {
	if _, dup := s.lines[path]; !dup {
		s.order = append(s.order, path)
	}
	s.lines[path] = line
	s.nodes[path] = v
	s.index(path, v, depth+1)
}

func (s *Source) merge(prefix string, v *yaml.Node, depth int) {
	if depth > maxDepth {
		return
	}
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.SequenceNode:
		for _, m := range v.Content {
			s.merge(prefix, m, depth+1)
		}
	case yaml.MappingNode:
		sub := &Source{lines: map[string]int{}, nodes: map[string]*yaml.Node{}}
		sub.index(prefix, v, depth)
		for _, p := range sub.order {
			if _, ok := s.lines[p]; !ok {
				s.order = append(s.order, p)
				s.lines[p], s.nodes[p] = sub.lines[p], sub.nodes[p]
			}
		}
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// Where returns the place of a key path: the environment variable that set
// it ("env SWITCHBOARD_ASTERISK_URL", line 0), or the file and the line of
// the key, or of its nearest enclosing key or list item present in the file
// (line 0 when none is).
func (s *Source) Where(key string) (file string, line int) {
	if s == nil {
		return "", 0
	}
	if env, ok := s.env[key]; ok {
		return "env " + env, 0
	}
	for k := key; k != ""; k = parent(k) {
		if l, ok := s.lines[k]; ok {
			return s.File, l
		}
	}
	return s.File, 0
}

// parent returns the enclosing key path: agents[2].id -> agents[2] -> agents.
func parent(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i < 0 {
		return ""
	}
	return k[:i]
}

// raw returns the text a key was given as, and whether it is a scalar.
func (s *Source) raw(key string) (text string, scalar bool) {
	if s == nil {
		return "", false
	}
	if env, ok := s.env[key]; ok {
		return os.Getenv(env), true
	}
	n := s.nodes[key]
	if n == nil {
		return "", false
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Value, n.Kind == yaml.ScalarNode
}

// kind describes a key's YAML value for messages ("a list", "a mapping").
func (s *Source) kind(key string) string {
	if s == nil || s.nodes[key] == nil {
		return "a value"
	}
	n := s.nodes[key]
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a value"
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error into a problem, moving the line the
// parser names into the place so it reads like every other problem.
func yamlProblem(file string, err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if l, convErr := strconv.Atoi(m[1]); convErr == nil {
			return Problem{File: file, Line: l, Message: "invalid YAML: " + m[2]}
		}
	}
	return Problem{File: file, Message: fmt.Sprintf("invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))}
}
