// IVR flow files
//
// Flows are written in YAML, under a top-level `flows:` key, in the files of
// a flows folder or in the main switchboard.yaml (every other top-level key
// is ignored here). Each flow is a mapping of named nodes; a node is a
// mapping with exactly one type key and, for the types that go on, `next`:
//
//	flows:
//	  main:
//	    start: welcome          # default: the first node written
//	    language: en            # prompt language; default the PBX's
//	    nodes:
//	      welcome:
//	        play: [sound:welcome, sound:press-1]   # or {media: [...], language: es}
//	        next: check-hours
//	      check-hours:
//	        branch:
//	          - when: 'calendar("support-hours")'
//	            next: menu
//	          - else: closed
//	      menu:
//	        menu:
//	          prompt: [sound:main-menu]
//	          keys: {"1": sales, "0": operator}
//	          timeout: 5s
//	          retries: 2
//	          invalid: [sound:invalid]
//	          timeout_prompt: [sound:are-you-there]
//	          fail: operator
//	      sales:
//	        queue: sales
//
// Node types and their keys (durations are Go durations: 500ms, 5s, 1m30s):
//
//	play       media list, or {media, language}; next required
//	say        {digits|number|date|time|datetime|money: VALUE, currency, language}; next required
//	menu       {prompt, keys, timeout, retries, invalid, timeout_prompt, fail}
//	gather     {prompt, min, max, terminator, timeout, inter_digit_timeout, pattern,
//	           into, retries, invalid, timeout_prompt, fail}; next required (on success)
//	branch     list of {when: EXPR, next: NODE}, then {else: NODE}
//	set        {VAR: EXPR, ...}; next required
//	lookup     {method, url, headers, body, timeout, map: {VAR: json.path}, fail}; next required
//	queue      NAME, or {name, priority, skills: {NAME: VALUE}} (what the caller
//	           asks of his agent: language: es, skill: LEVEL or attribute: TEXT;
//	           routing.Enqueue.Skills)
//	transfer   {endpoint | extension | number, timeout, fail}
//	voicemail  {mailbox, prompt, beep, max_length, max_silence, min_length, terminator}; next optional
//	hangup     true, {}, or {prompt, cause}
//	goto       NODE
//	subflow    FLOW; next required (where the sub-flow's return comes back to)
//	return     true: back to the calling flow's next (hangs up outside a sub-flow)
//
// Media URIs are sound:, recording:, digits:, number:, characters: or tone:.
// Prompts, say values, lookup URLs, headers and bodies, and transfer numbers
// may hold ${var} templates. Expressions (branch when, set values) are
// expr-lang: caller startsWith "+1555", tier == "gold", hour >= 18,
// calendar("support-hours"). Variables are those some node sets (set, gather
// into, lookup map), those routing passes in, and the builtins.
//
// Loading validates everything and reports every problem with file:line; see
// configs/flows/README.md for the reference an integrator reads.

package ivr

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard/switchboard/internal/yamlguard"
)

// LoadOptions are the facts outside the flow files that validation checks
// against: what the rest of the configuration defines.
type LoadOptions struct {
	// Queues are the known queue names: a queue node naming another is an
	// error. Nil means no queue is known.
	Queues []string
	// Mailboxes are the known voicemail mailboxes (queue names and agent ids).
	Mailboxes []string
	// Calendars answers which calendars exist, for calendar("x") in
	// expressions; nil means no calendar is known.
	Calendars Calendars
	// Passed are variables routing passes in: declared without a setter.
	Passed []string
	// Endpoints, when set, checks a transfer endpoint (e.g. that the
	// PJSIP endpoint is configured); its error becomes a problem.
	Endpoints func(string) error
}

// loadSource is one flow file's bytes.
type loadSource struct {
	name string
	data []byte
	// needFlows: the file must have a top-level flows key (files of a flows
	// folder), unlike the main configuration, which may have none.
	needFlows bool
}

// LoadFiles reads, validates and compiles the flows in paths: each file's
// top-level `flows:` mapping (other top-level keys are ignored, so the main
// switchboard.yaml can hold flows too). On any problem it returns a
// *ValidationError listing all of them.
func LoadFiles(paths []string, opts LoadOptions) (*Set, error) {
	return loadPaths(paths, nil, opts)
}

