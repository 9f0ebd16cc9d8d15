package routing_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

func TestParseServiceLevel(t *testing.T) {
	for _, tt := range []struct {
		in     string
		share  float64
		within time.Duration
		ok     bool
	}{
		{"", 0, 0, true},
		{"80/20s", 0.8, 20 * time.Second, true},
		{"100/1m", 1, time.Minute, true},
		{"92.5%/30s", 0.925, 30 * time.Second, true},
		{" 90 / 15s ", 0.9, 15 * time.Second, true},
		{"80", 0, 0, false},
		{"0/20s", 0, 0, false},
		{"-5/20s", 0, 0, false},
		{"100.1/20s", 0, 0, false},
		{"NaN/20s", 0, 0, false},
		{"80/-1s", 0, 0, false},
		{"80/20", 0, 0, false},
		{"80/20s/5", 0, 0, false},
	} {
		share, within, err := routing.ParseServiceLevel(tt.in)
		if (err == nil) != tt.ok || share != tt.share || within != tt.within {
			t.Errorf("ParseServiceLevel(%q) = %v, %v, %v; want %v, %v, ok %v", tt.in, share, within, err, tt.share, tt.within, tt.ok)
		}
	}
}

func TestParseWindows(t *testing.T) {
	h := time.Hour
	mon, tue, wed, thu, fri, sat, sun := time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday
	tests := []struct {
		in   []string
		want []routing.Window
		err  string
	}{
		{nil, nil, ""},
		{[]string{"09:00-18:00"}, []routing.Window{{From: 9 * h, To: 18 * h}}, ""},
		{[]string{"mon-fri 09:00-17:00", "sat 10:00-14:30"}, []routing.Window{
			{Days: []time.Weekday{mon, tue, wed, thu, fri}, From: 9 * h, To: 17 * h},
			{Days: []time.Weekday{sat}, From: 10 * h, To: 14*h + 30*time.Minute},
		}, ""},
		{[]string{"mon,wed,fri 08:00-12:00"}, []routing.Window{{Days: []time.Weekday{mon, wed, fri}, From: 8 * h, To: 12 * h}}, ""},
		{[]string{"fri-mon 00:00-24:00"}, []routing.Window{{Days: []time.Weekday{sun, mon, fri, sat}, From: 0, To: 24 * h}}, ""},
		{[]string{"Weekends 10:00-12:00", "weekdays 10:00-12:00"}, []routing.Window{
			{Days: []time.Weekday{sun, sat}, From: 10 * h, To: 12 * h},
			{Days: []time.Weekday{mon, tue, wed, thu, fri}, From: 10 * h, To: 12 * h},
		}, ""},
		{[]string{"daily 10:00-12:00", "mon-sun 10:00-12:00"}, []routing.Window{{From: 10 * h, To: 12 * h}, {From: 10 * h, To: 12 * h}}, ""},
		// Past midnight: two windows, the second on the next day.
		{[]string{"sat,sun 22:00-02:00"}, []routing.Window{
			{Days: []time.Weekday{sun, sat}, From: 22 * h, To: 24 * h},
			{Days: []time.Weekday{mon, sun}, From: 0, To: 2 * h},
		}, ""},
		{[]string{"22:00-00:00"}, []routing.Window{{From: 22 * h, To: 24 * h}}, ""},
		{[]string{"mon 09:00-17:00", "moon 09:00-17:00"}, nil, `windows[1]: unknown days "moon"`},
		{[]string{"mon-fri"}, nil, `windows[0]: hours must be HH:MM-HH:MM`},
		// One-digit hours are read as calendars read them.
		{[]string{"mon 9:00-17:00"}, []routing.Window{{Days: []time.Weekday{mon}, From: 9 * h, To: 17 * h}}, ""},
		{[]string{"mon 9:0-17:00"}, nil, `windows[0]: hours must be HH:MM-HH:MM`},
		{[]string{"24:00-01:00"}, nil, `windows[0]: hours must be HH:MM-HH:MM`},
		{[]string{"09:60-10:00"}, nil, `windows[0]: hours must be HH:MM-HH:MM`},
		{[]string{"10:00-10:00"}, nil, `windows[0]: window "10:00-10:00" is empty`},
		{[]string{"mon fri 10:00-11:00"}, nil, `windows[0]: want "DAYS HH:MM-HH:MM"`},
		{[]string{""}, nil, `windows[0]: want "DAYS HH:MM-HH:MM"`},
	}
	for _, tt := range tests {
		got, err := routing.ParseWindows(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("ParseWindows(%q) error = %v, want %q...", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseWindows(%q): %v", tt.in, err)
		case !reflect.DeepEqual(got, tt.want):
			t.Errorf("ParseWindows(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

// TestParsedWindowsAcceptedByRouter: every window ParseWindows makes is a
// time of day, and the router takes the texts.
func TestParsedWindowsAcceptedByRouter(t *testing.T) {
	specs := []string{"mon-fri 09:00-17:00", "22:00-02:00", "sun 00:00-24:00", "fri-mon 23:59-00:01"}
	ws, err := routing.ParseWindows(specs)
	if err != nil {
		t.Fatal(err)
	}
	checkWindows(t, specs, ws)
	if _, err := routing.New(routing.Config{Queues: []sb.Queue{{Name: "q", Callback: sb.QueueCallback{Windows: specs}}}}); err != nil {
		t.Fatal(err)
	}
}

// checkWindows fails unless each window is 0 <= From < To <= 24h.
func checkWindows(t *testing.T, specs []string, ws []routing.Window) {
	t.Helper()
	for _, w := range ws {
		if w.From < 0 || w.To > 24*time.Hour || w.From >= w.To {
			t.Fatalf("%q parsed to %+v", specs, w)
		}
	}
}

// FuzzParseWindows: no input panics, what parses is times of day, and the
// router accepts exactly what parses.
func FuzzParseWindows(f *testing.F) {
	for _, s := range []string{"mon-fri 09:00-17:00", "22:00-02:00", "sat,sun 00:00-24:00", "fri-mon 10:00-10:01", "daily 24:00-00:00", "weekends x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := routing.ParseWindows([]string{s})
		_, newErr := routing.New(routing.Config{Queues: []sb.Queue{{Name: "q", Callback: sb.QueueCallback{Windows: []string{s}}}}})
		if (err == nil) != (newErr == nil) {
			t.Fatalf("%q: ParseWindows says %v, the router %v", s, err, newErr)
		}
		if err == nil {
			checkWindows(t, []string{s}, ws)
		}
	})
}

// FuzzParseServiceLevel: what parses is a share in (0, 1] and a positive time.
func FuzzParseServiceLevel(f *testing.F) {
	for _, s := range []string{"80/20s", "100/1m", "1e2/1s", "0x50/20s", "+80/20s", "80%/1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		share, within, err := routing.ParseServiceLevel(s)
		if err == nil && s != "" && (!(share > 0 && share <= 1) || within <= 0) {
			t.Fatalf("%q = %v, %v", s, share, within)
		}
	})
}

// TestCheckQueues: each rule reports at its key under the queue, once, and
// a good queue reports nothing.
func TestCheckQueues(t *testing.T) {
	agents := []sb.AgentID{"a1", "a2"}
	tests := []struct {
		name string
		q    sb.Queue
		want []string // Path: Message prefix
	}{
		{"good", sb.Queue{Name: "q", Agents: []sb.AgentID{"a1"}, Strategy: routing.Linear, Skills: "skills.x > 1",
			ServiceLevel: "90/30s", JoinEmpty: sb.EmptyNoMembers, Escalation: []sb.EscalationStep{{After: time.Second, OfferCallback: true}},
			Callback: sb.QueueCallback{Key: "1", Prompt: []string{"sound:a"}, Confirmation: []string{"sound:b"}, Windows: []string{"09:00-17:00"}}}, nil},
		{"name", sb.Queue{Name: "a queue"}, []string{`queues[0].name: must be letters`}},
		{"agents", sb.Queue{Name: "q", Agents: []sb.AgentID{"a1", "ghost", "a1"}},
			[]string{`queues[0].agents[1]: unknown agent "ghost"`, `queues[0].agents[2]: agent "a1" is listed twice (also queues[0].agents[0])`}},
		{"strategy and skills", sb.Queue{Name: "q", Strategy: "fastest", Skills: "skills.x >"},
			[]string{`queues[0].strategy: unknown strategy "fastest"`, `queues[0].skills: bad skills expression "skills.x >"`}},
		{"negative", sb.Queue{Name: "q", WaitForAgent: -time.Second, RingTimeout: -1, MaxLength: -1},
			[]string{`queues[0].wait_for_agent: must not be negative`, `queues[0].ring_timeout: must not be negative`, `queues[0].max_length: must not be negative`}},
		{"texts", sb.Queue{Name: "q", ServiceLevel: "80", LeaveWhenEmpty: "sometimes", Callback: sb.QueueCallback{Windows: []string{"noon"}}},
			[]string{`queues[0].service_level: want SHARE/TIME`, `queues[0].leave_when_empty: must be no-members or no-available`,
				`queues[0].callback.windows[0]: hours must be HH:MM-HH:MM`}},
		{"steps", sb.Queue{Name: "q", Escalation: []sb.EscalationStep{{After: 2 * time.Second, Exit: "x"}, {After: time.Second, AddQueues: []sb.QueueName{"r"}}, {After: 3 * time.Second}}},
			[]string{`queues[0].escalation[1].after: must be later than the step before (2s), got 1s`, `queues[0].escalation[1].add_queues[0]: unknown queue "r"`,
				`queues[0].escalation[2]: does nothing`}},
		{"callback", sb.Queue{Name: "q", Escalation: []sb.EscalationStep{{After: time.Second, OfferCallback: true}}},
			[]string{`queues[0].escalation[0].offer_callback: offers a callback, but queues[0].callback.key is empty`}},
		{"callback media", sb.Queue{Name: "q", Callback: sb.QueueCallback{Key: "1", Prompt: []string{"noise"}}},
			[]string{`queues[0].callback.confirmation: is required with key`, `queues[0].callback.prompt[0]: `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := routing.CheckQueues([]sb.Queue{tt.q}, agents)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %+v, want %d", len(got), got, len(tt.want))
			}
			for i, p := range got {
				if s := p.Path() + ": " + p.Message; !strings.HasPrefix(s, tt.want[i]) {
					t.Errorf("problem %d = %q, want %q...", i, s, tt.want[i])
				}
			}
		})
	}
	dup := routing.CheckQueues([]sb.Queue{{Name: "q"}, {Name: "q"}}, nil)
	if len(dup) != 1 || dup[0].Path() != "queues[1].name" || !strings.HasPrefix(dup[0].Message, `duplicate queue name "q" (also queues[0])`) {
		t.Errorf("duplicates: %+v", dup)
	}
}
