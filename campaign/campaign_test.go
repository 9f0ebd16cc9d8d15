package campaign_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
)

func valid() sb.Campaign {
	c := campaign.Default("spring")
	c.CallerID = "+15555550100"
	c.State = sb.CampaignRunning
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*sb.Campaign)
		want   []string // fields with a problem
	}{
		{"default with caller id", func(*sb.Campaign) {}, nil},
		{"default without caller id", func(c *sb.Campaign) { c.CallerID = "" }, []string{"caller_id"}},
		{"everything wrong", func(c *sb.Campaign) {
			*c = sb.Campaign{Name: "bad name", Mode: "turbo", State: "on", Trunk: "PJSIP/x", Window: sb.CallingWindow{Start: 21 * 60, End: 8 * 60},
				RetryDelays: map[sb.DialOutcome]time.Duration{sb.DialBusy: -time.Second, sb.DialAnswered: time.Hour},
				AbandonCap:  0.2, RingTime: 10 * time.Second}
		}, []string{"name", "mode", "state", "max_ratio", "trunk", "caller_id", "window", "max_attempts",
			"retry_delays.busy", "retry_delays.noanswer", "retry_delays.machine", "retry_delays.failed", "retry_delays.abandoned",
			"retry_delays.answered", "abandon_cap", "daily_abandon_cap", "abandon_window", "ring_time"}},
		{"power needs a ratio within the cap and a message", func(c *sb.Campaign) {
			c.Mode, c.Ratio = sb.PowerDialing, 4
		}, []string{"ratio", "abandon_message"}},
		{"power ok", func(c *sb.Campaign) {
			c.Mode, c.Ratio, c.AbandonMessage = sb.PowerDialing, 2.5, "sound:abandon-spring"
		}, nil},
		{"predictive needs the abandon message", func(c *sb.Campaign) { c.Mode = sb.PredictiveDialing }, []string{"abandon_message"}},
		{"machine message with AMD", func(c *sb.Campaign) { c.MachineMessage = "sound:spring-vm" }, nil},
		{"machine message without AMD", func(c *sb.Campaign) { c.MachineMessage, c.AMD = "sound:spring-vm", false }, []string{"machine_message"}},
		{"messages of several media", func(c *sb.Campaign) {
			c.AbandonMessage, c.MachineMessage = "sound:sorry,digits:5550100", "recording:vm-spring,sound:vm-goodbye"
		}, nil},
		{"messages the PBX cannot play", func(c *sb.Campaign) {
			c.AbandonMessage, c.MachineMessage = "sound:sorry,bogus:thing", "spring-vm"
		}, []string{"abandon_message", "machine_message"}},
		{"ring time 15 s is the floor", func(c *sb.Campaign) { c.RingTime = 15 * time.Second }, nil},
		{"ring time under 15 s", func(c *sb.Campaign) { c.RingTime = 14 * time.Second }, []string{"ring_time"}},
		{"abandon cap above 5%", func(c *sb.Campaign) { c.AbandonCap = 0.06 }, []string{"abandon_cap"}},
		{"schedule ends before it starts", func(c *sb.Campaign) {
			c.Schedule.From = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			c.Schedule.Until = c.Schedule.From.Add(-time.Hour)
		}, []string{"schedule.until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := campaign.Validate(c)
			var got []string
			var ve *campaign.ValidationError
			if err != nil {
				if !errors.As(err, &ve) {
					t.Fatalf("error %v is not a *ValidationError", err)
				}
				for _, p := range ve.Problems {
					got = append(got, p.Field)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems in %v,\nwant %v\n(%v)", got, tt.want, err)
			}
		})
	}
}

