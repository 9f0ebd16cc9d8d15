package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/config"
)

type calendarDef = calendar.Def

// agents5 are agents 1001-1005 (lines 4-9 after creds).
const agents5 = `agents:
  - {id: "1001", endpoint: PJSIP/1001}
  - {id: "1002", endpoint: PJSIP/1002}
  - {id: "1003", endpoint: PJSIP/1003}
  - {id: "1004", endpoint: PJSIP/1004}
  - {id: "1005", endpoint: PJSIP/1005}
`

func TestCalendarQueueIVRRules(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"valid", creds + agents5 + `calendars:
  support-hours:
    timezone: America/New_York
    hours:
      mon-fri: ["08:00-18:00"]
      sat: 09:00-13:00
    holidays:
      - {date: 2026-12-25, name: Christmas Day}
      - {date: "*-01-01"}
    exceptions:
      - {date: 2026-12-24, name: Christmas Eve, hours: ["08:00-18:00"]}
queues:
  - {name: sales, agents: ["1001", "1002"], wait_for_agent: 30s}
  - {name: support}
ivr:
  variables: [tier, account_id]
  routes:
    - {dnis: "8000", flow: main, calendar: Support-Hours, closed_flow: after-hours}
    - {dnis: "*", flow: main}
flows:
  main:
    start: welcome
    nodes:
      welcome: {play: [sound:hello-world], next: bye}
      bye: {hangup: {}}
`, nil},
		{"calendar problems at their lines", creds + `calendars:
  support-hours:
    timezone: Mars/Olympus
    hours:
      mon-fry: ["08:00-18:00"]
      sat: ["09:00-13:00", "9-13"]
    holidays:
      - {date: 2026-13-25, name: Christmas Day}
    exceptions:
      - {date: 2026-12-24, hours: ["18:00-08:00"]}
      - {date: 2026-12-24, closed: true}
    tz: UTC
  "bad name":
    timezone: UTC
`, []string{
			`x.yaml:6: calendars.support-hours.timezone: unknown time zone "Mars/Olympus"`,
			`x.yaml:8: calendars.support-hours.hours.mon-fry: unknown day "mon-fry"`,
			`x.yaml:9: calendars.support-hours.hours.sat[1]: invalid start time "9"`,
			`x.yaml:11: calendars.support-hours.holidays[0].date: invalid date "2026-13-25"`,
			`x.yaml:13: calendars.support-hours.exceptions[0].hours[0]: end before start in "18:00-08:00"`,
			`x.yaml:14: calendars.support-hours.exceptions[1].date: duplicate exception date 2026-12-24 (also exceptions[0])`,
			`x.yaml:15: calendars.support-hours.tz: unknown key`,
			`x.yaml:16: calendars.bad name: calendar name must be letters, digits`,
		}},
		{"calendar shapes", creds + "calendars:\n  a:\n    timezone: UTC\n    hours: [mon]\n  b: [x]\n", []string{
			`x.yaml:7: calendars.a.hours: expected a mapping, got a list`,
			`x.yaml:8: calendars.b: expected a mapping, got a list`,
		}},
		{"calendars is a list", creds + "calendars:\n  - {timezone: UTC}\n", []string{
			`x.yaml:4: calendars: expected a mapping, got a list`,
		}},
		{"hours value is a mapping", creds + "calendars:\n  a:\n    timezone: UTC\n    hours:\n      mon: {from: 8}\n", []string{
			`x.yaml:8: calendars.a.hours.mon: expected a list, got a mapping`,
		}},
		{"queues", creds + agents5 + `queues:
  - {name: sales, agents: ["1001", "1009", "1001"]}
  - {name: sales}
  - {agents: []}
  - name: "tier 1"
    wait_for_agent: -5s
  - {name: billing, wait_for_agent: soon}
  - {name: vip, agent: ["1001"]}
`, []string{
			`x.yaml:11: queues[0].agents[1]: unknown agent "1009" (not in agents)`,
			`x.yaml:11: queues[0].agents[2]: agent "1001" is listed twice (also queues[0].agents[0])`,
			`x.yaml:12: queues[1].name: duplicate queue name "sales" (also queues[0])`,
			`x.yaml:13: queues[2].name: is required`,
			`x.yaml:14: queues[3].name: must be letters, digits, _ . -`,
			`x.yaml:15: queues[3].wait_for_agent: must not be negative, got -5s`,
			`x.yaml:16: queues[4].wait_for_agent: invalid duration "soon"`,
			`x.yaml:17: queues[5].agent: unknown key (did you mean queues[5].agents?)`,
		}},
		{"ivr", creds + `calendars:
  open: {timezone: UTC, hours: {daily: [24h]}}
ivr:
  timezone: Moon/Base
  variables: [tier, 1st, tier]
  transfer_context: "from agents"
  trunk_template: PJSIP/trunk
  lookup_max_body: 0
  routes:
    - {dnis: "8000", flow: main, calendar: closed-hours, closed_flow: x}
    - {dnis: "8000", flow: main, calendar: open}
    - {flow: main, closed_flow: x}
    - {dnis: "*"}
  flow_dir: flows
`, []string{
			`x.yaml:7: ivr.timezone: unknown time zone "Moon/Base"`,
			`x.yaml:8: ivr.variables[1]: must be a variable name`,
			`x.yaml:8: ivr.variables[2]: duplicate variable "tier" (also ivr.variables[0])`,
			`x.yaml:9: ivr.transfer_context: must be a dialplan context`,
			`x.yaml:10: ivr.trunk_template: must contain ${number}`,
			`x.yaml:11: ivr.lookup_max_body: must be a positive number of bytes, got 0`,
			`x.yaml:13: ivr.routes[0].calendar: unknown calendar "closed-hours" (calendars: open)`,
			`x.yaml:14: ivr.routes[1].dnis: duplicate dnis "8000" (also ivr.routes[0])`,
			`x.yaml:14: ivr.routes[1].closed_flow: is required with calendar`,
			`x.yaml:15: ivr.routes[2].dnis: is required`,
			`x.yaml:15: ivr.routes[2].closed_flow: needs calendar`,
			`x.yaml:16: ivr.routes[3].flow: is required`,
			`x.yaml:17: ivr.flow_dir: unknown key (did you mean ivr.flows_dir?)`,
		}},
		{"ivr shapes", creds + "ivr:\n  routes: {dnis: x}\n  lookup_max_body: 1.5\n", []string{
			`x.yaml:5: ivr.routes: expected a list, got a mapping`,
			`x.yaml:6: ivr.lookup_max_body: expected a whole number, got 1.5`,
		}},
		{"flows are not interpreted", creds + "flows:\n  anything: [goes, {here: 1}]\n  Main: {Start: X}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadBytes("x.yaml", []byte(tt.yaml))
			check(t, problems(t, err), tt.want)
			if (err == nil) != (cfg != nil) {
				t.Errorf("LoadBytes returned config %v with error %v", cfg != nil, err)
			}
		})
	}
}

