// Package erlang sizes call-center staffing with two queueing models:
//
//   - Erlang C (M/M/N): Poisson arrivals, exponential handle times, N
//     agents, callers wait forever. The textbook model behind "agents
//     needed for 80% in 20 s".
//   - Erlang A (M/M/N+M): the same, but each waiting caller hangs up after
//     an exponentially distributed patience with mean θ. Real queues
//     abandon, so Erlang C overstates the agents needed, most of all when
//     the queue is tight; Erlang A also predicts the abandon rate.
//
// The package is pure: no I/O, no goroutines, no clock. Everything is a
// function of [Input].
//
// # Numerical method
//
// Erlang C uses the Erlang B recurrence B(0)=1, B(k)=A·B(k-1)/(k+A·B(k-1)),
// whose terms stay in [0,1], and converts with C = N·B/(N−A·(1−B)). No
// factorials or powers are formed, so N in the tens of thousands neither
// overflows nor loses precision.
//
// Erlang A is solved exactly on its birth–death chain instead of through the
// incomplete-gamma closed forms of Garnett, Mandelbaum and Reiman (2002),
// which are awkward to evaluate stably. The chain has birth rate λ and death
// rate kμ for k ≤ N and Nμ+(k−N)θ for k > N (θ = 1/patience). Its stationary
// distribution is built in log space (no overflow for large N) and truncated
// once the death rate exceeds λ and the terms have fallen below e⁻⁴⁵ of the
// largest; the neglected mass is below 1e-15. From it, by PASTA:
//
//   - P(wait) = Σ_{k≥N} π_k
//   - P(abandon) = θ·E[queue]/λ (abandon flow balance)
//   - an arrival that finds j callers waiting is served with probability
//     Nμ/(Nμ+(j+1)θ) and, if served, its wait is a sum of exponential
//     stages with rates Nμ+θ, …, Nμ+(j+1)θ. That gives ASA (mean wait of
//     the served) in closed form and the service level through
//     uniformization of that pure-death chain (all terms positive, so no
//     cancellation).
//
// As patience grows the Erlang A figures converge to Erlang C's; the tests
// check that, and check both models against a brute-force solver and, for
// Erlang A, a discrete-event simulation.
package erlang

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Model names the queueing model a [Result] was computed with.
type Model string

// The two models.
const (
	// ModelErlangC is M/M/N: callers never abandon.
	ModelErlangC Model = "erlang-c"
	// ModelErlangA is M/M/N+M: callers abandon after an exponential patience.
	ModelErlangA Model = "erlang-a"
)

// DefaultMaxAgents bounds the staffing search when Input.MaxAgents is 0.
const DefaultMaxAgents = 100000

// Target is a service-level objective: a fraction of calls answered within
// a wait, e.g. 80% in 20 s is {ServiceLevel: 0.8, Within: 20 * time.Second}.
type Target struct {
	// ServiceLevel is the fraction to reach, in [0, 1); 0 means no
	// service-level criterion (the level at Within is still reported).
	ServiceLevel float64
	// Within is the answer-time threshold.
	Within time.Duration
}

// Input describes the traffic, the staffing question and its criteria.
type Input struct {
	// CallsPerHour is the arrival rate λ.
	CallsPerHour float64
	// AHT is the average handle time (talk plus wrap-up).
	AHT time.Duration
	// Target is the service-level objective; Target.Within is also the
	// threshold at which ServiceLevel is reported.
	Target Target
	// Patience is the callers' mean patience θ. Zero selects Erlang C,
	// anything positive Erlang A.
	Patience time.Duration
	// Agents, when positive, asks Solve to evaluate that staffing instead
	// of searching for the smallest one meeting the criteria.
	Agents int
	// MaxOccupancy, when positive, caps agent occupancy (e.g. 0.85) so
	// agents are not burned out by a staffing that just meets the target.
	MaxOccupancy float64
	// MaxASA, when positive, caps the average speed of answer.
	MaxASA time.Duration
	// MaxAbandon, when positive, caps the abandon rate (Erlang A). Worth
	// setting: the service level counts abandons as failures, but a large
	// center can still reach 80% in 20 s staffed below its load, with one
	// caller in five hanging up and agents at 100% occupancy.
	MaxAbandon float64
	// MaxAgents bounds the search; 0 means DefaultMaxAgents.
	MaxAgents int
}

