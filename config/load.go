package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/switchboard/switchboard/calendar"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAMLName names the embedded default configuration in messages.
const DefaultYAMLName = "default.yaml (embedded)"

// DefaultYAML returns the embedded default configuration file, the one
// `switchboard demo` runs with: a starting point for a real one.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Demo returns the embedded default configuration (with SWITCHBOARD_*
// environment overrides applied): the simulated Asterisk's credentials,
// agents 1001-1005 on PJSIP/1001-1005 and an admin API token whose plaintext
// is "demo-admin-token".
func Demo() (*Config, error) {
	return LoadBytes(DefaultYAMLName, defaultYAML)
}

// Load reads the configuration file at path over Default, applies SWITCHBOARD_*
// environment variables over it, and validates the result. Every problem
// found is returned together in a *ValidationError.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := LoadBytes(path, data)
	if err != nil {
		return nil, err
	}
	if cfg.Path, err = filepath.Abs(path); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// LoadBytes is Load for a configuration held in memory; name stands for the
// file in messages.
func LoadBytes(name string, data []byte) (*Config, error) {
	src, err := NewSource(name, data)
	if err != nil {
		return nil, err
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, &ValidationError{Problems: []Problem{{File: name, Message: fmt.Sprintf("cannot read: %v", err)}}}
	}
	for _, key := range envKeys() {
		env := EnvName(key)
		if err := v.BindEnv(key, env); err != nil {
			return nil, fmt.Errorf("config: bind %s: %w", env, err)
		}
		// Viper, like this, ignores a variable that is set but empty.
		if os.Getenv(env) != "" {
			src.env[key] = env
		}
	}

	cfg := Default()
	p := newProblems(src)
	unknownKeys(p, src)
	hooks := viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		durationHook,
		dateHook,
		wholeHook,
		mapstructure.StringToSliceHookFunc(","),
	))
	decodeErr := v.UnmarshalExact(&cfg, hooks)
	decodeProblems(p, decodeErr)
	if m, ok := v.Get("calendars").(map[string]any); ok && decodeErr != nil {
		// A problem in a calendar (an unknown key, say) makes the strict
		// decode drop it: decode it again, leniently, so that its hours and
		// dates are still checked. Its decode problems are reported already.
		for name := range m {
			if _, decoded := cfg.Calendars[name]; decoded {
				continue
			}
			var def calendar.Def
			if v.UnmarshalKey("calendars."+name, &def, hooks) == nil {
				if cfg.Calendars == nil {
					cfg.Calendars = map[string]calendar.Def{}
				}
				cfg.Calendars[name] = def
			}
		}
	}
	cfg.validate(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// valueError is a value that does not decode into its key's type.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

var durationType = reflect.TypeFor[time.Duration]()

// durationHook decodes durations strictly: a Go duration string such as
// "250ms" or "1m30s". A bare number is refused rather than read as
// nanoseconds.
func durationHook(_ reflect.Type, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		parsed, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, &valueError{fmt.Sprintf("invalid duration %q (a number with a unit: 250ms, 5s, 1m30s, 2h)", d)}
		}
		return parsed, nil
	case time.Duration:
		return d, nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return nil, &valueError{fmt.Sprintf("invalid duration %v: give a unit, e.g. %vs", d, d)}
	case nil:
		return data, nil
	}
	return nil, &valueError{"expected a duration such as 5s"}
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	stringType = reflect.TypeFor[string]()
)

// dateHook gives back the text of an unquoted date (holidays[].date:
// 2026-12-25), which the YAML reader turns into a time.Time, to a string key.
func dateHook(from reflect.Type, to reflect.Type, data any) (any, error) {
	if from != timeType || to != stringType {
		return data, nil
	}
	t := data.(time.Time)
	if t.Equal(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())) && t.Location() == time.UTC {
		return t.Format(time.DateOnly), nil
	}
	return t.Format(time.RFC3339Nano), nil
}

// wholeHook refuses a fractional or out-of-range number for an integer key,
// which the decoder would otherwise truncate or wrap.
func wholeHook(_ reflect.Type, to reflect.Type, data any) (any, error) {
	f, isFloat := data.(float64)
	if !isFloat || to == durationType || to.Kind() < reflect.Int || to.Kind() > reflect.Int64 {
		return data, nil
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return nil, &valueError{fmt.Sprintf("expected a whole number, got %v", f)}
	}
	return data, nil
}

