package routing

import (
	"bytes"
	"strings"
	"testing"
)

// fuzzPINIterations keeps FuzzPINHash's own hashes cheap: the minimum the
// parser accepts.
const fuzzPINIterations = minPINIterations

// TestPINHashBounds: hashes outside the bounds are refused with what is
// wrong, the ones HashPIN writes are accepted.
func TestPINHashBounds(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, 16)
	key := bytes.Repeat([]byte{9}, 32)
	if _, _, _, err := parsePINHash(HashPIN("4321", salt)); err != nil {
		t.Errorf("HashPIN's hash refused: %v", err)
	}
	for _, tt := range []struct{ hash, want string }{
		{"junk", "want \"pbkdf2-sha256$"},
		{formatPINHash(999, salt, key), "bad iteration count"},
		{formatPINHash(maxPINIterations+1, salt, key), "bad iteration count"},
		{"pbkdf2-sha256$1e4$" + strings.Repeat("07", 16) + "$" + strings.Repeat("09", 32), "bad iteration count"},
		{formatPINHash(20000, salt[:7], key), "bad salt"},
		{formatPINHash(20000, bytes.Repeat(salt, 5), key), "bad salt"},
		{formatPINHash(20000, salt, key[:15]), "bad key"},
		{formatPINHash(20000, salt, bytes.Repeat(key, 3)), "bad key"},
		{"pbkdf2-sha256$20000$" + strings.Repeat("0g", 16) + "$" + strings.Repeat("09", 32), "bad salt"},
	} {
		_, _, _, err := parsePINHash(tt.hash)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parsePINHash(%q) = %v, want %q", tt.hash, err, tt.want)
		}
		if VerifyPIN(tt.hash, "4321") {
			t.Errorf("VerifyPIN(%q) accepted", tt.hash)
		}
	}
}

// FuzzPINHash: any stored hash parses within the bounds or is refused,
// never panics; an accepted one writes back to an equivalent hash; a hash
// made of any PIN and salt verifies that PIN and no other.
func FuzzPINHash(f *testing.F) {
	salt := []byte("0123456789abcdef")
	for _, s := range []struct {
		hash, pin string
		salt      []byte
	}{
		{hashPIN("4321", salt, fuzzPINIterations), "4321", salt},
		{"pbkdf2-sha256$20000$30313233343536373839616263646566$" + strings.Repeat("AB", 32), "1234", salt},
		{"pbkdf2-sha256$+1000$3031323334353637$" + strings.Repeat("00", 16), "", []byte("12345678")},
		{"pbkdf2-sha256$0$$", "0", nil}, {"pbkdf2-sha256$99999999999999999999$00$00", "1", []byte{1}},
		{"sha256$1$2$3", "x", []byte("abcdefgh")}, {"$$$", "", nil}, {"", "", nil},
	} {
		f.Add(s.hash, s.pin, s.salt)
	}
	f.Fuzz(func(t *testing.T, hash, pin string, salt []byte) {
		iter, gotSalt, key, err := parsePINHash(hash)
		if err == nil {
			if iter < minPINIterations || iter > maxPINIterations || len(gotSalt) < minPINSalt || len(gotSalt) > maxPINSalt ||
				len(key) < minPINKey || len(key) > maxPINKey {
				t.Fatalf("%q parsed out of bounds: %d iterations, %d-byte salt, %d-byte key", hash, iter, len(gotSalt), len(key))
			}
			canonical := formatPINHash(iter, gotSalt, key)
			iter2, salt2, key2, err := parsePINHash(canonical)
			if err != nil || iter2 != iter || !bytes.Equal(salt2, gotSalt) || !bytes.Equal(key2, key) {
				t.Fatalf("%q written back as %q reads %d %x %x (%v)", hash, canonical, iter2, salt2, key2, err)
			}
			if iter <= 2*fuzzPINIterations && VerifyPIN(hash, pin) != VerifyPIN(canonical, pin) {
				t.Fatalf("%q and %q disagree on %q", hash, canonical, pin)
			}
		} else if err.Error() == "" {
			t.Fatal("empty error")
		}
		if len(salt) < minPINSalt || len(salt) > maxPINSalt || len(pin) > 64 {
			return
		}
		h := hashPIN(pin, salt, fuzzPINIterations)
		if !VerifyPIN(h, pin) {
			t.Fatalf("%q does not verify its own PIN %q", h, pin)
		}
		if VerifyPIN(h, pin+"0") {
			t.Fatalf("%q verifies %q as well as %q", h, pin+"0", pin)
		}
	})
}
