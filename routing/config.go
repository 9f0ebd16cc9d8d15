package routing

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	sb "github.com/switchboard/switchboard"
)

// Config is what the router is built from. Agents and queues are fixed for
// the router's life; a reload builds a new router.
type Config struct {
	Agents []AgentConfig
	Queues []QueueConfig
	// Seed makes random and weighted-random picks reproducible.
	Seed uint64
	// Location is the time zone of callback windows (default UTC).
	Location *time.Location
	// RingGrace is how long after an offer's timeout the router waits for
	// the owner's OfferFailed before it gives up itself (default 2s).
	RingGrace time.Duration
	// BusyBackoff is how long an agent whose phone was busy is skipped
	// (default 10s); UnreachableBackoff the same for an unreachable phone
	// with no EndpointReachable news (default 60s).
	BusyBackoff        time.Duration
	UnreachableBackoff time.Duration
	// NoAnswerBackoff, when set, is how long an agent who let an offer
	// ring out (or rejected it) is skipped (default 0: he is not, though
	// the same caller goes to the other free agents first).
	NoAnswerBackoff time.Duration
	// CallbackDialTimeout is how long a started callback may take (agent
	// leg plus customer leg) before the router frees the agent (default 90s).
	CallbackDialTimeout time.Duration
}

// AgentConfig is one agent.
type AgentConfig struct {
	ID       sb.AgentID
	Name     string
	Endpoint string // e.g. PJSIP/1001
	// PINHash is HashPIN's encoding of the keypad login PIN (empty: no
	// keypad login).
	PINHash string
	// Skills are levels by skill name, e.g. {"billing": 5, "language.es": 8}.
	Skills    map[string]int
	Languages []string
	// WrapUp overrides the queue's wrap-up time for this agent.
	WrapUp *time.Duration
	// Weight for weighted-random (<= 0 counts as 1).
	Weight int
	// Attributes are free strings for skill expressions (site, team, ...).
	Attributes map[string]string
}

// Basic is the router as routing.engine basic configures it, the agent
// hunt Switchboard had before the router (kept for old configurations):
// each of queues serves its Members (every agent when it names none)
// longest-idle, rings an agent ring per offer and keeps a caller at most
// its MaxWait, then to the no-agent prompt; an agent whose phone failed
// an offer (no answer, busy, rejected, unreachable) is skipped for retry.
// Nothing more: no skills, wrap-up, pause after missed offers, queue
// limits, announcements, escalation, callbacks offered or callers' own
// skill requirements; of agents only the id, name, phone and keypad PIN
// are kept.
func Basic(agents []AgentConfig, queues []QueueConfig, ring, retry time.Duration) Config {
	c := Config{BusyBackoff: retry, UnreachableBackoff: retry, NoAnswerBackoff: retry}
	for _, a := range agents {
		c.Agents = append(c.Agents, AgentConfig{ID: a.ID, Name: a.Name, Endpoint: a.Endpoint, PINHash: a.PINHash})
	}
	for _, q := range queues {
		c.Queues = append(c.Queues, QueueConfig{Name: q.Name, Members: q.Members, Strategy: LongestIdle,
			RingTimeout: ring, MaxWait: q.MaxWait, MaxNoAnswer: -1, IgnoreCallSkills: true})
	}
	return c
}

// EmptyPolicy says when a queue refuses (JoinEmpty) or removes
// (LeaveWhenEmpty) callers for lack of agents, like app_queue's joinempty
// and leavewhenempty.
type EmptyPolicy string

// Empty policies.
const (
	// EmptyNever: callers join and stay whatever the staffing (default).
	EmptyNever EmptyPolicy = ""
	// EmptyNoMembers: when no eligible agent is logged in.
	EmptyNoMembers EmptyPolicy = "no-members"
	// EmptyNoAvailable: when no eligible agent is logged in, reachable and
	// unpaused (agents on a call or in wrap-up count: they will free up).
	EmptyNoAvailable EmptyPolicy = "no-available"
)