func TestParseWindowAndDays(t *testing.T) {
	w, err := campaign.ParseWindow("09:30-20:00")
	if err != nil || w.String() != "09:30-20:00" {
		t.Errorf("ParseWindow = %v, %v", w, err)
	}
	for _, bad := range []string{"9-20", "09:30", "25:00-26:00", "08:60-09:00", "24:30-24:40"} {
		if _, err := campaign.ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) accepted", bad)
		}
	}
	days := []struct {
		in   string
		want []time.Weekday
	}{
		{"mon-fri", []time.Weekday{1, 2, 3, 4, 5}},
		{"sat,sun", []time.Weekday{0, 6}},
		{"fri-mon", []time.Weekday{0, 1, 5, 6}},
		{"daily", nil},
	}
	for _, tt := range days {
		got, err := campaign.ParseDays(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseDays(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := campaign.ParseDays("mon-funday"); err == nil {
		t.Error("ParseDays accepted a bad day")
	}
}

func TestEligible(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// Tuesday 2026-03-10 10:00 in New York (EDT, UTC-4).
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, ny)
	lead := func() sb.Lead {
		return sb.Lead{ID: 1, Campaign: "spring", Number: "+12125550123", Region: "US",
			TimeZone: "America/New_York", State: sb.LeadNew}
	}
	tests := []struct {
		name   string
		change func(*sb.Lead, *sb.Campaign)
		dnc    bool
		now    time.Time
		ok     bool
		want   []string // substrings of why
	}{
		{"new lead in the window", nil, false, now, true,
			[]string{"dialable now: attempt 1 of 5, local time Tue 10:00 in America/New_York within 08:00-21:00"}},
		{"campaign paused", func(_ *sb.Lead, c *sb.Campaign) { c.State = sb.CampaignPaused }, false, now, false,
			[]string{"campaign spring is paused"}},
		{"on the DNC list", nil, true, now, false, []string{"+12125550123 is on the do-not-call list"}},
		{"before 08:00 local, though 12:59 UTC", nil, false, time.Date(2026, 3, 10, 7, 59, 0, 0, ny), false,
			[]string{"outside the calling window 08:00-21:00 in America/New_York (local time Tue 07:59); the window opens at 2026-03-10 08:00 EDT"}},
		{"21:00 local is closed", nil, false, time.Date(2026, 3, 10, 21, 0, 0, 0, ny), false,
			[]string{"the window opens at 2026-03-11 08:00 EDT"}},
		{"window in the lead's zone, not the caller's", func(l *sb.Lead, _ *sb.Campaign) {
			l.Number, l.TimeZone = "+16502530000", "America/Los_Angeles"
		}, false, time.Date(2026, 3, 10, 10, 30, 0, 0, ny), false,
			[]string{"(local time Tue 07:30); the window opens at 2026-03-10 08:00 PDT"}},
		{"Sunday is not a calling day", nil, false, time.Date(2026, 3, 8, 12, 0, 0, 0, ny), false,
			[]string{"Sunday is not a calling day in America/New_York (local time Sun 12:00); the window opens at 2026-03-09 08:00 EDT"}},
		{"Saturday evening skips Sunday", nil, false, time.Date(2026, 3, 7, 21, 30, 0, 0, ny), false,
			[]string{"the window opens at 2026-03-09 08:00 EDT"}},
		{"attempts used up", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts = sb.LeadRetry, 5
		}, false, now, false, []string{"all 5 attempts are used"}},
		{"retry delay not elapsed", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts, l.LastOutcome, l.NextAt = sb.LeadRetry, 1, sb.DialBusy, now.Add(8*time.Minute)
		}, false, now, false, []string{"retry delay after busy has not elapsed: due at 2026-03-10 10:08 EDT (in 8m0s)"}},
		{"scheduled in the future, no attempt yet", func(l *sb.Lead, _ *sb.Campaign) { l.NextAt = now.Add(time.Hour) }, false, now, false,
			[]string{"not due before 2026-03-10 11:00 EDT (in 1h0m0s)"}},
		{"retry delay elapsed", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts, l.LastOutcome, l.NextAt = sb.LeadRetry, 1, sb.DialBusy, now
		}, false, now, true, []string{"attempt 2 of 5"}},
		{"abandoned 71 h ago", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts, l.LastOutcome, l.AbandonedAt = sb.LeadRetry, 1, sb.DialAbandoned, now.Add(-71*time.Hour)
		}, false, now, false, []string{"a call to it was abandoned at 2026-03-07 10:00 EST: not called again before 2026-03-10 11:00 EDT unless an agent is reserved"}},
		{"abandoned 71 h ago with an agent reserved", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts, l.AbandonedAt, l.ReservedAgent = sb.LeadRetry, 1, now.Add(-71*time.Hour), "1001"
		}, false, now, true, []string{"agent 1001 reserved"}},
		{"abandoned 72 h ago", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts, l.AbandonedAt = sb.LeadRetry, 1, now.Add(-72*time.Hour)
		}, false, now, true, nil},
		{"every reason at once", func(l *sb.Lead, c *sb.Campaign) {
			c.State = sb.CampaignStopped
			l.State, l.Attempts = sb.LeadRetry, 5
		}, true, time.Date(2026, 3, 10, 22, 0, 0, 0, ny), false,
			[]string{"campaign spring is stopped; +12125550123 is on the do-not-call list; all 5 attempts are used; outside the calling window"}},
		{"unknown zone is never dialed", func(l *sb.Lead, _ *sb.Campaign) { l.TimeZone = "Mars/Olympus" }, false, now, false,
			[]string{`the calling window cannot be checked: unknown time zone "Mars/Olympus"`}},
		{"no zone is never dialed", func(l *sb.Lead, _ *sb.Campaign) { l.TimeZone = "" }, false, now, false,
			[]string{"the lead has no time zone"}},
		{"campaign not started yet", func(_ *sb.Lead, c *sb.Campaign) { c.Schedule.From = now.Add(time.Hour) }, false, now, false,
			[]string{"campaign spring starts at 2026-03-10 11:00 EDT"}},
		{"campaign over", func(_ *sb.Lead, c *sb.Campaign) { c.Schedule.Until = now }, false, now, false,
			[]string{"campaign spring ended at 2026-03-10 10:00 EDT"}},
		{"done", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.LastOutcome = sb.LeadDone, sb.DialAnswered
		}, false, now, false,
			[]string{"the lead is done (last outcome answered)"}},
		{"dialing", func(l *sb.Lead, _ *sb.Campaign) { l.State, l.Attempts = sb.LeadDialing, 2 }, false, now, false,
			[]string{"being dialed now (attempt 2)"}},
		{"marked dnc", func(l *sb.Lead, _ *sb.Campaign) { l.State = sb.LeadDNC }, false, now, false,
			[]string{"marked do-not-call"}},
		{"failed", func(l *sb.Lead, _ *sb.Campaign) {
			l.State, l.Attempts, l.LastOutcome = sb.LeadFailed, 5, sb.DialNoAnswer
		}, false, now, false, []string{"failed after 5 attempt(s) (last outcome noanswer)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := lead(), valid()
			if tt.change != nil {
				tt.change(&l, &c)
			}
			ok, why := campaign.Eligible(l, c, tt.dnc, tt.now)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v (%s)", ok, tt.ok, why)
			}
			for _, w := range tt.want {
				if !strings.Contains(why, w) {
					t.Errorf("why = %q\nwant it to contain %q", why, w)
				}
			}
		})
	}
}

