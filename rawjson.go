package switchboard

import (
	"database/sql/driver"
	"fmt"
)

// RawJSON is a JSON document kept as bytes: JSON null and SQL NULL when
// empty, the document itself otherwise.
type RawJSON []byte

// MarshalJSON writes the document, or null when empty.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of the document (nil for null).
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = nil
		return nil
	}
	*r = append((*r)[:0], b...)
	return nil
}

// Scan implements sql.Scanner for TEXT or BLOB columns.
func (r *RawJSON) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*r = nil
	case string:
		*r = RawJSON(v)
	case []byte:
		*r = append(RawJSON(nil), v...)
	default:
		return fmt.Errorf("RawJSON: cannot scan %T", v)
	}
	return nil
}

// Value implements driver.Valuer: NULL when empty.
func (r RawJSON) Value() (driver.Value, error) {
	if len(r) == 0 {
		return nil, nil
	}
	return string(r), nil
}
