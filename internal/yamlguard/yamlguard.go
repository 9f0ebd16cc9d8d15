// Package yamlguard bounds what a parsed YAML document can cost the code
// that walks it, and counts lines the way the YAML parser does.
//
// A yaml.Node tree keeps aliases unexpanded: an alias node points at the
// anchored node it repeats. Code that walks the tree and follows aliases
// (the configuration's line index, the IVR flow loader) does the work of
// the expanded document, which nested aliases make exponential in the
// file's size (a "billion laughs" document: 9 aliases of 9 aliases of ...).
// The YAML library guards its own decoding into Go values, but not a walk
// of the node tree, which runs first. Check measures the expanded size in
// time linear in the file and refuses a document that would grow past
// Limit, naming the alias that takes it there.
package yamlguard

import (
	"fmt"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// Error is a document refused by Check, placed at the alias responsible.
type Error struct {
	// Line and Column are the 1-based place of the alias in the file.
	Line, Column int
	// Msg says what is wrong, without the place.
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Limit is the most nodes a document of literal nodes (as written, each
// alias one node) may have once its aliases are expanded: aliases may
// repeat up to ten times what the file holds, plus 10,000 nodes for small
// files. Real files stay far below it (a file with no aliases is always
// within it); the work of walking an accepted document stays linear in
// its size.
func Limit(literal int) int { return 10*literal + 10_000 }

// saturate caps the sizes Check adds up: a hostile document's expanded
// size overflows any integer.
const saturate = 1 << 50

// Check measures the document under root with its aliases expanded. It
// returns an *Error when that size exceeds Limit (at the alias, in
// document order, that takes the running size past the limit) or when an
// alias lies inside the value it names (the expansion never ends). It
// visits each node once, whatever the aliases.
func Check(root *yaml.Node) *Error {
	if root == nil {
		return nil
	}
	c := checker{memo: map[*yaml.Node]int{}, visiting: map[*yaml.Node]bool{}}
	literal := countLiteral(root)
	total := c.size(root)
	if c.err != nil {
		return c.err
	}
	limit := Limit(literal)
	if total <= limit {
		return nil
	}
	// Find the alias that takes the running size past the limit.
	running := 0
	var culprit *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if culprit != nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			running = min(running+c.memo[n.Alias], saturate)
			if running > limit {
				culprit = n
			}
			return
		}
		running++
		for _, child := range n.Content {
			walk(child)
		}
	}
	walk(root)
	if culprit == nil {
		culprit = root // not reached: total > limit means some alias crosses it
	}
	return &Error{Line: culprit.Line, Column: culprit.Column,
		Msg: fmt.Sprintf("YAML alias *%s repeats %s nodes; with its aliases expanded the file would have %s nodes, more than the %d allowed for its %d (aliases nested in aliases?)",
			culprit.Value, count(c.memo[culprit.Alias]), count(total), limit, literal)}
}

// count writes a saturated size.
func count(n int) string {
	if n >= saturate {
		return fmt.Sprintf("more than %d", saturate)
	}
	return fmt.Sprint(n)
}

// countLiteral counts the nodes as written: the Content tree, which holds
// no cycles (only Alias pointers can loop).
func countLiteral(n *yaml.Node) int {
	total := 1
	for _, child := range n.Content {
		total += countLiteral(child)
	}
	return total
}

type checker struct {
	memo     map[*yaml.Node]int // alias target -> its expanded size
	visiting map[*yaml.Node]bool
	err      *Error
}

// size is the number of nodes n stands for with aliases expanded (an
// alias counts as the node it names). Alias targets are measured once.
func (c *checker) size(n *yaml.Node) int {
	if c.err != nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		if target == nil {
			return 1
		}
		if c.visiting[target] {
			c.err = &Error{Line: n.Line, Column: n.Column,
				Msg: fmt.Sprintf("YAML alias *%s is inside the value it names: it would repeat forever", n.Value)}
			return 0
		}
		if s, ok := c.memo[target]; ok {
			return s
		}
		// Anchors precede their aliases, so the walk has measured the
		// target already; measure it now all the same if it has not.
		return c.size(target)
	}
	if s, ok := c.memo[n]; ok {
		return s
	}
	c.visiting[n] = true
	total := 1
	for _, child := range n.Content {
		total = min(total+c.size(child), saturate)
	}
	delete(c.visiting, n)
	if n.Anchor != "" {
		c.memo[n] = total
	}
	return total
}

// Lines returns the number of lines the YAML parser sees in data: one
// more than its line breaks, which are CR LF, a lone CR, LF, and NEL, LS
// and PS (U+0085, U+2028, U+2029). Input starting with a UTF-16 byte-order
// mark is read as UTF-16, as the parser reads it. A line the parser
// reports is never past this.
func Lines(data []byte) int {
	if len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0xFF && data[1] == 0xFE) {
		units := make([]uint16, 0, len(data)/2)
		for i := 2; i+1 < len(data); i += 2 {
			if data[0] == 0xFE {
				units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
			} else {
				units = append(units, uint16(data[i+1])<<8|uint16(data[i]))
			}
		}
		data = []byte(string(utf16.Decode(units)))
	}
	lines := 1
	for i := 0; i < len(data); i++ {
		switch b := data[i]; {
		case b == '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			lines++
		case b == '\n':
			lines++
		case b == 0xC2 && i+1 < len(data) && data[i+1] == 0x85:
			i++
			lines++
		case b == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xA8 || data[i+2] == 0xA9):
			i += 2
			lines++
		}
	}
	return lines
}
