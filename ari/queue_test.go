package ari

import (
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
)

func TestQueueOrderLimitAndHighWater(t *testing.T) {
	q := newQueue(3)
	ev := func(d string) sb.Event { return sb.DTMFReceived{Digit: d} }
	for _, d := range []string{"1", "2", "3"} {
		if !q.push(ev(d), false) {
			t.Fatalf("push %s refused", d)
		}
	}
	if q.push(ev("4"), false) {
		t.Fatal("push past the limit accepted")
	}
	if !q.push(sb.LinkDown{}, true) {
		t.Fatal("forced push refused")
	}
	if got := q.lost.Load(); got != 1 {
		t.Errorf("lost %d, want 1", got)
	}
	batch := q.take(nil)
	var got []string
	for _, e := range batch {
		if d, ok := e.(sb.DTMFReceived); ok {
			got = append(got, d.Digit)
		} else {
			got = append(got, e.Header().Type+"link")
		}
	}
	if want := "1,2,3,link"; strings.Join(got, ",") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	if q.depth.Load() != 4 || q.high.Load() != 4 {
		t.Errorf("depth %d high %d", q.depth.Load(), q.high.Load())
	}
	q.delivered(4)
	if q.depth.Load() != 0 || q.high.Load() != 4 {
		t.Errorf("after delivery depth %d high %d", q.depth.Load(), q.high.Load())
	}
	if !q.push(ev("5"), false) {
		t.Error("push after delivery refused")
	}
	if b := q.take(batch); len(b) != 1 {
		t.Errorf("second take %d events", len(b))
	}
}

func TestBackoffBounds(t *testing.T) {
	a := &Adapter{cfg: Config{ReconnectMin: 100 * time.Millisecond, ReconnectMax: time.Second}}
	for n, want := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			d := a.backoff(n)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := a.backoff(1000); d > time.Second {
		t.Errorf("backoff(1000) = %v", d)
	}
}
