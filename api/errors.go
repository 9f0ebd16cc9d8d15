package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/switchboard/switchboard"
)

// errorBody is the JSON shape of every /api/v1 error:
// {"error":{"code":"...","message":"..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusOf maps a domain error code to its HTTP status. Unknown codes, and
// EINTERNAL, are 500.
func statusOf(code string) int {
	switch code {
	case switchboard.EINVALID:
		return http.StatusBadRequest
	case switchboard.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case switchboard.EFORBIDDEN:
		return http.StatusForbidden
	case switchboard.ENOTFOUND:
		return http.StatusNotFound
	case switchboard.ECONFLICT:
		return http.StatusConflict
	case switchboard.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case switchboard.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case switchboard.ENOTIMPLEMENTED:
		return http.StatusNotImplemented
	case errMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case errTooLarge:
		return http.StatusRequestEntityTooLarge
	case errUnsupportedType:
		return http.StatusUnsupportedMediaType
	default:
		return http.StatusInternalServerError
	}
}

// errMethodNotAllowed is the API's own code for 405; the domain has no use
// for it, so it is not in the root package.
const errMethodNotAllowed = "method_not_allowed"

// writeError writes err as a JSON error. A 500 never carries the error's
// text: the detail may hold SQL, paths or PBX internals, so it is logged with
// the request and the client gets a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := switchboard.ErrorCode(err)
	status := statusOf(code)
	msg := switchboard.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelError, "api error",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("code", code),
			slog.String("err", err.Error()),
		)
		code, msg = switchboard.EINTERNAL, "internal error"
	}
	if status == http.StatusUnauthorized {
		realm := `Bearer realm="switchboard"`
		if errors.Is(err, errBadToken) {
			realm += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", realm)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // a JSON API, not HTML: keep <token> readable
	if err := enc.Encode(v); err != nil {
		// Only a programming error (an unmarshalable type) gets here.
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"internal error"}}` + "\n")
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	// Every answer is live state or depends on the token: never cache.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
