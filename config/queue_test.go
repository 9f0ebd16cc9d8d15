package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
)

// queueHead is creds (lines 1-3), then queues r (line 5) and q (line 6):
// a case's keys for q (queues[1]) start at line 7.
const queueHead = creds + "queues:\n  - name: r\n  - name: q\n"

func TestQueueOptionRules(t *testing.T) {
	clearEnv(t)
	// Lines: 1-3 creds, 4 queues:, 5 - name: r, 6 - name: q, 7.. the case.
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"all good", `    service_level: 90/30s
    max_wait_target: hangup
    max_length: 10
    max_length_target: ""
    join_empty: no-members
    leave_when_empty: no-available
    empty_target: some-flow
    music_class: default
    announce_every: 60s
    announce_position: true
    announce_wait: true
    skills: 'skills.support >= 5'
    escalation:
      - {after: 30s, skills: 'skills.support >= 2'}
      - {after: 90s, add_queues: [r]}
      - {after: 180s, offer_callback: true}
      - {after: 300s, exit: hangup}
    callback:
      key: "#"
      prompt: [sound:cb-offer]
      confirmation: [sound:cb-ok]
      windows: ["mon-fri 09:00-17:00", "09:00-18:00", "sat,sun 22:00-02:00"]
      attempts: 5
      retry: 10m
    returning_caller: 24h
    preferred_wait: 10s
routing:
  vip:
    - {name: gold, priority: 5, numbers: ["+1 555 0100", "5550101"]}
    - {name: file, priority: 7, file: vip.txt}
`, nil},
		{"service level no slash", "    service_level: '80'\n", []string{`x.yaml:7: queues[1].service_level: want SHARE/TIME`}},
		{"service level share", "    service_level: 0/20s\n", []string{`x.yaml:7: queues[1].service_level: share must be a percentage in (0, 100], got "0"`}},
		{"service level share high", "    service_level: 101/20s\n", []string{`x.yaml:7: queues[1].service_level: share must be a percentage in (0, 100]`}},
		{"service level time", "    service_level: 80/0s\n", []string{`x.yaml:7: queues[1].service_level: time must be a positive duration such as 20s, got "0s"`}},
		{"service level time unit", "    service_level: 80/20\n", []string{`x.yaml:7: queues[1].service_level: time must be a positive duration`}},
		{"join empty", "    join_empty: always\n", []string{`x.yaml:7: queues[1].join_empty: must be no-members or no-available (empty: never), got "always"`}},
		{"leave when empty", "    leave_when_empty: empty\n", []string{`x.yaml:7: queues[1].leave_when_empty: must be no-members or no-available`}},
		{"max length", "    max_length: -1\n", []string{`x.yaml:7: queues[1].max_length: must not be negative`}},
		{"announce every", "    announce_every: -5s\n", []string{`x.yaml:7: queues[1].announce_every: must not be negative`}},
		{"returning caller", "    returning_caller: -1h\n", []string{`x.yaml:7: queues[1].returning_caller: must not be negative`}},
		{"queue skills", "    skills: 'skills.x >>= 5'\n", []string{`x.yaml:7: queues[1].skills: bad skills expression "skills.x >>= 5"`}},
		{"step after zero", "    escalation:\n      - {after: 0s, exit: hangup}\n", []string{`x.yaml:8: queues[1].escalation[0].after: must be a positive duration, got 0s`}},
		{"step after missing", "    escalation:\n      - exit: hangup\n", []string{`x.yaml:8: queues[1].escalation[0].after: must be a positive duration, got 0s`}},
		{"steps out of order", "    escalation:\n      - {after: 60s, exit: hangup}\n      - {after: 30s, skills: 'true'}\n",
			[]string{`x.yaml:9: queues[1].escalation[1].after: must be later than the step before (1m0s), got 30s`}},
		{"steps equal", "    escalation:\n      - {after: 60s, skills: 'true'}\n      - {after: 60s, exit: hangup}\n",
			[]string{`x.yaml:9: queues[1].escalation[1].after: must be later than the step before`}},
		{"step does nothing", "    escalation:\n      - after: 60s\n", []string{`x.yaml:8: queues[1].escalation[0]: does nothing: give skills, add_queues, raise_priority, offer_callback or exit`}},
		{"step raises priority", "    escalation:\n      - {after: 60s, raise_priority: 5}\n", nil},
		{"step lowers priority", "    escalation:\n      - after: 60s\n        raise_priority: -2\n",
			[]string{`x.yaml:9: queues[1].escalation[0].raise_priority: must not be negative, got -2 (it adds to the caller's priority; 0: no change)`}},
		{"step priority not a number", "    escalation:\n      - after: 60s\n        raise_priority: lots\n",
			[]string{`x.yaml:9: queues[1].escalation[0].raise_priority:`}},
		{"step unknown queue", "    escalation:\n      - after: 60s\n        add_queues: [r, nope]\n",
			[]string{`x.yaml:9: queues[1].escalation[0].add_queues[1]: unknown queue "nope" (not in queues)`}},
		{"step skills", "    escalation:\n      - after: 60s\n        skills: 'skills.x >'\n",
			[]string{`x.yaml:9: queues[1].escalation[0].skills: bad skills expression "skills.x >"`}},
		{"offer callback without key", "    escalation:\n      - after: 60s\n        offer_callback: true\n",
			[]string{`x.yaml:9: queues[1].escalation[0].offer_callback: offers a callback, but queues[1].callback.key is empty`}},
		{"callback key two digits", "    callback:\n      key: 12\n      prompt: [sound:a]\n      confirmation: [sound:b]\n",
			[]string{`x.yaml:8: queues[1].callback.key: must be one DTMF key: 0-9, "*" or "#" (quoted), got "12"`}},
		{"callback key letter", "    callback:\n      key: A\n", []string{`x.yaml:8: queues[1].callback.key: must be one DTMF key`}},
		{"callback key without prompts", "    callback:\n      key: 1\n", []string{
			`x.yaml:7: queues[1].callback.prompt: is required with key`,
			`x.yaml:7: queues[1].callback.confirmation: is required with key`,
		}},
		{"callback bad media", "    callback:\n      key: '*'\n      prompt: [beep]\n      confirmation: [sound:ok, 'bogus:thing']\n",
			[]string{`x.yaml:9: queues[1].callback.prompt[0]: media "beep" has an unknown scheme`,
				`x.yaml:10: queues[1].callback.confirmation[1]: media "bogus:thing" has an unknown scheme: want sound:`}},
		{"callback window days", "    callback:\n      windows: [\"mon-fry 09:00-17:00\"]\n",
			[]string{`x.yaml:8: queues[1].callback.windows[0]: unknown days "mon-fry"`}},
		{"callback window hours", "    callback:\n      windows: [\"09:00-17:00\", \"mon 9-17\"]\n",
			[]string{`x.yaml:8: queues[1].callback.windows[1]: hours must be HH:MM-HH:MM (00:00 to 24:00), got "9-17"`}},
		{"callback window empty", "    callback:\n      windows: [\"mon 09:00-09:00\"]\n",
			[]string{`x.yaml:8: queues[1].callback.windows[0]: window "09:00-09:00" is empty`}},
		{"callback attempts", "    callback:\n      attempts: -1\n", []string{`x.yaml:8: queues[1].callback.attempts: must not be negative`}},
		{"callback retry", "    callback:\n      retry: -1m\n", []string{`x.yaml:8: queues[1].callback.retry: must not be negative`}},
		{"vip no name", "routing:\n  vip:\n    - {priority: 1, numbers: [\"1\"]}\n", []string{`x.yaml:9: routing.vip[0].name: is required`}},
		{"vip duplicate name", "routing:\n  vip:\n    - {name: a, numbers: [\"1\"]}\n    - {name: a, numbers: [\"2\"]}\n",
			[]string{`x.yaml:10: routing.vip[1].name: duplicate VIP list "a" (also routing.vip[0])`}},
		{"vip nothing", "routing:\n  vip:\n    - name: a\n      priority: 3\n", []string{`x.yaml:9: routing.vip[0]: has no numbers and no file`}},
		{"vip empty number", "routing:\n  vip:\n    - name: a\n      numbers: [\"  \"]\n", []string{`x.yaml:10: routing.vip[0].numbers[0]: is empty`}},
		{"vip bad number", "routing:\n  vip:\n    - name: a\n      numbers:\n        - \"+1 (555) 0100\"\n",
			[]string{`x.yaml:11: routing.vip[0].numbers[0]: must be a caller number: digits with an optional leading +`}},
		{"vip unquoted plus", "routing:\n  vip:\n    - name: a\n      numbers:\n        - +15550100\n",
			[]string{`x.yaml:11: routing.vip[0].numbers[0]: quote it: YAML reads +15550100 as the number 15550100`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadBytes("x.yaml", []byte(queueHead+tt.yaml))
			check(t, problems(t, err), tt.want)
			if (err == nil) != (cfg != nil) {
				t.Errorf("LoadBytes returned config %v with error %v", cfg != nil, err)
			}
		})
	}
}

