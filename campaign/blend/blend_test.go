package blend

import (
	"reflect"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/dialer"
	"github.com/switchboard/switchboard/routing"
)

func avail(id sb.AgentID) routing.AgentState {
	return routing.AgentState{Agent: id, State: routing.StateAvailable}
}

func held(id sb.AgentID) routing.AgentState {
	return routing.AgentState{Agent: id, State: routing.StatePaused, Reason: HoldReason}
}

func TestPrune(t *testing.T) {
	h := Holds{"sales": {"a", "b", "c"}, "care": {"d"}}
	states := map[sb.AgentID]routing.AgentState{
		"a": held("a"),
		"b": {Agent: "b", State: routing.StatePaused, Reason: "lunch"}, // paused by hand
		"c": held("c"),
		"d": {Agent: "d", State: routing.StateLoggedOut},
	}
	h.Prune(states)
	if want := (Holds{"sales": {"a", "c"}}); !reflect.DeepEqual(h, want) {
		t.Errorf("got %v, want %v", h, want)
	}
}

// rebalance carries out Next's moves as the center does: a hold the router
// refuses (refuse) is noted; each move changes the agent's state.
func rebalance(h Holds, want map[sb.QueueName]int, members map[sb.QueueName][]sb.AgentID,
	states map[sb.AgentID]routing.AgentState, refuse map[sb.AgentID]bool) []Move {
	var moves []Move
	refused := map[sb.AgentID]bool{}
	for len(moves) < 100 {
		m, ok := h.Next(want, func(q sb.QueueName) []sb.AgentID { return members[q] }, states, refused)
		if !ok {
			break
		}
		moves = append(moves, m)
		switch {
		case !m.Hold:
			h.Done(m)
			states[m.Agent] = avail(m.Agent)
		case refuse[m.Agent]:
			refused[m.Agent] = true
		default:
			h.Done(m)
			states[m.Agent] = held(m.Agent)
		}
	}
	return moves
}

func TestNext(t *testing.T) {
	members := map[sb.QueueName][]sb.AgentID{
		"sales": {"a", "b", "c"},
		"care":  {"c", "d"},
	}
	tests := []struct {
		name      string
		holds     Holds
		want      map[sb.QueueName]int
		states    map[sb.AgentID]routing.AgentState
		refuse    map[sb.AgentID]bool
		wantMoves []Move
		wantHolds Holds
	}{
		{
			name:      "nothing ringing, nothing held",
			holds:     Holds{},
			want:      map[sb.QueueName]int{},
			states:    map[sb.AgentID]routing.AgentState{"a": avail("a")},
			wantHolds: Holds{},
		},
		{
			name:      "two lines ringing hold the first two available members",
			holds:     Holds{},
			want:      map[sb.QueueName]int{"sales": 2},
			states:    map[sb.AgentID]routing.AgentState{"a": {State: routing.StateOnCall}, "b": avail("b"), "c": avail("c")},
			wantMoves: []Move{{"sales", "b", true}, {"sales", "c", true}},
			wantHolds: Holds{"sales": {"b", "c"}},
		},
		{
			name:      "fewer available agents than lines: all of them",
			holds:     Holds{},
			want:      map[sb.QueueName]int{"sales": 3},
			states:    map[sb.AgentID]routing.AgentState{"a": avail("a"), "b": {State: routing.StateWrapUp}},
			wantMoves: []Move{{"sales", "a", true}},
			wantHolds: Holds{"sales": {"a"}},
		},
		{
			name:      "a line answered: the agent held last goes back",
			holds:     Holds{"sales": {"a", "b"}},
			want:      map[sb.QueueName]int{"sales": 1},
			states:    map[sb.AgentID]routing.AgentState{"a": held("a"), "b": held("b"), "c": avail("c")},
			wantMoves: []Move{{"sales", "b", false}},
			wantHolds: Holds{"sales": {"a"}},
		},
		{
			name:      "a queue no longer dialing releases all its agents",
			holds:     Holds{"care": {"d"}},
			want:      map[sb.QueueName]int{},
			states:    map[sb.AgentID]routing.AgentState{"d": held("d")},
			wantMoves: []Move{{"care", "d", false}},
			wantHolds: Holds{},
		},
		{
			name:      "an agent held for one queue is not held again for another",
			holds:     Holds{"sales": {"c"}},
			want:      map[sb.QueueName]int{"sales": 1, "care": 2},
			states:    map[sb.AgentID]routing.AgentState{"c": held("c"), "d": avail("d")},
			wantMoves: []Move{{"care", "d", true}},
			wantHolds: Holds{"sales": {"c"}, "care": {"d"}},
		},
		{
			name:      "released by one queue, held by the next",
			holds:     Holds{"care": {"c"}},
			want:      map[sb.QueueName]int{"sales": 1},
			states:    map[sb.AgentID]routing.AgentState{"a": {State: routing.StateOnCall}, "b": {State: routing.StateOnCall}, "c": held("c")},
			wantMoves: []Move{{"care", "c", false}, {"sales", "c", true}},
			wantHolds: Holds{"sales": {"c"}},
		},
		{
			name:      "a pause the router refuses: the next member",
			holds:     Holds{},
			want:      map[sb.QueueName]int{"sales": 1},
			states:    map[sb.AgentID]routing.AgentState{"a": avail("a"), "b": avail("b")},
			refuse:    map[sb.AgentID]bool{"a": true},
			wantMoves: []Move{{"sales", "a", true}, {"sales", "b", true}},
			wantHolds: Holds{"sales": {"b"}},
		},
		{
			name:      "every pause refused: gives up",
			holds:     Holds{},
			want:      map[sb.QueueName]int{"sales": 1},
			states:    map[sb.AgentID]routing.AgentState{"a": avail("a")},
			refuse:    map[sb.AgentID]bool{"a": true},
			wantMoves: []Move{{"sales", "a", true}},
			wantHolds: Holds{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rebalance(tt.holds, tt.want, members, tt.states, tt.refuse)
			if !reflect.DeepEqual(got, tt.wantMoves) {
				t.Errorf("moves %v, want %v", got, tt.wantMoves)
			}
			if !reflect.DeepEqual(tt.holds, tt.wantHolds) {
				t.Errorf("holds %v, want %v", tt.holds, tt.wantHolds)
			}
		})
	}
}

