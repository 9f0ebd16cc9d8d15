package ivr

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// --- fixtures

var newYork = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

// thursday is a Thursday afternoon in New York.
var thursday = time.Date(2026, 3, 5, 17, 0, 0, 0, newYork)

const testCaller = "+15551234567"

// hoursCalendars is a hand-written Calendars with function fields.
type hoursCalendars struct {
	KnownFn  func(name string) bool
	IsOpenFn func(name string, t time.Time) bool
}

var _ Calendars = (*hoursCalendars)(nil)

func (f *hoursCalendars) Known(name string) bool { return f.KnownFn(name) }

func (f *hoursCalendars) IsOpen(name string, t time.Time) bool { return f.IsOpenFn(name, t) }

// supportHours is open 09:00-18:00 New York time, Monday to Friday.
var supportHours = &hoursCalendars{
	KnownFn: func(name string) bool { return name == "support-hours" },
	IsOpenFn: func(name string, t time.Time) bool {
		t = t.In(newYork)
		wd := t.Weekday()
		return name == "support-hours" && wd >= time.Monday && wd <= time.Friday && t.Hour() >= 9 && t.Hour() < 18
	},
}

// buildSet builds a Set in Go (no YAML loader): it declares the variables and
// compiles every branch condition and assignment against them.
func buildSet(t testing.TB, declared []string, flows ...*Flow) *Set {
	t.Helper()
	set := &Set{Flows: map[string]*Flow{}, Version: 7, Declared: map[string]bool{}}
	for _, v := range declared {
		set.Declared[v] = true
	}
	for _, f := range flows {
		set.Flows[f.Name] = f
		for _, n := range f.Nodes {
			if n.Branch != nil {
				for i := range n.Branch.Cases {
					c := &n.Branch.Cases[i]
					p, err := CompileExpr(c.When, set.Declared, nil, true)
					if err != nil {
						t.Fatalf("flow %s node %s: %v", f.Name, n.ID, err)
					}
					c.Program = p
				}
			}
			for i := range n.Set {
				a := &n.Set[i]
				p, err := CompileExpr(a.Expr, set.Declared, nil, false)
				if err != nil {
					t.Fatalf("flow %s node %s: %v", f.Name, n.ID, err)
				}
				a.Program = p
			}
		}
	}
	return set
}

// buildFlow makes a flow starting at its first node, in English.
func buildFlow(name string, nodes ...*Node) *Flow {
	f := &Flow{Name: name, Start: nodes[0].ID, Language: "en", Nodes: map[string]*Node{}}
	for _, n := range nodes {
		f.Nodes[n.ID] = n
	}
	return f
}

func nPlay(id, next string, media ...string) *Node {
	return &Node{ID: id, Type: NodePlay, Next: next, Play: &Play{Media: media}}
}

func nQueue(id, queue string) *Node {
	return &Node{ID: id, Type: NodeQueue, Queue: &Queue{Name: queue}}
}

func nHangup(id string) *Node { return &Node{ID: id, Type: NodeHangup, Hangup: &Hangup{Cause: 16}} }

func nGoto(id, to string) *Node { return &Node{ID: id, Type: NodeGoto, Goto: to} }

func nMenu(id string, m Menu) *Node { return &Node{ID: id, Type: NodeMenu, Menu: &m} }

func nGather(id, next string, g Gather) *Node {
	return &Node{ID: id, Type: NodeGather, Next: next, Gather: &g}
}

func nBranch(id, els string, cases ...Case) *Node {
	return &Node{ID: id, Type: NodeBranch, Branch: &Branch{Cases: cases, Else: els}}
}

func nSet(id, next string, as ...Assign) *Node {
	return &Node{ID: id, Type: NodeSet, Next: next, Set: as}
}

func nSay(id, next string, kind SayKind, value string) *Node {
	return &Node{ID: id, Type: NodeSay, Next: next, Say: &Say{Kind: kind, Value: value}}
}

func nSubflow(id, flow, next string) *Node {
	return &Node{ID: id, Type: NodeSubflow, Subflow: flow, Next: next}
}

func nReturn(id string) *Node { return &Node{ID: id, Type: NodeReturn} }

// --- callScript runner

// callEvent is one input of a callScript, when it happens, and the commands it must give.
type callEvent struct {
	in   Input
	at   time.Duration // after thursday
	want []Command
}

type callScript struct {
	name  string
	set   *Set
	cals  Calendars
	steps []callEvent
	end   string            // "" = not done
	path  []string          // visit summaries (see summarize); nil = not checked
	vars  map[string]string // nil = not checked
}

// summarize writes each visit as "[flow/]node [keys]: result"; the flow is
// written only inside a sub-flow.
func summarize(p Path) []string {
	out := make([]string, 0, len(p.Visits))
	for _, v := range p.Visits {
		s := v.Node
		if v.Flow != p.Flow {
			s = v.Flow + "/" + s
		}
		if v.Keys != "" {
			s += " [" + v.Keys + "]"
		}
		if v.Result != "" {
			s += ": " + v.Result
		}
		out = append(out, s)
	}
	return out
}

var sessionCmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func beginCall(vars map[string]string) Begin {
	return Begin{Caller: testCaller, DNIS: "8000", Vars: vars}
}

func runScripts(t *testing.T, scripts []callScript) {
	t.Helper()
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			s := runScript(t, sc)
			_ = s
		})
	}
}

func runScript(t *testing.T, sc callScript) *Session {
	t.Helper()
	s, err := NewSession(sc.set, "main", sc.cals, newYork)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range sc.steps {
		got := s.Step(e.in, thursday.Add(e.at))
		if diff := cmp.Diff(e.want, got, sessionCmpOpts...); diff != "" {
			t.Fatalf("step %d %T%+v (-want +got):\n%s\npath so far: %q", i, e.in, e.in, diff, summarize(s.Path()))
		}
	}
	p := s.Path()
	if sc.end != "" {
		if !s.Done() || p.End != sc.end {
			t.Errorf("Done() = %v, End = %q; want done, %q", s.Done(), p.End, sc.end)
		}
	} else if s.Done() {
		t.Errorf("session ended (%q); want it running", p.End)
	}
	if sc.path != nil {
		if diff := cmp.Diff(sc.path, summarize(p)); diff != "" {
			t.Errorf("path (-want +got):\n%s", diff)
		}
	}
	if sc.vars != nil {
		if diff := cmp.Diff(sc.vars, p.Vars, sessionCmpOpts...); diff != "" {
			t.Errorf("vars (-want +got):\n%s", diff)
		}
	}
	if p.Flow != "main" || p.Version != 7 {
		t.Errorf("path Flow, Version = %q, %d; want main, 7", p.Flow, p.Version)
	}
	return s
}

func playCmd(id string, bargeIn bool, media ...string) PlayCmd {
	return PlayCmd{ID: id, Media: media, Language: "en", BargeIn: bargeIn}
}

func cmds(c ...Command) []Command { return c }

// --- play, say, hangup, queue

