package routing

import (
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

func TestReturningCaller(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	window := sb.Queue{Name: "sales", ReturningCaller: 72 * time.Hour}
	tests := []struct {
		name      string
		named     sb.AgentID
		q         sb.Queue
		caller    string
		wantLook  bool
		wantSince time.Time
	}{
		{"returning-caller window", "", window, "+15555550123", true, now.Add(-72 * time.Hour)},
		{"the flow named the agent", "a1", window, "+15555550123", false, time.Time{}},
		{"no window", "", sb.Queue{Name: "sales"}, "+15555550123", false, time.Time{}},
		{"unknown caller", "", window, "", false, time.Time{}},
	}
	for _, tt := range tests {
		since, look := ReturningCaller(tt.named, tt.q, tt.caller, now)
		if look != tt.wantLook || !since.Equal(tt.wantSince) {
			t.Errorf("%s: (%v, %v), want (%v, %v)", tt.name, since, look, tt.wantSince, tt.wantLook)
		}
	}
}
