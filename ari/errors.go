package ari

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	sb "github.com/switchboard/switchboard"
)

// codeForStatus maps an ARI HTTP status to a switchboard error code.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return sb.EINVALID
	case http.StatusUnauthorized:
		return sb.EUNAUTHORIZED
	case http.StatusForbidden:
		return sb.EFORBIDDEN
	case http.StatusNotFound:
		return sb.ENOTFOUND
	case http.StatusConflict, http.StatusPreconditionFailed:
		// 412: the channel is not in a state that allows the operation
		// (e.g. DTMF to a channel that is not up).
		return sb.ECONFLICT
	case http.StatusUnprocessableEntity:
		return sb.EUNPROCESSABLE
	case http.StatusNotImplemented:
		return sb.ENOTIMPLEMENTED
	case http.StatusServiceUnavailable:
		return sb.EUNAVAILABLE
	}
	return sb.EINTERNAL
}

// chain calls f for err and every error beneath it, following both Unwrap
// (the standard library, eris) and Cause (the native client's errDataGet),
// until f returns true.
func chain(err error, f func(error) bool) bool {
	for depth := 0; err != nil && depth < 64; depth++ {
		if f(err) {
			return true
		}
		switch e := err.(type) {
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Cause() error }:
			err = e.Cause()
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				if chain(x, f) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// statusOf finds the HTTP status in an ari/v6 native client error: the
// client returns a value with Code() int for a non-2xx answer, which its
// wrappers hide behind Unwrap (eris) or Cause (errDataGet) chains.
func statusOf(err error) (status int) {
	chain(err, func(e error) bool {
		if c, ok := e.(interface{ Code() int }); ok {
			status = c.Code()
			return true
		}
		return false
	})
	return status
}

// isUnreachable reports whether err is a transport failure: no answer from
// Asterisk at all (refused, reset, timed out, DNS).
func isUnreachable(err error) bool {
	return chain(err, func(e error) bool {
		switch e.(type) {
		case *url.Error, *net.OpError, *net.DNSError, net.Error:
			return true
		}
		return false
	})
}

// classify turns an error from the native client (or a context error) into
// a switchboard *Error with a code. The original error stays the cause.
func classify(method, path string, err error) error {
	if err == nil {
		return nil
	}
	var se *sb.Error
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, errPoolTimeout):
		return &sb.Error{Code: sb.EUNAVAILABLE, Message: fmt.Sprintf("ARI %s %s: no free connection to Asterisk in time (all asterisk.max_connections busy)", method, path), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &sb.Error{Code: sb.EUNAVAILABLE, Message: fmt.Sprintf("ARI %s %s: no answer in time", method, path), Err: err}
	case errors.Is(err, context.Canceled):
		return &sb.Error{Code: sb.EUNAVAILABLE, Message: fmt.Sprintf("ARI %s %s: canceled", method, path), Err: err}
	}
	if st := statusOf(err); st != 0 {
		return &sb.Error{Code: codeForStatus(st), Message: fmt.Sprintf("ARI %s %s: %d %s", method, path, st, http.StatusText(st)), Err: err}
	}
	if isUnreachable(err) {
		return &sb.Error{Code: sb.EUNAVAILABLE, Message: fmt.Sprintf("ARI %s %s: Asterisk unreachable", method, path), Err: err}
	}
	return &sb.Error{Code: sb.EINTERNAL, Message: fmt.Sprintf("ARI %s %s", method, path), Err: err}
}

// statusError builds the error for a non-2xx answer the adapter read itself;
// msg is Asterisk's {"message": ...} or {"error": ...} text when present.
func statusError(method, path string, status int, msg string) error {
	m := fmt.Sprintf("ARI %s %s: %d %s", method, path, status, http.StatusText(status))
	if msg != "" {
		m += ": " + msg
	}
	return &sb.Error{Code: codeForStatus(status), Message: m}
}