func TestSessionPlaySayHangup(t *testing.T) {
	helloSet := func() *Set {
		return buildSet(t, nil, buildFlow("main", nPlay("hello", "bye", "sound:hello", "recording:greeting-${tier}"), nHangup("bye")))
	}
	sayMoney := func(value string) *Set {
		n := nSay("amount", "bye", SayMoney, value)
		n.Say.Currency = "EUR"
		return buildSet(t, []string{"balance"}, buildFlow("main", n, nHangup("bye")))
	}
	spanish := buildSet(t, nil, buildFlow("main", &Node{ID: "hola", Type: NodePlay, Next: "q",
		Play: &Play{Media: Prompt{"sound:hola"}, Language: "es"}}, nQueue("q", "ventas")))
	goodbye := buildSet(t, nil, buildFlow("main", &Node{ID: "bye", Type: NodeHangup,
		Hangup: &Hangup{Prompt: Prompt{"sound:goodbye"}, Cause: 17}}))
	sayTime := buildSet(t, nil, buildFlow("main", &Node{ID: "t", Type: NodeSay, Next: "q",
		Say: &Say{Kind: SayTime, Value: "2026-03-05T23:01:00Z", Language: "fr"}}, nQueue("q", "q")))

	runScripts(t, []callScript{{
		name: "play then hangup",
		set:  helloSet(),
		steps: []callEvent{
			{in: beginCall(map[string]string{"tier": "gold"}), want: cmds(playCmd("play-1", false, "sound:hello", "recording:greeting-gold"))},
			{in: PlaybackDone{ID: "play-0"}, at: time.Second},
			{in: PlaybackDone{ID: "play-1"}, at: 2 * time.Second, want: cmds(HangupCmd{Cause: 16})},
			{in: PlaybackDone{ID: "play-1"}, at: 3 * time.Second},
		},
		end:  "hangup",
		path: []string{"hello", "bye"},
		vars: map[string]string{"tier": "gold"},
	}, {
		name: "failed playback goes on",
		set:  helloSet(),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", false, "sound:hello", "recording:greeting-"))},
			{in: PlaybackDone{ID: "play-1", Failed: true}, want: cmds(HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"hello: playback failed", "bye"},
	}, {
		name: "play language overrides the flow's",
		set:  spanish,
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(PlayCmd{ID: "play-1", Media: []string{"sound:hola"}, Language: "es"})},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(QueueCmd{Queue: "ventas"})},
		},
		end: "queue:ventas",
	}, {
		name: "say money",
		set:  sayMoney("${balance}"),
		steps: []callEvent{
			{in: beginCall(map[string]string{"balance": "-12.5"}), want: cmds(playCmd("play-1", false,
				"sound:digits/minus", "number:12", "sound:euros", "number:50", "sound:cents"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"amount", "bye"},
	}, {
		name: "say an unspeakable value is skipped",
		set:  sayMoney("${balance}"),
		steps: []callEvent{
			{in: beginCall(map[string]string{"balance": "n/a"}), want: cmds(HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"amount: unspeakable", "bye"},
	}, {
		name: "say time in the flow set's zone, 24h in French",
		set:  sayTime,
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(PlayCmd{ID: "play-1", Media: []string{"number:18", "number:1"}, Language: "fr"})},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(QueueCmd{Queue: "q"})},
		},
		end: "queue:q",
	}, {
		name: "hangup plays its prompt first",
		set:  goodbye,
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", false, "sound:goodbye"))},
			{in: Digit{Key: "1"}},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(HangupCmd{Cause: 17})},
		},
		end:  "hangup",
		path: []string{"bye [1]"},
	}})
}

func TestSessionQueueSkillsExpanded(t *testing.T) {
	q := &Node{ID: "q", Type: NodeQueue, Queue: &Queue{Name: "support", Priority: 5,
		Skills: map[string]string{"lang": "${lang}", "product": "router"}}}
	runScript(t, callScript{
		name: "queue",
		set:  buildSet(t, []string{"lang"}, buildFlow("main", q)),
		steps: []callEvent{{in: beginCall(map[string]string{"lang": "es"}), want: cmds(QueueCmd{Queue: "support", Priority: 5,
			Skills: map[string]string{"lang": "es", "product": "router"}})}},
		end:  "queue:support",
		path: []string{"q"},
	})
}

func TestSessionVisitTimes(t *testing.T) {
	set := buildSet(t, nil, buildFlow("main", nPlay("a", "b", "sound:a"), nPlay("b", "q", "sound:b"), nQueue("q", "q")))
	s, _ := NewSession(set, "main", nil, newYork)
	s.Step(beginCall(nil), thursday)
	s.Step(PlaybackDone{ID: "play-1"}, thursday.Add(1500*time.Millisecond))
	if f, n := s.Node(); f != "main" || n != "b" {
		t.Errorf("Node() = %s, %s; want main, b", f, n)
	}
	s.Step(PlaybackDone{ID: "play-2"}, thursday.Add(4*time.Second))
	var got []float64
	for _, v := range s.Path().Visits {
		got = append(got, v.At)
	}
	if diff := cmp.Diff([]float64{0, 1.5, 4}, got); diff != "" {
		t.Errorf("visit At (-want +got):\n%s", diff)
	}
	if want := []string{"sound:a"}; !cmp.Equal(s.Path().Visits[0].Prompts, want) {
		t.Errorf("prompts = %q, want %q", s.Path().Visits[0].Prompts, want)
	}
	if s.Steps() != 3 {
		t.Errorf("Steps() = %d, want 3", s.Steps())
	}
}

// --- menu

