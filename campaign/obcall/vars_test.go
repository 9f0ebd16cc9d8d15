package obcall

import (
	"reflect"
	"testing"

	sb "github.com/switchboard/switchboard"
)

func TestDialplanSounds(t *testing.T) {
	tests := []struct{ media, want string }{
		{"", ""},
		{"sound:sorry", "sorry"},
		{"sound:sorry, sound:goodbye", "sorry&goodbye"},
		{"sound:sorry,recording:custom/abandon,tone:beep,sound:goodbye", "sorry&goodbye"},
		{"sound:,number:3", ""},
	}
	for _, tt := range tests {
		if got := DialplanSounds(tt.media); got != tt.want {
			t.Errorf("DialplanSounds(%q) = %q, want %q", tt.media, got, tt.want)
		}
	}
}

func TestAgentVars(t *testing.T) {
	tests := []struct {
		name string
		lead sb.Lead
		want map[string]string
	}{
		{"number only", sb.Lead{Number: "+15555550123"}, map[string]string{
			"SB_CALL_ID": "c1", "SB_CAMPAIGN": "spring", "SB_ATTEMPT": "42", "SB_LEAD_NUMBER": "+15555550123"}},
		{"with data", sb.Lead{Number: "+15555550123", Data: map[string]string{"name": "Ada", "Plan": "gold"}}, map[string]string{
			"SB_CALL_ID": "c1", "SB_CAMPAIGN": "spring", "SB_ATTEMPT": "42", "SB_LEAD_NUMBER": "+15555550123",
			"SB_LEAD_NAME": "Ada", "SB_LEAD_PLAN": "gold"}},
	}
	for _, tt := range tests {
		vars := map[string]string{"SB_CALL_ID": "c1"}
		AgentVars(vars, "spring", 42, tt.lead)
		if !reflect.DeepEqual(vars, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, vars, tt.want)
		}
	}
	if got, want := LineVars("spring", 7), (map[string]string{"SB_CAMPAIGN": "spring", "SB_ATTEMPT": "7"}); !reflect.DeepEqual(got, want) {
		t.Errorf("LineVars: %v, want %v", got, want)
	}
}
