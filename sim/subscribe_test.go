package sim

import (
	"net/url"
	"testing"
)

// TestSubscribeLocalEndpoint: like Asterisk, the simulator refuses to
// subscribe an application to a Local endpoint (422: Local endpoints have
// no state), even one scripted with AddEndpoint, while a PJSIP phone is
// subscribed.
func TestSubscribeLocalEndpoint(t *testing.T) {
	s := startSim(t, Options{Speed: 100})
	s.AddEndpoint("Local", "1001@agents", Party{})
	s.AddEndpoint("PJSIP", "1002", Party{})
	connect(t, s, "sb")
	cases := []struct {
		source string
		want   int
	}{
		{"endpoint:Local/1001@agents", 422},
		{"endpoint:Local/1003@agents/n", 422},
		{"endpoint:Local", 422},
		{"endpoint:PJSIP/1002", 200},
	}
	for _, c := range cases {
		code, body := call(t, s, "POST", "/applications/sb/subscription", url.Values{"eventSource": {c.source}}, nil)
		if code != c.want {
			t.Errorf("subscribe %s = %d %s, want %d", c.source, code, body, c.want)
			continue
		}
		if code == 422 {
			if m := mustJSON(t, body); m["message"] == nil {
				t.Errorf("subscribe %s: no message in %s", c.source, body)
			}
		}
	}
	code, _ := call(t, s, "DELETE", "/applications/sb/subscription", url.Values{"eventSource": {"endpoint:Local/1001@agents"}}, nil)
	eq(t, "unsubscribe Local", code, 422)
}
