package erlang

import (
	"container/heap"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.6g, want %.6g ± %g", name, got, want, tol)
	}
}

// bruteBirthDeath solves M/M/n (theta = 0) or M/M/n+M truncated at kmax
// states with plain products: fine for the small n used here.
func bruteBirthDeath(n int, lambda, mu, theta float64, kmax int) []float64 {
	p := make([]float64, kmax+1)
	p[0] = 1
	z := 1.0
	for k := 1; k <= kmax; k++ {
		death := float64(min(k, n))*mu + float64(max(k-n, 0))*theta
		p[k] = p[k-1] * lambda / death
		z += p[k]
	}
	for k := range p {
		p[k] /= z
	}
	return p
}

func TestErlangBKnownValues(t *testing.T) {
	// Erlang B tables: 10 trunks offered 5 Erlangs block 1.838% of calls.
	near(t, "B(10,5)", ErlangB(10, 5), 0.018385, 5e-6)
	// Against the defining sum a^n/n! / Σ a^k/k!.
	for _, tc := range []struct {
		n int
		a float64
	}{{1, 0.5}, {5, 2}, {10, 5}, {20, 15}, {30, 31.5}} {
		term, sum := 1.0, 1.0
		for k := 1; k <= tc.n; k++ {
			term *= tc.a / float64(k)
			sum += term
		}
		near(t, "ErlangB", ErlangB(tc.n, tc.a), term/sum, 1e-12)
	}
}

func TestErlangCPublishedExample(t *testing.T) {
	// The worked example used by call-center training material: 100 calls
	// per half hour, 3-minute AHT (10 Erlangs), 80% in 20 s. Published:
	// 11 agents P(wait) 68.21%; 14 agents needed, SL 88.8%, ASA 7.8 s.
	in := Input{CallsPerHour: 200, AHT: 3 * time.Minute, Target: Target{0.8, 20 * time.Second}}
	r11, err := Evaluate(in, 11)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "P(wait) at 11", r11.ProbWait, 0.6821, 5e-5)
	got, err := Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Agents != 14 || got.Model != ModelErlangC || !got.MeetsTarget {
		t.Fatalf("Solve = %+v, want 14 agents meeting the target", got)
	}
	near(t, "SL", got.ServiceLevel, 0.888, 5e-4)
	near(t, "ASA", got.ASASeconds, 7.8, 0.05)
	near(t, "occupancy", got.Occupancy, 10.0/14, 1e-12)
	near(t, "traffic", got.TrafficErlangs, 10, 1e-12)
}

func TestErlangCClosedForms(t *testing.T) {
	// M/M/1: P(wait) = ρ. M/M/2: P(wait) = 2ρ²/(1+ρ).
	for _, rho := range []float64{0.1, 0.5, 0.9, 0.99} {
		near(t, "M/M/1", ErlangC(1, rho), rho, 1e-12)
		near(t, "M/M/2", ErlangC(2, 2*rho), 2*rho*rho/(1+rho), 1e-12)
	}
	if ErlangC(5, 5) != 1 || ErlangC(4, 5) != 1 {
		t.Error("ErlangC with N ≤ A must be 1")
	}
}