func TestIVRDecoded(t *testing.T) {
	clearEnv(t)
	cfg, err := config.LoadBytes("x.yaml", []byte(creds+agents5+`calendars:
  support-hours:
    timezone: UTC
    hours: {mon-fri: "08:00-12:00, 13:00-18:00"}
    holidays: [{date: 2026-12-25, name: Christmas Day}]
queues:
  - {name: sales, agents: ["1001"], wait_for_agent: 30s}
  - {name: support}
ivr:
  routes: [{dnis: "8000", flow: main, calendar: support-hours, closed_flow: closed}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Calendars["support-hours"].Hours["mon-fri"]; !reflect.DeepEqual(got, []string{"08:00-12:00", " 13:00-18:00"}) {
		t.Errorf("hours = %q", got)
	}
	if got := cfg.Calendars["support-hours"].Holidays[0].Date; got != "2026-12-25" {
		t.Errorf("unquoted date decoded as %q", got)
	}
	if cfg.QueueWait(cfg.Queues[0]) != 30*time.Second || cfg.QueueWait(cfg.Queues[1]) != 60*time.Second {
		t.Errorf("QueueWait = %v, %v", cfg.QueueWait(cfg.Queues[0]), cfg.QueueWait(cfg.Queues[1]))
	}
	if got := cfg.QueueNames(); !reflect.DeepEqual(got, []string{"sales", "support"}) {
		t.Errorf("QueueNames = %v", got)
	}
	want := config.IVR{Timezone: "UTC", TransferContext: "from-agents", TrunkTemplate: "PJSIP/${number}@trunk", LookupMaxBody: 65536,
		Routes: []config.Route{{DNIS: "8000", Flow: "main", Calendar: "support-hours", ClosedFlow: "closed"}}}
	if !reflect.DeepEqual(cfg.IVR, want) {
		t.Errorf("IVR = %+v\nwant %+v", cfg.IVR, want)
	}
	if r, ok := cfg.IVR.Route("8000"); !ok || r.Flow != "main" {
		t.Errorf("Route(8000) = %+v %v", r, ok)
	}
	if _, ok := cfg.IVR.Route("9000"); ok {
		t.Error("Route(9000) found without a * route")
	}
	set, err := cfg.CalendarSet()
	if err != nil {
		t.Fatal(err)
	}
	if !set.Known("support-hours") || !set.IsOpen("support-hours", time.Date(2026, 12, 21, 13, 0, 0, 0, time.UTC)) ||
		set.IsOpen("support-hours", time.Date(2026, 12, 21, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("CalendarSet = %v", set)
	}
	if cfg.IVR.Location() != time.UTC {
		t.Errorf("Location = %v", cfg.IVR.Location())
	}
}

func TestIVREnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("SWITCHBOARD_IVR_TIMEZONE", "Europe/Berlin")
	t.Setenv("SWITCHBOARD_IVR_VARIABLES", "tier,account")
	t.Setenv("SWITCHBOARD_IVR_FLOWS_DIR", "/etc/switchboard/flows")
	t.Setenv("SWITCHBOARD_IVR_LOOKUP_MAX_BODY", "1024")
	cfg, err := config.LoadBytes("x.yaml", []byte(creds))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IVR.Timezone != "Europe/Berlin" || !reflect.DeepEqual(cfg.IVR.Variables, []string{"tier", "account"}) ||
		cfg.FlowsPath() != "/etc/switchboard/flows" || cfg.IVR.LookupMaxBody != 1024 || cfg.IVR.Location().String() != "Europe/Berlin" {
		t.Errorf("IVR = %+v", cfg.IVR)
	}
	t.Setenv("SWITCHBOARD_IVR_TIMEZONE", "Nowhere")
	_, err = config.LoadBytes("x.yaml", []byte(creds))
	check(t, problems(t, err), []string{`env SWITCHBOARD_IVR_TIMEZONE: ivr.timezone: unknown time zone "Nowhere"`})
}

func TestPathAndFlowsPath(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "sb.yaml")
	if err := os.WriteFile(file, []byte(creds+"ivr:\n  flows_dir: flows\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	cfg, err := config.Load("sb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != file || cfg.FlowsPath() != filepath.Join(dir, "flows") {
		t.Errorf("Path %q FlowsPath %q", cfg.Path, cfg.FlowsPath())
	}
	cfg.IVR.FlowsDir = "/abs/flows"
	if cfg.FlowsPath() != "/abs/flows" {
		t.Errorf("FlowsPath = %q", cfg.FlowsPath())
	}
	cfg.IVR.FlowsDir = ""
	if cfg.FlowsPath() != "" {
		t.Errorf("FlowsPath = %q", cfg.FlowsPath())
	}
	demo, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if demo.Path != "" {
		t.Errorf("Demo Path = %q", demo.Path)
	}
}

func TestDemoIVR(t *testing.T) {
	clearEnv(t)
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.QueueNames(); !reflect.DeepEqual(got, []string{"sales", "support", "outbound"}) {
		t.Errorf("queues = %v", got)
	}
	if r, ok := cfg.IVR.Route("5551234"); !ok || r.Flow != "main" || r.Calendar != "" {
		t.Errorf("route = %+v %v", r, ok)
	}
	if _, ok := cfg.Flows["main"]; !ok {
		t.Errorf("flows = %v", cfg.Flows)
	}
	set, err := cfg.CalendarSet()
	if err != nil {
		t.Fatal(err)
	}
	// Open around the clock: the demo behaves the same at any hour.
	for _, at := range []time.Time{time.Date(2026, 12, 25, 3, 0, 0, 0, time.UTC), time.Date(2026, 6, 7, 23, 59, 0, 0, time.UTC)} {
		if !set.IsOpen("support-hours", at) {
			t.Errorf("demo calendar closed at %v", at)
		}
	}
}

// TestExampleIVR: the example deployment's calendars, queues and routes.
func TestExampleIVR(t *testing.T) {
	clearEnv(t)
	cfg, err := config.Load(filepath.Join("..", "configs", "switchboard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.QueueNames(); !reflect.DeepEqual(got, []string{"sales", "support", "billing"}) {
		t.Errorf("queues = %v", got)
	}
	abs, _ := filepath.Abs(filepath.Join("..", "configs", "flows"))
	if cfg.FlowsPath() != abs {
		t.Errorf("FlowsPath = %q, want %q", cfg.FlowsPath(), abs)
	}
	if r, _ := cfg.IVR.Route("8000"); r.Calendar != "support-hours" || r.ClosedFlow != "after-hours" {
		t.Errorf("route 8000 = %+v", r)
	}
	set, err := cfg.CalendarSet()
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	for _, tt := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 12, 24, 13, 59, 0, 0, ny), true},
		{time.Date(2026, 12, 24, 14, 0, 0, 0, ny), false},
		{time.Date(2026, 12, 25, 10, 0, 0, 0, ny), false},
		{time.Date(2026, 12, 28, 8, 0, 0, 0, ny), true},
	} {
		if got := set.IsOpen("support-hours", tt.at); got != tt.open {
			t.Errorf("open at %v = %v", tt.at, got)
		}
	}
}

// TestCalendarSetInCode: a Config built in code reports calendar problems
// from CalendarSet and Validate.
func TestCalendarSetInCode(t *testing.T) {
	cfg := config.Default()
	cfg.Asterisk.Username, cfg.Asterisk.Password = "u", "p"
	cfg.Calendars = map[string]calendarDef{"x": {Timezone: "Nowhere"}}
	if _, err := cfg.CalendarSet(); err == nil || err.Error() != `calendars.x.timezone: unknown time zone "Nowhere" (an IANA name such as America/New_York or UTC)` {
		t.Errorf("CalendarSet error = %v", err)
	}
	check(t, problems(t, cfg.Validate(nil)), []string{`calendars.x.timezone: unknown time zone`})
}