// decodeProblems turns the errors of UnmarshalExact into problems at the
// keys they name.
func decodeProblems(p *problems, err error) {
	if err == nil {
		return
	}
	for _, leaf := range leaves(err) {
		var de *mapstructure.DecodeError
		if !errors.As(leaf, &de) {
			p.add("", "%v", leaf)
			continue
		}
		key := keyPath(de.Name())
		if p.has(key) {
			continue // inside a value already reported, e.g. of the wrong shape
		}
		inner := de.Unwrap()
		var ve *valueError
		var pe *mapstructure.ParseError
		var ue *mapstructure.UnconvertibleTypeError
		switch {
		case errors.As(inner, &ve):
			if secret(key) {
				p.add(key, "invalid value")
			} else {
				p.add(key, "%s", ve.msg)
			}
		case errors.As(inner, &pe), errors.As(inner, &ue):
			p.add(key, "%s", badValue(p.src, key))
		case p.unknownUnder[key]:
			// Unknown keys under key, already reported one by one with
			// their lines by unknownKeys.
		case shapeMismatch(p.src, key):
			p.add(key, "%s", badValue(p.src, key))
		default:
			p.add(key, "%v", inner)
		}
	}
}

// mapEntry matches the decoder's name for a map entry: calendars[x].
var mapEntry = regexp.MustCompile(`\[([^\]]*[^\]0-9][^\]]*)\]`)

// keyPath turns a decoder's field name into a key path: the decoder names
// map entries calendars[support-hours].hours[mon-fri], Source
// calendars.support-hours.hours.mon-fri. (A map key made of digits only
// stays an index; its problem is then placed at the enclosing key.)
func keyPath(name string) string {
	return mapEntry.ReplaceAllString(name, ".$1")
}

// leaves flattens joined and wrapped decode errors into the errors that
// name one key each.
func leaves(err error) []error {
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, inner := range e.Unwrap() {
			out = append(out, leaves(inner)...)
		}
		return out
	case *mapstructure.DecodeError:
		switch e.Unwrap().(type) {
		case interface{ Unwrap() []error }, *mapstructure.DecodeError:
			return leaves(e.Unwrap())
		}
		return []error{e}
	case interface{ Unwrap() error }:
		// A wrapper such as the decoder's "decoding failed due to ...".
		if inner := e.Unwrap(); inner != nil {
			return leaves(inner)
		}
	}
	return []error{err}
}

// badValue describes a value that does not fit its key's type, without
// echoing secrets.
func badValue(src *Source, key string) string {
	want := "a value of another type"
	if t, ok := typeAt(reflect.TypeFor[Config](), key); ok {
		want = describe(t)
	}
	text, scalar := src.raw(key)
	switch {
	case !scalar:
		return fmt.Sprintf("expected %s, got %s", want, src.kind(key))
	case secret(key):
		return fmt.Sprintf("expected %s", want)
	default:
		return fmt.Sprintf("expected %s, got %q", want, text)
	}
}

// shapeMismatch reports whether the file gives a key a value of the wrong
// shape: a scalar or list where a mapping belongs, a mapping for a list.
func shapeMismatch(src *Source, key string) bool {
	t, ok := typeAt(reflect.TypeFor[Config](), key)
	if !ok {
		return false
	}
	switch got := src.kind(key); {
	case t.Kind() == reflect.Struct && t != durationType, t.Kind() == reflect.Map:
		return got != "a mapping"
	case t.Kind() == reflect.Slice:
		return got == "a mapping"
	}
	return false
}

func describe(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 5s"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Map:
		return "a mapping"
	}
	return t.String()
}

// secret reports whether a key holds a value that must never be echoed.
func secret(key string) bool {
	if key == "asterisk.password" {
		return true
	}
	return strings.HasPrefix(key, "api.tokens[") && (strings.HasSuffix(key, ".sha256") || strings.HasSuffix(key, ".token"))
}