// QueueConfig is one queue.
type QueueConfig struct {
	Name sb.QueueName
	// Skills is a boolean expr-lang expression over the agent that says who
	// may take the queue's calls; empty: every agent. Names available:
	//
	//	id, name   string
	//	skills     map[string]int    skills.billing >= 5, skills["language.es"] > 3
	//	languages  []string          "es" in languages
	//	attributes map[string]string attributes.site == "madrid"
	//	weight     int
	//
	// A skill the agent lacks reads 0.
	Skills string
	// Members, when set, restricts the queue to these agents (still subject
	// to Skills) and gives their order for linear and round-robin.
	Members []sb.AgentID
	// IgnoreCallSkills leaves out what each caller asks of his agent
	// (Enqueue.Skills, a flow's queue node): routing.engine basic.
	IgnoreCallSkills bool
	// PrimarySkill is the skill best-skill ranks by; default the first
	// skills.X the Skills expression names.
	PrimarySkill string
	// Strategy is one of StrategyNames ("" is longest-idle).
	Strategy string
	// WrapUp is the agent's after-call work time (0: none).
	WrapUp time.Duration
	// RingTimeout is how long one offer rings (default 15s).
	RingTimeout time.Duration
	// MaxNoAnswer is how many offers in a row an agent may miss before he is
	// paused with reason "no answer" (default 3; negative: never).
	MaxNoAnswer int
	// ServiceLevel is the target share (default 0.8) answered within
	// ServiceLevelTime (default 20s).
	ServiceLevel     float64
	ServiceLevelTime time.Duration
	// MaxWait (0: none) sends a caller who waited that long to MaxWaitTarget.
	MaxWait       time.Duration
	MaxWaitTarget string
	// MaxLen (0: none) refuses callers beyond that many, to MaxLenTarget.
	MaxLen       int
	MaxLenTarget string
	// JoinEmpty and LeaveWhenEmpty send callers to EmptyTarget.
	JoinEmpty      EmptyPolicy
	LeaveWhenEmpty EmptyPolicy
	EmptyTarget    string
	// MusicClass is the music-on-hold class callers hear.
	MusicClass string
	// AnnounceEvery (0: never) announces position and/or estimated wait.
	AnnounceEvery    time.Duration
	AnnouncePosition bool
	AnnounceWait     bool
	// Escalation steps, by increasing After.
	Escalation []EscalationStep
	// PreferredWait is how long a caller's preferred agent is offered the
	// call alone before the strategy takes over (0: no preference).
	PreferredWait time.Duration
	// CallbackWindows are the times callbacks may be started (none: always),
	// in Config.Location.
	CallbackWindows []Window
	// CallbackAttempts (default 3) and CallbackRetry (default 5m): how often
	// and how far apart the customer is tried.
	CallbackAttempts int
	CallbackRetry    time.Duration
	// ExpectedAHT seeds the handle-time average before calls are measured
	// (default 3m).
	ExpectedAHT time.Duration
}

// EscalationStep changes how a caller is served once he has waited After
// (since EnteredAt). Steps accumulate: a later step keeps the earlier
// steps' changes unless it replaces them.
type EscalationStep struct {
	After time.Duration
	// Skills replaces the queue's skill expression (e.g. a looser one:
	// skills.billing >= 3 instead of >= 5). Write steps that widen the
	// agent set, or FIFO across steps is only kept per agent set.
	Skills string
	// AddQueues adds the agents eligible for these queues' base expressions
	// (a second agent group).
	AddQueues []sb.QueueName
	// RaisePriority (> 0) adds to the caller's priority when the step
	// applies: he moves ahead of the lower-priority callers, however long
	// they have waited. Steps add up.
	RaisePriority int
	// OfferCallback emits OfferCallback for the caller.
	OfferCallback bool
	// Exit, when set, sends a caller still waiting to this target
	// (e.g. "voicemail"); a caller ringing an agent is sent when the ring ends.
	Exit string
}

// Window is a time of day on some weekdays.
type Window struct {
	Days     []time.Weekday // empty: every day
	From, To time.Duration  // since midnight; From < To
}

// agentEnv is the typed environment skill expressions are checked against
// and run on.
type agentEnv struct {
	ID         string            `expr:"id"`
	Name       string            `expr:"name"`
	Skills     map[string]int    `expr:"skills"`
	Languages  []string          `expr:"languages"`
	Attributes map[string]string `expr:"attributes"`
	Weight     int               `expr:"weight"`
}

