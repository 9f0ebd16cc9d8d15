package sim

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestTalkTimeByChannel: a channel's talk time depends on the seed and its
// id alone (not on the run's start, which inbound ids carry, nor on what
// was drawn before), so calls that meet their agents at the same instant
// talk as long whichever the process ran first.
func TestTalkTimeByChannel(t *testing.T) {
	p := Party{TalkDist: func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(time.Hour))) }}
	draw := func(s *Server, id string) time.Duration {
		return p.talkTime(s.talkRand(&channel{id: id}))
	}
	a, b := New(Options{Seed: 7}), New(Options{Seed: 7})
	defer a.Close()
	defer b.Close()
	b.start = a.start.Add(time.Hour) // another run, later
	ida := strconv.FormatInt(a.start.Unix(), 10) + ".5-a1"
	idb := strconv.FormatInt(b.start.Unix(), 10) + ".5-a1"
	first := draw(a, ida)
	draw(a, "ob-3") // drawn in between: changes nothing for the others
	if got := draw(a, ida); got != first {
		t.Errorf("the same channel drew %v, then %v", first, got)
	}
	if got := draw(b, idb); got != first {
		t.Errorf("the same channel in a run started later drew %v; want %v", got, first)
	}
	if draw(a, ida) == draw(a, strconv.FormatInt(a.start.Unix(), 10)+".6-a1") {
		t.Error("two channels drew the same talk time")
	}
	c := New(Options{Seed: 8})
	defer c.Close()
	if draw(c, strconv.FormatInt(c.start.Unix(), 10)+".5-a1") == first {
		t.Error("another seed drew the same talk time")
	}
}
