package outbound

import (
	"log/slog"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/dialer"
)

// TestPredictiveLeavesRoomUnderTheCap: a predictive campaign dials
// progressively while one more abandon would take today's (or the rolling
// window's) rate over its cap; power dialing is held only once at the cap.
func TestPredictiveLeavesRoomUnderTheCap(t *testing.T) {
	c := campaign.Default("p")
	c.Mode = sb.PredictiveDialing
	c.AbandonMessage = "sound:x"
	cp := newCamp(c)
	cp.update(c, time.UTC)
	log := slog.New(slog.DiscardHandler)
	day := func(live, abandoned int) dialer.Windows {
		return dialer.Windows{Day: dialer.Counts{Live: live, Abandoned: abandoned}, Rolling: dialer.Counts{Live: live + 1000}}
	}
	for _, tc := range []struct {
		live, abandoned int
		progressive     bool
	}{
		{0, 0, true},    // 1 of 1 would be 100%
		{20, 0, true},   // 1 of 21: 4.8%
		{40, 0, false},  // 1 of 41: 2.4%
		{40, 1, true},   // 2 of 41: 4.9%
		{100, 2, false}, // 3 of 101: 2.97%
		{100, 3, true},  // 4 of 101: 3.96%
	} {
		_, prog := cp.pacer(day(tc.live, tc.abandoned), log).(dialer.Progressive)
		if prog != tc.progressive {
			t.Errorf("predictive, today %d abandoned of %d answered: progressive = %v, want %v", tc.abandoned, tc.live, prog, tc.progressive)
		}
	}
	c.Mode, c.Ratio = sb.PowerDialing, 2
	cp = newCamp(c)
	cp.update(c, time.UTC)
	if _, prog := cp.pacer(day(20, 0), log).(dialer.Progressive); prog {
		t.Error("power dialing held back before any abandon")
	}
	if _, prog := cp.pacer(day(20, 1), log).(dialer.Progressive); !prog {
		t.Error("power dialing not held at 1 of 20 (5%) abandoned")
	}
}
