package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard"
)

// The API's own codes for 413 and 415; like errMethodNotAllowed the domain
// has no use for them.
const (
	errTooLarge        = "too_large"
	errUnsupportedType = "unsupported_media_type"
)

// DefaultMaxBody is the size bound of a route's JSON request body when the
// route sets none: every body the API takes is a small object.
const DefaultMaxBody = 16 << 10

// maxBodyless bounds what is read of a body sent to a route that takes
// none (it is ignored): enough for a client that always sends {}.
const maxBodyless = 1 << 10

type bodyKey struct{}

// bodyOf is what the route wrapper tells decodeBody about a route's body.
type bodyOf struct {
	schema *Schema
	max    int64
}

// limitBody bounds the request body and checks its media type before the
// handler runs: a body sent to a route that takes one must be
// application/json in UTF-8 (415 otherwise); an empty one is decodeBody's
// to judge (allowed when the route requires no field).
func limitBody(w http.ResponseWriter, r *http.Request, rt Route) (*http.Request, error) {
	if rt.Body == nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyless)
		return r, nil
	}
	max := rt.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	if r.ContentLength > max {
		return r, tooLarge(max)
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
		mt, params, err := mime.ParseMediaType(ct)
		switch {
		case ct == "":
			return r, switchboard.Errorf(errUnsupportedType, "Content-Type: the body must be JSON, sent with Content-Type: application/json")
		case err != nil:
			return r, switchboard.Errorf(errUnsupportedType, "Content-Type %q: %v", ct, err)
		case mt != "application/json":
			return r, switchboard.Errorf(errUnsupportedType, "Content-Type %s: the body must be application/json", mt)
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return r, switchboard.Errorf(errUnsupportedType, "Content-Type charset %s: the body must be UTF-8", cs)
		}
	}
	return r.WithContext(context.WithValue(r.Context(), bodyKey{}, bodyOf{schema: rt.Body, max: max})), nil
}

func tooLarge(max int64) error {
	return switchboard.Errorf(errTooLarge, "body: larger than this route takes (%d bytes at most)", max)
}

// decodeBody reads the request's JSON body into v, a pointer to a struct:
// one JSON object with every field the route's body schema requires, no
// field v does not have, nothing after it. An empty body leaves v as it is
// when the route's body has no required field and is an error otherwise.
// Errors say what is wrong and where (the byte offset of a syntax error,
// the field of a wrong type).
func decodeBody(r *http.Request, v any) error {
	b, _ := r.Context().Value(bodyKey{}).(bodyOf)
	var required []string
	if b.schema != nil {
		required = b.schema.Required
	}
	dec := json.NewDecoder(r.Body)
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if errors.Is(err, io.EOF) {
		if len(required) == 0 {
			return nil
		}
		return switchboard.Errorf(switchboard.EINVALID, "body: a JSON object with %s is required", strings.Join(required, ", "))
	}
	if err != nil {
		return bodyError(err, 0)
	}
	// Anything after the object but white space is refused: two objects,
	// or an object and garbage, is a client bug to report, not to guess.
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			if e := bodyError(err, 0); switchboard.ErrorCode(e) == errTooLarge {
				return e
			}
		}
		return switchboard.Errorf(switchboard.EINVALID, "body: unexpected data after the JSON object, which ends at byte %d", end)
	}
	base := end - int64(len(raw)) // white space before the object
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		for _, f := range required {
			if _, ok := fields[f]; !ok {
				return switchboard.Errorf(switchboard.EINVALID, "body: %s is required", f)
			}
		}
	}
	obj := json.NewDecoder(bytes.NewReader(raw))
	obj.DisallowUnknownFields()
	if err := obj.Decode(v); err != nil {
		return bodyError(err, base)
	}
	return nil
}

// bodyError turns a decoding error into a clear API error.
// Offsets are shifted by base, where the object starts in the body.
func bodyError(err error, base int64) error {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(tooBig.Limit)
	case errors.As(err, &syntax):
		return switchboard.Errorf(switchboard.EINVALID, "body: invalid JSON at byte %d: %s", base+syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return switchboard.Errorf(switchboard.EINVALID, "body: want a JSON object, got %s", typ.Value)
		}
		return switchboard.Errorf(switchboard.EINVALID, "body: %s: want %s, got %s (byte %d)", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value, base+typ.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return switchboard.Errorf(switchboard.EINVALID, "body: the JSON object is cut short")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return switchboard.Errorf(switchboard.EINVALID, "body: unknown field %s", f)
	}
	return switchboard.Errorf(switchboard.EINVALID, "body: %s", msg)
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(k string) string {
	switch {
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "slice", k == "array":
		return "an array"
	}
	return fmt.Sprintf("a JSON %s", k)
}