// unknownKeys reports, at its line, every key in the file that is not a
// configuration key, and remembers under which keys they were so the
// decoder's summary of them is not reported again.
func unknownKeys(p *problems, src *Source) {
	root := reflect.TypeFor[Config]()
	p.unknownUnder = map[string]bool{}
	for _, key := range src.order {
		if t, ok := typeAt(root, key); ok {
			// The decoder would quietly take a mapping for a one-item list.
			if t.Kind() == reflect.Slice && src.kind(key) == "a mapping" {
				p.add(key, "expected a list, got a mapping")
			}
			// Or a list of mappings for one mapping.
			if t.Kind() == reflect.Map && src.kind(key) == "a list" {
				p.add(key, "expected a mapping, got a list")
			}
			continue
		}
		par := parent(key)
		if strings.HasSuffix(key, "]") {
			continue // a list where none belongs: the decoder's type error
		}
		if _, indexed := src.lines[par]; indexed && par != "" {
			pt, ok := typeAt(root, par)
			if !ok {
				continue // the parent is unknown and reported
			}
			if pt.Kind() != reflect.Struct {
				continue // a mapping where a value belongs: the decoder's type error
			}
		}
		p.unknownUnder[par] = true
		last := key[strings.LastIndexAny(key, ".[")+1:]
		switch {
		case strings.HasPrefix(key, "api.tokens[") && last == "token":
			p.add(key, "plaintext tokens are not accepted: run `switchboard token hash`, put its output in sha256 and remove token")
		default:
			if s := suggest(root, key); s != "" {
				p.add(key, "unknown key (did you mean %s?)", s)
			} else {
				p.add(key, "unknown key")
			}
		}
	}
}

// typeAt returns the type of the value at a key path, if the path names a
// configuration key. Any name is a key of a map (calendars.NAME), and
// anything goes under a value of interface type (flows).
func typeAt(t reflect.Type, key string) (reflect.Type, bool) {
	for key != "" {
		if t.Kind() == reflect.Interface {
			return t, true
		}
		if strings.HasPrefix(key, "[") {
			end := strings.IndexByte(key, ']')
			if end < 0 || t.Kind() != reflect.Slice {
				return nil, false
			}
			t, key = t.Elem(), key[end+1:]
			continue
		}
		key = strings.TrimPrefix(key, ".")
		n := strings.IndexAny(key, ".[")
		name := key
		if n >= 0 {
			name, key = key[:n], key[n:]
		} else {
			key = ""
		}
		if t.Kind() == reflect.Map && t.Key().Kind() == reflect.String {
			t = t.Elem()
			continue
		}
		if t.Kind() != reflect.Struct || t == durationType {
			return nil, false
		}
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil, false
		}
		t = f.Type
	}
	return t, true
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag := f.Tag.Get("mapstructure"); tag != "-" && strings.EqualFold(tag, name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// suggest returns the known key closest to an unknown one, if it is close.
func suggest(root reflect.Type, key string) string {
	par := parent(key)
	pt, ok := typeAt(root, par)
	if !ok || pt.Kind() != reflect.Struct {
		return ""
	}
	last := key[strings.LastIndexAny(key, ".[")+1:]
	best, bestD := "", 3
	for i := range pt.NumField() {
		name := pt.Field(i).Tag.Get("mapstructure")
		if name == "-" {
			continue
		}
		if d := distance(last, name); d < bestD {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return join(par, best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// envKeys lists the key paths the environment can override: every key
// whose value is a scalar or a list of strings, outside lists of objects
// and maps. The list depends on the Config type only: it is made once.
// Callers must not change it.
var envKeys = sync.OnceValue(makeEnvKeys)

func makeEnvKeys() []string {
	var keys []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
			key := join(prefix, tag)
			switch {
			case tag == "-":
				// not a key (Config.Path)
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(key, f.Type)
			case fileOnly(f.Type):
				// agents, api.tokens, queues, ivr.routes, calendars, flows
			default:
				keys = append(keys, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	sort.Strings(keys)
	return keys
}

// fileOnly reports whether keys of type t come from the file only: lists
// of objects and maps have no environment form.
func fileOnly(t reflect.Type) bool {
	return t.Kind() == reflect.Map || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct)
}
