// Package dialsim is a seeded discrete-event simulation of an outbound
// campaign: agents, trunk lines and customers, driven by any dialer.Pacer.
// It is the bench that decides which pacing method is best (issue 5): every
// method dials the same pre-drawn lead stream (common random numbers), so
// differences between methods are the methods', not the dice's.
//
// The model: a dialed lead resolves as a live answer (after its ring time,
// unless that exceeds the no-answer timeout), an answering machine (after its
// ring time plus answering-machine detection; never given to an agent), busy
// (after a few seconds) or no answer (at the timeout). A live answer goes to
// the longest-idle ready agent; with none ready it waits up to the connect
// window for an agent to finish wrap-up, and is abandoned after it. An agent
// talks for the lead's talk time, then wraps up for a time drawn from its own
// stream. The pacer is asked on a clock tick and whenever a line frees
// without a person or an agent becomes ready.
//
// Single-threaded and deterministic: parallelise over runs, not inside one.
package dialsim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Scenario is the traffic a campaign meets. Times are in seconds.
type Scenario struct {
	LiveAnswer      float64 // share of dials a person answers (0.30)
	Busy            float64 // share busy (0.10)
	Machine         float64 // share reaching an answering machine (0.15); the rest is no answer
	NoAnswerTimeout float64 // ring time after which a line is given up (20)
	RingMean        float64 // ring time before an answer, lognormal mean (9)
	RingCV          float64 // and its coefficient of variation (0.5)
	TalkMean        float64 // talk time, lognormal mean (180)
	TalkCV          float64 // (1.0)
	WrapMean        float64 // wrap-up time, lognormal mean (15)
	WrapCV          float64 // (0.5)
	BusyAfter       float64 // time to a busy signal (3)
	AMDTime         float64 // answering-machine detection after a machine answers (3)
	ConnectWindow   float64 // an answered call with no agent this long is abandoned (2)
	AbandonCap      float64 // the legal cap on abandoned / live-answered (0.03)
}

// DefaultScenario is the scenario of issue 5.
func DefaultScenario() Scenario {
	return Scenario{
		LiveAnswer: 0.30, Busy: 0.10, Machine: 0.15, NoAnswerTimeout: 20,
		RingMean: 9, RingCV: 0.5, TalkMean: 180, TalkCV: 1.0, WrapMean: 15, WrapCV: 0.5,
		BusyAfter: 3, AMDTime: 3, ConnectWindow: 2, AbandonCap: 0.03,
	}
}

// NoAnswer is the share of dials nobody answers.
func (s Scenario) NoAnswer() float64 { return 1 - s.LiveAnswer - s.Busy - s.Machine }