// LoadDir loads every *.yaml and *.yml file under dir (recursively, in
// sorted order) plus the extra files (e.g. the main configuration). A file
// under dir must have a top-level `flows:` key. On any problem it returns a
// *ValidationError listing all of them.
func LoadDir(dir string, extra []string, opts LoadOptions) (*Set, error) {
	var inDir []string
	if dir != "" {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(p)); ext == ".yaml" || ext == ".yml" {
				inDir = append(inDir, p)
			}
			return nil
		})
		if err != nil {
			return nil, &ValidationError{Problems: []Problem{{Pos: Pos{File: dir}, Message: "cannot read the flows folder: " + loadPathErr(err)}}}
		}
	}
	return loadPaths(extra, inDir, opts)
}

// LoadBytes validates and compiles the flows of one in-memory file, named
// name in problems. On any problem it returns a *ValidationError.
func LoadBytes(name string, data []byte, opts LoadOptions) (*Set, error) {
	return loadSources([]loadSource{{name: name, data: data}}, opts)
}

func loadPaths(paths, needFlows []string, opts LoadOptions) (*Set, error) {
	need := map[string]bool{}
	for _, p := range needFlows {
		need[p] = true
	}
	all := slices.Concat(paths, needFlows)
	slices.Sort(all)
	all = slices.Compact(all)
	var srcs []loadSource
	var problems []Problem
	for _, p := range all {
		data, err := loadReadFile(p)
		if err != nil {
			problems = append(problems, Problem{Pos: Pos{File: p}, Message: "cannot read: " + loadPathErr(err)})
			continue
		}
		srcs = append(srcs, loadSource{name: p, data: data, needFlows: need[p]})
	}
	if len(problems) > 0 {
		return nil, newValidationError(problems)
	}
	return loadSources(srcs, opts)
}

// loadMaxFileSize bounds one flow file: a real one is a few kilobytes.
const loadMaxFileSize = 8 << 20

func loadReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, loadMaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > loadMaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", loadMaxFileSize>>20)
	}
	return data, nil
}

// loadPathErr drops the path an *fs.PathError repeats (the problem names it).
func loadPathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// loadSources parses every file, then validates the whole set: flows may call
// flows of other files and variables are shared by the set.
func loadSources(srcs []loadSource, opts LoadOptions) (*Set, error) {
	l := newLoader(opts)
	sum := sha256.New()
	for _, s := range srcs {
		sum.Write(s.data)
		l.set.Files = append(l.set.Files, s.name)
		l.parseFile(s)
	}
	l.validate()
	if len(l.problems) > 0 {
		return nil, newValidationError(l.problems)
	}
	l.set.Checksum = hex.EncodeToString(sum.Sum(nil))
	return l.set, nil
}

// parseFile reads the flows of one file into the loader's set.
func (l *loader) parseFile(s loadSource) {
	c := l.at(s.name, "", "")
	dec := yaml.NewDecoder(bytes.NewReader(s.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			if s.needFlows {
				c.add(0, "no flows: the file is empty")
			}
			return
		}
		l.problems = append(l.problems, yamlProblem(s.name, err))
		return
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		c.add(more.Line, "only one YAML document per file: remove the second ---")
	} else if !errors.Is(err, io.EOF) {
		l.problems = append(l.problems, yamlProblem(s.name, err))
	}
	// The loader follows aliases: bound their expansion first, so that
	// loading is linear in the file.
	if err := yamlguard.Check(&doc); err != nil {
		c.add(err.Line, "%s", err.Msg)
		return
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = yamlDeref(root)
	if yamlIsNull(root) {
		if s.needFlows {
			c.add(root.Line, "no flows: the file is empty")
		}
		return
	}
	if root.Kind != yaml.MappingNode {
		c.add(root.Line, "a flow file is a mapping with a top-level flows: key, not %s", yamlKind(root))
		return
	}
	var flows *yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value != "flows" {
			continue
		}
		if first, dup := seen[k.Value]; dup {
			c.add(k.Line, "duplicate key flows (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		flows = yamlDeref(root.Content[i+1])
	}
	if flows == nil {
		if s.needFlows {
			c.add(root.Line, "no top-level flows: key")
		}
		return
	}
	if yamlIsNull(flows) {
		return
	}
	if flows.Kind != yaml.MappingNode {
		c.add(flows.Line, "flows must be a mapping of flow names to flows, not %s", yamlKind(flows))
		return
	}
	for i := 0; i+1 < len(flows.Content); i += 2 {
		l.parseFlow(s.name, flows.Content[i], yamlDeref(flows.Content[i+1]))
	}
}
