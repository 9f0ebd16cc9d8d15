package ivr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrUnspeakable is returned by SayMedia for a value its kind cannot speak
// (say number of "abc", a date that does not parse). A say node skips such a
// value (Result "unspeakable") rather than failing the call.
var ErrUnspeakable = errors.New("unspeakable value")

// Sounds SayMedia uses besides the PBX's digits:/number: media. They are
// Asterisk core sound names; "validate" checks them against the PBX like any
// other prompt.
const (
	soundMinus  = "sound:digits/minus"
	soundPoint  = "sound:point"
	soundOclock = "sound:digits/oclock"
	soundOh     = "sound:digits/oh"
	soundAM     = "sound:digits/a-m"
	soundPM     = "sound:digits/p-m"
	soundCents  = "sound:cents"
)

// currencySounds names the sound for a currency's main unit. Other
// currencies use "sound:currency-XXX" (the ISO 4217 code in upper case), a
// file the integrator records; the minor unit is always "sound:cents".
var currencySounds = map[string]string{
	"USD": "sound:dollars",
	"EUR": "sound:euros",
	"GBP": "sound:pounds",
}

// dateLayouts are the forms a date, time or datetime value may take. A value
// with a zone offset is converted to the flow set's zone; one without is
// read in it.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

var timeLayouts = []string{"15:04:05", "15:04"}

// SayMedia renders a value as media URIs the PBX plays as one playback:
//
//	digits    "12#"      -> digits:12#   (spaces, dashes and a leading + dropped)
//	number    "-12.05"   -> sound:digits/minus number:12 sound:point digits:05
//	date      2026-03-05 -> sound:digits/day-4 sound:digits/mon-2 number:5 number:2026
//	                        (weekday 0=Sunday, month 0=January)
//	time      14:05      -> en: number:2 sound:digits/oh number:5 sound:digits/p-m
//	                        others (24h): number:14 number:5
//	                        a full hour: number:H sound:digits/oclock (+ a-m/p-m in en)
//	datetime  date then time
//	money     "12.5"     -> number:12 sound:dollars number:50 sound:cents
//	                        (USD dollars, EUR euros, GBP pounds, any other code
//	                        sound:currency-XXX; amounts round to cents; a zero
//	                        unit or cent part is left out unless both are zero)
//
// lang picks the 12-hour clock with a-m/p-m for English ("", "en", "en_US",
// "en-GB"...) and the 24-hour clock for every other language. Date and time
// values take the forms RFC 3339, "2006-01-02[ T]15:04[:05]", "2006-01-02",
// "15:04[:05]" (time only); one without a zone is read in loc. A value its kind
// cannot speak gives an error wrapping ErrUnspeakable.
func SayMedia(kind SayKind, value, currency, lang string, loc *time.Location) ([]string, error) {
	value = strings.TrimSpace(value)
	if loc == nil {
		loc = time.UTC
	}
	var (
		out []string
		err error
	)
	switch kind {
	case SayDigits:
		out, err = sayDigits(value)
	case SayNumber:
		out, err = sayNumber(value)
	case SayDate, SayTime, SayDateTime:
		out, err = sayDateTime(kind, value, lang, loc)
	case SayMoney:
		out, err = sayMoney(value, currency)
	default:
		return nil, fmt.Errorf("say %s: unknown kind", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("say %s %q: %w", kind, value, err)
	}
	return out, nil
}

func sayDigits(v string) ([]string, error) {
	v = strings.TrimPrefix(v, "+")
	var b strings.Builder
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
			b.WriteRune(r)
		case r == ' ', r == '-':
		default:
			return nil, ErrUnspeakable
		}
	}
	if b.Len() == 0 {
		return nil, ErrUnspeakable
	}
	return []string{"digits:" + b.String()}, nil
}

// decimal is a parsed decimal literal: sign, integer digits without leading
// zeros ("0" for none) and fraction digits as written.
type decimal struct {
	neg         bool
	units       string
	fraction    string
	hasFraction bool
}

