package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard/switchboard/config"
)

// creds is the smallest file that validates: the Asterisk credentials
// (lines 1-3), so that cases appended after it start at line 4.
const creds = "asterisk:\n  username: u\n  password: p\n"

// problems returns the problem lines of a *ValidationError.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %T %v is not a *ValidationError", err, err)
	}
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.String())
	}
	if got := strings.Join(out, "\n"); got != err.Error() {
		t.Errorf("Error() = %q, want the problems joined by lines %q", err.Error(), got)
	}
	return out
}

// check compares problems with wanted prefixes, in order, one for one.
func check(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("problems:\n  %s\nwant (prefixes):\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// clearEnv unsets every SWITCHBOARD_* variable for the test.
func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SWITCHBOARD_") {
			t.Setenv(k, "")
		}
	}
}

func TestValidationRules(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"valid minimal", creds, nil},
		{"log level", creds + "log:\n  level: loud\n", []string{`x.yaml:5: log.level: must be debug, info, warn or error, got "loud"`}},
		{"log format", creds + "log:\n  format: xml\n", []string{`x.yaml:5: log.format: must be text or json, got "xml"`}},
		{"http listen", creds + "http:\n  listen: 8080\n", []string{`x.yaml:5: http.listen: must be host:port`}},
		{"http listen port", creds + "http:\n  listen: ':99999'\n", []string{`x.yaml:5: http.listen: port must be a number 0-65535, got "99999"`}},
		{"http listen empty", creds + "http:\n  listen: ''\n", []string{`x.yaml:5: http.listen: is required`}},
		{"dsn empty", creds + "database:\n  dsn: ''\n", []string{`x.yaml:5: database.dsn: is required`}},
		{"bad duration", creds + "  request_timeout: 5 seconds\n", []string{`x.yaml:4: asterisk.request_timeout: invalid duration "5 seconds"`}},
		{"duration without unit", creds + "  reconnect_min: 5\n", []string{`x.yaml:4: asterisk.reconnect_min: invalid duration 5: give a unit, e.g. 5s`}},
		{"duration as a list", creds + "  reconnect_min: [1s]\n", []string{`x.yaml:4: asterisk.reconnect_min: expected a duration such as 5s`}},
		{"zero duration", creds + "  request_timeout: 0s\n", []string{`x.yaml:4: asterisk.request_timeout: must be a positive duration, got 0s`}},
		{"negative duration", creds + "center:\n  agent_ring_timeout: -1s\n", []string{`x.yaml:5: center.agent_ring_timeout: must be a positive duration, got -1s`}},
		{"reconnect order", creds + "  reconnect_min: 10s\n  reconnect_max: 1s\n", []string{`x.yaml:5: asterisk.reconnect_max: must not be less than asterisk.reconnect_min (10s), got 1s`}},
		{"queue limit", creds + "  event_queue_limit: 0\n", []string{`x.yaml:4: asterisk.event_queue_limit: must be positive, got 0`}},
		{"queue limit not a number", creds + "  event_queue_limit: lots\n", []string{`x.yaml:4: asterisk.event_queue_limit: expected a whole number, got "lots"`}},
		{"max connections", creds + "  max_connections: 1\n", []string{`x.yaml:4: asterisk.max_connections: must be 2-10000 (one is the events websocket; keep it below sessionlimit in Asterisk's http.conf, default 100), got 1`}},
		{"max connections too many", creds + "  max_connections: 20000\n", []string{`x.yaml:4: asterisk.max_connections: must be 2-10000`}},
		{"max connections not a number", creds + "  max_connections: 1.5\n", []string{`x.yaml:4: asterisk.max_connections: expected a whole number, got 1.5`}},
		{"overload", creds + "  overload:\n    window: 500ms\n    min_requests: 0\n    failure_ratio: 1.5\n    p95_latency: 0s\n", []string{
			`x.yaml:5: asterisk.overload.window: must be at least 1s, got 500ms`,
			`x.yaml:6: asterisk.overload.min_requests: must be at least 1, got 0`,
			`x.yaml:7: asterisk.overload.failure_ratio: must be a share in (0, 1], e.g. 0.2, got 1.5`,
			`x.yaml:8: asterisk.overload.p95_latency: must be a positive duration, got 0s`,
		}},
		{"overload ratio zero", creds + "  overload:\n    failure_ratio: 0\n", []string{`x.yaml:5: asterisk.overload.failure_ratio: must be a share in (0, 1]`}},
		{"overload ratio not a number", creds + "  overload:\n    failure_ratio: most\n", []string{`x.yaml:5: asterisk.overload.failure_ratio:`}},
		{"url scheme", creds + "  url: ftp://pbx/ari\n", []string{`x.yaml:4: asterisk.url: scheme must be http or https, got "ftp"`}},
		{"url no host", creds + "  url: http:///ari\n", []string{`x.yaml:4: asterisk.url: has no host`}},
		{"url unparsable", creds + "  url: \"http://pbx:80:80/%zz\"\n", []string{`x.yaml:4: asterisk.url: is not a valid URL`}},
		{"websocket url", creds + "  websocket_url: http://pbx/ari/events\n", []string{`x.yaml:4: asterisk.websocket_url: scheme must be ws or wss, got "http"`}},
		{"no credentials", "asterisk:\n  url: http://pbx:8088/ari\n", []string{
			`x.yaml:1: asterisk.username: is required when asterisk.url is set`,
			`x.yaml:1: asterisk.password: is required when asterisk.url is set`,
		}},
		{"no url, no credentials", "asterisk:\n  url: ''\n", nil},
		{"application", creds + "  application: 'my app'\n", []string{`x.yaml:4: asterisk.application: must be a Stasis application name`}},
		{"media", creds + "center:\n  greeting: [sound:hello, hello, 'tone:']\n  no_agent_prompt:\n    - sound:vm-goodbye\n    - bogus:thing\n", []string{
			`x.yaml:5: center.greeting[1]: media "hello" has an unknown scheme: want sound:, recording:, digits:, number:, characters: or tone:`,
			`x.yaml:5: center.greeting[2]: media "tone:" names nothing after tone:`,
			`x.yaml:8: center.no_agent_prompt[1]: media "bogus:thing" has an unknown scheme: want sound:`,
		}},
		{"agents", creds + `agents:
  - {id: "1001", endpoint: PJSIP/1001}
  - {id: "1001", endpoint: pjsip/1001}
  - {name: nobody}
  - {id: "1004", endpoint: "1004"}
  - id: "1005"
    endpoint: PJSIP /1005
`, []string{
			`x.yaml:6: agents[1].id: duplicate agent id "1001" (also agents[0])`,
			`x.yaml:6: agents[1].endpoint: duplicate endpoint "pjsip/1001" (also agents[0])`,
			`x.yaml:7: agents[2].id: is required`,
			`x.yaml:7: agents[2].endpoint: is required`,
			`x.yaml:8: agents[3].endpoint: must be Technology/Resource, e.g. PJSIP/1001, got "1004"`,
			`x.yaml:10: agents[4].endpoint: must be Technology/Resource`,
		}},
		{"tokens", creds + `api:
  tokens:
    - name: ops
      role: root
      sha256: 91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37
    - name: ops
      role: agent
      sha256: not-hex
    - role: admin
      sha256: 91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd3z
`, []string{
			`x.yaml:7: api.tokens[0].role: must be admin, supervisor or agent, got "root"`,
			`x.yaml:9: api.tokens[1].name: duplicate token name "ops" (also api.tokens[0])`,
			`x.yaml:11: api.tokens[1].sha256: must be 64 hex digits (the output of ` + "`switchboard token hash`" + `), got 7 characters`,
			`x.yaml:12: api.tokens[2].name: is required`,
			`x.yaml:13: api.tokens[2].sha256: must be 64 hex digits`,
		}},
		{"token queues", creds + `queues:
  - name: sales
  - name: support
api:
  tokens:
    - name: sales-lead
      role: supervisor
      sha256: 91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37
      queues:
        - sales
        - outbound
        - sales
    - name: ops
      role: admin
      sha256: 81c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37
      queues: [support]
    - name: wallboard
      role: supervisor
      sha256: 71c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37
`, []string{
			`x.yaml:14: api.tokens[0].queues[1]: unknown queue "outbound" (queues: sales, support)`,
			`x.yaml:15: api.tokens[0].queues[2]: queue "sales" is listed twice (also api.tokens[0].queues[0])`,
			`x.yaml:19: api.tokens[1].queues: only supervisor tokens have a queue scope`,
		}},
		{"plaintext token", creds + "api:\n  tokens:\n    - name: ops\n      role: admin\n      token: s3cret\n", []string{
			`x.yaml:6: api.tokens[0].sha256: is required`,
			"x.yaml:8: api.tokens[0].token: plaintext tokens are not accepted: run `switchboard token hash`",
		}},
		{"supervisors", creds + "queues:\n  - name: sales\nsupervisors:\n  - name: dana\n    endpoint: desk\n    token: nobody\n    queues: [sales, nosuch]\n  - name: dana\n    endpoint: PJSIP/1010\n", []string{
			`x.yaml:8: supervisors[0].endpoint: must be Technology/Resource (e.g. PJSIP/1010), got "desk"`,
			`x.yaml:9: supervisors[0].token: no api token named "nobody"`,
			`x.yaml:10: supervisors[0].queues[1]: unknown queue "nosuch"`,
			`x.yaml:11: supervisors[1].name: duplicate supervisor "dana"`,
		}},
		{"recording", creds + "recording:\n  dir: ''\n  purge_interval: 0s\n  policies:\n    default: {mode: sometimes}\n", []string{
			`x.yaml:5: recording.dir: is required (the folder recordings are stored in)`,
			`x.yaml:6: recording.purge_interval: must be a positive duration, got 0s`,
			`x.yaml:7: recording.policies: default: mode "sometimes" is not one of`,
		}},
		{"demo", creds + "demo:\n  speed: 0\n  callers_per_minute: -1\n  talk_mean: 0s\n  patience_mean: fast\n  agents: -2\n  seed: x\n", []string{
			`x.yaml:5: demo.speed: must be a number of simulated seconds per second`,
			`x.yaml:6: demo.callers_per_minute: must be in [0, 1000000], got -1`,
			`x.yaml:7: demo.talk_mean: must be a positive duration, got 0s`,
			`x.yaml:8: demo.patience_mean: invalid duration "fast"`,
			`x.yaml:9: demo.agents: must not be negative, got -2`,
			`x.yaml:10: demo.seed: expected a whole number, got "x"`,
		}},
		{"unknown keys", creds + "  pasword: p\nlogging:\n  level: debug\nagents:\n  - {id: a, endpoint: PJSIP/a, phone: x}\n", []string{
			`x.yaml:4: asterisk.pasword: unknown key (did you mean asterisk.password?)`,
			`x.yaml:5: logging: unknown key`,
			`x.yaml:8: agents[0].phone: unknown key`,
		}},
		{"section is a list", creds + "log: [info]\n", []string{`x.yaml:4: log: expected a mapping, got a list`}},
		{"value is a mapping", creds + "log:\n  level: {a: b}\n", []string{`x.yaml:5: log.level: expected a string, got a mapping`}},
		{"agents is a mapping", creds + "agents:\n  id: a\n", []string{`x.yaml:4: agents: expected a list, got a mapping`}},
		{"agent is a list", creds + "agents:\n  - [a]\n", []string{`x.yaml:5: agents[0]: expected a mapping, got a list`}},
		{"whole numbers", creds + "demo:\n  agents: 1.5\n  seed: 99999999999999999999999\n", []string{
			`x.yaml:5: demo.agents: expected a whole number, got 1.5`,
			`x.yaml:6: demo.seed: expected a whole number, got 1e+23`,
		}},
		{"yaml syntax", creds + "log:\n  level: [info\n", []string{`x.yaml:`}},
		{"not a mapping", "- a\n- b\n", []string{`x.yaml:1: the configuration must be a mapping`}},
		{"every problem at once", "log:\n  level: loud\n  format: xml\nasterisk:\n  request_timeout: soon\n", []string{
			`x.yaml:2: log.level:`,
			`x.yaml:3: log.format:`,
			`x.yaml:4: asterisk.username:`,
			`x.yaml:4: asterisk.password:`,
			`x.yaml:5: asterisk.request_timeout:`,
		}},
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

