package routing

import (
	"strings"
	"testing"
	"time"
)

func TestAnnounceMedia(t *testing.T) {
	tests := []struct {
		a    Announce
		want string
	}{
		{Announce{Position: 1, SayPosition: true}, "sound:queue-youarenext"},
		{Announce{Position: 4, SayPosition: true}, "sound:queue-thereare number:3 sound:queue-callswaiting"},
		{Announce{Position: 4, EstimatedWait: 90 * time.Second, SayWait: true}, "sound:queue-holdtime number:2 sound:queue-minutes"},
		{Announce{Position: 2, EstimatedWait: 30 * time.Second, SayPosition: true, SayWait: true},
			"sound:queue-thereare number:1 sound:queue-callswaiting sound:queue-holdtime number:1 sound:queue-minutes"},
		{Announce{Position: 2, SayWait: true}, ""}, // no estimate yet: nothing to say
		{Announce{Position: 3, EstimatedWait: 2 * time.Minute, SayWait: true}, "sound:queue-holdtime number:2 sound:queue-minutes"},
		{Announce{Position: 3}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.a.Media(), " "); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestFailReasonOf(t *testing.T) {
	tests := []struct {
		cause int
		want  FailReason
	}{
		{17, FailBusy},
		{21, FailRejected},
		{1, FailUnreachable}, {3, FailUnreachable}, {20, FailUnreachable},
		{27, FailUnreachable}, {34, FailUnreachable}, {38, FailUnreachable},
		{16, FailNoAnswer}, {19, FailNoAnswer}, {0, FailNoAnswer},
	}
	for _, tt := range tests {
		if got := FailReasonOf(tt.cause); got != tt.want {
			t.Errorf("cause %d: %s, want %s", tt.cause, got, tt.want)
		}
	}
}

func TestRefused(t *testing.T) {
	pause := AgentPause{Agent: "a1", Reason: "lunch"}
	tests := []struct {
		name    string
		acts    []Action
		m       Msg
		wantWhy string
		wantOK  bool
	}{
		{"taken", []Action{AgentState{Agent: "a1", State: StatePaused}}, pause, "", false},
		{"refused", []Action{Ignored{Msg: pause, Why: "unknown agent"}}, pause, "unknown agent", true},
		{"a refusal of another message", []Action{Ignored{Msg: AgentReady{Agent: "a1"}, Why: "x"}}, pause, "", false},
		{"an Enqueue (not comparable)", []Action{Ignored{Msg: Enqueue{Call: "c1", Skills: map[string]string{"lang": "fr"}}, Why: "no queue"}},
			Enqueue{Call: "c1", Skills: map[string]string{"lang": "fr"}}, "no queue", true},
		{"nothing", nil, pause, "", false},
	}
	for _, tt := range tests {
		why, ok := Refused(tt.acts, tt.m)
		if why != tt.wantWhy || ok != tt.wantOK {
			t.Errorf("%s: (%q, %v), want (%q, %v)", tt.name, why, ok, tt.wantWhy, tt.wantOK)
		}
	}
}
