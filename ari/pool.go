package ari

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/CyCoreSystems/ari/v6/client/native"
)

// DefaultMaxConnections is Config.MaxConnections' default: half of
// Asterisk's default http.conf sessionlimit (100), so that a second
// controller taking over, or an operator's curl, still finds a session.
const DefaultMaxConnections = 50

// idleConnTimeout closes a kept-alive connection to Asterisk that no
// request used for this long. It is below Asterisk's session_keep_alive
// (http.conf, 15 s by default), so Switchboard drops an idle connection
// before Asterisk does: a request never races Asterisk's close of the
// connection it reuses (which would fail a POST that cannot be retried).
const idleConnTimeout = 10 * time.Second

// errPoolTimeout is the cause of a request that could not get a connection
// before its deadline.
var errPoolTimeout = errors.New("every connection to Asterisk was busy (asterisk.max_connections)")

// slots bounds the REST requests in flight, one per connection: the
// native client's requests take no context, so they wait here, under the
// caller's deadline, rather than in the transport's queue for a connection,
// where a command its caller gave up on would still wait and be sent late.
type slots struct {
	ch      chan struct{}
	waiting atomic.Int64
}

func newSlots(n int) *slots { return &slots{ch: make(chan struct{}, n)} }

// acquire takes a slot, waiting until ctx ends; the error then wraps
// errPoolTimeout (deadline) or is ctx's (canceled).
func (s *slots) acquire(ctx context.Context) error { return s.acquireUntil(ctx, nil) }

// acquireUntil is acquire under ctx and a deadline that fires on
// deadline (nil: none), with acquire's errors: errPoolTimeout wrapping
// context.DeadlineExceeded when either deadline passes.
func (s *slots) acquireUntil(ctx context.Context, deadline <-chan time.Time) error {
	if ok, err := s.try(ctx); ok || err != nil {
		return err
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", errPoolTimeout, ctx.Err())
		}
		return ctx.Err()
	case <-deadline:
		return fmt.Errorf("%w: %w", errPoolTimeout, context.DeadlineExceeded)
	}
}

// try takes a slot if one is free at once (ok), unless ctx has ended.
func (s *slots) try(ctx context.Context) (ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	select {
	case s.ch <- struct{}{}:
		return true, nil
	default:
		return false, nil
	}
}

// acquireBy is acquire under ctx and deadline, with a timer only when it
// has to wait.
func (s *slots) acquireBy(ctx context.Context, deadline time.Time) error {
	if ok, err := s.try(ctx); ok || err != nil {
		return err
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	return s.acquireUntil(ctx, t.C)
}

func (s *slots) release() { <-s.ch }

func (s *slots) inUse() int64 { return int64(len(s.ch)) }

// newTransport is the one transport of every REST request to Asterisk
// at base: restTransport for plain HTTP reached directly (a DialContext,
// or TCP with no proxy for base in the environment), else
// newRESTTransport's http.Transport.
func newTransport(base *url.URL, n int, requestTimeout, idle time.Duration, dial dialFunc) http.RoundTripper {
	idle = cmp.Or(idle, idleConnTimeout)
	if base.Scheme == "http" {
		addr := base.Host
		if base.Port() == "" {
			addr = net.JoinHostPort(base.Hostname(), "80")
		}
		if dial != nil {
			return newRestTransport(addr, n, requestTimeout, idle, dial)
		}
		if p, err := http.ProxyFromEnvironment(&http.Request{URL: base}); err == nil && p == nil {
			_, d := dialing(requestTimeout, nil)
			return newRestTransport(addr, n, requestTimeout, idle, d)
		}
	}
	return reusing{newRESTTransport(n, requestTimeout, idle, dial)}
}

// newRESTTransport is the one transport of every REST request to
// Asterisk, the native client's and the adapter's own: at most n
// connections, open or idle, so that with the events WebSocket Switchboard
// holds at most n+1 of Asterisk's http.conf sessions. Stock
// http.DefaultTransport keeps only 2 idle connections per host (under load
// every other command would open, then throw away, a connection) and has
// no response timeout. An abandoned native-client request (its caller's
// deadline passed) keeps its connection until Asterisk answers or
// 2×requestTimeout passes.
func newRESTTransport(n int, requestTimeout, idle time.Duration, dial dialFunc) *http.Transport {
	proxy, dial := dialing(requestTimeout, dial)
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		MaxConnsPerHost:       n,
		MaxIdleConnsPerHost:   n,
		MaxIdleConns:          n,
		IdleConnTimeout:       idle,
		ResponseHeaderTimeout: 2 * requestTimeout,
		TLSHandshakeTimeout:   requestTimeout,
		ForceAttemptHTTP2:     false,
		// ARI answers are small JSON on a near link: asking for gzip
		// (Accept-Encoding) would only cost a header map per request.
		DisableCompression: true,
	}
}

