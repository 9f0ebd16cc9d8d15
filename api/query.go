package api

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard"
)

// CDR page sizes.
const (
	// DefaultCDRLimit is the page size when the limit parameter is absent.
	DefaultCDRLimit = 100
	// MaxCDRLimit is the largest page GET /api/v1/cdr serves.
	MaxCDRLimit = 1000
	// maxFilterLen bounds free-text filters (numbers, agent ids, queue
	// names); anything longer is a mistake or an attack.
	maxFilterLen = 256
)

// checkQuery rejects a malformed query string and parameters the route does
// not declare.
func checkQuery(raw string, known map[string]bool) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return switchboard.Errorf(switchboard.EINVALID, "malformed query string")
	}
	var unknown []string
	for k := range q {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return switchboard.Errorf(switchboard.EINVALID, "unknown query parameter %q", unknown[0])
	}
	return nil
}

// badParam is the EINVALID error for a query parameter; the message always
// names the parameter so an integrator can fix the request without reading
// server logs.
func badParam(name, format string, args ...any) error {
	return switchboard.Errorf(switchboard.EINVALID, "invalid parameter %q: %s", name, fmt.Sprintf(format, args...))
}

// parseCDRFilter reads a call-log filter from a query:
//
//	from, to   RFC 3339 times; entered at or after from, before to
//	caller, called, agent, queue   exact match
//	outcome    one of switchboard.Outcomes
//	limit      page size 1..1000, default 100
//	offset     rows to skip, >= 0
//
// An empty value does not filter. A repeated parameter is an error rather
// than a silent pick of one value.
func parseCDRFilter(q url.Values) (switchboard.CDRFilter, error) {
	f := switchboard.CDRFilter{Limit: DefaultCDRLimit}
	for k, vs := range q {
		if len(vs) > 1 {
			return f, badParam(k, "given more than once")
		}
	}
	var err error
	if f.From, f.To, err = timeRange(q); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, badParam("to", "must be after from")
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{
		{"caller", &f.Caller},
		{"called", &f.Called},
		{"agent", (*string)(&f.Agent)},
		{"queue", (*string)(&f.Queue)},
	} {
		v := q.Get(p.name)
		if len(v) > maxFilterLen {
			return f, badParam(p.name, "longer than %d bytes", maxFilterLen)
		}
		*p.dst = v
	}
	if v := q.Get("outcome"); v != "" {
		if !slices.Contains(switchboard.Outcomes, switchboard.Outcome(v)) {
			return f, badParam("outcome", "must be one of %v", switchboard.Outcomes)
		}
		f.Outcome = switchboard.Outcome(v)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxCDRLimit {
			return f, badParam("limit", "must be an integer from 1 to %d", MaxCDRLimit)
		}
		f.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, badParam("offset", "must be a non-negative integer")
		}
		f.Offset = n
	}
	return f, nil
}

// timeParam parses an optional RFC 3339 time parameter.
// timeRange reads the from and to parameters (zero when absent).
func timeRange(q url.Values) (from, to time.Time, err error) {
	if from, err = timeParam(q, "from"); err != nil {
		return from, to, err
	}
	to, err = timeParam(q, "to")
	return from, to, err
}

func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		hint := ""
		if strings.Contains(v, " ") {
			// A literal + in a query string decodes as a space.
			hint = " (encode the + of a zone offset as %2B)"
		}
		return time.Time{}, badParam(name, "must be an RFC 3339 time such as 2025-01-31T08:00:00Z%s", hint)
	}
	return t, nil
}