// skillRefs finds the first skills.X (or skills["X"]) an expression reads.
type skillRefs struct{ first string }

func (s *skillRefs) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || s.first != "" {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "skills" {
		return
	}
	if p, ok := m.Property.(*ast.StringNode); ok {
		s.first = p.Value
	}
}

// compileSkills compiles a skill expression; it returns the program and
// the first skill it names.
func compileSkills(src string) (*vm.Program, string, error) {
	refs := &skillRefs{}
	prog, err := expr.Compile(src, expr.Env(agentEnv{}), expr.AsBool(), expr.Patch(refs), expr.MaxNodes(1000))
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, "", fmt.Errorf("bad skills expression %q: %s", src, msg)
	}
	return prog, refs.first, nil
}

func (c *Config) withDefaults() {
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.RingGrace <= 0 {
		c.RingGrace = 2 * time.Second
	}
	if c.BusyBackoff <= 0 {
		c.BusyBackoff = 10 * time.Second
	}
	if c.UnreachableBackoff <= 0 {
		c.UnreachableBackoff = 60 * time.Second
	}
	if c.CallbackDialTimeout <= 0 {
		c.CallbackDialTimeout = 90 * time.Second
	}
}

func (q *QueueConfig) withDefaults() {
	if q.RingTimeout <= 0 {
		q.RingTimeout = 15 * time.Second
	}
	if q.MaxNoAnswer == 0 {
		q.MaxNoAnswer = 3
	}
	if q.ServiceLevel <= 0 {
		q.ServiceLevel = 0.8
	}
	if q.ServiceLevelTime <= 0 {
		q.ServiceLevelTime = 20 * time.Second
	}
	if q.CallbackAttempts <= 0 {
		q.CallbackAttempts = 3
	}
	if q.CallbackRetry <= 0 {
		q.CallbackRetry = 5 * time.Minute
	}
	if q.ExpectedAHT <= 0 {
		q.ExpectedAHT = 3 * time.Minute
	}
}

// validate reports every problem of the configuration with its place.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	agents := make(map[sb.AgentID]bool, len(c.Agents))
	for i, a := range c.Agents {
		switch {
		case a.ID == "":
			bad("agents[%d]: empty id", i)
		case agents[a.ID]:
			bad("agent %q: defined twice", a.ID)
		}
		agents[a.ID] = true
		if a.WrapUp != nil && *a.WrapUp < 0 {
			bad("agent %q: negative wrap-up", a.ID)
		}
		if a.PINHash != "" {
			if _, _, _, err := parsePINHash(a.PINHash); err != nil {
				bad("agent %q: pin hash: %v", a.ID, err)
			}
		}
	}
	queues := make(map[sb.QueueName]bool, len(c.Queues))
	for _, q := range c.Queues {
		queues[q.Name] = true
	}
	seen := make(map[sb.QueueName]bool, len(c.Queues))
	for i, q := range c.Queues {
		place := fmt.Sprintf("queue %q", q.Name)
		if q.Name == "" {
			place = fmt.Sprintf("queues[%d]", i)
			bad("%s: empty name", place)
		} else if seen[q.Name] {
			bad("%s: defined twice", place)
		}
		seen[q.Name] = true
		if _, err := NewStrategy(q.Strategy); err != nil {
			bad("%s: %v", place, err)
		}
		if q.Skills != "" {
			if _, _, err := compileSkills(q.Skills); err != nil {
				bad("%s: %v", place, err)
			}
		}
		for _, m := range q.Members {
			if !agents[m] {
				bad("%s: unknown member agent %q", place, m)
			}
		}
		for _, p := range []struct {
			name string
			v    EmptyPolicy
		}{{"join_empty", q.JoinEmpty}, {"leave_when_empty", q.LeaveWhenEmpty}} {
			if p.v != EmptyNever && p.v != EmptyNoMembers && p.v != EmptyNoAvailable {
				bad("%s: %s %q (valid: %q, %q, or empty for never)", place, p.name, p.v, EmptyNoMembers, EmptyNoAvailable)
			}
		}
		if q.RingTimeout < 0 || q.WrapUp < 0 || q.MaxWait < 0 || q.MaxLen < 0 || q.AnnounceEvery < 0 || q.PreferredWait < 0 {
			bad("%s: negative duration or length", place)
		}
		if q.ServiceLevel > 1 {
			bad("%s: service level %v above 1", place, q.ServiceLevel)
		}
		var last time.Duration
		for j, s := range q.Escalation {
			sp := fmt.Sprintf("%s: escalation[%d]", place, j)
			if s.After <= 0 || (j > 0 && s.After <= last) {
				bad("%s: after %v must be positive and later than the step before", sp, s.After)
			}
			last = s.After
			if s.Skills != "" {
				if _, _, err := compileSkills(s.Skills); err != nil {
					bad("%s: %v", sp, err)
				}
			}
			for _, aq := range s.AddQueues {
				if !queues[aq] {
					bad("%s: unknown queue %q", sp, aq)
				}
			}
			if s.RaisePriority < 0 {
				bad("%s: raise priority %d is negative", sp, s.RaisePriority)
			}
			if s.Skills == "" && len(s.AddQueues) == 0 && s.RaisePriority == 0 && !s.OfferCallback && s.Exit == "" {
				bad("%s: does nothing", sp)
			}
		}
		if len(q.Escalation) > 60 {
			bad("%s: more than 60 escalation steps", place)
		}
		for j, w := range q.CallbackWindows {
			if w.From < 0 || w.To > 24*time.Hour || w.From >= w.To {
				bad("%s: callback_windows[%d]: need 0 <= from < to <= 24h", place, j)
			}
		}
	}
	return errors.Join(errs...)
}

