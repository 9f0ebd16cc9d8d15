package dialer

import (
	"math"
	"time"
)

// Predictive is Switchboard's predictive pacer: it dials ahead for agents
// about to become free, as far as a statistical bound on abandons allows. See
// the package documentation for the method.
//
// A Predictive keeps caches between decisions (a talk-time table, the
// abandon budgets already solved), so it serves one campaign's pacing loop.
type Predictive struct {
	// Cap is the legal abandon rate (0.03): abandoned / live-answered,
	// checked over the clock hour, the day and the rolling window.
	Cap float64
	// Headroom is the share of the cap the allowances are planned against
	// (0.9): what the model still misses in the calls already in flight when
	// a window closes lands in the last tenth, not over the cap.
	Headroom float64
	// Alpha is the accepted chance that, from the current state, a window
	// ends the hour over the cap (0.01).
	Alpha float64
	// MaxRate caps the expected abandon share of the calls in flight however
	// much allowance is left (0.8 × Cap).
	MaxRate float64
	// Confidence is the posterior quantile of the answer rate used: an
	// upper quantile, because more answers than expected is what abandons
	// calls (0.9).
	Confidence float64
	// ConnectWindow is how long an answered call may wait for an agent
	// before it is abandoned (2 s).
	ConnectWindow time.Duration
	// Horizon is how far ahead answers are projected: the ring timeout
	// (20 s); no line answers later than that.
	Horizon time.Duration
	// Step is the spacing of the projection times in [0, Horizon] (2 s).
	Step time.Duration
	// Throughput is the share of the team's occupancy bound expected to be
	// reached, used to project the live answers left in the hour (0.85).
	Throughput float64
	// CalibrationPrior is how many abandons' worth of evidence the model
	// is trusted for before its measured error takes over (3).
	CalibrationPrior float64

	prior *Stats

	// calibration state
	rho, rhoAvg      float64 // planned abandon share now, and its recent average
	predSum, realSum float64 // predicted and realized abandons, fading
	calStarted       bool
	calLive, calAb   int
	calAt            time.Time
	grid             []float64 // projection times τ, seconds
	lambdas          []float64 // poissonBudget(k, Alpha) by k; NaN = not solved yet
	betaKey          [2]float64
	betaVal          float64
	zFor             float64
	zVal             float64

	talkFor  *Stats
	talkObs  int
	talkAt   time.Time
	talkSurv []float64   // talk-time survival by whole second
	talkTab  [][]float64 // [τ index][whole seconds talked] P(free by τ+window); NaN = not yet

	dist     []pmfBuf
	qNew     []float64
	lineAge  []float64
	lineBase [][2]float64
	agentAge []float64
	censored []float64 // talking agents' whole seconds so far, by second
	talkF    []float64
	binom    []float64
}

// NewPredictive returns a predictive pacer for an abandon cap (0.03) with
// the default settings.
func NewPredictive(abandonCap float64) *Predictive {
	return &Predictive{
		Cap:              abandonCap,
		Headroom:         0.9,
		Alpha:            0.01,
		MaxRate:          0.8 * abandonCap,
		Confidence:       0.9,
		ConnectWindow:    2 * time.Second,
		Horizon:          20 * time.Second,
		Step:             2 * time.Second,
		Throughput:       0.85,
		CalibrationPrior: 3,
	}
}

// Name implements Pacer.
func (*Predictive) Name() string { return "predictive" }

// pmfBuf is the distribution of D(τ) = answers by τ − agents free by
// τ+window over the calls and agents already there, held in buf[a:b] with
// value v at index v+zero, and its tail sums for E[(D+k)+].
type pmfBuf struct {
	buf        []float64
	a, b, zero int
	s0, s1     []float64 // s0[i] = P(D >= a-zero+i), s1[i] = E[D; D >= a-zero+i]
	mean       float64
}

func (d *pmfBuf) reset(size, zeroAt, start int) {
	if cap(d.buf) < size {
		d.buf = make([]float64, size)
	}
	d.buf = d.buf[:size]
	clear(d.buf)
	d.zero = zeroAt
	d.a, d.b = zeroAt+start, zeroAt+start+1
	d.buf[d.a] = 1
}

