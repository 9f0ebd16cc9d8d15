package center_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/routing"
	"github.com/switchboard/switchboard/sim"
)

// callbackQueue is a one-agent queue whose callers press 1 to be called
// back.
func callbackConfig(cfg *center.Config) {
	cfg.Queues = []sb.Queue{{Name: "sales", Callback: sb.QueueCallback{
		Key: "1", Prompt: []string{"sound:hello-world"}, Confirmation: []string{"sound:vm-goodbye"}}}}
}

// TestCallbackKeepsItsPlace: B waits behind A's call, asks for a callback
// and hangs up; C, who came after B, waits on. When the agent is free the
// callback is made first (agent, then B's number), then C is served.
func TestCallbackKeepsItsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		const numberB = "+15551250002"
		a := startACDWith(t, 20, q, []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}},
			func(cfg *center.Config, s *sim.Server) {
				callbackConfig(cfg)
				s.AddEndpoint("PJSIP", numberB+"@trunk", sim.Party{Rings: 1, Talk: 5 * time.Second})
			}, nil)
		a.waitState(t, "1001", routing.StateAvailable)

		idA := a.call(t, "+15551250001", sim.Party{Talk: 40 * time.Second})
		a.waitLog(t, idA, "1001", routing.LogConnect)
		idB := a.call(t, numberB, sim.Party{Digits: "1", DigitsDelay: 8 * time.Second})
		a.waitLog(t, idB, "", routing.LogEnterQueue)
		idC := a.call(t, "+15551250003", sim.Party{Talk: 5 * time.Second})
		a.waitLog(t, idC, "", routing.LogEnterQueue)

		rowB := a.cdr.wait(t, idB)
		if rowB.Outcome != sb.OutcomeCallback || rowB.HangupBy != "system" {
			t.Fatalf("B's row = %+v, want outcome callback", rowB)
		}
		snap, err := a.c.RoutingSnapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if qs := snap.Queues[0]; qs.Waiting != 2 || qs.Callbacks != 1 {
			t.Fatalf("queue after the request: waiting %d callbacks %d, want 2 and 1", qs.Waiting, qs.Callbacks)
		}

		cb := a.cdr.wait(t, idB+"-cb1")
		if cb.Outcome != sb.OutcomeCompleted || cb.Agent != "1001" || cb.Caller != numberB || cb.Called != "callback:"+idB {
			t.Fatalf("callback row = %+v", cb)
		}
		rowC := a.cdr.wait(t, idC)
		if rowC.Outcome != sb.OutcomeCompleted || rowC.Agent != "1001" {
			t.Fatalf("C's row = %+v", rowC)
		}
		if !cb.Bridged.Time.Before(rowC.Bridged.Time) {
			t.Fatalf("the callback (bridged %v) was not served before C (bridged %v), who came after B", cb.Bridged.Time, rowC.Bridged.Time)
		}
		// The router saw one call from B: connected through the callback and
		// completed.
		a.waitLog(t, idB, "1001", routing.LogConnect)
		a.noChannelsLeft(t)
	})
}

// TestCallbackCustomerBusyRetries: the customer is busy; the agent is
// freed, the request retried after the queue's retry delay and given up
// after the attempts; no channel is left.
func TestCallbackCustomerBusyRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		q.Callback.Attempts, q.Callback.Retry = 2, 20*time.Second
		const number = "+15551250011"
		a := startACDWith(t, 20, q, []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}},
			func(cfg *center.Config, s *sim.Server) {
				callbackConfig(cfg)
				s.AddEndpoint("PJSIP", number+"@trunk", sim.Party{Busy: true})
			}, nil)
		a.waitState(t, "1001", routing.StateAvailable)
		// The agent is made busy with another call so that B waits.
		idA := a.call(t, "+15551250010", sim.Party{Talk: 20 * time.Second})
		a.waitLog(t, idA, "1001", routing.LogConnect)
		idB := a.call(t, number, sim.Party{Digits: "1", DigitsDelay: 6 * time.Second})
		if row := a.cdr.wait(t, idB); row.Outcome != sb.OutcomeCallback {
			t.Fatalf("B's row = %+v", row)
		}
		a.waitLog(t, idB, "", routing.LogExitWithTimeout)
		// Two tries, each rang the agent: RINGNOANSWER is not logged for a
		// busy customer, and the agent was never paused.
		if st := a.c.AgentStates()["1001"]; st.State == routing.StatePaused {
			t.Fatalf("agent paused after customer-busy callbacks: %+v", st)
		}
		a.noChannelsLeft(t)
	})
}

