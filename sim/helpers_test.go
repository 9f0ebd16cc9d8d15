package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/native"
)

const (
	testUser = "switchboard"
	testPass = "secret"
)

func startSim(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.User == "" {
		opts.User, opts.Password = testUser, testPass
	}
	s := New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recorder drains an ari/v6 subscription at once into a slice.
type recorder struct {
	mu     sync.Mutex
	events []ari.Event
	cond   *sync.Cond
}

func connect(t testing.TB, s *Server, app string) (ari.Client, *recorder) {
	t.Helper()
	// native.Connect and Client.Close race on the client's own fields
	// (connected, node) under -race; connect with the method and stop by
	// cancelling the context instead.
	cl := native.New(&native.Options{Application: app, URL: s.URL(), WebsocketURL: s.WebsocketURL(),
		Username: testUser, Password: testPass})
	ctx, cancel := context.WithCancel(context.Background())
	if err := cl.ConnectWithContext(ctx); err != nil {
		cancel()
		t.Fatalf("connect: %v", err)
	}
	rec := &recorder{}
	rec.cond = sync.NewCond(&rec.mu)
	sub := cl.Bus().Subscribe(nil, ari.Events.All)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.Events() {
			rec.mu.Lock()
			rec.events = append(rec.events, e)
			rec.cond.Broadcast()
			rec.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		sub.Cancel()
		cancel()
		cl.Bus().Close()
		<-done
	})
	// The client registers the app before returning; make sure the sim agrees.
	waitUntil(t, func() bool { return s.registeredApp(app) })
	return cl, rec
}

func (s *Server) registeredApp(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registered(app)
}

func waitUntil(t testing.TB, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// next waits for the next event (after index *pos) matching typ and the
// channel id (if non-empty); it returns it and advances *pos.
func (r *recorder) wait(t testing.TB, pos *int, typ string, match func(ari.Event) bool) ari.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for ; *pos < len(r.events); *pos++ {
			e := r.events[*pos]
			if e.GetType() == typ && (match == nil || match(e)) {
				*pos++
				return e
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, e := range r.events {
				seen = append(seen, e.GetType())
			}
			t.Fatalf("no %s event; seen %v", typ, seen)
		}
		r.cond.Wait()
	}
}

// types lists the event types seen so far that concern channel id.
func (r *recorder) typesFor(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		for _, k := range e.Keys() {
			if k.Kind == ari.ChannelKey && k.ID == id {
				out = append(out, e.GetType())
				break
			}
		}
	}
	return out
}

func chanIs(id string) func(ari.Event) bool {
	return func(e ari.Event) bool {
		for _, k := range e.Keys() {
			if k.Kind == ari.ChannelKey && k.ID == id {
				return true
			}
		}
		return false
	}
}

// call does a raw ARI request and returns status and body.
func call(t testing.TB, s *Server, method, path string, q url.Values, body any) (int, []byte) {
	t.Helper()
	u := s.URL() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, u, rd)
	req.SetBasicAuth(testUser, testPass)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func eq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func mustJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

var _ = fmt.Sprint

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}
