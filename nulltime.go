package switchboard

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"time"
)

// NullTime is a time that may be absent: JSON null and SQL NULL when unset.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// SomeTime returns a valid NullTime for t (invalid when t is zero).
func SomeTime(t time.Time) NullTime { return NullTime{Time: t, Valid: !t.IsZero()} }

// Scan implements sql.Scanner.
func (n *NullTime) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	n.Time, n.Valid = nt.Time, nt.Valid
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
