package recording

import (
	"strconv"

	sb "github.com/switchboard/switchboard"
)

// MaxNameLen bounds a recording name, well under every file system's limit
// on a file name once the extension is added.
const MaxNameLen = 200

// FileName returns the file name, relative to the recordings folder, for
// the PBX's recording name. Names come from the PBX (or from a row an
// attacker may have influenced through a caller id), so FileName is strict
// rather than clever: 1..200 bytes of letters, digits, '.', '_' and '-', not
// starting or ending with '.', and no "..". Anything else (a path separator, a NUL, an
// absolute path, a traversal) fails with EINVALID; nothing is rewritten, so
// two names can never collide on one file.
func FileName(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	return name + ".wav", nil
}

// CheckName reports whether name is a safe recording name (see [FileName]).
func CheckName(name string) error {
	switch {
	case name == "":
		return sb.Errorf(sb.EINVALID, "recording name is empty")
	case len(name) > MaxNameLen:
		return sb.Errorf(sb.EINVALID, "recording name is longer than %d bytes", MaxNameLen)
	case name[0] == '.' || name[len(name)-1] == '.':
		return sb.Errorf(sb.EINVALID, "recording name %q starts or ends with a dot", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return sb.Errorf(sb.EINVALID, "recording name %q has a character other than letters, digits, '.', '_' and '-'", name)
		}
		if c == '.' && i+1 < len(name) && name[i+1] == '.' {
			return sb.Errorf(sb.EINVALID, "recording name %q contains \"..\"", name)
		}
	}
	return nil
}

// CheckPath reports whether a stored row's path is a file name FileName
// could have produced: the download and delete paths trust nothing in the
// database either.
func CheckPath(path string) error {
	const ext = ".wav"
	if len(path) <= len(ext) || path[len(path)-len(ext):] != ext {
		return sb.Errorf(sb.EINVALID, "recording path %q is not a .wav file name", path)
	}
	return CheckName(path[:len(path)-len(ext)])
}

// NameFor returns the recording name Switchboard gives the seq-th
// recording (from 1; an on-demand recording can be stopped and started
// again) of a call's leg: "sb-<call>[-<leg>]-<seq>", with every character
// of the call id that [CheckName] refuses replaced by '_' and the call id
// cut to fit. The result always passes CheckName; the recordings table's
// unique name catches the (unlikely) call ids that map to the same name.
func NameFor(call sb.CallID, leg Leg, seq int) string {
	suffix := "-" + strconv.Itoa(seq)
	if leg != LegMixed {
		suffix = "-" + string(leg) + suffix
	}
	b := []byte(call)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_' // '.' too: it keeps ".." and a trailing dot out
		}
	}
	if room := MaxNameLen - len("sb-") - len(suffix); len(b) > room {
		b = b[:room]
	}
	return "sb-" + string(b) + suffix
}
