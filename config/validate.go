package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/calendar"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	// File is the configuration file, or "env SWITCHBOARD_..." when the
	// value came from the environment, or "" for a Config built in code.
	File string
	// Line is the 1-based line of the key in File; 0 when unknown.
	Line int
	// Key is the key path, e.g. agents[2].endpoint (indexes from 0).
	Key string
	// Message says what is wrong. It never contains a secret's value.
	Message string
}

// String formats the problem as "file:line: key: message", leaving out
// the parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a configuration, in file
// order (problems from the environment last).
type ValidationError struct {
	Problems []Problem
}

// Error returns one problem a line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects problems, at most one a key, placed through a Source.
type problems struct {
	src  *Source
	list []Problem
	keys map[string]bool
	// unknownUnder holds the key paths under which unknown keys were
	// reported (the decoder summarises them per enclosing key).
	unknownUnder map[string]bool
}

func newProblems(src *Source) *problems {
	return &problems{src: src, keys: map[string]bool{}}
}

// add records a problem with key unless one is recorded already.
func (p *problems) add(key, format string, args ...any) {
	if p.keys[key] {
		return
	}
	p.keys[key] = true
	file, line := p.src.Where(key)
	p.list = append(p.list, Problem{File: file, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

// has reports whether key, or a key it is inside, already has a problem:
// a value that failed to decode is not validated again.
func (p *problems) has(key string) bool {
	for k := key; k != ""; k = parent(k) {
		if p.keys[k] {
			return true
		}
	}
	return false
}

// hasUnder reports whether key or a key inside it has a problem.
func (p *problems) hasUnder(key string) bool {
	for k := range p.keys {
		if k == key || strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[") {
			return true
		}
	}
	return false
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	list := slices.Clone(p.list)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		return a.Line < b.Line
	})
	return &ValidationError{Problems: list}
}

// Validate checks the whole configuration and returns a *ValidationError
// listing every problem, or nil. src places the problems (nil for a Config
// built in code).
func (c *Config) Validate(src *Source) error {
	p := newProblems(src)
	c.validate(p)
	return p.err()
}

var (
	endpointRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*/[^\s/][^\s]*$`)
	hex64RE    = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	appRE      = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	identRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	contextRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// demoCampaignModes are the dialing modes demo.campaign_mode accepts:
// preview is left out, the demo's simulated agents never pick a lead.
var demoCampaignModes = []string{"progressive", "power", "predictive"}

func (c *Config) validate(p *problems) {
	ck := checker{p}
	queueNames := map[string]bool{}
	for _, q := range c.Queues {
		queueNames[string(q.Name)] = true
	}
	c.validateSupervisors(ck, queueNames)
	c.validateServer(ck)
	c.validateAsterisk(ck)
	c.validateCenter(ck)
	agentIDs := c.validateAgents(ck)
	c.validateTokens(ck, queueNames)
	c.validateDemo(ck)
	c.buildCalendars(p)
	c.validateQueues(p, agentIDs)
	c.validateIVR(ck)
}

// checker adds a problem for a key unless the key has one already.
type checker struct{ p *problems }

func (ck checker) check(key string, bad bool, format string, args ...any) {
	if bad && !ck.p.has(key) {
		ck.p.add(key, format, args...)
	}
}

func (ck checker) positive(key string, d time.Duration) {
	ck.check(key, d <= 0, "must be a positive duration, got %s", d)
}

// validateSupervisors checks supervisors[]: names, phones, tokens, queues.
func (c *Config) validateSupervisors(ck checker, queueNames map[string]bool) {
	tokenNames := map[string]bool{}
	for _, t := range c.API.Tokens {
		tokenNames[t.Name] = true
	}
	supNames, supPhones := map[string]bool{}, map[string]bool{}
	for i, sv := range c.Supervisors {
		key := fmt.Sprintf("supervisors[%d]", i)
		ck.check(key+".name", sv.Name == "", "is required")
		ck.check(key+".name", sv.Name != "" && supNames[sv.Name], "duplicate supervisor %q", sv.Name)
		supNames[sv.Name] = true
		ck.check(key+".endpoint", !endpointRE.MatchString(sv.Endpoint), "must be Technology/Resource (e.g. PJSIP/1010), got %q", sv.Endpoint)
		ck.check(key+".endpoint", sv.Endpoint != "" && supPhones[sv.Endpoint], "phone %s belongs to another supervisor", sv.Endpoint)
		supPhones[sv.Endpoint] = true
		ck.check(key+".token", sv.Token != "" && !tokenNames[sv.Token], "no api token named %q", sv.Token)
		for j, q := range sv.Queues {
			ck.check(fmt.Sprintf("%s.queues[%d]", key, j), !queueNames[q], "unknown queue %q", q)
		}
	}
}

// validateServer checks routing, recording, log, http and database.
func (c *Config) validateServer(ck checker) {
	ck.check("routing.engine", c.Routing.Engine != "basic" && c.Routing.Engine != "router",
		"must be basic or router, got %q", c.Routing.Engine)
	ck.check("routing.stats_interval", c.Routing.StatsInterval < time.Minute,
		"must be at least 1m, got %s", c.Routing.StatsInterval)
	r := c.Recording
	ck.check("recording.dir", strings.TrimSpace(r.Dir) == "", "is required (the folder recordings are stored in)")
	ck.positive("recording.purge_interval", r.PurgeInterval)
	if err := r.Policies.Validate(); err != nil {
		ck.check("recording.policies", true, "%v", err)
	}

	ck.check("log.level", !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level),
		"must be debug, info, warn or error, got %q", c.Log.Level)
	ck.check("log.format", !slices.Contains([]string{"text", "json"}, c.Log.Format),
		"must be text or json, got %q", c.Log.Format)

	ck.positive("http.read_timeout", c.HTTP.ReadTimeout)
	ck.positive("http.write_timeout", c.HTTP.WriteTimeout)
	ck.positive("http.idle_timeout", c.HTTP.IdleTimeout)
	ck.check("http.max_header_bytes", c.HTTP.MaxHeaderBytes < 4096, "must be at least 4096, got %d", c.HTTP.MaxHeaderBytes)
	ck.check("http.max_connections", c.HTTP.MaxConnections < 8, "must be at least 8, got %d", c.HTTP.MaxConnections)
	if msg := checkListen(c.HTTP.Listen); msg != "" {
		ck.check("http.listen", true, "%s", msg)
	}
	ck.check("database.dsn", strings.TrimSpace(c.Database.DSN) == "", "is required (a file path such as /var/lib/switchboard/switchboard.db)")
}

// validateAsterisk checks the asterisk: section.
func (c *Config) validateAsterisk(ck checker) {
	a := c.Asterisk
	if a.URL != "" {
		if msg := checkURL(a.URL, "http", "https"); msg != "" {
			ck.check("asterisk.url", true, "%s", msg)
		}
		ck.check("asterisk.username", a.Username == "", "is required when asterisk.url is set (the ARI user in Asterisk's ari.conf)")
		ck.check("asterisk.password", a.Password == "", "is required when asterisk.url is set (set it here or in SWITCHBOARD_ASTERISK_PASSWORD)")
	}
	if a.WebsocketURL != "" {
		if msg := checkURL(a.WebsocketURL, "ws", "wss"); msg != "" {
			ck.check("asterisk.websocket_url", true, "%s", msg)
		}
	}
	ck.check("asterisk.application", !appRE.MatchString(a.Application),
		"must be a Stasis application name (letters, digits, _ . -), got %q", a.Application)
	ck.positive("asterisk.request_timeout", a.RequestTimeout)
	ck.positive("asterisk.reconnect_min", a.ReconnectMin)
	ck.positive("asterisk.reconnect_max", a.ReconnectMax)
	ck.check("asterisk.reconnect_max", a.ReconnectMin > 0 && a.ReconnectMax > 0 && a.ReconnectMax < a.ReconnectMin,
		"must not be less than asterisk.reconnect_min (%s), got %s", a.ReconnectMin, a.ReconnectMax)
	ck.check("asterisk.event_queue_limit", a.EventQueueLimit <= 0, "must be positive, got %d", a.EventQueueLimit)
	ck.check("asterisk.max_connections", a.MaxConnections < 2 || a.MaxConnections > 10000,
		"must be 2-10000 (one is the events websocket; keep it below sessionlimit in Asterisk's http.conf, default 100), got %d", a.MaxConnections)
	ck.check("asterisk.overload.window", a.Overload.Window < time.Second, "must be at least 1s, got %s", a.Overload.Window)
	ck.check("asterisk.overload.min_requests", a.Overload.MinRequests < 1, "must be at least 1, got %d", a.Overload.MinRequests)
	ck.check("asterisk.overload.failure_ratio", !(a.Overload.FailureRatio > 0 && a.Overload.FailureRatio <= 1),
		"must be a share in (0, 1], e.g. 0.2, got %v", a.Overload.FailureRatio)
	ck.positive("asterisk.overload.p95_latency", a.Overload.P95Latency)
}

// validateCenter checks the center: section.
func (c *Config) validateCenter(ck checker) {
	ce := c.Center
	checkMedia(ck.p, "center.greeting", ce.Greeting)
	checkMedia(ck.p, "center.no_agent_prompt", ce.NoAgentPrompt)
	ck.positive("center.agent_ring_timeout", ce.AgentRingTimeout)
	ck.positive("center.wait_for_agent", ce.WaitForAgent)
	ck.positive("center.retry_interval", ce.RetryInterval)
}

// validateAgents checks agents[] and returns their ids.
func (c *Config) validateAgents(ck checker) []sb.AgentID {
	ids, endpoints := map[string]int{}, map[string]int{}
	for i, ag := range c.Agents {
		key := fmt.Sprintf("agents[%d]", i)
		id := strings.TrimSpace(ag.ID)
		ck.check(key+".id", id == "", "is required")
		if j, dup := ids[id]; dup && id != "" {
			ck.check(key+".id", true, "duplicate agent id %q (also agents[%d])", id, j)
		} else if id != "" {
			ids[id] = i
		}
		ck.check(key+".wrap_up", ag.WrapUp != nil && *ag.WrapUp < 0, "must not be negative")
		ck.check(key+".weight", ag.Weight < 0, "must not be negative")
		switch ep := ag.Endpoint; {
		case ep == "":
			ck.check(key+".endpoint", true, "is required (Technology/Resource, e.g. PJSIP/1001)")
		case !endpointRE.MatchString(ep):
			ck.check(key+".endpoint", true, "must be Technology/Resource, e.g. PJSIP/1001, got %q", ep)
		default:
			// The PBX names endpoints case-insensitively.
			if j, dup := endpoints[strings.ToLower(ep)]; dup {
				ck.check(key+".endpoint", true, "duplicate endpoint %q (also agents[%d])", ep, j)
			} else {
				endpoints[strings.ToLower(ep)] = i
			}
		}
	}
	var agentIDs []sb.AgentID
	for id := range ids {
		agentIDs = append(agentIDs, sb.AgentID(id))
	}
	return agentIDs
}

// validateTokens checks api.tokens[]: names, roles, queue scopes, hashes.
func (c *Config) validateTokens(ck checker, queueNames map[string]bool) {
	names := map[string]int{}
	for i, t := range c.API.Tokens {
		key := fmt.Sprintf("api.tokens[%d]", i)
		name := strings.TrimSpace(t.Name)
		ck.check(key+".name", name == "", "is required")
		if j, dup := names[name]; dup && name != "" {
			ck.check(key+".name", true, "duplicate token name %q (also api.tokens[%d])", name, j)
		} else if name != "" {
			names[name] = i
		}
		ck.check(key+".role", !slices.Contains(Roles, t.Role), "must be admin, supervisor or agent, got %q", t.Role)
		if len(t.Queues) > 0 && t.Role != RoleSupervisor && slices.Contains(Roles, t.Role) {
			ck.check(key+".queues", true, "only supervisor tokens have a queue scope (an admin sees every queue, an agent only itself)")
		}
		inScope := map[string]int{}
		for j, q := range t.Queues {
			k := fmt.Sprintf("%s.queues[%d]", key, j)
			if prev, dup := inScope[q]; dup {
				ck.check(k, true, "queue %q is listed twice (also %s.queues[%d])", q, key, prev)
				continue
			}
			inScope[q] = j
			ck.check(k, !queueNames[q], "unknown queue %q (queues: %s)", q, listOrNone(sortedKeys(queueNames)))
		}
		switch {
		case t.SHA256 == "":
			ck.check(key+".sha256", true, "is required: the hex SHA-256 of the token, from `switchboard token hash`")
		case !hex64RE.MatchString(t.SHA256):
			// Never echo it: it may be a plaintext token pasted by mistake.
			ck.check(key+".sha256", true, "must be 64 hex digits (the output of `switchboard token hash`), got %d characters", len(t.SHA256))
		}
	}
}

// validateDemo checks the demo: section.
func (c *Config) validateDemo(ck checker) {
	d := c.Demo
	ck.check("demo.speed", !(d.Speed > 0) || d.Speed > 1e6, "must be a number of simulated seconds per second in (0, 1000000], got %v", d.Speed)
	ck.check("demo.callers_per_minute", !(d.CallersPerMinute >= 0) || d.CallersPerMinute > 1e6, "must be in [0, 1000000], got %v", d.CallersPerMinute)
	ck.positive("demo.talk_mean", d.TalkMean)
	ck.positive("demo.patience_mean", d.PatienceMean)
	ck.check("demo.agents", d.Agents < 0, "must not be negative, got %d", d.Agents)
	ck.check("demo.campaign_leads", d.CampaignLeads < 0 || d.CampaignLeads > 1_000_000, "must be in [0, 1000000], got %d", d.CampaignLeads)
	ck.check("demo.campaign_mode", !slices.Contains(demoCampaignModes, d.CampaignMode),
		"must be one of %s, got %q", strings.Join(demoCampaignModes, ", "), d.CampaignMode)
}

// validateIVR checks the ivr: section but its flows (loaded apart).
func (c *Config) validateIVR(ck checker) {
	if c.IVR.VoicemailWebhook != "" {
		if msg := checkURL(c.IVR.VoicemailWebhook, "http", "https"); msg != "" {
			ck.check("ivr.voicemail_webhook", true, "%s", msg)
		}
	}

	iv := c.IVR
	if iv.Timezone == "" {
		ck.check("ivr.timezone", true, "is required: an IANA time zone such as UTC or America/New_York")
	} else if _, err := time.LoadLocation(iv.Timezone); err != nil || iv.Timezone == "Local" {
		ck.check("ivr.timezone", true, "unknown time zone %q (an IANA name such as UTC or America/New_York)", iv.Timezone)
	}
	vars := map[string]int{}
	for i, v := range iv.Variables {
		key := fmt.Sprintf("ivr.variables[%d]", i)
		if !identRE.MatchString(v) {
			ck.check(key, true, "must be a variable name (letters, digits, _; not starting with a digit), got %q", v)
		} else if j, dup := vars[v]; dup {
			ck.check(key, true, "duplicate variable %q (also ivr.variables[%d])", v, j)
		} else {
			vars[v] = i
		}
	}
	ck.check("ivr.transfer_context", !contextRE.MatchString(iv.TransferContext),
		"must be a dialplan context (letters, digits, _ -), got %q", iv.TransferContext)
	switch t := iv.TrunkTemplate; {
	case !strings.Contains(t, "${number}"):
		ck.check("ivr.trunk_template", true, "must contain ${number}, e.g. PJSIP/${number}@trunk, got %q", t)
	case !endpointRE.MatchString(t):
		ck.check("ivr.trunk_template", true, "must be Technology/Resource, e.g. PJSIP/${number}@trunk, got %q", t)
	}
	ck.check("ivr.lookup_max_body", iv.LookupMaxBody <= 0, "must be a positive number of bytes, got %d", iv.LookupMaxBody)
	dnis := map[string]int{}
	for i, r := range iv.Routes {
		key := fmt.Sprintf("ivr.routes[%d]", i)
		switch {
		case strings.TrimSpace(r.DNIS) == "":
			ck.check(key+".dnis", true, `is required: a dialed number, or "*" for any`)
		case strings.ContainsAny(r.DNIS, " \t"):
			ck.check(key+".dnis", true, "must be a dialed number without spaces, got %q", r.DNIS)
		default:
			if j, dup := dnis[r.DNIS]; dup {
				ck.check(key+".dnis", true, "duplicate dnis %q (also ivr.routes[%d])", r.DNIS, j)
			} else {
				dnis[r.DNIS] = i
			}
		}
		ck.check(key+".flow", strings.TrimSpace(r.Flow) == "", "is required: the flow calls to this number enter")
		switch {
		case r.Calendar != "":
			// Calendars that did not decode are reported there, not here.
			if !lookupCalendar(c.Calendars, r.Calendar) && !ck.p.hasUnder("calendars") {
				ck.check(key+".calendar", true, "unknown calendar %q (calendars: %s)", r.Calendar, listOrNone(sortedKeys(c.Calendars)))
			}
			ck.check(key+".closed_flow", strings.TrimSpace(r.ClosedFlow) == "", "is required with calendar: the flow while %s is closed", r.Calendar)
		case r.ClosedFlow != "":
			ck.check(key+".closed_flow", true, "needs calendar: the calendar whose closed hours it serves")
		}
	}
}

// buildCalendars builds every calendar, reporting its problems at its keys,
// and returns those that build.
func (c *Config) buildCalendars(p *problems) calendar.Set {
	set := calendar.Set{}
	for _, name := range sortedKeys(c.Calendars) {
		key := "calendars." + name
		if !nameRE.MatchString(name) {
			if !p.has(key) {
				p.add(key, "calendar name must be letters, digits, _ . - (starting with a letter or digit), got %q", name)
			}
			continue
		}
		cal, errs := calendar.Build(name, c.Calendars[name])
		for _, e := range errs {
			if k := key + "." + e.Key; !p.has(k) {
				p.add(k, "%s", e.Message)
			}
		}
		if cal != nil {
			set[name] = cal
		}
	}
	return set
}

// lookupCalendar reports whether a calendar is configured, exactly or in lower case (the
// file's keys arrive lower-cased).
func lookupCalendar(m map[string]calendar.Def, name string) bool {
	_, exact := m[name]
	_, lower := m[strings.ToLower(name)]
	return exact || lower
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none configured"
	}
	return strings.Join(names, ", ")
}

// checkListen returns what is wrong with a host:port, or "".
func checkListen(s string) string {
	if s == "" {
		return "is required (host:port, e.g. 127.0.0.1:8080)"
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080, got %q", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port must be a number 0-65535, got %q", port)
	}
	return ""
}

// checkURL returns what is wrong with an absolute URL, or "". The URL is
// not echoed: it may carry a password.
func checkURL(s string, schemes ...string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "is not a valid URL"
	case !slices.Contains(schemes, u.Scheme):
		return fmt.Sprintf("scheme must be %s, got %q", strings.Join(schemes, " or "), u.Scheme)
	case u.Host == "":
		return "has no host"
	case u.Port() != "":
		if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port must be 1-65535, got %q", u.Port())
		}
	}
	return ""
}

// checkMedia reports, at its own key, every item of a media list the PBX
// cannot play (see switchboard.ValidMediaURI).
func checkMedia(p *problems, key string, media []string) {
	for i, m := range media {
		k := fmt.Sprintf("%s[%d]", key, i)
		if err := sb.ValidMediaURI(m); err != nil && !p.has(k) {
			p.add(k, "%s", sb.ErrorMessage(err))
		}
	}
}
