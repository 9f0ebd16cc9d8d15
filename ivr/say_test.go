package ivr

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSayMedia(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	const (
		minus  = "sound:digits/minus"
		point  = "sound:point"
		oclock = "sound:digits/oclock"
		oh     = "sound:digits/oh"
		am     = "sound:digits/a-m"
		pm     = "sound:digits/p-m"
	)
	tests := []struct {
		kind     SayKind
		value    string
		currency string
		lang     string
		want     []string // nil: unspeakable
	}{
		{SayDigits, "123", "", "", []string{"digits:123"}},
		{SayDigits, "+1 555-0100", "", "", []string{"digits:15550100"}},
		{SayDigits, "12#", "", "", []string{"digits:12#"}},
		{SayDigits, "12a", "", "", nil},
		{SayDigits, "", "", "", nil},

		{SayNumber, "42", "", "", []string{"number:42"}},
		{SayNumber, " 007 ", "", "", []string{"number:7"}},
		{SayNumber, "-7", "", "", []string{minus, "number:7"}},
		{SayNumber, "+3", "", "", []string{"number:3"}},
		{SayNumber, "12.05", "", "", []string{"number:12", point, "digits:05"}},
		{SayNumber, "-0.5", "", "", []string{minus, "number:0", point, "digits:5"}},
		{SayNumber, ".5", "", "", []string{"number:0", point, "digits:5"}},
		{SayNumber, "5.", "", "", []string{"number:5"}},
		{SayNumber, "-0", "", "", []string{"number:0"}},
		{SayNumber, "12345678901234567890", "", "", []string{"number:12345678901234567890"}},
		{SayNumber, "abc", "", "", nil},
		{SayNumber, "", "", "", nil},
		{SayNumber, "-", "", "", nil},
		{SayNumber, ".", "", "", nil},
		{SayNumber, "1.2.3", "", "", nil},
		{SayNumber, "1e3", "", "", nil},

		// 2026-03-05 is a Thursday (day-4); March is mon-2.
		{SayDate, "2026-03-05", "", "", []string{"sound:digits/day-4", "sound:digits/mon-2", "number:5", "number:2026"}},
		{SayDate, "2026-03-05T23:30:00", "", "", []string{"sound:digits/day-4", "sound:digits/mon-2", "number:5", "number:2026"}},
		// A zoned value is said in the flow set's zone: 03:00Z is the evening before in New York.
		{SayDate, "2026-01-01T03:00:00Z", "", "", []string{"sound:digits/day-3", "sound:digits/mon-11", "number:31", "number:2025"}},
		{SayDate, "yesterday", "", "", nil},
		{SayDate, "2026-02-30", "", "", nil},

		{SayTime, "14:05", "", "en", []string{"number:2", oh, "number:5", pm}},
		{SayTime, "14:05", "", "", []string{"number:2", oh, "number:5", pm}},
		{SayTime, "00:00", "", "en_US", []string{"number:12", oclock, am}},
		{SayTime, "12:30:15", "", "en-GB", []string{"number:12", "number:30", pm}},
		{SayTime, "09:45", "", "en", []string{"number:9", "number:45", am}},
		{SayTime, "14:05", "", "fr", []string{"number:14", "number:5"}},
		{SayTime, "09:00", "", "de", []string{"number:9", oclock}},
		{SayTime, "2026-03-05T18:01:00-05:00", "", "es", []string{"number:18", "number:1"}},
		{SayTime, "25:00", "", "en", nil},

		{SayDateTime, "2026-03-05 09:15", "", "en", []string{"sound:digits/day-4", "sound:digits/mon-2", "number:5", "number:2026",
			"number:9", "number:15", am}},
		{SayDateTime, "09:15", "", "en", nil},

		{SayMoney, "12.5", "USD", "", []string{"number:12", "sound:dollars", "number:50", "sound:cents"}},
		{SayMoney, "12.50", "", "", []string{"number:12", "sound:dollars", "number:50", "sound:cents"}},
		{SayMoney, "0.99", "EUR", "", []string{"number:99", "sound:cents"}},
		{SayMoney, "3", "gbp", "", []string{"number:3", "sound:pounds"}},
		{SayMoney, "0", "USD", "", []string{"number:0", "sound:dollars"}},
		{SayMoney, "1.005", "USD", "", []string{"number:1", "sound:dollars", "number:1", "sound:cents"}},
		{SayMoney, "0.285", "USD", "", []string{"number:29", "sound:cents"}},
		{SayMoney, "9.999", "USD", "", []string{"number:10", "sound:dollars"}},
		{SayMoney, "-5.25", "CHF", "", []string{minus, "number:5", "sound:currency-CHF", "number:25", "sound:cents"}},
		{SayMoney, "-0.001", "USD", "", []string{"number:0", "sound:dollars"}},
		{SayMoney, "abc", "USD", "", nil},
		{SayMoney, "1e3", "USD", "", nil},
	}
	for _, tt := range tests {
		got, err := SayMedia(tt.kind, tt.value, tt.currency, tt.lang, ny)
		if tt.want == nil {
			if !errors.Is(err, ErrUnspeakable) {
				t.Errorf("SayMedia(%s, %q) = %v, %v; want ErrUnspeakable", tt.kind, tt.value, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("SayMedia(%s, %q, %q, %q): %v", tt.kind, tt.value, tt.currency, tt.lang, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SayMedia(%s, %q, %q, %q) (-want +got):\n%s", tt.kind, tt.value, tt.currency, tt.lang, diff)
		}
	}
}

func TestSayMediaUnknownKind(t *testing.T) {
	if _, err := SayMedia("poem", "roses", "", "", nil); err == nil || errors.Is(err, ErrUnspeakable) {
		t.Errorf("unknown kind: err = %v, want a plain error", err)
	}
}

// FuzzSayMedia: no panic whatever the value (it comes from callers and CRMs).
func FuzzSayMedia(f *testing.F) {
	for _, s := range []string{"12.5", "-0.001", "2026-03-05", "14:05", "+1 555", "9.999", ".", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, k := range []SayKind{SayDigits, SayNumber, SayDate, SayTime, SayDateTime, SayMoney} {
			media, err := SayMedia(k, v, "EUR", "en", time.UTC)
			if err == nil && len(media) == 0 {
				t.Errorf("SayMedia(%s, %q): no media and no error", k, v)
			}
		}
	})
}
