package dialsim

import (
	"fmt"
	"math"
	"time"

	"github.com/switchboard/switchboard/dialer"
)

// Methods are the pacing methods the bench compares, in report order;
// "bound" is not a pacer but the occupancy bound (see Bound).
var Methods = []string{"progressive", "ratio-1.5", "ratio-2.0", "ratio-3.0", "adaptive", "predictive", "bound"}

// NewPacer returns a fresh pacer for a method name, set for the scenario and
// a shift of the given length.
func NewPacer(method string, sc Scenario, shift time.Duration) (dialer.Pacer, error) {
	switch method {
	case "progressive":
		return dialer.Progressive{}, nil
	case "ratio-1.5":
		return dialer.Power{Ratio: 1.5}, nil
	case "ratio-2.0":
		return dialer.Power{Ratio: 2}, nil
	case "ratio-3.0":
		return dialer.Power{Ratio: 3}, nil
	case "adaptive":
		return dialer.NewAdaptive(sc.AbandonCap, shift), nil
	case "predictive":
		p := dialer.NewPredictive(sc.AbandonCap)
		p.ConnectWindow = time.Duration(sc.ConnectWindow * float64(time.Second))
		p.Horizon = time.Duration(sc.NoAnswerTimeout * float64(time.Second))
		return p, nil
	}
	return nil, fmt.Errorf("unknown method %q (methods: progressive, ratio-1.5, ratio-2.0, ratio-3.0, adaptive, predictive, bound)", method)
}

// RunMethod runs one method (the bound included) on one shift.
func RunMethod(method string, cfg Config) (Result, error) {
	if method == "bound" {
		return Bound(cfg), nil
	}
	p, err := NewPacer(method, cfg.Scenario, time.Duration(cfg.Hours*float64(time.Hour)))
	if err != nil {
		return Result{}, err
	}
	return Run(cfg, p), nil
}

// Summary is one method at one team size, over seeds.
type Summary struct {
	Method string
	Agents int
	Seeds  int
	// Means over seeds.
	Occupancy            float64
	AbandonRate          float64
	WorstHour            float64
	ConnectsPerAgentHour float64
	MeanWait             float64
	AttemptsPerAgentHour float64
	// Worst seed.
	MaxAbandonRate float64
	MaxWorstHour   float64
}

// Summarize averages results of one method and team size over seeds.
func Summarize(rs []Result) Summary {
	if len(rs) == 0 {
		return Summary{}
	}
	s := Summary{Method: rs[0].Method, Agents: rs[0].Agents, Seeds: len(rs)}
	for _, r := range rs {
		s.Occupancy += r.Occupancy()
		s.AbandonRate += r.AbandonRate()
		s.WorstHour += r.WorstHour()
		s.ConnectsPerAgentHour += r.ConnectsPerAgentHour()
		s.MeanWait += r.MeanWait()
		s.AttemptsPerAgentHour += float64(r.Attempts) / (float64(r.Agents) * r.Hours)
		s.MaxAbandonRate = math.Max(s.MaxAbandonRate, r.AbandonRate())
		s.MaxWorstHour = math.Max(s.MaxWorstHour, r.WorstHour())
	}
	n := float64(len(rs))
	s.Occupancy /= n
	s.AbandonRate /= n
	s.WorstHour /= n
	s.ConnectsPerAgentHour /= n
	s.MeanWait /= n
	s.AttemptsPerAgentHour /= n
	return s
}
