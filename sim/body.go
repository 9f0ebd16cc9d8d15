package sim

import (
	"encoding/json"
	"unicode/utf8"
)

// parseBody is the fast path of a request body's decoding: it reads a
// JSON object of the plain kind ARI clients send (strings without
// escapes, numbers, booleans, nulls, arrays and objects of those) into the
// map json.Decoder with UseNumber makes of it, and reports false for
// anything else, which wrap then hands to json.Decoder; so whenever
// parseBody succeeds its map is json.Decoder's (FuzzParseBody checks it).
func parseBody(b []byte) (map[string]any, bool) {
	r := bodyReader{b: b}
	v, ok := r.value(0)
	m, isObject := v.(map[string]any)
	if !ok || !isObject {
		return nil, false
	}
	r.space()
	return m, r.i == len(r.b)
}

type bodyReader struct {
	b []byte
	i int
}

func (r *bodyReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *bodyReader) literal(s string) bool {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

func (r *bodyReader) value(depth int) (any, bool) {
	if depth > 16 {
		return nil, false
	}
	r.space()
	if r.i >= len(r.b) {
		return nil, false
	}
	switch c := r.b[r.i]; {
	case c == '"':
		return r.str()
	case c == '{':
		r.i++
		m := map[string]any{}
		r.space()
		if r.i < len(r.b) && r.b[r.i] == '}' {
			r.i++
			return m, true
		}
		for {
			r.space()
			k, ok := r.str()
			if !ok {
				return nil, false
			}
			r.space()
			if r.i >= len(r.b) || r.b[r.i] != ':' {
				return nil, false
			}
			r.i++
			v, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			r.space()
			if r.i >= len(r.b) {
				return nil, false
			}
			switch r.b[r.i] {
			case ',':
				r.i++
			case '}':
				r.i++
				return m, true
			default:
				return nil, false
			}
		}
	case c == '[':
		r.i++
		a := []any{}
		r.space()
		if r.i < len(r.b) && r.b[r.i] == ']' {
			r.i++
			return a, true
		}
		for {
			v, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			r.space()
			if r.i >= len(r.b) {
				return nil, false
			}
			switch r.b[r.i] {
			case ',':
				r.i++
			case ']':
				r.i++
				return a, true
			default:
				return nil, false
			}
		}
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	}
	return nil, false
}

// str reads a string with no escapes, of valid UTF-8.
func (r *bodyReader) str() (string, bool) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return "", false
	}
	start := r.i + 1
	ascii := true
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			s := r.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			r.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a JSON number (the whole grammar) as a json.Number.
func (r *bodyReader) number() (any, bool) {
	j := r.i
	digits := func() int {
		k := j
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(r.b) && r.b[j] == '-' {
		j++
	}
	if j < len(r.b) && r.b[j] == '0' {
		j++
	} else if digits() == 0 {
		return nil, false
	}
	if j < len(r.b) && r.b[j] == '.' {
		j++
		if digits() == 0 {
			return nil, false
		}
	}
	if j < len(r.b) && (r.b[j] == 'e' || r.b[j] == 'E') {
		j++
		if j < len(r.b) && (r.b[j] == '+' || r.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	n := json.Number(r.b[r.i:j])
	r.i = j
	return n, true
}
