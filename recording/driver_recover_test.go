package recording

import (
	"reflect"
	"testing"
)

func TestToAsk(t *testing.T) {
	open := []Recording{{Name: "r1"}, {Name: "r3"}, {Name: "r4"}}
	tests := []struct {
		name  string
		known []string
		skip  map[string]bool
		want  []string
	}{
		{"link-up: this run's, then the open rows, each once", []string{"r1", "r2"}, nil, []string{"r1", "r2", "r3", "r4"}},
		{"sweep: this run's own left to their calls", nil, map[string]bool{"r3": true}, []string{"r1", "r4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToAsk(tt.known, open, tt.skip); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
