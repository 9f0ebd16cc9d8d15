package dialer

import "math"

// betaQuantile returns x with I_x(a, b) = q: the q-quantile of Beta(a, b).
func betaQuantile(a, b, q float64) float64 {
	lo, hi := 0.0, 1.0
	for range 50 {
		mid := (lo + hi) / 2
		if regIncBeta(a, b, mid) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by the
// continued fraction (Lentz) on whichever side converges fast.
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-12 {
			break
		}
	}
	return h
}

// poissonCDF is P(X <= k) for X ~ Poisson(lambda).
func poissonCDF(k int, lambda float64) float64 {
	if k < 0 {
		return 0
	}
	if lambda <= 0 {
		return 1
	}
	// Sum in log space from the mode outwards would be exact for any size;
	// the campaigns' k stay in the hundreds, where a plain sum of terms
	// scaled by exp(-lambda) is exact enough down to lambda ~ 700.
	if lambda > 600 {
		z := (float64(k) + 0.5 - lambda) / math.Sqrt(lambda)
		return 0.5 * math.Erfc(-z/math.Sqrt2)
	}
	term := math.Exp(-lambda)
	sum := term
	for i := 1; i <= k; i++ {
		term *= lambda / float64(i)
		sum += term
		if term < 1e-17*sum && float64(i) > lambda {
			break
		}
	}
	return min(sum, 1)
}

// poissonBudget returns the largest mean lambda with P(Poisson(lambda) > k)
// <= alpha: how many abandons may be expected when k more are allowed and the
// chance of exceeding k must stay under alpha.
func poissonBudget(k int, alpha float64) float64 {
	if k < 0 {
		return 0
	}
	lo, hi := 0.0, float64(k)+10+10*math.Sqrt(float64(k)+1)
	for range 60 {
		mid := (lo + hi) / 2
		if 1-poissonCDF(k, mid) <= alpha {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
