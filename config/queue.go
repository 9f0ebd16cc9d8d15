package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// TargetHangup is the exit target that hangs the caller up at once. The
// other targets are an IVR flow's name, or empty: the no-agent prompt
// (center.no_agent_prompt), then hang up.
const TargetHangup = "hangup"

// numberRE is a caller number once spaces are removed.
var numberRE = regexp.MustCompile(`^\+?[0-9]+$`)

// NormalizeNumber returns a caller number as VIP lists match it: with its
// spaces (and tabs) removed.
func NormalizeNumber(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// maxNumberLen bounds a VIP number (spaces removed): no caller ID is
// longer (E.164 numbers have at most 15 digits; prefixes add a few).
const maxNumberLen = 32

// checkNumber returns what is wrong with a VIP number, or "".
func checkNumber(s string) string {
	switch n := NormalizeNumber(s); {
	case n == "":
		return "is empty"
	case len(n) > maxNumberLen:
		return fmt.Sprintf("must be a caller number of at most %d digits, got %d characters", maxNumberLen, len(n))
	case !numberRE.MatchString(n):
		return fmt.Sprintf("must be a caller number: digits with an optional leading +, got %q", s)
	}
	return ""
}

// maxVIPLine bounds a line of a VIP list file: a number and a comment.
const maxVIPLine = 64 << 10

// readVIP reads a VIP list file: one caller number a line, '#' starting a
// comment, blank lines ignored. Lines end with LF, CR LF or a lone CR.
// It returns the numbers normalised (NormalizeNumber) and a problem at
// path:line for each line that is not a number; err (naming path:line) if
// the file cannot be read or has a line longer than maxVIPLine.
func readVIP(r io.Reader, path string) (numbers []string, problems []Problem, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxVIPLine)
	sc.Split(scanLines)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if msg := checkNumber(text); msg != "" {
			problems = append(problems, Problem{File: path, Line: line, Message: "number " + msg})
			continue
		}
		numbers = append(numbers, NormalizeNumber(text))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d KiB", maxVIPLine>>10)
		}
		return nil, nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return numbers, problems, nil
}

// scanLines is bufio.ScanLines with a lone CR (old Mac files) ending a
// line too, so lines are numbered as an editor shows them.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		switch {
		case i+1 < len(data) && data[i+1] == '\n':
			return i + 2, data[:i], nil
		case i+1 < len(data) || atEOF:
			return i + 1, data[:i], nil
		}
		return 0, nil, nil // a CR at the end of the buffer: is an LF next?
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// VIPPath returns a VIP list's file resolved against the configuration
// file's folder (the working directory for LoadBytes and Demo).
func (c *Config) VIPPath(l VIPList) string {
	if l.File == "" || filepath.IsAbs(l.File) || c.Path == "" {
		return l.File
	}
	return filepath.Join(filepath.Dir(c.Path), l.File)
}

// LoadVIP reads the VIP lists, their files included, into caller number
// (spaces removed) -> the highest priority of the lists that hold it. Bad
// numbers are returned together in a *ValidationError, each with its file
// and line ("vip.txt:7: ..."); a file that cannot be read is an error
// naming it.
func (c *Config) LoadVIP() (map[string]int, error) {
	out := map[string]int{}
	add := func(number string, prio int) {
		n := NormalizeNumber(number)
		if old, ok := out[n]; !ok || prio > old {
			out[n] = prio
		}
	}
	var list []Problem
	for i, l := range c.Routing.VIP {
		for j, n := range l.Numbers {
			if msg := checkNumber(n); msg != "" {
				list = append(list, Problem{Key: fmt.Sprintf("routing.vip[%d].numbers[%d]", i, j), Message: msg})
				continue
			}
			add(n, l.Priority)
		}
		if l.File == "" {
			continue
		}
		path := c.VIPPath(l)
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("routing.vip[%d].file: %w", i, err)
		}
		numbers, problems, err := readVIP(f, path)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("routing.vip[%d].file: %w", i, err)
		}
		list = append(list, problems...)
		for _, n := range numbers {
			add(n, l.Priority)
		}
	}
	if len(list) > 0 {
		return nil, &ValidationError{Problems: list}
	}
	return out, nil
}

