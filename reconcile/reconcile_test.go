package reconcile

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

var (
	t0     = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	now    = t0.Add(time.Hour)
	agents = []sb.Agent{{ID: "alice", Endpoint: "PJSIP/1001"}, {ID: "bob", Endpoint: "PJSIP/1002"}, {ID: "carol", Endpoint: "PJSIP/1001"}, {ID: "dan", Endpoint: "Local/2000@agents"}}
)

// attempt is a fake campaign channel naming: ob-<attempt>.
func attempt(ch sb.ChannelID) (int64, bool) {
	s, ok := strings.CutPrefix(string(ch), "ob-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// caller is a caller channel in the application.
func caller(id string, state sb.ChannelState) sb.ChannelInfo {
	return sb.ChannelInfo{ID: sb.ChannelID(id), Name: "PJSIP/trunk-" + id, State: state, Created: t0, InApp: true}
}

// leg is an agent leg of call on an agent's phone.
func leg(call, phone string) sb.ChannelInfo {
	return sb.ChannelInfo{ID: sb.ChannelID(call + "-a1"), Name: phone + "-00000001", State: sb.ChannelUp, Created: t0, InApp: true, Args: []string{ArgAgent, call}}
}

func bridge(call string, chans ...string) sb.BridgeInfo {
	b := sb.BridgeInfo{ID: BridgeOf(sb.CallID(call))}
	for _, ch := range chans {
		b.Channels = append(b.Channels, sb.ChannelID(ch))
	}
	return b
}

func TestMake(t *testing.T) {
	card := Card{Caller: "5551234", Queue: "sales", Entered: t0.Add(-time.Minute), Bridged: t0.Add(-30 * time.Second)}
	tests := []struct {
		name string
		in   Input
		want Plan
	}{
		{
			name: "caller talking to its agent is adopted with both legs and its card",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{leg("c1", "PJSIP/1002"), caller("c1", sb.ChannelUp)},
					Bridges:  []sb.BridgeInfo{bridge("c1", "c1-a1", "c1")},
				},
				Cards: map[sb.ChannelID]Card{"c1": card},
			},
			want: Plan{Adopt{Channel: caller("c1", sb.ChannelUp), Card: card, Bridge: "br-c1", AgentLeg: "c1-a1", Agent: "bob", Bridged: card.Bridged}},
		},
		{
			name: "caller talking without a card is bridged from now",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{caller("c1", sb.ChannelUp), leg("c1", "PJSIP/9999")},
					Bridges:  []sb.BridgeInfo{bridge("c1", "c1", "c1-a1")},
				},
			},
			want: Plan{Adopt{Channel: caller("c1", sb.ChannelUp), Bridge: "br-c1", AgentLeg: "c1-a1", Bridged: now}},
		},
		{
			name: "a listing without args: the agent leg by its id, else the other live channel of the bridge",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{
						caller("c1", sb.ChannelUp), {ID: "1733-9", Name: "PJSIP/1001-00000009", State: sb.ChannelUp},
						{ID: "c1-a2", Name: "PJSIP/1002-0000000a", State: sb.ChannelUp, InApp: true},
						caller("c2", sb.ChannelUp), {ID: "1733-10", Name: "PJSIP/1001-00000010", State: sb.ChannelUp, InApp: true},
					},
					Bridges: []sb.BridgeInfo{bridge("c1", "c1", "1733-9", "c1-a2"), bridge("c2", "c2", "1733-10")},
				},
			},
			want: Plan{
				Adopt{Channel: caller("c1", sb.ChannelUp), Bridge: "br-c1", AgentLeg: "c1-a2", Agent: "bob", Bridged: now},
				Adopt{Channel: caller("c2", sb.ChannelUp), Bridge: "br-c2", AgentLeg: "1733-10", Agent: "alice", Bridged: now},
			},
		},
		{
			name: "an agent leg that ended since the listing is not adopted: its end is in the event stream",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{caller("c1", sb.ChannelUp), leg("c1", "PJSIP/1001")},
					Bridges:  []sb.BridgeInfo{bridge("c1", "c1", "c1-a1")},
				},
				Gone: map[sb.ChannelID]int{"c1-a1": 16},
			},
			want: Plan{Adopt{Channel: caller("c1", sb.ChannelUp), Bridge: "br-c1"}},
		},
		{
			name: "campaign call talking across a restart keeps its attempt",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{caller("ob-7", sb.ChannelUp), leg("ob-7", "PJSIP/1001")},
					Bridges:  []sb.BridgeInfo{bridge("ob-7", "ob-7", "ob-7-a1")},
				},
			},
			want: Plan{Adopt{Channel: caller("ob-7", sb.ChannelUp), Bridge: "br-ob-7", AgentLeg: "ob-7-a1", Agent: "alice", Bridged: now, Attempt: 7}},
		},
		{
			name: "caller hung up since the listing is adopted gone, its bridge deleted",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{caller("c1", sb.ChannelUp)},
					Bridges:  []sb.BridgeInfo{bridge("c1", "c1")},
				},
				Gone: map[sb.ChannelID]int{"c1": 16},
			},
			want: Plan{Adopt{Channel: caller("c1", sb.ChannelUp), Gone: true, Cause: 16, Bridge: "br-c1"}, DestroyBridge{"br-c1"}},
		},
		{
			name: "caller in no bridge is adopted after the grace unless its StasisStart comes",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{caller("c1", sb.ChannelRinging), caller("ob-3", sb.ChannelUp)}},
			},
			want: Plan{AdoptLater{Adopt{Channel: caller("c1", sb.ChannelRinging), Answer: true}}, AdoptLater{Adopt{Channel: caller("ob-3", sb.ChannelUp), Attempt: 3}}},
		},
		{
			name: "the ;2 half of a Local leg and channels not in the application are left alone",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{
					{ID: "c1-a1;2", Name: "Local/2000@agents-00000002;2", State: sb.ChannelUp},
					{ID: "pjsip-77", Name: "PJSIP/1003-00000077", State: sb.ChannelRinging},
				}},
			},
			want: nil,
		},
		{
			name: "a campaign call this run follows, in AMD, is left alone; one this run follows in the application too",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{
					{ID: "ob-1", Name: "PJSIP/trunk-1", State: sb.ChannelUp},
					caller("ob-2", sb.ChannelUp),
					caller("ob-3", sb.ChannelUp),
				}},
				Campaigns: map[sb.ChannelID]Campaign{"ob-1": CampaignFollowed, "ob-2": CampaignFollowed, "ob-3": CampaignAdopting},
			},
			want: nil,
		},
		{
			name: "an earlier run's campaign call ringing is followed, one ended since the listing ended unheard",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{
					{ID: "ob-1", Name: "PJSIP/trunk-1", State: sb.ChannelRinging},
					{ID: "ob-2", Name: "PJSIP/trunk-2", State: sb.ChannelRinging},
					{ID: "ob-3", Name: "PJSIP/trunk-3", State: sb.ChannelRinging},
					{ID: "ob-4", Name: "PJSIP/trunk-4", State: sb.ChannelRinging},
				}},
				Campaigns: map[sb.ChannelID]Campaign{"ob-3": CampaignRinging, "ob-4": CampaignGoneEarly},
				Gone:      map[sb.ChannelID]int{"ob-2": 19},
			},
			want: Plan{FollowRinging{"ob-1"}, EndedUnheard{"ob-2", 19}},
		},
		{
			name: "orphans are hung up: transfer, supervisor and snoop legs, a Snoop/, an agent leg whose call is over or not bridged",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{
					{ID: "c1-t1", Name: "PJSIP/1003-1", InApp: true},
					{ID: "c1-sv1", Name: "PJSIP/1004-1", InApp: true},
					{ID: "c1-sn2", Name: "Snoop/PJSIP/1002-1", InApp: true},
					{ID: "1733-spy", Name: "Snoop/PJSIP/1001-00000009", InApp: true},
					leg("gone", "PJSIP/1001"),
					leg("c2", "PJSIP/1002"),
					caller("c2", sb.ChannelUp),
				}},
				Calls: []Call{{ID: "c2"}},
				Known: map[sb.ChannelID]bool{"c2": true},
			},
			want: Plan{HangUpOrphan{"c1-t1"}, HangUpOrphan{"c1-sv1"}, HangUpOrphan{"c1-sn2"}, HangUpOrphan{"1733-spy"}, HangUpOrphan{"gone-a1"}, HangUpOrphan{"c2-a1"}},
		},
		{
			name: "a recording leg of a live call is left alone, one of a call that is over hung up",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{
					caller("c1", sb.ChannelUp),
					{ID: "c1-rs1", Name: "Snoop/PJSIP/trunk-c1-1", InApp: true},
					{ID: "c9-rs1", Name: "Snoop/PJSIP/trunk-c9-1", InApp: true},
				}},
				Calls: []Call{{ID: "c1"}},
				Known: map[sb.ChannelID]bool{"c1": true},
			},
			want: Plan{HangUpOrphan{"c9-rs1"}},
		},
		{
			name: "empty bridge of a gone call deleted; bridges of live calls and not ours kept",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{caller("c1", sb.ChannelUp)},
					Bridges:  []sb.BridgeInfo{bridge("c9"), bridge("c1", "c1"), {ID: "conf-1"}},
				},
				Calls: []Call{{ID: "c1"}},
				Known: map[sb.ChannelID]bool{"c1": true},
			},
			want: Plan{DestroyBridge{"br-c9"}},
		},
		{
			name: "bridge with the agent leg of a call that is over: leg hung up, bridge deleted",
			in: Input{
				Listing: Listing{
					Channels: []sb.ChannelInfo{leg("c9", "PJSIP/1001")},
					Bridges:  []sb.BridgeInfo{bridge("c9", "c9-a1")},
				},
			},
			want: Plan{HangUpOrphan{"c9-a1"}, DestroyBridge{"br-c9"}},
		},
		{
			name: "a call thought live whose caller the PBX no longer has is gone",
			in: Input{
				Calls: []Call{{ID: "c1", AgentLeg: "c1-a1", AgentUp: true}},
				Known: map[sb.ChannelID]bool{"c1": true, "c1-a1": true},
			},
			want: Plan{LegGone{Call: "c1", Channel: "c1-a1"}, LegGone{Call: "c1", Channel: "c1"}},
		},
		{
			name: "known agent legs: ringing one gone is hung up, one answered while down, one still ringing, a fresh one",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{
					caller("c1", sb.ChannelUp), caller("c2", sb.ChannelUp), caller("c3", sb.ChannelUp), caller("c4", sb.ChannelUp),
					{ID: "c2-a1", State: sb.ChannelUp}, {ID: "c3-a1", State: sb.ChannelRinging},
				}},
				Calls: []Call{
					{ID: "c1", AgentLeg: "c1-a1"},
					{ID: "c2", AgentLeg: "c2-a1"},
					{ID: "c3", AgentLeg: "c3-a1"},
					{ID: "c4", AgentLeg: "c4-a1", AgentLegFresh: true},
				},
				Known: map[sb.ChannelID]bool{"c1": true, "c2": true, "c3": true, "c4": true, "c1-a1": true, "c2-a1": true, "c3-a1": true, "c4-a1": true},
			},
			want: Plan{HangUp{"c1", "c1-a1"}, LegGone{Call: "c1", Channel: "c1-a1"}, AgentAnswered{"c2"}},
		},
		{
			name: "a call that entered after the listing is left alone; a greeting whose end was lost goes on last",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{caller("c2", sb.ChannelUp)}, Bridges: []sb.BridgeInfo{bridge("c9")}},
				Calls:   []Call{{ID: "c1", Fresh: true}, {ID: "c2", Greeting: true}},
				Known:   map[sb.ChannelID]bool{"c1": true, "c2": true},
			},
			want: Plan{DestroyBridge{"br-c9"}, GreetingOver{"c2"}},
		},
		{
			name: "agent-first legs the PBX no longer has are hung up and gone",
			in: Input{
				Calls: []Call{
					{ID: "cb1", AgentFirst: true, AgentLeg: "cb1-a1", CustomerPlaced: true},
					{ID: "cb2", AgentFirst: true, AgentLeg: "cb2-a1"},
					{ID: "cb3", AgentFirst: true, AgentLeg: "cb3-a1", AgentGone: true, CustomerPlaced: true, CallerGone: true},
				},
			},
			want: Plan{
				HangUp{"cb1", "cb1-a1"}, LegGone{"cb1", "cb1-a1", true}, HangUp{"cb1", "cb1"}, LegGone{"cb1", "cb1", true},
				HangUp{"cb2", "cb2-a1"}, LegGone{"cb2", "cb2-a1", true},
			},
		},
		{
			name: "campaign calls placed whose end was lost with the link",
			in: Input{
				Listing: Listing{Channels: []sb.ChannelInfo{caller("ob-2", sb.ChannelUp), caller("ob-3", sb.ChannelUp)}},
				Placed:  []sb.ChannelID{"ob-1", "ob-2", "ob-3", "ob-4"},
				Known:   map[sb.ChannelID]bool{"ob-2": true},
				Campaigns: map[sb.ChannelID]Campaign{"ob-1": CampaignFollowed, "ob-2": CampaignFollowed,
					"ob-3": CampaignFollowed, "ob-4": CampaignFollowed},
				Gone: map[sb.ChannelID]int{"ob-3": 16, "ob-4": 0},
			},
			want: Plan{CampaignLost{"ob-1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Agents, tt.in.Attempt = agents, attempt
			got := Make(tt.in, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestCardsToRead(t *testing.T) {
	l := Listing{
		Channels: []sb.ChannelInfo{caller("c1", sb.ChannelUp), leg("c1", "PJSIP/1001"), caller("c2", sb.ChannelUp), caller("c3", sb.ChannelUp), caller("c4", sb.ChannelUp)},
		Bridges:  []sb.BridgeInfo{bridge("c1", "c1", "c1-a1"), bridge("c9", "c2"), bridge("c3", "c3")},
	}
	got := CardsToRead(l, map[sb.ChannelID]bool{"c3": true})
	if want := []sb.ChannelID{"c1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCardRoundTrip(t *testing.T) {
	c := Card{Caller: "5551234", CallerName: "Ann", Called: "800", Queue: "sales", Entered: t0, Bridged: t0.Add(time.Minute), IVRPath: sb.RawJSON(`{"flow":"main"}`)}
	v, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCard(v)
	if err != nil || !reflect.DeepEqual(got, c) || !got.Known() {
		t.Errorf("got %#v (%v), want %#v", got, err, c)
	}
	if _, err := ParseCard("{not json"); err == nil {
		t.Error("an unreadable card parsed")
	}
	if (Card{}).Known() {
		t.Error("the empty card is known")
	}
}

func TestEndedWhileDown(t *testing.T) {
	start := t0
	rows := []sb.CDR{
		{CallID: "gone", Caller: "5551234", Entered: t0.Add(-time.Hour)},
		{CallID: "adopted", Entered: t0.Add(-time.Minute)},
		{CallID: "future", Entered: now.Add(time.Hour)}, // a clock step: never ends before it entered
	}
	l := Listing{Channels: []sb.ChannelInfo{caller("adopted", sb.ChannelUp)}}
	got := EndedWhileDown(rows, l, now)
	want := []sb.CDR{
		{CallID: "gone", Caller: "5551234", Entered: t0.Add(-time.Hour), Ended: now, Outcome: sb.OutcomeEndedWhileDown, HangupBy: "unknown"},
		{CallID: "future", Entered: now.Add(time.Hour), Ended: now.Add(time.Hour), Outcome: sb.OutcomeEndedWhileDown, HangupBy: "unknown"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	// Rows entered at or before the start instant are an earlier run's.
	for _, tc := range []struct {
		entered time.Time
		earlier bool
	}{{start.Add(-time.Second), true}, {start, true}, {start.Add(time.Nanosecond), false}} {
		if got := tc.entered.Before(OpenBefore(start)); got != tc.earlier {
			t.Errorf("row entered %v: earlier run's = %v, want %v", tc.entered.Sub(start), got, tc.earlier)
		}
	}
}

func TestSubscriptions(t *testing.T) {
	got := Subscriptions(agents)
	want := []sb.Agent{agents[0], agents[1]} // carol shares alice's phone, dan's Local endpoint has no state
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