// TestQueueOptionsDecoded: the keys land in the fields other packages read.
func TestQueueOptionsDecoded(t *testing.T) {
	clearEnv(t)
	cfg, err := config.LoadBytes("x.yaml", []byte(queueHead+`    service_level: 90/30s
    max_wait_target: hangup
    max_length: 10
    max_length_target: full-flow
    join_empty: no-members
    leave_when_empty: no-available
    empty_target: empty-flow
    music_class: jazz
    announce_every: 45s
    announce_position: true
    announce_wait: true
    escalation:
      - {after: 30s, skills: 'true', add_queues: [r], raise_priority: 4, offer_callback: true, exit: vm}
    callback:
      key: 1
      prompt: [sound:a]
      confirmation: [sound:b]
      windows: ["09:00-17:00"]
      attempts: 4
      retry: 2m
    returning_caller: 12h
routing:
  vip:
    - {name: gold, priority: 5, numbers: ["+1 555 0100"], file: vip.txt}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Queues[1]
	want := sb.Queue{Name: "q", ServiceLevel: "90/30s", MaxWaitTarget: "hangup", MaxLength: 10, MaxLengthTarget: "full-flow",
		JoinEmpty: "no-members", LeaveWhenEmpty: "no-available", EmptyTarget: "empty-flow", MusicClass: "jazz",
		AnnounceEvery: 45 * time.Second, AnnouncePosition: true, AnnounceWait: true,
		Escalation: []sb.EscalationStep{{After: 30 * time.Second, Skills: "true", AddQueues: []sb.QueueName{"r"}, RaisePriority: 4, OfferCallback: true, Exit: "vm"}},
		Callback: sb.QueueCallback{Key: "1", Prompt: []string{"sound:a"}, Confirmation: []string{"sound:b"},
			Windows: []string{"09:00-17:00"}, Attempts: 4, Retry: 2 * time.Minute},
		ReturningCaller: 12 * time.Hour}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queue\n got %+v\nwant %+v", got, want)
	}
	wantVIP := []config.VIPList{{Name: "gold", Priority: 5, Numbers: []string{"+1 555 0100"}, File: "vip.txt"}}
	if !reflect.DeepEqual(cfg.Routing.VIP, wantVIP) {
		t.Errorf("vip = %+v, want %+v", cfg.Routing.VIP, wantVIP)
	}
}

func TestLoadVIP(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("vip.txt", "# platinum customers\n+15550100\n\n  +1 555 0200  # the CEO\n5550300\n")
	write("switchboard.yaml", creds+`routing:
  vip:
    - {name: gold, priority: 5, numbers: ["+15550100", "+1555 0400"]}
    - {name: platinum, priority: 9, file: vip.txt}
    - {name: low, priority: 1, numbers: ["5550300"]}
`)
	cfg, err := config.Load(filepath.Join(dir, "switchboard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.LoadVIP()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"+15550100": 9, "+15550400": 5, "+15550200": 9, "5550300": 9}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadVIP = %v, want %v", got, want)
	}
	if got := config.NormalizeNumber(" +1 555\t0200 "); got != "+15550200" {
		t.Errorf("NormalizeNumber = %q", got)
	}

	// Bad lines: every one reported with the file and its line.
	write("vip.txt", "+15550100\n# ok\n\nabc\n+1 555 0100\n++1\n555-0100 # dashes\n")
	_, err = cfg.LoadVIP()
	path := filepath.Join(dir, "vip.txt")
	check(t, problems(t, err), []string{
		path + `:4: number must be a caller number: digits with an optional leading +, got "abc"`,
		path + `:6: number must be a caller number`,
		path + `:7: number must be a caller number`,
	})

	// A missing file names the key and the file.
	cfg.Routing.VIP[1].File = "nope.txt"
	_, err = cfg.LoadVIP()
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "routing.vip[1].file") ||
		!strings.Contains(err.Error(), filepath.Join(dir, "nope.txt")) {
		t.Errorf("missing file: %v", err)
	}

	// No lists: an empty map.
	if got, err := (&config.Config{}).LoadVIP(); err != nil || len(got) != 0 {
		t.Errorf("no lists: %v %v", got, err)
	}
}

func TestCheckTargets(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "switchboard.yaml")
	// Lines: 1-3 creds, 4 queues:, 5 - name: a, 6.. keys.
	body := creds + `queues:
  - name: a
    max_wait_target: voicemail
    max_length: 5
    max_length_target: hangup
    empty_target: ""
  - name: b
    join_empty: no-members
    empty_target: nowhere
    max_length_target: main
    escalation:
      - {after: 30s, exit: main}
      - after: 60s
        exit: gone
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckTargets([]string{"main", "voicemail", "nowhere", "gone"}); err != nil {
		t.Errorf("all targets known: %v", err)
	}
	err = cfg.CheckTargets([]string{"main"})
	check(t, problems(t, err), []string{
		path + `:6: queues[0].max_wait_target: no flow named "voicemail": a target is empty (no-agent prompt, then hang up), "hangup", or an IVR flow (flows: main)`,
		path + `:12: queues[1].empty_target: no flow named "nowhere"`,
		path + `:17: queues[1].escalation[1].exit: no flow named "gone"`,
	})

	// A Config from LoadBytes (or code) has no file: the keys still say where.
	cfg, err = config.LoadBytes("x.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	check(t, problems(t, cfg.CheckTargets(nil)), []string{
		`queues[0].max_wait_target: no flow named "voicemail"`,
		`queues[1].max_length_target: no flow named "main"`,
		`queues[1].empty_target: no flow named "nowhere"`,
		`queues[1].escalation[0].exit: no flow named "main"`,
		`queues[1].escalation[1].exit: no flow named "gone"`,
	})
}
