package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
)

// pipeClient is an HTTP client that reaches p.
func pipeClient(t *testing.T, p *Pipe) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: p.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestPipeRunsInVirtualTime: a simulator built in a synctest bubble and
// served on a Pipe answers REST and carries the events websocket with no
// port, and its clock is the bubble's: a caller whose patience is 10 s
// abandons exactly 10 s of virtual time (at speed 1) after entering, and
// at speed 4 after 2.5 s, with event timestamps 10 simulated seconds apart.
func TestPipeRunsInVirtualTime(t *testing.T) {
	for _, tc := range []struct {
		speed float64
		wait  time.Duration
	}{{1, 10 * time.Second}, {4, 2500 * time.Millisecond}} {
		synctest.Test(t, func(t *testing.T) {
			s := New(Options{User: testUser, Password: testPass, Speed: tc.speed})
			p, err := s.StartPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.URL(); got != "http://"+PipeAddr+"/ari" {
				t.Errorf("URL = %s", got)
			}
			hc := pipeClient(t, p)
			req, _ := http.NewRequest(http.MethodGet, s.URL()+"/asterisk/info", nil)
			req.SetBasicAuth(testUser, testPass)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /asterisk/info: %d %s", resp.StatusCode, body)
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ws, _, err := websocket.Dial(ctx, s.WebsocketURL()+"?app=vt", &websocket.DialOptions{
				HTTPClient: hc, HTTPHeader: http.Header{"Authorization": []string{req.Header.Get("Authorization")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			start := time.Now()
			if _, err := s.Call(Inbound{App: "vt", From: "+15550001", To: "100", Party: Party{Patience: 10 * time.Second}}); err != nil {
				t.Fatal(err)
			}
			stamps := map[string]time.Time{}
			for stamps["StasisEnd"].IsZero() {
				_, msg, err := ws.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var ev struct {
					Type      string `json:"type"`
					Timestamp string `json:"timestamp"`
				}
				if err := json.Unmarshal(msg, &ev); err != nil {
					t.Fatal(err)
				}
				at, err := time.Parse(ariDateFormat, ev.Timestamp)
				if err != nil {
					t.Fatalf("%s timestamp %q: %v", ev.Type, ev.Timestamp, err)
				}
				stamps[ev.Type] = at
			}
			if got := time.Since(start); got != tc.wait {
				t.Errorf("speed %v: the caller abandoned after %v of virtual time, want %v", tc.speed, got, tc.wait)
			}
			if got := stamps["StasisEnd"].Sub(stamps["StasisStart"]); got != 10*time.Second {
				t.Errorf("speed %v: StasisStart to StasisEnd %v of simulated time, want 10s", tc.speed, got)
			}
		})
	}
}

// TestPipeClose: after Close, Accept and DialContext fail at once; a dial
// nobody accepts ends with its context.
func TestPipeClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPipe()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := p.DialContext(ctx, "tcp", PipeAddr); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("dial nobody accepts: %v, want the context's deadline", err)
		}
		accepted := make(chan error, 1)
		go func() {
			c, err := p.Accept()
			if err == nil {
				c.Close()
			}
			accepted <- err
		}()
		synctest.Wait()
		p.Close()
		if err := <-accepted; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
		if _, err := p.DialContext(context.Background(), "tcp", PipeAddr); err == nil {
			t.Error("DialContext after Close succeeded")
		}
		if p.Addr().Network() != "pipe" || p.Addr().String() != PipeAddr {
			t.Errorf("Addr = %s %s", p.Addr().Network(), p.Addr())
		}
	})
}
