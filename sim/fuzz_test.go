package sim

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// partyFacts is what a Party does, comparable: all but the TalkDist func.
type partyFacts struct {
	rings                             int
	busy, noAnswer, unreachable, mach bool
	talk, digitsDelay, patience       time.Duration
	drawn, talkRange                  bool
	talkMin, talkMax                  time.Duration
	digits                            string
}

func factsOf(p Party) partyFacts {
	return partyFacts{p.Rings, p.Busy, p.NoAnswer, p.Unreachable, p.Machine, p.Talk, p.DigitsDelay, p.Patience,
		p.TalkDist != nil, p.talkRange, p.talkMin, p.talkMax, p.Digits}
}

// checkParty asserts a parsed party's values are within the script bounds
// and that scriptOf writes it back to the same party.
func checkParty(t *testing.T, script string, p Party, parse func(string) (Party, error)) {
	t.Helper()
	inDay := func(d time.Duration) bool { return d >= 0 && d <= MaxScriptDuration }
	switch {
	case p.Rings < 0 || p.Rings > MaxScriptRings:
		t.Fatalf("%q: rings %d", script, p.Rings)
	case !inDay(p.Talk) || !inDay(p.DigitsDelay) || !inDay(p.Patience) || !inDay(p.talkMin) || !inDay(p.talkMax):
		t.Fatalf("%q: durations out of bounds: %+v", script, factsOf(p))
	case p.talkRange && (p.TalkDist == nil || p.talkMin > p.talkMax):
		t.Fatalf("%q: talk range %v-%v", script, p.talkMin, p.talkMax)
	case len(p.Digits) > MaxScriptDigits || checkDigits(p.Digits) != nil:
		t.Fatalf("%q: digits %q", script, p.Digits)
	}
	if p.TalkDist != nil {
		r := rand.New(rand.NewPCG(uint64(len(script)), 7))
		for range 4 {
			if d := p.talkTime(r); d < p.talkMin || d > p.talkMax {
				t.Fatalf("%q: drew talk %v outside %v-%v", script, d, p.talkMin, p.talkMax)
			}
		}
	}
	written := scriptOf(p)
	q, err := parse(written)
	if err != nil {
		t.Fatalf("%q written back as %q: %v", script, written, err)
	}
	if factsOf(q) != factsOf(p) {
		t.Fatalf("%q written back as %q reads\n%+v, want\n%+v", script, written, factsOf(q), factsOf(p))
	}
}

// FuzzParseScript: a party script (SIM/<script> endpoints, a --load or
// POST /sim/v1/calls caller) parses within the bounds and writes back to
// the same party, or fails with an error naming the script; a caller's
// script is a party script without the items of a called phone.
func FuzzParseScript(f *testing.F) {
	for _, s := range []string{
		"answer", "answer-after-3", "busy", "noanswer", "no-answer", "unreachable", "machine",
		"rings=2;talk=30s;digits=12#", "patience=2m;talk=30s-3m", "digits=1,2,#;digitsdelay=2s;patience=60s;talk=30s-3m",
		"talk=drawn", "talk=3m-30s", "talk=-1s", "talk=-1s-1s", "talk=0s-2562047h", "rings=-1", "answer-after-99999999999999999999",
		"digits=x", "Rings=1; TALK=1h ;", ";;", "", "talk", "digits=", "patience=25h", "rings=1001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		if len(script) > 1<<10 {
			return // scripts are one line; long ones only slow the fuzzer
		}
		p, err := ParseScript(script)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sim script ") {
				t.Fatalf("%q: error %q does not name the script", script, err)
			}
		} else {
			checkParty(t, script, p, ParseScript)
		}
		c, cerr := ParseCallerScript(script)
		switch {
		case cerr == nil && err != nil:
			t.Fatalf("%q: a caller's script but not a party's (%v)", script, err)
		case cerr == nil && (c.Rings != 0 || c.Busy || c.NoAnswer || c.Unreachable || c.Machine):
			t.Fatalf("%q: a caller with a called phone's items: %+v", script, factsOf(c))
		case cerr == nil:
			checkParty(t, script, c, ParseCallerScript)
		case err == nil && p.Rings == 0 && !p.Busy && !p.NoAnswer && !p.Unreachable && !p.Machine:
			t.Fatalf("%q: a party's script a caller may have, refused: %v", script, cerr)
		}
	})
}

// FuzzCallRequest: the body of POST /sim/v1/calls gives a caller within
// the script bounds, or an error naming the field at fault.
func FuzzCallRequest(f *testing.F) {
	for _, s := range []string{
		`{"dialed":"8000","caller_id":"+15551230001","caller_name":"Ann","digits":"1","digits_delay":"2s","patience":"60s","talk":"30s-3m"}`,
		`{"script":"digits=1;digitsdelay=2s;patience=60s;talk=30s-3m","talk":"5s","hangup_after":"90s"}`,
		`{"app":"sb","args":["a","b"],"trunk":"PJSIP/trunk","context":"from-trunk"}`,
		`{"talk":"1s;busy"}`, `{"script":"busy"}`, `{"trunk":"nope"}`, `{"hangup_after":"-1s"}`, `{"digits":5}`,
		`{"args":"x"}`, `{"x":1}`, `[]`, `null`, ``, `{"script":null,"digits":null}`, `{"patience":"1h","patience":"2h"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxControlBody {
			return
		}
		b, fe := decodeBody(body)
		if fe == nil {
			var in Inbound
			var after time.Duration
			in, after, fe = inboundFrom(b)
			if fe == nil {
				if after < 0 {
					t.Fatalf("%q: hangup_after %v", body, after)
				}
				checkParty(t, string(body), in.Party, ParseCallerScript)
				return
			}
		}
		// The field at fault is the body or one the body has (a call
		// field with a bad value, or an unknown one).
		_, present := b[fe.field]
		if fe.msg == "" || (fe.field != "body" && !present) ||
			(present && !slices.Contains(callFields, fe.field) && !strings.HasPrefix(fe.msg, "unknown field")) {
			t.Fatalf("%q: error %q at field %q", body, fe.msg, fe.field)
		}
	})
}