func TestNextWindowAcrossDST(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	c := valid()
	c.Schedule.Days = nil
	// Saturday 2026-03-07 22:00 EST; clocks go forward on Sunday 03-08.
	got, ok := campaign.NextWindow(c, ny, time.Date(2026, 3, 7, 22, 0, 0, 0, ny))
	want := time.Date(2026, 3, 8, 8, 0, 0, 0, ny)
	if !ok || !got.Equal(want) || got.In(ny).Format("15:04 MST") != "08:00 EDT" {
		t.Errorf("NextWindow = %v, %v; want %v", got, ok, want)
	}
	c.Schedule.Days = []time.Weekday{}
	c.Schedule.Days = append(c.Schedule.Days, time.Wednesday)
	got, _ = campaign.NextWindow(c, ny, time.Date(2026, 3, 11, 21, 0, 0, 0, ny))
	if want := time.Date(2026, 3, 18, 8, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("NextWindow after Wednesday's window = %v, want %v", got, want)
	}
}

func TestNext(t *testing.T) {
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	c := valid()
	tests := []struct {
		outcome  sb.DialOutcome
		attempts int
		state    sb.LeadState
		nextAt   time.Time
	}{
		{sb.DialAnswered, 1, sb.LeadDone, time.Time{}},
		{sb.DialBusy, 1, sb.LeadRetry, at.Add(10 * time.Minute)},
		{sb.DialNoAnswer, 1, sb.LeadRetry, at.Add(2 * time.Hour)},
		{sb.DialMachine, 2, sb.LeadRetry, at.Add(4 * time.Hour)},
		{sb.DialFailed, 4, sb.LeadRetry, at.Add(30 * time.Minute)},
		{sb.DialAbandoned, 1, sb.LeadRetry, at.Add(72 * time.Hour)},
		{sb.DialNoAnswer, 5, sb.LeadFailed, time.Time{}},
		{sb.DialInvalid, 1, sb.LeadFailed, time.Time{}},
		{sb.DialDNC, 1, sb.LeadDNC, time.Time{}},
	}
	for _, tt := range tests {
		l := sb.Lead{Number: "+12125550123", State: sb.LeadDialing, Attempts: tt.attempts}
		got, err := campaign.Next(c, l, tt.outcome, at)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != tt.state || !got.NextAt.Equal(tt.nextAt) || got.LastOutcome != tt.outcome {
			t.Errorf("Next(%s, attempt %d) = %s at %v (%s), want %s at %v", tt.outcome, tt.attempts, got.State, got.NextAt, got.LastOutcome, tt.state, tt.nextAt)
		}
		if abandoned := tt.outcome == sb.DialAbandoned; abandoned != got.AbandonedAt.Equal(at) {
			t.Errorf("Next(%s): AbandonedAt = %v", tt.outcome, got.AbandonedAt)
		}
	}
	if _, err := campaign.Next(c, sb.Lead{}, "vanished", at); err == nil {
		t.Error("Next accepted an unknown outcome")
	}
}

func TestOutcomeOfCause(t *testing.T) {
	for cause, want := range map[int]sb.DialOutcome{17: sb.DialBusy, 21: sb.DialBusy, 19: sb.DialNoAnswer,
		18: sb.DialNoAnswer, 16: sb.DialNoAnswer, 0: sb.DialNoAnswer, 1: sb.DialInvalid,
		28: sb.DialInvalid, 22: sb.DialInvalid, 34: sb.DialFailed, 38: sb.DialFailed} {
		if got := campaign.OutcomeOfCause(cause); got != want {
			t.Errorf("OutcomeOfCause(%d) = %s, want %s", cause, got, want)
		}
	}
}