func TestClaimed(t *testing.T) {
	members := func(q sb.QueueName) []sb.AgentID {
		return map[sb.QueueName][]sb.AgentID{"sales": {"a", "b"}, "care": {"b", "c"}, "billing": {"d"}}[q]
	}
	tests := []struct {
		waiting []sb.QueueName
		agents  []sb.AgentID
		want    int
	}{
		{nil, []sb.AgentID{"a"}, 0},
		{[]sb.QueueName{"sales", "sales"}, []sb.AgentID{"a", "b"}, 2},
		{[]sb.QueueName{"care", "billing"}, []sb.AgentID{"a", "b"}, 1}, // b answers care
		{[]sb.QueueName{"billing", "nosuch"}, []sb.AgentID{"a", "b"}, 0},
	}
	for _, tt := range tests {
		if got := Claimed(tt.waiting, tt.agents, members); got != tt.want {
			t.Errorf("Claimed(%v, %v) = %d, want %d", tt.waiting, tt.agents, got, tt.want)
		}
	}
}

func TestPacerView(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	then := now.Add(-time.Minute)
	stats := []routing.AgentStats{
		{Agent: "a", State: routing.StateAvailable, Since: then},
		{Agent: "b", State: routing.StateAvailable, Since: then},
		{Agent: "c", State: routing.StatePaused, Reason: HoldReason, Since: then},
		{Agent: "d", State: routing.StatePaused, Reason: "lunch", Since: then},
		{Agent: "e", State: routing.StateReserved, Since: then},
		{Agent: "f", State: routing.StateOnCall, Since: then},
		{Agent: "g", State: routing.StateWrapUp, Since: then},
		{Agent: "h", State: routing.StateLoggedOut, Since: then},
		{Agent: "i", State: routing.StateUnavailable, Since: then},
		{}, // unknown to the router
	}
	tests := []struct {
		claimed int
		want    []dialer.Agent
	}{
		{0, []dialer.Agent{
			{Status: dialer.AgentReady, Since: then}, {Status: dialer.AgentReady, Since: then}, {Status: dialer.AgentReady, Since: then},
			{Status: dialer.AgentTalking, Since: then}, {Status: dialer.AgentTalking, Since: then}, {Status: dialer.AgentWrapUp, Since: then}}},
		{1, []dialer.Agent{
			{Status: dialer.AgentTalking, Since: now}, {Status: dialer.AgentReady, Since: then}, {Status: dialer.AgentReady, Since: then},
			{Status: dialer.AgentTalking, Since: then}, {Status: dialer.AgentTalking, Since: then}, {Status: dialer.AgentWrapUp, Since: then}}},
		{5, []dialer.Agent{ // a held agent is never claimed
			{Status: dialer.AgentTalking, Since: now}, {Status: dialer.AgentTalking, Since: now}, {Status: dialer.AgentReady, Since: then},
			{Status: dialer.AgentTalking, Since: then}, {Status: dialer.AgentTalking, Since: then}, {Status: dialer.AgentWrapUp, Since: then}}},
	}
	for _, tt := range tests {
		if got := PacerView(stats, tt.claimed, now); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("claimed %d: %v, want %v", tt.claimed, got, tt.want)
		}
	}
}
