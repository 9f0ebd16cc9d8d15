package ari_test

import (
	"context"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/sim"
)

func TestSoundsListsThePBXSounds(t *testing.T) {
	s := sim.New(sim.Options{User: "u", Password: "p"})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := ari.New(ari.Config{URL: s.URL(), Username: "u", Password: "p", Application: "t"})
	if err != nil {
		t.Fatal(err)
	}
	sounds, err := a.Sounds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if langs, ok := sounds["hello-world"]; !ok || !slices.Contains(langs, "en") {
		t.Errorf("hello-world = %v, %v; want it in en", langs, ok)
	}
	if _, ok := sounds["no-such-sound"]; ok {
		t.Error("an unknown sound is listed")
	}
}