// reusing wraps the REST transport so that every response body is read to
// its end (up to 64 KiB) when closed. The native client closes the bodies
// it does not decode (an error's JSON, the answer of a command it returns
// nothing of) unread, and Go's transport then throws the connection away
// rather than reuse it: each such command would cost a new connection, and
// Asterisk, which notices a closed session only when it next reads it,
// would count the old one and the new one together, past its sessionlimit.
type reusing struct{ *http.Transport }

// RoundTrip implements http.RoundTripper.
func (t reusing) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.Transport.RoundTrip(r)
	if err == nil && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &drainOnClose{ReadCloser: resp.Body}
	}
	return resp, err
}

type drainOnClose struct{ io.ReadCloser }

func (b *drainOnClose) Close() error {
	_, _ = io.Copy(io.Discard, io.LimitReader(b.ReadCloser, 64<<10))
	return b.ReadCloser.Close()
}

// newWebsocketTransport carries the events WebSocket's upgrade: one
// connection at a time (the adapter dials serially), never kept idle after
// a refused upgrade (a 401 must not leave a session open on Asterisk).
func newWebsocketTransport(requestTimeout time.Duration, dial dialFunc) *http.Transport {
	proxy, dial := dialing(requestTimeout, dial)
	return &http.Transport{
		Proxy:               proxy,
		DialContext:         dial,
		DisableKeepAlives:   true,
		TLSHandshakeTimeout: requestTimeout,
	}
}

// dialFunc opens a connection (net.Dialer.DialContext's signature).
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// dialing is a transport's proxy and dial: the environment's proxy and a
// TCP dial bounded by requestTimeout, or Config.DialContext and no proxy
// (a connection it opens may lead anywhere but to a proxy).
func dialing(requestTimeout time.Duration, dial dialFunc) (func(*http.Request) (*url.URL, error), dialFunc) {
	if dial != nil {
		return nil, dial
	}
	return http.ProxyFromEnvironment, (&net.Dialer{Timeout: requestTimeout, KeepAlive: 30 * time.Second}).DialContext
}

// useTransport makes the native client send its requests through rt. The
// client keeps its http.Client in an unexported field and offers no option
// to replace it (its zero value sends through http.DefaultTransport, shared
// with the whole process and unbounded), so the field is set through
// reflection. The field's name and type are checked: a version of the
// library that changes them fails New, and the adapter's tests, instead of
// silently escaping the bound.
func useTransport(c *native.Client, rt http.RoundTripper) error {
	f := reflect.ValueOf(c).Elem().FieldByName("httpClient")
	if !f.IsValid() || f.Type() != reflect.TypeFor[http.Client]() || !f.CanAddr() {
		return errors.New("ari: the ari/v6 native client has no httpClient field of type http.Client: its requests cannot be bounded (library changed?)")
	}
	hc := (*http.Client)(unsafe.Pointer(f.UnsafeAddr()))
	hc.Transport = rt
	return nil
}
