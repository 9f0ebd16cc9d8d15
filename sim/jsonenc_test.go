package sim

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// tricky strings: every escape encoding/json makes, multi-byte runes,
// invalid UTF-8.
var trickyStrings = []string{"", "plain", `quote " back \ slash`, "<a href='x'>&amp;</a>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "é ü 漢字 😀", "line\u2028para\u2029", "bad \xff\xfe utf8 \xc3", "trunc \xe6\xbc"}

func TestAppendStringIsJSONMarshal(t *testing.T) {
	for _, s := range trickyStrings {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendJSONIsJSONMarshal(t *testing.T) {
	values := []any{
		nil, true, false, 0, -7, int64(1 << 40), int32(-3), 2.5, 1e21, "x<y",
		[]string(nil), []string{}, []string{"b", "a&"}, []any(nil), []any{}, []any{1, "a", nil, []string{"z"}},
		map[string]any(nil), map[string]any{}, map[string]string(nil), map[string]string{"b": "2", "a": "1", "<": ">"},
		map[string]any{"zeta": 1, "alpha": map[string]any{"y": []any{}, "x": nil}, "mid": rawJSON(`{"k":"v"}`), "é": "ü", "A": true},
		[]map[string]any{{"b": 1, "a": 2}}, // through json.Marshal
		rawJSON(`[1,2]`), rawJSON(nil), time.Duration(5),
	}
	for _, v := range values {
		want, werr := json.Marshal(v)
		got, gerr := marshalJSON(v)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("marshalJSON(%#v) = %s, %v; json.Marshal: %s, %v", v, got, gerr, want, werr)
		}
	}
	if _, err := marshalJSON(map[string]any{"f": func() {}}); err == nil {
		t.Error("marshalJSON of a func: no error")
	}
}

func TestAppendTimeIsARITime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.FixedZone("X", -7*3600)),
		time.Date(999, 12, 31, 23, 59, 59, 1e6, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 5e8, time.UTC), {},
		time.Unix(1700000000, 123456789),
	} {
		want, _ := json.Marshal(ariTime(tm))
		if got := appendTime(nil, tm); !bytes.Equal(got, want) {
			t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

// The hand-written channel and bridge snapshots are, byte for byte, what
// json.Marshal made of the maps the simulator built before.
func TestSnapshotsAreTheMapsJSON(t *testing.T) {
	s := New(Options{})
	created := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	for _, tech := range []string{"PJSIP", "SIP", "Local", "Snoop"} {
		for _, str := range trickyStrings {
			c := &channel{id: "1700000000." + str, name: tech + "/" + str, tech: tech, state: "Up" + str,
				caller: callerID{str, "+1" + str}, connected: callerID{"c" + str, str}, context: "ctx" + str,
				exten: str, priority: 3, appName: "Stasis" + str, appData: str, created: created}
			m := map[string]any{
				"id": c.id, "protocol_id": "", "name": c.name, "state": c.state,
				"caller":      map[string]any{"name": c.caller.name, "number": c.caller.number},
				"connected":   map[string]any{"name": c.connected.name, "number": c.connected.number},
				"accountcode": "",
				"dialplan": map[string]any{"context": c.context, "exten": c.exten, "priority": c.priority,
					"app_name": c.appName, "app_data": c.appData},
				"creationtime": ariTime(c.created), "language": "en",
			}
			if tech == "PJSIP" || tech == "SIP" {
				m["protocol_id"] = c.id + "@sim"
			}
			want, _ := json.Marshal(m)
			if got := s.chanJSON(c); !bytes.Equal(got, want) {
				t.Errorf("chanJSON:\n got %s\nwant %s", got, want)
			}
			if got, _ := marshalJSON(chanNow{c}); !bytes.Equal(got, want) {
				t.Errorf("chanNow:\n got %s\nwant %s", got, want)
			}
			if got, _ := json.Marshal(chanNow{c}); !bytes.Equal(got, want) {
				t.Errorf("json.Marshal(chanNow):\n got %s\nwant %s", got, want)
			}
		}
	}
	for n := range 4 {
		for _, btype := range []string{"mixing", "holding"} {
			b := &bridge{id: "b<1>", name: "n\"" + btype, btype: btype, created: created}
			ids := []string{}
			for i := range n {
				c := &channel{id: "c" + itoa(i) + trickyStrings[i%len(trickyStrings)]}
				b.chans = append(b.chans, c)
				ids = append(ids, c.id)
			}
			tech := "simple_bridge"
			if n > 2 {
				tech = "softmix"
			}
			if btype == "holding" {
				tech = "holding_bridge"
			}
			want, _ := json.Marshal(map[string]any{"id": b.id, "technology": tech, "bridge_type": b.btype,
				"bridge_class": "stasis", "creator": "Stasis", "name": b.name, "channels": ids,
				"creationtime": ariTime(b.created), "video_mode": "none"})
			if got := s.bridgeJSON(b); !bytes.Equal(got, want) {
				t.Errorf("bridgeJSON:\n got %s\nwant %s", got, want)
			}
			if got, _ := marshalJSON(bridgeNow{b}); !bytes.Equal(got, want) {
				t.Errorf("bridgeNow:\n got %s\nwant %s", got, want)
			}
		}
	}
}

// An event is what json.Marshal made of its fields with type, timestamp
// and asterisk_id added, the application spliced in first.
func TestEventIsTheMapsJSON(t *testing.T) {
	s := New(Options{EntityID: "ast<1>"})
	at := time.Date(2026, 11, 23, 12, 0, 0, 5e8, time.UTC)
	for _, app := range []string{"app", "a\"pp"} {
		q := make(chan []byte, 4)
		s.apps[app] = &application{name: app, conn: &wsConn{q: q}, endpoints: map[string]bool{}}
		for _, fields := range []map[string]any{
			{},
			{"cause": 16, "cause_txt": "Normal Clearing", "channel": s.chanJSON(&channel{id: "1.2", created: at})},
			{"peer": chanNow{&channel{id: "p<", tech: "PJSIP"}}, "bridge": bridgeNow{&bridge{id: "b"}}},
			{"variable": "X<", "value": "1", "zz": []string{"a"}, "aa": map[string]any{"k": nil}},
			{"type": "spoofed", "timestamp": 1, "asterisk_id": "other"},
		} {
			old := map[string]any{}
			for k, v := range fields {
				old[k] = v
			}
			n := len(fields)
			s.emitAt([]string{app}, "ChannelVarset", fields, at)
			if len(fields) != n {
				t.Errorf("emitAt changed its fields: %v", fields)
			}
			old["type"], old["timestamp"], old["asterisk_id"] = "ChannelVarset", ariTime(at), "ast<1>"
			body, _ := json.Marshal(old)
			name, _ := json.Marshal(app)
			want := append(append(append([]byte(`{"application":`), name...), ','), body[1:]...)
			if got := <-q; !bytes.Equal(got, want) {
				t.Errorf("event:\n got %s\nwant %s", got, want)
			}
		}
	}
}
