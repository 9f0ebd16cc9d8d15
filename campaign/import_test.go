package campaign_test

import (
	"errors"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
)

// readAll reads every row of a lead file.
func readAll(t testing.TB, file string, opt campaign.ImportOptions) ([]campaign.Row, error) {
	t.Helper()
	r, err := campaign.NewReader(strings.NewReader(file), opt)
	if err != nil {
		return nil, err
	}
	var rows []campaign.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

func TestReader(t *testing.T) {
	file := "\uFEFFName,Phone,TimeZone,Plan\n" +
		"Ada,(212) 555-0123,,gold\n" + // line 2: zone from the number
		"Bob,+44 20 7123 4567,Europe/London,\n" + // line 3: international, zone given
		"Cy,12345,,\n" + // line 4: too short
		"Di,+1 650 253 0000,Mars/Olympus,\n" + // line 5: bad zone
		"Ed,312-555-0100\n" + // line 6: missing fields
		"\n" + // blank: not a record
		"\"Fay\nFoo\",650.253.0000,,silver\n" + // lines 8-9: a quoted newline
		"Gus,,,\n" + // line 10: no number
		"Hal,\"bad\"quote,,\n" + // line 11: CSV syntax
		"Ida,312 555 0100,,\n" // line 12
	rows, err := readAll(t, file, campaign.ImportOptions{Campaign: "spring", Region: "us"})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Line   int
		Number string
		Zone   string
		Data   map[string]string
		Reason string
	}
	var gots []got
	for _, r := range rows {
		gots = append(gots, got{r.Line, r.Lead.Number, r.Lead.TimeZone, r.Lead.Data, r.Reason})
	}
	want := []got{
		{2, "+12125550123", "America/New_York", map[string]string{"Name": "Ada", "Plan": "gold"}, ""},
		{3, "+442071234567", "Europe/London", map[string]string{"Name": "Bob"}, ""},
		{4, "", "", nil, `invalid number "12345": not a valid number in country code +1`},
		{5, "", "", nil, `bad time zone "Mars/Olympus" in column "TimeZone"`},
		{6, "", "", nil, "wrong column count: 2 fields, the header has 4"},
		{8, "+16502530000", "America/Los_Angeles", map[string]string{"Name": "Fay\nFoo", "Plan": "silver"}, ""},
		{10, "", "", nil, `no phone number in column "Phone"`},
		{11, "", "", nil, `bad CSV: extraneous or missing " in quoted-field`},
		{12, "+13125550100", "America/Chicago", map[string]string{"Name": "Ida"}, ""},
	}
	if !reflect.DeepEqual(gots, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", gots, want)
	}
	for _, r := range rows {
		if r.Reason == "" && (r.Lead.Campaign != "spring" || r.Lead.State != sb.LeadNew || r.Lead.Region == "") {
			t.Errorf("line %d: lead %+v", r.Line, r.Lead)
		}
	}
}

