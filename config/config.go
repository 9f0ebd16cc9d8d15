// Package config loads Switchboard's configuration: defaults in code, then
// one YAML file, then SWITCHBOARD_* environment variables, decoded strictly
// (an unknown key is an error) and validated as a whole, so that one run of
// `switchboard validate` lists every problem with the file and line (or the
// environment variable) it comes from.
//
// The environment overrides any scalar or list-of-strings key: the key path
// in upper case, dots and nothing else replaced by underscores, prefixed with
// SWITCHBOARD_. asterisk.password is SWITCHBOARD_ASTERISK_PASSWORD and
// center.agent_ring_timeout is SWITCHBOARD_CENTER_AGENT_RING_TIMEOUT; a list
// is given comma-separated. Lists of objects (agents, api.tokens, queues,
// ivr.routes) and mappings by name (calendars, flows) come from the file
// only.
package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/recording"
)

// Config is the whole configuration. Every key is documented in
// docs/configuration.md; a test keeps that page, configs/switchboard.yaml
// and this struct in step.
type Config struct {
	Log      Log          `mapstructure:"log" yaml:"log"`
	HTTP     HTTP         `mapstructure:"http" yaml:"http"`
	Database Database     `mapstructure:"database" yaml:"database"`
	Asterisk Asterisk     `mapstructure:"asterisk" yaml:"asterisk"`
	Center   Center       `mapstructure:"center" yaml:"center"`
	Agents   []Agent      `mapstructure:"agents" yaml:"agents"`
	API      API          `mapstructure:"api" yaml:"api"`
	Demo     DemoSettings `mapstructure:"demo" yaml:"demo"`
	// Calendars are business hours by name (lower case: keys are
	// case-insensitive), for routes and calendar("name") in IVR flows.
	// CalendarSet builds them.
	Calendars map[string]calendar.Def `mapstructure:"calendars" yaml:"calendars,omitempty"`
	// Queues are where callers wait for an agent (keys: see sb.Queue).
	Queues []sb.Queue `mapstructure:"queues" yaml:"queues,omitempty"`
	// IVR configures the IVR: where flows are, how calls are routed to
	// them, and what they may do.
	IVR IVR `mapstructure:"ivr" yaml:"ivr"`
	// Recording configures call recording.
	Recording Recording `mapstructure:"recording" yaml:"recording"`
	// Routing chooses how agents are picked for queued calls.
	Routing Routing `mapstructure:"routing" yaml:"routing"`
	// Supervisors may listen to, whisper to and barge into agents' calls.
	Supervisors []Supervisor `mapstructure:"supervisors" yaml:"supervisors,omitempty"`
	// Flows holds IVR flows written in the configuration file itself. The
	// config package accepts the key but does not interpret it: ivr.LoadFiles
	// reads the same file again, with line numbers and node names as written
	// (this copy went through the decoder, which lower-cases mapping keys).
	Flows map[string]any `mapstructure:"flows" yaml:"flows,omitempty"`

	// Path is the absolute path of the file Load read; empty for LoadBytes,
	// Demo and a Config built in code. Not a configuration key: give it to the
	// IVR loader (flows in the main file) and see FlowsPath.
	Path string `mapstructure:"-" yaml:"-"`
}

// Recording configures call recording: where files go and which calls
// are recorded.
type Recording struct {
	// Dir is the recordings folder; a relative path is relative to the
	// configuration file's folder (the working directory for the demo).
	Dir string `mapstructure:"dir" yaml:"dir"`
	// SharedDir, when set, is Asterisk's recording folder mounted here:
	// finished recordings are read from it instead of fetched over ARI.
	SharedDir string `mapstructure:"shared_dir" yaml:"shared_dir,omitempty"`
	// DeleteFromPBX deletes Asterisk's copy once the file is stored and
	// verified.
	DeleteFromPBX bool `mapstructure:"delete_from_pbx" yaml:"delete_from_pbx"`
	// PurgeInterval is how often retention runs.
	PurgeInterval time.Duration `mapstructure:"purge_interval" yaml:"purge_interval"`
	// Policies say which calls are recorded and how long files are kept,
	// by default and per queue or campaign.
	Policies recording.Policies `mapstructure:"policies" yaml:"policies"`
}

// RecordingPath returns recording.dir resolved against the configuration
// file's folder.
func (c *Config) RecordingPath() string {
	dir := c.Recording.Dir
	if dir == "" || filepath.IsAbs(dir) || c.Path == "" {
		return dir
	}
	return filepath.Join(filepath.Dir(c.Path), dir)
}

