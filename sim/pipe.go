package sim

import (
	"context"
	"errors"
	"net"
	"sync"
)

// PipeAddr is the address of every Pipe: a host that resolves nowhere
// (.invalid is reserved), so that a URL built on it can only be reached
// through the pipe's DialContext.
const PipeAddr = "sim.invalid:8088"

// Pipe is an in-memory network between ARI clients and one Server: a
// net.Listener for Serve and a DialContext that connects to it. Each
// connection is a net.Pipe, so no port is opened and no byte crosses the
// kernel. That is what lets an end-to-end test run inside a
// testing/synctest bubble: a goroutine that waits on a pipe is durably
// blocked, and the bubble's fake clock moves on when every goroutine
// waits, where one waiting on a TCP socket would hold it still.
type Pipe struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

var _ net.Listener = (*Pipe)(nil)

// NewPipe returns an open Pipe.
func NewPipe() *Pipe {
	return &Pipe{conns: make(chan net.Conn), done: make(chan struct{})}
}

// errPipeClosed is what Accept and DialContext return after Close.
var errPipeClosed = &net.OpError{Op: "dial", Net: "pipe", Err: errors.New("sim pipe closed")}

// Accept waits for a DialContext and returns the server's end.
func (p *Pipe) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and refuses further dials; connections already made
// stay open until either end closes them.
func (p *Pipe) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// Addr is PipeAddr.
func (p *Pipe) Addr() net.Addr { return pipeAddr{} }

// DialContext connects to the pipe's listener, whatever network and
// address it is given (it has the signature of
// net.Dialer.DialContext and http.Transport.DialContext). It waits for
// Accept until ctx ends.
func (p *Pipe) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case p.conns <- server:
		return client, nil
	case <-p.done:
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: ctx.Err()}
	}
	client.Close()
	server.Close()
	return nil, errPipeClosed
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return PipeAddr }
