package ivr

import (
	"regexp"
	"strings"
)

// templateRef matches ${name} in prompts, URLs, headers and bodies.
var templateRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// TemplateVars lists the variables a template refers to, in order.
func TemplateVars(tmpl string) []string {
	var out []string
	for _, m := range templateRef.FindAllStringSubmatch(tmpl, -1) {
		out = append(out, m[1])
	}
	return out
}

// Expand replaces ${name} with the variable's value; builtins caller and
// dnis come from the facts; an unset variable expands to "".
func Expand(tmpl string, f Facts) string {
	if !strings.Contains(tmpl, "${") {
		return tmpl
	}
	return templateRef.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		switch name {
		case "caller":
			return f.Caller
		case "dnis":
			return f.DNIS
		}
		return f.Vars[name]
	})
}
