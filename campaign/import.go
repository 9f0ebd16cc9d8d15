package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	sb "github.com/switchboard/switchboard"
)

// NumberColumns are the header names taken as the phone number column when
// none is named (compared without case).
var NumberColumns = []string{"phone", "number", "phone_number"}

// TimeZoneColumns are the header names taken as the lead's time zone column
// when none is named (compared without case).
var TimeZoneColumns = []string{"timezone", "time_zone", "tz"}

// ImportOptions configures a lead file reader.
type ImportOptions struct {
	// Campaign is set on every lead read.
	Campaign string
	// Region is the ISO 3166 region of numbers written without a country
	// code ("US"); empty accepts only international numbers (+...).
	Region string
	// NumberColumn names the phone number column; empty looks for one of
	// NumberColumns.
	NumberColumn string
	// TimeZoneColumn names the time zone column; empty looks for one of
	// TimeZoneColumns (the column is optional).
	TimeZoneColumn string
}

// Row is one record of a lead file: a lead, or the reason it was rejected.
type Row struct {
	// Line is the line of the file where the record starts (the header is 1).
	Line int
	// Lead is the lead read, when Reason is empty.
	Lead sb.Lead
	// Reason says why the record was rejected; empty if it was accepted.
	Reason string
	// Record holds the fields as read, for a rejects file.
	Record []string
}

// Reader reads leads from a CSV file with a header row. Every record after
// the header comes back from Next as a Row, accepted or rejected with its
// line and reason: none is dropped. (Blank lines are not records.)
type Reader struct {
	csv    *csv.Reader
	opt    ImportOptions
	header []string
	numCol int
	tzCol  int // -1: none
	done   bool
}

// NewReader reads the header of a lead file. It fails if the header is
// missing or unreadable, names a column twice or has no phone number column.
func NewReader(r io.Reader, opt ImportOptions) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // column counts are checked per row, to report them
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty: a header row naming a phone column is required")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF") // a spreadsheet's byte-order mark
	}
	rd := &Reader{csv: cr, opt: opt, header: header, numCol: -1, tzCol: -1}
	seen := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("header: column %d is not UTF-8 text", i+1)
		}
		if h == "" {
			continue
		}
		if j, dup := seen[h]; dup {
			return nil, fmt.Errorf("header: column %q appears twice (columns %d and %d)", header[i], j+1, i+1)
		}
		seen[h] = i
	}
	find := func(named string, defaults []string) (int, bool) {
		if named != "" {
			i, ok := seen[strings.ToLower(strings.TrimSpace(named))]
			return i, ok
		}
		for _, d := range defaults {
			if i, ok := seen[d]; ok {
				return i, true
			}
		}
		return -1, false
	}
	var ok bool
	if rd.numCol, ok = find(opt.NumberColumn, NumberColumns); !ok {
		want := strings.Join(NumberColumns, ", ")
		if opt.NumberColumn != "" {
			want = opt.NumberColumn
		}
		return nil, fmt.Errorf("header %q has no phone number column (want %s)", strings.Join(header, ","), want)
	}
	if rd.tzCol, ok = find(opt.TimeZoneColumn, TimeZoneColumns); !ok {
		if opt.TimeZoneColumn != "" {
			return nil, fmt.Errorf("header %q has no time zone column %q", strings.Join(header, ","), opt.TimeZoneColumn)
		}
		rd.tzCol = -1
	}
	return rd, nil
}

// Header returns the header row.
func (r *Reader) Header() []string { return slices.Clone(r.header) }