// plus adds an independent Bernoulli(q) to D.
func (d *pmfBuf) plus(q float64) {
	buf := d.buf
	buf[d.b] = 0
	for i := d.b; i > d.a; i-- {
		buf[i] = buf[i]*(1-q) + buf[i-1]*q
	}
	buf[d.a] *= 1 - q
	d.b++
	d.trim()
}

// minus subtracts an independent Bernoulli(f) from D.
func (d *pmfBuf) minus(f float64) {
	buf := d.buf
	d.a--
	buf[d.a] = 0
	for i := d.a; i < d.b-1; i++ {
		buf[i] = buf[i]*(1-f) + buf[i+1]*f
	}
	buf[d.b-1] *= 1 - f
	d.trim()
}

const (
	exactTalkers = 8     // more talking agents than this are summed as a binomial
	pmfEps       = 1e-13 // probabilities below this are dropped from a distribution
	freeEps      = 1e-4  // agents less likely than this to be free are left out
)

// minusBinomial subtracts an independent Binomial(m, q) from D; scratch
// holds its probabilities.
func (d *pmfBuf) minusBinomial(m int, q float64, scratch *[]float64) {
	b := binomialPMF(m, q, (*scratch)[:0])
	*scratch = b
	k := len(b) - 1 // values above k are negligible
	for k > 0 && b[k] < pmfEps {
		k--
	}
	buf := d.buf
	na := d.a - k
	for v := na; v < d.b; v++ {
		// new[v] = Σ_i old[v+i] b[i], old defined on [a, b)
		sum := 0.0
		lo := max(0, d.a-v)
		hi := min(k, d.b-1-v)
		for i := lo; i <= hi; i++ {
			sum += buf[v+i] * b[i]
		}
		buf[v] = sum
	}
	d.a = na
	d.trim()
}

// binomialPMF appends the Binomial(m, q) probabilities to out.
func binomialPMF(m int, q float64, out []float64) []float64 {
	q = max(0, min(q, 1-1e-12))
	p := math.Pow(1-q, float64(m))
	r := q / (1 - q)
	for i := 0; i <= m; i++ {
		out = append(out, p)
		p *= float64(m-i) / float64(i+1) * r
	}
	return out
}

func (d *pmfBuf) trim() {
	for d.b-d.a > 1 && d.buf[d.a] < pmfEps {
		d.a++
	}
	for d.b-d.a > 1 && d.buf[d.b-1] < pmfEps {
		d.b--
	}
}

func (d *pmfBuf) tails() {
	n := d.b - d.a
	if cap(d.s0) < n+1 {
		d.s0, d.s1 = make([]float64, n+1), make([]float64, n+1)
	}
	d.s0, d.s1 = d.s0[:n+1], d.s1[:n+1]
	d.s0[n], d.s1[n] = 0, 0
	for i := n - 1; i >= 0; i-- {
		p := d.buf[d.a+i]
		v := float64(d.a + i - d.zero)
		d.s0[i] = d.s0[i+1] + p
		d.s1[i] = d.s1[i+1] + p*v
	}
	d.mean = d.s1[0] / d.s0[0] // the trimmed mass is negligible
}

// excess is E[(D + k)+]: the abandons if k more answers arrive.
func (d *pmfBuf) excess(k int) float64 {
	i := 1 - k - (d.a - d.zero) // index of the value 1-k
	if i <= 0 {
		return d.mean + float64(k)
	}
	if i >= d.b-d.a {
		return 0
	}
	return d.s1[i] + float64(k)*d.s0[i]
}

// withNew is E[(D + Bin(n, q))+].
func (d *pmfBuf) withNew(n int, q float64) float64 {
	if n == 0 || q <= 0 {
		return d.excess(0)
	}
	q = min(q, 1-1e-12)
	ratio := q / (1 - q)
	p := math.Pow(1-q, float64(n))
	sum := 0.0
	for i := 0; i <= n; i++ {
		if p > 0 {
			sum += p * d.excess(i)
		}
		p *= float64(n-i) / float64(i+1) * ratio
	}
	return sum
}

