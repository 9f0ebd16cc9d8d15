package lookup

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/ivr"
)

func TestLookup(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/customer":
			body, _ := io.ReadAll(r.Body)
			if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Key") != "k1" || string(body) != `{"n":1}` {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"tier":"gold"}`)
		case "/big":
			io.WriteString(w, strings.Repeat("x", 101))
		case "/slow":
			<-release
		}
	}))
	defer srv.Close()
	defer close(release)
	c := Client{MaxBody: 100}
	tests := []struct {
		name       string
		cmd        ivr.LookupCmd
		timeout    time.Duration
		wantStatus int
		wantBody   string
		wantErr    string
	}{
		{"answer", ivr.LookupCmd{Token: "t1", Method: "POST", URL: srv.URL + "/customer", Headers: map[string]string{"X-Key": "k1"}, Body: `{"n":1}`},
			time.Minute, http.StatusCreated, `{"tier":"gold"}`, ""},
		{"answer over the bound", ivr.LookupCmd{Token: "t2", Method: "GET", URL: srv.URL + "/big"}, time.Minute, 0, "", "answer larger than 100 bytes"},
		{"timeout", ivr.LookupCmd{Token: "t3", Method: "GET", URL: srv.URL + "/slow"}, 50 * time.Millisecond, 0, "", "timeout"},
		{"bad method", ivr.LookupCmd{Token: "t4", Method: "BAD METHOD", URL: srv.URL}, time.Minute, 0, "", `net/http: invalid method "BAD METHOD"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			got := c.Lookup(ctx, tt.cmd)
			if got.Token != tt.cmd.Token || got.Status != tt.wantStatus || string(got.Body) != tt.wantBody || got.Err != tt.wantErr {
				t.Errorf("got %+v (body %q); want status %d body %q err %q", got, got.Body, tt.wantStatus, tt.wantBody, tt.wantErr)
			}
		})
	}
}

// TestLookupErrorHidesURL: a failed request's error leaves the URL out (its
// query may carry credentials).
func TestLookupErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	got := Client{}.Lookup(context.Background(), ivr.LookupCmd{Method: "GET", URL: addr + "/x?token=secret"})
	if got.Err == "" || strings.Contains(got.Err, "secret") || strings.Contains(got.Err, addr) {
		t.Errorf("error %q: want one without the URL", got.Err)
	}
}