func TestDefaultsKept(t *testing.T) {
	clearEnv(t)
	cfg, err := config.LoadBytes("x.yaml", []byte(creds))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Asterisk.Username, want.Asterisk.Password = "u", "p"
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("got %+v\nwant %+v", *cfg, want)
	}

	// A list replaces the default whole, shorter, longer or empty.
	for _, tt := range []struct {
		yaml string
		want []string
	}{
		{"center:\n  greeting: []\n", []string{}},
		{"center:\n  greeting: [sound:a, sound:b]\n", []string{"sound:a", "sound:b"}},
		{"center:\n  greeting: ~\n", []string{"sound:hello-world"}},
	} {
		cfg, err := config.LoadBytes("x.yaml", []byte(creds+tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Center.Greeting) != len(tt.want) || (len(tt.want) > 0 && !reflect.DeepEqual(cfg.Center.Greeting, tt.want)) {
			t.Errorf("%q: greeting %q, want %q", tt.yaml, cfg.Center.Greeting, tt.want)
		}
	}
	if d := config.Default(); d.Center.Greeting[0] != "sound:hello-world" {
		t.Errorf("loading changed the defaults: %q", d.Center.Greeting)
	}
}

func TestCaseInsensitiveKeys(t *testing.T) {
	clearEnv(t)
	cfg, err := config.LoadBytes("x.yaml", []byte(creds+"Log:\n  Level: debug\nagents:\n  - {ID: a, Endpoint: PJSIP/a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" || len(cfg.Agents) != 1 || cfg.Agents[0].Endpoint != "PJSIP/a" {
		t.Errorf("got %+v %+v", cfg.Log, cfg.Agents)
	}
}

func TestEnvOverride(t *testing.T) {
	clearEnv(t)
	t.Setenv("SWITCHBOARD_ASTERISK_PASSWORD", "from-env")
	t.Setenv("SWITCHBOARD_ASTERISK_USERNAME", "") // empty: ignored
	t.Setenv("SWITCHBOARD_CENTER_AGENT_RING_TIMEOUT", "7s")
	t.Setenv("SWITCHBOARD_CENTER_GREETING", "sound:a,sound:b")
	t.Setenv("SWITCHBOARD_ASTERISK_EVENT_QUEUE_LIMIT", "42")
	t.Setenv("SWITCHBOARD_DEMO_SPEED", "2.5")
	t.Setenv("SWITCHBOARD_HTTP_LISTEN", ":9090") // not in the file at all
	cfg, err := config.LoadBytes("x.yaml", []byte(creds+"center:\n  agent_ring_timeout: 20s\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{cfg.Asterisk.Username, cfg.Asterisk.Password, cfg.Center.AgentRingTimeout,
		cfg.Center.Greeting, cfg.Asterisk.EventQueueLimit, cfg.Demo.Speed, cfg.HTTP.Listen}
	want := []any{"u", "from-env", 7 * time.Second, []string{"sound:a", "sound:b"}, 42, 2.5, ":9090"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	// Problems with values from the environment name the variable.
	t.Setenv("SWITCHBOARD_ASTERISK_REQUEST_TIMEOUT", "5 seconds")
	t.Setenv("SWITCHBOARD_ASTERISK_URL", "ws://pbx/ari")
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "loud")
	_, err = config.LoadBytes("x.yaml", []byte(creds+"log:\n  level: info\n"))
	check(t, problems(t, err), []string{
		`env SWITCHBOARD_ASTERISK_REQUEST_TIMEOUT: asterisk.request_timeout: invalid duration "5 seconds"`,
		`env SWITCHBOARD_LOG_LEVEL: log.level: must be debug, info, warn or error, got "loud"`,
		`env SWITCHBOARD_ASTERISK_URL: asterisk.url: scheme must be http or https, got "ws"`,
	})
}

func TestEnvNames(t *testing.T) {
	if got := config.EnvName("asterisk.password"); got != "SWITCHBOARD_ASTERISK_PASSWORD" {
		t.Errorf("EnvName = %s", got)
	}
	if got := config.EnvName("center.agent_ring_timeout"); got != "SWITCHBOARD_CENTER_AGENT_RING_TIMEOUT" {
		t.Errorf("EnvName = %s", got)
	}
}

// TestSecretsNotEchoed: no message repeats a password or token value, and
// Redacted hides them.
func TestSecretsNotEchoed(t *testing.T) {
	clearEnv(t)
	const pw, tok = "hunter2-pw", "plain-s3cret-token"
	_, err := config.LoadBytes("x.yaml", []byte(`asterisk:
  username: u
  password: [`+pw+`]
api:
  tokens:
    - {name: a, role: admin, token: `+tok+`}
    - {name: b, role: admin, sha256: `+tok+`}
    - {name: c, role: admin, sha256: [`+tok+`]}
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, secret := range []string{pw, tok} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error echoes a secret:\n%v", err)
		}
	}
	t.Setenv("SWITCHBOARD_ASTERISK_PASSWORD", pw)
	t.Setenv("SWITCHBOARD_ASTERISK_URL", "http://user:"+pw+"@pbx:8088/ari")
	cfg, err := config.LoadBytes("x.yaml", []byte(creds+"api:\n  tokens: [{name: a, role: admin, sha256: "+config.HashToken(tok)+"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redacted()
	out, _ := yaml.Marshal(r)
	if strings.Contains(string(out), pw) || strings.Contains(string(out), config.HashToken(tok)) {
		t.Errorf("Redacted shows a secret:\n%s", out)
	}
	if r.Asterisk.Password != "***" || r.API.Tokens[0].SHA256 != "***" {
		t.Errorf("Redacted = %+v", r)
	}
	if cfg.Asterisk.Password != pw || cfg.API.Tokens[0].SHA256 != config.HashToken(tok) {
		t.Error("Redacted changed the original")
	}
}

func TestDemo(t *testing.T) {
	clearEnv(t)
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Agents) != 8 {
		t.Fatalf("demo agents = %+v", cfg.Agents)
	}
	for i, a := range cfg.Agents {
		id := []string{"1001", "1002", "1003", "1004", "1005", "2001", "2002", "2003"}[i]
		if a.ID != id || a.Endpoint != "PJSIP/"+id {
			t.Errorf("agent %d = %+v", i, a)
		}
	}
	tok, ok := cfg.API.Lookup("demo-admin-token")
	if !ok || tok.Role != config.RoleAdmin {
		t.Errorf("demo admin token not accepted: %+v %v", tok, ok)
	}
	if _, ok := cfg.API.Lookup("demo-admin-token "); ok {
		t.Error("a different token was accepted")
	}
	if cfg.Asterisk.Username == "" || cfg.Asterisk.Password == "" {
		t.Error("demo has no simulator credentials")
	}
	if len(cfg.API.Tokens) != 1 || cfg.API.Tokens[0].SHA256 != config.HashToken("demo-admin-token") {
		t.Errorf("demo tokens = %+v", cfg.API.Tokens)
	}
}

// TestExampleConfig: the documented example for a real Asterisk loads,
// validates, and takes its password from the environment.
func TestExampleConfig(t *testing.T) {
	clearEnv(t)
	t.Setenv("SWITCHBOARD_ASTERISK_PASSWORD", "real-secret")
	cfg, err := config.Load(filepath.Join("..", "configs", "switchboard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Asterisk.URL != "http://asterisk:8088/ari" || cfg.Asterisk.Username != "switchboard" ||
		cfg.Asterisk.Password != "real-secret" || cfg.Database.DSN != "/var/lib/switchboard/switchboard.db" ||
		cfg.HTTP.Listen != "0.0.0.0:8080" || len(cfg.Agents) != 10 || cfg.Agents[9].Endpoint != "PJSIP/1010" {
		t.Errorf("example config = %+v", cfg)
	}
	if got := cfg.Asterisk.EventsURL(); got != "ws://asterisk:8088/ari/events" {
		t.Errorf("EventsURL = %s", got)
	}
	// The shipped Asterisk takes more HTTP sessions than Switchboard holds,
	// with room to spare.
	limit := sessionLimit(t, filepath.Join("..", "configs", "asterisk", "http.conf"))
	if mc := cfg.Asterisk.MaxConnections; mc <= 0 || mc > limit/2 {
		t.Errorf("asterisk.max_connections %d does not fit well below http.conf's sessionlimit %d", mc, limit)
	}
}

// sessionLimit reads sessionlimit from the [general] section of an
// Asterisk http.conf (Asterisk's default, 100, when unset).
func sessionLimit(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	limit, section := 100, ""
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, ";")
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		case section == "general":
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(k) == "sessionlimit" {
				n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(v, ">")))
				if err != nil {
					t.Fatalf("%s:%d: sessionlimit %q is not a number", path, i+1, v)
				}
				limit = n
			}
		}
	}
	return limit
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(missing) = %v", err)
	}
}

// TestValidateInCode: a Config built in code is validated without places.
func TestValidateInCode(t *testing.T) {
	cfg := config.Default()
	cfg.Agents = []config.Agent{{ID: "a", Endpoint: "PJSIP/a"}, {ID: "a", Endpoint: "PJSIP/b"}}
	check(t, problems(t, cfg.Validate(nil)), []string{
		"asterisk.username: is required",
		"asterisk.password: is required",
		`agents[1].id: duplicate agent id "a"`,
	})
	cfg.Asterisk.Username, cfg.Asterisk.Password = "u", "p"
	cfg.Agents[1].ID = "b"
	if err := cfg.Validate(nil); err != nil {
		t.Error(err)
	}
}

// TestMarshalRoundTrip: a Config written as YAML (yaml tags) reads back
// the same (mapstructure tags): the two sets of tags agree.
func TestMarshalRoundTrip(t *testing.T) {
	clearEnv(t)
	want, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	want.Center.AgentCallerID = "Switchboard <100>"
	want.Asterisk.WebsocketURL = "ws://127.0.0.1:8088/ari/events"
	out, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadBytes("marshalled", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestHashToken(t *testing.T) {
	if got := config.HashToken("demo-admin-token"); got != "91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37" {
		t.Errorf("HashToken = %s", got)
	}
	api := config.API{Tokens: []config.Token{
		{Name: "bad", Role: "agent", SHA256: "zz"},
		{Name: "upper", Role: "supervisor", SHA256: strings.ToUpper(config.HashToken("t"))},
	}}
	if tok, ok := api.Lookup("t"); !ok || tok.Name != "upper" {
		t.Errorf("Lookup = %+v %v", tok, ok)
	}
	if _, ok := api.Lookup("zz"); ok {
		t.Error("Lookup accepted a token against a malformed hash")
	}
}

func TestEventsURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://pbx:8088/ari":       "ws://pbx:8088/ari/events",
		"https://pbx/ari/":          "wss://pbx/ari/events",
		"http://u:p@pbx:8088/a/ari": "ws://u:p@pbx:8088/a/ari/events",
		"":                          "",
	} {
		if got := (config.Asterisk{URL: in}).EventsURL(); got != want {
			t.Errorf("EventsURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (config.Asterisk{URL: "http://a/ari", WebsocketURL: "ws://b/events"}).EventsURL(); got != "ws://b/events" {
		t.Errorf("explicit websocket_url ignored: %s", got)
	}
}
