package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard"
)

// Prefix is where the versioned REST API lives. Every [Route] path starts
// with it.
const Prefix = "/api/v1/"

// CallLister reports the calls in progress (the call owner's snapshot).
type CallLister interface {
	// LiveCalls returns a snapshot; the server neither keeps nor changes it.
	LiveCalls() []switchboard.Call
}

// CDRStore reads the call log.
type CDRStore interface {
	// ListCDR returns one page of rows matching f and the number of rows
	// matching f across all pages.
	ListCDR(ctx context.Context, f switchboard.CDRFilter) ([]switchboard.CDR, int, error)
}

// Options configures a [Server]. Nil fields are allowed: a nil Calls or CDR
// makes its endpoint answer 503, a nil Ready reports always ready, a nil
// Metrics gets a fresh [NewMetrics], a nil Logger discards.
type Options struct {
	// Tokens are the bearer tokens the API accepts. Invalid entries (see
	// [Token.Validate]) are logged and ignored, so a bad entry locks its
	// holder out rather than letting anyone in; validate configuration
	// before calling [New] to fail loudly instead.
	Tokens []Token
	// Calls lists live calls for GET /api/v1/calls.
	Calls CallLister
	// CDR reads the call log for GET /api/v1/cdr.
	CDR CDRStore
	// Ready tells /healthz whether Switchboard can take calls and, when it
	// cannot, why (e.g. false, "PBX link down"; false, "draining").
	Ready func() (ready bool, reason string)
	// Degraded tells /healthz, once ready, whether Switchboard works but
	// poorly and why (e.g. true, "PBX overloaded: ..."): /healthz then
	// answers 200 "degraded", or 503 with ?strict=1. Nil: never degraded.
	Degraded func() (degraded bool, reason string)
	// Metrics is served at /metrics; HTTP request metrics are added to it.
	Metrics *Metrics
	// Logger receives one record per request and the detail of every
	// internal error.
	Logger *slog.Logger
	// Queues are the configured queues and who answers them: a supervisor
	// whose token names queues may act on the agents of those queues only
	// (none when Queues is nil).
	Queues []QueueMembers
}

// Server is Switchboard's HTTP surface. Build it with [New], add
// capabilities with [Server.Handle], serve [Server.Handler].
type Server struct {
	calls    CallLister
	cdr      CDRStore
	ready    func() (bool, string)
	degraded func() (bool, string)
	metrics  *Metrics
	log      *slog.Logger
	tokens   []token
	queues   []QueueMembers
	mux      *http.ServeMux
	handler  http.Handler
	// writeTimeout is the server's write bound (HTTPServer sets it);
	// downloads stretch it by their size.
	writeTimeout time.Duration

	mu      sync.RWMutex
	routes  []Route
	methods []string // distinct methods of routes, for 405 answers
	schemas map[string]*Schema
}

