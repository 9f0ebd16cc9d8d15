package sim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// request carries one ARI call's path values and parameters. Asterisk
// takes parameters from the query string or, equally, from a JSON object
// body (the ari/v6 native client sends most of them that way).
type request struct {
	r    *http.Request
	q    url.Values
	body map[string]any
}

func (r *request) path(name string) string { return r.r.PathValue(name) }

func (r *request) has(name string) bool {
	if r.q.Has(name) {
		return true
	}
	v, ok := r.body[name]
	return ok && v != nil
}

func (r *request) str(name string) string {
	if r.q.Has(name) {
		return r.q.Get(name)
	}
	switch v := r.body[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (r *request) intParam(name string, def int) (int, bool) {
	v := r.str(name)
	if v == "" {
		return def, true
	}
	i, err := strconv.Atoi(v)
	if err != nil {
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil {
			return int(f), true
		}
		return 0, false
	}
	return i, true
}

func (r *request) boolParam(name string) bool {
	v := r.str(name)
	return v == "true" || v == "1" || v == "yes"
}

// list returns a repeated or comma-separated query parameter (media=a&media=b,
// media=a,b, or a JSON array).
func (r *request) list(name string) []string {
	var out []string
	if vals, ok := r.q[name]; ok {
		for _, v := range vals {
			out = append(out, splitComma(v)...)
		}
		return out
	}
	// In a JSON body, as in Asterisk's generated parsers
	// (res_ari_*.c, *_parse_body), a string is one value, commas and all,
	// and an array's strings are its values: only a query parameter is
	// split on commas.
	switch v := r.body[name].(type) {
	case string:
		if v != "" {
			out = append(out, v)
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// variables reads the "variables" body object ({"variables": {...}} or a
// bare object of variables).
func (r *request) variables() map[string]string {
	out := map[string]string{}
	v, ok := r.body["variables"].(map[string]any)
	if !ok {
		return out
	}
	for k, x := range v {
		switch t := x.(type) {
		case string:
			out[k] = t
		case json.Number:
			out[k] = t.String()
		case bool:
			out[k] = strconv.FormatBool(t)
		}
	}
	return out
}

// reply is a handler's answer: status and JSON body (nil = no body).
type reply struct {
	code int
	body any
}

func ok(body any) reply      { return reply{http.StatusOK, body} }
func created(body any) reply { return reply{http.StatusCreated, body} }
func noContent() reply       { return reply{http.StatusNoContent, nil} }
func fail(code int, msg string) reply {
	return reply{code, errBody(msg)}
}

func errBody(msg string) map[string]string { return map[string]string{"message": msg} }

func writeJSON(w http.ResponseWriter, code int, body any) {
	if body == nil {
		w.WriteHeader(code)
		return
	}
	b, err := marshalJSON(body)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.User == "" {
		return true
	}
	want := s.opts.Password
	if np := s.pass.Load(); np != nil {
		want = *np
	}
	hdr := r.Header.Get("Authorization")
	if last := s.lastAuth.Load(); last != nil && last.pass == want && hdr != "" &&
		constantTimeEqual(hdr, last.header) {
		return true // the credentials the last request carried: decoded once
	}
	if !s.checkAuth(r, want) {
		return false
	}
	if hdr != "" {
		s.lastAuth.Store(&acceptedAuth{header: hdr, pass: want})
	}
	return true
}

// constantTimeEqual is subtle.ConstantTimeCompare of two strings.
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// acceptedAuth is an Authorization header accepted with password pass.
type acceptedAuth struct{ header, pass string }

func (s *Server) checkAuth(r *http.Request, want string) bool {
	u, p, ok := r.BasicAuth()
	if !ok {
		if k := r.URL.Query().Get("api_key"); k != "" {
			u, p, ok = strings.Cut(k, ":")
		}
	}
	return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(want)) == 1
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Asterisk REST Interface"`)
	writeJSON(w, http.StatusUnauthorized, errBody("Authentication required"))
}

// route is one ARI operation: method and Swagger path (relative to /ari).
type route struct {
	method, path string
	h            func(s *Server, r *request) reply
}

// wrap authenticates, parses parameters and runs h under the state lock,
// through the request faults of fp (noFault: none).
func (s *Server) wrap(h func(*Server, *request) reply, fp faultPoint) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		if !s.authorized(hr) {
			unauthorized(w)
			return
		}
		req := &request{r: hr}
		if hr.URL.RawQuery != "" {
			req.q = hr.URL.Query() // else nil: no parameters
		}
		if hr.Body != nil && hr.ContentLength != 0 {
			var buf bytes.Buffer
			if n := hr.ContentLength; n > 0 && n < 1<<20 {
				buf.Grow(int(n) + bytes.MinRead) // one read, no regrowth
			}
			if _, err := buf.ReadFrom(http.MaxBytesReader(w, hr.Body, 1<<20)); err != nil {
				writeJSON(w, http.StatusBadRequest, errBody("Could not read request body"))
				return
			}
			if b := bytes.TrimSpace(buf.Bytes()); len(b) > 0 && !bytes.Equal(b, []byte("null")) {
				m, ok := parseBody(b)
				if !ok {
					dec := json.NewDecoder(bytes.NewReader(b))
					dec.UseNumber()
					m = nil
					if err := dec.Decode(&m); err != nil {
						writeJSON(w, http.StatusBadRequest, errBody("Request body is not a JSON object"))
						return
					}
				}
				req.body = m
			}
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			writeJSON(w, http.StatusServiceUnavailable, errBody("Asterisk is shutting down"))
			return
		}
		var rep reply
		if fp == noFault {
			rep = h(s, req)
		} else if r, open := s.faulted(fp, req, h); open {
			rep = r
		} else {
			s.mu.Unlock()
			writeJSON(w, http.StatusServiceUnavailable, errBody("Asterisk is shutting down"))
			return
		}
		s.mu.Unlock()
		writeJSON(w, rep.code, rep.body)
	}
}

// routes builds the mux from routeTable.
func (s *Server) routes() *countingMux {
	mux := newCountingMux(s)
	for _, rt := range routeTable() {
		mux.HandleFunc(rt.method+" /ari"+rt.path, s.wrap(rt.h, faultPoints[rt.method+" "+rt.path]))
	}
	mux.HandleFunc("GET /ari/events", s.handleEvents)
	mux.HandleFunc("GET /ari/recordings/stored/{recordingName}/file", s.handleRecordingFile)
	s.apiDocRoutes(mux)
	mux.HandleFunc("/ari/", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			unauthorized(w)
			return
		}
		writeJSON(w, http.StatusNotFound, errBody("Resource not found"))
	})
	return mux
}

// Routes lists every ARI operation the simulator serves as "METHOD /path"
// with Swagger path templates (e.g. "POST /channels/{channelId}/play").
func Routes() []string {
	var out []string
	for _, rt := range routeTable() {
		out = append(out, rt.method+" "+rt.path)
	}
	return append(out, "GET /events", "GET /recordings/stored/{recordingName}/file")
}
