package sim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseBody: whenever parseBody takes a body, json.Decoder (UseNumber)
// takes it too and makes the same map of it.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		`{"media":["sound:beep"]}`, `{"variable":"X","value":"1"}`, `{"bridgeId":"b","type":"mixing","name":"n"}`,
		`{"eventSource":"channel:1.2"}`, `{"variables":{"A":"1","B":2.5e3,"C":true,"D":null}}`, `{}`, ` { } `,
		`{"a":1,"a":{"b":[]}}`, `{"a":-0.5E+2}`, `{"a":01}`, `{"a":"\u0041"}`, `{"a":"\xff"}`, `{"a":1} x`,
		`{"a":[1,"x",[{}]]}`, `[]`, `"s"`, `{"a":tru}`, `{"é":"ü"}`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseBody(b)
		if !ok {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var slow map[string]any
		if err := dec.Decode(&slow); err != nil {
			t.Fatalf("parseBody took %q, json.Decoder refused it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nparseBody     %#v\njson.Decoder %#v", b, fast, slow)
		}
	})
}

// The bodies the stock clients send take the fast path.
func TestParseBodyTakesClientBodies(t *testing.T) {
	for _, s := range []string{`{"media":["sound:beep"]}`, "{\"variable\":\"SWITCHBOARD_CALL\",\"value\":\"1.2\"}\n",
		`{"bridgeId":"br-1","type":"mixing","name":"call 1"}`, `{"variables":{"X":"1"}}`} {
		if _, ok := parseBody([]byte(s)); !ok {
			t.Errorf("parseBody gave up on %s", s)
		}
	}
}
