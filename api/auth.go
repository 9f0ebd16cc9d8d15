package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard/switchboard"
)

// Role is what a token may do.
type Role string

// Roles, from most to least privileged.
const (
	// RoleAdmin configures Switchboard and sees everything.
	RoleAdmin Role = "admin"
	// RoleSupervisor watches queues, live calls and the call log.
	RoleSupervisor Role = "supervisor"
	// RoleAgent is a person answering calls: their own state only.
	RoleAgent Role = "agent"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAgent}

// Valid reports whether r is one of [Roles].
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleSupervisor, RoleAgent:
		return true
	}
	return false
}

// Token is a configured bearer token. Only its SHA-256 is kept, so the
// configuration file and a memory dump do not hold usable credentials.
type Token struct {
	// Name identifies the token's holder in logs and /api/v1/whoami.
	Name string
	// Role is what the holder may do.
	Role Role
	// SHA256 is the hex SHA-256 of the token; see [HashToken].
	SHA256 string
	// Queues limits a supervisor token to these queues' calls, call log,
	// recordings, campaigns, agents and statistics; empty means every
	// queue. Only supervisor tokens may have it (an admin sees everything,
	// an agent only itself).
	Queues []switchboard.QueueName
}

// HashToken returns the value for [Token.SHA256] of a plaintext token.
func HashToken(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// Validate reports what is wrong with a token's configuration.
func (t Token) Validate() error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if !t.Role.Valid() {
		errs = append(errs, fmt.Errorf("role %q is not one of admin, supervisor, agent", t.Role))
	}
	if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size {
		errs = append(errs, errors.New("sha256 must be 64 hex digits (the hash, not the token)"))
	}
	if len(t.Queues) > 0 && t.Role != RoleSupervisor {
		errs = append(errs, fmt.Errorf("queues: only supervisor tokens have a queue scope, not %s", t.Role))
	}
	for i, q := range t.Queues {
		if q == "" {
			errs = append(errs, fmt.Errorf("queues[%d] is empty", i))
		} else if slices.Contains(t.Queues[:i], q) {
			errs = append(errs, fmt.Errorf("queues[%d]: %q is listed twice", i, q))
		}
	}
	return errors.Join(errs...)
}

// token is a Token ready for comparison.
type token struct {
	name   string
	role   Role
	queues []switchboard.QueueName
	sum    [sha256.Size]byte
}

// loadTokens decodes the configured tokens, dropping (and logging) invalid
// and duplicate ones.
func (s *Server) loadTokens(in []Token) []token {
	out := make([]token, 0, len(in))
	for i, t := range in {
		if err := t.Validate(); err != nil {
			s.log.Error("api token ignored", slog.Int("index", i), slog.String("token_name", t.Name), slog.String("err", err.Error()))
			continue
		}
		var tk token
		hex.Decode(tk.sum[:], []byte(strings.ToLower(t.SHA256)))
		tk.name, tk.role, tk.queues = t.Name, t.Role, slices.Clone(t.Queues)
		dup := false
		for _, o := range out {
			dup = dup || o.sum == tk.sum
		}
		if dup {
			s.log.Error("api token ignored: same hash as an earlier token", slog.Int("index", i), slog.String("token_name", t.Name))
			continue
		}
		out = append(out, tk)
	}
	return out
}

// errBadToken marks a presented token that matched none, for the
// WWW-Authenticate error="invalid_token" hint.
var errBadToken = errors.New("bearer token matches no configured token")

// authenticate finds the token of a request's Authorization: Bearer header.
// The presented token is hashed and compared against every configured hash
// in constant time, so response timing reveals neither which hash nor how
// much of it matched.
func (s *Server) authenticate(r *http.Request) (Identity, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return Identity{}, switchboard.Errorf(switchboard.EUNAUTHORIZED, "missing bearer token")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	tok = strings.TrimSpace(tok)
	if len(vals) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return Identity{}, switchboard.Errorf(switchboard.EUNAUTHORIZED, "authorization must be one header: Bearer <token>")
	}
	sum := sha256.Sum256([]byte(tok))
	match := -1
	for i := range s.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], s.tokens[i].sum[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return Identity{}, &switchboard.Error{Code: switchboard.EUNAUTHORIZED, Message: "invalid bearer token", Err: errBadToken}
	}
	tk := s.tokens[match]
	return Identity{Name: tk.name, Role: tk.role, Queues: slices.Clone(tk.queues)}, nil
}