// PIN hashes: "pbkdf2-sha256$<iterations>$<salt hex>$<key hex>".
const pinIterations = 20000

// Bounds of a PIN hash that VerifyPIN accepts. The iteration count is the
// cost of one keypad login: at most 100 times HashPIN's (about half a
// second of one core), and not so few that a stolen hash gives its PIN
// away at once. Salt and key lengths are
// those a PBKDF2 hash has in practice (HashPIN: 16 and 32 bytes).
const (
	minPINIterations = 1000
	maxPINIterations = 2_000_000
	minPINSalt       = 8
	maxPINSalt       = 64
	minPINKey        = 16
	maxPINKey        = 64
)

// HashPIN encodes a keypad PIN for AgentConfig.PINHash (PBKDF2-SHA256
// with the given salt; use 16 random bytes).
func HashPIN(pin string, salt []byte) string {
	return hashPIN(pin, salt, pinIterations)
}

func hashPIN(pin string, salt []byte, iter int) string {
	key, _ := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	return formatPINHash(iter, salt, key)
}

func formatPINHash(iter int, salt, key []byte) string {
	return fmt.Sprintf("pbkdf2-sha256$%d$%x$%x", iter, salt, key)
}

// parsePINHash decodes a PIN hash, refusing one outside the bounds above.
func parsePINHash(s string) (iter int, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return 0, nil, nil, errors.New(`want "pbkdf2-sha256$<iterations>$<salt hex>$<key hex>" (switchboard token pin)`)
	}
	if iter, err = strconv.Atoi(parts[1]); err != nil || iter < minPINIterations || iter > maxPINIterations {
		return 0, nil, nil, fmt.Errorf("bad iteration count: want a number from %d to %d", minPINIterations, maxPINIterations)
	}
	if salt, err = hex.DecodeString(parts[2]); err != nil || len(salt) < minPINSalt || len(salt) > maxPINSalt {
		return 0, nil, nil, fmt.Errorf("bad salt: want %d to %d bytes in hex", minPINSalt, maxPINSalt)
	}
	if key, err = hex.DecodeString(parts[3]); err != nil || len(key) < minPINKey || len(key) > maxPINKey {
		return 0, nil, nil, fmt.Errorf("bad key: want %d to %d bytes in hex", minPINKey, maxPINKey)
	}
	return iter, salt, key, nil
}

// VerifyPIN reports whether pin matches an encoded PINHash. It is slow on
// purpose; the owner calls it before sending AgentLogin, off the router's
// goroutine.
func VerifyPIN(encoded, pin string) bool {
	iter, salt, key, err := parsePINHash(encoded)
	if err != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(key))
	return err == nil && subtle.ConstantTimeCompare(got, key) == 1
}
