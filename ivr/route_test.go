package ivr

import (
	"testing"
	"time"
)

// hours is a fake calendar set: open names the calendars open at any time.
type hours map[string]bool

func (h hours) IsOpen(name string, _ time.Time) bool { return h[name] }
func (h hours) Known(name string) bool               { _, ok := h[name]; return ok }

var _ Calendars = hours(nil)

func TestFlowFor(t *testing.T) {
	now := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	routes := []Route{
		{DNIS: "*", Flow: "main"},
		{DNIS: "5550100", Flow: "sales", Calendar: "office", ClosedFlow: "after-hours"},
		{DNIS: "5550200", Flow: "care"},
		{DNIS: "*", Flow: "second-catch-all"},
		{DNIS: "5550200", Flow: "care-shadowed"},
	}
	tests := []struct {
		name   string
		routes []Route
		dnis   string
		cals   Calendars
		want   string
	}{
		{"exact number", routes, "5550200", nil, "care"},
		{"the first exact route wins", routes, "5550200", hours{}, "care"},
		{"catch-all, the first one", routes, "5559999", nil, "main"},
		{"open calendar", routes, "5550100", hours{"office": true}, "sales"},
		{"closed calendar", routes, "5550100", hours{}, "after-hours"},
		{"no calendars: open", routes, "5550100", nil, "sales"},
		{"no route", []Route{{DNIS: "5550200", Flow: "care"}}, "5550100", nil, ""},
		{"no routes", nil, "5550100", nil, ""},
	}
	for _, tt := range tests {
		if got := FlowFor(tt.routes, tt.dnis, tt.cals, now); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