// New builds a server with the core routes registered.
func New(opts Options) *Server {
	s := &Server{
		calls:    opts.Calls,
		cdr:      opts.CDR,
		ready:    opts.Ready,
		degraded: opts.Degraded,
		metrics:  opts.Metrics,
		log:      opts.Logger,
		queues:   slices.Clone(opts.Queues),
		mux:      http.NewServeMux(),
		schemas:  map[string]*Schema{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.ready == nil {
		s.ready = func() (bool, string) { return true, "" }
	}
	if s.degraded == nil {
		s.degraded = func() (bool, string) { return false, "" }
	}
	s.tokens = s.loadTokens(opts.Tokens)

	s.mux.HandleFunc("GET /livez", s.livez)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", s.metrics.Handler())
	s.mux.HandleFunc(Prefix, s.apiFallback)

	for name, sc := range coreSchemas() {
		s.DefineSchema(name, sc)
	}
	for _, r := range s.coreRoutes() {
		s.Handle(r)
	}
	s.handler = s.logRequests(s.mux)
	return s
}

// Handler returns the server's root handler: every route, wrapped in
// request logging, panic recovery and request metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// HandlerFunc serves one API route. A returned error is written as the JSON
// error for its domain code (see [switchboard.ErrorCode]); it must not have
// written a response first.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one /api/v1 endpoint: what the mux serves and what the OpenAPI
// document says about it, from the same value.
type Route struct {
	// Method is the HTTP method, upper case (GET also answers HEAD).
	Method string
	// Path is a net/http pattern path under [Prefix], e.g.
	// "/api/v1/calls/{id}". Each wildcard needs a Param with In "path".
	Path string
	// OperationID names the operation in the OpenAPI document; empty
	// derives one from Method and Path (GET /api/v1/cdr → getCdr).
	OperationID string
	// Summary is the one-line OpenAPI summary; required.
	Summary string
	// Description is the longer OpenAPI description (CommonMark).
	Description string
	// Public routes need no bearer token. A route is either Public or has
	// Roles; there is no "any authenticated caller" default to forget.
	Public bool
	// Roles may call the route.
	Roles []Role
	// Params are the path and query parameters. A query parameter that is
	// not listed is rejected with 400, so a typo in a filter name is an
	// error instead of an unfiltered answer.
	Params []Param
	// Body describes the JSON request body, nil when there is none. A
	// route with a body takes Content-Type application/json (415 for
	// another) of MaxBody bytes at most (413 over it); its handler reads
	// it with decodeBody. A body with no required field may be empty.
	Body *Schema
	// MaxBody bounds the body; 0 means [DefaultMaxBody].
	MaxBody int64
	// Status is the success status; 0 means 200.
	Status int
	// Response describes the JSON success body.
	Response *Schema
	// Errors lists domain error codes the handler itself may return beyond
	// those every route can (bad parameters, auth, internal), for the
	// OpenAPI responses.
	Errors []string
	// Handler serves the route after authentication, role and query checks.
	Handler HandlerFunc
}

// Param is a path or query parameter of a [Route].
type Param struct {
	// Name is the parameter's name.
	Name string
	// In is "path" or "query".
	In string
	// Description says what the parameter selects and its bounds.
	Description string
	// Required is implied for path parameters.
	Required bool
	// Schema is the value's type; nil means a string.
	Schema *Schema
}

// Handle adds a route to the mux and to the OpenAPI document. It panics on a
// malformed or duplicate route, as [http.ServeMux.Handle] does: routes are
// fixed at program start and a bad one is a programming error.
func (s *Server) Handle(r Route) {
	if err := checkRoute(r); err != nil {
		panic(fmt.Sprintf("api: route %s %s: %v", r.Method, r.Path, err))
	}
	r.Roles = slices.Clone(r.Roles)
	r.Params = slices.Clone(r.Params)
	r.Errors = slices.Clone(r.Errors)
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	if r.OperationID == "" {
		r.OperationID = operationID(r.Method, r.Path)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.routes {
		if o.Method == r.Method && o.Path == r.Path {
			panic(fmt.Sprintf("api: route %s %s registered twice", r.Method, r.Path))
		}
		if o.OperationID == r.OperationID {
			panic(fmt.Sprintf("api: operation id %q used by %s %s and %s %s", r.OperationID, o.Method, o.Path, r.Method, r.Path))
		}
	}
	s.mux.Handle(r.Method+" "+r.Path, s.wrap(r))
	s.routes = append(s.routes, r)
	if !slices.Contains(s.methods, r.Method) {
		s.methods = append(s.methods, r.Method)
	}
}

// Routes returns the registered API routes in registration order.
func (s *Server) Routes() []Route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.routes)
}

// DefineSchema adds a named schema to the OpenAPI components, for routes to
// reference as Ref("Name"). Redefining a name replaces it.
func (s *Server) DefineSchema(name string, sc *Schema) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemas[name] = sc
}

// Identity is who a request's bearer token belongs to.
type Identity struct {
	// Name is the token's configured name (never the token itself).
	Name string `json:"name"`
	// Role is the token's role.
	Role Role `json:"role"`
	// Queues is a supervisor token's queue scope (see [Token.Queues]);
	// empty for every queue, and always for admins and agents.
	Queues []switchboard.QueueName `json:"queues,omitempty"`
}

type identityKey struct{}

