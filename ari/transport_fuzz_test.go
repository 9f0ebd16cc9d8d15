package ari

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadAnswer checks the adapter's own answer reader against net/http:
// an answer net/http writes (any status, header, body, length or chunked,
// kept alive or closed) reads back with the same status and body, and the
// same keep-alive verdict http.ReadResponse gives; and on any bytes at all,
// readAnswer never accepts an answer http.ReadResponse cannot read whole
// with another status or body.
func FuzzReadAnswer(f *testing.F) {
	f.Add(200, "X-A", "1", []byte(`{"id":"c1"}`), false, false, false)
	f.Add(204, "", "", []byte(nil), false, false, false)
	f.Add(404, "Content-Type", "application/json", []byte(`{"message":"Channel not found"}`), false, true, false)
	f.Add(200, "X-B", "two words", bytes.Repeat([]byte("x"), 5000), true, false, false)
	f.Add(500, "", "", []byte("Internal"), false, false, true)
	f.Fuzz(func(t *testing.T, status int, name, value string, body []byte, chunked, closeConn, http10 bool) {
		if status < 200 || status > 599 || status == http.StatusSwitchingProtocols {
			return
		}
		if name != "" && (!validHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") || isFraming(name)) {
			return
		}
		resp := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Close: closeConn}
		if http10 {
			resp.ProtoMinor = 0
		}
		if name != "" {
			resp.Header.Set(name, value)
		}
		if chunked && !http10 {
			resp.ContentLength = -1
			resp.TransferEncoding = []string{"chunked"}
		}
		var wire bytes.Buffer
		if err := resp.Write(&wire); err != nil {
			return
		}
		compare(t, wire.Bytes(), true)
	})
}

// isFraming reports header names that decide how an answer is framed
// (net/http writes them itself).
func isFraming(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Length", "Transfer-Encoding", "Connection", "Trailer":
		return true
	}
	return false
}

// compare reads in with both readers and fails when readAnswer accepts
// what net/http reads differently, or (mustAccept: an answer net/http
// wrote) refuses what net/http reads.
func compare(t *testing.T, in []byte, mustAccept bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://asterisk/ari/x", nil)
	want, werr := http.ReadResponse(bufio.NewReader(bytes.NewReader(in)), req)
	var wantBody []byte
	if werr == nil {
		wantBody, werr = io.ReadAll(want.Body)
	}
	status, got, keep, err := readAnswer(bufio.NewReader(bytes.NewReader(in)), []byte("GET /ari/x HTTP/1.1\r\n"))
	if err != nil {
		if mustAccept && werr == nil && want.StatusCode >= 200 {
			t.Fatalf("readAnswer refused an answer net/http reads (status %d): %v\n%q", want.StatusCode, err, in)
		}
		return
	}
	if werr != nil {
		return // net/http is stricter about some headers; nothing to compare
	}
	if status != want.StatusCode || !bytes.Equal(got, wantBody) {
		t.Fatalf("readAnswer: %d %q; net/http: %d %q\n%q", status, got, want.StatusCode, wantBody, in)
	}
	if wantKeep := !want.Close; keep != wantKeep {
		t.Fatalf("readAnswer keep-alive %v; net/http %v\n%q", keep, wantKeep, in)
	}
}

// FuzzReadAnswerBytes feeds readAnswer arbitrary bytes: it may refuse
// more than net/http (HTTP/0.1, say), never read an answer otherwise.
func FuzzReadAnswerBytes(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nto the end"))
	f.Add([]byte("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) { compare(t, in, false) })
}