// Result is the predicted performance of one staffing level.
type Result struct {
	// Model is the model used: Erlang A when Input.Patience > 0.
	Model Model
	// Agents is the staffing evaluated (or found).
	Agents int
	// TrafficErlangs is the offered load A = λ·AHT.
	TrafficErlangs float64
	// Stable is false when an Erlang C queue has Agents ≤ A: the queue
	// grows without bound, ServiceLevel is 0 and ASASeconds is +Inf.
	// Erlang A queues are always stable (abandonment empties them).
	Stable bool
	// ProbWait is the probability that a call waits at all.
	ProbWait float64
	// ServiceLevel is the fraction of all offered calls answered within
	// Target.Within. Under Erlang A, calls that abandon count as not
	// answered, whenever they hang up.
	ServiceLevel float64
	// ASASeconds is the average speed of answer: the mean wait of answered
	// calls, including those answered at once. +Inf when unstable.
	ASASeconds float64
	// Occupancy is the fraction of agent time spent handling calls.
	Occupancy float64
	// AbandonRate is the fraction of offered calls that abandon (Erlang A;
	// always 0 under Erlang C).
	AbandonRate float64
	// MeetsTarget reports whether every criterion in the Input holds.
	MeetsTarget bool
}

// InputError is a problem with one Input field; Field is the Go field name
// (e.g. "AHT", "Target.Within") so callers can point at their own flag.
type InputError struct {
	Field   string
	Problem string
}

func (e *InputError) Error() string { return "erlang: " + e.Field + ": " + e.Problem }

// ErrUnreachable is returned by Solve when no staffing up to MaxAgents meets
// the criteria.
var ErrUnreachable = errors.New("erlang: no staffing within the agent limit meets the criteria")

// ErrTooManyStates is returned for an Erlang A queue so overloaded, with
// patience so long, that its queue would need millions of states: use
// Erlang C or more agents.
var ErrTooManyStates = errors.New("erlang: queue too long to solve (overloaded with very long patience)")

// maxQueueStates bounds the Erlang A chain beyond N.
const maxQueueStates = 2_000_000

// ErlangB returns the probability that a call is blocked in an M/M/N/N loss
// system offered a Erlangs (Erlang's loss formula).
func ErlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC returns the probability that a call waits in an M/M/N queue offered
// a Erlangs: 1 when n ≤ a (every call waits; the queue is unstable).
func ErlangC(n int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return 1
	}
	b := ErlangB(n, a)
	return float64(n) * b / (float64(n) - a*(1-b))
}

func validate(in Input) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case bad(in.CallsPerHour) || in.CallsPerHour <= 0:
		return &InputError{"CallsPerHour", fmt.Sprintf("must be a positive number, got %v", in.CallsPerHour)}
	case in.AHT <= 0:
		return &InputError{"AHT", fmt.Sprintf("must be positive, got %v", in.AHT)}
	case bad(in.Target.ServiceLevel) || in.Target.ServiceLevel < 0 || in.Target.ServiceLevel >= 1:
		return &InputError{"Target.ServiceLevel", fmt.Sprintf("must be in [0, 1), got %v", in.Target.ServiceLevel)}
	case in.Target.Within < 0:
		return &InputError{"Target.Within", fmt.Sprintf("must not be negative, got %v", in.Target.Within)}
	case in.Patience < 0:
		return &InputError{"Patience", fmt.Sprintf("must not be negative, got %v", in.Patience)}
	case in.Agents < 0:
		return &InputError{"Agents", fmt.Sprintf("must not be negative, got %d", in.Agents)}
	case bad(in.MaxOccupancy) || in.MaxOccupancy < 0 || in.MaxOccupancy > 1:
		return &InputError{"MaxOccupancy", fmt.Sprintf("must be in (0, 1], got %v", in.MaxOccupancy)}
	case in.MaxASA < 0:
		return &InputError{"MaxASA", fmt.Sprintf("must not be negative, got %v", in.MaxASA)}
	case bad(in.MaxAbandon) || in.MaxAbandon < 0 || in.MaxAbandon >= 1:
		return &InputError{"MaxAbandon", fmt.Sprintf("must be in (0, 1), got %v", in.MaxAbandon)}
	case in.MaxAgents < 0:
		return &InputError{"MaxAgents", fmt.Sprintf("must not be negative, got %d", in.MaxAgents)}
	}
	return nil
}

