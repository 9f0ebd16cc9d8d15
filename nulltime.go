package switchboard

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// NullTime is a time that may be absent: JSON null and SQL NULL when unset.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// SomeTime returns a valid NullTime for t (invalid when t is zero).
func SomeTime(t time.Time) NullTime { return NullTime{Time: t, Valid: !t.IsZero()} }

// Scan implements sql.Scanner (as sql.NullTime does: NULL or a time; the
// domain package does not import database/sql).
func (n *NullTime) Scan(v any) error {
	switch t := v.(type) {
	case nil:
		*n = NullTime{}
	case time.Time:
		*n = NullTime{Time: t, Valid: true}
	default:
		return fmt.Errorf("unsupported Scan, storing driver.Value type %T into type *time.Time", v)
	}
	return nil
}

// Value implements driver.Valuer.
func (n NullTime) Value() (driver.Value, error) {
	if !n.Valid {
		return nil, nil
	}
	return n.Time, nil
}

// MarshalJSON writes null or an RFC 3339 time.
func (n NullTime) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.Time)
}

// UnmarshalJSON reads null or an RFC 3339 time.
func (n *NullTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = NullTime{}
		return nil
	}
	if err := json.Unmarshal(b, &n.Time); err != nil {
		return err
	}
	n.Valid = true
	return nil
}
