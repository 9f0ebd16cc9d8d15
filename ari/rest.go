package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
)

// call runs one native-client command under ctx and RequestTimeout. The
// native client takes no context, so the command first waits for a free
// connection under the deadline (see slots), then runs in its own
// goroutine, and a caller whose deadline passes gets EUNAVAILABLE at once;
// the HTTP request itself ends by its answer or by the transport's
// response-header timeout, and keeps its connection until then.
func (a *Adapter) call(ctx context.Context, op string, rt route, path string, f func() error) error {
	start := a.clk.Now()
	err := a.runNative(ctx, f)
	err = classify(rt.method, path, err)
	a.observe(op, rt, a.clk.Now().Sub(start), resultOf(err), err)
	return err
}

// runNative is call's wait. Its deadline is a timer, not a context derived
// from ctx (a timer, a channel and a place among ctx's children for every
// command), and it ends the waits as context.WithTimeout(ctx,
// RequestTimeout) would: with ctx's error if ctx ends first, else
// context.DeadlineExceeded.
func (a *Adapter) runNative(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(a.cfg.RequestTimeout)
	defer t.Stop()
	if err := a.slots.acquireUntil(ctx, t.C); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		err := f()
		a.slots.release() // before the answer: a caller that has it sees its slot free
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return context.DeadlineExceeded
	}
}

// observe counts one request that took d and ended with res (see
// resultOf) and err in its route's stats and the overload window, and
// tells Config.Observe.
func (a *Adapter) observe(op string, rt route, d time.Duration, res string, err error) {
	a.routes.add(rt, d, res)
	a.load.add(a.clk.Now(), d, res)
	if a.cfg.Observe != nil {
		a.cfg.Observe(op, d, err)
	}
}

// rest makes one ARI request itself, for what the native client cannot
// do. query and body may be nil; out, when not nil, receives the decoded
// 2xx JSON answer.
func (a *Adapter) rest(ctx context.Context, op string, rt route, path string, query url.Values, body, out any) error {
	b, err := a.encodeBody(op, rt, path, body)
	if err != nil {
		return err
	}
	var decode func([]byte) error
	if out != nil {
		decode = func(b []byte) error { return json.Unmarshal(b, out) }
	}
	return a.exchange(ctx, op, rt, path, query.Encode(), b, false, decode)
}

// command makes one request of a command the native client has, as the
// native client would send it (the same method, path, query and JSON
// body, and Content-Type application/json even with no body), but itself:
// under ctx and RequestTimeout, with no goroutine of its own.
// body, when not nil, is encoded as the native client does (json.Encoder:
// a line).
func (a *Adapter) command(ctx context.Context, op string, rt route, path, query string, body any) error {
	b, err := a.encodeBody(op, rt, path, body)
	if err != nil {
		return err
	}
	if b != nil {
		b = append(b, '\n')
	}
	return a.exchange(ctx, op, rt, path, query, b, true, nil)
}

// encodeBody is a request's JSON body (nil for none); an error is the
// request's, observed.
func (a *Adapter) encodeBody(op string, rt route, path string, body any) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		err = &sb.Error{Code: sb.EINVALID, Message: "ARI " + rt.method + " " + path + ": request body", Err: err}
		a.observe(op, rt, 0, resultOf(err), err)
	}
	return b, err
}

