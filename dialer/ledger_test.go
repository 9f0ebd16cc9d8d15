package dialer

import (
	"math"
	"testing"
	"time"
)

func TestLedgerWindows(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	l := NewLedger(paris, 30)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	l.Record(at("2026-03-01 07:10"), false) // over 720 hours (30 days, one lost to DST) before: out
	l.Record(at("2026-03-30 23:30"), true)  // yesterday
	l.Record(at("2026-03-31 08:05"), false) // today, an earlier hour
	l.Record(at("2026-03-31 08:59"), true)
	l.Record(at("2026-03-31 09:00"), false) // this hour
	l.Record(at("2026-03-31 09:20"), true)

	got := l.Windows(at("2026-03-31 09:30"))
	want := Windows{
		Hour:    Counts{Live: 2, Abandoned: 1},
		Day:     Counts{Live: 4, Abandoned: 2},
		Rolling: Counts{Live: 5, Abandoned: 3},
		HourEnd: at("2026-03-31 10:00"),
	}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// A record in the current hour is seen at once; the cache of earlier
	// hours is not disturbed.
	l.Record(at("2026-03-31 09:40"), false)
	if got := l.Windows(at("2026-03-31 09:45")); got.Hour.Live != 3 || got.Rolling.Live != 6 {
		t.Errorf("after a new record: %+v", got)
	}
	// The next day: yesterday and before are in the rolling window only.
	got = l.Windows(at("2026-04-01 00:10"))
	if got.Hour != (Counts{}) || got.Day != (Counts{}) || got.Rolling != (Counts{Live: 6, Abandoned: 3}) {
		t.Errorf("next day: %+v", got)
	}
	// 31 days later everything has left the window.
	if got := l.Windows(at("2026-05-01 12:00")); got.Rolling != (Counts{}) {
		t.Errorf("after the window: %+v", got)
	}
}

func TestCountsRate(t *testing.T) {
	if got := (Counts{}).Rate(); got != 0 {
		t.Errorf("empty rate %g", got)
	}
	if got := (Counts{Live: 200, Abandoned: 6}).Rate(); got != 0.03 {
		t.Errorf("rate %g, want 0.03", got)
	}
}

func TestStats(t *testing.T) {
	st := NewStats()
	for range 98 {
		st.ObserveAttempt(20*time.Second, false)
	}
	st.ObserveAttempt(9*time.Second, true)
	live, att := st.Answers()
	if live != 2 || att != 101 { // prior: 1 of 2
		t.Errorf("answers %g of %g, want 2 of 101", live, att)
	}
	for range 2000 {
		st.ObserveTalk(180 * time.Second)
		st.ObserveWrap(15 * time.Second)
	}
	if got := st.MeanTalk(); got < 179*time.Second || got > 181*time.Second {
		t.Errorf("mean talk %v after the prior fades, want 180s", got)
	}
	if got := st.wrap.cdf(14.9); got > 0.05 {
		t.Errorf("wrap cdf(14.9) = %g, want near 0", got)
	}
	if got := st.wrap.cdf(15.6); got < 0.95 {
		t.Errorf("wrap cdf(15.6) = %g, want near 1", got)
	}
}

func TestBetaQuantile(t *testing.T) {
	tests := []struct{ a, b, q, want float64 }{
		{1, 1, 0.9, 0.9},                // uniform
		{2, 1, 0.25, 0.5},               // F(x) = x²
		{1, 2, 0.75, 0.5},               // F(x) = 1-(1-x)²
		{30, 70, 0.5, 0.29837},          // median of Beta(30,70)
		{300, 700, 0.9, 0.3 + 0.018573}, // ≈ mean + 1.2816 sd
	}
	for _, tt := range tests {
		if got := betaQuantile(tt.a, tt.b, tt.q); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("Beta(%g,%g) q%g = %g, want %g", tt.a, tt.b, tt.q, got, tt.want)
		}
	}
}

func TestPoissonBudget(t *testing.T) {
	if got, want := poissonBudget(0, 0.01), -math.Log(0.99); math.Abs(got-want) > 1e-9 {
		t.Errorf("k=0: %g, want %g", got, want)
	}
	for _, k := range []int{1, 2, 5, 50, 400} {
		lam := poissonBudget(k, 0.01)
		if over := 1 - poissonCDF(k, lam); math.Abs(over-0.01) > 1e-6 {
			t.Errorf("k=%d: λ=%g overruns with chance %g, want 0.01", k, lam, over)
		}
		if lam >= float64(k) {
			t.Errorf("k=%d: λ=%g, want below k", k, lam)
		}
	}
	if got := poissonBudget(-1, 0.01); got != 0 {
		t.Errorf("k=-1: %g, want 0", got)
	}
}
