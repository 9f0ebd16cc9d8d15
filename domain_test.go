package switchboard

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err       error
		code, msg string
	}{
		{nil, "", ""},
		{Errorf(ENOTFOUND, "channel %s", "c1"), ENOTFOUND, "channel c1"},
		{fmt.Errorf("answer c1: %w", Errorf(ECONFLICT, "not in app")), ECONFLICT, "not in app"},
		{fmt.Errorf("boom"), EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.msg)
		}
	}
}

func TestNullTimeJSON(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 500, time.UTC)
	for _, in := range []NullTime{{}, SomeTime(at), SomeTime(time.Time{})} {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out NullTime
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if out.Valid != in.Valid || !out.Time.Equal(in.Time) {
			t.Errorf("%s: round trip %+v → %+v", b, in, out)
		}
	}
	if b, _ := json.Marshal(NullTime{}); string(b) != "null" {
		t.Errorf("unset = %s, want null", b)
	}
}

func TestNullTimeSQL(t *testing.T) {
	var n NullTime
	if err := n.Scan(nil); err != nil || n.Valid {
		t.Fatalf("Scan(nil) = %+v, %v", n, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := n.Scan(at); err != nil || !n.Valid || !n.Time.Equal(at) {
		t.Fatalf("Scan(time) = %+v, %v", n, err)
	}
	if v, _ := (NullTime{}).Value(); v != nil {
		t.Errorf("Value of unset = %v, want nil", v)
	}
}

func TestCDRDurations(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	talked := CDR{Entered: t0, Bridged: SomeTime(t0.Add(20 * time.Second)), Ended: t0.Add(200 * time.Second)}
	if talked.Wait() != 20*time.Second || talked.Talk() != 180*time.Second {
		t.Errorf("wait %v talk %v", talked.Wait(), talked.Talk())
	}
	abandoned := CDR{Entered: t0, Ended: t0.Add(45 * time.Second)}
	if abandoned.Wait() != 45*time.Second || abandoned.Talk() != 0 {
		t.Errorf("wait %v talk %v", abandoned.Wait(), abandoned.Talk())
	}
}

func TestChannelOf(t *testing.T) {
	tests := []struct {
		e    Event
		want ChannelID
	}{
		{ChannelEntered{Channel: ChannelInfo{ID: "a"}}, "a"},
		{ChannelDestroyed{Channel: ChannelInfo{ID: "b"}}, "b"},
		{DTMFReceived{Channel: "c"}, "c"},
		{DialResult{Peer: "d", Caller: "x"}, "d"},
		{BridgeDestroyed{Bridge: "br"}, ""},
		{LinkUp{}, ""},
	}
	for _, tt := range tests {
		if got := ChannelOf(tt.e); got != tt.want {
			t.Errorf("ChannelOf(%T) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestValidMediaURI(t *testing.T) {
	const want = "want sound:, recording:, digits:, number:, characters: or tone:"
	tests := []struct {
		uri  string
		want string // "" = valid
	}{
		{"sound:hello-world", ""},
		{"recording:greeting-${tier}", ""},
		{"digits:123", ""},
		{"number:42", ""},
		{"characters:abc", ""},
		{"tone:ring", ""},
		{"bogus:thing", `media "bogus:thing" has an unknown scheme: ` + want},
		{"http://x/y.wav", `media "http://x/y.wav" has an unknown scheme: ` + want},
		{"hello", `media "hello" has an unknown scheme: ` + want},
		{"Sound:hello", `media "Sound:hello" has an unknown scheme: ` + want},
		{"", `media "" has an unknown scheme: ` + want},
		{"tone:", `media "tone:" names nothing after tone:`},
	}
	for _, tt := range tests {
		err := ValidMediaURI(tt.uri)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidMediaURI(%q) = %v, want nil", tt.uri, err)
			}
			continue
		}
		if got := ErrorMessage(err); got != tt.want || ErrorCode(err) != EINVALID {
			t.Errorf("ValidMediaURI(%q) = %v (%s), want %q (invalid)", tt.uri, got, ErrorCode(err), tt.want)
		}
	}
}
