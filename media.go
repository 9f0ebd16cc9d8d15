package switchboard

import (
	"slices"
	"strings"
)

// MediaSchemes are the media URI schemes the PBX plays (ARI's sound:,
// recording:, digits:, number:, characters: and tone:).
var MediaSchemes = []string{"sound", "recording", "digits", "number", "characters", "tone"}

// mediaWant lists MediaSchemes for messages: "sound:, recording:, ... or tone:".
var mediaWant = func() string {
	s := make([]string, len(MediaSchemes))
	for i, m := range MediaSchemes {
		s[i] = m + ":"
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}()

// ValidMediaURI checks that uri is a media URI the PBX can play: one of
// MediaSchemes and something after the colon. It returns an EINVALID error
// whose message names the URI and what is wrong, for the configuration to
// report at its place (file:line), or nil.
//
// Checked where a prompt is configured rather than when it plays because
// Asterisk accepts a play with any other scheme (201, PlaybackStarted) and
// then never finishes it: a caller waiting for such a greeting would hear
// silence until the adapter notices the playback is gone.
func ValidMediaURI(uri string) error {
	scheme, rest, found := strings.Cut(uri, ":")
	if !found || !slices.Contains(MediaSchemes, scheme) {
		return Errorf(EINVALID, "media %q has an unknown scheme: want %s", uri, mediaWant)
	}
	if rest == "" {
		return Errorf(EINVALID, "media %q names nothing after %s:", uri, scheme)
	}
	return nil
}
