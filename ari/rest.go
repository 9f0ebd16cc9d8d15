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

// rest makes one ARI request with the adapter's own http.Client, for what
// the native client cannot do. query and body may be nil; out, when not
// nil, receives the decoded 2xx JSON answer.
func (a *Adapter) rest(ctx context.Context, op string, rt route, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	defer cancel()
	start := a.clk.Now()
	res := ""
	err := a.slots.acquire(ctx)
	if err != nil {
		err = classify(rt.method, path, err)
	} else {
		var resp *http.Response
		resp, res, err = a.send(ctx, rt.method, path, query, body)
		if err == nil {
			if out != nil {
				if derr := json.NewDecoder(resp.Body).Decode(out); derr != nil {
					err = &sb.Error{Code: sb.EINTERNAL, Message: "ARI " + rt.method + " " + path + ": undecodable answer", Err: derr}
					res = ResultError
				}
			}
			drain(resp.Body)
		}
		a.slots.release()
	}
	if res == "" {
		res = resultOf(err)
	}
	a.observe(op, rt, a.clk.Now().Sub(start), res, err)
	return err
}

// send makes the request and turns a non-2xx answer into an error; on
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
