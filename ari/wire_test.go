package ari

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// wireSeeds are frames at the edges of what readWire takes.
var wireSeeds = []string{
	`{"type":"StasisStart","args":[],"channel":{"id":"a","caller":{"name":"José","number":"1"},"dialplan":null,"creationtime":"2025-03-04T10:15:02.101+0000"}}`,
	`{"type":"X","TYPE":"Y"}`, `{"Type":"StasisEnd"}`, `{"type":"StasisEnd","channel":{"ID":"x"}}`,
	`{"type":"Dial","peer":{"id":"p","x":[1,-0.5e+3,{"a":null}],"y":true}}`, `{"type":"a","type":"b"}`,
	`{"type":"ChannelDtmfReceived","duration_ms":01}`, `{"type":"ChannelDtmfReceived","duration_ms":1.5}`,
	`{"type":"ChannelDtmfReceived","duration_ms":-0}`, `{"type":"ChannelDtmfReceived","duration_ms":123456789012345678901}`,
	`{"type":"x\u0041"}`, `{"type":"\xff"}`, `{"type":"a"} x`, ` {"type" : "a" , "soft" : true } `,
	`{"type":"StasisStart","args":["a",null]}`, `{"type":"StasisStart","args":null,"channel":null,"timestamp":null}`,
	`{"type":"RecordingFinished","recording":{"name":"r","duration":62,"cause":null}}`, `{"type":"t","timestamp":"bad"}`,
	`{"type":"t","k":"é","ſ":1}`, `{"type":"t","soft":"true"}`, `{}`, `[]`, `null`, ``, `{"type":"t",}`,
	`{"type":"t","channel":{"caller":{"name":"a"},"caller":{"number":"b"}}}`,
}

// FuzzReadWire: whenever readWire takes a frame, json.Unmarshal takes it
// too and makes the same wireEvent of it.
func FuzzReadWire(f *testing.F) {
	for _, fr := range recorded(f) {
		f.Add(fr)
	}
	for _, s := range wireSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, slow wireEvent
		if !readWire(data, &fast) {
			return
		}
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("readWire took %q, json.Unmarshal refused it: %v", data, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nreadWire       %+v\njson.Unmarshal %+v", data, fast, slow)
		}
	})
}

// FuzzParseARITime: whenever parseARITime takes a time, it is
// time.Parse's.
func FuzzParseARITime(f *testing.F) {
	for _, s := range []string{"2025-03-04T10:15:02.101+0000", "2024-02-29T23:59:59.999-0700", "2023-02-29T00:00:00.000+0000",
		"0000-01-01T00:00:00.000+1459", "2025-13-01T00:00:00.000+0000", "2025-03-04T10:15:02.101+1500", "2025-03-04 10:15:02.101+0000",
		"2025-04-31T00:00:00.000+0100", "9999-12-31T23:59:59.000-1400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseARITime([]byte(s))
		if !ok {
			return
		}
		want, err := time.Parse(ariTimeFormat, s)
		if err != nil {
			t.Fatalf("parseARITime took %q, time.Parse refused it: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parseARITime %v (%v), time.Parse %v (%v)", s, got, got.Location(), want, want.Location())
		}
	})
}

// Asterisk's frames take the fast path.
func TestReadWireTakesRecordedFrames(t *testing.T) {
	for i, fr := range recorded(t) {
		var w wireEvent
		if !readWire(fr, &w) {
			t.Errorf("frame %d: readWire gave up on %s", i, fr)
		}
	}
}
