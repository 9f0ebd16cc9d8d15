package dialer

import (
	"math"
	"time"
)

// Stats are a campaign's measured dialing statistics, the empirical
// distributions the predictive pacer works from: how often a dial reaches a
// person, how long a line rings before a person answers, how long other
// attempts take to resolve, and talk and wrap-up times. Old observations fade:
// when a histogram holds more than its memory, every count is halved, so the
// estimates follow a campaign whose lists or hours change.
//
// The zero Stats is not usable; NewStats seeds weak priors (a handful of
// pseudo-observations) so the first decisions of a campaign are cautious
// rather than undefined.
type Stats struct {
	live, attempts float64 // decayed counts of live answers and attempts

	ringLive  hist // seconds from dial to a live answer
	ringOther hist // seconds from dial to any other resolution
	talk      hist // talk seconds
	wrap      hist // wrap-up seconds

	talkObs int // observations ever, to tell when derived tables are stale
}

// Histogram memories and shapes.
const (
	attemptMemory = 2000
	timeMemory    = 1000
	ringBin       = 0.25 // s
	ringMax       = 120  // s
	talkBin       = 1    // s
	talkMax       = 7200 // s
	wrapBin       = 0.5  // s
	wrapMax       = 900  // s
)

// NewStats returns statistics holding only the priors: answer rate 1 in 2
// (Beta(1,1)), ring and resolution times spread evenly over 0-20 s, talk
// times over 0-10 min and wrap-up over 0-60 s, each worth a few calls.
func NewStats() *Stats {
	s := &Stats{
		live: 1, attempts: 2,
		ringLive:  newHist(ringBin, ringMax, attemptMemory),
		ringOther: newHist(ringBin, ringMax, attemptMemory),
		talk:      newHist(talkBin, talkMax, timeMemory),
		wrap:      newHist(wrapBin, wrapMax, timeMemory),
	}
	s.ringLive.spread(0, 20, 5)
	s.ringOther.spread(0, 20, 5)
	s.talk.spread(0, 600, 5)
	s.wrap.spread(0, 60, 5)
	return s
}

// ObserveAttempt records a dial attempt that resolved after d: live is a
// person answering; anything else (busy, no answer, machine, failure) is not.
func (s *Stats) ObserveAttempt(d time.Duration, live bool) {
	s.attempts++
	if live {
		s.live++
		s.ringLive.add(d.Seconds())
	} else {
		s.ringOther.add(d.Seconds())
	}
	if s.attempts > attemptMemory {
		s.attempts /= 2
		s.live /= 2
	}
}

// ObserveTalk records one finished conversation's talk time.
func (s *Stats) ObserveTalk(d time.Duration) {
	s.talk.add(d.Seconds())
	s.talkObs++
}

// ObserveWrap records one finished wrap-up.
func (s *Stats) ObserveWrap(d time.Duration) { s.wrap.add(d.Seconds()) }

// Answers returns the decayed counts of live answers and attempts, priors
// included.
func (s *Stats) Answers() (live, attempts float64) { return s.live, s.attempts }

// MeanTalk is the mean of the talk-time histogram.
func (s *Stats) MeanTalk() time.Duration { return seconds(s.talk.mean()) }

// MeanWrap is the mean of the wrap-up histogram.
func (s *Stats) MeanWrap() time.Duration { return seconds(s.wrap.mean()) }

func seconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

// hist is a fixed-bin histogram with fading memory and a lazily rebuilt
// cumulative distribution.
type hist struct {
	width  float64
	counts []float64
	total  float64
	sum    float64 // weighted sum of observations, for the mean
	memory float64
	cum    []float64 // cum[i] = weight in bins < i, len(counts)+1
	dirty  bool
}

func newHist(width, maxX, memory float64) hist {
	n := int(math.Ceil(maxX / width))
	return hist{width: width, counts: make([]float64, n), cum: make([]float64, n+1), memory: memory, dirty: true}
}

func (h *hist) bin(x float64) int {
	i := int(x / h.width)
	return max(0, min(i, len(h.counts)-1))
}

func (h *hist) addWeight(x, w float64) {
	h.counts[h.bin(x)] += w
	h.total += w
	h.sum += w * x
	h.dirty = true
	if h.total > h.memory {
		for i := range h.counts {
			h.counts[i] /= 2
		}
		h.total /= 2
		h.sum /= 2
	}
}

func (h *hist) add(x float64) { h.addWeight(x, 1) }

// spread adds weight w evenly over [lo, hi).
func (h *hist) spread(lo, hi, w float64) {
	a, b := h.bin(lo), h.bin(hi-h.width/2)
	per := w / float64(b-a+1)
	for i := a; i <= b; i++ {
		h.counts[i] += per
	}
	h.total += w
	h.sum += w * (lo + hi) / 2
	h.dirty = true
}

func (h *hist) rebuild() {
	c := 0.0
	for i, v := range h.counts {
		h.cum[i] = c
		c += v
	}
	h.cum[len(h.counts)] = c
	h.dirty = false
}

// cdf is P(X <= x), linear within a bin.
func (h *hist) cdf(x float64) float64 {
	if h.dirty {
		h.rebuild()
	}
	if h.total <= 0 || x <= 0 {
		return 0
	}
	f := x / h.width
	i := int(f)
	if i >= len(h.counts) {
		return 1
	}
	v := h.cum[i] + (f-float64(i))*h.counts[i]
	return v / h.cum[len(h.counts)]
}

func (h *hist) mean() float64 {
	if h.total <= 0 {
		return 0
	}
	return h.sum / h.total
}
