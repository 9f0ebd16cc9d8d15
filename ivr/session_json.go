package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// parseJSON decodes a lookup answer, keeping numbers exact (json.Number).
// Trailing data after the document is an error.
func parseJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON document")
	}
	return doc, nil
}

// jsonPath walks a decoded document along a dotted path: objects by key,
// arrays by index ("customer.phones.0.number"). The value is formatted for
// a flow variable: strings as they are, numbers without exponent (1e3 is
// "1000"), booleans true/false, objects and arrays as compact JSON (keys
// sorted, <, > and & not escaped); a missing field or null is "". An empty
// path is the whole document.
func jsonPath(doc any, path string) string {
	v := doc
	if path != "" {
		for part := range strings.SplitSeq(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				var ok bool
				if v, ok = x[part]; !ok {
					return ""
				}
			case []any:
				i, err := strconv.Atoi(part)
				if err != nil || i < 0 || i >= len(x) {
					return ""
				}
				v = x[i]
			default:
				return ""
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return formatNumber(x)
	default:
		// As the answer wrote it: no HTML escaping of <, > and &.
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return ""
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
}

func formatNumber(n json.Number) string {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		return s // an integer, exact however long
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s // out of float64 range: as written
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// patterns caches compiled gather patterns across sessions: a busy flow
// would otherwise compile the same expression for every caller. Patterns
// come from validated flow files, so the cache stays small; it stops
// growing at maxPatterns (then patterns are compiled on each use).
var patterns struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

const maxPatterns = 1024

// compilePattern compiles a gather pattern anchored at both ends: the whole
// input must match, not a part of it ("[0-9]{4}" does not accept 12345).
func compilePattern(p string) (*regexp.Regexp, error) {
	patterns.Lock()
	re, ok := patterns.m[p]
	patterns.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, err
	}
	patterns.Lock()
	if patterns.m == nil {
		patterns.m = make(map[string]*regexp.Regexp)
	}
	if len(patterns.m) < maxPatterns {
		patterns.m[p] = re
	}
	patterns.Unlock()
	return re, nil
}