// Solve answers the staffing question in in: with in.Agents > 0 it evaluates
// that staffing (MeetsTarget tells whether it is enough); otherwise it finds
// the smallest number of agents meeting every criterion given (service
// level, MaxOccupancy, MaxASA, MaxAbandon; at least one is required). It relies on each
// criterion improving with more agents, which holds for both models.
func Solve(in Input) (Result, error) {
	if err := validate(in); err != nil {
		return Result{}, err
	}
	if in.Agents > 0 {
		return evaluate(in, in.Agents)
	}
	if in.Target.ServiceLevel == 0 && in.MaxOccupancy == 0 && in.MaxASA == 0 && in.MaxAbandon == 0 {
		return Result{}, &InputError{"Target.ServiceLevel", "give a service-level target, MaxOccupancy, MaxASA or MaxAbandon to search for"}
	}
	limit := in.MaxAgents
	if limit == 0 {
		limit = DefaultMaxAgents
	}
	a := in.CallsPerHour / 3600 * in.AHT.Seconds()
	lo := 1
	if in.Patience == 0 {
		lo = int(math.Floor(a)) + 1 // Erlang C needs N > A to be stable
	}
	if lo > limit {
		return Result{}, fmt.Errorf("%w (%d agents; the traffic alone is %.1f Erlangs)", ErrUnreachable, limit, a)
	}
	// Doubling then bisection: O(log N) evaluations.
	meets := func(n int) (Result, bool, error) {
		r, err := evaluate(in, n)
		if errors.Is(err, ErrTooManyStates) {
			return r, false, nil // hopelessly overloaded: not enough agents
		}
		return r, err == nil && r.MeetsTarget, err
	}
	hi := lo
	for {
		_, ok, err := meets(hi)
		if err != nil {
			return Result{}, err
		}
		if ok {
			break
		}
		if hi >= limit {
			return Result{}, fmt.Errorf("%w (%d agents)", ErrUnreachable, limit)
		}
		lo = hi + 1
		hi = min(2*hi, limit)
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		_, ok, err := meets(mid)
		if err != nil {
			return Result{}, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return evaluate(in, hi)
}

// Evaluate predicts the performance of n agents for the traffic in in,
// ignoring in.Agents.
func Evaluate(in Input, n int) (Result, error) {
	if err := validate(in); err != nil {
		return Result{}, err
	}
	if n <= 0 {
		return Result{}, &InputError{"Agents", fmt.Sprintf("must be positive, got %d", n)}
	}
	return evaluate(in, n)
}

func evaluate(in Input, n int) (Result, error) {
	lambda := in.CallsPerHour / 3600 // calls per second
	aht := in.AHT.Seconds()
	t := in.Target.Within.Seconds()
	r := Result{Model: ModelErlangC, Agents: n, TrafficErlangs: lambda * aht}
	if in.Patience > 0 {
		r.Model = ModelErlangA
		q, err := solveA(n, lambda, 1/aht, 1/in.Patience.Seconds(), t)
		if err != nil {
			return r, err
		}
		r.Stable = true
		r.ProbWait, r.ServiceLevel, r.ASASeconds, r.Occupancy, r.AbandonRate = q.pWait, q.sl, q.asa, q.occupancy, q.pAbandon
	} else {
		r.ProbWait, r.ServiceLevel, r.ASASeconds, r.Occupancy, r.Stable = erlangC(n, r.TrafficErlangs, aht, t)
	}
	r.MeetsTarget = r.Stable &&
		(in.Target.ServiceLevel == 0 || r.ServiceLevel >= in.Target.ServiceLevel) &&
		(in.MaxOccupancy == 0 || r.Occupancy <= in.MaxOccupancy) &&
		(in.MaxASA == 0 || r.ASASeconds <= in.MaxASA.Seconds()) &&
		(in.MaxAbandon == 0 || r.AbandonRate <= in.MaxAbandon)
	return r, nil
}

// erlangC returns P(wait), SL(t), ASA, occupancy and stability for n agents
// offered a Erlangs with handle time aht seconds.
func erlangC(n int, a, aht, t float64) (pw, sl, asa, occ float64, stable bool) {
	nf := float64(n)
	if nf <= a {
		return 1, 0, math.Inf(1), 1, false
	}
	pw = ErlangC(n, a)
	sl = 1 - pw*math.Exp(-(nf-a)*t/aht)
	asa = pw * aht / (nf - a)
	return pw, sl, asa, a / nf, true
}
