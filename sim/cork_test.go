package sim

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
)

// TestSlowReaderDroppedAfterWriteTimeout: events written to a websocket
// whose reader stopped reading (corked into one write) end the connection
// once Options.WriteTimeout has passed, not before, and it counts as a
// slow-reader drop.
func TestSlowReaderDroppedAfterWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 5 * time.Second
		s := New(Options{User: testUser, Password: testPass, WriteTimeout: timeout})
		p, err := s.StartPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		h := http.Header{}
		h.Set("Authorization", "Basic "+basicAuth(testUser, testPass))
		ws, _, err := websocket.Dial(context.Background(), s.WebsocketURL()+"?app=slow",
			&websocket.DialOptions{HTTPClient: pipeClient(t, p), HTTPHeader: h})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		// The reader never reads: on a Pipe the first write blocks.
		start := time.Now()
		s.mu.Lock()
		for i := range 3 {
			s.emit([]string{"slow"}, "ChannelVarset", map[string]any{"variable": "V" + itoa(i), "value": "1"})
		}
		s.mu.Unlock()
		for s.Stats().ConnectionsDropped == 0 {
			if time.Since(start) > timeout+time.Minute {
				t.Fatal("the slow reader was never dropped")
			}
			time.Sleep(100 * time.Millisecond) // virtual time
		}
		if d := time.Since(start); d < timeout || d > timeout+time.Second {
			t.Errorf("dropped after %v, want the write timeout %v", d, timeout)
		}
		if s.registered("slow") {
			t.Error("the slow reader's application is still registered")
		}
	})
}
