// Package lookup runs the lookup nodes of IVR flows over HTTP: the flow's
// request (method, URL, headers, JSON body) with its timeout, and the
// answer's status and body, bounded, back to the flow. The engine hands
// each lookup to a Client off its owner goroutine; nothing here knows a
// call.
package lookup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard/switchboard/ivr"
)

// DefaultMaxBody is the most bytes of an answer read when MaxBody is 0.
const DefaultMaxBody = 64 << 10

// Client runs lookups. The zero value uses http.DefaultClient's settings
// and reads at most DefaultMaxBody bytes of an answer.
type Client struct {
	HTTP    *http.Client // nil: a plain client
	MaxBody int64        // bytes read of an answer; 0: DefaultMaxBody
}

// Lookup sends cmd's request within ctx (the caller bounds it by the
// node's timeout) and returns the answer for the flow: the status and the
// body, or why it failed ("timeout", or the transport's error without the
// URL, which may carry credentials in its query). A body over MaxBody is
// an error, not a truncated answer.
func (c Client) Lookup(ctx context.Context, cmd ivr.LookupCmd) ivr.LookupDone {
	client, limit := c.HTTP, c.MaxBody
	if client == nil {
		client = &http.Client{}
	}
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	done := ivr.LookupDone{Token: cmd.Token}
	var body io.Reader
	if cmd.Body != "" {
		body = strings.NewReader(cmd.Body)
	}
	req, err := http.NewRequestWithContext(ctx, cmd.Method, cmd.URL, body)
	if err == nil {
		for h, val := range cmd.Headers {
			req.Header.Set(h, val)
		}
		if cmd.Body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			var buf bytes.Buffer
			_, err = io.Copy(&buf, io.LimitReader(resp.Body, limit+1))
			resp.Body.Close()
			switch {
			case err != nil:
			case int64(buf.Len()) > limit:
				err = fmt.Errorf("answer larger than %d bytes", limit)
			default:
				done.Status, done.Body = resp.StatusCode, buf.Bytes()
			}
		}
	}
	if err != nil {
		done.Err = why(ctx, err)
	}
	return done
}

// why says why a lookup failed, without the URL.
func why(ctx context.Context, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var te interface{ Timeout() bool }
	if ctx.Err() == context.DeadlineExceeded || (errors.As(err, &te) && te.Timeout()) {
		return "timeout"
	}
	return err.Error()
}