// IVR configures the IVR.
type IVR struct {
	// FlowsDir is a folder of flow files (*.yaml, *.yml, recursively); a
	// relative path is relative to the configuration file's folder (see
	// Config.FlowsPath). Empty: no folder, only flows in this file.
	FlowsDir string `mapstructure:"flows_dir" yaml:"flows_dir"`
	// Timezone is the IANA zone of hour, minute, weekday, date and time in
	// flow expressions.
	Timezone string `mapstructure:"timezone" yaml:"timezone"`
	// Variables are the variables routing passes in to a flow (declared
	// without a setter in the flow).
	Variables []string `mapstructure:"variables" yaml:"variables,omitempty"`
	// TransferContext is the dialplan context a transfer to an extension
	// dials in (Local/EXT@context).
	TransferContext string `mapstructure:"transfer_context" yaml:"transfer_context"`
	// TrunkTemplate is the endpoint a transfer to an external number dials;
	// ${number} is replaced by the number.
	TrunkTemplate string `mapstructure:"trunk_template" yaml:"trunk_template"`
	// Routes choose the flow of an incoming call by the dialed number (DNIS)
	// and a calendar; the first route whose dnis matches exactly wins, then
	// the "*" route.
	Routes []Route `mapstructure:"routes" yaml:"routes,omitempty"`
	// LookupMaxBody bounds the response body a lookup node reads, in bytes.
	LookupMaxBody int64 `mapstructure:"lookup_max_body" yaml:"lookup_max_body"`
	// VoicemailWebhook, when set, receives a POST with each new voicemail
	// message's metadata (JSON: {"event": "voicemail.new", "voicemail": {...}}).
	VoicemailWebhook string `mapstructure:"voicemail_webhook" yaml:"voicemail_webhook,omitempty"`
}

// Location returns the zone of Timezone, UTC if it does not load (Validate
// reports that).
func (i IVR) Location() *time.Location {
	loc, err := time.LoadLocation(i.Timezone)
	if err != nil || i.Timezone == "" {
		return time.UTC
	}
	return loc
}

// Route sends calls to a dialed number into a flow.
type Route struct {
	// DNIS is the dialed number, matched exactly, or "*" for any number no
	// other route matches.
	DNIS string `mapstructure:"dnis" yaml:"dnis"`
	// Flow is the flow calls enter (checked by the IVR loader).
	Flow string `mapstructure:"flow" yaml:"flow"`
	// Calendar, when set, names the calendar that must be open for Flow;
	// while it is closed, calls enter ClosedFlow.
	Calendar string `mapstructure:"calendar" yaml:"calendar,omitempty"`
	// ClosedFlow is the flow while Calendar is closed; required with it.
	ClosedFlow string `mapstructure:"closed_flow" yaml:"closed_flow,omitempty"`
}

// Route returns the route for a dialed number: the route with that exact
// dnis, else the "*" route.
func (i IVR) Route(dnis string) (Route, bool) {
	for _, r := range i.Routes {
		if r.DNIS == dnis {
			return r, true
		}
	}
	for _, r := range i.Routes {
		if r.DNIS == "*" {
			return r, true
		}
	}
	return Route{}, false
}

// FlowsPath returns ivr.flows_dir resolved against the folder of the file
// Load read (against the working directory for LoadBytes), or "" when no
// folder is configured.
func (c *Config) FlowsPath() string {
	dir := c.IVR.FlowsDir
	if dir == "" || filepath.IsAbs(dir) || c.Path == "" {
		return dir
	}
	return filepath.Join(filepath.Dir(c.Path), dir)
}

// QueueNames returns the configured queues' names, in file order.
func (c *Config) QueueNames() []string {
	names := make([]string, len(c.Queues))
	for i, q := range c.Queues {
		names[i] = string(q.Name)
	}
	return names
}

// QueueWait returns how long a caller waits in q for an agent: its
// wait_for_agent, or center.wait_for_agent when it has none.
func (c *Config) QueueWait(q sb.Queue) time.Duration {
	if q.WaitForAgent > 0 {
		return q.WaitForAgent
	}
	return c.Center.WaitForAgent
}

