package ivr

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Calendars answers whether a named calendar is open (business hours,
// holidays, exceptions). The calendar package implements it.
type Calendars interface {
	// Known reports whether a calendar with this name exists.
	Known(name string) bool
	// IsOpen reports whether the calendar is open at t.
	IsOpen(name string, t time.Time) bool
}

// Builtin variables every expression may use, with their types:
//
//	caller   string  the caller's number
//	dnis     string  the dialed number
//	hour     int     0-23, in the flow set's time zone
//	minute   int     0-59
//	weekday  string  mon, tue, wed, thu, fri, sat, sun
//	date     string  YYYY-MM-DD
//	time     string  HH:MM
//	calendar func(name string) bool   open now?
//
// Flow variables (set, gather into, lookup map, and those routing passes
// in) are strings, used by name: tier == "gold".
var builtinNames = []string{"caller", "dnis", "hour", "minute", "weekday", "date", "time", "calendar"}

// IsBuiltin reports whether name is a builtin expression variable.
func IsBuiltin(name string) bool {
	for _, b := range builtinNames {
		if b == name {
			return true
		}
	}
	return false
}

// compileEnv is the type environment expressions are checked against:
// builtins plus every declared flow variable as a string.
func compileEnv(declared map[string]bool) map[string]any {
	env := map[string]any{
		"caller": "", "dnis": "", "hour": 0, "minute": 0, "weekday": "", "date": "", "time": "",
		"calendar": func(string) bool { return false },
	}
	for v := range declared {
		if _, builtin := env[v]; !builtin {
			env[v] = ""
		}
	}
	return env
}

// calendarRefs collects the names given to calendar("...") in an expression.
type calendarRefs struct {
	names   []string
	dynamic bool // calendar(x) with a non-literal argument
}

func (c *calendarRefs) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "calendar" {
		return
	}
	if len(call.Arguments) == 1 {
		if s, ok := call.Arguments[0].(*ast.StringNode); ok {
			c.names = append(c.names, s.Value)
			return
		}
	}
	c.dynamic = true
}

// CompileExpr compiles an expression against the declared flow variables.
// wantBool requires a boolean result (branch conditions). Calendar names
// used with calendar("...") must be known to cals (when cals is not nil).
func CompileExpr(src string, declared map[string]bool, cals Calendars, wantBool bool) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("empty expression")
	}
	refs := &calendarRefs{}
	opts := []expr.Option{expr.Env(compileEnv(declared)), expr.Patch(refs), expr.MaxNodes(2000)}
	if wantBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("bad expression %q: %s", src, firstLine(err.Error()))
	}
	if refs.dynamic {
		return nil, fmt.Errorf("bad expression %q: calendar() takes a calendar name in quotes", src)
	}
	if cals != nil {
		for _, n := range refs.names {
			if !cals.Known(n) {
				return nil, fmt.Errorf("unknown calendar %q in %q", n, src)
			}
		}
	}
	return prog, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Facts are what a running session's expressions see.
type Facts struct {
	Caller, DNIS string
	Now          time.Time // already in the time zone expressions use
	Calendars    Calendars
	Vars         map[string]string
}

// runEnv builds the run-time environment for expressions.
func runEnv(f Facts, declared map[string]bool) map[string]any {
	env := make(map[string]any, len(f.Vars)+len(declared)+8)
	for v := range declared {
		env[v] = ""
	}
	for k, v := range f.Vars {
		env[k] = v
	}
	env["caller"], env["dnis"] = f.Caller, f.DNIS
	env["hour"], env["minute"] = f.Now.Hour(), f.Now.Minute()
	env["weekday"] = strings.ToLower(f.Now.Weekday().String()[:3])
	env["date"], env["time"] = f.Now.Format("2006-01-02"), f.Now.Format("15:04")
	cals, now := f.Calendars, f.Now
	env["calendar"] = func(name string) bool { return cals != nil && cals.IsOpen(name, now) }
	return env
}

// RunExpr evaluates a compiled expression. Non-string results are
// formatted (true, 42, 3.5) so they can be stored in a flow variable.
func RunExpr(prog *vm.Program, f Facts, declared map[string]bool) (string, error) {
	out, err := expr.Run(prog, runEnv(f, declared))
	if err != nil {
		return "", err
	}
	switch v := out.(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), "."), nil
	default:
		if reflect.TypeOf(v).Kind() == reflect.Bool {
			return fmt.Sprint(v), nil
		}
		return fmt.Sprint(v), nil
	}
}

// RunCond evaluates a compiled boolean condition.
func RunCond(prog *vm.Program, f Facts, declared map[string]bool) (bool, error) {
	out, err := expr.Run(prog, runEnv(f, declared))
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %T, not bool", out)
	}
	return b, nil
}