func TestErlangCAgainstBruteForce(t *testing.T) {
	for _, tc := range []struct {
		cph    float64
		aht    time.Duration
		n      int
		within time.Duration
	}{
		{120, 3 * time.Minute, 7, 20 * time.Second},
		{120, 3 * time.Minute, 9, 20 * time.Second},
		{200, 3 * time.Minute, 13, 30 * time.Second},
		{30, 4 * time.Minute, 3, 0},
		{500, 5 * time.Minute, 45, 15 * time.Second},
	} {
		in := Input{CallsPerHour: tc.cph, AHT: tc.aht, Target: Target{0, tc.within}}
		r, err := Evaluate(in, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		lambda, mu := tc.cph/3600, 1/tc.aht.Seconds()
		p := bruteBirthDeath(tc.n, lambda, mu, 0, 4000)
		var pw, q, slow float64
		nmu, tt := float64(tc.n)*mu, tc.within.Seconds()
		for k := tc.n; k < len(p); k++ {
			j := k - tc.n
			pw += p[k]
			q += float64(j) * p[k]
			// A caller finding j waiting waits Erlang(j+1, nμ): P(W > t).
			term, tail := math.Exp(-nmu*tt), 0.0
			for m := 0; m <= j; m++ {
				if m > 0 {
					term *= nmu * tt / float64(m)
				}
				tail += term
			}
			slow += p[k] * tail
		}
		near(t, "P(wait)", r.ProbWait, pw, 1e-9)
		near(t, "ASA", r.ASASeconds, q/lambda, 1e-6)
		near(t, "SL", r.ServiceLevel, 1-slow, 1e-9)
	}
}

func TestErlangAAgainstBruteForce(t *testing.T) {
	for _, tc := range []struct {
		cph           float64
		aht, patience time.Duration
		n             int
	}{
		{120, 3 * time.Minute, time.Minute, 6},
		{120, 3 * time.Minute, time.Minute, 9},
		{400, 4 * time.Minute, 2 * time.Minute, 20},
		{60, 10 * time.Minute, 30 * time.Second, 5},
	} {
		in := Input{CallsPerHour: tc.cph, AHT: tc.aht, Patience: tc.patience, Target: Target{0, time.Hour}}
		r, err := Evaluate(in, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		lambda, mu, theta := tc.cph/3600, 1/tc.aht.Seconds(), 1/tc.patience.Seconds()
		p := bruteBirthDeath(tc.n, lambda, mu, theta, 5000)
		var pw, q, busy float64
		for k, pk := range p {
			if k >= tc.n {
				pw += pk
				q += float64(k-tc.n) * pk
			}
			busy += float64(min(k, tc.n)) * pk
		}
		pab := theta * q / lambda
		near(t, "P(wait)", r.ProbWait, pw, 1e-9)
		near(t, "P(abandon)", r.AbandonRate, pab, 1e-9)
		near(t, "occupancy", r.Occupancy, busy/float64(tc.n), 1e-9)
		// Conservation: calls handled = calls offered − abandoned, so the
		// carried load equals λ(1−P(ab))·AHT.
		near(t, "carried load", r.Occupancy*float64(tc.n), lambda*(1-pab)*tc.aht.Seconds(), 1e-9)
		// Everyone not abandoned is answered, eventually: SL at an hour
		// (hundreds of patiences) equals 1 − P(abandon), which the service
		// level computes from the per-caller survival formula instead.
		near(t, "SL(∞)", r.ServiceLevel, 1-pab, 1e-9)
	}
}

// serverHeap is a min-heap of the times agents become free.
type serverHeap []float64

func (h serverHeap) Len() int           { return len(h) }
func (h serverHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h serverHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *serverHeap) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *serverHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// simulateA runs an FCFS M/M/n+M queue for calls arrivals: a caller is
// answered when the earliest agent frees up, unless its patience runs out
// first, in which case it leaves without using an agent.
func simulateA(seed uint64, calls, n int, lambda, mu, theta, within float64) (sl, asa, pab float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	h := make(serverHeap, n)
	heap.Init(&h)
	now := 0.0
	warm := calls / 10
	var counted, answeredFast, answered, abandoned int
	var waitSum float64
	for i := range calls {
		now += rng.ExpFloat64() / lambda
		patience := rng.ExpFloat64() / theta
		start := math.Max(now, h[0])
		wait := start - now
		gone := wait > patience
		if !gone {
			h[0] = start + rng.ExpFloat64()/mu
			heap.Fix(&h, 0)
		}
		if i < warm {
			continue
		}
		counted++
		if gone {
			abandoned++
			continue
		}
		answered++
		waitSum += wait
		if wait <= within {
			answeredFast++
		}
	}
	return float64(answeredFast) / float64(counted), waitSum / float64(answered), float64(abandoned) / float64(counted)
}

func TestErlangAAgainstSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	for _, tc := range []struct {
		cph           float64
		aht, patience time.Duration
		n             int
	}{
		{120, 3 * time.Minute, time.Minute, 6},
		{120, 3 * time.Minute, 2 * time.Minute, 7},
		{360, 2 * time.Minute, 45 * time.Second, 12},
	} {
		within := 20 * time.Second
		r, err := Evaluate(Input{CallsPerHour: tc.cph, AHT: tc.aht, Patience: tc.patience, Target: Target{0, within}}, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		sl, asa, pab := simulateA(7, 600000, tc.n, tc.cph/3600, 1/tc.aht.Seconds(), 1/tc.patience.Seconds(), within.Seconds())
		t.Logf("n=%d model SL %.4f ASA %.2f ab %.4f; simulated SL %.4f ASA %.2f ab %.4f",
			tc.n, r.ServiceLevel, r.ASASeconds, r.AbandonRate, sl, asa, pab)
		near(t, "SL", r.ServiceLevel, sl, 0.01)
		near(t, "ASA", r.ASASeconds, asa, 0.05*asa+0.2)
		near(t, "abandon", r.AbandonRate, pab, 0.006)
	}
}

func TestErlangAConvergesToErlangC(t *testing.T) {
	in := Input{CallsPerHour: 200, AHT: 3 * time.Minute, Target: Target{0.8, 20 * time.Second}}
	for n := 11; n <= 16; n++ {
		c, err := Evaluate(in, n)
		if err != nil {
			t.Fatal(err)
		}
		patient := in
		patient.Patience = 1e7 * time.Second
		a, err := Evaluate(patient, n)
		if err != nil {
			t.Fatal(err)
		}
		if a.Model != ModelErlangA {
			t.Fatalf("model %q", a.Model)
		}
		near(t, "P(wait)", a.ProbWait, c.ProbWait, 1e-4)
		near(t, "SL", a.ServiceLevel, c.ServiceLevel, 1e-4)
		near(t, "ASA", a.ASASeconds, c.ASASeconds, 1e-3*c.ASASeconds)
		near(t, "occupancy", a.Occupancy, c.Occupancy, 1e-4)
		near(t, "abandon", a.AbandonRate, 0, 1e-4)
	}
}

func TestMoreAgentsServeBetter(t *testing.T) {
	for _, patience := range []time.Duration{0, 30 * time.Second, 3 * time.Minute} {
		in := Input{CallsPerHour: 900, AHT: 4 * time.Minute, Patience: patience, Target: Target{0, 20 * time.Second}}
		var prev Result
		for n := 61; n <= 90; n++ { // A = 60
			r, err := Evaluate(in, n)
			if err != nil {
				t.Fatal(err)
			}
			if n > 61 && !(r.ServiceLevel > prev.ServiceLevel && r.ASASeconds < prev.ASASeconds &&
				r.ProbWait < prev.ProbWait && r.Occupancy < prev.Occupancy && r.AbandonRate <= prev.AbandonRate) {
				t.Fatalf("patience %v: %d agents %+v not better than %+v", patience, n, r, prev)
			}
			prev = r
		}
	}
	// More patience means fewer abandons and longer waits.
	var prev Result
	for i, p := range []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute} {
		r, err := Evaluate(Input{CallsPerHour: 120, AHT: 3 * time.Minute, Patience: p, Target: Target{0, 20 * time.Second}}, 7)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !(r.AbandonRate < prev.AbandonRate && r.ASASeconds > prev.ASASeconds) {
			t.Fatalf("patience %v: %+v vs %+v", p, r, prev)
		}
		prev = r
	}
}

func TestUnstableErlangC(t *testing.T) {
	r, err := Evaluate(Input{CallsPerHour: 120, AHT: 3 * time.Minute}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if r.Stable || r.ServiceLevel != 0 || !math.IsInf(r.ASASeconds, 1) || r.ProbWait != 1 || r.MeetsTarget {
		t.Fatalf("6 agents for 6 Erlangs: %+v", r)
	}
	// Abandonment keeps the same staffing finite under Erlang A.
	r, err = Evaluate(Input{CallsPerHour: 120, AHT: 3 * time.Minute, Patience: time.Minute}, 6)
	if err != nil || !r.Stable || math.IsInf(r.ASASeconds, 0) {
		t.Fatalf("Erlang A: %+v %v", r, err)
	}
}

func TestSolveFindsSmallestStaffing(t *testing.T) {
	base := Input{CallsPerHour: 120, AHT: 3 * time.Minute, Target: Target{0.8, 20 * time.Second}}
	for _, tc := range []struct {
		name string
		edit func(*Input)
		want int
	}{
		{"erlang C 80/20", func(*Input) {}, 9},
		{"erlang A 80/20", func(in *Input) { in.Patience = time.Minute }, 8},
		{"occupancy cap", func(in *Input) { in.MaxOccupancy = 0.6 }, 10},
		{"ASA cap", func(in *Input) { in.MaxASA = 2 * time.Second }, 11},
		{"ASA only", func(in *Input) { in.Target = Target{0, 20 * time.Second}; in.MaxASA = 5 * time.Second }, 10},
		{"90/10", func(in *Input) { in.Target = Target{0.9, 10 * time.Second} }, 10},
		{"abandon cap", func(in *Input) { in.Patience = time.Minute; in.MaxAbandon = 0.03 }, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.edit(&in)
			got, err := Solve(in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Agents != tc.want || !got.MeetsTarget {
				t.Fatalf("got %d agents (meets %v), want %d", got.Agents, got.MeetsTarget, tc.want)
			}
			below, err := Evaluate(in, got.Agents-1)
			if err != nil {
				t.Fatal(err)
			}
			if below.MeetsTarget {
				t.Fatalf("%d agents already meet the target", got.Agents-1)
			}
			// Evaluating the found staffing gives the same answer.
			in.Agents = got.Agents
			again, err := Solve(in)
			if err != nil || again != got {
				t.Fatalf("evaluate %+v %v, want %+v", again, err, got)
			}
		})
	}
}

func TestSolveInputErrors(t *testing.T) {
	good := Input{CallsPerHour: 120, AHT: 3 * time.Minute, Target: Target{0.8, 20 * time.Second}}
	for _, tc := range []struct {
		field string
		edit  func(*Input)
	}{
		{"CallsPerHour", func(in *Input) { in.CallsPerHour = 0 }},
		{"CallsPerHour", func(in *Input) { in.CallsPerHour = -5 }},
		{"CallsPerHour", func(in *Input) { in.CallsPerHour = math.NaN() }},
		{"AHT", func(in *Input) { in.AHT = 0 }},
		{"Target.ServiceLevel", func(in *Input) { in.Target.ServiceLevel = 1 }},
		{"Target.ServiceLevel", func(in *Input) { in.Target.ServiceLevel = -0.1 }},
		{"Target.Within", func(in *Input) { in.Target.Within = -time.Second }},
		{"Patience", func(in *Input) { in.Patience = -time.Second }},
		{"Agents", func(in *Input) { in.Agents = -1 }},
		{"MaxOccupancy", func(in *Input) { in.MaxOccupancy = 1.5 }},
		{"MaxASA", func(in *Input) { in.MaxASA = -time.Second }},
		{"MaxAbandon", func(in *Input) { in.MaxAbandon = 1 }},
		{"Target.ServiceLevel", func(in *Input) { in.Target.ServiceLevel = 0 }}, // nothing to search for
	} {
		in := good
		tc.edit(&in)
		_, err := Solve(in)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: error %v, want an InputError on %s", in, err, tc.field)
		}
	}
	if _, err := Solve(Input{CallsPerHour: 1e6, AHT: time.Hour, Target: Target{0.8, time.Second}, MaxAgents: 50}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("error %v, want ErrUnreachable", err)
	}
}

func TestLargeStaffingIsFinite(t *testing.T) {
	for _, tc := range []struct {
		cph      float64
		patience time.Duration
	}{
		{60000, 0},           // 3000 Erlangs
		{400000, 0},          // 20000 Erlangs
		{60000, time.Minute}, // Erlang A, 3000 Erlangs
		{100000, 5 * time.Minute},
	} {
		in := Input{CallsPerHour: tc.cph, AHT: 3 * time.Minute, Patience: tc.patience, Target: Target{0.8, 20 * time.Second}}
		if tc.patience > 0 {
			in.MaxAbandon = 0.05
		}
		r, err := Solve(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{r.ProbWait, r.ServiceLevel, r.Occupancy, r.AbandonRate} {
			if math.IsNaN(v) || v < 0 || v > 1 {
				t.Fatalf("%+v", r)
			}
		}
		if a := r.TrafficErlangs; tc.patience == 0 && (float64(r.Agents) <= a || float64(r.Agents) > a*1.05) {
			t.Fatalf("%v Erlangs: %d agents", a, r.Agents)
		}
		t.Logf("%.0f Erlangs patience %v: %d agents SL %.4f ASA %.2fs occ %.4f ab %.4f",
			r.TrafficErlangs, tc.patience, r.Agents, r.ServiceLevel, r.ASASeconds, r.Occupancy, r.AbandonRate)
	}
}

func FuzzSolve(f *testing.F) {
	f.Add(120.0, int64(180), int64(20), 0.8, int64(0), 0, 0.0)
	f.Add(1e5, int64(300), int64(10), 0.95, int64(60), 0, 0.9)
	f.Add(3.0, int64(3600), int64(0), 0.5, int64(1), 2, 0.0)
	f.Fuzz(func(t *testing.T, cph float64, ahtS, withinS int64, sl float64, patienceS int64, agents int, occ float64) {
		in := Input{
			CallsPerHour: cph,
			AHT:          time.Duration(ahtS%100000) * time.Second,
			Target:       Target{sl, time.Duration(withinS%100000) * time.Second},
			Patience:     time.Duration(patienceS%100000) * time.Second,
			Agents:       agents % 5000,
			MaxOccupancy: occ,
			MaxAgents:    5000,
		}
		if cph > 1e6 {
			in.CallsPerHour = math.Mod(cph, 1e6)
		}
		r, err := Solve(in)
		if err != nil {
			return
		}
		for _, v := range []float64{r.ProbWait, r.ServiceLevel, r.Occupancy, r.AbandonRate} {
			if math.IsNaN(v) || v < -1e-12 || v > 1+1e-12 {
				t.Fatalf("%+v -> %+v", in, r)
			}
		}
		if r.Stable && (math.IsNaN(r.ASASeconds) || r.ASASeconds < 0) {
			t.Fatalf("%+v -> %+v", in, r)
		}
	})
}

func BenchmarkErlangCN1000(b *testing.B) {
	in := Input{CallsPerHour: 19000, AHT: 3 * time.Minute, Target: Target{0.8, 20 * time.Second}} // 950 Erlangs
	for b.Loop() {
		if _, err := Evaluate(in, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkErlangCSolveN1000(b *testing.B) {
	in := Input{CallsPerHour: 19000, AHT: 3 * time.Minute, Target: Target{0.8, 20 * time.Second}}
	for b.Loop() {
		if _, err := Solve(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkErlangAN1000(b *testing.B) {
	in := Input{CallsPerHour: 19000, AHT: 3 * time.Minute, Patience: time.Minute, Target: Target{0.8, 20 * time.Second}}
	for b.Loop() {
		if _, err := Evaluate(in, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkErlangASolveN1000(b *testing.B) {
	in := Input{CallsPerHour: 19000, AHT: 3 * time.Minute, Patience: time.Minute, Target: Target{0.8, 20 * time.Second}}
	for b.Loop() {
		if _, err := Solve(in); err != nil {
			b.Fatal(err)
		}
	}
}