// Decide implements Pacer.
func (p *Predictive) Decide(s PacerState, now time.Time) int {
	room := s.room()
	if room == 0 {
		return 0
	}
	st := s.Stats
	if st == nil {
		if p.prior == nil {
			p.prior = NewStats()
		}
		st = p.prior
	}
	p.setup(s, st, now)
	budget := p.budget(s, now, st)
	ph := p.answerQuantile(st, len(s.Ringing))
	window := p.ConnectWindow.Seconds()
	ready, _, _ := s.Count()
	size := len(s.Agents) + len(s.Ringing) + len(s.Waiting) + 3
	last := len(p.grid) - 1
	expectAnswers := float64(len(s.Waiting))

	p.lineAge, p.lineBase = p.lineAge[:0], p.lineBase[:0]
	for _, t := range s.Ringing {
		e := now.Sub(t).Seconds()
		fl, w := lineWeight(st, ph, e)
		p.lineAge = append(p.lineAge, e)
		p.lineBase = append(p.lineBase, [2]float64{fl, w})
	}
	p.agentAge = p.agentAge[:0]
	for _, a := range s.Agents {
		p.agentAge = append(p.agentAge, now.Sub(a.Since).Seconds())
	}
	for j, tau := range p.grid {
		d := &p.dist[j]
		d.reset(size, len(s.Agents)+1, len(s.Waiting)-ready)
		for i, e := range p.lineAge {
			q := 0.0
			if b := p.lineBase[i]; b[1] > 0 {
				q = b[1] * (st.ringLive.cdf(e+tau) - b[0])
			}
			if q > pmfEps {
				d.plus(q)
			}
			if j == last {
				expectAnswers += q
			}
		}
		p.talkF = p.talkF[:0]
		for i, a := range s.Agents {
			var f float64
			switch a.Status {
			case AgentTalking:
				f = p.talkFree(st, j, p.agentAge[i])
				if f > freeEps {
					p.talkF = append(p.talkF, f)
				}
				continue
			case AgentWrapUp:
				f = wrapFree(st, p.agentAge[i], tau+window)
			default:
				continue
			}
			// Leaving out an agent who might become free only overstates
			// the risk, so negligible chances are skipped for speed.
			if f > freeEps {
				d.minus(f)
			}
		}
		if len(p.talkF) <= exactTalkers {
			for _, f := range p.talkF {
				d.minus(f)
			}
		} else {
			// Many talkers, each unlikely to be free soon: their sum is
			// replaced by the binomial with the same mean, which has the
			// larger variance; the risk is convex in it, so this can only
			// overstate the risk (Hoeffding 1956).
			sum := 0.0
			for _, f := range p.talkF {
				sum += f
			}
			d.minusBinomial(len(p.talkF), sum/float64(len(p.talkF)), &p.binom)
		}
		d.tails()
		p.qNew[j] = ph * st.ringLive.cdf(tau)
	}

	kappa := p.calibrate(s.Abandons.Rolling, now)
	limit := min(room, 10*len(s.Agents)+10)
	best, bestRisk := 0, 0.0
	for n := 0; n <= limit; n++ {
		risk := 0.0
		for j := range p.grid {
			risk = max(risk, p.dist[j].withNew(n, p.qNew[j]))
		}
		if n > 0 && kappa*risk > budget*(expectAnswers+float64(n)*p.qNew[last])+1e-12 {
			break
		}
		best, bestRisk = n, risk
	}
	// The plan is what the model promised when it last dialed; decisions
	// that dial nothing only watch a set already over its budget.
	if ea := expectAnswers + float64(best)*p.qNew[last]; best > 0 && ea > 0 {
		p.rho = min(1, bestRisk/ea)
	}
	return best
}

// calibrate compares the abandons that happened with those the model
// predicted for the same live answers and returns the factor kappa >= 1 by
// which the model's risk is scaled. The model computes max over τ of
// E[D(τ)+], which is at most E[max over τ of D(τ)+], the abandons it stands
// for, and it ignores the lines later decisions add; the gap grows with the
// team, so it is measured rather than assumed: kappa is the mean of the
// Gamma posterior of realized/predicted (prior: the model is right, worth
// CalibrationPrior abandons), never below 1, on a fading memory.
func (p *Predictive) calibrate(c Counts, now time.Time) float64 {
	if !p.calStarted {
		p.calStarted, p.calLive, p.calAb, p.calAt = true, c.Live, c.Abandoned, now
		return p.kappa()
	}
	dl, da := c.Live-p.calLive, c.Abandoned-p.calAb
	p.calLive, p.calAb = c.Live, c.Abandoned
	if dl >= 0 && da >= 0 {
		p.predSum += p.rhoAvg * float64(dl)
		p.realSum += float64(da)
		if p.predSum > 50 {
			p.predSum /= 2
			p.realSum /= 2
		}
	}
	// The answers arriving now were dialed a ring time ago: compare them
	// with the risk planned over the last ~10 s.
	if dt := now.Sub(p.calAt).Seconds(); dt > 0 {
		w := math.Exp(-dt / 10)
		p.rhoAvg = w*p.rhoAvg + (1-w)*p.rho
		p.calAt = now
	}
	return p.kappa()
}

