package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// calendarFile is a configuration with the calendar of the example.
const calendarFile = `asterisk:
  username: u
  password: p
calendars:
  support-hours:
    timezone: America/New_York
    hours:
      mon-fri: ["08:00-18:00"]
    holidays:
      - {date: "*-12-25", name: Christmas Day}
    exceptions:
      - {date: 2026-12-24, name: Christmas Eve, hours: ["08:00-18:00"]}
  nights:
    timezone: Europe/Berlin
    hours:
      daily: ["22:00-06:00"]
`

// runCalendar runs `switchboard calendar ARGS...` in-process and returns
// stdout, stderr and the exit code runCtx would give.
func runCalendar(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SWITCHBOARD_") {
			t.Setenv(k, "")
		}
	}
	return runCommand(t, newCalendarCmd(), args...)
}

func writeCalendarFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sb.yaml")
	if err := os.WriteFile(path, []byte(calendarFile), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCalendarCheck(t *testing.T) {
	path := writeCalendarFile(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--at", "2026-12-24T17:59"},
			"support-hours: open at 2026-12-24 17:59 EST (exception Christmas Eve 08:00-18:00); next change 2026-12-24 18:00 EST\n"},
		{[]string{"--at", "2026-12-24T18:00"},
			"support-hours: closed at 2026-12-24 18:00 EST (exception Christmas Eve 08:00-18:00); next change 2026-12-28 08:00 EST\n"},
		{[]string{"--at", "2026-12-24T22:59:00Z"}, // RFC 3339: 17:59 EST
			"support-hours: open at 2026-12-24 17:59 EST (exception Christmas Eve 08:00-18:00); next change 2026-12-24 18:00 EST\n"},
		{[]string{"--at", "2027-12-25T10:00"},
			"support-hours: closed at 2027-12-25 10:00 EST (holiday Christmas Day); next change 2027-12-27 08:00 EST\n"},
		{[]string{"--at", "2026-12-17T12:00"},
			"support-hours: open at 2026-12-17 12:00 EST (regular hours thu 08:00-18:00); next change 2026-12-17 18:00 EST\n"},
	}
	for _, tt := range tests {
		args := append([]string{"check", "support-hours", "--config", path}, tt.args...)
		out, errOut, code := runCalendar(t, args...)
		if out != tt.want || code != 0 {
			t.Errorf("%v:\n got %q (exit %d, stderr %q)\nwant %q", tt.args, out, code, errOut, tt.want)
		}
	}
}

func TestCalendarCheckJSON(t *testing.T) {
	path := writeCalendarFile(t)
	out, errOut, code := runCalendar(t, "check", "support-hours", "-c", path, "--at", "2026-12-24T18:00", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	want := map[string]any{
		"calendar": "support-hours", "at": "2026-12-24T18:00:00-05:00", "open": false,
		"reason": "closed: exception Christmas Eve 08:00-18:00", "next_change": "2026-12-28T08:00:00-05:00",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}

	// Always open: next_change is null.
	out, _, _ = runCalendar(t, "check", "support-hours", "--json", "--at", "2026-06-01T00:00:00Z")
	if !strings.Contains(out, `"open":true`) || !strings.Contains(out, `"next_change":null`) {
		t.Errorf("demo calendar: %s", out)
	}
}

func TestCalendarCheckErrors(t *testing.T) {
	path := writeCalendarFile(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(calendarFile, "America/New_York", "America/Nowhere", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		code    int
		errPart string
	}{
		{[]string{"check", "sales", "-c", path}, 2, `unknown calendar "sales" (calendars: nights, support-hours)`},
		{[]string{"check", "support-hours", "-c", path, "--at", "tomorrow"}, 2, `invalid --at "tomorrow"`},
		{[]string{"check", "support-hours", "-c", bad}, 2, `bad.yaml:6: calendars.support-hours.timezone: unknown time zone "America/Nowhere"`},
		{[]string{"check", "x", "-c", filepath.Join(t.TempDir(), "missing.yaml")}, 2, "missing.yaml"},
		{[]string{"check"}, 1, "accepts 1 arg"},
	}
	for _, tt := range tests {
		out, errOut, code := runCalendar(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.errPart) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, out, errOut, tt.code, tt.errPart)
		}
	}
}

func TestCalendarList(t *testing.T) {
	out, errOut, code := runCalendar(t, "list", "--config", writeCalendarFile(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.Contains(lines[1], "nights") || !strings.Contains(lines[1], "Europe/Berlin") || !strings.Contains(lines[1], "mon-sun 00:00-06:00, 22:00-24:00") ||
		!strings.Contains(lines[2], "support-hours") || !strings.Contains(lines[2], "mon-fri 08:00-18:00") {
		t.Errorf("list:\n%s", out)
	}
	// The embedded demo by default.
	out, _, code = runCalendar(t, "list")
	if code != 0 || !strings.Contains(out, "support-hours") || !strings.Contains(out, "UTC") || !strings.Contains(out, "open") {
		t.Errorf("demo list (exit %d):\n%s", code, out)
	}
}

// TestCalendarExampleConfig: the example deployment's calendar answers as
// docs/configuration.md shows.
func TestCalendarExampleConfig(t *testing.T) {
	out, errOut, code := runCalendar(t, "check", "support-hours", "--config", filepath.Join("..", "..", "configs", "switchboard.yaml"), "--at", "2026-12-24T17:59")
	want := "support-hours: closed at 2026-12-24 17:59 EST (exception Christmas Eve 08:00-14:00); next change 2026-12-28 08:00 EST\n"
	if code != 0 || out != want {
		t.Errorf("got %q (exit %d, %s), want %q", out, code, errOut, want)
	}
}