// Validate reports every value out of range.
func (s Scenario) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    float64
	}{{"live answer", s.LiveAnswer}, {"busy", s.Busy}, {"machine", s.Machine}} {
		if f.v < 0 || f.v > 1 {
			errs = append(errs, fmt.Errorf("%s share %g: want 0-1", f.name, f.v))
		}
	}
	if s.NoAnswer() < -1e-9 {
		errs = append(errs, fmt.Errorf("live answer + busy + machine = %g: over 1", 1-s.NoAnswer()))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"no-answer timeout", s.NoAnswerTimeout}, {"ring mean", s.RingMean}, {"talk mean", s.TalkMean},
		{"wrap-up mean", s.WrapMean}, {"connect window", s.ConnectWindow}} {
		if !(f.v > 0) {
			errs = append(errs, fmt.Errorf("%s %g: want > 0", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"ring CV", s.RingCV}, {"talk CV", s.TalkCV}, {"wrap-up CV", s.WrapCV}, {"busy after", s.BusyAfter}, {"AMD time", s.AMDTime}} {
		if f.v < 0 || math.IsNaN(f.v) {
			errs = append(errs, fmt.Errorf("%s %g: want >= 0", f.name, f.v))
		}
	}
	if !(s.AbandonCap > 0 && s.AbandonCap < 1) {
		errs = append(errs, fmt.Errorf("abandon cap %g: want between 0 and 1", s.AbandonCap))
	}
	return errors.Join(errs...)
}

// String is the scenario as printed with results.
func (s Scenario) String() string {
	return fmt.Sprintf("live answer %.0f%%, busy %.0f%% (after %gs), machine %.0f%% (AMD %gs), no answer %.0f%% (given up after %gs); "+
		"ring lognormal mean %gs CV %g; talk lognormal mean %gs CV %g; wrap-up lognormal mean %gs CV %g; "+
		"abandoned after %gs without an agent; abandon cap %g%%; agents taken longest-idle first",
		100*s.LiveAnswer, 100*s.Busy, s.BusyAfter, 100*s.Machine, s.AMDTime, 100*s.NoAnswer(), s.NoAnswerTimeout,
		s.RingMean, s.RingCV, s.TalkMean, s.TalkCV, s.WrapMean, s.WrapCV, s.ConnectWindow, 100*s.AbandonCap)
}

// Outcome is what dialing a lead brings.
type Outcome uint8

// Outcomes of a dial.
const (
	Live Outcome = iota
	Busy
	Machine
	NoAnswer
)

// Lead is one pre-drawn lead: its outcome, how long it rings before it is
// answered and how long its conversation would last. Every field is drawn
// whatever the outcome, so the stream stays aligned between methods.
type Lead struct {
	Outcome Outcome
	Ring    float64
	Talk    float64
}

// resolve returns when, after the dial, the line is resolved and whether a
// person answered.
func (l Lead) resolve(s *Scenario) (after float64, live bool) {
	switch {
	case l.Outcome == Busy:
		return min(s.BusyAfter, s.NoAnswerTimeout), false
	case l.Outcome == NoAnswer || l.Ring > s.NoAnswerTimeout:
		return s.NoAnswerTimeout, false
	case l.Outcome == Machine:
		return l.Ring + s.AMDTime, false
	default:
		return l.Ring, true
	}
}

// LeadStream is the seeded, lazily drawn sequence of leads every method
// dials in the same order.
type LeadStream struct {
	sc    Scenario
	rng   *rand.Rand
	leads []Lead
}

// NewLeadStream returns the lead stream of a seed.
func NewLeadStream(seed uint64, sc Scenario) *LeadStream {
	return &LeadStream{sc: sc, rng: rand.New(rand.NewPCG(seed, 0x6c656164))}
}

// Lead returns the i-th lead, drawing as needed.
func (ls *LeadStream) Lead(i int) Lead {
	for len(ls.leads) <= i {
		u := ls.rng.Float64()
		var o Outcome
		switch {
		case u < ls.sc.LiveAnswer:
			o = Live
		case u < ls.sc.LiveAnswer+ls.sc.Busy:
			o = Busy
		case u < ls.sc.LiveAnswer+ls.sc.Busy+ls.sc.Machine:
			o = Machine
		default:
			o = NoAnswer
		}
		ring := lognormal(ls.rng, ls.sc.RingMean, ls.sc.RingCV)
		talk := lognormal(ls.rng, ls.sc.TalkMean, ls.sc.TalkCV)
		ls.leads = append(ls.leads, Lead{Outcome: o, Ring: ring, Talk: talk})
	}
	return ls.leads[i]
}

// wrapStream returns the seeded wrap-up times, the k-th for the k-th
// connected call.
func wrapStream(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x77726170)) }

// lognormal draws from the lognormal with the given mean and coefficient of
// variation.
func lognormal(r *rand.Rand, mean, cv float64) float64 {
	if cv <= 0 {
		r.NormFloat64() // keep the stream aligned
		return mean
	}
	s2 := math.Log1p(cv * cv)
	return math.Exp(math.Log(mean) - s2/2 + math.Sqrt(s2)*r.NormFloat64())
}
