package switchboard

import "testing"

func TestCampaignEndpoint(t *testing.T) {
	c := Campaign{Trunk: "PJSIP/${number}@trunk"}
	if got, want := c.Endpoint("+15555550123"), "PJSIP/+15555550123@trunk"; got != want {
		t.Errorf("Endpoint = %q, want %q", got, want)
	}
}

func TestCallingWindowString(t *testing.T) {
	tests := []struct {
		w    CallingWindow
		want string
	}{
		{CallingWindow{Start: 8 * 60, End: 21 * 60}, "08:00-21:00"},
		{CallingWindow{Start: 9*60 + 30, End: 24 * 60}, "09:30-24:00"},
		{CallingWindow{}, "00:00-00:00"},
	}
	for _, tt := range tests {
		if got := tt.w.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.w, got, tt.want)
		}
	}
}