// Next returns the next record as a Row, or io.EOF after the last. A
// record the CSV syntax rejects (a stray quote) is a rejected Row too.
func (r *Reader) Next() (Row, error) {
	if r.done {
		return Row{}, io.EOF
	}
	rec, err := r.csv.Read()
	if errors.Is(err, io.EOF) {
		r.done = true
		return Row{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := fmt.Sprintf("bad CSV: %v", pe.Err)
		if pe.Line != pe.StartLine {
			reason = fmt.Sprintf("bad CSV (lines %d-%d): %v", pe.StartLine, pe.Line, pe.Err)
		}
		return Row{Line: pe.StartLine, Reason: reason, Record: rec}, nil
	}
	if err != nil {
		// Not a syntax error: the reader itself failed, and the rest of the
		// file cannot be read.
		r.done = true
		return Row{}, err
	}
	line, _ := r.csv.FieldPos(0)
	row := Row{Line: line, Record: rec}
	row.Lead, row.Reason = r.lead(rec)
	return row, nil
}

// lead makes the lead of one record, or says why it cannot.
func (r *Reader) lead(rec []string) (sb.Lead, string) {
	if len(rec) != len(r.header) {
		return sb.Lead{}, fmt.Sprintf("wrong column count: %d fields, the header has %d", len(rec), len(r.header))
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return sb.Lead{}, fmt.Sprintf("column %d is not UTF-8 text", i+1)
		}
	}
	raw := strings.TrimSpace(rec[r.numCol])
	if raw == "" {
		return sb.Lead{}, fmt.Sprintf("no phone number in column %q", r.header[r.numCol])
	}
	number, region, err := Normalize(raw, r.opt.Region)
	if err != nil {
		return sb.Lead{}, err.Error()
	}
	l := sb.Lead{Campaign: r.opt.Campaign, Number: number, Region: region, State: sb.LeadNew}
	if r.tzCol >= 0 {
		if tz := strings.TrimSpace(rec[r.tzCol]); tz != "" {
			if _, err := loadZone(tz); err != nil {
				return sb.Lead{}, fmt.Sprintf("bad time zone %q in column %q", tz, r.header[r.tzCol])
			}
			l.TimeZone = tz
		}
	}
	if l.TimeZone == "" {
		if l.TimeZone = ZoneOf(number); l.TimeZone == "" {
			return sb.Lead{}, fmt.Sprintf("no time zone is known for %s: add a timezone column", number)
		}
	}
	for i, v := range rec {
		if i == r.numCol || i == r.tzCol {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if l.Data == nil {
			l.Data = map[string]string{}
		}
		l.Data[r.column(i)] = v
	}
	return l, ""
}

// column is the data key of column i: its header name, or column_N for an
// unnamed column.
func (r *Reader) column(i int) string {
	if h := strings.TrimSpace(r.header[i]); h != "" {
		return h
	}
	return fmt.Sprintf("column_%d", i+1)
}

// Normalize returns number in E.164 and its region. A number without a
// country code is read in region (empty: such numbers are refused).
// Numbers that are not valid for their country are refused.
func Normalize(raw, region string) (e164, numberRegion string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", errors.New("empty number")
	}
	// phonenumbers may panic on some malformed input: a bad row must not
	// end the import.
	defer func() {
		if p := recover(); p != nil {
			e164, numberRegion, err = "", "", fmt.Errorf("invalid number %q", raw)
		}
	}()
	def := strings.ToUpper(strings.TrimSpace(region))
	if def == "" {
		def = phonenumbers.UNKNOWN_REGION
	}
	n, perr := phonenumbers.Parse(raw, def)
	if perr != nil {
		return "", "", fmt.Errorf("invalid number %q: %v", raw, perr)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", "", fmt.Errorf("invalid number %q: not a valid number in %s", raw, regionName(n))
	}
	return phonenumbers.Format(n, phonenumbers.E164), phonenumbers.GetRegionCodeForNumber(n), nil
}

func regionName(n *phonenumbers.PhoneNumber) string {
	if r := phonenumbers.GetRegionCodeForNumber(n); r != "" && r != phonenumbers.UNKNOWN_REGION {
		return r
	}
	return fmt.Sprintf("country code +%d", n.GetCountryCode())
}

// ZoneOf returns the time zone of an E.164 number from its prefix, or ""
// when none is known. When a prefix spans several zones (a US area code
// across two states, a whole country) the first one libphonenumber lists is
// taken, so the same number always gets the same zone.
func ZoneOf(e164 string) string {
	zones, err := phonenumbers.GetTimezonesForPrefix(e164)
	if err != nil {
		return ""
	}
	for _, z := range zones {
		if z == "" || z == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if _, err := loadZone(z); err == nil {
			return z
		}
	}
	return ""
}

// MergeData returns old with the non-empty values of add over it: a lead
// imported twice keeps the data of both rows, the later winning.
func MergeData(old, add map[string]string) map[string]string {
	if len(add) == 0 {
		return old
	}
	out := make(map[string]string, len(old)+len(add))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range add {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// DNCEntry is one line of a do-not-call list: a number, or why the line was
// rejected.
type DNCEntry struct {
	Line   int
	Number string // E.164, when Reason is empty
	Reason string
	Raw    string
}

// ReadDNC reads a do-not-call list: one number per line, or a CSV file
// whose first row names a phone column (one of NumberColumns; otherwise the
// first column is taken and the first row is a number too). Numbers are
// normalised as in Normalize; fn is called for every record, accepted or
// not. An error from fn stops the reading and is returned.
func ReadDNC(r io.Reader, region string, fn func(DNCEntry) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col := 0
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if err := fn(DNCEntry{Line: pe.StartLine, Reason: fmt.Sprintf("bad CSV: %v", pe.Err)}); err != nil {
				return err
			}
			first = false
			continue
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			}
			header := false
			for i, h := range rec {
				if slices.Contains(NumberColumns, strings.ToLower(strings.TrimSpace(h))) {
					col, header = i, true
					break
				}
			}
			if header {
				continue
			}
		}
		e := DNCEntry{Line: line}
		if col < len(rec) {
			e.Raw = rec[col]
		}
		switch {
		case col >= len(rec):
			e.Reason = fmt.Sprintf("no column %d", col+1)
		case !utf8.ValidString(e.Raw):
			e.Reason = "not UTF-8 text"
		default:
			if e.Number, _, err = Normalize(e.Raw, region); err != nil {
				e.Number, e.Reason = "", err.Error()
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}
