package ari

import (
	"context"
	"fmt"
)

// Sounds lists the sound files the PBX has, by name, with the languages each
// exists in (GET /sounds). `switchboard validate --pbx` checks flow prompts
// against it.
func (a *Adapter) Sounds(ctx context.Context) (map[string][]string, error) {
	var list []struct {
		ID      string `json:"id"`
		Formats []struct {
			Language string `json:"language"`
			Format   string `json:"format"`
		} `json:"formats"`
	}
	if err := a.rest(ctx, "sounds", rListSounds, rListSounds.path(), nil, nil, &list); err != nil {
		return nil, fmt.Errorf("list sounds: %w", err)
	}
	out := make(map[string][]string, len(list))
	for _, s := range list {
		seen := map[string]bool{}
		for _, f := range s.Formats {
			if !seen[f.Language] {
				seen[f.Language] = true
				out[s.ID] = append(out[s.ID], f.Language)
			}
		}
		if _, ok := out[s.ID]; !ok {
			out[s.ID] = nil
		}
	}
	return out, nil
}
