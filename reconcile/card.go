package reconcile

import (
	"encoding/json"
	"time"

	sb "github.com/switchboard/switchboard"
)

// CardVar is the caller channel's variable that carries the call's card.
const CardVar = "SB_CARD"

// Card is what a call keeps on its caller channel once it is bridged to
// an agent, so that a controller adopting it after a restart (Asterisk
// keeps channel variables as long as the channel) writes the same
// call-log row and queue_log lines the first controller would have: the
// dialed number, the queue, when the caller entered, was answered, queued
// and bridged, and the IVR path.
type Card struct {
	Caller     string     `json:"caller,omitempty"`
	CallerName string     `json:"caller_name,omitempty"`
	Called     string     `json:"called,omitempty"`
	Queue      string     `json:"queue,omitempty"`
	Entered    time.Time  `json:"entered"`
	Answered   time.Time  `json:"answered,omitzero"`
	Enqueued   time.Time  `json:"enqueued,omitzero"`
	Bridged    time.Time  `json:"bridged,omitzero"`
	IVRPath    sb.RawJSON `json:"ivr_path,omitempty"`
}

// Known reports whether the card says anything (a call without one is
// adopted with what its channel tells).
func (c Card) Known() bool { return !c.Entered.IsZero() }

// Encode is the card as the channel variable's value.
func (c Card) Encode() (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// ParseCard reads a channel variable's value.
func ParseCard(v string) (Card, error) {
	var c Card
	err := json.Unmarshal([]byte(v), &c)
	return c, err
}

// CardsToRead are the callers a listing shows talking in their own
// br-<call> bridge that the engine does not know: their cards are read
// before the reconcile. One without a card (a call from a version that
// wrote none, or bridged just as the controller stopped) is adopted
// without one.
func CardsToRead(l Listing, known map[sb.ChannelID]bool) []sb.ChannelID {
	inOwn := map[sb.ChannelID]bool{}
	for _, b := range l.Bridges {
		for _, ch := range b.Channels {
			if b.ID == BridgeOf(sb.CallID(ch)) {
				inOwn[ch] = true
			}
		}
	}
	var read []sb.ChannelID
	for _, ch := range l.Channels {
		if ch.InApp && !known[ch.ID] && inOwn[ch.ID] {
			read = append(read, ch.ID)
		}
	}
	return read
}
