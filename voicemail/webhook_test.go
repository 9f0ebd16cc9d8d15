package voicemail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sb "github.com/switchboard/switchboard"
)

// fakeStore keeps messages; it fails with err when set.
type fakeStore struct {
	mu   sync.Mutex
	msgs []sb.Voicemail
	err  error
}

func (s *fakeStore) InsertVoicemail(_ context.Context, v *sb.Voicemail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	v.ID = int64(len(s.msgs) + 1)
	s.msgs = append(s.msgs, *v)
	return nil
}

var _ Store = (*fakeStore)(nil)

// roundTrip is a webhook answering with statuses in turn (the last one
// repeats); it records when each post came and what it carried.
type roundTrip struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	at       []time.Time
}

func (rt *roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.bodies = append(rt.bodies, b)
	rt.at = append(rt.at, time.Now())
	status := rt.statuses[min(len(rt.bodies), len(rt.statuses))-1]
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// logLines collects the warnings.
type logLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), sub)
}

func message() *sb.Voicemail {
	return &sb.Voicemail{CallID: "c-1", Mailbox: "sales", Recording: "vm-c-1", Caller: "+15550100",
		Created: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func TestWebhookPostsNewMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &fakeStore{}
		rt := &roundTrip{statuses: []int{http.StatusNoContent}}
		h := New(st, "http://hook.example/vm", &http.Client{Transport: rt}, slog.New(slog.DiscardHandler))
		if err := h.InsertVoicemail(context.Background(), message()); err != nil {
			t.Fatal(err)
		}
		h.Wait()
		if len(st.msgs) != 1 {
			t.Fatalf("stored %d messages, want 1", len(st.msgs))
		}
		if len(rt.bodies) != 1 {
			t.Fatalf("posted %d times, want 1", len(rt.bodies))
		}
		var ev struct {
			Event     string       `json:"event"`
			Voicemail sb.Voicemail `json:"voicemail"`
		}
		if err := json.Unmarshal(rt.bodies[0], &ev); err != nil {
			t.Fatalf("body %s: %v", rt.bodies[0], err)
		}
		if ev.Event != "voicemail.new" || ev.Voicemail.CallID != "c-1" || ev.Voicemail.Mailbox != "sales" || ev.Voicemail.ID != 1 {
			t.Fatalf("body %s", rt.bodies[0])
		}
	})
}

func TestWebhookRetries(t *testing.T) {
	for _, tt := range []struct {
		name      string
		statuses  []int
		posts     int
		warnings  int
		lastAfter time.Duration // from the first post to the last
	}{
		{"second try succeeds", []int{500, 200}, 2, 1, time.Second},
		{"third try succeeds", []int{503, 502, 201}, 3, 2, 3 * time.Second},
		{"stays down", []int{500}, 3, 3, 3 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := &roundTrip{statuses: tt.statuses}
				logs := &logLines{}
				h := New(&fakeStore{}, "http://hook.example/vm", &http.Client{Transport: rt}, slog.New(slog.NewTextHandler(logs, nil)))
				start := time.Now()
				if err := h.InsertVoicemail(context.Background(), message()); err != nil {
					t.Fatal(err)
				}
				h.Wait()
				if got := len(rt.bodies); got != tt.posts {
					t.Fatalf("posts = %d, want %d", got, tt.posts)
				}
				if got := logs.count(`msg="voicemail webhook" call_id=c-1`); got != tt.warnings {
					t.Fatalf("warnings = %d, want %d:\n%s", got, tt.warnings, logs.b.String())
				}
				if got := rt.at[len(rt.at)-1].Sub(rt.at[0]); got != tt.lastAfter {
					t.Fatalf("last post %v after the first, want %v", got, tt.lastAfter)
				}
				if got := time.Since(start); got != tt.lastAfter {
					t.Fatalf("done %v after the message, want %v (no wait after the last try)", got, tt.lastAfter)
				}
			})
		})
	}
}

func TestWebhookNotConfiguredOrStoreFails(t *testing.T) {
	rt := &roundTrip{statuses: []int{200}}
	client := &http.Client{Transport: rt}
	h := New(&fakeStore{}, "", client, slog.New(slog.DiscardHandler))
	if err := h.InsertVoicemail(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	h.Wait()
	full := errors.New("disk full")
	h = New(&fakeStore{err: full}, "http://hook.example/vm", client, slog.New(slog.DiscardHandler))
	if err := h.InsertVoicemail(context.Background(), message()); !errors.Is(err, full) {
		t.Fatalf("err = %v, want the store's", err)
	}
	h.Wait()
	if len(rt.bodies) != 0 {
		t.Fatalf("posted %d times: nothing is announced without a webhook or a stored message", len(rt.bodies))
	}
}