// IdentityFrom returns the authenticated caller of a request to a non-public
// route.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// wrap puts the auth, role and query checks every route shares in front of
// its handler.
func (s *Server) wrap(rt Route) http.Handler {
	query := map[string]bool{}
	for _, p := range rt.Params {
		if p.In == "query" {
			query[p.Name] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.Public {
			id, err := s.authenticate(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
				info.tokenName = id.Name
			}
			if !slices.Contains(rt.Roles, id.Role) {
				s.writeError(w, r, switchboard.Errorf(switchboard.EFORBIDDEN, "role %s may not %s %s", id.Role, rt.Method, rt.Path))
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		}
		if err := checkQuery(r.URL.RawQuery, query); err != nil {
			s.writeError(w, r, err)
			return
		}
		r, err := limitBody(w, r, rt)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := rt.Handler(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// apiFallback answers every /api/v1 request no route matched: 405 with Allow
// when the path exists for another method, else 404, both as JSON errors
// (the mux's own answers are plain text).
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	methods := slices.Clone(s.methods)
	s.mu.RUnlock()
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != Prefix {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, switchboard.Errorf(errMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path))
		return
	}
	s.writeError(w, r, switchboard.Errorf(switchboard.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
}

// checkRoute rejects routes the mux or the OpenAPI document could not carry
// faithfully.
func checkRoute(r Route) error {
	switch {
	case r.Method == "" || r.Method != strings.ToUpper(r.Method) || strings.ContainsAny(r.Method, " /{}"):
		return fmt.Errorf("method must be an upper-case HTTP method")
	case !strings.HasPrefix(r.Path, Prefix) || len(r.Path) == len(Prefix):
		return fmt.Errorf("path must be under %s", Prefix)
	case r.Summary == "":
		return fmt.Errorf("summary is required")
	case r.Handler == nil:
		return fmt.Errorf("handler is required")
	case r.Public && len(r.Roles) > 0:
		return fmt.Errorf("a public route takes no roles")
	case !r.Public && len(r.Roles) == 0:
		return fmt.Errorf("roles are required unless the route is public")
	}
	for _, role := range r.Roles {
		if !role.Valid() {
			return fmt.Errorf("unknown role %q", role)
		}
	}
	wild, err := wildcards(r.Path)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range r.Params {
		key := p.In + ":" + p.Name
		switch {
		case p.Name == "":
			return fmt.Errorf("parameter without a name")
		case seen[key]:
			return fmt.Errorf("parameter %s declared twice", key)
		case p.In == "path" && !slices.Contains(wild, p.Name):
			return fmt.Errorf("path parameter %q is not a wildcard of the path", p.Name)
		case p.In != "path" && p.In != "query":
			return fmt.Errorf("parameter %q: in must be path or query", p.Name)
		}
		seen[key] = true
	}
	for _, w := range wild {
		if !seen["path:"+w] {
			return fmt.Errorf("wildcard {%s} has no path parameter", w)
		}
	}
	for _, c := range r.Errors {
		if statusOf(c) == http.StatusInternalServerError {
			return fmt.Errorf("error code %q has no HTTP status", c)
		}
	}
	return nil
}

// wildcards returns the names of a pattern path's wildcards ({id},
// {rest...}); {$} is not a wildcard.
func wildcards(path string) ([]string, error) {
	var names []string
	for seg := range strings.SplitSeq(path, "/") {
		if !strings.HasPrefix(seg, "{") {
			if strings.ContainsAny(seg, "{}") {
				return nil, fmt.Errorf("wildcard must be a whole segment: %q", seg)
			}
			continue
		}
		if !strings.HasSuffix(seg, "}") {
			return nil, fmt.Errorf("bad wildcard %q", seg)
		}
		name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
		if name == "$" {
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("bad wildcard %q", seg)
		}
		names = append(names, name)
	}
	return names, nil
}

// operationID derives a camel-case id: GET /api/v1/calls/{id}/hold →
// getCallsIdHold.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(strings.TrimPrefix(path, Prefix), "/") {
		seg = strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
		if seg == "$" {
			continue
		}
		up := true
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				up = true
				continue
			}
			if up {
				b.WriteString(strings.ToUpper(string(c)))
				up = false
				continue
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}
