package handoff

import (
	"errors"
	"sync"
	"testing"
)

func TestQueueOrderLimitAndCounts(t *testing.T) {
	q := New[int](3)
	for i := range 3 {
		if err := q.Push(i); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if err := q.Push(3); !errors.Is(err, ErrFull) {
		t.Fatalf("push past the limit: %v, want ErrFull", err)
	}
	q.Force(4) // past the limit on purpose
	if q.Lost() != 1 || q.Depth() != 4 || q.High() != 4 {
		t.Fatalf("lost %d depth %d high %d, want 1 4 4", q.Lost(), q.Depth(), q.High())
	}
	select {
	case <-q.Ready():
	default:
		t.Fatal("Ready did not signal pending items")
	}
	got := q.Take(nil)
	if len(got) != 4 || got[0] != 0 || got[1] != 1 || got[2] != 2 || got[3] != 4 {
		t.Fatalf("Take = %v, want [0 1 2 4]", got)
	}
	// Taken but not done: still counted, so still full.
	if err := q.Push(5); !errors.Is(err, ErrFull) {
		t.Fatalf("push while the taken items are not done: %v", err)
	}
	q.Done(len(got))
	if q.Depth() != 0 {
		t.Fatalf("depth %d after Done, want 0", q.Depth())
	}
	if err := q.Push(6); err != nil {
		t.Fatal(err)
	}
	again := q.Take(got)
	if len(again) != 1 || again[0] != 6 {
		t.Fatalf("Take = %v, want [6]", again)
	}
	if len(q.Take(nil)) != 0 {
		t.Fatal("Take of an empty queue returned items")
	}
}

func TestQueueManyProducers(t *testing.T) {
	q := New[int](0) // no limit
	const producers, each = 8, 1000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := q.Push(p*each + i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	seen := make([]int, producers) // next expected index per producer: FIFO per producer
	total := 0
	go func() {
		defer close(done)
		var buf []int
		for total < producers*each {
			buf = q.Take(buf)
			if len(buf) == 0 {
				<-q.Ready()
				continue
			}
			for _, v := range buf {
				p, i := v/each, v%each
				if i != seen[p] {
					t.Errorf("producer %d: got item %d, want %d", p, i, seen[p])
				}
				seen[p]++
			}
			total += len(buf)
			q.Done(len(buf))
		}
	}()
	wg.Wait()
	<-done
	if q.Depth() != 0 || q.Lost() != 0 {
		t.Fatalf("depth %d lost %d", q.Depth(), q.Lost())
	}
}
