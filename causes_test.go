package switchboard_test

import (
	"testing"

	sb "github.com/switchboard/switchboard"
)

func TestLegCause(t *testing.T) {
	for _, tc := range []struct {
		name      string
		events    []sb.Event
		destroyed int
		want      int
	}{
		{"busy Local: only the Dial status says so", []sb.Event{sb.DialResult{Status: "BUSY"}}, 0, 17},
		{"destroyed cause when no Dial status", []sb.Event{sb.DialResult{Status: "RINGING"}}, 19, 19},
		{"our soft hang-up is not a cause", []sb.Event{sb.HangupRequested{Cause: 32, Soft: true}}, 0, 0},
		{"the far end's request", []sb.Event{sb.HangupRequested{Cause: 16}}, 0, 16},
		{"a later request replaces, cause 0 does not", []sb.Event{sb.HangupRequested{Cause: 21}, sb.HangupRequested{Cause: 0}}, 0, 21},
		{"Dial status before destroyed", []sb.Event{sb.DialResult{Status: "CONGESTION"}, sb.HangupRequested{Cause: 16}}, 16, 34},
		{"nothing known", nil, 0, 0},
	} {
		var l sb.LegCause
		for _, e := range tc.events {
			if !l.Note(e) {
				t.Errorf("%s: Note(%T) = false", tc.name, e)
			}
		}
		if got := l.At(tc.destroyed); got != tc.want {
			t.Errorf("%s: At(%d) = %d, want %d", tc.name, tc.destroyed, got, tc.want)
		}
	}
	var l sb.LegCause
	if l.Note(sb.LinkUp{}) {
		t.Error("Note took a LinkUp")
	}
	for status, want := range map[string]int{"BUSY": 17, "noanswer": 19, "CHANUNAVAIL": 20, "CONGESTION": 34, "ANSWER": 0, "": 0} {
		if got := sb.DialCause(status); got != want {
			t.Errorf("DialCause(%q) = %d, want %d", status, got, want)
		}
	}
}
