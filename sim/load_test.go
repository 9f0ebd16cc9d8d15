package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// rawApp reads an app's websocket and counts events by type.
type rawApp struct {
	ws       *websocket.Conn
	received atomic.Int64
	mu       sync.Mutex
	byType   map[string]int
	onEvent  func(typ string, m map[string]any)
	done     chan struct{}
}

func dialApp(t testing.TB, s *Server, app string, on func(string, map[string]any)) *rawApp {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", "Basic "+basicAuth(testUser, testPass))
	ws, _, err := websocket.Dial(context.Background(), s.WebsocketURL()+"?app="+app, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	a := &rawApp{ws: ws, byType: map[string]int{}, onEvent: on, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			a.received.Add(1)
			var m map[string]any
			json.Unmarshal(b, &m)
			typ, _ := m["type"].(string)
			a.mu.Lock()
			a.byType[typ]++
			a.mu.Unlock()
			if a.onEvent != nil {
				a.onEvent(typ, m)
			}
		}
	}()
	t.Cleanup(func() { ws.CloseNow(); <-a.done })
	waitUntil(t, func() bool { return s.registeredApp(app) })
	return a
}

func (a *rawApp) count(typ string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byType[typ]
}

// TestThousandCalls carries 1,000 concurrent calls: each inbound caller is
// bridged with an agent leg and both hang up after their talk time.
func TestThousandCalls(t *testing.T) {
	const n = 1000
	s := startSim(t, Options{Speed: 200})
	app := dialApp(t, s, "load", nil)
	s.mu.Lock()
	for i := 0; i < n; i++ {
		b := &bridge{id: "b" + itoa(i), btype: "mixing", created: s.clock.Now(), subs: map[string]bool{}}
		s.bridges[b.id] = b
	}
	s.mu.Unlock()
	for i := 0; i < n; i++ {
		in, err := s.Call(Inbound{App: "load", From: itoa(i), Party: Party{Talk: 20 * time.Second, Digits: "12"}})
		if err != nil {
			t.Fatal(err)
		}
		code, body := call(t, s, "POST", "/channels/create", url.Values{"endpoint": {"SIM/answer"}, "app": {"load"}}, nil)
		if code != 200 {
			t.Fatalf("create: %d %s", code, body)
		}
		out := mustJSON(t, body)["id"].(string)
		call(t, s, "POST", "/channels/"+out+"/dial", nil, nil)
		call(t, s, "POST", "/bridges/b"+itoa(i)+"/addChannel", url.Values{"channel": {in + "," + out}}, nil)
	}
	if act := s.Stats().ChannelsActive; act < n {
		t.Logf("active channels at peak: %d", act)
	}
	waitUntil(t, func() bool { return len(s.Channels()) <= n }) // callers gone after talk
	// Callers came from the dialplan: StasisEnd is their last event.
	waitUntil(t, func() bool { return app.count("StasisEnd") == n })
	eq(t, "destroyed callers", app.count("ChannelDestroyed"), 0)
	for _, ch := range s.Channels() {
		s.Hangup(ch.ID, 16)
	}
	// The agent legs were created by the application: they are destroyed.
	waitUntil(t, func() bool { return app.count("ChannelDestroyed") == n && app.count("StasisEnd") == 2*n })
	st := s.Stats()
	waitUntil(t, func() bool { return app.received.Load() == s.EventsSent("load") })
	eq(t, "dropped", st.EventsDropped, int64(0))
	eq(t, "created", st.ChannelsCreated, int64(2*n))
}

// BenchmarkCallSetup measures originate → StasisStart round trips through
// the simulator over real HTTP and websocket.
func BenchmarkCallSetup(b *testing.B) {
	s := startSim(b, Options{})
	var started atomic.Int64
	var srv *Server = s
	dialApp(b, s, "bench", func(typ string, m map[string]any) {
		if typ == "StasisStart" {
			started.Add(1)
			id := m["channel"].(map[string]any)["id"].(string)
			srv.Hangup(id, 16)
		}
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", s.URL()+"/channels", strings.NewReader(`{"endpoint":"SIM/answer","app":"bench"}`))
			req.SetBasicAuth(testUser, testPass)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
		}
	})
	for started.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	client.CloseIdleConnections()
}
