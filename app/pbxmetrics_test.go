package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/ari"
)

// TestPBXRequestMetrics: the adapter's requests appear in /metrics by
// route template and result, never by id.
func TestPBXRequestMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "POST /ari/channels/1700000000.42/answer", "DELETE /ari/channels/1700000000.42":
			w.WriteHeader(http.StatusNoContent)
		case "POST /ari/bridges/call-7/addChannel":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"message":"busy"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	pbx, err := ari.New(ari.Config{URL: srv.URL + "/ari", Username: "u", Password: "p", Application: "switchboard"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := pbx.Answer(ctx, "1700000000.42"); err != nil {
		t.Fatal(err)
	}
	if err := pbx.Hangup(ctx, "1700000000.42", ""); err != nil {
		t.Fatal(err)
	}
	pbx.Answer(ctx, "1700000000.43")                // 404
	pbx.AddToBridge(ctx, "call-7", "1700000000.42") // 503

	m := api.NewMetrics()
	m.MustRegister(newPBXRequestCollector(func() []ari.RouteStats { return pbx.Stats().Routes }))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE switchboard_pbx_requests_total counter",
		`switchboard_pbx_requests_total{result="ok",route="POST /channels/{id}/answer"} 1`,
		`switchboard_pbx_requests_total{result="404",route="POST /channels/{id}/answer"} 1`,
		`switchboard_pbx_requests_total{result="ok",route="DELETE /channels/{id}"} 1`,
		`switchboard_pbx_requests_total{result="503",route="POST /bridges/{id}/addChannel"} 1`,
		"# TYPE switchboard_pbx_request_seconds histogram",
		`switchboard_pbx_request_seconds_count{route="POST /channels/{id}/answer"} 2`,
		`switchboard_pbx_request_seconds_bucket{route="DELETE /channels/{id}",le="+Inf"} 1`,
		`switchboard_pbx_request_seconds_bucket{route="DELETE /channels/{id}",le="10"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	for _, id := range []string{"1700000000", "call-7"} {
		if strings.Contains(body, id) {
			t.Errorf("exposition carries the id %s", id)
		}
	}
	if strings.Contains(body, `route="GET /sounds"`) {
		t.Error("a route never used is exposed")
	}
}