func TestReaderHeader(t *testing.T) {
	tests := []struct {
		name, file string
		opt        campaign.ImportOptions
		err        string // "" = accepted
	}{
		{"empty", "", campaign.ImportOptions{}, "the file is empty"},
		{"no phone column", "name,mobile\nA,1\n", campaign.ImportOptions{}, "has no phone number column (want phone, number, phone_number)"},
		{"named column", "name,mobile\nA,+12125550123\n", campaign.ImportOptions{NumberColumn: "MOBILE"}, ""},
		{"named column missing", "name,phone\n", campaign.ImportOptions{NumberColumn: "mobile"}, "(want mobile)"},
		{"named zone column missing", "phone\n", campaign.ImportOptions{TimeZoneColumn: "zone"}, `no time zone column "zone"`},
		{"duplicate column", "phone,Phone\n", campaign.ImportOptions{}, `column "Phone" appears twice (columns 1 and 2)`},
		{"phone_number", "PHONE_NUMBER\n", campaign.ImportOptions{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := campaign.NewReader(strings.NewReader(tt.file), tt.opt)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region, want, wantRegion string
		bad                           bool
	}{
		{"(212) 555-0123", "US", "+12125550123", "US", false},
		{"+1 212 555 0123", "", "+12125550123", "US", false},
		{"020 7123 4567", "GB", "+442071234567", "GB", false},
		{"0044 20 7123 4567", "DE", "+442071234567", "GB", false},
		{"212 555 0123", "", "", "", true}, // no region, no country code
		{"555-0123", "US", "", "", true},
		{"call me", "US", "", "", true},
		{"+999 1234", "US", "", "", true},
	}
	for _, tt := range tests {
		got, region, err := campaign.Normalize(tt.raw, tt.region)
		if (err != nil) != tt.bad || got != tt.want || region != tt.wantRegion {
			t.Errorf("Normalize(%q, %q) = %q, %q, %v; want %q, %q (bad %v)", tt.raw, tt.region, got, region, err, tt.want, tt.wantRegion, tt.bad)
		}
	}
}

func TestReadDNC(t *testing.T) {
	tests := []struct {
		name, file string
		want       []campaign.DNCEntry
	}{
		{"one per line", "2125550123\n+44 20 7123 4567\nnope\n", []campaign.DNCEntry{
			{Line: 1, Number: "+12125550123", Raw: "2125550123"},
			{Line: 2, Number: "+442071234567", Raw: "+44 20 7123 4567"},
			{Line: 3, Raw: "nope", Reason: `invalid number "nope": the phone number supplied is not a number`},
		}},
		{"csv with header", "added,Phone_Number\n2026-01-01,(650) 253-0000\n2026-01-02\n", []campaign.DNCEntry{
			{Line: 2, Number: "+16502530000", Raw: "(650) 253-0000"},
			{Line: 3, Reason: "no column 2"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []campaign.DNCEntry
			err := campaign.ReadDNC(strings.NewReader(tt.file), "US", func(e campaign.DNCEntry) error {
				got = append(got, e)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestMergeData(t *testing.T) {
	got := campaign.MergeData(map[string]string{"name": "Ada", "plan": "gold"}, map[string]string{"plan": "silver", "note": "", "city": "NYC"})
	want := map[string]string{"name": "Ada", "plan": "silver", "city": "NYC"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeData = %v, want %v", got, want)
	}
}

// FuzzImportCSV feeds arbitrary bytes to the lead reader: it must not
// panic, and every record must come back once, accepted (a new lead or a
// duplicate merged into one) or rejected with a line and a reason.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("phone,name\n2125550123,Ada\n+442071234567,Bob\n2125550123,Ada again\n"))
	f.Add([]byte("Number;tz\n+1 650 253 0000;America/Los_Angeles\n"))
	f.Add([]byte("phone,timezone,x\n\"212\n555\",Mars/Olympus,1\n\"unterminated\n"))
	f.Add([]byte("\uFEFFphone_number\n\xff\xfe\n+999\n0\n"))
	f.Add([]byte("phone,a,b\n1,2\n1,2,3,4\n\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := campaign.NewReader(strings.NewReader(string(data)), campaign.ImportOptions{Campaign: "fuzz", Region: "US"})
		if err != nil {
			return // no usable header: the whole file is refused, with a reason
		}
		seen := map[string]bool{}
		var read, imported, merged, rejected int
		lastLine := 1
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			read++
			if row.Line <= lastLine {
				t.Fatalf("row %d at line %d after line %d", read, row.Line, lastLine)
			}
			lastLine = row.Line
			switch {
			case row.Reason != "":
				rejected++
				if row.Lead.Number != "" {
					t.Fatalf("line %d rejected (%s) with a lead %+v", row.Line, row.Reason, row.Lead)
				}
			case !strings.HasPrefix(row.Lead.Number, "+") || row.Lead.TimeZone == "":
				t.Fatalf("line %d accepted without an E.164 number or zone: %+v", row.Line, row.Lead)
			case seen[row.Lead.Number]:
				merged++
			default:
				seen[row.Lead.Number] = true
				imported++
			}
			if read > len(data)+1 {
				t.Fatalf("%d rows from %d bytes", read, len(data))
			}
		}
		if imported+merged+rejected != read || imported != len(seen) {
			t.Fatalf("read %d, imported %d, merged %d, rejected %d", read, imported, merged, rejected)
		}
	})
}

// e164 is a number as ReadDNC accepts it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)

// FuzzReadDNC feeds arbitrary bytes to the do-not-call reader: every
// record comes back once, at a line of the file, accepted as an E.164
// number or rejected with a reason; the accepted numbers read back
// unchanged as a one-per-line list; an error from the callback stops the
// reading and is returned.
func FuzzReadDNC(f *testing.F) {
	for _, s := range []string{
		"2125550123\n+44 20 7123 4567\nnope\n",
		"added,Phone_Number\n2026-01-01,(650) 253-0000\n2026-01-02\n",
		"\uFEFFnumber\r\n+1 650 253 0000\r\n+33 1 42 68 53 00\r\n",
		"phone;name\n2125550123;Ada\n", "\"212\n555 0123\"\n\"unterminated\n", "a\"b\n2125550123\n",
		"+999\n0\n\xff\xfe\n\n\n,,,\n2125550123,extra,fields\n", "tel:+1-212-555-0123\n1 (800) FLOWERS\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<10 {
			return // a list is long, not its lines: long inputs only slow the fuzzer
		}
		lines := strings.Count(string(data), "\n") + 1
		var entries []campaign.DNCEntry
		err := campaign.ReadDNC(strings.NewReader(string(data)), "US", func(e campaign.DNCEntry) error {
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			t.Fatalf("ReadDNC: %v", err)
		}
		if len(entries) > lines {
			t.Fatalf("%d entries from %d lines", len(entries), lines)
		}
		var accepted []string
		last := 0
		for _, e := range entries {
			if e.Line <= last || e.Line > lines {
				t.Fatalf("entry %+v after line %d of %d", e, last, lines)
			}
			last = e.Line
			switch {
			case e.Reason == "" && !e164.MatchString(e.Number):
				t.Fatalf("line %d accepted as %q", e.Line, e.Number)
			case e.Reason != "" && e.Number != "":
				t.Fatalf("line %d rejected (%s) with number %q", e.Line, e.Reason, e.Number)
			case e.Reason == "":
				accepted = append(accepted, e.Number)
			}
		}
		var again []string
		err = campaign.ReadDNC(strings.NewReader(strings.Join(accepted, "\n")), "US", func(e campaign.DNCEntry) error {
			if e.Reason != "" || e.Line != len(again)+1 {
				t.Fatalf("re-reading %q: %+v", accepted, e)
			}
			again = append(again, e.Number)
			return nil
		})
		if err != nil || !slices.Equal(again, accepted) {
			t.Fatalf("numbers %q read back as %q (%v)", accepted, again, err)
		}
		if len(entries) > 0 {
			stop := errors.New("stop")
			calls := 0
			err = campaign.ReadDNC(strings.NewReader(string(data)), "US", func(campaign.DNCEntry) error { calls++; return stop })
			if !errors.Is(err, stop) || calls != 1 {
				t.Fatalf("callback error: ReadDNC = %v after %d calls", err, calls)
			}
		}
	})
}
