package ari

// Benchmarks:
//
//	go test -run '^$' -bench . ./ari
//
// BenchmarkEventThroughput: events/s the adapter sustains from WebSocket to
// Events() (read, decode, translate, queue, deliver) for bursts of 100,000
// recorded ARI events, with a consumer that stalls now and then; reports
// lost (must be 0) and the queue's high-water mark.
//
// BenchmarkThousandCalls: 1,000 concurrent inbound calls through the
// simulator per iteration (arrive, answer, greet, bridge in pairs,
// announce, hang up); reports call set-ups/s and checks that the consumer
// got every event the simulator sent.

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

// burstServer is an ARI server whose events WebSocket is written raw:
// pre-encoded frames in large writes, so that the benchmark measures the
// adapter, not a WebSocket library's per-message flush.
type burstServer struct {
	srv   *httptest.Server
	conns chan net.Conn
}

func newBurstServer(tb testing.TB) *burstServer {
	b := &burstServer{conns: make(chan net.Conn, 1)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/asterisk/info"):
			writeJSON(w, 200, map[string]any{"system": map[string]string{"entity_id": "burst", "version": "22"}})
		case strings.HasSuffix(r.URL.Path, "/events"):
			c, err := acceptSilent(w, r)
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // whatever the client sends
			b.conns <- c
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(b.srv.Close)
	return b
}

// encodeFrames encodes frames as unmasked server-to-client text frames.
func encodeFrames(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, 0x81) // FIN, text
		switch n := len(f); {
		case n < 126:
			out = append(out, byte(n))
		case n < 1<<16:
			out = append(out, 126)
			out = binary.BigEndian.AppendUint16(out, uint16(n))
		default:
			out = append(out, 127)
			out = binary.BigEndian.AppendUint64(out, uint64(n))
		}
		out = append(out, f...)
	}
	return out
}

func BenchmarkEventThroughput(b *testing.B) {
	const burst = 100_000
	const chunk = 1000
	bs := newBurstServer(b)
	chunkBytes := encodeFrames(burstFrames(b, chunk))
	a, err := New(Config{URL: bs.srv.URL + "/ari", Username: "u", Password: "p", Application: "bench",
		Logger: benchLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	a.pingInterval = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	conn := <-bs.conns
	if _, ok := (<-a.Events()).(sb.LinkUp); !ok {
		b.Fatal("want LinkUp")
	}

	b.ReportAllocs()
	b.SetBytes(int64(len(chunkBytes) * (burst / chunk)))
	b.ResetTimer()
	start := time.Now()
	total := 0
	for range b.N {
		writeErr := make(chan error, 1)
		go func() {
			for range burst / chunk {
				if _, err := conn.Write(chunkBytes); err != nil {
					writeErr <- err
					return
				}
			}
			writeErr <- nil
		}()
		for i := 1; i <= burst; i++ {
			select {
			case <-a.Events():
			case <-time.After(30 * time.Second):
				b.Fatalf("event %d of the burst did not arrive (stats %+v)", i, a.Stats())
			}
			if i%20_000 == 0 {
				time.Sleep(5 * time.Millisecond) // the consumer stalls
			}
		}
		if err := <-writeErr; err != nil {
			b.Fatal(err)
		}
		total += burst
	}
	el := time.Since(start)
	b.StopTimer()
	st := a.Stats()
	b.ReportMetric(float64(total)/el.Seconds(), "events/s")
	b.ReportMetric(float64(st.EventsLost), "lost")
	b.ReportMetric(float64(st.QueueHighWater), "queue-high")
	if st.EventsLost != 0 || st.DecodeErrors != 0 {
		b.Fatalf("stats %+v", st)
	}
}

func BenchmarkThousandCalls(b *testing.B) {
	r := newLoadRig(b)
	b.ResetTimer()
	var setup time.Duration
	var events int64
	start := time.Now()
	for range b.N {
		setup += r.calls(b, 1000, 128)
		events = r.settle(b)
	}
	el := time.Since(start)
	b.StopTimer()
	st := r.a.Stats()
	b.ReportMetric(float64(1000*b.N)/setup.Seconds(), "setups/s")
	b.ReportMetric(float64(events)/el.Seconds(), "events/s")
	b.ReportMetric(float64(st.EventsLost), "lost")
	if st.EventsLost != 0 {
		b.Fatalf("stats %+v", st)
	}
}

func benchLogger(tb testing.TB) *slog.Logger {
	l, _ := testLogger(tb)
	return l
}