// exchange makes one ARI request: rt.method, path, the encoded query (""
// for none) and body (nil for none; jsonType sends Content-Type
// application/json even without a body), under ctx and RequestTimeout, in
// a connection slot, counted in the route stats. decode, when not nil,
// decodes the 2xx answer; its error counts as an undecodable answer.
func (a *Adapter) exchange(ctx context.Context, op string, rt route, path, query string, body []byte, jsonType bool, decode func([]byte) error) error {
	start := a.clk.Now()
	deadline := time.Now().Add(a.cfg.RequestTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	res := ""
	err := a.slots.acquireBy(ctx, deadline)
	if err != nil {
		err = classify(rt.method, path, err)
	} else {
		var answer []byte
		answer, res, err = a.roundTrip(ctx, deadline, rt.method, path, query, body, jsonType)
		a.slots.release()
		if err == nil && decode != nil {
			if derr := decode(answer); derr != nil {
				err = &sb.Error{Code: sb.EINTERNAL, Message: "ARI " + rt.method + " " + path + ": undecodable answer", Err: derr}
				res = ResultError
			}
		}
	}
	if res == "" {
		res = resultOf(err)
	}
	a.observe(op, rt, a.clk.Now().Sub(start), res, err)
	return err
}

// roundTrip sends the request and reads the whole answer, turning a
// non-2xx one into an error. res is the result for the route stats when
// Asterisk answered (ResultOK or the status), else "". Over restTransport
// no http.Request is built; else through the adapter's http.Client.
func (a *Adapter) roundTrip(ctx context.Context, deadline time.Time, method, path, query string, body []byte, jsonType bool) (answer []byte, res string, err error) {
	var status int
	if a.raw != nil {
		bp := reqBufs.Get().(*[]byte)
		*bp = a.appendWire((*bp)[:0], method, path, query, body, jsonType)
		status, answer, err = a.raw.do(ctx, deadline, *bp)
		if cap(*bp) <= 64<<10 {
			reqBufs.Put(bp)
		}
		if err != nil {
			err = &url.Error{Op: method[:1] + strings.ToLower(method[1:]), URL: a.requestURL(path, query), Err: err}
		}
	} else {
		status, answer, err = a.httpRoundTrip(ctx, deadline, method, a.requestURL(path, query), body, jsonType)
	}
	if err != nil {
		return nil, "", classify(method, path, err)
	}
	if status < 200 || status > 299 {
		var m struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(answer[:min(len(answer), 4096)], &m) == nil && m.Message == "" {
			m.Message = m.Error
		}
		return nil, strconv.Itoa(status), statusError(method, path, status, m.Message)
	}
	return answer, ResultOK, nil
}

func (a *Adapter) requestURL(path, query string) string {
	if query == "" {
		return a.cfg.URL + path
	}
	return a.cfg.URL + path + "?" + query
}

// httpRoundTrip is roundTrip through the adapter's http.Client.
func (a *Adapter) httpRoundTrip(ctx context.Context, deadline time.Time, method, u string, body []byte, jsonType bool) (int, []byte, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, &sb.Error{Code: sb.EINVALID, Message: "ARI " + method + " " + u, Err: err}
	}
	req.Header.Set("Authorization", a.authHdr)
	if body != nil || jsonType {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.httpc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer drain(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// appendWire appends the request as restTransport sends it, and as
// http.Transport would: request line, Host, User-Agent, Authorization,
// Content-Type, Content-Length, body.
func (a *Adapter) appendWire(b []byte, method, path, query string, body []byte, jsonType bool) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, a.basePath...) // escaped already
	b = appendEscapedPath(b, path)
	if query != "" {
		b = append(b, '?')
		b = append(b, query...)
	}
	b = append(b, " HTTP/1.1\r\n"...)
	b = append(b, a.wireHead...)
	if body != nil || jsonType {
		b = append(b, "Content-Type: application/json\r\n"...)
	}
	if body != nil || methodWantsLength(method) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// appendEscapedPath appends p as net/url sends a path it parsed: as it is
// when it has only characters a path may carry unescaped, else escaped.
func appendEscapedPath(b []byte, p string) []byte {
	for i := 0; i < len(p); i++ {
		if !pathSafe[p[i]] {
			return append(b, (&url.URL{Path: p}).EscapedPath()...)
		}
	}
	return append(b, p...)
}

// pathSafe marks the bytes a path carries unescaped.
var pathSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("-._~!$&'()*+,;=:@/") {
		t[c] = true
	}
	return t
}()

// send makes the request, for a streamed answer (StoredRecording), and turns a non-2xx answer into an error; on
// success the caller owns resp.Body. res is the result for the route
// stats when Asterisk answered (ResultOK or the status), else "".
func (a *Adapter) send(ctx context.Context, method, path string, query url.Values, body any) (resp *http.Response, res string, err error) {
	u := a.cfg.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, "", &sb.Error{Code: sb.EINVALID, Message: "ARI " + method + " " + path + ": request body", Err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, "", &sb.Error{Code: sb.EINVALID, Message: "ARI " + method + " " + path, Err: err}
	}
	req.Header.Set("Authorization", a.authHdr)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err = a.httpc.Do(req)
	if err != nil {
		return nil, "", classify(method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer drain(resp.Body)
		var m struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if json.Unmarshal(b, &m) == nil && m.Message == "" {
			m.Message = m.Error
		}
		return nil, strconv.Itoa(resp.StatusCode), statusError(method, path, resp.StatusCode, m.Message)
	}
	return resp, ResultOK, nil
}

// checkID refuses ids that would change the request path: ARI ids are
// Asterisk-generated (1700000000.42, Local ids end in ;1) or chosen by
// Switchboard, and never contain these characters.
func checkID(kind, id string) error {
	if id == "" {
		return sb.Errorf(sb.EINVALID, "%s id is empty", kind)
	}
	if strings.ContainsAny(id, "/?#%& \t\r\n") {
		return sb.Errorf(sb.EINVALID, "%s id %q has characters ARI ids never have", kind, id)
	}
	return nil
}

// checkWord refuses parameters that the native client puts unescaped into a
// query string (hang-up reasons, recording names).
func checkWord(kind, s string) error {
	if strings.ContainsAny(s, "/?#%&=+ \t\r\n") {
		return sb.Errorf(sb.EINVALID, "%s %q has characters ARI does not accept", kind, s)
	}
	return nil
}
