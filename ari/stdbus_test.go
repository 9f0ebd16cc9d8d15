package ari

import (
	"testing"
	"time"

	ari6 "github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/stdbus"
	sb "github.com/switchboard/switchboard"
)

// slowConsumer reads like a call owner that stalls now and then (a slow
// database commit, a GC pause): every 2000th event it stops for 50 ms.
func slowConsumer[E any](ch <-chan E, n int, got chan<- int) {
	count := 0
	timeout := time.NewTimer(5 * time.Second)
	defer func() { got <- count }()
	for count < n {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
			count++
			if count%2000 == 0 {
				time.Sleep(50 * time.Millisecond)
			}
			timeout.Reset(time.Second)
		case <-timeout.C:
			return // nothing more is coming
		}
	}
}

// burstFrames is n frames cycling through the recorded events that map to
// switchboard events.
func burstFrames(t testing.TB, n int) [][]byte {
	var mapped [][]byte
	for _, f := range recorded(t) {
		if _, res, _ := decode(f, ""); res == decoded {
			mapped = append(mapped, f)
		}
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = mapped[i%len(mapped)]
	}
	return out
}

// TestStdbusLosesAdapterDoesNot feeds the same burst to the ari/v6 stdbus
// (as the native client's WebSocket reader does) and to the adapter, each
// with the same occasionally slow consumer. The bus drops what does not fit
// in the subscription's 100 slots; the adapter delivers everything.
func TestStdbusLosesAdapterDoesNot(t *testing.T) {
	const n = 20_000
	frames := burstFrames(t, n)

	t.Run("stdbus", func(t *testing.T) {
		bus := stdbus.New()
		sub := bus.Subscribe(nil, ari6.Events.All)
		got := make(chan int, 1)
		go slowConsumer(sub.Events(), n, got)
		for _, f := range frames {
			e, err := ari6.DecodeEvent(f)
			if err != nil {
				t.Fatal(err)
			}
			bus.Send(e) // what client/native's wsRead does
		}
		received := <-got
		sub.Cancel()
		t.Logf("stdbus: sent %d, subscriber received %d, lost %d", n, received, n-received)
		if received >= n {
			t.Fatalf("stdbus lost nothing (%d of %d): the premise of the adapter's own queue no longer holds", received, n)
		}
	})

	t.Run("adapter", func(t *testing.T) {
		f := newFakeARI(t)
		a := start(t, f.config(t))
		c := f.waitConn()
		got := make(chan int, 1)
		go slowConsumer(a.Events(), n+1, got) // + LinkUp
		send(t, c, frames...)
		received := <-got
		st := a.Stats()
		t.Logf("adapter: sent %d, consumer received %d (with LinkUp), lost %d, queue high water %d", n, received, st.EventsLost, st.QueueHighWater)
		if received != n+1 || st.EventsLost != 0 {
			t.Fatalf("adapter lost events: received %d of %d, stats %+v", received, n+1, st)
		}
	})
}

var _ sb.Event = sb.LinkUp{}
