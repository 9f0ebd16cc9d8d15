package storage_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/storage"
)

// BenchmarkCallWrites does per simulated call the writes the center makes
// for an inbound call (center/journal.go, center/center.go persist and the
// agent-state history of cmd/switchboard): the call-log row opened when the
// call enters, updated when it is answered and when it is bridged, closed
// at its end, and three agent-state rows (reserved, on-call, wrap-up). Each
// write waits for its commit, as persist does. calls=N is the number of
// calls in flight, each in its own goroutine, on a file database in a
// temporary directory; ns/op is per call.
func BenchmarkCallWrites(b *testing.B) {
	for _, inFlight := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("calls=%d", inFlight), func(b *testing.B) {
			benchCallWrites(b, inFlight)
		})
	}
}

func benchCallWrites(b *testing.B, inFlight int) {
	ctx := context.Background()
	db, _ := openTest(b)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := oneCall(ctx, db, i, t0); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	if n, err := db.CountCDR(ctx); err != nil || n != b.N {
		b.Fatalf("CountCDR = %d, %v; want %d", n, err, b.N)
	}
}

// oneCall writes call i's rows in the order the center does.
func oneCall(ctx context.Context, db *storage.DB, i int64, t0 time.Time) error {
	at := t0.Add(time.Duration(i) * time.Second)
	id := sb.CallID(fmt.Sprintf("bench-%d", i))
	agent := sb.AgentID(fmt.Sprintf("%d", 1000+i%50))
	row := &sb.CDR{CallID: id, Node: "pbx1", Caller: "+15550001", Called: "8000", Queue: "support", Entered: at}
	state := func(s string, d time.Duration) error {
		return db.InsertAgentState(ctx, &storage.AgentStateRow{Agent: agent, State: s, CallID: id, At: at.Add(d)})
	}
	if err := db.OpenCDR(ctx, row); err != nil {
		return err
	}
	if err := state("reserved", time.Second); err != nil {
		return err
	}
	row.Agent, row.Answered = agent, sb.SomeTime(at.Add(2*time.Second))
	if err := db.OpenCDR(ctx, row); err != nil {
		return err
	}
	if err := state("on-call", 2*time.Second); err != nil {
		return err
	}
	row.Bridged = sb.SomeTime(at.Add(2*time.Second + 100*time.Millisecond))
	if err := db.OpenCDR(ctx, row); err != nil {
		return err
	}
	row.Ended, row.Outcome, row.HangupCause, row.HangupBy = at.Add(90*time.Second), sb.OutcomeCompleted, 16, "caller"
	if err := db.InsertCDR(ctx, row); err != nil {
		return err
	}
	return state("wrap-up", 90*time.Second)
}