func (p *Predictive) kappa() float64 {
	k0 := p.CalibrationPrior
	return max(1, (p.realSum+k0)/(p.predSum+k0))
}

// lineWeight prepares the chance that a line ringing for e seconds is
// answered by a person within the next tau seconds, given it has not
// resolved yet, which is w × (F(e+tau) − fl) with F the live ring-time
// distribution: Bayes over "a person who has not answered yet" against
// "anything else still pending".
func lineWeight(st *Stats, p, e float64) (fl, w float64) {
	fl = st.ringLive.cdf(e)
	live := p * (1 - fl)
	den := live + (1-p)*(1-st.ringOther.cdf(e))
	if den < 1e-12 || live <= 0 {
		return fl, 0
	}
	return fl, p / den
}

// wrapFree is the chance that a wrap-up el seconds old ends within x.
func wrapFree(st *Stats, el, x float64) float64 {
	f0 := st.wrap.cdf(el)
	if 1-f0 < 1e-9 {
		return 0 // longer than any wrap-up seen: assume not soon
	}
	return (st.wrap.cdf(el+x) - f0) / (1 - f0)
}

// talkFree is the chance that an agent talking for el seconds has hung up
// and finished wrap-up within grid[j] + window.
func (p *Predictive) talkFree(st *Stats, j int, el float64) float64 {
	tab := p.talkTab[j]
	k := max(0, min(int(el), len(tab)-1))
	if v := tab[k]; !math.IsNaN(v) {
		return v
	}
	v := p.talkFreeAt(st, p.grid[j]+p.ConnectWindow.Seconds(), k)
	tab[k] = v
	return v
}

// talkFreeAt is P(T + W <= k + x | T > k) from the survival table: talk
// ends in second k+i with mass surv[k+i] - surv[k+i+1], then wrap-up must
// fit in what is left of x.
func (p *Predictive) talkFreeAt(st *Stats, x float64, k int) float64 {
	sv := p.talkSurv
	if sv[k] <= 1e-12 {
		return 0
	}
	num := 0.0
	for i := 0; float64(i) < x && k+i+1 < len(sv); i++ {
		num += (sv[k+i] - sv[k+i+1]) * st.wrap.cdf(x-float64(i)-0.5)
	}
	return min(1, num/sv[k])
}

func (p *Predictive) setup(s PacerState, st *Stats, now time.Time) {
	if p.grid == nil {
		h, step := p.Horizon.Seconds(), p.Step.Seconds()
		if step <= 0 {
			step = 2
		}
		for t := 0.0; t < h+step/2; t += step {
			p.grid = append(p.grid, min(t, h))
		}
		p.dist = make([]pmfBuf, len(p.grid))
		p.qNew = make([]float64, len(p.grid))
	}
	if p.talkFor != st || p.talkTab == nil || st.talkObs >= p.talkObs+max(10, p.talkObs/20) ||
		now.Sub(p.talkAt) >= 5*time.Minute || now.Before(p.talkAt) {
		p.buildTalkTable(s, st, now)
	}
}

