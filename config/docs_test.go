package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// allKeys lists every key path of Config from its mapstructure tags, with
// "[]" for list items and "<name>" for the names of a map of sections:
// log.level, agents, agents[].id, calendars, calendars.<name>.timezone, ...
// A map of anything else (calendars.<name>.hours, flows) is one key.
func allKeys() []string {
	var keys []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
			if tag == "-" {
				continue // not a key: Config.Path
			}
			if tag == "" {
				panic("field without mapstructure tag: " + prefix + "." + f.Name)
			}
			key := join(prefix, tag)
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(key, f.Type)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				keys = append(keys, key)
				walk(key+"[]", f.Type.Elem())
			case f.Type.Kind() == reflect.Map && f.Type.Elem().Kind() == reflect.Struct:
				keys = append(keys, key)
				walk(key+".<name>", f.Type.Elem())
			default:
				keys = append(keys, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return keys
}

// pattern returns the allKeys form of a key path from a file:
// agents[3].id is agents[].id, calendars.support-hours.hours.mon-fri[0] is
// calendars.<name>.hours.
func pattern(key string) string {
	t := reflect.TypeFor[Config]()
	var b strings.Builder
	for key != "" {
		if key[0] == '[' {
			end := strings.IndexByte(key, ']')
			if end < 0 || t.Kind() != reflect.Slice {
				break
			}
			b.WriteString("[]")
			t, key = t.Elem(), key[end+1:]
			continue
		}
		key = strings.TrimPrefix(key, ".")
		name, rest := key, ""
		if n := strings.IndexAny(key, ".["); n >= 0 {
			name, rest = key[:n], key[n:]
		}
		switch {
		case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct:
			b.WriteString(".<name>")
			t = t.Elem()
		case t.Kind() == reflect.Struct && t != durationType:
			if b.Len() > 0 {
				b.WriteString(".")
			}
			b.WriteString(name)
			f, ok := fieldByTag(t, name)
			if !ok {
				return b.String()
			}
			t = f.Type
		default:
			return b.String() // free-form below: hours, flows
		}
		key = rest
	}
	return b.String()
}

// TestEveryKeyDocumented keeps docs/configuration.md and the example
// configs/switchboard.yaml in step with the Config struct.
func TestEveryKeyDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../configs/switchboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource("switchboard.yaml", example)
	if err != nil {
		t.Fatal(err)
	}
	inExample := map[string]bool{}
	for _, k := range src.order {
		inExample[pattern(k)] = true
	}
	keys := allKeys()
	if len(keys) < 30 {
		t.Fatalf("only %d keys found: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(string(doc), "| `"+k+"` |") {
			t.Errorf("docs/configuration.md has no table row for %s", k)
		}
		if !inExample[k] {
			t.Errorf("configs/switchboard.yaml does not set %s", k)
		}
	}
	// And nothing documented that does not exist.
	row := regexp.MustCompile("(?m)^\\| `([a-z_.<>\\[\\]]+)` \\|")
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		if !known[m[1]] && !strings.HasPrefix(m[1], "SWITCHBOARD_") {
			// The env table's left column repeats real keys too.
			t.Errorf("docs/configuration.md documents unknown key %s", m[1])
		}
	}
}

// TestEnvKeysCoverScalars: every key that is not inside a list of objects
// or a map can be overridden from the environment.
func TestEnvKeysCoverScalars(t *testing.T) {
	env := map[string]bool{}
	for _, k := range envKeys() {
		env[k] = true
	}
	for _, k := range allKeys() {
		if strings.Contains(k, "[]") || strings.Contains(k, "<name>") {
			continue
		}
		if typ, ok := typeAt(reflect.TypeFor[Config](), k); ok && fileOnly(typ) {
			if env[k] {
				t.Errorf("%s is a list of objects or a map but has an environment override", k)
			}
			continue
		}
		if !env[k] {
			t.Errorf("%s has no environment override", k)
		}
	}
}
