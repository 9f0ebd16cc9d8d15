package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// RingCadence is the simulated time one ring lasts: a Party with Rings = 3
// answers 3×RingCadence after the dial starts.
const RingCadence = 2 * time.Second

// DigitGap is the simulated time between two keypresses of a scripted or
// injected DTMF string; a ',' in the string pauses for DigitPause instead.
const (
	DigitGap   = 250 * time.Millisecond
	DigitPause = time.Second
	// DigitDuration is the duration_ms reported for each simulated keypress.
	DigitDuration = 100
)

// Party scripts a simulated human or device at the far end of a channel:
// a phone that is called (endpoint) or a caller (Inbound). The zero Party
// answers at once and never hangs up by itself.
type Party struct {
	// Rings is the number of rings (RingCadence each) before answering;
	// 0 answers at once.
	Rings int
	// Busy rejects the call: Dial BUSY, then ChannelDestroyed cause 17.
	Busy bool
	// NoAnswer rings until the dial or originate timeout: cause 19.
	NoAnswer bool
	// Unreachable fails the call like an unregistered phone: Dial
	// CHANUNAVAIL, ChannelDestroyed cause 20.
	Unreachable bool
	// Machine marks an answering machine: it answers like a human, and the
	// simulated AMD() dialplan context reports MACHINE for it.
	Machine bool
	// Talk is how long the party stays once bridged to another channel
	// before hanging up (cause 16); 0 = never by itself.
	Talk time.Duration
	// TalkDist, when set, draws the talk time (overrides Talk). It is
	// called with the server's seeded generator under the server lock.
	TalkDist func(r *rand.Rand) time.Duration
	// Digits are pressed after answering (outbound) or after entering the
	// application (inbound): one ChannelDtmfReceived per digit, DigitGap
	// apart, ',' = DigitPause.
	Digits string
	// DigitsDelay is the wait before the first digit.
	DigitsDelay time.Duration
	// Patience makes the party hang up (abandon, cause 16) if it is not
	// bridged to another channel within this time after answering or
	// entering the application; 0 = infinite.
	Patience time.Duration

	// talkRange is set with talkMin and talkMax when the script drew the
	// talk time from a range (talk=MIN-MAX): TalkDist draws from them, and
	// scriptOf writes them back.
	talkRange        bool
	talkMin, talkMax time.Duration
}

// Bounds of a script: what a simulated party does within a day.
const (
	// MaxScriptRings bounds rings (and answer-after-N).
	MaxScriptRings = 1000
	// MaxScriptDuration bounds talk, digitsdelay and patience.
	MaxScriptDuration = 24 * time.Hour
	// MaxScriptDigits bounds the keys of digits.
	MaxScriptDigits = 256
)

// takeTalk gives p the talk time of q (fixed or drawn).
func (p *Party) takeTalk(q Party) {
	p.Talk, p.TalkDist, p.talkRange, p.talkMin, p.talkMax = q.Talk, q.TalkDist, q.talkRange, q.talkMin, q.talkMax
}

// scriptDuration reads a duration of a script item: 0 to MaxScriptDuration.
func scriptDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, err
	case d < 0:
		return 0, fmt.Errorf("%q is negative", s)
	case d > MaxScriptDuration:
		return 0, fmt.Errorf("%q is longer than %v", s, MaxScriptDuration)
	}
	return d, nil
}