// buildTalkTable estimates the talk-time survival by Kaplan-Meier over whole
// seconds: finished conversations are events, the conversations still going
// on are censored at their age. Without the censored ones the first hour of
// a shift would see only the short calls that have already ended and
// believe every agent is about to be free. The per-agent chances are then
// filled in lazily.
func (p *Predictive) buildTalkTable(s PacerState, st *Stats, now time.Time) {
	p.talkFor, p.talkObs, p.talkAt = st, st.talkObs, now
	h := &st.talk
	n := len(h.counts)
	if len(p.censored) != n {
		p.censored = make([]float64, n)
		p.talkSurv = make([]float64, n+1)
	}
	clear(p.censored)
	for _, a := range s.Agents {
		if a.Status == AgentTalking {
			p.censored[max(0, min(n-1, int(now.Sub(a.Since).Seconds())))]++
		}
	}
	atRisk := 0.0
	for i := range n {
		atRisk += h.counts[i] + p.censored[i]
	}
	surv := 1.0
	for i := range n {
		p.talkSurv[i] = surv
		if atRisk > 1e-12 {
			surv *= 1 - h.counts[i]/atRisk
		}
		atRisk -= h.counts[i] + p.censored[i]
	}
	p.talkSurv[n] = surv
	if len(p.talkTab) != len(p.grid) {
		p.talkTab = make([][]float64, len(p.grid))
	}
	for j := range p.talkTab {
		if len(p.talkTab[j]) != n {
			p.talkTab[j] = make([]float64, n)
		}
		for k := range p.talkTab[j] {
			p.talkTab[j][k] = math.NaN()
		}
	}
}

// answerQuantile is the Confidence quantile of the Beta posterior of the
// live-answer rate, counting the lines still ringing as answered: quick
// outcomes (busy, failures) resolve before people answer, so rates from
// resolved attempts alone start low, and a low rate is the dangerous error.
func (p *Predictive) answerQuantile(st *Stats, pending int) float64 {
	live, att := st.Answers()
	live += float64(pending)
	att += float64(pending)
	key := [2]float64{live, att}
	if key != p.betaKey || p.betaVal == 0 {
		p.betaKey = key
		if live <= 50 || att-live <= 50 {
			p.betaVal = betaQuantile(live, max(att-live, 1e-9), p.Confidence)
		} else {
			// The posterior is close to normal: skip the exact inversion.
			a, b := live, att-live
			sd := math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)))
			p.betaVal = a/(a+b) + p.z()*sd
		}
	}
	return p.betaVal
}

// z is the standard normal quantile of Confidence.
func (p *Predictive) z() float64 {
	if p.zFor != p.Confidence {
		p.zFor, p.zVal = p.Confidence, math.Sqrt2*math.Erfinv(2*p.Confidence-1)
	}
	return p.zVal
}

// budget is the expected abandon share the calls in flight may carry now:
// for the hour, the day and the rolling window, the allowance left if the
// window is to end this hour under the cap, turned into the Poisson mean
// that overruns it with chance at most Alpha, spread over the live answers
// the rest of the hour should bring.
func (p *Predictive) budget(s PacerState, now time.Time, st *Stats) float64 {
	cycle := st.MeanTalk().Seconds() + st.MeanWrap().Seconds()
	if cycle <= 0 {
		cycle = 200
	}
	perSec := p.Throughput * float64(len(s.Agents)) / cycle
	rem := 3600.0
	if !s.Abandons.HourEnd.IsZero() {
		rem = max(0, min(3600, s.Abandons.HourEnd.Sub(now).Seconds()))
	}
	m := perSec * rem
	// A small team's hour may bring far fewer answers than its mean, and
	// the same abandons then weigh more: plan on a low count (the mean less
	// 1.64 Poisson standard deviations, a one-sided 95% bound).
	m = max(0, m-1.64*math.Sqrt(m))
	r := p.MaxRate
	for _, c := range [...]Counts{s.Abandons.Hour, s.Abandons.Day, s.Abandons.Rolling} {
		r = min(r, p.rateFor(c, m))
	}
	if rem < (p.Horizon + p.ConnectWindow).Seconds() {
		r = min(r, p.rateFor(Counts{}, perSec*3600)) // lines now answer next hour
	}
	return r
}

func (p *Predictive) rateFor(c Counts, m float64) float64 {
	allowed := p.Headroom*p.Cap*(float64(c.Live)+m) - float64(c.Abandoned)
	// Strictly under the cap, less one abandon kept back: abandons come in
	// bursts (the calls in flight answered together while every agent
	// talks), and a burst at the end of a window must not cross the cap.
	k := int(math.Ceil(allowed)) - 2
	if k < 0 {
		return 0
	}
	return p.lambda(k) / max(m, 1)
}

func (p *Predictive) lambda(k int) float64 {
	for len(p.lambdas) <= k {
		p.lambdas = append(p.lambdas, math.NaN())
	}
	if math.IsNaN(p.lambdas[k]) {
		p.lambdas[k] = poissonBudget(k, p.Alpha)
	}
	return p.lambdas[k]
}
