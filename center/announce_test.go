package center

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/routing"
)

func TestAnnounceMedia(t *testing.T) {
	tests := []struct {
		a    routing.Announce
		want string
	}{
		{routing.Announce{Position: 1, SayPosition: true}, "sound:queue-youarenext"},
		{routing.Announce{Position: 4, SayPosition: true}, "sound:queue-thereare number:3 sound:queue-callswaiting"},
		{routing.Announce{Position: 4, EstimatedWait: 90 * time.Second, SayWait: true}, "sound:queue-holdtime number:2 sound:queue-minutes"},
		{routing.Announce{Position: 2, EstimatedWait: 30 * time.Second, SayPosition: true, SayWait: true},
			"sound:queue-thereare number:1 sound:queue-callswaiting sound:queue-holdtime number:1 sound:queue-minutes"},
		{routing.Announce{Position: 2, SayWait: true}, ""}, // no estimate yet: nothing to say
	}
	for _, tt := range tests {
		if got := strings.Join(announceMedia(tt.a), " "); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.a, got, tt.want)
		}
	}
}
