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
	// Queues are checked by CheckQueues; callback windows are in Location.
	Queues []sb.Queue
	// WaitForAgent and RingTimeout are a queue's when its own are 0
	// (center.wait_for_agent and center.agent_ring_timeout); 0 here: no
	// limit on the wait, offers ringing 15s.
	WaitForAgent time.Duration
	RingTimeout  time.Duration
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
// each of queues serves its Agents (every agent when it names none)
// longest-idle, rings an agent ring per offer and keeps a caller at most
// its WaitForAgent (the Config's when 0), then to the no-agent prompt; an
// agent whose phone failed an offer (no answer, busy, rejected,
// unreachable) is skipped for retry.
// Nothing more: no skills, wrap-up, pause after missed offers, queue
// limits, announcements, escalation, callbacks offered or callers' own
// skill requirements; of agents only the id, name, phone and keypad PIN
// are kept.
func Basic(agents []AgentConfig, queues []sb.Queue, ring, retry time.Duration) Config {
	c := Config{BusyBackoff: retry, UnreachableBackoff: retry, NoAnswerBackoff: retry}
	for _, a := range agents {
		c.Agents = append(c.Agents, AgentConfig{ID: a.ID, Name: a.Name, Endpoint: a.Endpoint, PINHash: a.PINHash})
	}
	for _, q := range queues {
		c.Queues = append(c.Queues, sb.Queue{Name: q.Name, Agents: q.Agents, Strategy: LongestIdle,
			RingTimeout: ring, WaitForAgent: q.WaitForAgent, MaxNoAnswer: -1, IgnoreCallSkills: true})
	}
	return c
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
	ids := make([]sb.AgentID, 0, len(c.Agents))
	for _, a := range c.Agents {
		ids = append(ids, a.ID)
	}
	for _, p := range CheckQueues(c.Queues, ids) {
		place := fmt.Sprintf("queue %q", c.Queues[p.Queue].Name)
		if c.Queues[p.Queue].Name == "" {
			place = fmt.Sprintf("queues[%d]", p.Queue)
		}
		if p.Key != "" {
			place += ": " + p.Key
		}
		bad("%s: %s", place, p.Message)
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