// CalendarSet builds the configured calendars. A Config from Load has been
// validated and does not fail; one built in code may, with a
// *ValidationError.
func (c *Config) CalendarSet() (calendar.Set, error) {
	p := newProblems(nil)
	set := c.buildCalendars(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// Log configures logging (log/slog).
type Log struct {
	// Level is the least severe level logged: debug, info, warn or error.
	Level string `mapstructure:"level" yaml:"level"`
	// Format is text (human-readable key=value) or json (one object a line).
	Format string `mapstructure:"format" yaml:"format"`
}

// HTTP configures the REST API, event stream, metrics and web UI listener.
type HTTP struct {
	// Listen is the host:port to listen on; port 0 picks a free port.
	Listen string `mapstructure:"listen" yaml:"listen"`
	// ReadTimeout bounds reading a request, headers and body: a client
	// that sends its body slowly is cut off.
	ReadTimeout time.Duration `mapstructure:"read_timeout" yaml:"read_timeout"`
	// WriteTimeout bounds writing a response. The event stream and
	// recording downloads set their own deadlines as they go.
	WriteTimeout time.Duration `mapstructure:"write_timeout" yaml:"write_timeout"`
	// IdleTimeout closes a kept-alive connection with no request for
	// that long.
	IdleTimeout time.Duration `mapstructure:"idle_timeout" yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int `mapstructure:"max_header_bytes" yaml:"max_header_bytes"`
	// MaxConnections caps the open connections; one over the cap is
	// answered 503 and closed.
	MaxConnections int `mapstructure:"max_connections" yaml:"max_connections"`
}

// Database configures the store.
type Database struct {
	// DSN is the SQLite database file (created if missing), or ":memory:".
	DSN string `mapstructure:"dsn" yaml:"dsn"`
}

// Asterisk configures the ARI connection.
type Asterisk struct {
	// URL is the ARI base URL, http or https, ending in /ari.
	URL string `mapstructure:"url" yaml:"url"`
	// WebsocketURL is the ARI events URL; empty means derived from URL (see
	// EventsURL).
	WebsocketURL string `mapstructure:"websocket_url" yaml:"websocket_url"`
	// Username and Password are the ARI user of Asterisk's ari.conf.
	Username string `mapstructure:"username" yaml:"username"`
	Password string `mapstructure:"password" yaml:"password"`
	// Application is the Stasis application name the dialplan sends calls to.
	Application string `mapstructure:"application" yaml:"application"`
	// RequestTimeout bounds one ARI REST request.
	RequestTimeout time.Duration `mapstructure:"request_timeout" yaml:"request_timeout"`
	// ReconnectMin and ReconnectMax bound the exponential back-off between
	// attempts to re-establish the events websocket.
	ReconnectMin time.Duration `mapstructure:"reconnect_min" yaml:"reconnect_min"`
	ReconnectMax time.Duration `mapstructure:"reconnect_max" yaml:"reconnect_max"`
	// EventQueueLimit is how many received events may wait for processing;
	// beyond it the adapter reports overflow instead of dropping silently.
	EventQueueLimit int `mapstructure:"event_queue_limit" yaml:"event_queue_limit"`
	// MaxConnections caps the HTTP connections to ARI, open or idle, the
	// events websocket included. Asterisk serves at most http.conf's
	// sessionlimit (default 100) and closes connections past it with no
	// answer: keep it below.
	MaxConnections int `mapstructure:"max_connections" yaml:"max_connections"`
	// Overload tells when /healthz reports the PBX overloaded.
	Overload Overload `mapstructure:"overload" yaml:"overload"`
}

// Overload tells when the PBX counts as overloaded: over Window, at least
// MinRequests ARI requests, and FailureRatio of them failed (5xx,
// timeout, connection refused or closed), or their 95th-percentile
// latency is over P95Latency.
type Overload struct {
	Window       time.Duration `mapstructure:"window" yaml:"window"`
	MinRequests  int           `mapstructure:"min_requests" yaml:"min_requests"`
	FailureRatio float64       `mapstructure:"failure_ratio" yaml:"failure_ratio"`
	P95Latency   time.Duration `mapstructure:"p95_latency" yaml:"p95_latency"`
}

// EventsURL returns the ARI events websocket URL: WebsocketURL when set,
// otherwise URL with ws/wss for http/https and /events appended to its path.
func (a Asterisk) EventsURL() string {
	if a.WebsocketURL != "" {
		return a.WebsocketURL
	}
	u, err := url.Parse(a.URL)
	if err != nil || a.URL == "" {
		return ""
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path = path.Join("/", u.Path, "events")
	u.RawPath = ""
	return u.String()
}

// Center configures the call lifecycle.
type Center struct {
	// Greeting is the media (sound:, recording:, digits:, number:, tone:
	// URIs) played to a caller after answer; empty plays nothing.
	Greeting []string `mapstructure:"greeting" yaml:"greeting"`
	// NoAgentPrompt is played before hanging up when no agent came.
	NoAgentPrompt []string `mapstructure:"no_agent_prompt" yaml:"no_agent_prompt"`
	// AgentRingTimeout is how long an agent's phone rings per offer.
	AgentRingTimeout time.Duration `mapstructure:"agent_ring_timeout" yaml:"agent_ring_timeout"`
	// AgentCallerID is the caller ID shown on agents' phones ("Name <number>");
	// empty shows the caller's.
	AgentCallerID string `mapstructure:"agent_caller_id" yaml:"agent_caller_id"`
	// WaitForAgent is how long a caller waits for a free agent before the
	// no-agent outcome.
	WaitForAgent time.Duration `mapstructure:"wait_for_agent" yaml:"wait_for_agent"`
	// RetryInterval is, with routing.engine basic, how long an agent whose
	// phone failed an offer (no answer, busy, unreachable) is skipped.
	RetryInterval time.Duration `mapstructure:"retry_interval" yaml:"retry_interval"`
}

// Agent is a person who answers calls at a desk phone.
type Agent struct {
	// ID identifies the agent (unique), e.g. the extension.
	ID string `mapstructure:"id" yaml:"id"`
	// Name is for people: the web UI and logs.
	Name string `mapstructure:"name" yaml:"name"`
	// Endpoint is the phone calls are offered on, Technology/Resource
	// (PJSIP/1001), unique.
	Endpoint string `mapstructure:"endpoint" yaml:"endpoint"`
	// Skills are the agent's skill levels (routing.engine router), e.g.
	// {billing: 5}; queue skill expressions read them as skills.NAME.
	Skills map[string]int `mapstructure:"skills" yaml:"skills,omitempty"`
	// Languages the agent speaks (router; `"es" in languages`).
	Languages []string `mapstructure:"languages" yaml:"languages,omitempty"`
	// PINHash is the keypad login PIN's hash (`switchboard token pin`);
	// empty: the agent cannot log in from a desk phone.
	PINHash string `mapstructure:"pin_hash" yaml:"pin_hash,omitempty"`
	// WrapUp, when set, replaces the queues' wrap-up time for this agent
	// (router; 0s: no wrap-up).
	WrapUp *time.Duration `mapstructure:"wrap_up" yaml:"wrap_up,omitempty"`
	// Weight is the agent's share under the weighted-random strategy
	// (router; 0 counts as 1).
	Weight int `mapstructure:"weight" yaml:"weight,omitempty"`
	// Attributes are free strings queue skill expressions read as
	// attributes.NAME (router), e.g. {site: paris, team: blue}.
	Attributes map[string]string `mapstructure:"attributes" yaml:"attributes,omitempty"`
}

// Routing chooses the agent-selection engine.
type Routing struct {
	// Engine is router (the ACD router: skills, strategies, wrap-up,
	// no-answer pause, queue exits, announcements, escalation; the
	// default) or basic, kept for old configurations: the same router
	// with each queue's agents as its members served longest-idle, and
	// none of those (app.BuildRouter, routing.Basic).
	Engine string `mapstructure:"engine" yaml:"engine"`
	// QueueLog, when set, is the file the router writes Asterisk-style
	// queue_log lines to.
	QueueLog string `mapstructure:"queue_log" yaml:"queue_log,omitempty"`
	// VIP lists give known callers a queue priority (see LoadVIP).
	VIP []VIPList `mapstructure:"vip" yaml:"vip,omitempty"`
	// StatsInterval is the length of the queue statistics intervals kept
	// in the database (router).
	StatsInterval time.Duration `mapstructure:"stats_interval" yaml:"stats_interval"`
	// CallbackCallerID is the caller ID callbacks show the customer
	// ("Name <number>"); empty: the trunk's default.
	CallbackCallerID string `mapstructure:"callback_caller_id" yaml:"callback_caller_id,omitempty"`
}

// VIPList is a named list of caller numbers whose calls are queued with
// Priority (higher is served first; ordinary calls have 0).
type VIPList struct {
	// Name says what the list is (e.g. platinum), for people and logs.
	Name string `mapstructure:"name" yaml:"name"`
	// Priority is the queue priority the list's callers get.
	Priority int `mapstructure:"priority" yaml:"priority"`
	// Numbers are caller numbers as they arrive (matched exactly once
	// spaces are removed): digits with an optional leading +.
	Numbers []string `mapstructure:"numbers" yaml:"numbers,omitempty"`
	// File, when set, holds more numbers: one a line, '#' starts a comment,
	// blank lines are ignored. A relative path is relative to the
	// configuration file's folder.
	File string `mapstructure:"file" yaml:"file,omitempty"`
}

// Supervisor is a person who may monitor the calls of some queues.
type Supervisor struct {
	// Name identifies the supervisor (unique).
	Name string `mapstructure:"name" yaml:"name"`
	// Endpoint is the supervisor's desk phone: the API rings it to
	// monitor, and the monitor feature code is accepted from it.
	Endpoint string `mapstructure:"endpoint" yaml:"endpoint"`
	// Token is the name of the supervisor's API token (api.tokens[].name).
	Token string `mapstructure:"token" yaml:"token,omitempty"`
	// Queues are the queues whose calls the supervisor may monitor; empty
	// means every queue.
	Queues []string `mapstructure:"queues" yaml:"queues,omitempty"`
}

// MayMonitor reports whether s may monitor a call in queue.
func (s Supervisor) MayMonitor(queue string) bool {
	return len(s.Queues) == 0 || slices.Contains(s.Queues, queue)
}

// API configures access to the HTTP API.
type API struct {
	// Tokens are the bearer tokens accepted, stored as hashes only.
	Tokens []Token `mapstructure:"tokens" yaml:"tokens"`
}

// Roles of API tokens, from most to least powerful.
const (
	RoleAdmin      = "admin"      // everything, including configuration
	RoleSupervisor = "supervisor" // monitor calls and agents, change agent state
	RoleAgent      = "agent"      // an agent's own state and calls
)

// Roles lists the valid roles.
var Roles = []string{RoleAdmin, RoleSupervisor, RoleAgent}

// Token is one API bearer token. The plaintext is never stored: SHA256 is
// the hex SHA-256 of the token (see HashToken and `switchboard token hash`).
type Token struct {
	// Name says whose token it is (unique); it appears in logs.
	Name string `mapstructure:"name" yaml:"name"`
	// Role is admin, supervisor or agent.
	Role string `mapstructure:"role" yaml:"role"`
	// SHA256 is the lower- or upper-case hex SHA-256 of the token, 64 digits.
	SHA256 string `mapstructure:"sha256" yaml:"sha256"`
	// Queues limits a supervisor token to these queues: their live calls,
	// call log, recordings, campaigns, agents and statistics. Empty (or
	// absent) means every queue; admin and agent tokens take none.
	Queues []string `mapstructure:"queues" yaml:"queues,omitempty"`
}

// Lookup returns the configured token whose hash matches the presented
// plaintext token. Every hash is compared in constant time.
func (a API) Lookup(token string) (Token, bool) {
	sum := sha256.Sum256([]byte(token))
	var found Token
	ok := false
	for _, t := range a.Tokens {
		want, err := hex.DecodeString(t.SHA256)
		if err != nil || len(want) != sha256.Size {
			continue
		}
		if subtle.ConstantTimeCompare(sum[:], want) == 1 && !ok {
			found, ok = t, true
		}
	}
	return found, ok
}

// DemoSettings configures `switchboard demo` (key demo), which runs the
// simulated Asterisk with synthetic callers and agent phones; other commands
// ignore it. (The name Demo is the function that loads the demo config.)
type DemoSettings struct {
	// Speed is simulated seconds per wall-clock second.
	Speed float64 `mapstructure:"speed" yaml:"speed"`
	// CallersPerMinute is the mean arrival rate of simulated callers (Poisson).
	CallersPerMinute float64 `mapstructure:"callers_per_minute" yaml:"callers_per_minute"`
	// TalkMean is the mean talk time of a simulated call (lognormal, CV 1).
	TalkMean time.Duration `mapstructure:"talk_mean" yaml:"talk_mean"`
	// PatienceMean is how long a simulated caller waits on average before
	// abandoning (exponential).
	PatienceMean time.Duration `mapstructure:"patience_mean" yaml:"patience_mean"`
	// Agents is how many simulated agent phones answer: the first Agents
	// configured agents, and made-up ones on PJSIP/1001.. if fewer are
	// configured; 0 uses the configured agents as they are.
	Agents int `mapstructure:"agents" yaml:"agents"`
	// Seed seeds the simulation's random numbers; 0 picks a random seed.
	Seed int64 `mapstructure:"seed" yaml:"seed"`
	// CampaignLeads is how many leads the demo's outbound campaign
	// "demo-outbound" dials, through the same agents as the inbound
	// callers; 0 runs no campaign.
	CampaignLeads int `mapstructure:"campaign_leads" yaml:"campaign_leads"`
	// CampaignMode is that campaign's dialing mode: progressive, power or
	// predictive (preview needs people at the agents' screens).
	CampaignMode string `mapstructure:"campaign_mode" yaml:"campaign_mode"`
}

// Default returns the built-in defaults, the base every file and
// environment variable is applied over. Asterisk credentials have no
// default, so Default alone does not validate.
func Default() Config {
	return Config{
		Log: Log{Level: "info", Format: "text"},
		HTTP: HTTP{Listen: "127.0.0.1:8080", ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
			IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, MaxConnections: 1024},
		Database: Database{DSN: "switchboard.db"},
		Asterisk: Asterisk{
			URL:             "http://127.0.0.1:8088/ari",
			Application:     "switchboard",
			RequestTimeout:  5 * time.Second,
			ReconnectMin:    250 * time.Millisecond,
			ReconnectMax:    30 * time.Second,
			EventQueueLimit: 1_000_000,
			MaxConnections:  50,
			Overload:        Overload{Window: 30 * time.Second, MinRequests: 20, FailureRatio: 0.2, P95Latency: time.Second},
		},
		Center: Center{
			Greeting:         []string{"sound:hello-world"},
			NoAgentPrompt:    []string{"sound:vm-goodbye"},
			AgentRingTimeout: 20 * time.Second,
			WaitForAgent:     60 * time.Second,
			RetryInterval:    2 * time.Second,
		},
		Demo: DemoSettings{
			Speed:            1,
			CallersPerMinute: 4,
			TalkMean:         60 * time.Second,
			PatienceMean:     45 * time.Second,
			Agents:           5,
			CampaignLeads:    300,
			CampaignMode:     "predictive",
		},
		Routing: Routing{Engine: "router", StatsInterval: 15 * time.Minute},
		Recording: Recording{
			Dir:           "recordings",
			DeleteFromPBX: true,
			PurgeInterval: time.Hour,
			Policies:      recording.Policies{Default: recording.Policy{Mode: recording.ModeAlways, RetentionDays: 90}},
		},
		IVR: IVR{
			Timezone:        "UTC",
			TransferContext: "from-agents",
			TrunkTemplate:   "PJSIP/${number}@trunk",
			LookupMaxBody:   64 << 10,
		},
	}
}

// HashToken returns the hex SHA-256 of an API token, the form the
// configuration stores (api.tokens[].sha256). The token is hashed exactly as
// given.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// redactedMark replaces secrets in Redacted.
const redactedMark = "***"

// Redacted returns a copy of c fit for logs and `switchboard validate`
// output: the ARI password and the token hashes are replaced by "***".
func (c Config) Redacted() Config {
	if c.Asterisk.Password != "" {
		c.Asterisk.Password = redactedMark
	}
	// Userinfo in a URL is a password too.
	c.Asterisk.URL = redactURL(c.Asterisk.URL)
	c.Asterisk.WebsocketURL = redactURL(c.Asterisk.WebsocketURL)
	c.Center.Greeting = append([]string(nil), c.Center.Greeting...)
	c.Center.NoAgentPrompt = append([]string(nil), c.Center.NoAgentPrompt...)
	c.Agents = append([]Agent(nil), c.Agents...)
	tokens := make([]Token, len(c.API.Tokens))
	for i, t := range c.API.Tokens {
		t.SHA256 = redactedMark
		tokens[i] = t
	}
	if c.API.Tokens == nil {
		tokens = nil
	}
	c.API.Tokens = tokens
	return c
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redactedMark)
	}
	return u.String()
}

// DomainAgents returns the configured agents as the domain knows them.
func (c *Config) DomainAgents() []sb.Agent {
	out := make([]sb.Agent, len(c.Agents))
	for i, a := range c.Agents {
		out[i] = sb.Agent{ID: sb.AgentID(a.ID), Name: a.Name, Endpoint: a.Endpoint}
	}
	return out
}

// EnvName returns the environment variable that overrides a key path, e.g.
// SWITCHBOARD_ASTERISK_PASSWORD for asterisk.password.
func EnvName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

const envPrefix = "SWITCHBOARD"