// source indexes the file Load read, to place problems found after
// loading; nil (no places) when there is none or it no longer parses.
func (c *Config) source() *Source {
	if c.Path == "" {
		return nil
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return nil
	}
	src, err := NewSource(c.Path, data)
	if err != nil {
		return nil
	}
	return src
}

// CheckTargets checks the queues' exit targets (max_wait_target,
// max_length_target, empty_target, escalation[].exit) against the IVR
// flows, which the ivr package loads apart from the configuration: each
// must be empty, "hangup" or one of flowNames. Problems come back in a
// *ValidationError at the keys' lines in the file Load read (without lines
// for a Config from LoadBytes or code).
func (c *Config) CheckTargets(flowNames []string) error {
	var targets []struct{ key, value string }
	add := func(key, value string) {
		if value != "" && value != TargetHangup && !slices.Contains(flowNames, value) {
			targets = append(targets, struct{ key, value string }{key, value})
		}
	}
	for i, q := range c.Queues {
		k := fmt.Sprintf("queues[%d]", i)
		add(k+".max_wait_target", q.MaxWaitTarget)
		add(k+".max_length_target", q.MaxLengthTarget)
		add(k+".empty_target", q.EmptyTarget)
		for j, s := range q.Escalation {
			add(fmt.Sprintf("%s.escalation[%d].exit", k, j), s.Exit)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	p := newProblems(c.source())
	flows := slices.Clone(flowNames)
	slices.Sort(flows)
	for _, t := range targets {
		p.add(t.key, "no flow named %q: a target is empty (no-agent prompt, then hang up), %q, or an IVR flow (flows: %s)",
			t.value, TargetHangup, listOrNone(flows))
	}
	return p.err()
}

// validateQueues checks the queues (routing.CheckQueues, each problem
// placed at its key's line) and the VIP lists. A queue's value that did
// not decode, or holds one that did not, is not checked again.
func (c *Config) validateQueues(p *problems, agents []sb.AgentID) {
	var found []routing.QueueProblem
	for _, qp := range routing.CheckQueues(c.Queues, agents) {
		if key := qp.Path(); !p.has(key) && !p.hasUnder(key) {
			found = append(found, qp)
		}
	}
	for _, qp := range found {
		p.add(qp.Path(), "%s", qp.Message)
	}
	for i, q := range c.Queues {
		// Code may set a negative max_no_answer (never pause: routing.Basic);
		// the file may not.
		if key := fmt.Sprintf("queues[%d].max_no_answer", i); q.MaxNoAnswer < 0 && !p.has(key) {
			p.add(key, "must not be negative (0: 3)")
		}
	}

	check := func(key string, bad bool, format string, args ...any) {
		if bad && !p.has(key) {
			p.add(key, format, args...)
		}
	}
	names := map[string]int{}
	for i, l := range c.Routing.VIP {
		key := fmt.Sprintf("routing.vip[%d]", i)
		name := strings.TrimSpace(l.Name)
		if j, dup := names[name]; dup && name != "" {
			check(key+".name", true, "duplicate VIP list %q (also routing.vip[%d])", name, j)
		} else if name != "" {
			names[name] = i
		}
		check(key+".name", name == "", "is required")
		check(key, len(l.Numbers) == 0 && l.File == "", "has no numbers and no file")
		for j, n := range l.Numbers {
			nk := fmt.Sprintf("%s.numbers[%d]", key, j)
			if msg := checkNumber(n); msg != "" {
				check(nk, true, "%s", msg)
			} else if raw, scalar := p.src.raw(nk); scalar && raw != "" && NormalizeNumber(raw) != NormalizeNumber(n) {
				// YAML reads +15550100 and 0044... as numbers: the + or the
				// leading zeros would be lost.
				check(nk, true, "quote it: YAML reads %s as the number %s", raw, n)
			}
		}
	}
}