// memCallbacks is an in-memory CallbackStore.
type memCallbacks struct {
	mu      sync.Mutex
	pending map[sb.CallID]sb.PendingCallback
	done    map[sb.CallID]string
}

func (m *memCallbacks) SaveCallback(_ context.Context, cb sb.PendingCallback) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[cb.Call] = cb
	return nil
}

func (m *memCallbacks) CallbackDone(_ context.Context, id sb.CallID, state string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	m.done[id] = state
	return nil
}

func (m *memCallbacks) PendingCallbacks(context.Context) ([]sb.PendingCallback, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sb.PendingCallback
	for _, cb := range m.pending {
		out = append(out, cb)
	}
	return out, nil
}

func (m *memCallbacks) state(id sb.CallID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.done[id]
}

// TestCallbackSurvivesRestart: a request stored before a restart is put
// back in its queue when the center starts and is made.
func TestCallbackSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const number = "+15551250021"
		store := &memCallbacks{pending: map[sb.CallID]sb.PendingCallback{}, done: map[sb.CallID]string{}}
		store.pending["old-call"] = sb.PendingCallback{Call: "old-call", Queue: "sales", Number: number,
			EnteredAt: time.Now().Add(-time.Minute)}
		a := startACDWith(t, 20, salesQueue(routing.LongestIdle), []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}},
			func(cfg *center.Config, s *sim.Server) {
				callbackConfig(cfg)
				s.AddEndpoint("PJSIP", number+"@trunk", sim.Party{Rings: 1, Talk: 3 * time.Second})
			}, func(o *center.Options) { o.Callbacks = store })
		row := a.cdr.wait(t, "old-call-cb1")
		if row.Outcome != sb.OutcomeCompleted || row.Agent != "1001" || row.Caller != number {
			t.Fatalf("restored callback row = %+v", row)
		}
		waitUntil(t, "callback closed in the store", func() bool { return store.state("old-call") == "connected" })
		a.noChannelsLeft(t)
	})
}

const exitFlows = `
flows:
  main:
    start: welcome
    nodes:
      welcome: {play: [sound:hello-world], next: sales}
      sales: {queue: sales}
  vm:
    start: vm
    nodes:
      vm: {voicemail: {mailbox: sales, prompt: [sound:vm-intro], max_length: 20s, max_silence: 5s}, next: thanks}
      thanks: {hangup: {prompt: [sound:vm-goodbye]}}
`

// TestQueueExitToFlow: a caller who waits the queue's maximum goes to the
// exit target's flow (voicemail here); the call log path has both flows'
// nodes.
func TestQueueExitToFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := salesQueue(routing.LongestIdle)
		q.WaitForAgent, q.MaxWaitTarget = 20*time.Second, "vm"
		vm := &vmStore{}
		a := startACDWith(t, 20, q, []acdPhone{{res: "1001", party: sim.Party{Rings: 1}}}, nil, func(o *center.Options) {
			flows := &staticFlows{}
			set := loadFlows(t, exitFlows, nil)
			set.Version = 1
			flows.cur.Store(set)
			o.IVR = center.IVROptions{Flows: flows, Routes: []center.Route{{DNIS: "*", Flow: "main"}}, Voicemail: vm}
		})
		a.waitState(t, "1001", routing.StateAvailable)
		busy := a.call(t, "+15551260001", sim.Party{Talk: 2 * time.Minute})
		a.waitLog(t, busy, "1001", routing.LogConnect)
		id := a.call(t, "+15551260002", sim.Party{})
		row := a.cdr.wait(t, id)
		if row.Outcome != sb.OutcomeVoicemail {
			t.Fatalf("row = %+v, want outcome voicemail", row)
		}
		if got := nodes(path(t, row)); got != "welcome,sales,vm,thanks" {
			t.Fatalf("path %s, want welcome,sales,vm,thanks", got)
		}
		if msgs := vm.list(); len(msgs) != 1 || msgs[0].CallID != sb.CallID(id) || msgs[0].Mailbox != "sales" {
			t.Fatalf("voicemails = %+v", msgs)
		}
		a.waitLog(t, id, "", routing.LogExitWithTimeout)
	})
}
