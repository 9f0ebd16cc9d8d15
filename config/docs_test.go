package config

import (
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// allKeys lists every key path of Config from its mapstructure tags, with
// "[]" for list items: log.level, agents, agents[].id, ...
func allKeys() []string {
	var keys []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
			if tag == "" || tag == "-" {
				panic("field without mapstructure tag: " + prefix + "." + f.Name)
			}
			key := join(prefix, tag)
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(key, f.Type)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				keys = append(keys, key)
				walk(key+"[]", f.Type.Elem())
			default:
				keys = append(keys, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return keys
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
	index := regexp.MustCompile(`\[\d+\]`)
	inExample := map[string]bool{}
	for _, k := range src.order {
		inExample[index.ReplaceAllString(k, "[]")] = true
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
	row := regexp.MustCompile("(?m)^\\| `([a-z_.\\[\\]]+)` \\|")
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
// can be overridden from the environment.
func TestEnvKeysCoverScalars(t *testing.T) {
	env := map[string]bool{}
	for _, k := range envKeys() {
		env[k] = true
	}
	for _, k := range allKeys() {
		if strings.Contains(k, "[]") || k == "agents" || k == "api.tokens" {
			continue
		}
		if !env[k] {
			t.Errorf("%s has no environment override", k)
		}
	}
}

func FuzzLoadBytes(f *testing.F) {
	f.Add(defaultYAML)
	if example, err := os.ReadFile("../configs/switchboard.yaml"); err == nil {
		f.Add(example)
	}
	for _, s := range []string{
		"", "~", "- a", "log: [x]", "log:\n  level: {a: b}", "asterisk:\n  request_timeout: 5",
		"agents: {id: a}", "agents:\n  - ~\n  - [a]\n  - {id: 1, endpoint: PJSIP/1, x: y}",
		"a: &x {b: *x}", "base: &b {level: debug}\nlog:\n  <<: *b\n", "log.level: debug",
		"api:\n  tokens:\n    - token: abc\n", "demo:\n  speed: .nan\n", "demo:\n  seed: 99999999999999999999999",
		"\t- :", "{", "? [a]\n: b", "asterisk:\n  url: \"http://[::1\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := LoadBytes("fuzz.yaml", data)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			if err := cfg.Validate(nil); err != nil {
				t.Fatalf("loaded config does not validate: %v", err)
			}
			return
		}
		if cfg != nil {
			t.Fatal("config returned with an error")
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 {
			t.Fatalf("error is not a non-empty *ValidationError: %T %v", err, err)
		}
		for _, p := range ve.Problems {
			if p.Message == "" || p.File == "" {
				t.Fatalf("problem without message or place: %+v", p)
			}
			if p.Line < 0 || (p.Line > 0 && p.Line > strings.Count(string(data), "\n")+1) {
				t.Fatalf("problem line %d outside the input: %+v", p.Line, p)
			}
			if utf8.ValidString(string(data)) && !utf8.ValidString(p.Message) {
				t.Fatalf("message is not UTF-8: %q", p.Message)
			}
		}
	})
}