func TestSessionMenu(t *testing.T) {
	mainMenu := Menu{Prompt: Prompt{"sound:menu"}, Keys: map[string]string{"1": "sales", "2": "support"},
		Timeout: 5 * time.Second, Retries: 2, InvalidPrompt: Prompt{"sound:invalid"},
		TimeoutPrompt: Prompt{"sound:timeout"}, Fail: "operator"}
	menuSet := func(m Menu, intro bool) *Set {
		nodes := []*Node{nMenu("m", m), nQueue("sales", "sales"), nQueue("support", "support"), nQueue("operator", "operator")}
		if intro {
			nodes = append([]*Node{nPlay("intro", "m", "sound:intro")}, nodes...)
		}
		return buildSet(t, nil, buildFlow("main", nodes...))
	}
	noFail := mainMenu
	noFail.Retries, noFail.Fail = 0, ""
	silent := mainMenu
	silent.Prompt, silent.TimeoutPrompt = nil, nil
	silent.Retries = 1

	runScripts(t, []callScript{{
		name: "key after the prompt",
		set:  menuSet(mainMenu, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", true, "sound:menu"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(StartTimerCmd{Token: "timer-2", After: 5 * time.Second})},
			{in: Digit{Key: "2"}, want: cmds(CancelTimerCmd{Token: "timer-2"}, QueueCmd{Queue: "support"})},
		},
		end:  "queue:support",
		path: []string{"m [2]: key 2", "support"},
	}, {
		name: "barge-in",
		set:  menuSet(mainMenu, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", true, "sound:menu"))},
			{in: Digit{Key: "1"}, want: cmds(StopPlayCmd{ID: "play-1"}, QueueCmd{Queue: "sales"})},
			{in: PlaybackDone{ID: "play-1"}},
		},
		end:  "queue:sales",
		path: []string{"m [1]: key 1", "sales"},
	}, {
		name: "invalid key, then a valid one",
		set:  menuSet(mainMenu, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", true, "sound:menu"))},
			{in: Digit{Key: "7"}, want: cmds(StopPlayCmd{ID: "play-1"}, playCmd("play-2", true, "sound:invalid", "sound:menu"))},
			{in: PlaybackDone{ID: "play-1"}}, // the stopped prompt: stale
			{in: PlaybackDone{ID: "play-2"}, want: cmds(StartTimerCmd{Token: "timer-3", After: 5 * time.Second})},
			{in: Digit{Key: "1"}, want: cmds(CancelTimerCmd{Token: "timer-3"}, QueueCmd{Queue: "sales"})},
		},
		end:  "queue:sales",
		path: []string{"m [71]: invalid 7, key 1", "sales"},
	}, {
		name: "timeouts until retries are exhausted go to fail",
		set:  menuSet(mainMenu, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", true, "sound:menu"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(StartTimerCmd{Token: "timer-2", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-2"}, want: cmds(playCmd("play-3", true, "sound:timeout", "sound:menu"))},
			{in: PlaybackDone{ID: "play-3"}, want: cmds(StartTimerCmd{Token: "timer-4", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-2"}}, // stale
			{in: TimerFired{Token: "timer-4"}, want: cmds(playCmd("play-5", true, "sound:timeout", "sound:menu"))},
			{in: PlaybackDone{ID: "play-5"}, want: cmds(StartTimerCmd{Token: "timer-6", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-6"}, want: cmds(QueueCmd{Queue: "operator"})},
		},
		end:  "queue:operator",
		path: []string{"m: timeout, timeout, timeout, retries exhausted", "operator"},
	}, {
		name: "retries exhausted without a fail node hangs up",
		set:  menuSet(noFail, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", true, "sound:menu"))},
			{in: Digit{Key: "9"}, want: cmds(StopPlayCmd{ID: "play-1"}, HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"m [9]: invalid 9, retries exhausted"},
	}, {
		name: "menu without prompts waits for a key at once",
		set:  menuSet(silent, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(StartTimerCmd{Token: "timer-1", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-1"}, want: cmds(StartTimerCmd{Token: "timer-2", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-2"}, want: cmds(QueueCmd{Queue: "operator"})},
		},
		end:  "queue:operator",
		path: []string{"m: timeout, timeout, retries exhausted", "operator"},
	}, {
		name: "type-ahead during a play node chooses without the prompt",
		set:  menuSet(mainMenu, true),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", false, "sound:intro"))},
			{in: Digit{Key: "2"}},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(QueueCmd{Queue: "support"})},
		},
		end:  "queue:support",
		path: []string{"intro [2]", "m: key 2 (type-ahead)", "support"},
	}, {
		name: "invalid type-ahead drops the rest and plays the invalid prompt",
		set:  menuSet(mainMenu, true),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", false, "sound:intro"))},
			{in: Digit{Key: "9"}},
			{in: Digit{Key: "1"}},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(playCmd("play-2", true, "sound:invalid", "sound:menu"))},
			{in: Digit{Key: "2"}, want: cmds(StopPlayCmd{ID: "play-2"}, QueueCmd{Queue: "support"})},
		},
		end:  "queue:support",
		path: []string{"intro [91]", "m [2]: invalid 9, key 2", "support"},
	}})
}

// --- gather

func TestSessionGather(t *testing.T) {
	base := Gather{Prompt: Prompt{"sound:enter-account"}, Min: 4, Max: 6, Terminator: "#",
		Timeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second, Retries: 1,
		InvalidPrompt: Prompt{"sound:invalid"}, TimeoutPrompt: Prompt{"sound:timeout"}, Into: "account", Fail: "bad"}
	gatherSet := func(g Gather, intro bool) *Set {
		nodes := []*Node{nGather("acct", "ok", g), nQueue("ok", "ok"), nQueue("bad", "bad")}
		if intro {
			nodes = append([]*Node{nPlay("intro", "acct", "sound:intro")}, nodes...)
		}
		return buildSet(t, []string{"account"}, buildFlow("main", nodes...))
	}
	max4 := base
	max4.Max = 4
	nines := base
	nines.Pattern = "9[0-9]*"
	prompt := playCmd("play-1", true, "sound:enter-account")
	start := func(tok string) StartTimerCmd { return StartTimerCmd{Token: tok, After: 3 * time.Second} }
	cancel := func(tok string) CancelTimerCmd { return CancelTimerCmd{Token: tok} }
	stored := func(v string) SetVarCmd { return SetVarCmd{Name: "account", Value: v} }

	runScripts(t, []callScript{{
		name: "terminator ends input",
		set:  gatherSet(base, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: Digit{Key: "1"}, want: cmds(StopPlayCmd{ID: "play-1"}, start("timer-2"))},
			{in: Digit{Key: "2"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "3"}, want: cmds(cancel("timer-3"), start("timer-4"))},
			{in: Digit{Key: "4"}, want: cmds(cancel("timer-4"), start("timer-5"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-5"), stored("1234"), QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"acct [1234#]: stored account", "ok"},
		vars: map[string]string{"account": "1234"},
	}, {
		name: "max digits end input",
		set:  gatherSet(max4, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(StartTimerCmd{Token: "timer-2", After: 5 * time.Second})},
			{in: Digit{Key: "5"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "6"}, want: cmds(cancel("timer-3"), start("timer-4"))},
			{in: Digit{Key: "7"}, want: cmds(cancel("timer-4"), start("timer-5"))},
			{in: Digit{Key: "8"}, want: cmds(cancel("timer-5"), stored("5678"), QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		vars: map[string]string{"account": "5678"},
	}, {
		name: "inter-digit timeout ends input",
		set:  gatherSet(base, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: Digit{Key: "1"}, want: cmds(StopPlayCmd{ID: "play-1"}, start("timer-2"))},
			{in: Digit{Key: "2"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "3"}, want: cmds(cancel("timer-3"), start("timer-4"))},
			{in: Digit{Key: "4"}, want: cmds(cancel("timer-4"), start("timer-5"))},
			{in: TimerFired{Token: "timer-4"}}, // stale
			{in: TimerFired{Token: "timer-5"}, want: cmds(stored("1234"), QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"acct [1234]: stored account", "ok"},
	}, {
		name: "too few digits retries",
		set:  gatherSet(base, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: Digit{Key: "1"}, want: cmds(StopPlayCmd{ID: "play-1"}, start("timer-2"))},
			{in: Digit{Key: "2"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-3"), playCmd("play-4", true, "sound:invalid", "sound:enter-account"))},
			{in: Digit{Key: "5"}, want: cmds(StopPlayCmd{ID: "play-4"}, start("timer-5"))},
			{in: Digit{Key: "6"}, want: cmds(cancel("timer-5"), start("timer-6"))},
			{in: Digit{Key: "7"}, want: cmds(cancel("timer-6"), start("timer-7"))},
			{in: Digit{Key: "8"}, want: cmds(cancel("timer-7"), start("timer-8"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-8"), stored("5678"), QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"acct [12#5678#]: invalid 12, stored account", "ok"},
	}, {
		name: "pattern failure until retries are exhausted",
		set:  gatherSet(nines, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: Digit{Key: "1"}, want: cmds(StopPlayCmd{ID: "play-1"}, start("timer-2"))},
			{in: Digit{Key: "2"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "3"}, want: cmds(cancel("timer-3"), start("timer-4"))},
			{in: Digit{Key: "4"}, want: cmds(cancel("timer-4"), start("timer-5"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-5"), playCmd("play-6", true, "sound:invalid", "sound:enter-account"))},
			{in: PlaybackDone{ID: "play-6"}, want: cmds(StartTimerCmd{Token: "timer-7", After: 5 * time.Second})},
			{in: Digit{Key: "1"}, want: cmds(cancel("timer-7"), start("timer-8"))},
			{in: Digit{Key: "9"}, want: cmds(cancel("timer-8"), start("timer-9"))},
			{in: Digit{Key: "9"}, want: cmds(cancel("timer-9"), start("timer-10"))},
			{in: Digit{Key: "9"}, want: cmds(cancel("timer-10"), start("timer-11"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-11"), QueueCmd{Queue: "bad"})},
		},
		end:  "queue:bad",
		path: []string{"acct [1234#1999#]: invalid 1234, invalid 1999, retries exhausted", "bad"},
		vars: map[string]string{},
	}, {
		name: "pattern match",
		set:  gatherSet(nines, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: Digit{Key: "9"}, want: cmds(StopPlayCmd{ID: "play-1"}, start("timer-2"))},
			{in: Digit{Key: "1"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "2"}, want: cmds(cancel("timer-3"), start("timer-4"))},
			{in: Digit{Key: "3"}, want: cmds(cancel("timer-4"), start("timer-5"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-5"), stored("9123"), QueueCmd{Queue: "ok"})},
		},
		end: "queue:ok",
	}, {
		name: "no digits: timeout, then fail",
		set:  gatherSet(base, false),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(prompt)},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(StartTimerCmd{Token: "timer-2", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-2"}, want: cmds(playCmd("play-3", true, "sound:timeout", "sound:enter-account"))},
			{in: PlaybackDone{ID: "play-3"}, want: cmds(StartTimerCmd{Token: "timer-4", After: 5 * time.Second})},
			{in: TimerFired{Token: "timer-4"}, want: cmds(QueueCmd{Queue: "bad"})},
		},
		end:  "queue:bad",
		path: []string{"acct: timeout, timeout, retries exhausted", "bad"},
	}, {
		name: "whole input typed ahead",
		set:  gatherSet(base, true),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", false, "sound:intro"))},
			{in: Digit{Key: "4"}},
			{in: Digit{Key: "3"}},
			{in: Digit{Key: "2"}},
			{in: Digit{Key: "1"}},
			{in: Digit{Key: "#"}},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(stored("4321"), QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"intro [4321#]", "acct: stored account", "ok"},
	}, {
		name: "part typed ahead, the rest after",
		set:  gatherSet(base, true),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(playCmd("play-1", false, "sound:intro"))},
			{in: Digit{Key: "4"}},
			{in: Digit{Key: "3"}},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(start("timer-2"))},
			{in: Digit{Key: "2"}, want: cmds(cancel("timer-2"), start("timer-3"))},
			{in: Digit{Key: "1"}, want: cmds(cancel("timer-3"), start("timer-4"))},
			{in: Digit{Key: "#"}, want: cmds(cancel("timer-4"), stored("4321"), QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"intro [43]", "acct [21#]: stored account", "ok"},
	}})
}

// --- branch and set

func TestSessionBranchCalendar(t *testing.T) {
	hours := func() *Set {
		return buildSet(t, nil, buildFlow("main",
			nBranch("hours", "closed",
				Case{When: `calendar("support-hours")`, Next: "open"},
				Case{When: `hour >= 18 && weekday == "thu"`, Next: "evening"}),
			nQueue("open", "support"), nQueue("evening", "evening"), nQueue("closed", "voicemail")))
	}
	// Given in UTC on purpose: the session reads the clock in New York.
	at := func(hh, mm int) time.Duration {
		return time.Date(2026, 3, 5, hh, mm, 0, 0, newYork).UTC().Sub(thursday)
	}
	runScripts(t, []callScript{{
		name:  "17:59 New York: open",
		set:   hours(),
		cals:  supportHours,
		steps: []callEvent{{in: beginCall(nil), at: at(17, 59), want: cmds(QueueCmd{Queue: "support"})}},
		end:   "queue:support",
		path:  []string{"hours: case 1", "open"},
	}, {
		name:  "18:01 New York: closed, evening case",
		set:   hours(),
		cals:  supportHours,
		steps: []callEvent{{in: beginCall(nil), at: at(18, 1), want: cmds(QueueCmd{Queue: "evening"})}},
		end:   "queue:evening",
		path:  []string{"hours: case 2", "evening"},
	}, {
		name:  "08:00: else",
		set:   hours(),
		cals:  supportHours,
		steps: []callEvent{{in: beginCall(nil), at: at(8, 0), want: cmds(QueueCmd{Queue: "voicemail"})}},
		end:   "queue:voicemail",
		path:  []string{"hours: else", "closed"},
	}, {
		name:  "no calendars: every calendar is closed",
		set:   hours(),
		steps: []callEvent{{in: beginCall(nil), at: at(10, 0), want: cmds(QueueCmd{Queue: "voicemail"})}},
		end:   "queue:voicemail",
	}, {
		name: "no case and no else hangs up",
		set: buildSet(t, nil, buildFlow("main", nBranch("b", "",
			Case{When: `caller == "+1"`, Next: "q"}), nQueue("q", "q"))),
		steps: []callEvent{{in: beginCall(nil), want: cmds(HangupCmd{Cause: 16})}},
		end:   "hangup",
		path:  []string{"b: no case holds"},
	}})
}

func TestSessionBranchErrorIsFalse(t *testing.T) {
	set := buildSet(t, []string{"n"}, buildFlow("main",
		nBranch("b", "other",
			Case{When: `int(n) > 3`, Next: "big"},
			Case{When: `dnis == "8000"`, Next: "main-line"}),
		nQueue("big", "big"), nQueue("main-line", "main"), nQueue("other", "other")))
	s, _ := NewSession(set, "main", nil, newYork)
	got := s.Step(beginCall(map[string]string{"n": "lots"}), thursday)
	if diff := cmp.Diff(cmds(QueueCmd{Queue: "main"}), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r := s.Path().Visits[0].Result
	if !strings.HasPrefix(r, "case 1 error: ") || !strings.HasSuffix(r, ", case 2") || strings.Contains(r, "\n") {
		t.Errorf("result = %q, want case 1 error: ..., case 2", r)
	}
}

func TestSessionSetChaining(t *testing.T) {
	set := buildSet(t, []string{"a", "b", "n", "who"}, buildFlow("main",
		nSet("s", "q",
			Assign{Var: "a", Expr: `"x"`},
			Assign{Var: "b", Expr: `a + "y"`},
			Assign{Var: "n", Expr: `len(b) * 2`},
			Assign{Var: "who", Expr: `caller + "@" + dnis`}),
		nQueue("q", "q")))
	runScript(t, callScript{
		name: "set",
		set:  set,
		steps: []callEvent{{in: beginCall(nil), want: cmds(
			SetVarCmd{Name: "a", Value: "x"},
			SetVarCmd{Name: "b", Value: "xy"},
			SetVarCmd{Name: "n", Value: "4"},
			SetVarCmd{Name: "who", Value: testCaller + "@8000"},
			QueueCmd{Queue: "q"})}},
		end:  "queue:q",
		path: []string{"s: set a, b, n, who", "q"},
		vars: map[string]string{"a": "x", "b": "xy", "n": "4", "who": testCaller + "@8000"},
	})
}

// --- lookup

func TestSessionLookup(t *testing.T) {
	crm := func(fail string) *Set {
		l := &Node{ID: "crm", Type: NodeLookup, Next: "ok", Lookup: &Lookup{
			Method:  "GET",
			URL:     "https://crm.example/customers?ani=${caller}",
			Headers: map[string]string{"Authorization": "Bearer ${token}"},
			Timeout: 2 * time.Second,
			Map: map[string]string{"name": "customer.name", "tier": "customer.tier", "balance": "customer.balance",
				"vip": "customer.vip", "phone": "customer.phones.1", "missing": "customer.nope"},
			Fail: fail,
		}}
		return buildSet(t, []string{"name", "tier", "balance", "vip", "phone", "missing", "token"}, buildFlow("main", l,
			nPlay("fallback", "ok", "sound:sorry"), nQueue("ok", "ok")))
	}
	lookupCmd := LookupCmd{Token: "lookup-1", Method: "GET", URL: "https://crm.example/customers?ani=" + testCaller,
		Headers: map[string]string{"Authorization": "Bearer abc"}, Timeout: 2 * time.Second}
	started := cmds(lookupCmd, StartTimerCmd{Token: "timer-2", After: 2 * time.Second})
	token := map[string]string{"token": "abc"}
	body := []byte(`{"customer":{"name":"Ann","tier":"gold","balance":1.2505e3,"vip":true,"phones":["+15550001","+15550002"]}}`)
	cancel := CancelTimerCmd{Token: "timer-2"}

	runScripts(t, []callScript{{
		name: "ok",
		set:  crm("fallback"),
		steps: []callEvent{
			{in: beginCall(token), want: started},
			{in: LookupDone{Token: "lookup-0", Status: 200, Body: body}}, // stale
			{in: LookupDone{Token: "lookup-1", Status: 200, Body: body}, want: cmds(cancel,
				SetVarCmd{Name: "balance", Value: "1250.5"},
				SetVarCmd{Name: "missing", Value: ""},
				SetVarCmd{Name: "name", Value: "Ann"},
				SetVarCmd{Name: "phone", Value: "+15550002"},
				SetVarCmd{Name: "tier", Value: "gold"},
				SetVarCmd{Name: "vip", Value: "true"},
				QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"crm: lookup ok", "ok"},
		vars: map[string]string{"token": "abc", "balance": "1250.5", "missing": "", "name": "Ann",
			"phone": "+15550002", "tier": "gold", "vip": "true"},
	}, {
		name: "status 500",
		set:  crm("fallback"),
		steps: []callEvent{
			{in: beginCall(token), want: started},
			{in: LookupDone{Token: "lookup-1", Status: 500, Body: []byte(`{}`)},
				want: cmds(cancel, playCmd("play-3", false, "sound:sorry"))},
		},
		path: []string{"crm: lookup failed: status 500", "fallback"},
	}, {
		name: "bad JSON",
		set:  crm("fallback"),
		steps: []callEvent{
			{in: beginCall(token), want: started},
			{in: LookupDone{Token: "lookup-1", Status: 200, Body: []byte(`{"customer":`)},
				want: cmds(cancel, playCmd("play-3", false, "sound:sorry"))},
		},
		path: []string{"crm: lookup failed: bad JSON", "fallback"},
	}, {
		name: "error",
		set:  crm("fallback"),
		steps: []callEvent{
			{in: beginCall(token), want: started},
			{in: LookupDone{Token: "lookup-1", Err: "connection refused"},
				want: cmds(cancel, playCmd("play-3", false, "sound:sorry"))},
		},
		path: []string{"crm: lookup failed: connection refused", "fallback"},
	}, {
		name: "timer wins, late answer ignored",
		set:  crm("fallback"),
		steps: []callEvent{
			{in: beginCall(token), want: started},
			{in: TimerFired{Token: "timer-2"}, at: 2 * time.Second, want: cmds(playCmd("play-3", false, "sound:sorry"))},
			{in: LookupDone{Token: "lookup-1", Status: 200, Body: body}, at: 2500 * time.Millisecond},
			{in: PlaybackDone{ID: "play-3"}, at: 4 * time.Second, want: cmds(QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"crm: lookup failed: timeout", "fallback", "ok"},
		vars: map[string]string{"token": "abc"},
	}, {
		name: "without a fail node a failed lookup goes on",
		set:  crm(""),
		steps: []callEvent{
			{in: beginCall(token), want: started},
			{in: LookupDone{Token: "lookup-1", Status: 404}, want: cmds(cancel, QueueCmd{Queue: "ok"})},
		},
		end:  "queue:ok",
		path: []string{"crm: lookup failed: status 404", "ok"},
	}})
}

func TestSessionLookupPost(t *testing.T) {
	l := &Node{ID: "crm", Type: NodeLookup, Next: "ok", Lookup: &Lookup{Method: "post",
		URL: "https://crm.example/verify", Body: `{"account":"${account}","ani":"${caller}"}`,
		Map: map[string]string{"ok": "valid"}}}
	set := buildSet(t, []string{"account", "ok"}, buildFlow("main", l, nQueue("ok", "ok")))
	runScript(t, callScript{
		name: "post",
		set:  set,
		steps: []callEvent{
			{in: beginCall(map[string]string{"account": "1234"}), want: cmds(
				LookupCmd{Token: "lookup-1", Method: "POST", URL: "https://crm.example/verify",
					Body: `{"account":"1234","ani":"` + testCaller + `"}`, Timeout: 3 * time.Second},
				StartTimerCmd{Token: "timer-2", After: 3 * time.Second})},
			{in: LookupDone{Token: "lookup-1", Status: 201, Body: []byte(`{"valid": false}`)},
				want: cmds(CancelTimerCmd{Token: "timer-2"}, SetVarCmd{Name: "ok", Value: "false"}, QueueCmd{Queue: "ok"})},
		},
		end: "queue:ok",
	})
}

func TestJSONPath(t *testing.T) {
	doc, err := parseJSON([]byte(`{"a":{"b":[{"c":"x"},{"c":12345678901234567890}],"n":1e21,"f":0.000001,
		"neg":-2.50,"t":true,"z":null,"o":{"k":1},"h":{"x":"<b>&amp;</b>"}},"s":"str"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"s", "str"},
		{"a.b.0.c", "x"},
		{"a.b.1.c", "12345678901234567890"},
		{"a.n", "1000000000000000000000"},
		{"a.f", "0.000001"},
		{"a.neg", "-2.5"},
		{"a.t", "true"},
		{"a.z", ""},
		{"a.o", `{"k":1}`},
		{"a.h", `{"x":"<b>&amp;</b>"}`},
		{"a.b.2.c", ""},
		{"a.b.x", ""},
		{"a.b.-1", ""},
		{"s.x", ""},
		{"nope", ""},
	}
	for _, tt := range tests {
		if got := jsonPath(doc, tt.path); got != tt.want {
			t.Errorf("jsonPath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{``, `{`, `{} {}`, `nul`} {
		if _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("parseJSON(%q): no error", bad)
		}
	}
}

// --- transfer

func TestSessionTransfer(t *testing.T) {
	xfer := func(fail string) *Set {
		n := &Node{ID: "x", Type: NodeTransfer, Transfer: &Transfer{Number: "${callback}", Timeout: 20 * time.Second, Fail: fail}}
		return buildSet(t, []string{"callback"}, buildFlow("main", n, nPlay("sorry", "", "sound:sorry")))
	}
	vars := map[string]string{"callback": "+15559876543"}
	sent := TransferCmd{Token: "transfer-1", Number: "+15559876543", Timeout: 20 * time.Second}
	runScripts(t, []callScript{{
		name: "answered",
		set:  xfer("sorry"),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(sent)},
			{in: TransferDone{Token: "transfer-0", Answered: true}},
			{in: TransferDone{Token: "transfer-1", Answered: true}},
		},
		end:  "transfer:+15559876543",
		path: []string{"x: answered"},
	}, {
		name: "not answered goes to fail",
		set:  xfer("sorry"),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(sent)},
			{in: TransferDone{Token: "transfer-1"}, want: cmds(playCmd("play-2", false, "sound:sorry"))},
			{in: PlaybackDone{ID: "play-2"}, want: cmds(HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"x: no answer", "sorry"},
	}, {
		name: "not answered without fail hangs up",
		set:  xfer(""),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(sent)},
			{in: TransferDone{Token: "transfer-1"}, want: cmds(HangupCmd{Cause: 16})},
		},
		end: "hangup",
	}, {
		name: "endpoint target, default timeout",
		set: buildSet(t, nil, buildFlow("main", &Node{ID: "x", Type: NodeTransfer,
			Transfer: &Transfer{Endpoint: "PJSIP/1001"}})),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(TransferCmd{Token: "transfer-1", Endpoint: "PJSIP/1001", Timeout: 30 * time.Second})},
			{in: TransferDone{Token: "transfer-1", Answered: true}},
		},
		end: "transfer:PJSIP/1001",
	}})
}

// --- voicemail

func TestSessionVoicemail(t *testing.T) {
	vmSet := func(next string) *Set {
		n := &Node{ID: "vm", Type: NodeVoicemail, Voicemail: &Voicemail{Mailbox: "sales", Prompt: Prompt{"sound:leave-message"},
			Beep: true, MaxLength: 60 * time.Second, MaxSilence: 4 * time.Second, Terminator: "#",
			MinLength: 2 * time.Second, Next: next}}
		return buildSet(t, []string{"tier"}, buildFlow("main", n, nPlay("thanks", "", "sound:thanks")))
	}
	vars := map[string]string{"tier": "gold"}
	rec := RecordCmd{Name: "vm-2", MaxDuration: 60 * time.Second, MaxSilence: 4 * time.Second, Beep: true, TerminateOn: "#"}
	stored := VoicemailCmd{Mailbox: "sales", Recording: "vm-2", Duration: 12 * time.Second, Caller: testCaller, Vars: vars}
	runScripts(t, []callScript{{
		name: "kept",
		set:  vmSet(""),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(playCmd("play-1", false, "sound:leave-message"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(rec)},
			{in: RecordingDone{Name: "vm-1", Duration: time.Minute}}, // stale
			{in: RecordingDone{Name: "vm-2", Duration: 12 * time.Second}, want: cmds(stored, HangupCmd{Cause: 16})},
		},
		end:  "voicemail:sales",
		path: []string{"vm: recorded 12s"},
	}, {
		name: "kept, then next",
		set:  vmSet("thanks"),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(playCmd("play-1", false, "sound:leave-message"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(rec)},
			{in: RecordingDone{Name: "vm-2", Duration: 12 * time.Second}, want: cmds(stored, playCmd("play-3", false, "sound:thanks"))},
			{in: PlaybackDone{ID: "play-3"}, want: cmds(HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"vm: recorded 12s", "thanks"},
	}, {
		name: "too short",
		set:  vmSet(""),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(playCmd("play-1", false, "sound:leave-message"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(rec)},
			{in: RecordingDone{Name: "vm-2", Duration: 1200 * time.Millisecond}, want: cmds(HangupCmd{Cause: 16})},
		},
		end:  "hangup",
		path: []string{"vm: discarded: too short 1.2s"},
	}, {
		name: "failed, then next without a message",
		set:  vmSet("thanks"),
		steps: []callEvent{
			{in: beginCall(vars), want: cmds(playCmd("play-1", false, "sound:leave-message"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(rec)},
			{in: RecordingDone{Name: "vm-2", Err: "disk full"}, want: cmds(playCmd("play-3", false, "sound:thanks"))},
		},
		path: []string{"vm: discarded: disk full", "thanks"},
	}})
}

func TestSessionVoicemailCallerHangsUpWhileRecording(t *testing.T) {
	n := &Node{ID: "vm", Type: NodeVoicemail, Voicemail: &Voicemail{Mailbox: "support", Beep: true,
		MaxLength: time.Minute, MinLength: time.Second}}
	set := buildSet(t, nil, buildFlow("main", n))
	for _, tt := range []struct {
		name     string
		duration time.Duration
		want     []Command
		end      string
	}{
		{"kept", 20 * time.Second, cmds(VoicemailCmd{Mailbox: "support", Recording: "vm-1", Duration: 20 * time.Second, Caller: testCaller}), "voicemail:support"},
		{"too short", 500 * time.Millisecond, nil, "caller-hangup"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := NewSession(set, "main", nil, newYork)
			want := cmds(RecordCmd{Name: "vm-1", MaxDuration: time.Minute, Beep: true})
			if got := s.Step(beginCall(nil), thursday); !cmp.Equal(want, got) {
				t.Fatalf("begin: %v, want %v", got, want)
			}
			if got := s.Step(CallerHungUp{}, thursday.Add(tt.duration)); got != nil {
				t.Fatalf("hang-up: %v, want nothing", got)
			}
			if !s.Done() || s.Path().End != "caller-hangup" || s.PendingRecording() != "vm-1" {
				t.Fatalf("Done %v End %q Pending %q", s.Done(), s.Path().End, s.PendingRecording())
			}
			if got := s.Step(Digit{Key: "1"}, thursday); got != nil {
				t.Fatalf("digit after done: %v", got)
			}
			got := s.Step(RecordingDone{Name: "vm-1", Duration: tt.duration}, thursday.Add(tt.duration))
			if diff := cmp.Diff(tt.want, got, sessionCmpOpts...); diff != "" {
				t.Errorf("late recording (-want +got):\n%s", diff)
			}
			if s.Path().End != tt.end || s.PendingRecording() != "" {
				t.Errorf("End %q Pending %q; want %q, none", s.Path().End, s.PendingRecording(), tt.end)
			}
			if got := s.Step(RecordingDone{Name: "vm-1", Duration: tt.duration}, thursday); got != nil {
				t.Errorf("second RecordingDone: %v", got)
			}
		})
	}
}

// --- goto, sub-flows, guards

func TestSessionSubflow(t *testing.T) {
	auth := buildFlow("auth",
		nSet("a1", "a2", Assign{Var: "verified", Expr: `"yes"`}),
		nPlay("a2", "r", "sound:thanks"),
		nReturn("r"))
	open := buildFlow("open", nPlay("o1", "", "sound:open")) // no successor: returns
	main := buildFlow("main",
		nGoto("g", "s"),
		nSubflow("s", "auth", "s2"),
		nSubflow("s2", "open", "done"),
		nQueue("done", "sales"))
	set := buildSet(t, []string{"verified"}, main, auth, open)

	s := runScript(t, callScript{
		name: "call and return",
		set:  set,
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(SetVarCmd{Name: "verified", Value: "yes"}, playCmd("play-1", false, "sound:thanks"))},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(playCmd("play-2", false, "sound:open"))},
			{in: PlaybackDone{ID: "play-2"}, want: cmds(QueueCmd{Queue: "sales"})},
		},
		end:  "queue:sales",
		path: []string{"g", "s", "auth/a1: set verified", "auth/a2", "auth/r", "s2", "open/o1", "done"},
	})
	if f, n := s.Node(); f != "main" || n != "done" {
		t.Errorf("Node() = %s, %s; want main, done", f, n)
	}

	s, _ = NewSession(set, "main", nil, newYork)
	s.Step(beginCall(nil), thursday)
	if f, n := s.Node(); f != "auth" || n != "a2" {
		t.Errorf("Node() in the sub-flow = %s, %s; want auth, a2", f, n)
	}

	runScripts(t, []callScript{{
		name:  "return at the top level hangs up",
		set:   buildSet(t, nil, buildFlow("main", nReturn("r"))),
		steps: []callEvent{{in: beginCall(nil), want: cmds(HangupCmd{Cause: 16})}},
		end:   "hangup",
		path:  []string{"r"},
	}, {
		name:  "a flow that calls itself stops at the depth limit",
		set:   buildSet(t, nil, buildFlow("main", nSubflow("again", "main", "x"))),
		steps: []callEvent{{in: beginCall(nil), want: cmds(HangupCmd{Cause: 16})}},
		end:   "error: sub-flows nested too deep",
	}, {
		name:  "unknown target",
		set:   buildSet(t, nil, buildFlow("main", nGoto("g", "nowhere"))),
		steps: []callEvent{{in: beginCall(nil), want: cmds(HangupCmd{Cause: 16})}},
		end:   `error: unknown node "nowhere" in flow "main"`,
		path:  []string{`g: error: unknown node "nowhere" in flow "main"`},
	}})
}

func TestSessionSubflowInheritsLanguage(t *testing.T) {
	main := buildFlow("main", nSubflow("s", "common", "q"), nQueue("q", "q"))
	main.Language = "es"
	common := buildFlow("common", nPlay("c", "", "sound:gracias"))
	common.Language = ""
	runScript(t, callScript{
		name: "language",
		set:  buildSet(t, nil, main, common),
		steps: []callEvent{
			{in: beginCall(nil), want: cmds(PlayCmd{ID: "play-1", Media: []string{"sound:gracias"}, Language: "es"})},
			{in: PlaybackDone{ID: "play-1"}, want: cmds(QueueCmd{Queue: "q"})},
		},
		end:  "queue:q",
		path: []string{"s", "common/c", "q"},
	})
}

func TestSessionLoopGuard(t *testing.T) {
	set := buildSet(t, nil, buildFlow("main", nGoto("a", "b"), nGoto("b", "a")))
	s := runScript(t, callScript{
		name:  "loop",
		set:   set,
		steps: []callEvent{{in: beginCall(nil), want: cmds(HangupCmd{Cause: 16})}},
		end:   "error: loop",
	})
	p := s.Path()
	if len(p.Visits) != MaxVisits {
		t.Errorf("%d visits, want the last %d", len(p.Visits), MaxVisits)
	}
	if last := p.Visits[len(p.Visits)-1]; last.Result != "error: loop" {
		t.Errorf("last visit %+v, want result error: loop", last)
	}
}

func TestSessionPathCap(t *testing.T) {
	set := buildSet(t, nil, buildFlow("main",
		nMenu("m", Menu{Prompt: Prompt{"sound:menu"}, Keys: map[string]string{"1": "p", "0": "q"}, Timeout: time.Second}),
		nPlay("p", "m", "sound:again"),
		nQueue("q", "q")))
	s, _ := NewSession(set, "main", nil, newYork)
	now := thursday
	s.Step(beginCall(nil), now)
	const rounds = 1000
	for i := range rounds {
		now = now.Add(time.Second)
		s.Step(Digit{Key: "1"}, now)                                 // barge-in: play-(2i+1) stopped, play-(2i+2) starts
		s.Step(PlaybackDone{ID: fmt.Sprintf("play-%d", 2*i+2)}, now) // back to the menu
		if len(s.visits) > 2*MaxVisits {
			t.Fatalf("round %d: %d visits held", i, len(s.visits))
		}
	}
	got := s.Step(Digit{Key: "0"}, now)
	if diff := cmp.Diff(cmds(StopPlayCmd{ID: fmt.Sprintf("play-%d", 2*rounds+1)}, QueueCmd{Queue: "q"}), got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	p := s.Path()
	if len(p.Visits) != MaxVisits {
		t.Fatalf("%d visits, want %d", len(p.Visits), MaxVisits)
	}
	last, prev := p.Visits[MaxVisits-1], p.Visits[MaxVisits-2]
	if last.Node != "q" || prev.Node != "m" || prev.Result != "key 0" || prev.At != rounds {
		t.Errorf("last visits %+v, %+v", prev, last)
	}
}

// --- caller hang-up, stale inputs

// TestSessionCallerHangUpEverywhere hangs up in every node type: the
// session ends with "caller-hangup", stops what plays, cancels what is
// timed, and says nothing more.
func TestSessionCallerHangUpEverywhere(t *testing.T) {
	wait := nPlay("wait", "", "sound:wait") // where input-free nodes lead
	menu := Menu{Prompt: Prompt{"sound:menu"}, Keys: map[string]string{"1": "wait"}, Timeout: time.Second}
	gather := Gather{Prompt: Prompt{"sound:enter"}, Min: 1, Max: 4, Terminator: "#", Timeout: time.Second,
		InterDigitTimeout: time.Second, Into: "v"}
	tests := []struct {
		typ   NodeType
		name  string
		node  *Node
		pre   []Input // after Begin
		want  []Command
		sub   bool // the node is in a sub-flow
		noEnd bool // a terminal node: the session had already ended
	}{
		{typ: NodePlay, node: nPlay("n", "wait", "sound:x"), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeSay, node: nSay("n", "wait", SayDigits, "123"), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeMenu, name: "prompt", node: nMenu("n", menu), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeMenu, name: "waiting", node: nMenu("n", menu), pre: []Input{PlaybackDone{ID: "play-1"}},
			want: cmds(CancelTimerCmd{Token: "timer-2"})},
		{typ: NodeGather, name: "prompt", node: nGather("n", "wait", gather), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeGather, name: "digits", node: nGather("n", "wait", gather), pre: []Input{Digit{Key: "1"}},
			want: cmds(CancelTimerCmd{Token: "timer-2"})},
		{typ: NodeBranch, node: nBranch("n", "wait", Case{When: `caller == ""`, Next: "wait"}), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeSet, node: nSet("n", "wait", Assign{Var: "v", Expr: `"1"`}), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeLookup, node: &Node{ID: "n", Type: NodeLookup, Next: "wait", Lookup: &Lookup{URL: "http://crm/", Timeout: time.Second}},
			want: cmds(CancelTimerCmd{Token: "timer-2"})},
		{typ: NodeQueue, node: nQueue("n", "sales"), noEnd: true},
		{typ: NodeTransfer, node: &Node{ID: "n", Type: NodeTransfer, Transfer: &Transfer{Extension: "2000"}}},
		{typ: NodeVoicemail, name: "prompt", node: &Node{ID: "n", Type: NodeVoicemail,
			Voicemail: &Voicemail{Mailbox: "m", Prompt: Prompt{"sound:leave"}}}, want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeVoicemail, name: "recording", node: &Node{ID: "n", Type: NodeVoicemail, Voicemail: &Voicemail{Mailbox: "m"}}},
		{typ: NodeHangup, name: "goodbye", node: &Node{ID: "n", Type: NodeHangup, Hangup: &Hangup{Prompt: Prompt{"sound:bye"}}},
			want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeHangup, name: "at once", node: nHangup("n"), noEnd: true},
		{typ: NodeGoto, node: nGoto("n", "wait"), want: cmds(StopPlayCmd{ID: "play-1"})},
		{typ: NodeSubflow, node: nSubflow("n", "sub", "wait"), want: cmds(StopPlayCmd{ID: "play-1"}), sub: true},
		{typ: NodeReturn, node: nReturn("n"), want: cmds(StopPlayCmd{ID: "play-1"}), sub: true},
	}
	covered := map[NodeType]bool{}
	for _, tt := range tests {
		covered[tt.typ] = true
		t.Run(string(tt.typ)+" "+tt.name, func(t *testing.T) {
			var set *Set
			if tt.sub && tt.typ == NodeReturn {
				// main calls sub; sub's return node n comes back to wait.
				set = buildSet(t, []string{"v"}, buildFlow("main", nSubflow("call", "sub", "wait"), wait), buildFlow("sub", tt.node))
			} else {
				set = buildSet(t, []string{"v"}, buildFlow("main", tt.node, wait), buildFlow("sub", nPlay("s1", "", "sound:sub")))
				if tt.sub {
					set.Flows["sub"] = buildFlow("sub", nGoto("s1", "s2"), nPlay("s2", "", "sound:wait"))
				}
			}
			s, err := NewSession(set, "main", nil, newYork)
			if err != nil {
				t.Fatal(err)
			}
			s.Step(beginCall(nil), thursday)
			for _, in := range tt.pre {
				s.Step(in, thursday.Add(time.Second))
			}
			endBefore := s.Path().End
			got := s.Step(CallerHungUp{}, thursday.Add(2*time.Second))
			if diff := cmp.Diff(tt.want, got, sessionCmpOpts...); diff != "" {
				t.Errorf("hang-up commands (-want +got):\n%s", diff)
			}
			if !s.Done() {
				t.Fatal("not done after the caller hung up")
			}
			if tt.noEnd {
				if s.Path().End != endBefore || endBefore == "caller-hangup" {
					t.Errorf("End = %q, want it unchanged (%q)", s.Path().End, endBefore)
				}
			} else if s.Path().End != "caller-hangup" {
				t.Errorf("End = %q, want caller-hangup", s.Path().End)
			}
			for _, in := range []Input{Digit{Key: "1"}, PlaybackDone{ID: "play-1"}, TimerFired{Token: "timer-2"},
				LookupDone{Token: "lookup-1", Status: 200}, TransferDone{Token: "transfer-1", Answered: true},
				CallerHungUp{}, beginCall(nil)} {
				if got := s.Step(in, thursday.Add(3*time.Second)); got != nil {
					t.Errorf("%T after the hang-up: %v, want nothing", in, got)
				}
			}
		})
	}
	for _, typ := range NodeTypes {
		if !covered[typ] {
			t.Errorf("no hang-up case for %s nodes", typ)
		}
	}
}

func TestSessionBeforeBegin(t *testing.T) {
	set := buildSet(t, nil, buildFlow("main", nPlay("p", "", "sound:x")))
	s, _ := NewSession(set, "main", nil, nil)
	if got := s.Step(Digit{Key: "1"}, thursday); got != nil {
		t.Errorf("digit before Begin: %v", got)
	}
	if f, n := s.Node(); f != "" || n != "" || s.Done() {
		t.Errorf("Node() = %q, %q, Done %v before Begin", f, n, s.Done())
	}
	// Pointers to inputs work too.
	if got := s.Step(&Begin{Caller: testCaller}, thursday); len(got) != 1 {
		t.Errorf("Begin: %v", got)
	}
	if got := s.Step(&Begin{Caller: testCaller}, thursday); got != nil {
		t.Errorf("second Begin: %v", got)
	}
	if got := s.Step(&CallerHungUp{}, thursday); !s.Done() || len(got) != 1 {
		t.Errorf("hang-up by pointer: %v, done %v", got, s.Done())
	}

	s, _ = NewSession(set, "main", nil, nil)
	s.Step(CallerHungUp{}, thursday)
	if !s.Done() || s.Path().End != "caller-hangup" || len(s.Path().Visits) != 0 {
		t.Errorf("hang-up before Begin: done %v, path %+v", s.Done(), s.Path())
	}
}

func TestNewSessionErrors(t *testing.T) {
	set := buildSet(t, nil, buildFlow("main", nPlay("p", "", "sound:x")))
	if _, err := NewSession(set, "nope", nil, nil); err == nil {
		t.Error("unknown flow: no error")
	}
	if _, err := NewSession(nil, "main", nil, nil); err == nil {
		t.Error("nil set: no error")
	}
	bad := buildSet(t, nil, &Flow{Name: "main", Start: "x", Nodes: map[string]*Node{}})
	if _, err := NewSession(bad, "main", nil, nil); err == nil {
		t.Error("missing start node: no error")
	}
}

func TestSessionPathIsACopy(t *testing.T) {
	set := buildSet(t, []string{"v"}, buildFlow("main", nPlay("p", "q", "sound:x"), nQueue("q", "q")))
	s, _ := NewSession(set, "main", nil, newYork)
	s.Step(beginCall(map[string]string{"v": "1"}), thursday)
	p := s.Path()
	p.Vars["v"] = "changed"
	p.Visits[0].Prompts[0] = "changed"
	s.Vars()["v"] = "changed"
	if s.Vars()["v"] != "1" || s.Path().Visits[0].Prompts[0] != "sound:x" {
		t.Error("Path or Vars shares memory with the session")
	}
}
