package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Candidate is an available agent as a strategy sees it.
type Candidate struct {
	Agent sb.AgentID
	// Order is the agent's place in the queue's member list (linear,
	// round-robin): configured Members order, else configuration order;
	// agents added by an escalation step come after.
	Order int
	// IdleSince is when the agent last finished a call (end of wrap-up) or
	// logged in.
	IdleSince time.Time
	// Calls and TalkTime count answered calls since login.
	Calls    int
	TalkTime time.Duration
	// Weight is the agent's configured weight (weighted-random); <= 0 counts as 1.
	Weight int
	// Skill is the agent's level of the queue's primary skill (best-skill).
	Skill int
}

// Strategy picks which available agents to ring for a caller. A queue
// owns its instance (round-robin remembers the last agent it picked).
type Strategy interface {
	// Name is the name the strategy is chosen by.
	Name() string
	// Pick appends to dst the indexes in cands of the agents to ring: one,
	// or all of them for ring-all; none when cands is empty. rng is the
	// router's seeded source.
	Pick(dst []int, cands []Candidate, rng *rand.Rand) []int
}

// Strategy names.
const (
	LongestIdle    = "longest-idle"
	RoundRobin     = "round-robin"
	FewestCalls    = "fewest-calls"
	LeastTalkTime  = "least-talk-time"
	RingAll        = "ring-all"
	Linear         = "linear"
	Random         = "random"
	WeightedRandom = "weighted-random"
	BestSkill      = "best-skill"
)

// StrategyNames lists the valid strategy names; LongestIdle is the default.
var StrategyNames = []string{LongestIdle, RoundRobin, FewestCalls, LeastTalkTime, RingAll, Linear, Random, WeightedRandom, BestSkill}

// NewStrategy returns a fresh strategy by name ("" is longest-idle). An
// unknown name is an error naming the valid ones: never a silent fallback.
func NewStrategy(name string) (Strategy, error) {
	switch name {
	case "", LongestIdle:
		return longestIdle{}, nil
	case RoundRobin:
		return &roundRobin{last: -1}, nil
	case FewestCalls:
		return fewestCalls{}, nil
	case LeastTalkTime:
		return leastTalk{}, nil
	case RingAll:
		return ringAll{}, nil
	case Linear:
		return linear{}, nil
	case Random:
		return random{}, nil
	case WeightedRandom:
		return weightedRandom{}, nil
	case BestSkill:
		return bestSkill{}, nil
	}
	return nil, fmt.Errorf("unknown strategy %q (valid: %s)", name, strings.Join(StrategyNames, ", "))
}

var (
	_ Strategy = longestIdle{}
	_ Strategy = (*roundRobin)(nil)
	_ Strategy = fewestCalls{}
	_ Strategy = leastTalk{}
	_ Strategy = ringAll{}
	_ Strategy = linear{}
	_ Strategy = random{}
	_ Strategy = weightedRandom{}
	_ Strategy = bestSkill{}
)

// idler reports whether a has been idle longer than b, member order
// breaking ties so that picks are deterministic.
func idler(a, b *Candidate) bool {
	if !a.IdleSince.Equal(b.IdleSince) {
		return a.IdleSince.Before(b.IdleSince)
	}
	return a.Order < b.Order
}

// best returns the index of the candidate that less ranks first, -1 if none.
func best(cands []Candidate, less func(a, b *Candidate) bool) int {
	bi := -1
	for i := range cands {
		if bi < 0 || less(&cands[i], &cands[bi]) {
			bi = i
		}
	}
	return bi
}

func appendBest(dst []int, cands []Candidate, less func(a, b *Candidate) bool) []int {
	if i := best(cands, less); i >= 0 {
		dst = append(dst, i)
	}
	return dst
}

type longestIdle struct{}

func (longestIdle) Name() string { return LongestIdle }
func (longestIdle) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	return appendBest(dst, cands, idler)
}

// roundRobin rings the next member after the one it picked last (app_queue's
// rrmemory), wrapping to the top.
type roundRobin struct{ last int }

func (*roundRobin) Name() string { return RoundRobin }
func (s *roundRobin) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	next, first := -1, -1
	for i := range cands {
		o := cands[i].Order
		if o > s.last && (next < 0 || o < cands[next].Order) {
			next = i
		}
		if first < 0 || o < cands[first].Order {
			first = i
		}
	}
	if next < 0 {
		next = first
	}
	if next < 0 {
		return dst
	}
	s.last = cands[next].Order
	return append(dst, next)
}

type fewestCalls struct{}

func (fewestCalls) Name() string { return FewestCalls }
func (fewestCalls) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	return appendBest(dst, cands, func(a, b *Candidate) bool {
		if a.Calls != b.Calls {
			return a.Calls < b.Calls
		}
		return idler(a, b)
	})
}

type leastTalk struct{}

func (leastTalk) Name() string { return LeastTalkTime }
func (leastTalk) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	return appendBest(dst, cands, func(a, b *Candidate) bool {
		if a.TalkTime != b.TalkTime {
			return a.TalkTime < b.TalkTime
		}
		return idler(a, b)
	})
}

type ringAll struct{}

func (ringAll) Name() string { return RingAll }
func (ringAll) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	start := len(dst)
	for i := range cands {
		dst = append(dst, i)
	}
	// Member order, so that the Offer lists agents the same way every time.
	slices.SortFunc(dst[start:], func(a, b int) int { return cands[a].Order - cands[b].Order })
	return dst
}

type linear struct{}

func (linear) Name() string { return Linear }
func (linear) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	return appendBest(dst, cands, func(a, b *Candidate) bool { return a.Order < b.Order })
}

type random struct{}

func (random) Name() string { return Random }
func (random) Pick(dst []int, cands []Candidate, rng *rand.Rand) []int {
	if len(cands) == 0 {
		return dst
	}
	return append(dst, rng.IntN(len(cands)))
}

type weightedRandom struct{}

func (weightedRandom) Name() string { return WeightedRandom }
func (weightedRandom) Pick(dst []int, cands []Candidate, rng *rand.Rand) []int {
	if len(cands) == 0 {
		return dst
	}
	w := func(c *Candidate) int64 { return int64(max(c.Weight, 1)) }
	var total int64
	for i := range cands {
		total += w(&cands[i])
	}
	x := rng.Int64N(total)
	for i := range cands {
		if x -= w(&cands[i]); x < 0 {
			return append(dst, i)
		}
	}
	return append(dst, len(cands)-1)
}

type bestSkill struct{}

func (bestSkill) Name() string { return BestSkill }
func (bestSkill) Pick(dst []int, cands []Candidate, _ *rand.Rand) []int {
	return appendBest(dst, cands, func(a, b *Candidate) bool {
		if a.Skill != b.Skill {
			return a.Skill > b.Skill
		}
		return idler(a, b)
	})
}
