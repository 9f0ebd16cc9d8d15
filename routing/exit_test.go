package routing

import "testing"

func TestExitTo(t *testing.T) {
	tests := []struct {
		target string
		want   ExitTo
	}{
		{"", ExitToPrompt},
		{"hangup", ExitToHangup},
		{"voicemail", ExitToFlow},
		{"overflow-queue", ExitToFlow},
		{"Hangup", ExitToFlow}, // flow names are case-sensitive; so is the keyword
	}
	for _, tt := range tests {
		if got := (Exit{Target: tt.target}).To(); got != tt.want {
			t.Errorf("target %q: %d, want %d", tt.target, got, tt.want)
		}
	}
}