// ParseScript decodes the resource of a SIM/<script> endpoint into a Party.
// The script is a ';'-separated list of presets and key=value pairs:
//
//	answer               answer at once (the default)
//	answer-after-N       answer after N rings
//	busy | noanswer | unreachable | machine
//	rings=N              rings before answering
//	talk=DUR             talk time once bridged (Go duration: 30s, 2m)
//	talk=MIN-MAX         talk time drawn uniformly between MIN and MAX
//	digits=STR           DTMF pressed after answering (',' = 1 s pause)
//	digitsdelay=DUR      wait before the first digit
//	patience=DUR         hang up if not bridged within DUR
//
// Rings are at most MaxScriptRings, durations from 0 to MaxScriptDuration,
// digits at most MaxScriptDigits keys among 0-9 * # A-D and ','.
//
// Example: SIM/rings=2;talk=30s;digits=12#
func ParseScript(script string) (Party, error) {
	var p Party
	for _, item := range strings.Split(script, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, hasVal := strings.Cut(item, "=")
		key = strings.ToLower(key)
		var err error
		switch {
		case !hasVal && key == "answer":
		case !hasVal && strings.HasPrefix(key, "answer-after-"):
			p.Rings, err = strconv.Atoi(strings.TrimPrefix(key, "answer-after-"))
		case !hasVal && key == "busy":
			p.Busy = true
		case !hasVal && (key == "noanswer" || key == "no-answer"):
			p.NoAnswer = true
		case !hasVal && key == "unreachable":
			p.Unreachable = true
		case !hasVal && key == "machine":
			p.Machine = true
		case hasVal && key == "rings":
			p.Rings, err = strconv.Atoi(val)
		case hasVal && key == "talk":
			var q Party
			if lo, hi, ok := strings.Cut(val, "-"); ok {
				var dlo, dhi time.Duration
				if dlo, err = scriptDuration(lo); err == nil {
					if dhi, err = scriptDuration(hi); err == nil && dhi < dlo {
						err = fmt.Errorf("talk range %q is reversed", val)
					}
				}
				if err == nil {
					q.talkRange, q.talkMin, q.talkMax = true, dlo, dhi
					q.TalkDist = func(r *rand.Rand) time.Duration {
						return dlo + time.Duration(r.Int64N(int64(dhi-dlo)+1))
					}
				}
			} else {
				q.Talk, err = scriptDuration(val)
			}
			p.takeTalk(q)
		case hasVal && key == "digits":
			if err = checkDigits(val); err == nil && len(val) > MaxScriptDigits {
				err = fmt.Errorf("more than %d digits", MaxScriptDigits)
			}
			p.Digits = val
		case hasVal && key == "digitsdelay":
			p.DigitsDelay, err = scriptDuration(val)
		case hasVal && key == "patience":
			p.Patience, err = scriptDuration(val)
		default:
			err = fmt.Errorf("unknown item %q", item)
		}
		if err != nil {
			return Party{}, fmt.Errorf("sim script %q: %s: %w", script, key, err)
		}
	}
	if p.Rings < 0 || p.Rings > MaxScriptRings {
		return Party{}, fmt.Errorf("sim script %q: rings %d: want 0 to %d", script, p.Rings, MaxScriptRings)
	}
	return p, nil
}

// talkTime draws the party's talk time.
func (p Party) talkTime(r *rand.Rand) time.Duration {
	if p.TalkDist != nil {
		return p.TalkDist(r)
	}
	return p.Talk
}

// endpoint is a registered device (AddEndpoint).
type endpoint struct {
	tech, resource string
	state          string // online, offline, unknown
	party          Party
	channels       []string
}

func (e *endpoint) key() string { return e.tech + "/" + e.resource }

// knownTechs are the channel technologies that exist without AddEndpoint.
var knownTechs = map[string]bool{"PJSIP": true, "SIP": true, "IAX2": true, "Local": true, "SIM": true, "DAHDI": true}

// AddEndpoint registers a device, e.g. ("PJSIP", "1001", p), in state
// online. Calls to it follow p. Registering an existing endpoint replaces
// its party.
func (s *Server) AddEndpoint(tech, resource string, p Party) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tech + "/" + resource
	if e, ok := s.endpoints[k]; ok {
		e.party = p
		return
	}
	s.endpoints[k] = &endpoint{tech: tech, resource: resource, state: "online", party: p}
	s.techs[tech] = true
}

// SetParty changes the script of a registered endpoint, or registers it.
func (s *Server) SetParty(tech, resource string, p Party) { s.AddEndpoint(tech, resource, p) }

// SetEndpointState sets a registered endpoint's state ("online",
// "offline", "unknown") and sends EndpointStateChange to the applications
// subscribed to it. Calls to an offline endpoint fail with CHANUNAVAIL.
func (s *Server) SetEndpointState(tech, resource, state string) error {
	switch state {
	case "online", "offline", "unknown":
	default:
		return fmt.Errorf("sim: endpoint state %q: want online, offline or unknown", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[tech+"/"+resource]
	if !ok {
		return fmt.Errorf("sim: endpoint %s/%s: %w", tech, resource, ErrNotFound)
	}
	if e.state == state {
		return nil
	}
	e.state = state
	s.emit(s.endpointApps(e), "EndpointStateChange", map[string]any{"endpoint": s.endpointJSON(e)})
	return nil
}

// AddDefaultPhones registers agent desk phones PJSIP/1001 to PJSIP/1010
// that answer after one ring and talk for a drawn time (60 s plus an
// exponential with a 2-minute mean, at most 15 minutes).
func (s *Server) AddDefaultPhones() {
	for i := 1001; i <= 1010; i++ {
		s.AddEndpoint("PJSIP", strconv.Itoa(i), Party{Rings: 1, TalkDist: DefaultTalk})
	}
}

// DefaultTalk draws a talk time: 60 s plus an exponential with a 2-minute
// mean, capped at 15 minutes.
func DefaultTalk(r *rand.Rand) time.Duration {
	d := time.Minute + time.Duration(r.ExpFloat64()*float64(2*time.Minute))
	return min(d, 15*time.Minute)
}
