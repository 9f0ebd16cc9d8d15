package switchboard

import (
	"errors"
	"fmt"
)

// Error codes shared by the domain and mapped to HTTP statuses at the API edge.
const (
	ECONFLICT       = "conflict"        // the object is in the wrong state
	EINTERNAL       = "internal"        // a bug or an unexpected failure
	EINVALID        = "invalid"         // bad input
	ENOTFOUND       = "not_found"       // no such object
	EUNAUTHORIZED   = "unauthorized"    // missing or bad credentials
	EFORBIDDEN      = "forbidden"       // the role may not do this
	EUNAVAILABLE    = "unavailable"     // a dependency (the PBX) is not reachable
	EUNPROCESSABLE  = "unprocessable"   // the referenced object exists but cannot be used
	ENOTIMPLEMENTED = "not_implemented" // the PBX cannot do this
)

// Error is a domain error with a machine-readable code.
type Error struct {
	Code    string
	Message string
	Err     error // optional cause
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a domain error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic text for other errors (which may carry internal detail).
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