// parseDecimal reads [+-]digits[.digits] (also .5 and 5.). Strings keep
// the digits exact: an account balance of 12345678901234567890.10 is said
// as written, not as a float64 would round it.
func parseDecimal(v string) (decimal, bool) {
	var d decimal
	switch {
	case strings.HasPrefix(v, "-"):
		d.neg, v = true, v[1:]
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	}
	units, frac, hasFrac := strings.Cut(v, ".")
	if units == "" && frac == "" {
		return d, false
	}
	if !allDigits(units) || !allDigits(frac) {
		return d, false
	}
	units = strings.TrimLeft(units, "0")
	if units == "" {
		units = "0"
	}
	d.units, d.fraction, d.hasFraction = units, frac, hasFrac && frac != ""
	if d.units == "0" && strings.Trim(d.fraction, "0") == "" {
		d.neg = false // -0 and -0.00 are zero
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func sayNumber(v string) ([]string, error) {
	d, ok := parseDecimal(v)
	if !ok {
		return nil, ErrUnspeakable
	}
	var out []string
	if d.neg {
		out = append(out, soundMinus)
	}
	out = append(out, "number:"+d.units)
	if d.hasFraction {
		out = append(out, soundPoint, "digits:"+d.fraction)
	}
	return out, nil
}

func parseWhen(kind SayKind, v string, loc *time.Location) (time.Time, bool) {
	if kind == SayTime {
		for _, l := range timeLayouts {
			if t, err := time.ParseInLocation(l, v, loc); err == nil {
				return t, true
			}
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t.In(loc), true
		}
	}
	return time.Time{}, false
}

func sayDateTime(kind SayKind, v, lang string, loc *time.Location) ([]string, error) {
	t, ok := parseWhen(kind, v, loc)
	if !ok {
		return nil, ErrUnspeakable
	}
	var out []string
	if kind == SayDate || kind == SayDateTime {
		out = append(out,
			"sound:digits/day-"+strconv.Itoa(int(t.Weekday())),
			"sound:digits/mon-"+strconv.Itoa(int(t.Month())-1),
			"number:"+strconv.Itoa(t.Day()),
			"number:"+strconv.Itoa(t.Year()))
	}
	if kind == SayTime || kind == SayDateTime {
		out = append(out, sayClock(t, isEnglish(lang))...)
	}
	return out, nil
}

// sayClock speaks hours and minutes: 12-hour with a-m/p-m in English
// ("two oh five p m"), 24-hour elsewhere.
func sayClock(t time.Time, english bool) []string {
	h, m := t.Hour(), t.Minute()
	if english {
		h12 := h % 12
		if h12 == 0 {
			h12 = 12
		}
		out := []string{"number:" + strconv.Itoa(h12)}
		switch {
		case m == 0:
			out = append(out, soundOclock)
		case m < 10:
			out = append(out, soundOh, "number:"+strconv.Itoa(m))
		default:
			out = append(out, "number:"+strconv.Itoa(m))
		}
		if h < 12 {
			return append(out, soundAM)
		}
		return append(out, soundPM)
	}
	out := []string{"number:" + strconv.Itoa(h)}
	if m == 0 {
		return append(out, soundOclock)
	}
	return append(out, "number:"+strconv.Itoa(m))
}

// isEnglish reports whether a prompt language is English; "" (the PBX's
// default language) counts as English, Asterisk's own default.
func isEnglish(lang string) bool {
	l := strings.ToLower(lang)
	return l == "" || l == "en" || strings.HasPrefix(l, "en_") || strings.HasPrefix(l, "en-")
}

func sayMoney(v, currency string) ([]string, error) {
	d, ok := parseDecimal(v)
	if !ok {
		return nil, ErrUnspeakable
	}
	units, cents, ok := roundCents(d.units, d.fraction)
	if !ok {
		return nil, ErrUnspeakable
	}
	code := strings.ToUpper(strings.TrimSpace(currency))
	if code == "" {
		code = "USD"
	}
	unit, known := currencySounds[code]
	if !known {
		unit = "sound:currency-" + code
	}
	var out []string
	if d.neg && (units != "0" || cents != 0) {
		out = append(out, soundMinus)
	}
	if units != "0" || cents == 0 {
		out = append(out, "number:"+units, unit)
	}
	if cents != 0 {
		out = append(out, "number:"+strconv.Itoa(cents), soundCents)
	}
	return out, nil
}

// roundCents rounds units.fraction half up to whole cents, on the decimal
// digits (no float rounding errors: 0.285 is 29 cents).
func roundCents(units, fraction string) (string, int, bool) {
	f := fraction + "000"
	cents := int(f[0]-'0')*10 + int(f[1]-'0')
	if f[2] >= '5' {
		cents++
	}
	if cents < 100 {
		return units, cents, true
	}
	// carry into the units
	n, err := strconv.ParseUint(units, 10, 64)
	if err != nil || n == ^uint64(0) {
		return "", 0, false
	}
	return strconv.FormatUint(n+1, 10), 0, true
}
