package erlang

import "math"

// erlangA holds the Erlang A figures of one staffing level.
type erlangA struct {
	pWait, pAbandon, asa, sl, occupancy float64
}

// solveA solves the M/M/n+M chain with arrival rate lambda, service rate mu
// and abandonment rate theta (all per second) and reports the service level
// at t seconds. See the package comment for the method.
func solveA(n int, lambda, mu, theta, t float64) (erlangA, error) {
	nmu := float64(n) * mu
	// Unnormalised log π_k, k = 0, 1, ...
	logp := make([]float64, 1, n+64)
	maxl := 0.0
	for k := 1; ; k++ {
		var death float64
		if k <= n {
			death = float64(k) * mu
		} else {
			death = nmu + float64(k-n)*theta
		}
		l := logp[k-1] + math.Log(lambda/death)
		logp = append(logp, l)
		if l > maxl {
			maxl = l
		}
		if k > n && death > lambda && l < maxl-45 {
			break
		}
		if k-n > maxQueueStates {
			return erlangA{}, ErrTooManyStates
		}
	}
	w := make([]float64, len(logp)) // π_k up to the common factor 1/z
	z := 0.0
	for k, l := range logp {
		w[k] = math.Exp(l - maxl)
		z += w[k]
	}
	var idle, queued, qlen, busy float64
	for k, wk := range w {
		if k < n {
			idle += wk
			busy += float64(k) * wk
		} else {
			queued += wk
			qlen += float64(k-n) * wk
			busy += float64(n) * wk
		}
	}
	J := len(w) - n // arrivals may find j = 0..J-1 callers waiting
	// served[j]: weight of arrivals finding j waiting that are answered;
	// their wait is a sum of stages with rates nμ+θ, ..., nμ+(j+1)θ.
	served := make([]float64, J)
	var servedMass, servedWait, harmonic float64
	for j := range J {
		rate := nmu + float64(j+1)*theta
		served[j] = w[n+j] * nmu / rate
		harmonic += 1 / rate
		servedMass += served[j]
		servedWait += served[j] * harmonic
	}
	res := erlangA{
		pWait:     queued / z,
		pAbandon:  theta * qlen / z / lambda,
		occupancy: busy / z / float64(n),
	}
	if answered := idle + servedMass; answered > 0 {
		res.asa = servedWait / answered
	}
	res.sl = (idle + servedMass*stagesDoneBy(served, nmu, theta, t)) / z
	return res, nil
}

// stagesDoneBy returns the probability that a pure-death chain started in
// state j with weight v[j]/Σv, leaving state i at rate nmu+(i+1)θ, has
// reached the end by time t. Uniformization: with Λ the largest rate the
// chain becomes a discrete one observed at Poisson(Λt) jumps; every term is
// non-negative, so there is no cancellation.
func stagesDoneBy(v []float64, nmu, theta, t float64) float64 {
	total := 0.0
	for _, x := range v {
		total += x
	}
	if total == 0 || t <= 0 {
		return 0
	}
	J := len(v)
	p := make([]float64, J)
	for i := range v {
		p[i] = v[i] / total
	}
	step := make([]float64, J) // probability of moving one stage on per jump
	bigL := nmu + float64(J)*theta
	for i := range J {
		step[i] = (nmu + float64(i+1)*theta) / bigL
	}
	lt := bigL * t
	logLt := math.Log(lt)
	var done, cum, result float64
	for k := 0; ; k++ {
		lg, _ := math.Lgamma(float64(k + 1))
		pk := math.Exp(-lt + float64(k)*logLt - lg)
		cum += pk
		result += pk * done
		if float64(k) > lt && (1-cum < 1e-14 || 1-done < 1e-15) {
			result += (1 - cum) * done // tail: at least this much is done
			break
		}
		if k > 100+int(lt+40*math.Sqrt(lt+1)) {
			break // Poisson mass beyond here is far below 1e-14
		}
		// One jump of the discrete chain.
		done += p[0] * step[0]
		for i := 0; i < J-1; i++ {
			p[i] = p[i]*(1-step[i]) + p[i+1]*step[i+1]
		}
		p[J-1] *= 1 - step[J-1]
	}
	return math.Min(result, 1)
}
