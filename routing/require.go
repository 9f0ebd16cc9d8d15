package routing

import (
	"slices"
	"strconv"
	"strings"
)

// LanguageRequirement is the requirement name that asks for a language
// the agent speaks rather than a skill level or an attribute.
const LanguageRequirement = "language"

type reqKind uint8

const (
	reqLanguage reqKind = iota
	reqLevel
	reqAttribute
)

// requirement is one parsed entry of Enqueue.Skills.
type requirement struct {
	kind  reqKind
	name  string
	text  string
	level int
}

// parseRequirements reads a caller's requested skills, in name order so
// that the same request always reads the same.
func parseRequirements(skills map[string]string) []requirement {
	if len(skills) == 0 {
		return nil
	}
	var out []requirement
	for name, v := range skills {
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		if name == "" || v == "" {
			continue
		}
		switch n, err := strconv.Atoi(v); {
		case name == LanguageRequirement:
			out = append(out, requirement{kind: reqLanguage, name: name, text: v})
		case err == nil:
			out = append(out, requirement{kind: reqLevel, name: name, level: n})
		default:
			out = append(out, requirement{kind: reqAttribute, name: name, text: v})
		}
	}
	slices.SortFunc(out, func(a, b requirement) int { return strings.Compare(a.name, b.name) })
	return out
}

// meets reports whether the agent meets every requirement.
func meets(a *AgentConfig, reqs []requirement) bool {
	for _, q := range reqs {
		switch q.kind {
		case reqLanguage:
			if !slices.ContainsFunc(a.Languages, func(l string) bool { return strings.EqualFold(l, q.text) }) {
				return false
			}
		case reqLevel:
			if a.Skills[q.name] < q.level {
				return false
			}
		case reqAttribute:
			if v, ok := a.Attributes[q.name]; !ok || v != q.text {
				return false
			}
		}
	}
	return true
}
